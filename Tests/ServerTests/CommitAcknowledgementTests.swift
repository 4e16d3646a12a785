import Foundation
import Testing
import TestSupport
import TokenCore

/// A token is answered only once its audit record's transaction has committed, not when the
/// INSERT itself completed. In PostgreSQL's extended protocol an implicit transaction commits
/// after the statement's CommandComplete, and that message can reach the client first: the
/// server flushes it with a refusal at COMMIT time, or with the notice of a backend killed by an
/// immediate shutdown or another backend's crash, while a synchronous standby has not confirmed.
/// A deferred constraint trigger that raises at COMMIT makes that moment certain.
@Suite(.serialized) struct CommitAcknowledgementTests {
    @Test func aRecordRefusedAtCommitIsNoToken() async throws {
        let fixture = try await SharedStateFixture.make()
        let a = try await fixture.start("a")
        func mint() async throws -> HTTPResult {
            try await HTTPTestClient.mint(a.baseURL, apiKey: SampleSecrets.apiKey, body: #"{"identity":"alice"}"#)
        }
        #expect(try await mint().status == 200)
        try fixture.sql("""
            CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
            CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON tokend_audit DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();
            """)
        for _ in 0..<3 {
            let refused = try await mint()
            #expect(refused.status == 503 && refused.token == nil, "\(refused.status) \(refused.text)")
        }
        #expect(try fixture.records("a").count == 1)

        // The commit goes through again: tokens again, and the chain has no gap.
        try fixture.sql("DROP TRIGGER refuse_at_commit ON tokend_audit")
        let recovered = try await SharedControlTests.secondsUntil(limit: 10) { try await mint().status == 200 }
        #expect(recovered != nil)
        let verify = try fixture.tokend(["audit", "verify"])
        #expect(verify.status == 0 && verify.stdout.contains("instance a: ok"), "\(verify.stdout)\(verify.stderr)")
        await a.stop()
    }
}
