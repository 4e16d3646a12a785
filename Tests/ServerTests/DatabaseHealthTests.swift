import Foundation
import Testing
import TestSupport
import TokenCore

/// PostgreSQL failing the way an operator's bad day goes — stopped, locked, refusing — against a
/// real server: readiness answers at once and tells the truth, requests fail fast once the
/// database is known down, and tokend finds it back by itself.
@Suite(.serialized) struct DatabaseHealthTests {
    /// A request and how long its answer took, in seconds.
    /// Answered without a round trip to the database: a call that waited for the pool would take
    /// the 2 s database timeout every time, so the median is under half a second and none takes
    /// two timeouts. (Each answer takes about a millisecond on an idle machine; the suite runs
    /// many servers and databases at once on two cores, where one answer can wait seconds for a
    /// core — one did, 2.3 s.)
    static func expectAtOnce(_ seconds: [Double], _ what: String) {
        let median = seconds.sorted()[seconds.count / 2]
        #expect(median < 0.5 && seconds.allSatisfy { $0 < 4 }, "\(what): \(seconds.map { String(format: "%.3f", $0) }) s")
    }

    static func timed(_ request: () async throws -> HTTPResult) async throws -> (HTTPResult, Double) {
        let started = ContinuousClock.now
        let result = try await request()
        let elapsed = (ContinuousClock.now - started).components
        return (result, Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
    }

    static func metric(_ base: String, _ prefix: String) async throws -> String? {
        try await HTTPTestClient.send("GET", base + "/metrics").text.split(separator: "\n")
            .first { $0.hasPrefix(prefix) }.map { String($0.split(separator: " ").last!) }
    }

    @Test func withPostgresStoppedReadinessAnswersAtOnceAndMintsFailFastUntilItIsBack() async throws {
        let postgres = try await PostgresServer.make()  // a server of its own: this test stops it
        defer { postgres.stop() }
        let fixture = try await SharedStateFixture.make(postgres: postgres)
        let a = try await fixture.start("a", ["--database-timeout", "2"])
        #expect(try await HTTPTestClient.send("GET", a.baseURL + "/readyz").status == 200)
        #expect(try await Self.metric(a.baseURL, #"tokend_dependency_up{dependency="postgresql"}"#).map(Double.init) == 1)
        postgres.stop()

        // The probe notices within about a second; readiness says so in the server's words, at once.
        // "At once": see `expectAtOnce`.
        // A probe a second, each waiting at most the 2 s database timeout: a few seconds (more on a
        // machine busy with the rest of the suite; the figure is printed below).
        let noticed = try await SharedControlTests.secondsUntil(limit: 10) { try await HTTPTestClient.send("GET", a.baseURL + "/readyz").status == 503 }
        #expect(try unwrap(noticed) <= 6)
        var readyTimes: [Double] = []
        for _ in 0..<10 {
            let (ready, seconds) = try await Self.timed { try await HTTPTestClient.send("GET", a.baseURL + "/readyz") }
            readyTimes.append(seconds)
            #expect(ready.status == 503, "\(ready.text)")
            #expect(ready.text.contains("PostgreSQL") && ready.text.contains("down"), "\(ready.text)")
        }
        Self.expectAtOnce(readyTimes, "/readyz")
        // In the socket's words, not only "no answer" (a direct connection looks for the cause).
        let words = try await SharedControlTests.secondsUntil {
            try await HTTPTestClient.send("GET", a.baseURL + "/readyz").text.contains("connection refused")
        }
        let said = try await HTTPTestClient.send("GET", a.baseURL + "/readyz").text
        #expect(words != nil, "\(said)")
        // Known down: every mint is refused in milliseconds, with Retry-After, and no token.
        var mintTimes: [Double] = []
        for _ in 0..<10 {
            let (refused, seconds) = try await Self.timed { try await HTTPTestClient.mint(a.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#) }
            mintTimes.append(seconds)
            #expect(refused.status == 503 && refused.token == nil && refused.header("Retry-After") == "1")
        }
        Self.expectAtOnce(mintTimes, "a mint while the database was known down")
        #expect(try await Self.metric(a.baseURL, #"tokend_dependency_up{dependency="postgresql"}"#).map(Double.init) == 0)

        // Back: found by the probe, without a restart.
        try postgres.start()
        let recovered = try await SharedControlTests.secondsUntil(limit: 15) {
            try await HTTPTestClient.mint(a.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"bob"}"#).status == 200
        }
        #expect(recovered != nil)
        #expect(try await HTTPTestClient.send("GET", a.baseURL + "/readyz").status == 200)
        #expect(try await Self.metric(a.baseURL, #"tokend_dependency_transitions_total{dependency="postgresql",to="down"}"#) == "1")
        #expect(try await Self.metric(a.baseURL, #"tokend_dependency_probe_duration_seconds_count{dependency="postgresql",result="ok"}"#) != nil)
        await a.stop()
        print("readiness noticed the stopped database in \(noticed ?? -1) s; mints again \(recovered ?? -1) s after it started")
    }

    /// Reads go on, writes wait: `LOCK TABLE tokend_audit IN EXCLUSIVE MODE`. Readiness sees it
    /// (the probe takes the write lock of every table a request writes) and says so.
    @Test func aWriteLockOnTheAuditTableMakesReadinessFalse() async throws {
        let fixture = try await SharedStateFixture.make()
        let a = try await fixture.start("a")
        #expect(try await HTTPTestClient.send("GET", a.baseURL + "/readyz").status == 200)
        let lock = try fixture.postgres.psqlInBackground("BEGIN; LOCK TABLE tokend_audit IN EXCLUSIVE MODE; SELECT pg_sleep(12); COMMIT;",
                                                         database: fixture.databaseName)
        defer { if lock.isRunning { lock.terminate() } }
        // The probe's lock wait is 1 s, once a second: a few seconds at most.
        let noticed = try await SharedControlTests.secondsUntil(limit: 10) { try await HTTPTestClient.send("GET", a.baseURL + "/readyz").status == 503 }
        #expect(try unwrap(noticed) <= 6)
        // Answered from memory while the lock holds: judged as the other "at once" answers are,
        // by the median of a few (one answer alone can wait seconds for a core in this suite).
        var answers: [(HTTPResult, Double)] = []
        for _ in 0..<5 { answers.append(try await Self.timed { try await HTTPTestClient.send("GET", a.baseURL + "/readyz") }) }
        Self.expectAtOnce(answers.map(\.1), "/readyz under a write lock")
        #expect(answers.allSatisfy { $0.0.status == 503 && $0.0.text.contains("lock") }, "\(answers.map(\.0.text))")
        // Waited for without holding a thread of the pool the other tests run on.
        while lock.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        let cleared = try await SharedControlTests.secondsUntil(limit: 10) { try await HTTPTestClient.send("GET", a.baseURL + "/readyz").status == 200 }
        #expect(cleared != nil)
        #expect(try await HTTPTestClient.mint(a.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#).status == 200)
        await a.stop()
    }

    /// An answer that waiting will not change stops `serve` at once, with the server's reason.
    @Test func aRoleWithoutRightsOnAnEmptyDatabaseStopsServeAtOnce() async throws {
        let fixture = try await SharedStateFixture.make()
        let role = "norights_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try fixture.sql("CREATE ROLE \(role) LOGIN PASSWORD 'norights-password-1'")
        _ = try fixture.sql("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        let url = fixture.postgres.url(database: fixture.databaseName)
            .replacingOccurrences(of: "//\(PostgresServer.user):", with: "//\(role):")
            .replacingOccurrences(of: PostgresServer.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, with: "norights-password-1")
        let started = ContinuousClock.now
        let serve = try Executables.run(Executables.tokend, ["serve", "--secrets", fixture.secretsPath, "--port", "0", "--database-wait", "30"],
                                        environment: ["TOKEND_DATABASE_URL": url])
        #expect(serve.status == 2 && serve.stderr.contains("permission denied"), "\(serve.stderr)")
        #expect(ContinuousClock.now - started < .seconds(10), "it waited for --database-wait")
        #expect(!serve.stderr.contains("retrying"))
    }
}
