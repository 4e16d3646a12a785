import Logging
import PostgresNIO
import ServiceLifecycle
import TokenCore

/// The write probe: every second (every half second while down), one transaction that takes the
/// write lock of every table a request writes — waiting at most `lockTimeout` for it — and
/// commits this instance's heartbeat row. It fails where a request would: no connection, a
/// table locked against writes, a commit that does not return (a full disk, a synchronous standby
/// that does not answer). Its outcome opens or closes the store's breaker (`HealthState`), so
/// `/readyz` and the request path know the database's state without a round trip of their own.
public struct DatabaseProbe: Service {
    /// The tables a request writes: a probe that can lock them for writing shows that requests can.
    static let writtenTables = ["tokend_audit", "tokend_replay", "tokend_replay_share", "tokend_rate", "tokend_control", "tokend_quota"]

    let store: PostgresStore
    let instance: String
    let auditHead: @Sendable () -> AuditVerifier.Head?
    let interval: Duration
    let observer: any DatabaseObserver

    public init(store: PostgresStore, instance: String, interval: Duration = .seconds(1), observer: any DatabaseObserver = .none,
                auditHead: @escaping @Sendable () -> AuditVerifier.Head?) {
        self.store = store
        self.instance = instance
        self.interval = interval
        self.observer = observer
        self.auditHead = auditHead
    }

    public func run() async throws {
        while true {
            await probe()
            let pause = store.readinessProblem() == nil ? interval : interval / 2
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            } catch {
                return  // shutting down
            }
        }
    }

    /// One probe; its outcome goes to the store's health. `through` runs it on another pool (at
    /// start-up, before the serving pool runs), so that the first `/readyz` already knows.
    public func probe(through other: PostgresStore? = nil) async {
        let connectionStore = other ?? store
        let started = ContinuousClock.now
        // Several hosts, and not known good: find the one to write to first (at start, after a
        // failure, while stalled). On direct connections, so it holds for `other` too.
        if store.pools.count > 1, store.readinessProblem() != nil {
            if let none = await store.selectHost() {
                observer.probeFinished("postgresql", succeeded: false, seconds: PostgresStore.seconds(since: started))
                store.markDown("no host suits target_session_attrs=\(store.url.targetSession.rawValue): \(none)")
                return
            }
            other?.activate(store.activeIndex)
        }
        // The chain's head once the audit writer knows it; until then (-1) the row keeps the
        // head of this instance's last run, which the writer checks its chain against.
        let head = auditHead()
        let (instance, seq, link) = (self.instance, head?.seq ?? -1, head?.link ?? AuditChain.genesis)
        // The lock wait is shorter than the call's deadline, so a locked table is named as such.
        let halfTimeout = store.timeout / 2
        let lockTimeout = max(100, min(1000, Int(halfTimeout.components.seconds) * 1000 + Int(halfTimeout.components.attoseconds / 1_000_000_000_000_000)))
        let tables = Self.writtenTables.joined(separator: ", ")
        do {
            try await connectionStore.run("probe", probing: true) { client in
                try await client.withTransaction(logger: store.logger) { connection in
                    try await connection.query("SELECT set_config('lock_timeout', \(String(lockTimeout) + "ms"), true)", logger: store.logger)
                    try await connection.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(tables) IN ROW EXCLUSIVE MODE"), logger: store.logger)
                    try await connection.query("""
                        INSERT INTO tokend_heartbeat AS h (instance, beat_at, audit_seq, audit_link) VALUES (\(instance), now(), greatest(\(seq), 0), \(link))
                        ON CONFLICT (instance) DO UPDATE SET beat_at = EXCLUDED.beat_at,
                            audit_seq = CASE WHEN \(seq) < 0 THEN h.audit_seq ELSE EXCLUDED.audit_seq END,
                            audit_link = CASE WHEN \(seq) < 0 THEN h.audit_link ELSE EXCLUDED.audit_link END
                        """, logger: store.logger)
                }
            }
            observer.probeFinished("postgresql", succeeded: true, seconds: PostgresStore.seconds(since: started))
            store.markUp()
        } catch {
            observer.probeFinished("postgresql", succeeded: false, seconds: PostgresStore.seconds(since: started))
            // Any failure of the probe means writes do not go through. The store has marked it
            // down already when the error says so (and looks for the cause's own words); any
            // other failure of the probe says so too.
            if !PostgresStore.meansUnavailable(error) {
                store.markDown("write probe: \(PostgresStore.describe(error.underlying ?? error, timeout: store.timeout))")
            }
        }
    }
}
