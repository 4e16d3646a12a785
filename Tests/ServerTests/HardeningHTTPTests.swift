import Foundation
import Testing
import TestSupport
import TokenCore

/// The same findings against the real binary: inputs that used to kill a process now get a
/// clear refusal, and the process goes on.
struct HardeningHTTPTests {
    @Test func anInt64MinTTLIsA400AndTheServerLives() async throws {
        let fixture = try await Fixture.start()
        let response = try await fixture.mint(#"{"identity":"a","ttl":-9223372036854775808}"#)
        #expect(response.status == 400)
        #expect(response.errorCode == "invalid_request")
        #expect(try await fixture.mint().status == 200)
        await fixture.server.stop()
    }

    @Test func aSecretsFileThatUsedToAbortIsAnErrorAtStartAndOnReload() async throws {
        let directory = try TemporaryDirectory()
        for text in ["[.a]\n", "[[.a]]\n", "[[[a]]\n"] {
            let path = try directory.write("broken.toml", text)
            let result = try Executables.run(Executables.tokend, ["serve", "--secrets", path, "--port", "0",
                                                                 "--audit-log", directory.url.appendingPathComponent("a.jsonl").path])
            #expect(result.status == 2, "\(text)")
            #expect(result.stderr.contains("not valid TOML"), "\(result.stderr)")
            let mint = try Executables.run(Executables.tokend, ["mint", "--secrets", path, "--identity", "a"])
            #expect(mint.status == 2)
        }
        let fixture = try await Fixture.start()
        try Data("[.a]\n".utf8).write(to: URL(fileURLWithPath: fixture.secretsPath))
        fixture.server.signal(SIGHUP)
        #expect(await fixture.server.waitForOutput("secrets reload failed"))
        #expect(try await fixture.mint().status == 200)
        await fixture.server.stop()
    }

    @Test func extremeNumbersInTokensAndAuditFilesAreErrors() async throws {
        let directory = try TemporaryDirectory()
        let secrets = try directory.write("secrets.toml", SampleSecrets.toml)
        // A token signed with the sample key whose exp is Int64.min.
        let header = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT","kid":"2026-11"}"#.utf8))
        let payload = Base64URL.encode(Array(#"{"sub":"a","exp":-9223372036854775808,"iat":-9223372036854775808}"#.utf8))
        let input = "\(header).\(payload)"
        let mac = HMACKey(utf8: SampleSecrets.genericSecret).authenticationCode(for: Array(input.utf8))
        let token = "\(input).\(Base64URL.encode(mac.bytes))"
        let verify = try Executables.run(Executables.tokend, ["verify", "--secrets", secrets, token])
        #expect(verify.status == 1, "\(verify.stderr)")
        #expect(verify.stderr.contains("exp"))

        let record = #"{"seq":-9223372036854775808,"time":"2026-11-30T00:00:00.000Z","event":"token.issued","prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#
        let audit = try directory.write("audit.jsonl", record + "\n")
        let check = try Executables.run(Executables.tokend, ["audit", "verify", audit])
        #expect(check.status == 1, "\(check.stderr)")
        let serve = try Executables.run(Executables.tokend, ["serve", "--secrets", secrets, "--port", "0", "--audit-log", audit])
        #expect(serve.status == 2, "\(serve.stderr)")
        #expect(serve.stderr.contains("audit"))
    }
}

/// The head of the file log is kept outside the file — logged at rotation and
/// shutdown, exported as a metric — and `audit verify --head` checks a file against it.
struct AuditHeadTests {
    @Test func theHeadIsLoggedAndExportedAndCatchesACutEnd() async throws {
        let fixture = try await Fixture.start()
        for _ in 0..<3 { #expect(try await fixture.mint().status == 200) }
        let metrics = try await HTTPTestClient.send("GET", fixture.base + "/metrics").text
        #expect(metrics.contains("tokend_audit_last_seq 3.0\n"))
        #expect(await fixture.server.stop() == 0)
        let line = try #require(fixture.server.stderr.split(separator: "\n").last { $0.contains("audit head seq=") })
        let seq = try #require(line.range(of: "seq=").map { line[$0.upperBound...].prefix { $0.isNumber } })
        let link = try #require(line.range(of: "link=").map { line[$0.upperBound...].prefix { $0.isHexDigit } })
        #expect(seq == "3")
        let verify = try Executables.run(Executables.tokend, ["audit", "verify", fixture.auditPath, "--head", "\(seq):\(link)"])
        #expect(verify.status == 0, "\(verify.stderr)")
        // The last record cut: the chain alone still verifies; against the head, it does not.
        let lines = try String(contentsOfFile: fixture.auditPath, encoding: .utf8).split(separator: "\n")
        try Data((lines.dropLast().joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: fixture.auditPath))
        #expect(try Executables.run(Executables.tokend, ["audit", "verify", fixture.auditPath]).status == 0)
        let cut = try Executables.run(Executables.tokend, ["audit", "verify", fixture.auditPath, "--head", "\(seq):\(link)"])
        #expect(cut.status == 1)
        #expect(cut.stderr.contains("cut from the end"))
    }
}

/// The smaller gaps the hardening review found.
struct SmallerGapsTests {
    @Test func deniedKeyIDsAreClaimedNotCallersAndAuthenticatedRefusalsAreEachRecorded() async throws {
        let fixture = try await Fixture.start()
        #expect(try await fixture.mintSigned(keyID: "web", secret: "wrong-secret-0123456789abcdef-0123456789").result.status == 401)
        for _ in 0..<30 { #expect(try await fixture.mint(#"{"identity":""}"#).status == 400) }
        await fixture.server.stop()
        let records = try fixture.auditRecords()
        let denied = try #require(records.first { $0["event"] == .string("auth.denied") })
        #expect(denied["caller"] == nil)
        #expect(denied["claimed_key_id"] == .string("web"))
        // Refusals of an authenticated caller are not coalesced: each has its record.
        #expect(records.filter { $0["event"] == .string("request.rejected") && $0["caller"] == .string("web") }.count == 30)
    }

    @Test func usageGapsAreUsageErrors() throws {
        #expect(try Executables.run(Executables.tokend, []).status == 2)
        let directory = try TemporaryDirectory()
        let secrets = try directory.write("secrets.toml", SampleSecrets.toml)
        #expect(try Executables.run(Executables.tokend, ["serve", "--dev", "--secrets", secrets]).status == 2)
        // A refused port fails fast (it took the whole 10 s request timeout).
        let started = Date()
        let refused = try Executables.run(Executables.tokend, ["mint", "--url", "http://127.0.0.1:9", "--api-key", "k", "--identity", "a"])
        #expect(refused.status == 1)
        #expect(Date().timeIntervalSince(started) < 6)
    }

    @Test func byteSequencesWithoutPaddingAreAccepted() {
        let body = Array(#"{"identity":"alice"}"#.utf8)
        let padded = ContentDigest.header(for: body)
        #expect(padded.hasSuffix("=:"))
        let unpadded = String(padded.dropLast(2)) + ":"
        #expect(ContentDigest.verify(header: unpadded, body: body) == .matches)
    }
}
