import Foundation
import NIOCore
import Testing
import TestSupport
import TokenCore

/// The audit log as the service uses it: no token without its record, fail closed, recover.
@Suite(.serialized)
struct AuditHTTPTests {
    @Test func everyIssuedTokenHasExactlyOneRecord() async throws {
        let fixture = try await Fixture.start()
        var tokens: [String] = []
        for n in 0..<20 {
            let result = n.isMultiple(of: 2) ? try await fixture.mint() : try await fixture.mintSigned().result
            tokens.append(try #require(result.token))
        }
        _ = try await fixture.mint(apiKey: "wrong")
        await fixture.server.stop()
        let issued = try fixture.auditRecords().filter { $0["event"] == .string("token.issued") }
        #expect(issued.count == 20)
        for token in tokens {
            #expect(issued.filter { $0["token_sha256"] == .string(SHA256.hash(token).hex) }.count == 1)
        }
        #expect(Set(issued.compactMap { $0["auth"]?.stringValue }) == ["api_key", "hmac"])
        let verify = try Executables.run(Executables.tokend, ["audit", "verify", fixture.auditPath])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("ok: 21 records"))
    }

    /// An unauthenticated flood: every request is refused, but the audit log gets one record at
    /// once and one summary with the count (at the slice's end, here at shutdown), not one per request.
    @Test func aDenialFloodIsCoalesced() async throws {
        let fixture = try await Fixture.start()
        for _ in 0..<200 { #expect(try await fixture.mint(apiKey: "tkd_guess").status == 401) }
        await fixture.server.stop()
        let denials = try fixture.auditRecords().filter { $0["event"] == .string("auth.denied") }
        #expect(denials.count <= 21, "\(denials.count) records for 200 denials")  // one per 10 s slice, plus its summary
        #expect(denials.reduce(0) { $0 + ($1["count"]?.integerValue ?? 1) } == 200)
        #expect(denials.allSatisfy { $0["reason"] == .string("invalid") && $0["remote"] == .string("127.0.0.1") })
    }

    /// A throttled caller in a loop: its 429s are one record per second with a count (the first
    /// written before its answer), and the counts add up to the 429s answered.
    @Test func anAuthenticatedCallersRefusalsAreCoalescedPerSecond() async throws {
        let fixture = try await Fixture.start(secrets: SampleSecrets.toml.replacingOccurrences(of: "rate_limit = 50", with: "rate_limit = 2"))
        let started = ContinuousClock.now
        var refused = 0
        for _ in 0..<300 where try await fixture.mint().status == 429 { refused += 1 }
        let seconds = Int((ContinuousClock.now - started).components.seconds) + 1
        // The first refusal of the run is on record before its answer came back.
        #expect(try fixture.auditRecords().contains { $0["reason"] == .string("rate_limited") })
        await fixture.server.stop()
        let records = try fixture.auditRecords().filter { $0["reason"] == .string("rate_limited") }
        #expect(refused > 250)
        #expect(records.count <= 2 * (seconds + 1), "\(records.count) records for \(refused) refusals in \(seconds) s")
        #expect(records.reduce(0) { $0 + ($1["count"]?.integerValue ?? 1) } == refused)
        #expect(records.allSatisfy { $0["caller"] == .string("web") && $0["status"] == .number("429") })
        let verify = try Executables.run(Executables.tokend, ["audit", "verify", fixture.auditPath])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test func aFullDiskMeans503AndNoToken() async throws {
        let fixture = try await Fixture.start(auditPath: "/dev/full")
        #expect(try await HTTPTestClient.send("GET", fixture.base + "/readyz").status == 200)
        let result = try await fixture.mint()
        #expect(result.status == 503)
        #expect(result.errorCode == "audit_unavailable")
        #expect(result.token == nil && !result.text.contains("eyJ"))
        let ready = try await HTTPTestClient.send("GET", fixture.base + "/readyz")
        #expect(ready.status == 503)
        #expect(ready.text.contains("No space left on device"))
        await fixture.server.stop()
    }

    @Test func anUnwritableLogFailsClosedAndRecoversByItself() async throws {
        let fixture = try await Fixture.start()
        #expect(try await fixture.mint().status == 200)
        // The path stops being a writable file (as root, chmod would not stop a write).
        try FileManager.default.moveItem(atPath: fixture.auditPath, toPath: fixture.auditPath + ".1")
        try FileManager.default.createDirectory(atPath: fixture.auditPath, withIntermediateDirectories: false)
        let refused = try await fixture.mint()
        #expect(refused.status == 503 && refused.token == nil)
        #expect(try await HTTPTestClient.send("GET", fixture.base + "/readyz").status == 503)
        // Writable again: the next request succeeds and readiness comes back.
        try FileManager.default.removeItem(atPath: fixture.auditPath)
        #expect(try await fixture.mint().status == 200)
        #expect(try await HTTPTestClient.send("GET", fixture.base + "/readyz").status == 200)
        await fixture.server.stop()
        let verify = try Executables.run(Executables.tokend, ["audit", "verify", fixture.auditPath + ".1", fixture.auditPath])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    /// kill -9 while clients mint concurrently; on restart the torn tail is cut, every token any
    /// client received has its record, and the chain verifies.
    @Test func survivesSIGKILLWithEveryAcknowledgedTokenRecorded() async throws {
        let directory = try TemporaryDirectory()
        let auditPath = directory.url.appendingPathComponent("audit.jsonl").path
        let fixture = try await Fixture.start(secrets: SampleSecrets.unlimitedToml, auditPath: auditPath)
        let received = TokenBox()
        let base = fixture.base
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    while true {
                        guard let result = try? await HTTPTestClient.mint(base, apiKey: SampleSecrets.apiKey, body: #"{"identity":"load"}"#,
                                                                          timeout: .seconds(2)) else { return }
                        if let token = result.token { received.add(token) }
                    }
                }
            }
            // Killed once the load has had answers (on a machine busy with the rest of the
            // suite that takes longer than alone), at the latest after 20 s.
            let deadline = ContinuousClock.now + .seconds(20)
            try await Task.sleep(for: .milliseconds(500))
            while received.all.count <= 60, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            await fixture.server.kill9()
            try await group.waitForAll()
        }
        let tokens = received.all
        #expect(tokens.count > 50, "only \(tokens.count) tokens before the kill")

        let restarted = try await ServerProcess(["--secrets", fixture.secretsPath, "--port", "0", "--audit-log", auditPath])
        #expect(try await HTTPTestClient.mint(restarted.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"after"}"#).status == 200)
        await restarted.stop()

        let recorded = Set(try fixture.auditRecords().compactMap { $0["token_sha256"]?.stringValue })
        let missing = tokens.filter { !recorded.contains(SHA256.hash($0).hex) }
        #expect(missing.isEmpty, "\(missing.count) acknowledged tokens have no audit record")
        let verify = try Executables.run(Executables.tokend, ["audit", "verify", auditPath])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test func concurrentRequestsShareSyncs() async throws {
        let fixture = try await Fixture.start(secrets: SampleSecrets.unlimitedToml)
        let base = fixture.base
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<32 {
                group.addTask {
                    for _ in 0..<10 { _ = try await HTTPTestClient.mint(base, apiKey: SampleSecrets.apiKey, body: #"{"identity":"x"}"#) }
                }
            }
            try await group.waitForAll()
        }
        let metrics = try await HTTPTestClient.send("GET", fixture.base + "/metrics").text
        await fixture.server.stop()
        func value(_ prefix: String) -> Double? {
            metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last!) }
        }
        let records = try #require(value("tokend_audit_records_total{result=\"ok\"}"))
        let commits = try #require(value("tokend_audit_commit_duration_seconds_count{result=\"ok\"}"))
        #expect(records == 320)
        #expect(commits < records, "\(commits) commits for \(records) records: no group commit")
    }
}

final class TokenBox: @unchecked Sendable {
    private let lock = NSLock()
    private var tokens: [String] = []
    func add(_ token: String) { lock.withLock { tokens.append(token) } }
    var all: [String] { lock.withLock { tokens } }
}
