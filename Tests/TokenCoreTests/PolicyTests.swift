import Testing
@testable import TokenCore

struct TTLPolicyTests {
    @Test func clampsIntoTheWindowWithWarnings() {
        #expect(TTLPolicy.clamp(nil) == .init(ttl: 3600, warning: nil))
        #expect(TTLPolicy.clamp(60) == .init(ttl: 1800, warning: "ttl 60 raised to the minimum of 1800"))
        #expect(TTLPolicy.clamp(1800) == .init(ttl: 1800, warning: nil))
        #expect(TTLPolicy.clamp(86400) == .init(ttl: 86400, warning: nil))
        #expect(TTLPolicy.clamp(172_800) == .init(ttl: 86400, warning: "ttl 172800 lowered to the maximum of 86400"))
        #expect(TTLPolicy.clamp(30000, callerMaximum: 28800)
                == .init(ttl: 28800, warning: "ttl 30000 lowered to the caller's maximum of 28800"))
        #expect(TTLPolicy.clamp(nil, callerMaximum: 1800) == .init(ttl: 1800, warning: "ttl 3600 lowered to the caller's maximum of 1800"))
    }

    @Test func durations() throws {
        #expect(try DurationParser.seconds("3600") == 3600)
        #expect(try DurationParser.seconds("45s") == 45)
        #expect(try DurationParser.seconds("90m") == 5400)
        #expect(try DurationParser.seconds("2h") == 7200)
        #expect(try DurationParser.seconds("1d") == 86400)
        for bad in ["", "h", "2x", "-5m", "1.5h", "２h", "99999999999999999999d", "2 h"] {
            #expect(throws: DurationParser.InvalidDuration.self) { try DurationParser.seconds(bad) }
        }
    }
}

struct RequestValidationTests {
    func parse(_ json: String) throws(TokenRequestError) -> TokenRequest {
        try TokenRequest(json: Array(json.utf8))
    }

    @Test func acceptsTheDocumentedShape() throws {
        let request = try parse(#"{"identity": "alice", "ttl": 3600, "grants": {"data_sync": {"service_sid": "IS1"}}}"#)
        #expect(request.identity == "alice")
        #expect(request.ttl == 3600)
        #expect(request.grants?.objectValue?.keys == ["data_sync"])
        #expect(try parse(#"{"identity":"bob","ttl":null}"#).ttl == nil)
    }

    @Test(arguments: [
        (#"{"identity": "alice""#, TokenRequestError.Code.invalidJSON),
        (#"["alice"]"#, .invalidRequest),
        (#"{}"#, .invalidRequest),
        (#"{"identity": 5}"#, .invalidRequest),
        (#"{"identity": "alice", "tll": 60}"#, .invalidRequest),
        (#"{"identity": "alice", "ttl": 0}"#, .invalidRequest),
        (#"{"identity": "alice", "ttl": -5}"#, .invalidRequest),
        (#"{"identity": "alice", "ttl": 1.5}"#, .invalidRequest),
        (#"{"identity": "alice", "ttl": "3600"}"#, .invalidRequest),
        (#"{"identity": "alice", "identity": "root"}"#, .invalidJSON),
    ])
    func rejectsBadRequests(_ json: String, _ code: TokenRequestError.Code) {
        #expect { try parse(json) } throws: { ($0 as? TokenRequestError)?.code == code }
    }

    @Test func unknownFieldNamesAreSanitisedInMessages() {
        #expect { try parse("{\"identity\":\"a\",\"x\\u0000\\n\(String(repeating: "y", count: 100))\":1}") } throws: { error in
            let message = (error as? TokenRequestError)?.message ?? ""
            return !message.contains("\n") && !message.contains("\u{0}") && message.count < 120
        }
    }

    @Test func identityRules() throws {
        try IdentityRule.validate("alice@example.com")
        try IdentityRule.validate(String(repeating: "é", count: 256))
        #expect(throws: TokenRequestError.self) { try IdentityRule.validate(String(repeating: "a", count: 257)) }
        #expect(throws: TokenRequestError.self) { try IdentityRule.validate("") }
        #expect(throws: TokenRequestError.self) { try IdentityRule.validate("alice\nINFO forged log line") }
        #expect(throws: TokenRequestError.self) { try IdentityRule.validate("a\u{7f}") }
        #expect(throws: TokenRequestError.self) { try IdentityRule.validate("a\u{85}b") }  // NEL, a C1 control
        try IdentityRule.validate("a\u{a0}b")  // a no-break space is neither Cc nor Cf
        try IdentityRule.validate("名前 Ünïcödé 🙂")
        // The identity rules: format characters (bidi overrides and isolates, zero-width), line and
        // paragraph separators, noncharacters, and blank identities are refused.
        for identity in ["a\u{200b}", "admin\u{202e}nimda", "a\u{2066}b", "\u{feff}alice", "a\u{2028}b", "a\u{2029}b",
                         "a" + String(Unicode.Scalar(0xFDD0)!), "a" + String(Unicode.Scalar(0xFFFE)!),
                         "a" + String(Unicode.Scalar(0x10FFFF)!), " ", "\u{3000}\u{a0} "] {
            #expect(throws: TokenRequestError.self, "\(identity.unicodeScalars.map { String($0.value, radix: 16) })") {
                try IdentityRule.validate(identity)
            }
        }
        // The range check agrees with Unicode's general category over the BMP.
        for value in 0..<0x10000 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            #expect(IdentityRule.isControl(scalar) == (scalar.properties.generalCategory == .control))
        }
    }

    @Test func grantRules() throws {
        let allowed: Set<String> = ["data_sync", "chat"]
        let ok = try GrantRules.validate(.object(JSONObject(["chat": .object(JSONObject()), "data_sync": .object(JSONObject())])),
                                         allowed: allowed, twilioProfile: false)
        #expect(ok.keys == ["chat", "data_sync"])
        #expect(try GrantRules.validate(nil, allowed: allowed, twilioProfile: false).isEmpty)
        #expect(try GrantRules.validate(.null, allowed: allowed, twilioProfile: false).isEmpty)
        func code(_ grants: JSONValue, twilio: Bool = false) -> TokenRequestError.Code? {
            do {
                _ = try GrantRules.validate(grants, allowed: allowed, twilioProfile: twilio)
                return nil
            } catch { return error.code }
        }
        #expect(code(.object(JSONObject(["video": .object(JSONObject())]))) == .grantNotAllowed)
        #expect(code(.array([])) == .invalidRequest)
        #expect(code(.object(JSONObject(["chat": .string("x")]))) == .invalidRequest)
        #expect(code(.object(JSONObject(["identity": .object(JSONObject())]))) == .invalidRequest)
        #expect(code(.object(JSONObject(["chat": .object(JSONObject(["servce_sid": .string("IS1")]))])), twilio: true) == .invalidRequest)
        #expect(code(.object(JSONObject(["chat": .object(JSONObject(["servce_sid": .string("IS1")]))])), twilio: false) == nil)
    }

    @Test func grantSpecs() throws {
        let grants = try GrantSpec.parse(["data_sync:service_sid=IS1,endpoint_id=e", "voice:incoming.allow=true,outgoing.application_sid=AP1", "video"])
        #expect(JSONValue.object(grants).jsonText
                == #"{"data_sync":{"service_sid":"IS1","endpoint_id":"e"},"voice":{"incoming":{"allow":true},"outgoing":{"application_sid":"AP1"}},"video":{}}"#)
        for bad in [":x=1", "chat:x", "chat:=1", "chat:a=1,a=2", "chat:a..b=1", "chat:a=1,a.b=2"] {
            #expect(throws: GrantSpec.InvalidSpec.self) { try GrantSpec.parse([bad]) }
        }
        #expect(throws: GrantSpec.InvalidSpec.self) { try GrantSpec.parse(["chat", "chat"]) }
    }
}

struct TokenIssuerTests {
    static let secrets = try! Secrets(
        issuer: "tokend",
        signingKeys: [
            SigningKey(kid: "new", secret: "new-secret-0123456789abcdef-0123456789abcdef", profile: .generic, isActive: true),
            SigningKey(kid: "old", secret: "old-secret-0123456789abcdef-0123456789abcdef", profile: .generic, isActive: false),
        ],
        callers: [Caller(id: "web", apiKeySHA256: SHA256.hash("k"), grants: ["chat"], maxTTL: 7200, signingKeyID: "old")])

    @Test func callerPolicyApplies() throws {
        let issuer = TokenIssuer(secrets: Self.secrets)
        let caller = try #require(Self.secrets.caller(id: "web"))
        let issued = try issuer.issue(TokenRequest(identity: "alice", ttl: 86400, grants: .object(JSONObject(["chat": .object(JSONObject())]))),
                                      for: .caller(caller), now: 1000)
        #expect(issued.kid == "old")
        #expect(issued.ttl == 7200)
        #expect(issued.requestedTTL == 86400)
        #expect(issued.warnings == ["ttl 86400 lowered to the caller's maximum of 7200"])
        #expect(issued.grantNames == ["chat"])
        #expect(throws: TokenRequestError.self) {
            try issuer.issue(TokenRequest(identity: "alice", grants: .object(JSONObject(["video": .object(JSONObject())]))),
                             for: .caller(caller), now: 1000)
        }
    }

    @Test func operatorMayUseAnyGrantAndKey() throws {
        let issuer = TokenIssuer(secrets: Self.secrets)
        let issued = try issuer.issue(TokenRequest(identity: "alice", grants: .object(JSONObject(["video": .object(JSONObject())]))),
                                      for: .operator(keyID: nil), now: 1000)
        #expect(issued.kid == "new")
        #expect(try issuer.issue(TokenRequest(identity: "a"), for: .operator(keyID: "old"), now: 1000).kid == "old")
        #expect(throws: TokenRequestError.self) { try issuer.issue(TokenRequest(identity: "a"), for: .operator(keyID: "nope"), now: 1000) }
    }

    @Test func responseJSONHasTheDocumentedFields() throws {
        let issued = try TokenIssuer(secrets: Self.secrets).issue(TokenRequest(identity: "alice", ttl: 60), for: .operator(keyID: nil), now: 1_795_964_645)
        let object = try #require(try JSONParser.parse(issued.responseJSON()).objectValue)
        #expect(object.keys == ["token", "identity", "ttl", "expires_at", "jti", "kid", "warnings"])
        #expect(object["expires_at"] == .string("2026-11-29T15:34:05Z"))
        #expect(object["ttl"] == .number("1800"))
        #expect(object["warnings"] == .array([.string("ttl 60 raised to the minimum of 1800")]))
    }
}
