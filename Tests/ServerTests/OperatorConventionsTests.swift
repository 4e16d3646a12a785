import Foundation
import Testing
import TestSupport
import TokenCore

/// What operators of a cluster expect: callers inside it and callers through a TLS ingress both
/// sign the URL they call, and a replaced secrets file is picked up without a signal.
struct OperatorConventionsTests {
    /// Signs for `signedURL` and sends the request to the server's own (plain HTTP) address.
    private func mint(_ fixture: Fixture, signedFor signedURL: String) async throws -> HTTPResult {
        let body = #"{"identity":"alice"}"#
        let parts = try #require(RequestParts(method: "POST", url: signedURL, body: Array(body.utf8)))
        let signature = try MessageSigner(keyID: "web", secret: SampleSecrets.hmacSecret).sign(parts, created: WallClock.now())
        let headers = [("Content-Type", "application/json")] + signature.map { ($0.name, $0.value) }
        return try await HTTPTestClient.send("POST", fixture.base + "/v1/tokens", headers: headers, body: Array(body.utf8))
    }

    @Test func behindATLSIngressBothTheHTTPSAndTheInClusterURLVerify() async throws {
        let fixture = try await Fixture.start(["--public-scheme", "https"])
        let authority = fixture.base.replacingOccurrences(of: "http://", with: "")
        #expect(try await mint(fixture, signedFor: "https://\(authority)/v1/tokens").status == 200)
        #expect(try await mint(fixture, signedFor: "http://\(authority)/v1/tokens").status == 200)
        // The rest of the URL is still checked under either scheme.
        #expect(try await mint(fixture, signedFor: "https://\(authority)/v1/other").status == 401)
        #expect(try await mint(fixture, signedFor: "http://elsewhere.example/v1/tokens").status == 401)
        await fixture.server.stop()
    }

    @Test func withoutAProxyOnlyTheListenersSchemeVerifies() async throws {
        let fixture = try await Fixture.start()
        let authority = fixture.base.replacingOccurrences(of: "http://", with: "")
        #expect(try await mint(fixture, signedFor: "http://\(authority)/v1/tokens").status == 200)
        #expect(try await mint(fixture, signedFor: "https://\(authority)/v1/tokens").status == 401)
        await fixture.server.stop()
    }

    /// Kubernetes updates a mounted Secret by swapping a symlink to a new directory; --watch-secrets
    /// sees the new file and reloads it, as SIGHUP would.
    @Test func aReplacedSecretsFileIsReloadedWithoutASignal() async throws {
        let directory = try TemporaryDirectory()
        let versions = directory.url.appendingPathComponent("versions")
        try FileManager.default.createDirectory(at: versions, withIntermediateDirectories: true)
        let first = try write(SampleSecrets.toml, to: versions.appendingPathComponent("1.toml"))
        let link = directory.url.appendingPathComponent("secrets.toml").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: first)
        let audit = directory.url.appendingPathComponent("audit.jsonl").path
        let server = try await ServerProcess(["--secrets", link, "--port", "0", "--audit-log", audit, "--watch-secrets", "0.2"])
        let newKey = "tkd_a-key-that-arrives-with-the-second-file"
        #expect(try await HTTPTestClient.mint(server.baseURL, apiKey: newKey, body: #"{"identity":"a"}"#).status == 401)

        let second = try write(SampleSecrets.toml + """
            [[callers]]
            id = "mobile"
            api_key_sha256 = "\(KeyMaterial.apiKeySHA256Hex(newKey))"

            """, to: versions.appendingPathComponent("2.toml"))
        let staging = link + ".new"
        try FileManager.default.createSymbolicLink(atPath: staging, withDestinationPath: second)
        #expect(rename(staging, link) == 0)
        #expect(await server.waitForOutput("secrets reloaded"))
        #expect(try await HTTPTestClient.mint(server.baseURL, apiKey: newKey, body: #"{"identity":"a"}"#).status == 200)

        // A broken replacement is reported and changes nothing.
        let broken = try write("issuer = \n", to: versions.appendingPathComponent("3.toml"))
        try FileManager.default.createSymbolicLink(atPath: staging, withDestinationPath: broken)
        #expect(rename(staging, link) == 0)
        #expect(await server.waitForOutput("secrets reload failed"))
        #expect(try await HTTPTestClient.mint(server.baseURL, apiKey: newKey, body: #"{"identity":"a"}"#).status == 200)
        await server.stop()
    }

    private func write(_ text: String, to url: URL) throws -> String {
        try text.write(to: url, atomically: false, encoding: .utf8)
        #expect(chmod(url.path, 0o600) == 0)
        return url.path
    }
}
