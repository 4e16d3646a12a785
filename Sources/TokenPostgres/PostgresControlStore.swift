import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Synchronization
import TokenCore

/// Revocations, blocks and quota counts shared by every replica.
///
/// A change is a row of `tokend_control`, numbered in commit order. Each replica reads the rows
/// it has not applied — all of them before it serves (`load`), then every `pollInterval` — into
/// its `ControlState`, so introspection and the block check stay in memory. A replica's own
/// change is read back at once, through the same path: it is in force here before its answer,
/// and in the order every replica applies it.
///
/// Quota counts are decided by the database for all replicas together, group-committed like the
/// rate limits (`tokend_quota_take`): exact whatever replica a mint reaches, and across restarts.
public final class PostgresControlStore: SharedControlStore, Service {
    /// `pg_advisory_xact_lock` key of appends to `tokend_control`: "tokctl" in ASCII.
    static let appendLockKey: Int64 = 0x746F_6B63_746C

    let store: PostgresStore
    let identityCapacity: Int
    let pollInterval: Duration
    let logger: Logger
    private let quotas = GroupCommitter<QuotaTake, QuotaTake.Outcome>(name: "quota counter")
    private let target = Mutex<ControlState?>(nil)

    public init(store: PostgresStore, identityCapacity: Int, pollInterval: Duration = .milliseconds(250), logger: Logger) {
        self.store = store
        self.identityCapacity = identityCapacity
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// Applies every event in the database to `state` (read through `loader`, a pool for the
    /// start), which this store keeps current from now on. A row that is not an event stops the
    /// start: it was written by something other than tokend.
    public func load(into state: ControlState, using loader: PostgresStore) async throws {
        target.withLock { $0 = state }
        try await readNew(strict: true, through: loader)
    }

    public func record(_ events: [ControlEvent], completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        complete(completion) { try await self.record(events) }
    }

    func record(_ events: [ControlEvent]) async throws {
        let statement = ControlInsertStatement(lines: events.map { ByteBuffer(bytes: $0.line()) },
                                               blockIdentities: events.map { $0.blockIdentity ?? "" }, liftsBlock: events.map(\.liftsBlock),
                                               keptUntil: events.map { $0.keptUntil ?? 0 })
        let written = try await store.run("control_append") { client in try await client.commitOne(statement) }
        // Read back at once: in force here before the answer. Once written, the change holds (the
        // poll applies it), so a failed read-back is reported but does not fail the change.
        do {
            try await readNew(strict: false)
        } catch {
            logger.warning("a change was stored but not yet read back; the poll applies it", metadata: ["row": .stringConvertible(written), "error": "\(error)"])
        }
    }

    public func count(_ take: QuotaTake, completion: @escaping @Sendable (Result<QuotaTake.Outcome, any Error>) -> Void) {
        complete(completion) { try await self.quotas.submit(take) }
    }

    /// The quota writer and the poll, until graceful shutdown.
    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.quotas.runUntilGracefulShutdown { batch in await self.take(batch) } }
            group.addTask { await self.poll() }
        }
    }

    private func poll() async {
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.pollInterval) }
            } catch {
                return  // shutting down
            }
            do {
                try await readNew(strict: false)
                try await purgeIfDue()
            } catch {
                logger.warning("reading revocations and blocks failed; will retry", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Reads the rows after the last one applied and applies them, in order.
    private func readNew(strict: Bool, through store: PostgresStore? = nil) async throws {
        guard let state = target.withLock({ $0 }) else { return }
        let store = store ?? self.store
        let batch = 5_000
        while true {
            let statement = ControlReadStatement(after: state.sharedThrough, limit: batch)
            let rows = try await store.run("control_read") { client in try await client.all(statement) }
            var events: [(number: Int, event: ControlEvent?)] = []
            events.reserveCapacity(rows.count)
            for (id, line) in rows {
                do {
                    events.append((id, try ControlEvent.parse(line: line.readableBytesView)))
                } catch {
                    let problem = "tokend_control row \(id) is not a tokend event (\(error)); it was written by something else"
                    if strict { throw SharedStateUnavailable(problem) }
                    logger.error("skipping a row that is not a tokend event", metadata: ["row": .stringConvertible(id), "error": "\(error)"])
                    events.append((id, nil))
                }
            }
            state.applyShared(events, now: WallClock.now())
            if rows.count < batch { return }
        }
    }

    private func take(_ batch: [QuotaTake]) async -> Result<[QuotaTake.Outcome], any Error> {
        let statement = QuotaTakeStatement(
            callers: batch.map { ($0.caller ?? $0.identity)?.key.caller ?? "" },
            identities: batch.map { $0.identity?.key.identity ?? "" },
            callerLimits: batch.map { $0.caller?.quota.limit ?? 0 },
            callerStarts: batch.map { $0.caller?.key.windowStart ?? 0 },
            callerLengths: batch.map { $0.caller?.key.windowSeconds ?? 0 },
            identityLimits: batch.map { $0.identity?.quota.limit ?? 0 },
            identityStarts: batch.map { $0.identity?.key.windowStart ?? 0 },
            identityLengths: batch.map { $0.identity?.key.windowSeconds ?? 0 },
            capacity: identityCapacity)
        do {
            let codes = try await store.run("quota") { client in try await client.commitOne(statement) }
            return .success(codes.map { code in
                switch code {
                case -1: .callerExceeded
                case -2: .identityExceeded
                case ..<0: .full
                default: .admitted(callerCount: code)
                }
            })
        } catch {
            return .failure(error)
        }
    }

    private let lastPurge = Mutex<ContinuousClock.Instant?>(nil)

    /// Deletes events that no longer matter (and blocks an unblock lifted) and the counts of
    /// ended windows, at most once a minute. Any replica may: the deletes are idempotent.
    private func purgeIfDue() async throws {
        let due = lastPurge.withLock { last -> Bool in
            guard last.map({ ContinuousClock.now - $0 >= .seconds(60) }) ?? true else { return false }
            last = .now
            return true
        }
        guard due else { return }
        let now = WallClock.now()
        try await store.run("control_purge") { client in
            try await client.query("""
                DELETE FROM tokend_control c WHERE c.kept_until <= \(now)
                OR (c.block_identity IS NOT NULL AND NOT c.lifts_block AND EXISTS (
                    SELECT 1 FROM tokend_control u WHERE u.lifts_block AND u.block_identity = c.block_identity AND u.id > c.id))
                """)
            try await client.query("""
                WITH turn AS (SELECT live FROM tokend_quota_identities FOR UPDATE),
                gone AS (DELETE FROM tokend_quota q WHERE q.window_start + q.window_seconds <= \(now) AND (SELECT count(*) FROM turn) > 0
                         RETURNING q.identity)
                UPDATE tokend_quota_identities SET live = greatest(0, live - (SELECT count(*) FROM gone WHERE identity <> ''))
                """)
        }
    }
}
