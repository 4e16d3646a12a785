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

/// Twilio's grants checked as Twilio would check them, each refusal naming the field and the rule.
struct TwilioGrantsTests {
    static func sid(_ prefix: String) -> JSONValue { .string(prefix + "0123456789abcdef0123456789abcdef") }

    /// The refusal's message for one grant (nil: accepted).
    func refusal(_ name: String, _ fields: [String: JSONValue]) -> String? {
        do {
            try TwilioGrants.validate(name, JSONObject(fields.map { JSONObject.Member(key: $0.key, value: $0.value) }))
            return nil
        } catch { return error.message }
    }

    @Test func everyFieldOfEveryGrantIsAcceptedWhenRight() {
        #expect(refusal("data_sync", ["service_sid": Self.sid("IS"), "endpoint_id": .string("app:alice:phone")]) == nil)
        #expect(refusal("chat", ["service_sid": Self.sid("IS"), "endpoint_id": .string("e"), "deployment_role_sid": Self.sid("RL"),
                                 "push_credential_sid": Self.sid("CR")]) == nil)
        #expect(refusal("video", ["room": .string("stand-up room")]) == nil)
        #expect(refusal("voice", ["incoming": .object(JSONObject(["allow": .bool(true)])),
                                  "outgoing": .object(JSONObject(["application_sid": Self.sid("AP"), "params": .object(JSONObject(["to": .string("x")]))])),
                                  "push_credential_sid": Self.sid("CR"), "endpoint_id": .string("desk")]) == nil)
        #expect(refusal("task_router", ["workspace_sid": Self.sid("WS"), "worker_sid": Self.sid("WK"), "role": .string("worker")]) == nil)
        #expect(refusal("player", ["playbackUrl": .string("https://x"), "playerStreamerSid": Self.sid("VJ")]) == nil)
        #expect(refusal("data_sync", [:]) == nil)  // an empty grant, as twilio-python writes SyncGrant()
    }

    @Test(arguments: [
        ("data_sync", "service_sid", TwilioGrantsTests.sid("AP"), "data_sync.service_sid must be the SID of a Sync service: IS followed by 32 hex digits"),
        ("data_sync", "service_sid", JSONValue.string("IS123"), "data_sync.service_sid must be the SID of a Sync service"),
        ("data_sync", "service_sid", JSONValue.string("IS0123456789abcdef0123456789abcdeg"), "IS followed by 32 hex digits"),
        ("data_sync", "endpoint_id", JSONValue.string("has space"), "data_sync.endpoint_id must be 1 to 256 visible ASCII characters"),
        ("data_sync", "endpoint_id", JSONValue.string(""), "data_sync.endpoint_id must be"),
        ("chat", "push_credential_sid", TwilioGrantsTests.sid("AP"), "chat.push_credential_sid must be the SID of a push credential: CR"),
        ("chat", "deployment_role_sid", TwilioGrantsTests.sid("IS"), "chat.deployment_role_sid must be the SID of a role: RL"),
        ("video", "room", JSONValue.number("1"), "video.room must be a string of 1 to 256 characters"),
        ("voice", "push_credential_sid", TwilioGrantsTests.sid("AP"), "voice.push_credential_sid must be the SID of a push credential: CR"),
        ("voice", "incoming", JSONValue.bool(true), "voice.incoming must be an object"),
        ("voice", "incoming", JSONValue.object(JSONObject(["allow": .string("yes")])), "voice.incoming.allow must be true or false"),
        ("voice", "outgoing", JSONValue.object(JSONObject(["application_sid": TwilioGrantsTests.sid("CR")])), "voice.outgoing.application_sid must be the SID of a TwiML application: AP"),
        ("voice", "outgoing", JSONValue.object(JSONObject(["params": .object(JSONObject())])), "voice.outgoing.application_sid is required"),
        ("voice", "outgoing", JSONValue.object(JSONObject(["application_sid": TwilioGrantsTests.sid("AP"), "parms": .object(JSONObject())])), "grant 'voice.outgoing' has no field 'parms'"),
        ("task_router", "workspace_sid", TwilioGrantsTests.sid("WK"), "task_router.workspace_sid must be the SID of a TaskRouter workspace: WS"),
        ("task_router", "worker_sid", TwilioGrantsTests.sid("WS"), "task_router.worker_sid must be the SID of a TaskRouter worker: WK"),
        ("task_router", "role", JSONValue.string("boss"), "task_router.role must be one of worker, supervisor"),
        ("chat", "servce_sid", TwilioGrantsTests.sid("IS"), "grant 'chat' has no field 'servce_sid' (Twilio's fields: service_sid, endpoint_id, deployment_role_sid, push_credential_sid)"),
    ])
    func aWrongValueIsRefusedNamingTheFieldAndTheRule(grant: String, field: String, value: JSONValue, message: String) {
        let said = refusal(grant, [field: value])
        #expect(said?.contains(message) == true, "\(said ?? "accepted")")
    }

    @Test func unknownGrantsAndAnEmptyPlayerAreRefused() {
        #expect(refusal("data-sync", [:])?.contains("'data-sync' is not a Twilio grant (Twilio's grants: data_sync, chat, video, voice, task_router, player)") == true)
        #expect(refusal("player", [:])?.contains("PlaybackGrant") == true)
    }

    /// With a voice grant, the identity must be a client name Twilio Voice takes (error 31105).
    @Test func theVoiceIdentityRuleAppliesWithAVoiceGrantOnly() throws {
        let secrets = try Secrets(issuer: "t", signingKeys: [TokenProfileTests.twilioKey.asActive], callers: [])
        let issuer = TokenIssuer(secrets: secrets)
        let voice = JSONValue.object(JSONObject(["voice": .object(JSONObject(["incoming": .object(JSONObject(["allow": .bool(true)]))]))]))
        let sync = JSONValue.object(JSONObject(["data_sync": .object(JSONObject())]))
        func issue(_ identity: String, _ grants: JSONValue) -> String? {
            do {
                _ = try issuer.issue(TokenRequest(identity: identity, grants: grants), for: .operator(keyID: nil), now: TokenProfileTests.now)
                return nil
            } catch { return error.message }
        }
        #expect(issue("alice_smith", voice) == nil)
        for refused in ["alice smith", "a<b", "50%", "x#y", "q\"", "{x}", "a|b", "back\\slash", "^", "[x]", "`"] {
            #expect(issue(refused, voice)?.contains("not a valid Twilio Voice client name") == true, "\(refused)")
            #expect(issue(refused, sync) == nil, "\(refused) without a voice grant")
        }
    }

    @Test func aRegionBecomesTheTwrHeader() throws {
        let key = SigningKey(kid: "SK0123456789abcdef0123456789abcdef", secret: "twilio-api-key-secret-0123456789ab",
                             profile: .twilio(accountSID: "AC0123456789abcdef0123456789abcdef", region: "ie1"), isActive: true)
        let minted = TokenMinter.mint(identity: "alice", grants: JSONObject(), ttl: 3600, now: TokenProfileTests.now, key: key, issuer: "ignored")
        #expect(JSONValue.object(try DecodedJWT(minted.token).header).jsonText == #"{"alg":"HS256","typ":"JWT","cty":"twilio-fpa;v=1","twr":"ie1"}"#)
        _ = try JWTVerifier(keys: [key], issuer: nil).verify(minted.token, now: TokenProfileTests.now)
    }
}

extension SigningKey {
    var asActive: SigningKey { SigningKey(kid: kid, secret: "twilio-api-key-secret-0123456789ab", profile: profile, isActive: true) }
}

struct TwilioRegionLoadingTests {
    func load(_ extra: String, profile: String = "twilio") -> String? {
        let toml = """
        [[signing_keys]]
        kid = "SK0123456789abcdef0123456789abcdef"
        secret = "twilio-api-key-secret-0123456789ab"
        \(profile == "twilio" ? "account_sid = \"AC0123456789abcdef0123456789abcdef\"" : "")
        profile = "\(profile)"
        active = true
        \(extra)
        """
        do {
            let secrets = try SecretsLoader.parse(toml: toml)
            if case .twilio(_, let region) = secrets.activeKey.profile { return "loaded, region \(region ?? "none")" }
            return "loaded"
        } catch { return "\(error)" }
    }

    @Test func aRegionLoadsAndAnUnknownOneIsAnError() {
        #expect(load(#"region = "ie1""#) == "loaded, region ie1")
        #expect(load("") == "loaded, region none")
        #expect(load(#"region = "eu1""#)?.contains("region must be one of Twilio's regions: au1, br1, de1, ie1, in1, jp1, sg1, us1, us2") == true)
        #expect(load(#"region = "ie1""#, profile: "generic")?.contains(#"region is only for profile = "twilio""#) == true)
    }
}
