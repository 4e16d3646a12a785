import Logging
import ServiceLifecycle
import TokenCore

/// `audit head seq=N link=HEX` (the file log) or `audit head instance=NAME seq=N link=HEX` (a
/// chain in PostgreSQL) in the service's log: where each chain ends, kept outside it so that
/// `audit verify --head` (`--heads` for the database) can tell whether records were cut from its
/// end. Logged at every rotation, every `--audit-head-interval` and at stop.
struct AuditHeadLogger: Sendable {
    let audit: any AuditSink
    let logger: Logger

    /// Logs the heads that moved since `logged` (all of them when nil); returns the heads now.
    @discardableResult
    func log(unless logged: [AuditChainHead]? = nil) -> [AuditChainHead] {
        let heads = audit.chainHeads
        for head in heads where !(logged?.contains(head) ?? false) {
            var metadata: Logger.Metadata = ["seq": .stringConvertible(head.head.seq), "link": "\(head.head.link)"]
            if let instance = head.instance { metadata["instance"] = "\(instance)" }
            logger.notice("\(head.message)", metadata: metadata)
        }
        return heads
    }
}

/// Logs the audit chains' heads every `--audit-head-interval` when they moved: a head outside
/// the chain, not only at rotation and shutdown, shows records cut from its end after a crash too.
struct AuditHeadReporter: Service {
    let heads: AuditHeadLogger
    let interval: Duration

    func run() async throws {
        var logged: [AuditChainHead] = []
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return  // shutting down: the last heads are logged after the services stop
            }
            logged = heads.log(unless: logged)
        }
    }
}
