/// Splits a fuzz input into `count` text fields at line feeds (the last takes the rest), so one
/// input can carry several headers.
public func fields(_ bytes: [UInt8], count: Int) -> [String] {
    var parts = bytes.split(separator: 0x0A, maxSplits: count - 1, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    while parts.count < count { parts.append("") }
    return parts
}
