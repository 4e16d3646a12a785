/// The hash chain that makes the log tamper-evident: each record's `prev` is the SHA-256 (or,
/// with an `audit_key`, the HMAC-SHA256) of the previous record's line, without its newline.
public struct AuditChain: Sendable {
    public static let genesis = String(repeating: "0", count: 64)

    private let key: HMACKey?

    public init(key: HMACKey?) {
        self.key = key
    }

    public func link(for line: some Sequence<UInt8>) -> String {
        if let key { return key.authenticationCode(for: line).hex }
        return SHA256.hash(line).hex
    }
}
