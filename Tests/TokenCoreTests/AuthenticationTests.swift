import HTTPTypes
import Testing
import TestSupport
@testable import TokenCore

struct MessageSignatureTests {
    /// RFC 9421 Appendix B.2.5: hmac-sha256 over date, @authority and content-type.
    @Test func rfc9421AppendixB25Verifies() throws {
        var headers = HTTPFields()
        headers[HTTPField.Name("date")!] = "Tue, 20 Apr 2021 02:07:55 GMT"
        headers[.contentType] = "application/json"
        headers[HTTPField.Name("content-digest")!] = "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
        let request = RequestParts(method: "POST", scheme: "https", authority: "example.com", path: "/foo",
                                   query: "param=Value&Pet=dog", headers: headers, body: Array(#"{"hello": "world"}"#.utf8))
        let signature = try MessageSignature.parse(
            signatureInput: #"sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret""#,
            signature: "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:")
        #expect(signature.keyID == "test-shared-secret")
        #expect(signature.created == 1_618_884_473)
        let base = try SignatureBase.build(signature, request: request)
        #expect(String(decoding: base, as: UTF8.self) == """
            "date": Tue, 20 Apr 2021 02:07:55 GMT
            "@authority": example.com
            "content-type": application/json
            "@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"
            """)
        let key = HMACKey(bytes: Base64.decode("uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==")!)
        #expect(key.isValidAuthenticationCode(signature.signature, for: base))
        // And the body's Content-Digest from the same appendix matches.
        #expect(ContentDigest.verify(header: headers[HTTPField.Name("content-digest")!]!, body: request.body) == .matches)
    }

    @Test func derivedComponents() throws {
        let request = try #require(RequestParts(method: "post", url: "HTTP://Example.COM:80/v1/tokens?a=1#frag"))
        #expect(request.method == "POST")
        #expect(request.targetURI == "http://Example.COM:80/v1/tokens?a=1")
        #expect(request.normalizedAuthority == "example.com")
        #expect(request.path == "/v1/tokens")
        #expect(request.query == "a=1")
        #expect(RequestParts(method: "GET", url: "http://h")?.path == "/")
        #expect(RequestParts(method: "GET", url: "ftp://h/x") == nil)
    }

    @Test(arguments: [
        ("sig1=(\"@method\"", "sig1=:AAAA:"),
        ("sig1=(\"@method\");created=1", "sig2=:AAAA:"),
        ("sig1=(\"@method\");created=1", "sig1=\"not bytes\""),
        ("sig1=(\"@method\" \"@method\");created=1", "sig1=:AAAA:"),
        ("sig1=(@method);created=1", "sig1=:AAAA:"),
        ("sig1=(\"@method\");created=\"yesterday\"", "sig1=:AAAA:"),
    ])
    func malformedHeadersAreNamed(_ input: String, _ signature: String) {
        #expect { try MessageSignature.parse(signatureInput: input, signature: signature) } throws: { error in
            (error as? AuthenticationFailure)?.reason == .malformed
        }
    }
}

struct CallerAuthenticatorTests {
    static let hmacSecret = "caller-hmac-secret-0123456789abcdef-0123"
    static let secrets = try! Secrets(
        signingKeys: [SigningKey(kid: "k", secret: "signing-secret-0123456789abcdef-0123456", profile: .generic, isActive: true)],
        callers: [Caller(id: "web", apiKeySHA256: SHA256.hash("tkd_good-key"), hmacKey: HMACKey(utf8: hmacSecret), grants: ["chat"])])
    let now = 1_795_964_645
    let body = Array(#"{"identity":"alice"}"#.utf8)
    let url = "http://127.0.0.1:8080/v1/tokens"

    func authenticator() -> CallerAuthenticator {
        CallerAuthenticator(secrets: Self.secrets, maximumSkew: 300)
    }

    func signed(keyID: String = "web", secret: String = hmacSecret, created: Int? = nil, body: [UInt8]? = nil,
                method: String = "POST", url: String? = nil) throws -> RequestParts {
        var request = RequestParts(method: method, url: url ?? self.url, body: body ?? self.body)!
        let headers = try MessageSigner(keyID: keyID, secret: secret).sign(request, created: created ?? now)
        for (name, value) in headers { request.fields[HTTPField.Name(name)!] = value }
        return request
    }

    func failure(_ request: RequestParts, _ authenticator: CallerAuthenticator? = nil, now: Int? = nil) -> AuthenticationFailure? {
        do {
            _ = try (authenticator ?? self.authenticator()).authenticate(request, now: now ?? self.now)
            return nil
        } catch { return error }
    }

    @Test func apiKeys() throws {
        var request = RequestParts(method: "POST", url: url, body: body)!
        request.fields[.authorization] = "Bearer tkd_good-key"
        let caller = try authenticator().authenticate(request, now: now)
        #expect(caller.caller.id == "web" && caller.method == .apiKey)
        request.fields[.authorization] = "Bearer tkd_wrong-key"
        #expect(failure(request)?.message == "invalid credentials")
        request.fields[.authorization] = "Basic d2ViOmtleQ=="
        #expect(failure(request)?.reason == .malformed)
        request.fields[.authorization] = "Bearer " + String(repeating: "k", count: 10_000)
        #expect(failure(request)?.reason == .invalid)
        request.fields[.authorization] = nil
        #expect(failure(request)?.reason == .missing)
    }

    /// The scheme in any case, spaces around the key tolerated; anything else is malformed.
    @Test func theBearerSchemeIsReadCaseInsensitively() throws {
        var request = RequestParts(method: "POST", url: url, body: body)!
        for accepted in ["bearer tkd_good-key", "BEARER tkd_good-key", "BeArEr   tkd_good-key", "  Bearer tkd_good-key"] {
            request.fields[.authorization] = accepted
            #expect(failure(request) == nil, "\(accepted)")
        }
        for malformed in ["Bearer", "Bearer ", "Bearer    ", "Bearerx tkd_good-key", "Bear tkd_good-key", "Bearer\ttkd_good-key", "Bearér tkd_good-key", ""] {
            request.fields[.authorization] = malformed
            #expect(failure(request)?.reason == .malformed, "\(malformed)")
        }
    }

    @Test func signedRequestsAuthenticateOnce() async throws {
        let ledger = InMemoryReplayLedger()
        func accept(_ request: RequestParts) async throws -> ReplayOutcome {
            let caller = try authenticator().authenticate(request, now: now)
            #expect(caller.caller.id == "web" && caller.method == .hmac)
            let claim = try #require(caller.replayClaim)
            return ledger.record(claim, share: 10, now: now)
        }
        let request = try signed()
        #expect(try await accept(request) == .fresh)
        // The same signature again, even through a new authenticator (after a reload), is a replay.
        #expect(try await accept(request) == .replayed)
        // A fresh signature is fine.
        #expect(try await accept(try signed(created: now - 1)) == .fresh)
    }

    @Test func aReplayClaimNamesTheNonceOrTheSignatureAndLivesOnlyAsLongAsTheSkewWindow() throws {
        var request = RequestParts(method: "POST", url: url, body: body)!
        let signer = MessageSigner(keyID: "web", secret: Self.hmacSecret)
        for (name, value) in try signer.sign(request, created: now, nonce: "n-1") { request.fields[HTTPField.Name(name)!] = value }
        let withNonce = try #require(try authenticator().authenticate(request, now: now).replayClaim)
        #expect(withNonce.key == SHA256.hash(Array("nonce\u{0}web\u{0}n-1".utf8)).bytes)
        #expect(withNonce.expiry == now + 300 + 1)
        // A signature created 100 s ago lives 200 s more, whatever `expires` says.
        let old = try #require(try authenticator().authenticate(try signed(created: now - 100), now: now).replayClaim)
        #expect(old.expiry == now + 200 + 1)
        var apiKey = RequestParts(method: "POST", url: url, body: body)!
        apiKey.fields[.authorization] = "Bearer tkd_good-key"
        #expect(try authenticator().authenticate(apiKey, now: now).replayClaim == nil)
    }

    @Test func unknownKeyIDAndWrongSecretLookTheSame() throws {
        let unknown = failure(try signed(keyID: "ghost"))
        let wrong = failure(try signed(secret: "not-the-secret-0123456789abcdef-012345"))
        #expect(unknown?.reason == .invalid && wrong?.reason == .invalid)
        #expect(unknown?.message == wrong?.message)
    }

    @Test func tamperingIsDetected() throws {
        var request = try signed()
        request.method = "PUT"
        #expect(failure(request)?.reason == .invalid)

        request = try signed()
        request.path = "/v1/other"
        #expect(failure(request)?.reason == .invalid)

        request = try signed()
        request.body = Array(#"{"identity":"mallory"}"#.utf8)
        #expect(failure(request)?.reason == .digest)

        // Body and digest both replaced: the signature covers the digest.
        request.fields[HTTPField.Name("content-digest")!] = ContentDigest.header(for: request.body)
        #expect(failure(request)?.reason == .invalid)
    }

    @Test func clockSkewAndExpiry() throws {
        let stale = failure(try signed(created: now - 301))
        #expect(stale?.reason == .clockSkew)
        #expect(stale?.message.contains("301 s ago") == true)
        #expect(failure(try signed(created: now + 301))?.reason == .clockSkew)
        _ = try authenticator().authenticate(try signed(created: now - 299), now: now)
    }

    @Test func coverageIsRequired() throws {
        // A client that signs without the body digest.
        var request = RequestParts(method: "POST", url: url, body: body)!
        request.fields[HTTPField.Name("signature-input")!] = #"sig1=("@method" "@target-uri");created=\#(now);keyid="web""#
        request.fields[HTTPField.Name("signature")!] = "sig1=:AAAA:"
        #expect(failure(request)?.reason == .coverage)
        request.fields[HTTPField.Name("signature-input")!] = #"sig1=("@method" "@path" "content-digest");created=\#(now);keyid="web""#
        #expect(failure(request)?.reason == .coverage)
        request.fields[HTTPField.Name("signature-input")!] = #"sig1=("@target-uri" "content-digest");created=\#(now);keyid="web""#
        #expect(failure(request)?.reason == .coverage)
        request.fields[HTTPField.Name("signature-input")!] = #"sig1=("@method" "@target-uri" "content-digest");keyid="web""#
        #expect(failure(request)?.reason == .malformed)  // no created
        request.fields[HTTPField.Name("signature-input")!] = #"sig1=("@method" "@target-uri" "content-digest");created=\#(now);keyid="web";alg="rsa-pss-sha512""#
        #expect(failure(request)?.reason == .unsupported)
        request.fields[HTTPField.Name("signature-input")!] = #"sig1=("@method" "@target-uri" "content-digest");created=\#(now);keyid="web";expires=\#(now - 1)"#
        #expect(failure(request)?.reason == .expired)
    }

    @Test func replayLedgerExpiresEntriesAndBoundsEachCallersShare() {
        let ledger = InMemoryReplayLedger()
        func claim(_ key: UInt8, _ caller: String = "a", until expiry: Int = 100) -> ReplayClaim {
            ReplayClaim(callerID: caller, key: [key], expiry: expiry)
        }
        #expect(ledger.record(claim(1), share: 2, now: 50) == .fresh)
        #expect(ledger.record(claim(1), share: 2, now: 60) == .replayed)
        #expect(ledger.record(claim(2), share: 2, now: 60) == .fresh)
        #expect(ledger.record(claim(3), share: 2, now: 60) == .shareExhausted)
        // Caller "a" at its share does not crowd out "b".
        #expect(ledger.record(claim(4, "b"), share: 2, now: 60) == .fresh)
        #expect(ledger.record(claim(3, until: 200), share: 2, now: 101) == .fresh)  // the first two expired
        #expect(ledger.count == 1 && ledger.count(of: "a") == 1 && ledger.count(of: "b") == 0)
    }

    @Test func replayShareFollowsTheRateLimit() {
        #expect(ReplayShare.entries(rateLimit: nil, maximumSkew: 300) == ReplayShare.unlimitedCallerEntries)
        #expect(ReplayShare.entries(rateLimit: 5000, maximumSkew: 300) == 602 * 5000)
        #expect(ReplayShare.entries(rateLimit: 0.5, maximumSkew: 300) == ReplayShare.unlimitedCallerEntries)
    }

    /// Any positive rate loads from the secrets file; the wait for a vanishing one is capped, not a trap.
    @Test func retryAfterIsTotal() {
        let limiter = InMemoryRateLimiter()
        #expect(limiter.acquire(callerID: "glacial", rate: 1e-300, now: 0) == nil)
        #expect(limiter.acquire(callerID: "glacial", rate: 1e-300, now: 1) == RetryAfter.maximum)
        #expect(RetryAfter.seconds(.nan) == RetryAfter.maximum && RetryAfter.seconds(.infinity) == RetryAfter.maximum)
        #expect(RetryAfter.seconds(0.2) == 1 && RetryAfter.seconds(2.5) == 3)
    }

    @Test func rateLimiterHoldsOneSecondOfRequests() {
        let limiter = InMemoryRateLimiter()
        for _ in 0..<5 { #expect(limiter.acquire(callerID: "a", rate: 5, now: 10) == nil) }
        #expect(limiter.acquire(callerID: "a", rate: 5, now: 10) == 1)
        #expect(limiter.acquire(callerID: "b", rate: 5, now: 10) == nil)  // per caller
        #expect(limiter.acquire(callerID: "a", rate: 5, now: 10.25) == nil)  // refilled one
        #expect(limiter.acquire(callerID: "slow", rate: 0.1, now: 0) == nil)
        #expect(limiter.acquire(callerID: "slow", rate: 0.1, now: 1) == 9)  // whole seconds, rounded up
    }
}

extension RequestParts {
    /// The tests edit a request's headers as swift-http-types fields (what the CLI builds).
    var fields: HTTPFields {
        get { headers as? HTTPFields ?? [:] }
        set { headers = newValue }
    }
}
