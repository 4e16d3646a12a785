import COpenSSL

/// The output of a hash or MAC. Equality is constant-time so that comparing a received MAC
/// with the expected one never tells an attacker how many leading bytes were right.
/// It is deliberately not `Hashable`, so a MAC never meets a hash table's data-dependent
/// comparison by accident. Where a digest must key a table — the replay ledger's keys, which
/// hash nonces and signatures a client sent, not secrets — it is converted on purpose
/// (`InMemoryReplayLedger.Key`).
public struct Digest: Sendable, Equatable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Lower-case hexadecimal, as the audit log and the secrets file write digests.
    public var hex: String { Hex.encode(bytes) }

    public static func == (lhs: Digest, rhs: Digest) -> Bool {
        ConstantTime.equals(lhs.bytes, rhs.bytes)
    }

    public var description: String { "Digest(\(hex))" }
}

public enum ConstantTime {
    /// Compares two byte strings in time that depends only on their lengths (which are public:
    /// every digest of one algorithm has the same length).
    public static func equals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        if lhs.isEmpty { return true }
        return lhs.withUnsafeBytes { l in
            rhs.withUnsafeBytes { r in
                CRYPTO_memcmp(l.baseAddress, r.baseAddress, l.count) == 0
            }
        }
    }
}
