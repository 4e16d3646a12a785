/// One decision, as the audit log records it: which request, from where, and what was decided
/// (`AuditEvent`, which carries only the facts of its kind). Never a token, secret, API key or
/// signature: a token appears only as its SHA-256, which lets an operator match a leaked token
/// to its record.
public struct AuditRecord: Sendable, Equatable {
    public let requestID: String
    public let remote: String?
    public var event: AuditEvent

    public init(requestID: String, remote: String?, event: AuditEvent) {
        self.requestID = requestID
        self.remote = remote
        self.event = event
    }

    /// The record for an issued token.
    public static func issued(_ token: IssuedToken, requestID: String, by actor: AuditActor, remote: String?) -> AuditRecord {
        AuditRecord(requestID: requestID, remote: remote, event: .tokenIssued(AuditEvent.TokenIssued(
            actor: actor, identity: token.identity, grants: token.grantNames, ttlRequested: token.requestedTTL,
            ttl: token.ttl, kid: token.kid, jti: token.jti, tokenSHA256: SHA256.hash(token.token).hex)))
    }

    /// The first record after start-up cut a torn tail: the repair is itself on the record.
    public static func repaired(cutBytes: Int, cutSHA256: String) -> AuditRecord {
        AuditRecord(requestID: "-", remote: nil, event: .auditRepaired(cutBytes: cutBytes, cutSHA256: cutSHA256))
    }

    /// A cut found in a database chain: `missing` records before this one are gone.
    public static func cut(missing: Int) -> AuditRecord {
        AuditRecord(requestID: "-", remote: nil, event: .auditCut(missing: missing))
    }

    /// The JSON line, without its newline (see `AuditLine`).
    public func line(seq: Int, timeMilliseconds: Int, prev: String, instance: String? = nil) -> [UInt8] {
        AuditLine(self).bytes(seq: seq, timeMilliseconds: timeMilliseconds, prev: prev, instance: instance)
    }
}

/// Who made an authenticated decision happen: the caller and how it proved it.
public struct AuditActor: Sendable, Equatable {
    public let caller: String
    /// `api_key` or `hmac`.
    public let auth: String

    public init(caller: String, auth: String) {
        self.caller = caller
        self.auth = auth
    }
}
