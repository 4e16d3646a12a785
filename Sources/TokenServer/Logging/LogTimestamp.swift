import Glibc
import Synchronization
import TokenCore

/// `2026-11-30T05:31:21.123Z`, formatted once per second: within a second only the
/// milliseconds change, so a line costs a clock read and a copy.
final class LogTimestamp: Sendable {
    static let shared = LogTimestamp()

    private let cached = Mutex<(second: Int, prefix: [UInt8])>((-1, []))

    func append(to writer: inout JSONWriter) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let second = now.tv_sec
        let prefix = cached.withLock { cache in
            if cache.second != second {
                cache = (second, Self.format(second))
            }
            return cache.prefix
        }
        writer.raw(prefix)
        let milliseconds = Int(now.tv_nsec / 1_000_000)
        writer.append(byte: UInt8(ascii: "0") + UInt8(milliseconds / 100))
        writer.append(byte: UInt8(ascii: "0") + UInt8(milliseconds / 10 % 10))
        writer.append(byte: UInt8(ascii: "0") + UInt8(milliseconds % 10))
        writer.append(byte: UInt8(ascii: "Z"))
    }

    /// `YYYY-MM-DDTHH:MM:SS.` for a Unix second.
    private static func format(_ second: Int) -> [UInt8] {
        Array((Timestamp.dateAndTime(unixSeconds: second) + ".").utf8)
    }
}
