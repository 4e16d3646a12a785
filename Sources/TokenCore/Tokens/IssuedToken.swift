/// A token and the facts about it that the response and the audit record report.
public struct IssuedToken: Sendable {
    public let token: String
    public let identity: String
    public let ttl: Int
    /// The TTL the request asked for, before clamping (nil: it asked for the default).
    public let requestedTTL: Int?
    public let issuedAt: Int
    public var expiresAt: Int { issuedAt + ttl }
    public let jti: String
    public let kid: String
    public let grantNames: [String]
    public let warnings: [String]

    /// The JSON object, the same for the HTTP response and `tokend mint --json`.
    public func responseJSON() -> [UInt8] {
        var writer = JSONWriter(capacity: token.utf8.count + 256)
        writer.raw("{\"token\":"); writer.string(token)
        writer.raw(",\"identity\":"); writer.string(identity)
        writer.raw(",\"ttl\":"); writer.integer(ttl)
        writer.raw(",\"expires_at\":"); writer.string(Timestamp.rfc3339(unixSeconds: expiresAt))
        writer.raw(",\"jti\":"); writer.string(jti)
        writer.raw(",\"kid\":"); writer.string(kid)
        writer.raw(",\"warnings\":[")
        for (index, warning) in warnings.enumerated() {
            if index > 0 { writer.append(byte: UInt8(ascii: ",")) }
            writer.string(warning)
        }
        writer.raw("]}")
        return writer.bytes
    }
}
