/// `Authorization: Bearer <key>`: the key is hashed (SHA-256) and compared with every caller's
/// stored hash in constant time, without stopping at a match, so the time taken says nothing
/// about which caller (if any) matched.
public struct APIKeyAuthenticator: Sendable {
    /// Longer keys are refused before hashing: no real key is this long.
    public static let maximumKeyLength = 512

    private let entries: [(hash: [UInt8], caller: Caller)]

    public init(callers: [Caller]) {
        entries = callers.compactMap { caller in caller.apiKeySHA256.map { ($0.bytes, caller) } }
    }

    public func authenticate(apiKey: Substring) -> Caller? {
        guard !apiKey.isEmpty, apiKey.utf8.count <= Self.maximumKeyLength else { return nil }
        let presented = SHA256.hash(apiKey.utf8).bytes
        var match: Caller?
        for entry in entries where ConstantTime.equals(entry.hash, presented) {
            match = entry.caller
        }
        return match
    }
}
