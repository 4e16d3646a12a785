import Logging
import ServiceLifecycle
import TokenCore

/// Deletes expired replay entries every `interval`. Any instance may run it at any time: the
/// deletes are idempotent, and a live entry is never touched.
public struct ReplayLedgerPurge: Service {
    let ledger: PostgresReplayLedger
    let interval: Duration
    let logger: Logger

    public init(ledger: PostgresReplayLedger, interval: Duration = .seconds(30), logger: Logger) {
        self.ledger = ledger
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return  // shutting down
            }
            do {
                try await ledger.purge(now: WallClock.now())
            } catch {
                logger.warning("replay ledger purge failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }
}
