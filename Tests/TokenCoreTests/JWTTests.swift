import Testing
@testable import TokenCore

struct JWTTests {
    /// RFC 7515 Appendix A.1: the HS256 example, header and payload bytes exactly as printed
    /// (with their CR LF), signed with the JWK's key.
    @Test func rfc7515AppendixA1() throws {
        let headerJSON = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}"
        let payloadJSON = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}"
        let keyBytes = try #require(Base64URL.decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"))
        let header = Array(Base64URL.encode(Array(headerJSON.utf8)).utf8)
        #expect(String(decoding: header, as: UTF8.self) == "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9")
        let token = Array(payloadJSON.utf8).withUnsafeBytes {
            JWS.sign(encodedHeader: header, payload: $0, key: HMACKey(bytes: keyBytes))
        }
        #expect(token == "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
            + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
            + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
    }

    static let secret = "test-signing-secret-0123456789abcdef-XYZ"
    static let key = SigningKey(kid: "k1", secret: secret, profile: .generic, isActive: true)
    static let now = 1_795_964_645

    func mint(_ key: SigningKey = key, now: Int = now, ttl: Int = 3600) -> String {
        TokenMinter.mint(identity: "alice", grants: JSONObject(), ttl: ttl, now: now, key: key, issuer: "tokend").token
    }

    @Test func verifiesItsOwnTokens() throws {
        let verified = try JWTVerifier(keys: [Self.key], issuer: nil).verify(mint(), now: Self.now + 10)
        #expect(verified.payload["sub"] == .string("alice"))
    }

    /// A token signed with a known key may still carry any integer: extreme claims are refused,
    /// never trapped on (a sum or a difference that overflows).
    @Test func extremeClaimsInASignedTokenAreRefusedNotTrappedOn() throws {
        let header = Array(Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT","kid":"k1"}"#.utf8)).utf8)
        func signed(_ payload: String) -> String {
            Array(payload.utf8).withUnsafeBytes { JWS.sign(encodedHeader: header, payload: $0, key: Self.key.hmacKey) }
        }
        let verifier = JWTVerifier(keys: [Self.key], issuer: nil)
        for payload in [#"{"sub":"a","exp":9223372036854775807,"iat":-9223372036854775808}"#,
                        #"{"sub":"a","exp":9223372036854775807,"nbf":-5}"#,
                        #"{"sub":"a","exp":-9223372036854775808}"#] {
            #expect(throws: JWTError.self, "\(payload)") { try verifier.verify(signed(payload), now: Self.now) }
        }
    }

    @Test func rejectsTamperedPayload() throws {
        let parts = mint().split(separator: ".").map(String.init)
        var payload = try #require(JSONParser.parse(Base64URL.decode(parts[1])!).objectValue)
        payload.set("sub", .string("mallory"))
        let forged = [parts[0], Base64URL.encode(Array(JSONValue.object(payload).jsonText.utf8)), parts[2]].joined(separator: ".")
        #expect(throws: JWTError.badSignature) { try JWTVerifier(keys: [Self.key], issuer: nil).verify(forged, now: Self.now) }
    }

    @Test func rejectsAForeignKey() {
        let foreign = SigningKey(kid: "k1", secret: "another-secret-entirely-0123456789abcdef", profile: .generic, isActive: true)
        #expect(throws: JWTError.badSignature) { try JWTVerifier(keys: [Self.key], issuer: nil).verify(mint(foreign), now: Self.now) }
    }

    @Test func rejectsAnUnknownKid() {
        let other = SigningKey(kid: "k2", secret: Self.secret, profile: .generic, isActive: true)
        #expect(throws: JWTError.unknownKey("no key with kid \"k2\"")) {
            try JWTVerifier(keys: [Self.key], issuer: nil).verify(mint(other), now: Self.now)
        }
    }

    @Test func rejectsAlgNoneAndOtherAlgorithms() {
        let payload = Base64URL.encode(Array(#"{"sub":"alice","exp":9999999999}"#.utf8))
        for alg in ["none", "None", "HS512", "RS256", "hs256"] {
            let header = Base64URL.encode(Array("{\"alg\":\"\(alg)\",\"kid\":\"k1\"}".utf8))
            #expect(throws: JWTError.unsupportedAlgorithm(alg)) {
                try JWTVerifier(keys: [Self.key], issuer: nil).verify("\(header).\(payload).", now: Self.now)
            }
        }
    }

    @Test func rejectsExpiredAndNotYetValid() {
        let verifier = JWTVerifier(keys: [Self.key], issuer: nil, leeway: 30)
        let token = mint(ttl: 1800)
        #expect(throws: JWTError.expired(exp: Self.now + 1800, now: Self.now + 1831)) {
            try verifier.verify(token, now: Self.now + 1831)
        }
        #expect(throws: Never.self) { try verifier.verify(token, now: Self.now + 1829) }  // within leeway
        #expect(throws: JWTError.notYetValid(nbf: Self.now, now: Self.now - 31)) {
            try verifier.verify(token, now: Self.now - 31)
        }
    }

    @Test(arguments: ["", "a.b", "a.b.c.d", "!!!.e30.", "e30.e30", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.AA"])
    func rejectsMalformedTokens(_ token: String) {
        #expect(throws: JWTError.self) { try JWTVerifier(keys: [Self.key], issuer: nil).verify(token, now: Self.now) }
    }

    @Test func refusesOversizedTokensBeforeDecoding() {
        let huge = String(repeating: "A", count: DecodedJWT.maximumLength + 1)
        #expect(throws: JWTError.malformed("token is longer than \(DecodedJWT.maximumLength) bytes")) {
            try DecodedJWT(huge)
        }
    }
}
