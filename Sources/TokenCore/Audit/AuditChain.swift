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

    /// The chain's step, for every sink: each record after `head` gets the next `seq` and the
    /// link of the line before it. Returns the lines (without newlines) and the new head.
    public func append(_ records: [AuditRecord], after head: AuditVerifier.Head, timeMilliseconds: Int,
                       instance: String? = nil) -> (lines: [[UInt8]], head: AuditVerifier.Head) {
        var seq = head.seq
        var link = head.link
        var lines: [[UInt8]] = []
        lines.reserveCapacity(records.count)
        for record in records {
            seq += 1
            let line = record.line(seq: seq, timeMilliseconds: timeMilliseconds, prev: link, instance: instance)
            link = self.link(for: line)
            lines.append(line)
        }
        return (lines, AuditVerifier.Head(seq: seq, link: link))
    }
}
