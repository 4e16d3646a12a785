import Foundation
import Synchronization
import Testing
import TestSupport
import TokenCore

/// Two or more real `tokend serve` processes on one real PostgreSQL: every promise holds across
/// replicas.
@Suite(.serialized)
struct SharedStateTests {
    @Test func aSignatureAcceptedByOneInstanceIsRefusedByEveryOther() async throws {
        let fixture = try await SharedStateFixture.make()
        let a = try await fixture.start("a")
        let b = try await fixture.start("b")
        // The same signed request (same signature, same nonce) sent to A, then to B.
        let url1 = a.baseURL + "/v1/tokens"
        let parts = RequestParts(method: "POST", url: url1, body: Array(#"{"identity":"alice"}"#.utf8))!
        let signature = try MessageSigner(keyID: "web", secret: SampleSecrets.hmacSecret).sign(parts, created: WallClock.now(), nonce: "once")
        let headers = [("Content-Type", "application/json"), ("Host", "127.0.0.1:\(a.port)")] + signature.map { ($0.name, $0.value) }
        let first = try await HTTPTestClient.send("POST", a.baseURL + "/v1/tokens", headers: headers, body: parts.body)
        let second = try await HTTPTestClient.send("POST", b.baseURL + "/v1/tokens", headers: headers, body: parts.body)
        #expect(first.status == 200)
        #expect(second.status == 401)
        #expect(second.errorMessage?.contains("already used") == true, "\(second.text)")

        // A new signature that reuses the nonce, at B: refused too.
        let reused = try await HTTPTestClient.mintSigned(signedFor: a.baseURL, sendTo: b.baseURL, nonce: "once")
        #expect(reused.status == 401)
        // A fresh nonce is served by either.
        #expect(try await HTTPTestClient.mintSigned(signedFor: a.baseURL, sendTo: b.baseURL).status == 200)

        await a.stop()
        await b.stop()
        let denied = try fixture.records("b").filter { $0["event"] == .string("auth.denied") }
        #expect(denied.count == 2 && denied.allSatisfy { $0["reason"] == .string("replay") && $0["instance"] == .string("b") })
    }

    /// Until revocations, blocks and quotas are shared, a replica refuses to hold them alone.
    @Test func aCallersRateLimitHoldsAcrossInstances() async throws {
        let secrets = SampleSecrets.toml.replacingOccurrences(of: "rate_limit = 50", with: "rate_limit = 10")
        let fixture = try await SharedStateFixture.make(secrets: secrets)
        let servers = [try await fixture.start("a"), try await fixture.start("b")]
        let started = ContinuousClock.now
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var statuses: [Int] = []
                    for _ in 0..<25 { statuses.append(try await HTTPTestClient.mint(servers[worker % 2].baseURL, apiKey: SampleSecrets.apiKey,
                                                                                     body: #"{"identity":"alice"}"#).status) }
                    return statuses
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let admitted = statuses.filter { $0 == 200 }.count
        // One bucket for both: a burst of 10 plus 10 a second. Two separate buckets would admit
        // twice that.
        #expect(Set(statuses).isSubset(of: [200, 429]))
        #expect(admitted >= 10)
        #expect(Double(admitted) <= 10 + 10 * seconds + 1, "\(admitted) admitted in \(seconds) s")
        for server in servers { await server.stop() }
        // The 429s are coalesced per caller and second on each replica, and add up.
        let refusals = try ["a", "b"].flatMap { try fixture.records($0) }.filter { $0["reason"] == .string("rate_limited") }
        #expect(refusals.reduce(0) { $0 + ($1["count"]?.integerValue ?? 1) } == statuses.count { $0 == 429 })
        #expect(refusals.count <= 2 * 2 * (Int(seconds) + 2), "\(refusals.count) records")
    }

    @Test func aThrottledSignedRequestIsNotSpentInTheSharedLedger() async throws {
        let fixture = try await SharedStateFixture.make(secrets: SampleSecrets.toml.replacingOccurrences(of: "rate_limit = 50", with: "rate_limit = 0.5"))
        let a = try await fixture.start("a")
        try await expectThrottledSignatureIsNotSpent(base: a.baseURL)
        await a.stop()
        #expect(try fixture.sql("SELECT count(*) FROM tokend_replay").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
    }

    @Test func everyAnsweredTokenSurvivesKill9AndTheChainContinuesAfterRestart() async throws {
        let fixture = try await SharedStateFixture.make(secrets: SampleSecrets.unlimitedToml)
        let a = try await fixture.start("a")
        let answered = Counter()
        let tokens = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<6 {
                group.addTask {
                    var tokens: [String] = []
                    while true {
                        guard let result = try? await HTTPTestClient.mint(a.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#)
                        else { return tokens }
                        if let token = result.token {
                            tokens.append(token)
                            answered.value.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
            // Under load until a few dozen tokens are out (on a busy machine that takes longer).
            _ = try await SharedControlTests.secondsUntil(limit: 15) { answered.value.load(ordering: .relaxed) >= 40 }
            await a.kill9()
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(tokens.count > 10)
        let recorded = Set(try fixture.records("a").compactMap { $0["token_sha256"]?.stringValue })
        let missing = tokens.filter { !recorded.contains(SHA256.hash($0).hex) }
        #expect(missing.isEmpty, "\(missing.count) of \(tokens.count) answered tokens have no record")

        // Restarted under the same name, the instance continues its chain.
        let again = try await fixture.start("a")
        #expect(try await HTTPTestClient.mint(again.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"bob"}"#).status == 200)
        await again.stop()
        let records = try fixture.records("a")
        #expect(records.map { $0["seq"]?.integerValue } == Array(1...records.count).map { Optional($0) })
        let verify = try fixture.tokend(["audit", "verify"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("instance a: ok: \(records.count) records, chain intact"))
    }

    @Test func twoInstancesStartedTogetherOnAnEmptyDatabaseBothBecomeReady() async throws {
        let fixture = try await SharedStateFixture.make()
        let (secrets, url) = (fixture.secretsPath, fixture.databaseURL)
        async let first = SharedStateFixture.start("a", secretsPath: secrets, databaseURL: url)
        async let second = SharedStateFixture.start("b", secretsPath: secrets, databaseURL: url)
        let servers = try await [first, second]
        for server in servers {
            #expect(try await HTTPTestClient.send("GET", server.baseURL + "/readyz").status == 200)
            #expect(try await HTTPTestClient.mint(server.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#).status == 200)
            await server.stop()
        }
        #expect(try fixture.sql("SELECT count(*) FROM tokend_schema_migrations").trimmingCharacters(in: .whitespacesAndNewlines) == "5")
    }

    @Test func exportPrintsAChainThatVerifiesAsAFileAndTamperingIsNamed() async throws {
        let fixture = try await SharedStateFixture.make()
        let a = try await fixture.start("a")
        for _ in 0..<5 { #expect(try await HTTPTestClient.mint(a.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#).status == 200) }
        await a.stop()

        let export = try fixture.tokend(["audit", "export", "--instance", "a"])
        let path = try fixture.directory.write("a.jsonl", export.stdout)
        let file = try Executables.run(Executables.tokend, ["audit", "verify", path])
        #expect(file.status == 0 && file.stdout.contains("ok: 5 records"), "\(file.stdout)\(file.stderr)")
        // Byte for byte what PostgreSQL holds.
        let stored = try fixture.sql("SELECT string_agg(encode(line, 'hex'), '0a' ORDER BY seq) || '0a' FROM tokend_audit WHERE instance = 'a'")
        #expect(Hex.encode(Array(export.stdout.utf8)) == stored.trimmingCharacters(in: .whitespacesAndNewlines))

        // Records are append-only for everyone: no UPDATE, DELETE or TRUNCATE. With the triggers
        // bypassed (a superuser can), a deleted record is named.
        #expect(throws: (any Error).self) { try fixture.sql("UPDATE tokend_audit SET line = line WHERE seq = 2") }
        #expect(throws: (any Error).self) { try fixture.sql("DELETE FROM tokend_audit WHERE instance = 'a' AND seq = 3") }
        #expect(throws: (any Error).self) { try fixture.sql("TRUNCATE tokend_audit") }
        _ = try fixture.sql("SET session_replication_role = replica; DELETE FROM tokend_audit WHERE instance = 'a' AND seq = 3")
        let broken = try fixture.tokend(["audit", "verify", "--instance", "a"])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("instance a: broken") && broken.stdout.contains("deleted"), "\(broken.stdout)")
    }

    /// Tamper evidence in the database: each way of cutting or moving records is named, against
    /// the heads the instances logged (`--heads`) and the instance each record names.
    @Test func tamperingWithTheDatabaseChainsIsCaughtAgainstTheLoggedHeads() async throws {
        let fixture = try await SharedStateFixture.make()
        var logs: [String] = []
        for (name, count) in [("a", 5), ("b", 3)] {
            let server = try await fixture.start(name, ["--audit-head-interval", "0.2"])
            for _ in 0..<count { #expect(try await HTTPTestClient.mint(server.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#).status == 200) }
            try await Task.sleep(for: .milliseconds(500))
            #expect(server.stderr.contains("audit head instance=\(name) seq=\(count) link="), "\(server.stderr)")
            await server.stop()
            logs.append(try fixture.directory.write("\(name).log", server.stderr))
        }
        func verify(_ extra: [String] = []) throws -> ProcessResult { try fixture.tokend(["audit", "verify"] + extra) }
        let intact = try verify(["--heads"] + logs)
        #expect(intact.status == 0 && intact.stdout.contains("instance a: ok: 5 records, chain intact; passes through the head logged at seq 5"), "\(intact.stdout)\(intact.stderr)")
        #expect(try verify(["--head", "5:" + String(repeating: "0", count: 64)]).status == 2, "--head with --database needs --instance")

        // The newest record of a deleted, triggers bypassed: the chain alone still verifies; the head shows the cut.
        _ = try fixture.sql("SET session_replication_role = replica; DELETE FROM tokend_audit WHERE instance = 'a' AND seq = 5")
        #expect(try verify(["--instance", "a"]).status == 0)
        let cut = try verify(["--heads"] + logs)
        #expect(cut.status == 1 && cut.stdout.contains("instance a: broken") && cut.stdout.contains("cut from the end"), "\(cut.stdout)")
        // b's last record edited.
        _ = try fixture.sql("SET session_replication_role = replica; UPDATE tokend_audit SET line = convert_to(replace(convert_from(line, 'UTF8'), 'alice', 'mallo'), 'UTF8') WHERE instance = 'b' AND seq = 3")
        let edited = try verify(["--heads"] + logs)
        #expect(edited.stdout.contains("instance b: broken") && edited.stdout.contains("rewritten"), "\(edited.stdout)")
        // A chain copied under another name.
        _ = try fixture.sql("INSERT INTO tokend_audit (instance, seq, line) SELECT 'ghost', seq, line FROM tokend_audit WHERE instance = 'a'")
        let ghost = try verify()
        #expect(ghost.status == 1 && ghost.stdout.contains("instance ghost: broken") && ghost.stdout.contains("copied or renamed"), "\(ghost.stdout)")
        // b's whole chain deleted: only its logged head remembers it.
        _ = try fixture.sql("SET session_replication_role = replica; DELETE FROM tokend_audit WHERE instance = 'b'")
        let gone = try verify(["--heads"] + logs)
        #expect(gone.stdout.contains("instance b: broken") && gone.stdout.contains("whole chain was deleted"), "\(gone.stdout)")
    }

    /// The newest records deleted while the instance was stopped: at its restart the chain is
    /// shorter than its heartbeat kept, and it says so — an `audit.cut` record, a log line and a
    /// metric — before it continues.
    @Test func aChainCutWhileTheInstanceWasAwayIsRecordedNotContinuedSilently() async throws {
        let fixture = try await SharedStateFixture.make()
        let first = try await fixture.start("a")
        for _ in 0..<5 { #expect(try await HTTPTestClient.mint(first.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#).status == 200) }
        let beat = try await SharedControlTests.secondsUntil {
            try fixture.sql("SELECT audit_seq FROM tokend_heartbeat WHERE instance = 'a'").trimmingCharacters(in: .whitespacesAndNewlines) == "5"
        }
        #expect(beat != nil, "the heartbeat never carried the head")
        await first.stop()
        _ = try fixture.sql("SET session_replication_role = replica; DELETE FROM tokend_audit WHERE instance = 'a' AND seq > 3")

        let again = try await fixture.start("a")
        #expect(try await HTTPTestClient.mint(again.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"bob"}"#).status == 200)
        let metrics = try await HTTPTestClient.send("GET", again.baseURL + "/metrics").text
        #expect(metrics.contains("tokend_audit_chain_cuts_total 1"), "\(metrics.split(separator: "\n").filter { $0.contains("cut") })")
        await again.stop()
        #expect(again.stderr.contains("shorter than this instance committed or its heartbeat kept"))
        let records = try fixture.records("a")
        #expect(records.count == 5)
        #expect(records[3]["event"] == .string("audit.cut") && records[3]["count"] == .number("2"), "\(records[3])")
        #expect(records[4]["event"] == .string("token.issued"))
        // The cut is part of the chain: it verifies, and the record says what happened.
        #expect(try fixture.tokend(["audit", "verify", "--instance", "a"]).status == 0)
    }

    @Test func theFileLogBesideTheDatabaseGetsEveryRecordToo() async throws {
        let fixture = try await SharedStateFixture.make()
        let path = fixture.directory.url.appendingPathComponent("audit.jsonl").path
        let a = try await fixture.start("a", ["--audit-log", path])
        for _ in 0..<3 { #expect(try await HTTPTestClient.mint(a.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#).status == 200) }
        await a.stop()
        let file = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let records = try fixture.records("a")
        #expect(file.count == 3 && records.count == 3)
        #expect(try Executables.run(Executables.tokend, ["audit", "verify", path]).status == 0)
    }
}

/// A count shared by concurrent tasks.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
