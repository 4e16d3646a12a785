/// Byte-level ASCII helpers for header names and values, which arrive as bytes and are compared
/// on every request.
enum ASCII {
    /// `A`–`Z` lowered; every other byte as it is (folding with `| 0x20` alone would also map
    /// control bytes onto punctuation: CR onto `-`).
    @inline(__always)
    static func lowercase(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }
}
