import Logging
import NIOCore
import ServiceLifecycle
import TokenCore

/// Writes refusals to the audit trail without letting a flood of them become a flood of records
/// (see `DenialCoalescer`): what the endpoints call for every denial and rejection, and what
/// `DenialFlusher` empties once per slice.
final class DenialRecorder: Sendable {
    private let audit: any AuditSink
    private let logger: Logger
    /// Unauthenticated denials, coalesced by source.
    private let bySource = DenialCoalescer()
    /// An authenticated caller's 429s: one record per caller, reason and second, with a count.
    private let throttled = DenialCoalescer(sliceSeconds: 1, groupedBy: .caller)

    init(audit: any AuditSink, logger: Logger) {
        self.audit = audit
        self.logger = logger
    }

    /// How often the coalesced counts are due.
    var flushInterval: Duration { .seconds(min(bySource.sliceSeconds, throttled.sliceSeconds)) }

    /// Records a denial or rejection, coalescing repeats. The answer waits for the record like
    /// any other, but is sent even if the write fails: there is no token to withhold.
    func record(_ record: AuditRecord, on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        // Unauthenticated denials, which anyone with the URL can send, are coalesced by source;
        // an authenticated caller's 429s, which a throttled client sends in a loop, by caller
        // (the first of each second is written before its answer, the rest counted). Any other
        // refusal of an authenticated caller (a bad request, a permission) is written like a
        // token, never folded into a summary that a crash within the slice would lose.
        let now = WallClock.now()
        let refusal = record.refusal
        let records = refusal?.actor == nil ? bySource.admit(record, now: now)
            : refusal?.status == 429 ? throttled.admit(record, now: now)
            : [record]
        guard !records.isEmpty else { return eventLoop.makeSucceededVoidFuture() }
        let written = records.map { record in
            let promise = eventLoop.makePromise(of: Void.self)
            audit.append(record) { [logger] result in
                if case .failure(let error) = result {
                    logger.error("audit write failed for a denial", metadata: ["error": "\(error)"])
                }
                promise.succeed()
            }
            return promise.futureResult
        }
        return EventLoopFuture.andAllComplete(written, on: eventLoop)
    }

    /// Writes the counts of coalesced refusals whose time slice has ended (all of them when the
    /// service is stopping).
    func flush(all: Bool = false) async {
        let now = all ? Int.max : WallClock.now()
        for record in bySource.flush(now: now) + throttled.flush(now: now) {
            try? await audit.append(record)
        }
    }
}

/// Writes the counts of coalesced denials once per slice, and what is left when the service stops.
struct DenialFlusher: Service {
    let denials: DenialRecorder

    func run() async throws {
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: denials.flushInterval) }
            } catch {
                // Graceful shutdown, or cancellation because another service failed (the server
                // could not bind, say): either way the loop ends here. Swallowing the error and
                // looping would spin on a cancelled sleep.
                break
            }
            await denials.flush()
        }
        await denials.flush(all: true)
    }
}
