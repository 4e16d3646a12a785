import Foundation
import Testing
import TestSupport
import TokenCore

/// Revocations, blocks and quotas shared through PostgreSQL: two real `tokend serve` replicas on
/// one real database, over real sockets.
@Suite(.serialized) struct SharedControlTests {
    static func post(_ base: String, _ path: String, key: String, json: String) async throws -> HTTPResult {
        try await HTTPTestClient.send("POST", base + path, headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                                      body: Array(json.utf8))
    }

    static func introspect(_ base: String, _ token: String) async throws -> String {
        try await post(base, "/v1/tokens/introspect", key: ControlHTTPTests.resourceKey, json: #"{"token":"\#(token)"}"#).text
    }

    static func mint(_ base: String, key: String = SampleSecrets.apiKey, identity: String = "alice") async throws -> HTTPResult {
        try await HTTPTestClient.mint(base, apiKey: key, body: #"{"identity":"\#(identity)"}"#)
    }

    static func value(_ fixture: SharedStateFixture, _ query: String) throws -> String {
        try fixture.sql(query).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// How long until `check` holds, polling every 20 ms; nil if not within `limit` seconds.
    static func secondsUntil(limit: Double = 5, _ check: () async throws -> Bool) async throws -> Double? {
        let started = ContinuousClock.now
        while true {
            if try await check() {
                let elapsed = (ContinuousClock.now - started).components
                return Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
            }
            if ContinuousClock.now - started > .seconds(limit) { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func aRevocationAndABlockOnOneReplicaHoldOnTheOtherWithinASecond() async throws {
        let fixture = try await SharedStateFixture.make(secrets: ControlHTTPTests.secrets)
        let a = try await fixture.start("a")
        let b = try await fixture.start("b")
        let token = try unwrap(try await Self.mint(a.baseURL).token)
        #expect(try await Self.introspect(b.baseURL, token).contains(#""active":true"#))

        // Revoked on a: in force on a before the answer, on b within a second.
        let revoke = try await Self.post(a.baseURL, "/v1/tokens/revoke", key: SampleSecrets.apiKey, json: #"{"token":"\#(token)"}"#)
        #expect(revoke.status == 200, "\(revoke.text)")
        #expect(try await Self.introspect(a.baseURL, token) == #"{"active":false}"#)
        let revoked = try await Self.secondsUntil { try await Self.introspect(b.baseURL, token) == #"{"active":false}"# }
        #expect(try unwrap(revoked) <= 1.0, "the revocation took \(revoked ?? -1) s to reach the other replica")

        // Blocked on b: every mint on a refused within a second; unblocked on a: minted on b again.
        let victim = try unwrap(try await Self.mint(a.baseURL, identity: "mallory").token)
        let block = try await Self.post(b.baseURL, "/v1/identities/block", key: ControlHTTPTests.adminKey, json: #"{"identity":"mallory","reason":"abuse"}"#)
        #expect(block.status == 200, "\(block.text)")
        let blocked = try await Self.secondsUntil { try await Self.mint(a.baseURL, identity: "mallory").errorCode == "identity_blocked" }
        #expect(try unwrap(blocked) <= 1.0, "the block took \(blocked ?? -1) s to reach the other replica")
        #expect(try await Self.introspect(a.baseURL, victim) == #"{"active":false}"#)
        #expect(try await Self.post(a.baseURL, "/v1/identities/unblock", key: ControlHTTPTests.adminKey, json: #"{"identity":"mallory"}"#).status == 200)
        let unblocked = try await Self.secondsUntil { try await Self.mint(b.baseURL, identity: "mallory").status == 200 }
        #expect(try unwrap(unblocked) <= 1.0)
        // Tokens from before the unblock stay revoked, on both.
        #expect(try await Self.introspect(b.baseURL, victim) == #"{"active":false}"#)

        for server in [a, b] { #expect(!server.stderr.contains("failed"), "\(server.stderr)") }

        // kill -9 of both, a new replica: everything is still in force.
        await a.kill9()
        await b.kill9()
        let c = try await fixture.start("c")
        #expect(try await Self.introspect(c.baseURL, token) == #"{"active":false}"#)
        #expect(try await Self.introspect(c.baseURL, victim) == #"{"active":false}"#)
        #expect(try await Self.mint(c.baseURL, identity: "mallory").status == 200)
        await c.stop()

        // Each change is an audit record of the replica that made it.
        #expect(try fixture.records("a").contains { $0["event"] == .string("token.revoked") })
        #expect(try fixture.records("b").contains { $0["event"] == .string("identity.blocked") })
        #expect(try fixture.records("a").contains { $0["event"] == .string("identity.unblocked") })
        let verify = try fixture.tokend(["audit", "verify", "--secrets", fixture.secretsPath])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        print("propagation to the other replica: revocation \(revoked ?? -1) s, block \(blocked ?? -1) s, unblock \(unblocked ?? -1) s")
    }

    @Test func aQuotaHammeredThroughBothReplicasAdmitsExactlyItsCountAndSurvivesRestarts() async throws {
        let secrets = ControlHTTPTests.secrets.replacingOccurrences(of: "quota = \"5/day\"\nidentity_quota = \"2/day\"",
                                                                    with: "quota = \"40/day\"\nidentity_quota = \"3/day\"")
        let fixture = try await SharedStateFixture.make(secrets: secrets)
        let servers = [try await fixture.start("a"), try await fixture.start("b")]
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<120 {
                group.addTask { try await Self.mint(servers[index % 2].baseURL, key: ControlHTTPTests.quotaKey, identity: "user-\(index % 60)").status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count { $0 == 200 } == 40, "\(statuses)")
        #expect(statuses.count { $0 == 429 } == 80)

        // The per-identity quota counts across replicas too: 3 for one identity, whichever serves it.
        let fresh = try await SharedStateFixture.make(postgres: fixture.postgres, secrets: secrets)
        let pair = [try await fresh.start("c"), try await fresh.start("d")]
        let zoe = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<30 {
                group.addTask { try await Self.mint(pair[index % 2].baseURL, key: ControlHTTPTests.quotaKey, identity: "zoe").status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(zoe.count { $0 == 200 } == 3 && zoe.count { $0 == 429 } == 27, "\(zoe)")
        let fourth = try await Self.mint(pair[1].baseURL, key: ControlHTTPTests.quotaKey, identity: "zoe")
        #expect(fourth.status == 429 && fourth.json?["error"]?.objectValue?["quota"]?.stringValue == "3/day", "\(fourth.text)")
        #expect(fourth.header("Retry-After") != nil)

        // kill -9 of every replica: the counts are where they were.
        for server in servers + pair { await server.kill9() }
        let again = try await fixture.start("a")
        let refused = try await Self.mint(again.baseURL, key: ControlHTTPTests.quotaKey, identity: "someone-new")
        #expect(refused.status == 429 && refused.json?["error"]?.objectValue?["quota"]?.stringValue == "40/day", "the restart reset the quota: \(refused.text)")
        await again.stop()
        let metrics = try await { () async throws -> String in
            let server = try await fresh.start("c")
            defer { Task { await server.stop() } }
            #expect(try await Self.mint(server.baseURL, key: ControlHTTPTests.quotaKey, identity: "yann").status == 200)
            return try await HTTPTestClient.send("GET", server.baseURL + "/metrics").text
        }()
        #expect(metrics.contains(#"tokend_quota_used{caller="quota"} 4.0"#), "\(metrics.split(separator: "\n").filter { $0.contains("quota") })")
    }

    /// With the database down: a change or a quota count cannot be shared, so it is refused (503)
    /// and nothing changes; introspection and the block check go on from memory.
    @Test func withTheDatabaseDownChangesAndQuotaMintsFailClosedAndIntrospectionGoesOn() async throws {
        let postgres = try await PostgresServer.make()  // a server of its own: this test stops it
        defer { postgres.stop() }
        let fixture = try await SharedStateFixture.make(postgres: postgres, secrets: ControlHTTPTests.secrets)
        let a = try await fixture.start("a", ["--database-timeout", "1"])
        let token = try unwrap(try await Self.mint(a.baseURL).token)
        #expect(try await Self.post(a.baseURL, "/v1/identities/block", key: ControlHTTPTests.adminKey, json: #"{"identity":"mallory"}"#).status == 200)
        postgres.stop()

        let revoke = try await Self.post(a.baseURL, "/v1/tokens/revoke", key: ControlHTTPTests.adminKey, json: #"{"token":"\#(token)"}"#)
        #expect(revoke.status == 503, "\(revoke.text)")
        let counted = try await Self.mint(a.baseURL, key: ControlHTTPTests.quotaKey)
        #expect(counted.status == 503 && counted.token == nil, "\(counted.text)")
        #expect(try await Self.introspect(a.baseURL, token).contains(#""active":true"#))
        #expect(try await Self.mint(a.baseURL, key: ControlHTTPTests.adminKey, identity: "mallory").errorCode == "identity_blocked")

        try postgres.start()
        let recovered = try await Self.secondsUntil(limit: 10) { try await Self.mint(a.baseURL, key: ControlHTTPTests.quotaKey).status == 200 }
        #expect(recovered != nil)
        #expect(try await Self.introspect(a.baseURL, token).contains(#""active":true"#), "the refused revocation took effect")
        await a.stop()
    }

    /// What no longer matters is deleted: expired revocations, blocks an unblock lifted, the
    /// counts of ended windows (a replica purges at its first poll, then once a minute).
    @Test func theSharedTablesArePurged() async throws {
        let fixture = try await SharedStateFixture.make(secrets: ControlHTTPTests.secrets)
        let first = try await fixture.start("a")
        await first.stop()  // the schema exists now
        let now = WallClock.now()
        _ = try fixture.sql("""
            INSERT INTO tokend_control (line, block_identity, lifts_block, kept_until) VALUES
              ('{"e":"revoke_token","jti":"old","expires":\(now - 10)}', NULL, false, \(now - 10)),
              ('{"e":"revoke_token","jti":"live","expires":\(now + 600)}', NULL, false, \(now + 600)),
              ('{"e":"block","identity":"m","at":\(now - 5)}', 'm', false, NULL),
              ('{"e":"unblock","identity":"m","at":\(now - 4)}', 'm', true, \(now + 600)),
              ('{"e":"block","identity":"n","at":\(now - 3)}', 'n', false, NULL);
            INSERT INTO tokend_quota VALUES ('quota', '', \(now - 7200), 3600, 5), ('quota', 'x', \(now - 7200), 3600, 1), ('quota', '', \(now - 10), 3600, 2);
            UPDATE tokend_quota_identities SET live = 1;
            """)
        let server = try await fixture.start("a")
        let purged = try await Self.secondsUntil {
            try Self.value(fixture, "SELECT count(*) FROM tokend_control") == "3" && Self.value(fixture, "SELECT count(*) FROM tokend_quota") == "1"
        }
        let left = try fixture.sql("SELECT line FROM tokend_control") + fixture.sql("SELECT * FROM tokend_quota")
        #expect(purged != nil, "\(left)")
        #expect(try Self.value(fixture, "SELECT live FROM tokend_quota_identities") == "0")
        // The live revocation and n's block are still in force.
        #expect(try await Self.mint(server.baseURL, identity: "n").errorCode == "identity_blocked")
        #expect(try await Self.mint(server.baseURL, identity: "m").status == 200)
        await server.stop()
    }

    @Test func aFullSharedPerIdentityTableFailsClosed() async throws {
        let fixture = try await SharedStateFixture.make(secrets: ControlHTTPTests.secrets)
        let a = try await fixture.start("a", ["--identity-quota-capacity", "2"])
        let b = try await fixture.start("b", ["--identity-quota-capacity", "2"])
        #expect(try await Self.mint(a.baseURL, key: ControlHTTPTests.quotaKey, identity: "p").status == 200)
        #expect(try await Self.mint(b.baseURL, key: ControlHTTPTests.quotaKey, identity: "q").status == 200)
        let full = try await Self.mint(a.baseURL, key: ControlHTTPTests.quotaKey, identity: "r")
        #expect(full.status == 503 && full.errorCode == "quota_state_full", "\(full.text)")
        #expect(try await Self.mint(b.baseURL, key: ControlHTTPTests.quotaKey, identity: "p").status == 200)
        #expect(try await Self.mint(b.baseURL, identity: "r").status == 200)
        await a.stop()
        await b.stop()
    }
}
