import Foundation
import Logging
import Testing
import TestSupport
import TokenCore
@testable import TokenPostgres

/// The PostgreSQL implementations on their own, against a real server: what the HTTP tests
/// cannot reach in reasonable time (purging, a caller's share).
@Suite(.serialized)
struct PostgresStateTests {
    let postgres: PostgresServer
    let url: DatabaseURL

    init() async throws {
        postgres = try await PostgresServer.sharedServer()
        url = try DatabaseURL(try postgres.makeDatabase())
    }

    func withStore<T: Sendable>(_ body: @escaping @Sendable (PostgresStore) async throws -> T) async throws -> T {
        // A generous deadline: these tests are about the ledger's and limiter's answers, and share
        // two cores with the rest of the suite (the deadline itself is tested below).
        try await PostgresStore.withTemporaryClient(url: url, applicationName: "tokend-test", timeout: .seconds(15),
                                                    logger: Logger(label: "test")) { store in
            _ = try await SchemaMigrator.migrate(store)
            return try await body(store)
        }
    }

    var databaseName: String { url.database }

    /// A ledger with its group-commit writer running, as `serve` runs it.
    func withLedger<T: Sendable>(_ body: @escaping @Sendable (PostgresReplayLedger) async throws -> T) async throws -> T {
        try await withStore { store in
            let ledger = PostgresReplayLedger(store: store, maximumSkew: 300)
            let writer = Task { try await ledger.run() }
            defer { writer.cancel() }
            return try await body(ledger)
        }
    }

    @Test func theLedgerRefusesALiveKeyTakesOverAnExpiredOneAndPurges() async throws {
        let outcomes = try await withLedger { ledger in
            let claim = ReplayClaim(callerID: "web", key: [1, 2, 3], expiry: 1_000)
            return [
                try await ledger.record(claim, share: 1_000, now: 900),
                try await ledger.record(claim, share: 1_000, now: 950),
                // Expired by now: the same key is fresh again (a nonce reused after its window).
                try await ledger.record(ReplayClaim(callerID: "web", key: [1, 2, 3], expiry: 2_000), share: 1_000, now: 1_000),
                try await ledger.record(ReplayClaim(callerID: "web", key: [9], expiry: 1_500), share: 1_000, now: 1_000),
            ]
        }
        #expect(outcomes == [.fresh, .replayed, .fresh, .fresh])
        #expect(try postgres.psql("SELECT count(*) FROM tokend_replay", database: databaseName).trimmed == "2")
        try await withLedger { ledger in try await ledger.purge(now: 1_600) }
        #expect(try postgres.psql("SELECT count(*) FROM tokend_replay", database: databaseName).trimmed == "1")
    }

    /// A replay claim looks its keys up by the primary key whatever plan PostgreSQL caches for
    /// the prepared statement. A generic plan made while the ledger was small once chose to read
    /// every live entry (a bitmap scan on `expires_at`, then a hash anti-join) for each batch: a
    /// cost that grew with the ledger, found by profiling the signed path.
    @Test func theReplayClaimLooksUpEachKeyByItsIndexWhateverThePlan() async throws {
        try await withStore { _ in }  // the schema
        // The plan is made (and kept) on the first execution, while the ledger is empty; the
        // ledger then grows to 20,000 live entries under it.
        let keys = "ARRAY[" + (0..<16).map { "sha256('k\($0)'::bytea)" }.joined(separator: ",") + "]"
        let plan = try postgres.psql("""
            SET plan_cache_mode = force_generic_plan;
            PREPARE claim(bytea[], text[], int8[], int4[], int8, int8) AS \(ReplayBatchStatement.sql);
            EXECUTE claim(ARRAY[sha256('first'::bytea)], ARRAY['web'], ARRAY[2000000300::int8], ARRAY[1000], 1900000000, 1900000000);
            INSERT INTO tokend_replay SELECT sha256(i::text::bytea), 'web', 2000000000 + i FROM generate_series(1, 20000) i;
            EXPLAIN EXECUTE claim(\(keys), array_fill('web'::text, ARRAY[16]), array_fill(2000000300::int8, ARRAY[16]),
                                  array_fill(1000::int4, ARRAY[16]), 1900000000, 1900000000);
            """, database: databaseName)
        #expect(plan.contains("Index Scan using tokend_replay_pkey on tokend_replay r"), "\(plan)")
        #expect(!plan.contains("Bitmap Heap Scan on tokend_replay r") && !plan.contains("Seq Scan on tokend_replay r"), "\(plan)")
    }

    @Test func oneCallerAtItsShareDoesNotCrowdOutAnother() async throws {
        let outcomes = try await withLedger { ledger in
            var outcomes: [ReplayOutcome] = []
            for key: UInt8 in 0..<4 {
                outcomes.append(try await ledger.record(ReplayClaim(callerID: "greedy", key: [key], expiry: 2_000), share: 3, now: 1_000))
            }
            outcomes.append(try await ledger.record(ReplayClaim(callerID: "other", key: [96], expiry: 2_000), share: 3, now: 1_000))
            // A replay does not take from the share; the next window starts a new count.
            outcomes.append(try await ledger.record(ReplayClaim(callerID: "other", key: [96], expiry: 2_000), share: 3, now: 1_000))
            outcomes.append(try await ledger.record(ReplayClaim(callerID: "greedy", key: [128], expiry: 3_000), share: 3, now: 1_000 + 602))
            return outcomes
        }
        #expect(outcomes == [.fresh, .fresh, .fresh, .shareExhausted, .fresh, .replayed, .fresh])
    }

    /// Many claims at once, from two ledgers (as two instances), some sharing a key: every key is
    /// recorded exactly once, whichever batch it lands in.
    @Test func concurrentClaimsForOneKeyAreAcceptedOnce() async throws {
        let fresh = try await withStore { store in
            let ledgers = [PostgresReplayLedger(store: store, maximumSkew: 300), PostgresReplayLedger(store: store, maximumSkew: 300)]
            let writers = ledgers.map { ledger in Task { try await ledger.run() } }
            defer { writers.forEach { $0.cancel() } }
            return try await withThrowingTaskGroup(of: (UInt8, ReplayOutcome).self) { group in
                for n in 0..<200 {
                    let key = UInt8(n % 50)
                    group.addTask {
                        (key, try await ledgers[n % 2].record(ReplayClaim(callerID: "web", key: [key], expiry: 2_000), share: 1_000, now: 1_000))
                    }
                }
                var fresh: [UInt8: Int] = [:]
                for try await (key, outcome) in group where outcome == .fresh { fresh[key, default: 0] += 1 }
                return fresh
            }
        }
        #expect(fresh.count == 50 && fresh.values.allSatisfy { $0 == 1 }, "\(fresh)")
    }

    @Test func gcraAdmitsABurstOfOneSecondThenTheRate() async throws {
        let decisions = try await withStore { store in
            let limiter = PostgresRateLimiter(store: store)
            let writer = Task { try await limiter.run() }
            defer { writer.cancel() }
            // Six at once, so that the bucket cannot refill between them on a slow machine (one
            // request's worth takes 200 ms): five admitted, one refused.
            var decisions = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<6 { group.addTask { try await limiter.acquire(callerID: "a", rate: 5) } }
                return try await group.reduce(into: [Int?]()) { $0.append($1) }
            }.sorted { ($0 ?? 0) < ($1 ?? 0) }
            decisions.append(try await limiter.acquire(callerID: "b", rate: 5))  // per caller
            for _ in 0..<2 { decisions.append(try await limiter.acquire(callerID: "slow", rate: 0.1)) }
            return decisions
        }
        #expect(Array(decisions[0..<5]) == [nil, nil, nil, nil, nil])
        #expect(decisions[5] == 1)
        #expect(decisions[6] == nil)
        // The second "slow" request is refused for about its 10 s interval, less the time the two
        // round trips took (seconds on a machine busy with the rest of the suite).
        #expect(decisions[7] == nil && (5...10).contains(decisions[8] ?? 0), "\(decisions)")
    }

    /// A batch decides as one request at a time would: 40 concurrent requests from two limiters
    /// (two instances), for two callers at 10 a second, admit each caller's burst of 10 and no more.
    @Test func concurrentBatchesAdmitExactlyTheBurst() async throws {
        let admitted = try await withStore { store in
            let limiters = [PostgresRateLimiter(store: store), PostgresRateLimiter(store: store)]
            let writers = limiters.map { limiter in Task { try await limiter.run() } }
            defer { writers.forEach { $0.cancel() } }
            return try await withThrowingTaskGroup(of: (String, Int?).self) { group in
                for n in 0..<40 {
                    let caller = n.isMultiple(of: 2) ? "x" : "y"
                    group.addTask { (caller, try await limiters[n % 2].acquire(callerID: caller, rate: 10)) }
                }
                var admitted: [String: Int] = [:]
                for try await (caller, wait) in group where wait == nil { admitted[caller, default: 0] += 1 }
                return admitted
            }
        }
        // A few may refill while the test runs (10 a second); the burst alone is 10.
        #expect((10...12).contains(admitted["x"] ?? 0) && (10...12).contains(admitted["y"] ?? 0), "\(admitted)")
    }

    @Test func anUnreachableDatabaseIsUnavailableWithinTheDeadlineAndExplained() async throws {
        let dead = try DatabaseURL("postgres://tokend:pw@127.0.0.1:1/x?sslmode=disable&connect_timeout=1")
        let started = ContinuousClock.now
        await #expect(throws: SharedStateUnavailable.self) {
            try await PostgresStore.withTemporaryClient(url: dead, applicationName: "t", timeout: .seconds(1), logger: Logger(label: "t")) { _ in 1 }
        }
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}

@Suite struct DatabaseURLTests {
    @Test func parsesAndNeverPrintsThePassword() throws {
        let url = try DatabaseURL("postgresql://app:s%40cret%2Fpw@db.example:6432/tokend?sslmode=verify-full&connect_timeout=3")
        #expect(url.hosts == [.init(name: "db.example", port: 6432)] && url.username == "app" && url.database == "tokend")
        #expect(url.sslMode == .verifyFull && url.connectTimeout == .seconds(3) && url.targetSession == .any)
        #expect(url.description == "postgres://app:***@db.example:6432/tokend?sslmode=verify-full")
        #expect(!"\(url)".contains("cret"))
        let defaults = try DatabaseURL("postgres://app@[::1]/")
        #expect(defaults.hosts == [.init(name: "::1", port: 5432)] && defaults.database == "app" && defaults.sslMode == .prefer)
    }

    /// libpq's multi-host syntax: each host with its own port (or 5432), IPv6 in brackets, and
    /// read-write as the default once there are several (every request writes).
    @Test func readsSeveralHosts() throws {
        let url = try DatabaseURL("postgres://app:p%40ss@db1:5433,db2,[fd00::2]:6000/tokend?sslmode=disable")
        #expect(url.hosts == [.init(name: "db1", port: 5433), .init(name: "db2", port: 5432), .init(name: "fd00::2", port: 6000)])
        #expect(url.username == "app" && url.password == "p@ss" && url.database == "tokend" && url.targetSession == .readWrite)
        #expect(url.description == "postgres://app:***@db1:5433,db2:5432,[fd00::2]:6000/tokend?sslmode=disable&target_session_attrs=read-write")
        let any = try DatabaseURL("postgres://app@db1,db2/tokend?target_session_attrs=any")
        #expect(any.targetSession == .any && any.hosts.count == 2)
        let primary = try DatabaseURL("postgres://app@db1/tokend?target_session_attrs=primary")
        #expect(primary.targetSession == .primary && primary.description.hasSuffix("&target_session_attrs=primary"))
    }

    /// The active host while it suits; else the first that does, in the URL's order.
    @Test func choosesTheHostThatSuits() {
        let primary = HostAnswer.serving(inRecovery: false, readOnlyByDefault: false)
        let standby = HostAnswer.serving(inRecovery: true, readOnlyByDefault: true)
        let readOnlyPrimary = HostAnswer.serving(inRecovery: false, readOnlyByDefault: true)
        let down = HostAnswer.unreachable("connection refused")
        #expect(HostSelection.choose([down, primary], active: 0, target: .readWrite) == 1)
        #expect(HostSelection.choose([standby, primary], active: 0, target: .readWrite) == 1)
        #expect(HostSelection.choose([primary, primary], active: 1, target: .readWrite) == 1)  // no flapping
        #expect(HostSelection.choose([standby, down], active: 0, target: .readWrite) == nil)
        #expect(HostSelection.choose([standby, down], active: 1, target: .any) == 0)
        #expect(HostSelection.choose([readOnlyPrimary, standby], active: 1, target: .readWrite) == nil)
        #expect(HostSelection.choose([readOnlyPrimary, standby], active: 1, target: .primary) == 0)
        #expect(standby.description == "a standby (in recovery)" && down.description == "connection refused")
    }

    @Test(arguments: [
        ("mysql://a@b/c", "postgres://"),
        ("postgres://a:pw@b/c?sslmode=maybe", "sslmode must be"),
        ("postgres://a:pw@b/c?ssl=true", "unknown parameter"),
        ("postgres://a:pw@b/c?sslmode=disable&sslrootcert=/x", "sslrootcert needs"),
        ("postgres://:pw@b/c", "no user name"),
        ("postgres://a:pw@b:99999/c", "port"),
        ("postgres://a:pw@b,:5432/c", "no host"),
        ("postgres://a:pw@b,c:0/c", "port"),
        ("postgres://a:pw@[::1/c", "closing ]"),
        ("postgres://a:pw@b/c?target_session_attrs=standby", "target_session_attrs must be"),
        ("postgres://a:pw@b c/d", "name or an IP address"),
    ])
    func refusesWhatItCannotHonour(text: String, expected: String) {
        do {
            _ = try DatabaseURL(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(!error.description.contains("pw"))
        }
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
