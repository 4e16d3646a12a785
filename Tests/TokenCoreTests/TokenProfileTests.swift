import Testing
@testable import TokenCore

struct TokenProfileTests {
    static let now = 1_795_964_645
    static let twilioKey = SigningKey(kid: "SK0123456789abcdef0123456789abcdef", secret: "twilio-api-key-secret-0123456789ab",
                                      profile: .twilio(accountSID: "AC0123456789abcdef0123456789abcdef"), isActive: false)
    static let genericKey = SigningKey(kid: "2026-11", secret: "generic-secret-0123456789abcdef-0123456789",
                                       profile: .generic, isActive: true)
    static let grants = JSONObject([
        "data_sync": .object(JSONObject(["service_sid": .string("IS123")])),
        "video": .object(JSONObject(["room": .string("standup")])),
    ])

    func decode(_ token: String) throws -> DecodedJWT { try DecodedJWT(token) }

    @Test func genericLayout() throws {
        let minted = TokenMinter.mint(identity: "alice", grants: Self.grants, ttl: 3600, now: Self.now, key: Self.genericKey, issuer: "tokend")
        let token = try decode(minted.token)
        #expect(JSONValue.object(token.header).jsonText == #"{"alg":"HS256","typ":"JWT","kid":"2026-11"}"#)
        #expect(token.payload.keys == ["iss", "sub", "iat", "nbf", "exp", "jti", "grants"])
        #expect(token.payload["iss"] == .string("tokend"))
        #expect(token.payload["sub"] == .string("alice"))
        #expect(token.payload["iat"]?.integerValue == Self.now)
        #expect(token.payload["nbf"]?.integerValue == Self.now)
        #expect(token.payload["exp"]?.integerValue == Self.now + 3600)
        #expect(token.payload["jti"] == .string(minted.jti))
        #expect(Base64URL.decode(minted.jti)?.count == 16)
        #expect(token.payload["grants"]?.jsonText == #"{"identity":"alice","data_sync":{"service_sid":"IS123"},"video":{"room":"standup"}}"#)
    }

    /// twilio-python's AccessToken: header with cty, jti "<SK>-<iat>", iss SK, sub AC, nbf, exp,
    /// grants with identity; no iat and no kid. (The interop check in .ci/run compares with
    /// twilio-python itself.)
    @Test func twilioLayout() throws {
        let minted = TokenMinter.mint(identity: "alice", grants: Self.grants, ttl: 3600, now: Self.now, key: Self.twilioKey, issuer: "ignored")
        let token = try decode(minted.token)
        #expect(JSONValue.object(token.header).jsonText == #"{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1"}"#)
        #expect(Set(token.payload.keys) == ["jti", "iss", "sub", "nbf", "exp", "grants"])
        #expect(token.payload["jti"] == .string("SK0123456789abcdef0123456789abcdef-\(Self.now)"))
        #expect(token.payload["iss"] == .string("SK0123456789abcdef0123456789abcdef"))
        #expect(token.payload["sub"] == .string("AC0123456789abcdef0123456789abcdef"))
        #expect(token.payload["exp"]?.integerValue == Self.now + 3600)
        #expect(token.payload["grants"]?.objectValue?["identity"] == .string("alice"))
        #expect(minted.jti == "SK0123456789abcdef0123456789abcdef-\(Self.now)")
        _ = try JWTVerifier(keys: [Self.genericKey, Self.twilioKey], issuer: nil).verify(minted.token, now: Self.now)
    }

    @Test func grantValuesWithAwkwardCharactersSurviveTheRoundTrip() throws {
        let awkward = "q\"uote \\ back\nslash \u{1} é 😀"
        let grants = JSONObject(["custom": .object(JSONObject([awkward: .string(awkward), "n": .number("1.5e3")]))])
        let minted = TokenMinter.mint(identity: awkward, grants: grants, ttl: 3600, now: Self.now, key: Self.genericKey, issuer: awkward)
        let payload = try decode(minted.token).payload
        #expect(payload["sub"] == .string(awkward))
        #expect(payload["iss"] == .string(awkward))
        #expect(payload["grants"]?.objectValue?["custom"] == .object(JSONObject([awkward: .string(awkward), "n": .number("1.5e3")])))
    }
}
