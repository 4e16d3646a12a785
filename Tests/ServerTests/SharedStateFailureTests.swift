import Foundation
import NIOCore
import Synchronization
import Testing
import TestSupport
import TokenCore

/// PostgreSQL failing under tokend: fail closed, recover by itself, and never print the password.
@Suite(.serialized)
struct SharedStateFailureTests {
    @Test func postgresStoppedUnderLoadMeans503AndNoTokenThenRecoveryWithoutRestart() async throws {
        // A server of its own: this test stops it.
        let postgres = try await PostgresServer.make()
        defer { postgres.stop() }
        let fixture = try await SharedStateFixture.make(postgres: postgres, secrets: SampleSecrets.unlimitedToml)
        let a = try await fixture.start("a", ["--database-timeout", "1"])
        let base = a.baseURL
        let tally = Tally()
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        while !Task.isCancelled {
                            guard let result = try? await HTTPTestClient.mint(base, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#,
                                                                              timeout: .seconds(5)) else { continue }
                            tally.add(result)
                            if result.status == 503 {
                                // No JWT in the body: a token would show its payload segment, ".eyJ" (a bare
                                // "eyJ" can occur by chance in the random request id).
                                #expect(result.errorCode == "audit_unavailable" && result.token == nil && !result.text.contains(".eyJ"))
                                try? await Task.sleep(for: .milliseconds(20))
                            }
                        }
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(800))
        postgres.stop()
        try await Task.sleep(for: .seconds(2))
        let during = try await HTTPTestClient.send("GET", base + "/readyz")
        #expect(during.status == 503)
        #expect(during.text.contains("PostgreSQL"), "\(during.text)")
        let refused = try await HTTPTestClient.mint(base, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#)
        #expect(refused.status == 503 && refused.token == nil)

        try postgres.start()
        // Recovers by itself: tokens again within a few seconds, same process.
        var recovered = false
        for _ in 0..<100 where !recovered {
            try await Task.sleep(for: .milliseconds(100))
            recovered = (try? await HTTPTestClient.mint(base, apiKey: SampleSecrets.apiKey, body: #"{"identity":"bob"}"#))?.status == 200
        }
        #expect(recovered)
        #expect(try await HTTPTestClient.send("GET", base + "/readyz").status == 200)
        // The outage is in the metrics (read while the server runs).
        let metrics = try await HTTPTestClient.send("GET", base + "/metrics")
        // Which statement meets the outage first depends on timing (a commit, the chain's head
        // re-read, a readiness ping): some database operation has an error series.
        #expect(metrics.text.split(separator: "\n").contains {
            $0.hasPrefix("tokend_database_operation_duration_seconds_count{") && $0.contains(#"result="error""#) && !$0.hasSuffix(" 0")
        })
        #expect(metrics.text.contains("tokend_database_operations_in_flight"))
        load.cancel()
        await load.value
        await a.stop()
        #expect(a.process.terminationStatus == 0)

        let counts = tally.statuses.withLock { $0 }
        #expect((counts[200] ?? 0) > 0 && (counts[503] ?? 0) > 0, "\(counts)")
        #expect(Set(counts.keys).isSubset(of: [200, 503]), "\(counts)")
        // No token without its record.
        let recorded = Set(try fixture.records("a").compactMap { $0["token_sha256"]?.stringValue })
        let answered = tally.tokens.withLock { $0 }
        #expect(answered.allSatisfy { recorded.contains(SHA256.hash($0).hex) })
        let verify = try fixture.tokend(["audit", "verify"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        // The password is nowhere: not in logs, errors, readiness answers or metrics.
        for text in [a.stdout, a.stderr, during.text, metrics.text] {
            #expect(!text.contains(PostgresServer.password))
            #expect(!text.contains(PostgresServer.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!))
        }
        #expect(a.stderr.contains("postgres://tokend:***@"))
    }

    @Test func thePasswordNeverAppearsInErrors() async throws {
        let postgres = try await PostgresServer.sharedServer()
        let wrong = postgres.url(database: "postgres").replacingOccurrences(of: "@127", with: "x@127")
        let migrate = try Executables.run(Executables.tokend, ["db", "migrate", "--database", wrong])
        #expect(migrate.status == 2)
        #expect(migrate.stderr.contains("password authentication failed"), "\(migrate.stderr)")
        let serve = try Executables.run(Executables.tokend, ["serve", "--dev", "--port", "0", "--database", "postgres://tokend:hunter2-secret@127.0.0.1:1/x?sslmode=disable",
                                                             "--database-timeout", "1", "--database-wait", "2"], environment: ["TOKEND_LOG_LEVEL": "error"])
        #expect(serve.status == 2)
        for result in [migrate, serve] {
            let all = result.stdout + result.stderr
            #expect(!all.contains(PostgresServer.password) && !all.contains("hunter2-secret"), "\(all)")
            #expect(!all.contains(PostgresServer.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!))
        }
        #expect(serve.stderr.contains("postgres://tokend:***@127.0.0.1:1/x"), "\(serve.stderr)")
    }

    @Test func tlsToPostgresAsTheURLAsks() async throws {
        let postgres = try await PostgresServer.sharedServer()
        let verified = try postgres.makeDatabase(query: "sslmode=verify-full&sslrootcert=\(postgres.certificatePath)")
        let ok = try Executables.run(Executables.tokend, ["db", "migrate", "--database", verified])
        #expect(ok.status == 0, "\(ok.stderr)")
        // The server's session is encrypted: PostgreSQL says so for the connection that asks (in
        // this test's database: other suites run instances named "a" on the same server).
        let fixture = try await SharedStateFixture.make(query: "sslmode=require")
        let a = try await fixture.start("a")
        #expect(try await HTTPTestClient.mint(a.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#).status == 200)
        let encrypted = try fixture.sql("SELECT bool_and(s.ssl) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'tokend/a' AND a.datname = '\(fixture.databaseName)'")
        #expect(encrypted.trimmingCharacters(in: .whitespacesAndNewlines) == "t", "\(encrypted)")
        await a.stop()
        // A certificate that the system does not trust is refused under verify-full.
        let untrusted = try postgres.makeDatabase(query: "sslmode=verify-full")
        let refused = try Executables.run(Executables.tokend, ["db", "migrate", "--database", untrusted, "--database-timeout", "2"])
        #expect(refused.status == 2, "\(refused.stdout)")
    }

    @Test func dbMigrateCreatesUpgradesAndRefusesANewerSchema() async throws {
        let fixture = try await SharedStateFixture.make()
        let first = try fixture.tokend(["db", "migrate"])
        #expect(first.status == 0 && first.stdout.contains("from version 0 to 5"), "\(first.stdout)\(first.stderr)")
        let second = try fixture.tokend(["db", "migrate"])
        #expect(second.status == 0 && second.stdout.contains("nothing to do"))
        // A database at version 1 that holds records is upgraded in place.
        _ = try fixture.sql("""
            DROP TABLE tokend_control; DROP TABLE tokend_quota; DROP TABLE tokend_quota_identities; DROP TABLE tokend_heartbeat;
            DROP FUNCTION tokend_quota_take; DROP TRIGGER tokend_audit_no_truncate ON tokend_audit;
            DROP TRIGGER tokend_audit_append_only ON tokend_audit; DROP PROCEDURE tokend_audit_append;
            CREATE TRIGGER tokend_audit_append_only BEFORE UPDATE ON tokend_audit FOR EACH ROW EXECUTE FUNCTION tokend_audit_append_only();
            DELETE FROM tokend_schema_migrations WHERE version > 1;
            INSERT INTO tokend_audit (instance, seq, line) VALUES ('a', 1, 'x')
            """)
        let upgrade = try fixture.tokend(["db", "migrate"])
        #expect(upgrade.status == 0 && upgrade.stdout.contains("from version 1 to 5"), "\(upgrade.stdout)\(upgrade.stderr)")
        #expect(try fixture.sql("SELECT count(*) FROM tokend_audit").contains("1"))
        #expect(throws: (any Error).self) { try fixture.sql("DELETE FROM tokend_audit") }
        _ = try fixture.sql("INSERT INTO tokend_schema_migrations (version, name) VALUES (99, 'from the future')")
        let newer = try fixture.tokend(["db", "migrate"])
        #expect(newer.status == 2 && newer.stderr.contains("newer than this tokend"), "\(newer.stderr)")
        let bad = try fixture.tokend(["db", "migrate", "--database", "mysql://x@y/z"])
        #expect(bad.status == 2 && bad.stderr.contains("postgres://"))
    }

    /// A chain edited to end at seq Int64.max: mints are refused (503) and /readyz says why; the
    /// process does not trap on the next seq.
    @Test func anAuditHeadAtTheEndOfTheRangeIsRefusedNotACrash() async throws {
        let fixture = try await SharedStateFixture.make()
        #expect(try fixture.tokend(["db", "migrate"]).status == 0)
        _ = try fixture.sql("INSERT INTO tokend_audit (instance, seq, line) VALUES ('a', 9223372036854775807, 'x')")
        let a = try await fixture.start("a")
        let mint = try await HTTPTestClient.mint(a.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#)
        #expect(mint.status == 503 && mint.token == nil)
        let ready = try await HTTPTestClient.send("GET", a.baseURL + "/readyz")
        #expect(ready.status == 503 && ready.text.contains("beyond what it can continue"), "\(ready.text)")
        #expect(a.process.isRunning)
        await a.stop()
    }

    /// Migrated by an administrator, served by a role that may only read and write rows.
    @Test func aServingRoleWithoutDDLRightsServesAMigratedSchema() async throws {
        let fixture = try await SharedStateFixture.make(secrets: ControlHTTPTests.secrets)
        #expect(try fixture.tokend(["db", "migrate"]).status == 0)
        let role = "app_\(UUID().uuidString.prefix(8).lowercased())"
        _ = try fixture.sql("CREATE ROLE \(role) LOGIN PASSWORD 'app-password-123'")
        _ = try fixture.sql("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        // Exactly what `tokend db grants` prints: the audit table may only be read and appended to.
        let grants = try fixture.tokend(["db", "grants", role])
        #expect(grants.status == 0 && grants.stdout.contains("GRANT SELECT, INSERT ON tokend_audit TO \"\(role)\";"), "\(grants.stdout)")
        _ = try fixture.sql(grants.stdout)
        let url = fixture.postgres.url(database: fixture.databaseName)
            .replacingOccurrences(of: "//\(PostgresServer.user):", with: "//\(role):")
            .replacingOccurrences(of: PostgresServer.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, with: "app-password-123")
        let a = try await SharedStateFixture.start("a", secretsPath: fixture.secretsPath, databaseURL: url)
        #expect(try await HTTPTestClient.mint(a.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#).status == 200)
        #expect(try await HTTPTestClient.mintSigned(a.baseURL, keyID: "web", secret: SampleSecrets.hmacSecret, body: #"{"identity":"alice"}"#).result.status == 200)
        let revoke = try await HTTPTestClient.send("POST", a.baseURL + "/v1/tokens/revoke",
                                                   headers: [("Authorization", "Bearer \(SampleSecrets.apiKey)"), ("Content-Type", "application/json")],
                                                   body: Array(#"{"identity":"alice"}"#.utf8))
        #expect(revoke.status == 200, "\(revoke.text)")
        #expect(try await HTTPTestClient.mint(a.baseURL, apiKey: ControlHTTPTests.quotaKey, body: #"{"identity":"alice"}"#).status == 200)
        await a.stop()
        // Every background job (the purges, the poll) had the rights it needed.
        #expect(!a.stderr.contains("failed") && !a.stderr.contains("permission denied"), "\(a.stderr)")
        // The serving role cannot remove records: no DELETE or TRUNCATE right (and the triggers).
        for statement in ["DELETE FROM tokend_audit", "TRUNCATE tokend_audit", "UPDATE tokend_audit SET line = line"] {
            #expect(throws: (any Error).self, "\(statement)") { try fixture.postgres.psql(statement, database: fixture.databaseName, as: (role, "app-password-123")) }
        }
        #expect(a.process.terminationStatus == 0, "\(a.stderr)")
    }
}

/// What a load loop saw: statuses by count, and every token it was given.
final class Tally: Sendable {
    let tokens = Mutex<[String]>([])
    let statuses = Mutex<[Int: Int]>([:])

    func add(_ result: HTTPResult) {
        statuses.withLock { $0[result.status, default: 0] += 1 }
        if let token = result.token { tokens.withLock { $0.append(token) } }
    }
}
