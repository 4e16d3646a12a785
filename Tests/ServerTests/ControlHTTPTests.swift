import Foundation
import Testing
import TestSupport
import TokenCore

/// Revocation, introspection, identity blocks, quotas and permissions over real sockets, against
/// a real `tokend serve` with its state journal on disk.
@Suite struct ControlHTTPTests {
    static let resourceKey = "tkd_resource-server-key-for-tests-only"
    static let adminKey = "tkd_admin-caller-key-for-the-tests-only"
    static let otherKey = "tkd_other-caller-key-for-the-tests-only1"
    static let quotaKey = "tkd_quota-caller-key-for-the-tests-only1"

    /// The sample file plus a resource server, an administrator, a second minter and a caller with quotas.
    static var secrets: String {
        SampleSecrets.unlimitedToml + """

        [[callers]]
        id = "resource"
        api_key_sha256 = "\(KeyMaterial.apiKeySHA256Hex(resourceKey))"
        permissions = ["introspect"]

        [[callers]]
        id = "admin"
        api_key_sha256 = "\(KeyMaterial.apiKeySHA256Hex(adminKey))"
        grants = ["chat"]
        permissions = ["mint", "revoke_any", "block", "introspect"]

        [[callers]]
        id = "other"
        api_key_sha256 = "\(KeyMaterial.apiKeySHA256Hex(otherKey))"
        grants = ["chat"]

        [[callers]]
        id = "quota"
        api_key_sha256 = "\(KeyMaterial.apiKeySHA256Hex(quotaKey))"
        grants = ["chat"]
        quota = "5/day"
        identity_quota = "2/day"

        """
    }

    static func post(_ fixture: Fixture, _ path: String, key: String, json: String) async throws -> HTTPResult {
        try await HTTPTestClient.send("POST", fixture.base + path, headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                                      body: Array(json.utf8))
    }

    static func introspect(_ fixture: Fixture, _ token: String) async throws -> JSONObject {
        let result = try await post(fixture, "/v1/tokens/introspect", key: resourceKey, json: #"{"token":"\#(token)"}"#)
        #expect(result.status == 200, "\(result.text)")
        return try unwrap(result.json)
    }

    static func mint(_ fixture: Fixture, key: String = SampleSecrets.apiKey, identity: String = "alice") async throws -> HTTPResult {
        try await fixture.mint(#"{"identity":"\#(identity)"}"#, apiKey: key)
    }

    @Test func permissionsDecideWhatACallerMayDoAndRefusalsAreAudited() async throws {
        let fixture = try await Fixture.start(secrets: Self.secrets)
        let token = try unwrap(try await Self.mint(fixture).token)
        // A resource server may introspect and nothing else.
        let refused = try await Self.mint(fixture, key: Self.resourceKey)
        #expect(refused.status == 403 && refused.errorCode == "permission_denied", "\(refused.text)")
        #expect(refused.errorMessage?.contains("\"mint\"") == true)
        // A minter may not introspect, nor block.
        let notIntrospect = try await Self.post(fixture, "/v1/tokens/introspect", key: SampleSecrets.apiKey, json: #"{"token":"\#(token)"}"#)
        #expect(notIntrospect.status == 403 && notIntrospect.errorCode == "permission_denied")
        let notBlock = try await Self.post(fixture, "/v1/identities/block", key: SampleSecrets.apiKey, json: #"{"identity":"bob"}"#)
        #expect(notBlock.status == 403 && notBlock.errorCode == "permission_denied")
        await fixture.server.stop()
        let denials = try fixture.auditRecords().filter { $0["reason"]?.stringValue == "permission_denied" }
        #expect(denials.map { $0["caller"]?.stringValue } == ["resource", "web", "web"])
    }

    @Test func introspectionAnswersTheClaimsOrInactiveAndNothingElse() async throws {
        let fixture = try await Fixture.start(secrets: Self.secrets)
        let token = try unwrap(try await Self.mint(fixture).token)
        let active = try await Self.introspect(fixture, token)
        #expect(active["active"] == .bool(true))
        #expect(active["sub"]?.stringValue == "alice")
        #expect(active["client_id"]?.stringValue == "web")
        #expect(active["iss"]?.stringValue == "tokend-test")
        #expect(active["kid"]?.stringValue == "2026-11")
        #expect(active["token_type"]?.stringValue == "access_token")
        #expect(active["grants"]?.objectValue?["identity"]?.stringValue == "alice")
        for name in ["iat", "nbf", "exp", "jti"] { #expect(active[name] != nil, "\(name) missing") }

        // RFC 7662's form body works too.
        let form = try await HTTPTestClient.send("POST", fixture.base + "/v1/tokens/introspect",
                                                 headers: [("Authorization", "Bearer \(Self.resourceKey)"), ("Content-Type", "application/x-www-form-urlencoded")],
                                                 body: Array("token=\(token)&token_type_hint=access_token".utf8))
        #expect(form.json?["active"] == .bool(true), "\(form.text)")

        // Anything not valid now: exactly {"active":false}.
        let foreignKey = SigningKey(kid: "2026-11", secret: "another-secret-that-is-long-enough-0123456789", profile: .generic, isActive: true)
        let forged = TokenMinter.mint(identity: "alice", grants: JSONObject(), ttl: 3600, now: WallClock.now(), key: foreignKey, issuer: "tokend-test").token
        let expired = TokenMinter.mint(identity: "alice", grants: JSONObject(), ttl: 1800, now: WallClock.now() - 1801,
                                       key: SigningKey(kid: "2026-11", secret: SampleSecrets.genericSecret, profile: .generic, isActive: true), issuer: "tokend-test").token
        for bad in [forged, expired, "not-a-token", token + "x", ""] {
            let answer = try await Self.post(fixture, "/v1/tokens/introspect", key: Self.resourceKey, json: #"{"token":"\#(bad)"}"#)
            #expect(answer.status == 200 && answer.text == #"{"active":false}"#, "\(answer.text)")
        }
        // Introspection changes nothing, so it is not audited: only the mint is on record.
        await fixture.server.stop()
        #expect(try fixture.auditRecords().map { $0["event"]?.stringValue } == ["token.issued"])
    }

    @Test func revokeByTokenJTIAndIdentityAndTheRFC7009Answers() async throws {
        let fixture = try await Fixture.start(secrets: Self.secrets)
        let first = try unwrap(try await Self.mint(fixture).token)
        let second = try await Self.mint(fixture)
        let third = try unwrap(try await Self.mint(fixture, identity: "carol").token)
        let keep = try unwrap(try await Self.mint(fixture, identity: "dave").token)

        // By token, as RFC 7009's form.
        let byForm = try await HTTPTestClient.send("POST", fixture.base + "/v1/tokens/revoke",
                                                   headers: [("Authorization", "Bearer \(SampleSecrets.apiKey)"), ("Content-Type", "application/x-www-form-urlencoded")],
                                                   body: Array("token=\(first)".utf8))
        #expect(byForm.status == 200 && byForm.text == #"{"revoked":true}"#, "\(byForm.text)")
        #expect(try await Self.introspect(fixture, first)["active"] == .bool(false))
        // By jti.
        let jti = try unwrap(second.json?["jti"]?.stringValue)
        #expect(try await Self.post(fixture, "/v1/tokens/revoke", key: SampleSecrets.apiKey, json: #"{"jti":"\#(jti)"}"#).status == 200)
        #expect(try await Self.introspect(fixture, try unwrap(second.token))["active"] == .bool(false))
        // By identity: every token for carol issued until now; a later one is not affected.
        #expect(try await Self.post(fixture, "/v1/tokens/revoke", key: SampleSecrets.apiKey, json: #"{"identity":"carol"}"#).status == 200)
        #expect(try await Self.introspect(fixture, third)["active"] == .bool(false))
        try await Task.sleep(for: .milliseconds(1100))
        let later = try unwrap(try await Self.mint(fixture, identity: "carol").token)
        #expect(try await Self.introspect(fixture, later)["active"] == .bool(true))
        #expect(try await Self.introspect(fixture, keep)["active"] == .bool(true))

        // Unknown and invalid tokens: 200, as RFC 7009 §2.2 says.
        let invalid = try await Self.post(fixture, "/v1/tokens/revoke", key: SampleSecrets.apiKey, json: #"{"token":"garbage"}"#)
        #expect(invalid.status == 200 && invalid.text == #"{"revoked":true}"#)
        // Bad requests change nothing and say why.
        for body in [#"{}"#, #"{"jti":"a","identity":"b"}"#, #"{"identity":"carol","issued_before":"yesterday"}"#,
                     #"{"identity":"carol","issued_before":"2999-01-01T00:00:00Z"}"#, #"{"jti":7}"#, #"[1]"#] {
            let answer = try await Self.post(fixture, "/v1/tokens/revoke", key: SampleSecrets.apiKey, json: body)
            #expect(answer.status == 400 && answer.errorCode == "invalid_request", "\(body): \(answer.text)")
        }
        #expect(try await Self.introspect(fixture, keep)["active"] == .bool(true))
        await fixture.server.stop()
        let revoked = try fixture.auditRecords().filter { $0["event"]?.stringValue == "token.revoked" }
        #expect(revoked.count == 4)
        #expect(revoked.allSatisfy { $0["caller"]?.stringValue == "web" && $0["status"]?.integerValue == 200 })
        #expect(!(try String(contentsOfFile: fixture.auditPath, encoding: .utf8)).contains(first), "a token was written to the audit log")
    }

    @Test func aCallerRevokesOnlyItsOwnTokensUnlessItMayRevokeAny() async throws {
        let fixture = try await Fixture.start(secrets: Self.secrets)
        let webToken = try unwrap(try await Self.mint(fixture).token)
        let otherToken = try unwrap(try await Self.mint(fixture, key: Self.otherKey).token)
        // "other" may not revoke web's token by token…
        let refused = try await Self.post(fixture, "/v1/tokens/revoke", key: Self.otherKey, json: #"{"token":"\#(webToken)"}"#)
        #expect(refused.status == 403 && refused.errorCode == "permission_denied", "\(refused.text)")
        // …and its identity revocation touches only its own tokens.
        #expect(try await Self.post(fixture, "/v1/tokens/revoke", key: Self.otherKey, json: #"{"identity":"alice"}"#).status == 200)
        #expect(try await Self.introspect(fixture, webToken)["active"] == .bool(true))
        #expect(try await Self.introspect(fixture, otherToken)["active"] == .bool(false))
        // An administrator with revoke_any revokes anyone's.
        #expect(try await Self.post(fixture, "/v1/tokens/revoke", key: Self.adminKey, json: #"{"token":"\#(webToken)"}"#).status == 200)
        #expect(try await Self.introspect(fixture, webToken)["active"] == .bool(false))
        await fixture.server.stop()
    }

    @Test func aBlockStopsEveryCallersMintsAndEndsTheIdentitysTokens() async throws {
        let fixture = try await Fixture.start(secrets: Self.secrets)
        let before = try unwrap(try await Self.mint(fixture, identity: "mallory").token)
        let blocked = try await Self.post(fixture, "/v1/identities/block", key: Self.adminKey,
                                          json: #"{"identity":"mallory","reason":"card testing","until":"2999-01-01T00:00:00Z"}"#)
        #expect(blocked.status == 200, "\(blocked.text)")
        #expect(blocked.json?["until"]?.stringValue == "2999-01-01T00:00:00Z")
        for key in [SampleSecrets.apiKey, Self.otherKey, Self.adminKey] {
            let refused = try await Self.mint(fixture, key: key, identity: "mallory")
            #expect(refused.status == 403 && refused.errorCode == "identity_blocked", "\(refused.text)")
        }
        #expect(try await Self.introspect(fixture, before)["active"] == .bool(false))
        #expect(try await Self.mint(fixture, identity: "alice").status == 200)

        #expect(try await Self.post(fixture, "/v1/identities/unblock", key: Self.adminKey, json: #"{"identity":"mallory"}"#).status == 200)
        try await Task.sleep(for: .milliseconds(1100))
        let after = try await Self.mint(fixture, identity: "mallory")
        #expect(after.status == 200)
        #expect(try await Self.introspect(fixture, try unwrap(after.token))["active"] == .bool(true))
        // Tokens from before the block stay revoked.
        #expect(try await Self.introspect(fixture, before)["active"] == .bool(false))
        for body in [#"{"identity":"x","until":"2000-01-01T00:00:00Z"}"#, #"{"until":"2999-01-01T00:00:00Z"}"#, #"{"identity":"x","reason":"a\u0000b"}"#] {
            let answer = try await Self.post(fixture, "/v1/identities/block", key: Self.adminKey, json: body)
            #expect(answer.status == 400, "\(body): \(answer.text)")
        }
        await fixture.server.stop()
        let events = try fixture.auditRecords().compactMap { $0["event"]?.stringValue }
        #expect(events.contains("identity.blocked") && events.contains("identity.unblocked"))
        let record = try unwrap(try fixture.auditRecords().first { $0["event"]?.stringValue == "identity.blocked" })
        #expect(record["reason"]?.stringValue == "card testing" && record["until"]?.stringValue == "2999-01-01T00:00:00Z")
    }

    @Test func quotasRefuseBeyondTheirCountWithRetryAfterAndSurviveAKill() async throws {
        let fixture = try await Fixture.start(secrets: Self.secrets)
        // identity_quota 2/day: a third token for alice is refused, other identities go on.
        for _ in 0..<2 { #expect(try await Self.mint(fixture, key: Self.quotaKey, identity: "alice").status == 200) }
        let perIdentity = try await Self.mint(fixture, key: Self.quotaKey, identity: "alice")
        #expect(perIdentity.status == 429 && perIdentity.errorCode == "quota_exceeded", "\(perIdentity.text)")
        #expect(perIdentity.json?["error"]?.objectValue?["quota"]?.stringValue == "2/day")
        let now = WallClock.now()
        let midnight = now - now % 86400 + 86400
        #expect(perIdentity.json?["error"]?.objectValue?["resets_at"]?.stringValue == Timestamp.rfc3339(unixSeconds: midnight))
        let retryAfter = try unwrap(perIdentity.header("Retry-After").flatMap(Int.init))
        #expect(abs(retryAfter - (midnight - now)) <= 2)
        #expect(try await Self.mint(fixture, key: Self.quotaKey, identity: "bob").status == 200)
        #expect(try await Self.mint(fixture, key: Self.quotaKey, identity: "carol").status == 200)
        let metrics = try await HTTPTestClient.send("GET", fixture.base + "/metrics")
        #expect(metrics.text.contains(#"tokend_quota_used{caller="quota"} 4.0"#), "\(metrics.text.split(separator: "\n").filter { $0.contains("quota") })")
        #expect(metrics.text.contains(#"tokend_quota_limit{caller="quota"} 5"#))

        // kill -9, restart: the counts are where they were.
        await fixture.server.kill9()
        let restarted = try await ServerProcess(["--secrets", fixture.secretsPath, "--port", "0", "--audit-log", fixture.auditPath, "--state-file", fixture.statePath])
        let again = try await HTTPTestClient.mint(restarted.baseURL, apiKey: Self.quotaKey, body: #"{"identity":"alice"}"#)
        #expect(again.status == 429 && again.errorCode == "quota_exceeded", "the restart reset the identity quota: \(again.text)")
        #expect(try await HTTPTestClient.mint(restarted.baseURL, apiKey: Self.quotaKey, body: #"{"identity":"dave"}"#).status == 200)
        // quota 5/day: the sixth token of the day is refused, whatever the identity.
        let perCaller = try await HTTPTestClient.mint(restarted.baseURL, apiKey: Self.quotaKey, body: #"{"identity":"erin"}"#)
        #expect(perCaller.status == 429 && perCaller.json?["error"]?.objectValue?["quota"]?.stringValue == "5/day", "\(perCaller.text)")
        #expect(restarted.stderr.contains("passed 80 % of its quota"))
        await restarted.stop()
    }

    @Test func concurrentMintsAdmitExactlyTheQuota() async throws {
        let fixture = try await Fixture.start(secrets: Self.secrets.replacingOccurrences(of: "quota = \"5/day\"\nidentity_quota = \"2/day\"", with: "quota = \"40/day\""))
        let base = fixture.base
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<120 {
                group.addTask { try await HTTPTestClient.mint(base, apiKey: Self.quotaKey, body: #"{"identity":"user-\#(index)"}"#).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count { $0 == 200 } == 40)
        #expect(statuses.count { $0 == 429 } == 80)
        await fixture.server.stop()
    }

    /// A large quota is reserved in steps: a clean stop keeps the exact count, kill -9 at most
    /// the reserved one (higher: fail closed), never a lower count.
    @Test func aLargeQuotaIsExactAfterACleanStopAndNeverLowerAfterACrash() async throws {
        let fixture = try await Fixture.start(secrets: Self.secrets.replacingOccurrences(of: "quota = \"5/day\"\nidentity_quota = \"2/day\"", with: "quota = \"1000/day\""))
        for index in 0..<3 { #expect(try await Self.mint(fixture, key: Self.quotaKey, identity: "u\(index)").status == 200) }
        #expect(await fixture.server.stop() == 0)
        func used(_ server: ServerProcess) async throws -> Double? {
            try await HTTPTestClient.send("GET", server.baseURL + "/metrics").text.split(separator: "\n")
                .first { $0.hasPrefix(#"tokend_quota_used{caller="quota"}"#) }.flatMap { Double($0.split(separator: " ").last!) }
        }
        let arguments = ["--secrets", fixture.secretsPath, "--port", "0", "--audit-log", fixture.auditPath, "--state-file", fixture.statePath]
        let clean = try await ServerProcess(arguments)
        #expect(try await used(clean) == 3)
        #expect(try await HTTPTestClient.mint(clean.baseURL, apiKey: Self.quotaKey, body: #"{"identity":"u9"}"#).status == 200)
        await clean.kill9()
        let crashed = try await ServerProcess(arguments)
        #expect(try await used(crashed) == 13, "after a crash the reservation counts: the 4th token reserved up to 4 + 10 - 1")
        await crashed.stop()
    }

    @Test func aFullPerIdentityTableFailsClosed() async throws {
        let fixture = try await Fixture.start(["--identity-quota-capacity", "2"], secrets: Self.secrets)
        #expect(try await Self.mint(fixture, key: Self.quotaKey, identity: "a").status == 200)
        #expect(try await Self.mint(fixture, key: Self.quotaKey, identity: "b").status == 200)
        let full = try await Self.mint(fixture, key: Self.quotaKey, identity: "c")
        #expect(full.status == 503 && full.errorCode == "quota_state_full", "\(full.text)")
        // Identities already counted go on; callers without an identity quota are not affected.
        #expect(try await Self.mint(fixture, key: Self.quotaKey, identity: "a").status == 200)
        #expect(try await Self.mint(fixture, identity: "c").status == 200)
        await fixture.server.stop()
    }

    @Test func aRevocationAndABlockSurviveKillMinus9() async throws {
        let fixture = try await Fixture.start(secrets: Self.secrets)
        let token = try unwrap(try await Self.mint(fixture).token)
        #expect(try await Self.post(fixture, "/v1/tokens/revoke", key: SampleSecrets.apiKey, json: #"{"token":"\#(token)"}"#).status == 200)
        #expect(try await Self.post(fixture, "/v1/identities/block", key: Self.adminKey, json: #"{"identity":"mallory"}"#).status == 200)
        await fixture.server.kill9()
        let restarted = try await ServerProcess(["--secrets", fixture.secretsPath, "--port", "0", "--audit-log", fixture.auditPath, "--state-file", fixture.statePath])
        let answer = try await HTTPTestClient.send("POST", restarted.baseURL + "/v1/tokens/introspect",
                                                   headers: [("Authorization", "Bearer \(Self.resourceKey)"), ("Content-Type", "application/json")],
                                                   body: Array(#"{"token":"\#(token)"}"#.utf8))
        #expect(answer.text == #"{"active":false}"#)
        let blocked = try await HTTPTestClient.mint(restarted.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"mallory"}"#)
        #expect(blocked.errorCode == "identity_blocked")
        await restarted.stop()
        let verify = try Executables.run(Executables.tokend, ["audit", "verify", fixture.auditPath])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
    }

    @Test func theCLICommandsCallTheService() async throws {
        let fixture = try await Fixture.start(secrets: Self.secrets)
        let token = try unwrap(try await Self.mint(fixture).token)
        let call = ["--url", fixture.base]
        let active = try Executables.run(Executables.tokend, ["introspect"] + call + ["--api-key", Self.resourceKey, token])
        #expect(active.status == 0 && active.stdout.contains(#""active":true"#), "\(active.stdout)\(active.stderr)")
        let revoke = try Executables.run(Executables.tokend, ["revoke"] + call + ["--key-id", "web", "--hmac-secret", SampleSecrets.hmacSecret, "--token", token])
        #expect(revoke.status == 0 && revoke.stdout.contains(#""revoked":true"#), "\(revoke.stdout)\(revoke.stderr)")
        let inactive = try Executables.run(Executables.tokend, ["introspect"] + call + ["--api-key", Self.resourceKey, token])
        #expect(inactive.status == 1 && inactive.stdout.contains(#"{"active":false}"#), "\(inactive.stdout)\(inactive.stderr)")
        let block = try Executables.run(Executables.tokend, ["block"] + call + ["--api-key", Self.adminKey, "--identity", "mallory", "--reason", "abuse"])
        #expect(block.status == 0, "\(block.stderr)")
        #expect(try await Self.mint(fixture, identity: "mallory").errorCode == "identity_blocked")
        let unblock = try Executables.run(Executables.tokend, ["unblock"] + call + ["--api-key", Self.adminKey, "--identity", "mallory"])
        #expect(unblock.status == 0, "\(unblock.stderr)")
        let denied = try Executables.run(Executables.tokend, ["block"] + call + ["--api-key", SampleSecrets.apiKey, "--identity", "x"])
        #expect(denied.status == 1 && denied.stderr.contains("permission"), "\(denied.stderr)")
        let usage = try Executables.run(Executables.tokend, ["revoke"] + call + ["--api-key", SampleSecrets.apiKey])
        #expect(usage.status == 2)
        await fixture.server.stop()
    }

    /// Ending live Twilio tokens: a new API key, then the old one removed — one reload each.
    @Test func twilioKeyRotationEndsTheOldTokens() async throws {
        let newKid = "SK" + String(repeating: "ab", count: 16)
        let twilioWeb = Self.secrets.replacingOccurrences(of: "max_ttl = 28800", with: "max_ttl = 28800\nsigning_key = \"\(SampleSecrets.twilioKid)\"")
        let fixture = try await Fixture.start(secrets: twilioWeb)
        let old = try unwrap(try await Self.mint(fixture).token)
        #expect(try await Self.introspect(fixture, old)["iss"]?.stringValue == SampleSecrets.twilioKid)

        // Step 2: the new key beside the old one; the caller signs with it.
        let newKey = """

        [[signing_keys]]
        kid = "\(newKid)"
        secret = "the-new-twilio-api-key-secret-0123456789"
        account_sid = "\(SampleSecrets.accountSID)"
        profile = "twilio"

        """
        let rotated = Self.secrets.replacingOccurrences(of: "max_ttl = 28800", with: "max_ttl = 28800\nsigning_key = \"\(newKid)\"")
            .replacingOccurrences(of: "[[callers]]\nid = \"web\"", with: newKey + "[[callers]]\nid = \"web\"")
        try await Self.reload(fixture, rotated, count: 1)
        let new = try unwrap(try await Self.mint(fixture).token)
        #expect(try await Self.introspect(fixture, new)["iss"]?.stringValue == newKid)
        #expect(try await Self.introspect(fixture, old)["active"] == .bool(true), "the old key still verifies until it is removed")

        // Step 3: the old key removed: its tokens are no longer accepted.
        let withoutOld = rotated.replacingOccurrences(of: """
        [[signing_keys]]
        kid = "\(SampleSecrets.twilioKid)"
        secret = "\(SampleSecrets.twilioSecret)"
        account_sid = "\(SampleSecrets.accountSID)"
        profile = "twilio"

        """, with: "")
        #expect(withoutOld != rotated)
        try await Self.reload(fixture, withoutOld, count: 2)
        #expect(try await Self.introspect(fixture, old)["active"] == .bool(false))
        #expect(try await Self.introspect(fixture, new)["active"] == .bool(true))
        let verify = try Executables.run(Executables.tokend, ["verify", "--secrets", fixture.secretsPath, old])
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
        await fixture.server.stop()
    }

    static func reload(_ fixture: Fixture, _ secrets: String, count: Int) async throws {
        try Data(secrets.utf8).write(to: URL(fileURLWithPath: fixture.secretsPath))
        fixture.server.signal(SIGHUP)
        let deadline = Date().addingTimeInterval(20)
        while fixture.server.stderr.components(separatedBy: "secrets reloaded").count - 1 < count {
            guard Date() < deadline else { throw ReloadTimedOut(stderr: fixture.server.stderr) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    struct ReloadTimedOut: Error { let stderr: String }
}
