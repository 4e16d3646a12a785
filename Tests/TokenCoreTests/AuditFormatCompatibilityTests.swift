import Testing
@testable import TokenCore

/// The audit line format does not change with the code that writes it: one record of every kind
/// of event, with every member it can carry, encoded now, against the exact bytes the encoder
/// before the event types wrote (existing logs verify, and their chains continue, only so).
struct AuditFormatCompatibilityTests {
    static let ops = AuditActor(caller: "ops", auth: "api_key")

    static var records: [AuditRecord] {
        var byToken = AuditEvent.TokenRevoked(actor: AuditActor(caller: "ops", auth: "hmac"))
        (byToken.jti, byToken.identity, byToken.tokenSHA256) = ("J1", "bob", String(repeating: "ab", count: 32))
        var byIdentity = AuditEvent.TokenRevoked(actor: ops)
        (byIdentity.identity, byIdentity.issuedBefore) = ("carol", 1_796_000_000)
        var notAToken = AuditEvent.TokenRevoked(actor: ops)
        (notAToken.tokenSHA256, notAToken.reason) = (String(repeating: "cd", count: 32), "not_a_valid_token")
        return [
            AuditRecord(requestID: "r1", remote: "127.0.0.1", event: .tokenIssued(.init(
                actor: AuditActor(caller: "web", auth: "api_key"), identity: "alice", grants: ["chat", "video"], ttlRequested: nil,
                ttl: 3600, kid: "2026-11", jti: "JTI", tokenSHA256: String(repeating: "ef", count: 32)))),
            AuditRecord(requestID: "r2", remote: "10.0.0.2", event: .authDenied(.init(claimedKeyID: "web", reason: "bad_signature", count: 3))),
            AuditRecord(requestID: "r3", remote: "10.0.0.1", event: .requestRejected(.init(
                actor: AuditActor(caller: "web", auth: "api_key"), identity: "alice", ttlRequested: 7200, status: 429, reason: "rate_limited", count: 7))),
            AuditRecord.repaired(cutBytes: 17, cutSHA256: String(repeating: "01", count: 32)),
            AuditRecord.cut(missing: 5),
            AuditRecord(requestID: "r4", remote: "10.0.0.3", event: .tokenRevoked(byToken)),
            AuditRecord(requestID: "r5", remote: "10.0.0.3", event: .tokenRevoked(byIdentity)),
            AuditRecord(requestID: "r6", remote: nil, event: .tokenRevoked(notAToken)),
            AuditRecord(requestID: "r7", remote: "::1", event: .identityBlocked(.init(actor: ops, identity: "dave", until: 1_797_000_000, reason: #"abuse "x""#))),
            AuditRecord(requestID: "r8", remote: "::1", event: .identityUnblocked(.init(actor: ops, identity: "dave"))),
        ]
    }

    /// Written by the encoder as it was (one struct of optional fields), for the records above.
    static let expected = [
            #"{"seq":1,"time":"2026-12-04T04:08:42.123Z","event":"token.issued","request_id":"r1","caller":"web","auth":"api_key","remote":"127.0.0.1","identity":"alice","grants":["chat","video"],"ttl":3600,"kid":"2026-11","jti":"JTI","token_sha256":"efefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefef","status":200,"prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
            #"{"seq":2,"time":"2026-12-04T04:08:42.123Z","instance":"a","event":"auth.denied","request_id":"r2","claimed_key_id":"web","remote":"10.0.0.2","status":401,"reason":"bad_signature","count":3,"prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
            #"{"seq":3,"time":"2026-12-04T04:08:42.123Z","event":"request.rejected","request_id":"r3","caller":"web","auth":"api_key","remote":"10.0.0.1","identity":"alice","ttl_requested":7200,"status":429,"reason":"rate_limited","count":7,"prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
            #"{"seq":4,"time":"2026-12-04T04:08:42.123Z","instance":"a","event":"audit.repaired","request_id":"-","status":0,"cut_bytes":17,"cut_sha256":"0101010101010101010101010101010101010101010101010101010101010101","prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
            #"{"seq":5,"time":"2026-12-04T04:08:42.123Z","event":"audit.cut","request_id":"-","status":0,"reason":"chain_shorter_than_heartbeat","count":5,"prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
            #"{"seq":6,"time":"2026-12-04T04:08:42.123Z","instance":"a","event":"token.revoked","request_id":"r4","caller":"ops","auth":"hmac","remote":"10.0.0.3","identity":"bob","jti":"J1","token_sha256":"abababababababababababababababababababababababababababababababab","status":200,"prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
            #"{"seq":7,"time":"2026-12-04T04:08:42.123Z","event":"token.revoked","request_id":"r5","caller":"ops","auth":"api_key","remote":"10.0.0.3","identity":"carol","status":200,"issued_before":"2026-11-30T00:53:20Z","prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
            #"{"seq":8,"time":"2026-12-04T04:08:42.123Z","instance":"a","event":"token.revoked","request_id":"r6","caller":"ops","auth":"api_key","token_sha256":"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd","status":200,"reason":"not_a_valid_token","prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
            #"{"seq":9,"time":"2026-12-04T04:08:42.123Z","event":"identity.blocked","request_id":"r7","caller":"ops","auth":"api_key","remote":"::1","identity":"dave","status":200,"reason":"abuse \"x\"","until":"2026-12-11T14:40:00Z","prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
            #"{"seq":10,"time":"2026-12-04T04:08:42.123Z","instance":"a","event":"identity.unblocked","request_id":"r8","caller":"ops","auth":"api_key","remote":"::1","identity":"dave","status":200,"prev":"0000000000000000000000000000000000000000000000000000000000000000"}"#,
    ]

    @Test func everyEventIsWrittenAsBefore() {
        let records = Self.records
        #expect(records.count == Self.expected.count)
        for (index, record) in records.enumerated() {
            let line = record.line(seq: index + 1, timeMilliseconds: 1_796_357_322_123, prev: AuditChain.genesis,
                                   instance: index % 2 == 0 ? nil : "a")
            #expect(String(decoding: line, as: UTF8.self) == Self.expected[index], "\(record.event.name)")
        }
    }

    /// The chain step every sink uses: consecutive seqs, each prev the link of the line before.
    @Test func theChainStepLinksEachLineToTheOneBefore() {
        let chain = AuditChain(key: nil)
        let start = AuditVerifier.Head(seq: 41, link: String(repeating: "9", count: 64))
        let (lines, head) = chain.append(Self.records, after: start, timeMilliseconds: 1_796_357_322_123, instance: "a")
        var link = start.link
        for (offset, line) in lines.enumerated() {
            let object = try? JSONParser.parse(line).objectValue
            #expect(object?["seq"]?.integerValue == 42 + offset && object?["prev"]?.stringValue == link)
            link = chain.link(for: line)
        }
        #expect(head == AuditVerifier.Head(seq: 41 + lines.count, link: link))
    }
}
