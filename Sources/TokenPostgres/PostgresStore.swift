import Logging
import _ConnectionPoolModule
import PostgresNIO
import ServiceLifecycle
import Synchronization
import TokenCore

/// The pooled PostgreSQL client behind the shared state. Every call has a deadline, is timed, and
/// fails as `SharedStateUnavailable` with a description that names the cause but never the
/// password or a query's values. Runs as a service-lifecycle service (the pools' background work).
///
/// One pool per host of the URL (postgres-nio's client knows one host); calls go to the active
/// one. While the database is down, the probe asks every host what it is and makes the one that
/// suits `target_session_attrs` active (`HostSelection`): a promoted standby is found without a
/// restart or a DNS change. A pool that is not active holds no connection.
public final class PostgresStore: Service, Sendable {
    struct Pool: Sendable {
        let host: DatabaseURL.Host
        let client: PostgresClient
    }

    let pools: [Pool]
    private let active = Atomic<Int>(0)
    /// The index in `pools` of the host calls go to.
    var activeIndex: Int { active.load(ordering: .relaxed) }
    /// The active host's pool.
    public var client: PostgresClient { pools[active.load(ordering: .relaxed)].client }
    /// The host calls go to now.
    public var activeHost: DatabaseURL.Host { pools[active.load(ordering: .relaxed)].host }
    public let url: DatabaseURL
    /// How long a shared-state call may take before the request is answered 503.
    public let timeout: Duration
    let logger: Logger
    private let inFlight = Atomic<Int>(0)
    let observer: any DatabaseObserver
    /// The breaker and readiness (see `HealthState`): kept current by `DatabaseProbe` and by
    /// every call's outcome.
    private let health: Mutex<HealthState>
    private let diagnosing = Atomic<Bool>(false)
    /// Whether going down or up is the service's news (logged, observed). A one-job pool (a CLI
    /// command, start-up) reports its failure once, as its own error, instead.
    private let reportsHealth: Bool

    public init(url: DatabaseURL, applicationName: String, timeout: Duration, maximumConnections: Int = 16,
                observer: any DatabaseObserver = .none, reportsHealth: Bool = true, logger: Logger) throws(DatabaseURL.Invalid) {
        self.url = url
        self.reportsHealth = reportsHealth
        self.timeout = timeout
        self.observer = observer
        self.logger = logger
        // A write probe runs every second; three missed ones are a stall.
        health = Mutex(HealthState(staleAfter: .seconds(3)))
        pools = try url.hosts.map { (host) throws(DatabaseURL.Invalid) -> Pool in
            let configuration = try url.clientConfiguration(for: host, applicationName: applicationName, maximumConnections: maximumConnections)
            return Pool(host: host, client: PostgresClient(configuration: configuration, backgroundLogger: Self.quiet(logger)))
        }
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for pool in pools { group.addTask { await pool.client.run() } }
        }
    }

    /// Times the active host changed: what was read from the previous one (the audit chain's
    /// head) is read again from the new one.
    var hostSwitches: Int { switches.load(ordering: .relaxed) }
    private let switches = Atomic<Int>(0)

    /// Makes the pool of `index` the active one, and says so once.
    func activate(_ index: Int) {
        let previous = active.exchange(index, ordering: .relaxed)
        guard previous != index else { return }
        switches.add(1, ordering: .relaxed)
        observer.databaseHostChanged(to: "\(pools[index].host)")
        logger.warning("PostgreSQL: now using \(pools[index].host) (was \(pools[previous].host))",
                       metadata: ["database": "\(url)", "target_session_attrs": "\(url.targetSession.rawValue)"])
    }

    /// Runs `body` on the pool within the deadline, recording `operation`'s latency and result.
    /// While the database is known to be down, fails at once (no round trip, no wait): the
    /// probe, which alone passes `probing`, finds it back.
    func run<T: Sendable>(_ operation: String, probing: Bool = false,
                          _ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws(SharedStateUnavailable) -> T {
        if !probing, let reason = health.withLock({ $0.failFastReason }) {
            observer.operationFinished(operation, succeeded: false, seconds: 0)
            throw SharedStateUnavailable("PostgreSQL \(activeHost) is down (\(reason)); not tried, the probe retries every second")
        }
        let started = ContinuousClock.now
        observer.operationsInFlight(inFlight.add(1, ordering: .relaxed).newValue)
        defer { observer.operationsInFlight(inFlight.subtract(1, ordering: .relaxed).newValue) }
        do {
            let client = self.client
            let result = try await withDeadline(timeout) { try await body(client) }
            observer.operationFinished(operation, succeeded: true, seconds: Self.seconds(since: started))
            return result
        } catch {
            observer.operationFinished(operation, succeeded: false, seconds: Self.seconds(since: started))
            let reason = Self.describe(error, timeout: timeout)
            if Self.meansUnavailable(error) {
                markDown("\(operation): \(reason)")
                diagnoseInBackground("\(operation): \(reason)", after: error)
            }
            throw SharedStateUnavailable("PostgreSQL \(activeHost): \(operation): \(reason)", underlying: error)
        }
    }

    /// Why the database cannot be used now, or nil: from memory (the probe's and the requests'
    /// last outcomes), never a round trip, so `/readyz` answers at once in every state.
    public func readinessProblem() -> String? {
        health.withLock { $0.readinessProblem(now: .now) }.map { "PostgreSQL \(activeHost): \($0)" }
    }

    /// When the last write probe committed (nil: none yet).
    var lastHealthyProbe: ContinuousClock.Instant? { health.withLock { $0.lastSuccess } }

    func markUp() {
        guard health.withLock({ $0.probeSucceeded(at: .now) }) != nil, reportsHealth else { return }
        observer.dependencyChanged("postgresql", up: true)
        logger.notice("PostgreSQL is up: a write probe committed", metadata: ["database": "\(url)"])
    }

    /// The pool says only "no answer" or "could not connect"; one direct connection says why
    /// (`connection refused`, `too many clients`, a wrong password), and the reason readiness
    /// gives becomes the server's or the socket's own words. In the background, one at a time:
    /// the request that failed has waited once already and must not wait for a second attempt.
    private func diagnoseInBackground(_ reason: String, after error: any Error) {
        guard error is DeadlineExceeded || reason.contains("could not connect"),
              diagnosing.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        Task {
            let why = await diagnoseConnection()
            diagnosing.store(false, ordering: .relaxed)
            guard why != "a direct connection succeeds now" else { return }
            markDown("\(reason); a direct connection: \(why)")
        }
    }

    func markDown(_ reason: String) {
        guard health.withLock({ $0.failed(reason, at: .now) }) != nil, reportsHealth else { return }
        observer.dependencyChanged("postgresql", up: false)
        logger.error("PostgreSQL is down; requests that need it are refused at once until a probe succeeds",
                     metadata: ["database": "\(url)", "error": "\(reason)"])
    }

    /// Whether `error` says the database cannot be used now (no connection, no answer in time,
    /// a lock that does not come, too many clients, the server shutting down) rather than that
    /// one statement failed (a duplicate key).
    public static func meansUnavailable(_ error: any Error) -> Bool {
        switch error {
        case let error as SharedStateUnavailable:
            return error.underlying.map(meansUnavailable) ?? true
        case let error as PostgresTransactionError:
            let cause = error.beginError ?? error.closureError ?? error.commitError ?? error.rollbackError
            return cause.map(meansUnavailable) ?? true
        case is DeadlineExceeded, is ConnectionPoolError:
            return true
        case let error as PSQLError:
            guard let state = error.serverInfo?[.sqlState] else { return true }  // the connection, not the server, failed
            // 08 connection exception, 53 insufficient resources, 57 operator intervention
            // (shutdown, cancel, statement timeout), 58 system error (I/O), 55P03 lock not
            // available, 40P01 deadlock, 25006 read-only transaction (a standby, after failover).
            return ["08", "53", "57", "58"].contains(String(state.prefix(2))) || ["55P03", "40P01", "25006"].contains(state)
        default:
            return false
        }
    }

    /// `error`, with the server's own reason when the pool could only say that it failed to
    /// connect (a wrong password, a refused TLS handshake, an unknown database).
    public func explain(_ error: any Error) async -> String {
        let text = Self.describe(error, timeout: timeout)
        // Both mean "no connection could be had": the pool gave up, or it was still retrying.
        guard error is DeadlineExceeded || text.contains("could not connect") else { return text }
        return "\(text): \(await diagnoseConnection())"
    }

    /// One direct connection to the active host, outside the pool, within the deadline: what
    /// went wrong.
    func diagnoseConnection() async -> String {
        do {
            try await withDirectConnection(to: activeHost) { _ in }
            return "a direct connection succeeds now"
        } catch {
            return Self.describe(error, timeout: timeout)
        }
    }

    /// `body` on a connection of its own to `host`, closed afterwards; all within the deadline.
    func withDirectConnection<T: Sendable>(to host: DatabaseURL.Host, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let configuration = try url.connectionConfiguration(for: host)
        let logger = Self.quiet(self.logger)
        return try await withDeadline(timeout) {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            do {
                let result = try await body(connection)
                try? await connection.close()
                return result
            } catch {
                try? await connection.close()
                throw error
            }
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = (ContinuousClock.now - start).components
        return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    }

    /// A cause an operator can act on. postgres-nio's own description is deliberately vague, and
    /// its reflection includes the query; this takes only the server's message or the kind of
    /// connection failure.
    public static func describe(_ error: any Error, timeout: Duration = .seconds(2)) -> String {
        switch error {
        case let error as SharedStateUnavailable:
            return error.description
        case let error as DatabaseURL.Invalid:
            return error.description
        case let error as SchemaMigrator.NewerSchema:
            return error.description
        case let error as PostgresTransactionError:
            // The first thing that went wrong in the transaction.
            let cause = error.beginError ?? error.closureError ?? error.commitError ?? error.rollbackError
            return cause.map { describe($0, timeout: timeout) } ?? "the transaction failed"
        case is DeadlineExceeded:
            return "no answer within \(timeout) (unreachable, overloaded or stalled)"
        case is CancellationError:
            return "cancelled"
        case let error as ConnectionPoolError where error == .connectionCreationCircuitBreakerTripped:
            return "could not connect"
        case let error as ConnectionPoolError where error == .poolShutdown:
            return "the connection pool is closed"
        case let error as PSQLError:
            if let message = error.serverInfo?[.message] {
                let state = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
                return "server error: \(message)\(state)"
            }
            switch error.code {
            case .connectionError: return "cannot connect: \(error.underlying.map(socketReason) ?? "connection failed")"
            case .serverClosedConnection, .uncleanShutdown: return "the server closed the connection"
            case .sslUnsupported: return "the server does not offer TLS, but sslmode requires it"
            case .poolClosed, .clientClosedConnection: return "the connection pool is closed"
            default: return "\(error.code)"
            }
        default:
            return "\(type(of: error))"
        }
    }

    /// The socket's own words from NIO's connection error ("Connection refused", "No route to
    /// host"), without the wrapper types around them.
    static func socketReason(_ error: any Error) -> String {
        let text = "\(error)"
        let known = ["Connection refused", "No route to host", "Network is unreachable", "Connection timed out",
                     "Connection reset by peer", "Name or service not known", "Temporary failure in name resolution"]
        return known.first { text.contains($0) }?.lowercased() ?? text
    }

    /// The pool's own background logging, one level quieter: a database that is down is reported
    /// once per failed call by tokend, not per reconnection attempt.
    private static func quiet(_ logger: Logger) -> Logger {
        var logger = logger
        logger.logLevel = max(logger.logLevel, .error)
        return logger
    }
}

extension PostgresStore {
    /// A short-lived pool for one job (migrate, verify, export, start-up), closed afterwards.
    /// Errors come back as `SharedStateUnavailable`, explained (see `explain`). A database that
    /// cannot be reached fails within `timeout` (one round trip first); the job itself may take
    /// up to `jobTimeout` (a migration waiting for another instance's lock, a long export).
    public static func withTemporaryClient<T: Sendable>(url: DatabaseURL, applicationName: String, timeout: Duration,
                                                        jobTimeout: Duration = .seconds(600), logger: Logger,
                                                        _ body: @escaping @Sendable (PostgresStore) async throws -> T) async throws -> T {
        let store = try PostgresStore(url: url, applicationName: applicationName, timeout: timeout, maximumConnections: 2,
                                      reportsHealth: false, logger: logger)
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await store.run(); return nil }
                defer { group.cancelAll() }
                if store.pools.count > 1, let none = await store.selectHost() {
                    throw SharedStateUnavailable("no host of \(url) suits target_session_attrs=\(url.targetSession.rawValue): \(none)")
                }
                try await store.run("connect") { client in _ = try await client.query("SELECT 1") }
                return try await withDeadline(jobTimeout) { try await body(store) }
            }
        } catch let error as SchemaMigrator.NewerSchema {
            throw error
        } catch let error as PostgresTransactionError where error.closureError is SchemaMigrator.NewerSchema {
            throw error.closureError!
        } catch {
            let cause = (error as? SharedStateUnavailable)?.underlying ?? error
            throw SharedStateUnavailable(await store.explain(cause), underlying: cause)
        }
    }
}
