/// The one encoder from a record to its line. The members are written in one fixed order —
/// `seq`, `time`, `instance`, `event`, `request_id`, `caller`, `claimed_key_id`, `auth`,
/// `remote`, `identity`, `grants`, `ttl_requested`, `ttl`, `kid`, `jti`, `token_sha256`,
/// `status`, `reason`, `count`, `cut_bytes`, `cut_sha256`, `issued_before`, `until`, `prev` —
/// each event giving the ones it has: existing logs were written so, and a line's bytes are
/// what its successor's `prev` hashes.
struct AuditLine {
    private var caller: String?
    private var claimedKeyID: String?
    private var auth: String?
    private var identity: String?
    private var grants: [String]?
    private var ttlRequested: Int?
    private var ttl: Int?
    private var kid: String?
    private var jti: String?
    private var tokenSHA256: String?
    private var status = 200
    private var reason: String?
    private var count: Int?
    private var cutBytes: Int?
    private var cutSHA256: String?
    private var issuedBefore: Int?
    private var until: Int?
    private let record: AuditRecord

    init(_ record: AuditRecord) {
        self.record = record
        switch record.event {
        case .tokenIssued(let issued):
            act(issued.actor)
            (identity, grants, ttlRequested, ttl) = (issued.identity, issued.grants, issued.ttlRequested, issued.ttl)
            (kid, jti, tokenSHA256) = (issued.kid, issued.jti, issued.tokenSHA256)
        case .authDenied(let denied):
            (claimedKeyID, status, reason, count) = (denied.claimedKeyID, 401, denied.reason, denied.count)
        case .requestRejected(let rejected):
            rejected.actor.map { act($0) }
            (identity, ttlRequested, status, reason, count) = (rejected.identity, rejected.ttlRequested, rejected.status, rejected.reason, rejected.count)
        case .tokenRevoked(let revoked):
            act(revoked.actor)
            (identity, jti, tokenSHA256, issuedBefore, reason) = (revoked.identity, revoked.jti, revoked.tokenSHA256, revoked.issuedBefore, revoked.reason)
        case .identityBlocked(let blocked):
            act(blocked.actor)
            (identity, until, reason) = (blocked.identity, blocked.until, blocked.reason)
        case .identityUnblocked(let unblocked):
            act(unblocked.actor)
            identity = unblocked.identity
        case .auditRepaired(let bytes, let sha256):
            (status, cutBytes, cutSHA256) = (0, bytes, sha256)
        case .auditCut(let missing):
            (status, reason, count) = (0, "chain_shorter_than_heartbeat", missing)
        }
    }

    private mutating func act(_ actor: AuditActor) {
        (caller, auth) = (actor.caller, actor.auth)
    }

    /// `instance` names the replica whose chain this is (records in PostgreSQL).
    func bytes(seq: Int, timeMilliseconds: Int, prev: String, instance: String?) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.raw("{\"seq\":"); writer.integer(seq)
        writer.raw(",\"time\":")
        writer.string(Timestamp.rfc3339(unixSeconds: timeMilliseconds / 1000, milliseconds: timeMilliseconds % 1000))
        if let instance { writer.raw(",\"instance\":"); writer.string(instance) }
        writer.raw(",\"event\":"); writer.string(record.event.name)
        writer.raw(",\"request_id\":"); writer.string(record.requestID)
        writer.optionalMember("\"caller\"", caller)
        writer.optionalMember("\"claimed_key_id\"", claimedKeyID)
        writer.optionalMember("\"auth\"", auth)
        writer.optionalMember("\"remote\"", record.remote)
        writer.optionalMember("\"identity\"", identity)
        if let grants {
            writer.raw(",\"grants\":[")
            for (index, grant) in grants.enumerated() {
                if index > 0 { writer.append(byte: UInt8(ascii: ",")) }
                writer.string(grant)
            }
            writer.raw("]")
        }
        writer.optionalMember("\"ttl_requested\"", ttlRequested)
        writer.optionalMember("\"ttl\"", ttl)
        writer.optionalMember("\"kid\"", kid)
        writer.optionalMember("\"jti\"", jti)
        writer.optionalMember("\"token_sha256\"", tokenSHA256)
        writer.optionalMember("\"status\"", status)
        writer.optionalMember("\"reason\"", reason)
        writer.optionalMember("\"count\"", count)
        writer.optionalMember("\"cut_bytes\"", cutBytes)
        writer.optionalMember("\"cut_sha256\"", cutSHA256)
        writer.optionalMember("\"issued_before\"", issuedBefore.map { Timestamp.rfc3339(unixSeconds: $0) })
        writer.optionalMember("\"until\"", until.map { Timestamp.rfc3339(unixSeconds: $0) })
        writer.raw(",\"prev\":"); writer.string(prev)
        writer.raw("}")
        return writer.bytes
    }
}
