import Foundation
import Testing
import TestSupport
import TokenCore

/// Drives every path of the service, then searches everything it printed and everything it
/// audited for a secret, a key, a signature or an issued token.
struct LogLeakTests {
    @Test func nothingSecretReachesTheLogsOrTheAuditFile() async throws {
        let secrets = SampleSecrets.toml.replacingOccurrences(of: "rate_limit = 50", with: "rate_limit = 3")
        let fixture = try await Fixture.start(secrets: secrets, environment: ["TOKEND_LOG_LEVEL": "trace"])
        var mustNotAppear = [SampleSecrets.apiKey, SampleSecrets.hmacSecret, SampleSecrets.genericSecret, SampleSecrets.twilioSecret]
        let wrongKey = "tkd_attacker-guess-0123456789"
        mustNotAppear.append(wrongKey)

        let issued = try await fixture.mint(#"{"identity":"alice","grants":{"chat":{}}}"#)
        mustNotAppear.append(try #require(issued.token))
        let (signed, signedHeaders) = try await fixture.mintSigned()
        mustNotAppear.append(try #require(signed.token))
        for (name, value) in signedHeaders where name == "Signature" {
            mustNotAppear.append(String(value.dropFirst("sig1=:".count).dropLast()))
        }
        _ = try await HTTPTestClient.send("POST", fixture.base + "/v1/tokens", headers: signedHeaders, body: Array(#"{"identity":"alice"}"#.utf8))
        _ = try await fixture.mint(apiKey: wrongKey)
        _ = try await fixture.mint(#"{"identity":"alice","grants":{"video":{}}}"#)
        _ = try await fixture.mint(#"{"identity": "#)
        _ = try await fixture.mint(#"{"identity":"alice"}"#, contentType: "text/plain")
        _ = try await fixture.mint(String(repeating: "x", count: 70_000))
        _ = try await fixture.mintSigned(created: WallClock.now() - 1000)
        _ = try await HTTPTestClient.send("GET", fixture.base + "/readyz")
        _ = try await HTTPTestClient.send("GET", fixture.base + "/metrics")
        fixture.server.signal(SIGHUP)
        _ = await fixture.server.waitForOutput("secrets reloaded")
        await fixture.server.stop()

        let output = fixture.server.stdout + fixture.server.stderr
        let audit = (try? String(contentsOfFile: fixture.auditPath, encoding: .utf8)) ?? ""
        #expect(output.contains("request_id="), "the access log ran")
        #expect(audit.contains("token.issued") && audit.contains("auth.denied") && audit.contains("request.rejected"))
        for secret in mustNotAppear {
            #expect(!output.contains(secret), "found in the server output: \(secret.prefix(12))…")
            #expect(!audit.contains(secret), "found in the audit log: \(secret.prefix(12))…")
        }
    }
}
