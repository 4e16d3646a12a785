import Foundation
import Testing
import TestSupport
import TokenCore

/// Both ways to authenticate, and the ways an attacker with the URL, a captured request or a
/// wrong key gets nothing.
@Suite(.serialized)
struct AuthenticationHTTPTests {
    @Test func noCredentialsOrAWrongKeyNeverYieldAToken() async throws {
        let fixture = try await Fixture.start()
        let none = try await HTTPTestClient.send("POST", fixture.base + "/v1/tokens", headers: [("Content-Type", "application/json")],
                                                 body: Array(#"{"identity":"alice"}"#.utf8))
        #expect(none.status == 401)
        #expect(none.errorCode == "unauthenticated")
        #expect(none.header("WWW-Authenticate")?.contains("Bearer") == true)
        let wrong = try await fixture.mint(apiKey: "tkd_not-a-real-key")
        #expect(wrong.status == 401)
        #expect(wrong.errorMessage == "invalid credentials")
        #expect(wrong.token == nil)
        await fixture.server.stop()
    }

    @Test func signedRequestsWorkOnceAndReplaysFail() async throws {
        let fixture = try await Fixture.start()
        let (first, headers) = try await fixture.mintSigned()
        #expect(first.status == 200, "\(first.text)")
        #expect(first.token != nil)
        // The captured request, sent again byte for byte.
        let replay = try await HTTPTestClient.send("POST", fixture.base + "/v1/tokens", headers: headers,
                                                   body: Array(#"{"identity":"alice"}"#.utf8))
        #expect(replay.status == 401)
        #expect(replay.errorMessage?.contains("already used") == true)
        await fixture.server.stop()
    }

    @Test func tamperedSignedRequestsFail() async throws {
        let fixture = try await Fixture.start()
        let body = #"{"identity":"alice"}"#
        let parts = RequestParts(method: "POST", url: fixture.base + "/v1/tokens", body: Array(body.utf8))!
        func signedHeaders() throws -> [(String, String)] {
            try MessageSigner(keyID: "web", secret: SampleSecrets.hmacSecret).sign(parts, created: WallClock.now()).map { ($0.name, $0.value) }
                + [("Content-Type", "application/json")]
        }
        // Another body under the same signature and digest.
        let otherBody = try await HTTPTestClient.send("POST", fixture.base + "/v1/tokens", headers: try signedHeaders(),
                                                      body: Array(#"{"identity":"root"}"#.utf8))
        #expect(otherBody.status == 401 && otherBody.errorMessage == "Content-Digest does not match the body")
        // Another body with a matching digest: the signature covers the digest.
        var headers = try signedHeaders().filter { $0.0 != "Content-Digest" }
        headers.append(("Content-Digest", ContentDigest.header(for: Array(#"{"identity":"root"}"#.utf8))))
        let newDigest = try await HTTPTestClient.send("POST", fixture.base + "/v1/tokens", headers: headers,
                                                      body: Array(#"{"identity":"root"}"#.utf8))
        #expect(newDigest.status == 401 && newDigest.errorMessage == "invalid credentials")
        // Another method and another path.
        let otherMethod = try await HTTPTestClient.send("PUT", fixture.base + "/v1/tokens", headers: try signedHeaders(), body: Array(body.utf8))
        #expect(otherMethod.status != 200)
        let otherPath = try await HTTPTestClient.send("POST", fixture.base + "/v1/tokens?x=1", headers: try signedHeaders(), body: Array(body.utf8))
        #expect(otherPath.status == 401 && otherPath.errorMessage == "invalid credentials")
        // A wrong secret, and an unknown key id: the same answer.
        let wrongSecret = try await fixture.mintSigned(secret: "wrong-secret-0123456789abcdef-0123456789").result
        let unknownKey = try await fixture.mintSigned(keyID: "ghost").result
        #expect(wrongSecret.status == 401 && unknownKey.status == 401)
        #expect(wrongSecret.errorMessage == unknownKey.errorMessage)
        await fixture.server.stop()
    }

    @Test func staleAndFutureSignaturesFail() async throws {
        let fixture = try await Fixture.start(["--max-skew", "120"])
        let stale = try await fixture.mintSigned(created: WallClock.now() - 600).result
        #expect(stale.status == 401)
        #expect(stale.errorMessage?.contains("the server allows ±120 s") == true)
        let future = try await fixture.mintSigned(created: WallClock.now() + 600).result
        #expect(future.status == 401)
        #expect(future.errorMessage?.contains("in the future") == true)
        #expect(try await fixture.mintSigned(created: WallClock.now() - 60).result.status == 200)
        await fixture.server.stop()
    }

    @Test func rateLimitAnswers429WithRetryAfter() async throws {
        let secrets = SampleSecrets.toml.replacingOccurrences(of: "rate_limit = 50", with: "rate_limit = 2")
        let fixture = try await Fixture.start(secrets: secrets)
        // Six at once: the burst of two is admitted, the rest refused — plus at most the refill
        // while they ran (two a second), which a busy machine can stretch.
        let started = ContinuousClock.now
        let base = fixture.base
        let results = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
            for _ in 0..<6 { group.addTask { try await HTTPTestClient.mint(base, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#) } }
            return try await group.reduce(into: [HTTPResult]()) { $0.append($1) }
        }
        let seconds = Double((ContinuousClock.now - started).components.seconds) + 1
        let admitted = results.count { $0.status == 200 }
        #expect(admitted >= 2 && Double(admitted) <= 2 + 2 * seconds, "\(results.map(\.status))")
        #expect(results.allSatisfy { $0.status == 200 || $0.status == 429 })
        let answer = try #require(results.first { $0.status == 429 })
        #expect(answer.errorCode == "rate_limited")
        #expect(Int(answer.header("Retry-After") ?? "") ?? 0 >= 1)
        await fixture.server.stop()
    }

    @Test func aThrottledSignedRequestIsNotSpent() async throws {
        let fixture = try await Fixture.start(secrets: SampleSecrets.toml.replacingOccurrences(of: "rate_limit = 50", with: "rate_limit = 0.5"))
        try await expectThrottledSignatureIsNotSpent(base: fixture.base)
        await fixture.server.stop()
    }

    @Test func sighupReloadsSecretsAndKeepsThemWhenTheFileIsBroken() async throws {
        let fixture = try await Fixture.start()
        let newKey = "tkd_added-by-reload-0123456789"
        #expect(try await fixture.mint(apiKey: newKey).status == 401)
        let updated = SampleSecrets.toml + """

            [[callers]]
            id = "mobile"
            api_key_sha256 = "\(KeyMaterial.apiKeySHA256Hex(newKey))"
            grants = []

            """
        try Data(updated.utf8).write(to: URL(fileURLWithPath: fixture.secretsPath))
        fixture.server.signal(SIGHUP)
        #expect(await fixture.server.waitForOutput("secrets reloaded"))
        #expect(try await fixture.mint(apiKey: newKey).status == 200)

        // A broken file: reported, and the running configuration stays.
        try Data("this is [not toml".utf8).write(to: URL(fileURLWithPath: fixture.secretsPath))
        fixture.server.signal(SIGHUP)
        #expect(await fixture.server.waitForOutput("secrets reload failed"))
        #expect(try await fixture.mint(apiKey: newKey).status == 200)
        #expect(try await fixture.mint().status == 200)
        await fixture.server.stop()
    }

    @Test func gracefulShutdownOnSIGTERM() async throws {
        let fixture = try await Fixture.start()
        #expect(try await fixture.mint().status == 200)
        let status = await fixture.server.stop()
        #expect(status == 0)
    }
}
