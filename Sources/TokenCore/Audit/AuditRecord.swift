/// One decision, as the audit log records it. Never a token, secret, API key or
/// signature: the token appears only as its SHA-256, which lets an operator match a leaked token
/// to its record.
public struct AuditRecord: Sendable, Equatable {
    public enum Event: String, Sendable {
        case tokenIssued = "token.issued"
        case authDenied = "auth.denied"
        case requestRejected = "request.rejected"
        /// Start-up cut a torn tail left by a crash: how much, and its hash.
        case auditRepaired = "audit.repaired"
        /// The instance's chain in the database ends before the head its heartbeat kept: records
        /// were removed while it was away. `count` is how many; the chain continues after this.
        case auditCut = "audit.cut"
        /// A token, a jti or an identity's tokens revoked before they expire.
        case tokenRevoked = "token.revoked"
        case identityBlocked = "identity.blocked"
        case identityUnblocked = "identity.unblocked"
    }

    public var event: Event
    public var requestID: String
    public var caller: String?
    public var auth: String?
    public var remote: String?
    public var identity: String?
    public var grants: [String]?
    public var ttlRequested: Int?
    public var ttl: Int?
    public var kid: String?
    public var jti: String?
    public var tokenSHA256: String?
    public var status: Int
    /// For denials and rejections: the error code or authentication failure reason.
    public var reason: String?
    /// For coalesced denials: how many requests this record stands for (absent means one); for
    /// `audit.cut`: how many records are missing.
    public var count: Int?
    /// For `audit.repaired`: the bytes cut from the end of the file, and their SHA-256.
    public var cutBytes: Int?
    public var cutSHA256: String?
    /// For `auth.denied`: the key id the request claimed. Only claimed — never verified — so it
    /// is not written as `caller`: a forged key id must not read as an authenticated caller.
    public var claimedKeyID: String?
    /// For `token.revoked` by identity: the cut-off; for `identity.blocked`: the block's end.
    public var issuedBefore: Int?
    public var until: Int?

    public init(event: Event, requestID: String, caller: String? = nil, auth: String? = nil, remote: String? = nil,
                identity: String? = nil, grants: [String]? = nil, ttlRequested: Int? = nil, ttl: Int? = nil,
                kid: String? = nil, jti: String? = nil, tokenSHA256: String? = nil, status: Int,
                reason: String? = nil, count: Int? = nil) {
        self.event = event
        self.requestID = requestID
        self.caller = caller
        self.auth = auth
        self.remote = remote
        self.identity = identity
        self.grants = grants
        self.ttlRequested = ttlRequested
        self.ttl = ttl
        self.kid = kid
        self.jti = jti
        self.tokenSHA256 = tokenSHA256
        self.status = status
        self.reason = reason
        self.count = count
    }

    /// The first record after start-up cut a torn tail: the repair is itself on the record.
    public static func repaired(cutBytes: Int, cutSHA256: String) -> AuditRecord {
        var record = AuditRecord(event: .auditRepaired, requestID: "-", status: 0)
        record.cutBytes = cutBytes
        record.cutSHA256 = cutSHA256
        return record
    }

    /// A cut found at start-up in a database chain: `missing` records before this one are gone.
    public static func cut(missing: Int) -> AuditRecord {
        AuditRecord(event: .auditCut, requestID: "-", status: 0, reason: "chain_shorter_than_heartbeat", count: missing)
    }

    /// The record for an issued token.
    public static func issued(_ token: IssuedToken, requestID: String, caller: String, auth: String, remote: String?) -> AuditRecord {
        AuditRecord(event: .tokenIssued, requestID: requestID, caller: caller, auth: auth, remote: remote,
                    identity: token.identity, grants: token.grantNames, ttlRequested: token.requestedTTL,
                    ttl: token.ttl, kid: token.kid, jti: token.jti, tokenSHA256: SHA256.hash(token.token).hex, status: 200)
    }

    /// The JSON line, without its newline: `seq` and `time` first, `prev` last.
    /// `instance` names the replica whose chain this is (records in PostgreSQL).
    public func line(seq: Int, timeMilliseconds: Int, prev: String, instance: String? = nil) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.raw("{\"seq\":"); writer.integer(seq)
        writer.raw(",\"time\":")
        writer.string(Timestamp.rfc3339(unixSeconds: timeMilliseconds / 1000, milliseconds: timeMilliseconds % 1000))
        if let instance { writer.raw(",\"instance\":"); writer.string(instance) }
        writer.raw(",\"event\":"); writer.string(event.rawValue)
        writer.raw(",\"request_id\":"); writer.string(requestID)
        writer.optionalMember("\"caller\"", caller)
        writer.optionalMember("\"claimed_key_id\"", claimedKeyID)
        writer.optionalMember("\"auth\"", auth)
        writer.optionalMember("\"remote\"", remote)
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
