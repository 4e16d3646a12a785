import Foundation
import Synchronization
import Testing
import TestSupport
import TokenCore

/// A real failover: a primary with a synchronous streaming standby on loopback, tokend given both
/// hosts (`target_session_attrs=read-write`, the default with several), minting under load. The
/// primary stops as in a crash, the standby is promoted, and tokend finds it by itself: tokens
/// again within seconds, every token answered 200 has its record on the promoted server, and the
/// chain continues unbroken there.
@Suite(.serialized) struct FailoverTests {
    /// Every answer of the load, in order of arrival.
    final class Answers: Sendable {
        struct Answer: Sendable {
            let at: ContinuousClock.Instant
            let status: Int
            let token: String?
        }

        private let answers = Mutex<[Answer]>([])
        private let stopping = Atomic<Bool>(false)

        var all: [Answer] { answers.withLock { $0 } }
        var isStopping: Bool { stopping.load(ordering: .relaxed) }
        func stop() { stopping.store(true, ordering: .relaxed) }
        func add(_ answer: Answer) { answers.withLock { $0.append(answer) } }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    @Test func aPromotedStandbyIsFoundAndHoldsEveryAnsweredToken() async throws {
        let primary = try await PostgresServer.make()
        defer { primary.stop() }
        let standby = try await PostgresServer.makeStandby(of: primary)
        defer { standby.stop() }
        try primary.waitForSynchronousStandby()
        try primary.psql("CREATE DATABASE failover")
        let both = PostgresServer.url(hosts: [primary, standby], database: "failover", query: "sslmode=disable&connect_timeout=2")
        let directory = try TemporaryDirectory()
        let secrets = try directory.write("secrets.toml", SampleSecrets.unlimitedToml)
        let a = try await SharedStateFixture.start("a", secretsPath: secrets, databaseURL: both, ["--database-timeout", "2"])
        #expect(try await HTTPTestClient.send("GET", a.baseURL + "/readyz").status == 200)

        let answers = Answers()
        let (stoppedAt, promotedAt) = try await withThrowingTaskGroup(of: Void.self) { group -> (ContinuousClock.Instant, ContinuousClock.Instant) in
            for _ in 0..<4 {
                group.addTask {
                    while !answers.isStopping {
                        let result = try? await HTTPTestClient.mint(a.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#)
                        answers.add(.init(at: .now, status: result?.status ?? 0, token: result?.token))
                        if result?.status == 503 { try? await Task.sleep(for: .milliseconds(20)) }  // as a client honouring Retry-After would, briefly
                    }
                }
            }
            // The primary crashes once the load has had answers (on a machine busy with the rest
            // of the suite that takes longer than alone).
            _ = try await SharedControlTests.secondsUntil(limit: 15) { answers.all.filter { $0.status == 200 }.count > 20 }
            primary.stop(immediately: true)
            let stoppedAt = ContinuousClock.now
            // Before the promotion, readiness names each host's state.
            let named = try await SharedControlTests.secondsUntil(limit: 15) {
                try await HTTPTestClient.send("GET", a.baseURL + "/readyz").text.contains("a standby (in recovery)")
            }
            let said = try await HTTPTestClient.send("GET", a.baseURL + "/readyz").text
            #expect(named != nil && said.contains("\(primary.port) cannot connect: connection refused"), "\(said)")
            try standby.promote()
            let promotedAt = ContinuousClock.now
            let recovered = try await SharedControlTests.secondsUntil(limit: 20) {
                answers.all.contains { $0.at > promotedAt && $0.status == 200 }
            }
            #expect(recovered != nil, "no token within 20 s of the promotion")
            // Load on the promoted server until it has answered a few tokens (more than a
            // second on a machine busy with the rest of the suite).
            _ = try await SharedControlTests.secondsUntil(limit: 10) { answers.all.filter { $0.at > promotedAt && $0.status == 200 }.count > 10 }
            answers.stop()
            try await group.waitForAll()
            return (stoppedAt, promotedAt)
        }

        let all = answers.all
        // Answers of requests the primary took before it stopped may arrive just after; the
        // outage starts with the first refusal after the stop.
        let outage = try #require(all.first { $0.at > stoppedAt && $0.status != 200 }).at
        let before = all.filter { $0.at < outage && $0.status == 200 }
        let after = all.filter { $0.at > outage && $0.status == 200 }
        let firstAfter = try #require(after.first)
        let refused = all.filter { $0.at >= outage && $0.at < firstAfter.at }
        #expect(before.count > 10 && after.count > 10, "\(before.count) tokens before, \(after.count) after")
        #expect(refused.allSatisfy { $0.status == 503 || $0.status == 0 } && all.allSatisfy { $0.status != 200 || $0.token != nil })
        // The figures the README quotes: the gap from the crash to the first token (the promotion
        // is part of it, waiting here until readiness named the standby), from the promotion to
        // the first token (tokend's own part), and what the load saw meanwhile.
        print("failover: first token \(String(format: "%.2f", Self.seconds(firstAfter.at - stoppedAt))) s after the primary stopped, "
              + "\(String(format: "%.2f", Self.seconds(firstAfter.at - promotedAt))) s after the promotion returned; "
              + "\(refused.count) requests refused meanwhile; \(before.count) tokens before, \(after.count) after")
        let metrics = try await HTTPTestClient.send("GET", a.baseURL + "/metrics").text
        #expect(metrics.contains("tokend_database_host_switches_total 1"), "\(metrics.split(separator: "\n").filter { $0.contains("switch") })")
        await a.stop()

        // Every token answered 200 is recorded on the promoted server, and the chain verifies there.
        let promoted = PostgresServer.url(hosts: [standby], database: "failover", query: "sslmode=disable")
        let fixture = try SharedStateFixture(postgres: standby, databaseURL: promoted)
        let records = try fixture.records("a")
        let recorded = Set(records.compactMap { $0["token_sha256"]?.stringValue })
        let missing = (before + after).filter { !recorded.contains(SHA256.hash($0.token!).hex) }
        #expect(missing.isEmpty, "\(missing.count) of \(before.count + after.count) answered tokens have no record on the promoted server")
        #expect(!records.contains { $0["event"]?.stringValue == "audit.cut" })
        if !missing.isEmpty {
            // What a reader of a failed run needs: when the lost answers came, and both servers' words.
            print("answered without a record on the promoted server, seconds after the stop: "
                  + missing.map { String(format: "%.3f", Self.seconds($0.at - stoppedAt)) }.joined(separator: " "))
            for (name, server) in [("primary", primary), ("standby", standby)] {
                print("\(name) log:\n" + ((try? String(contentsOfFile: server.logPath, encoding: .utf8)) ?? "").suffix(3000))
            }
        }
        let verify = try fixture.tokend(["audit", "verify"])
        #expect(verify.status == 0 && verify.stdout.contains("instance a: ok"), "\(verify.stdout)\(verify.stderr)")
    }

    /// What an asynchronous standby loses: the commits it had not received when it was promoted.
    /// Streaming is cut (the standby's `primary_conninfo` emptied) so that the loss is certain,
    /// then five tokens are minted, the primary crashes and the standby is promoted. The five
    /// tokens were answered 200 and have no record there; the instance, which committed them,
    /// finds its chain shorter and continues it after an `audit.cut` record that counts them.
    @Test func anAsynchronousStandbyLosesItsLastCommitsAndTheChainCountsThem() async throws {
        let primary = try await PostgresServer.make()
        defer { primary.stop() }
        let standby = try await PostgresServer.makeStandby(of: primary)
        defer { standby.stop() }
        try primary.psql("CREATE DATABASE failover")
        let both = PostgresServer.url(hosts: [primary, standby], database: "failover", query: "sslmode=disable&connect_timeout=2")
        let directory = try TemporaryDirectory()
        let secrets = try directory.write("secrets.toml", SampleSecrets.unlimitedToml)
        let a = try await SharedStateFixture.start("a", secretsPath: secrets, databaseURL: both, ["--database-timeout", "2"])
        func mint() async throws -> HTTPResult {
            try await HTTPTestClient.mint(a.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#)
        }
        for _ in 0..<3 { #expect(try await mint().status == 200) }
        let replicated = try await SharedControlTests.secondsUntil(limit: 10) {
            (try? standby.psql("SELECT count(*) FROM tokend_audit", database: "failover"))?.trimmingCharacters(in: .whitespacesAndNewlines) == "3"
        }
        #expect(replicated != nil)
        try standby.psql("ALTER SYSTEM SET primary_conninfo = ''")
        try standby.psql("SELECT pg_reload_conf()")
        let cut = try await SharedControlTests.secondsUntil(limit: 10) {
            try standby.psql("SELECT count(*) FROM pg_stat_wal_receiver").trimmingCharacters(in: .whitespacesAndNewlines) == "0"
        }
        #expect(cut != nil)
        var lost: [String] = []
        for _ in 0..<5 { lost.append(try #require(try await mint().token)) }
        primary.stop(immediately: true)
        try standby.promote()
        let back = try await SharedControlTests.secondsUntil(limit: 20) { try await mint().status == 200 }
        #expect(back != nil)
        await a.stop()
        #expect(a.stderr.contains("records were lost or removed"), "\(a.stderr.suffix(2000))")

        let promoted = PostgresServer.url(hosts: [standby], database: "failover", query: "sslmode=disable")
        let fixture = try SharedStateFixture(postgres: standby, databaseURL: promoted)
        let records = try fixture.records("a")
        let recorded = Set(records.compactMap { $0["token_sha256"]?.stringValue })
        #expect(lost.allSatisfy { !recorded.contains(SHA256.hash($0).hex) })
        #expect(records.count >= 5 && records[3]["event"] == .string("audit.cut") && records[3]["count"] == .number("5"), "\(records.prefix(5))")
        #expect(try fixture.tokend(["audit", "verify", "--instance", "a"]).status == 0)
    }
}
