import NIOCore
import Synchronization

/// At most `linesPerSecond` access-log lines in any one second; the lines over it are counted,
/// not written, and the count of each second that is over is handed out once for a summary line
/// (`dropped=N`). So one client sending requests as fast as it can costs the log a bounded rate,
/// and the disk that stderr shares with the audit log does not fill. Refusals still reach the
/// audit log; only access-log lines are capped.
final class AccessLogBudget: Sendable {
    private struct Window {
        var second: UInt64 = 0
        var written = 0
        var dropped = 0
        /// Dropped in seconds that are over, not yet summarised.
        var unreported = 0
    }

    let linesPerSecond: Int
    private let window = Mutex(Window())

    init(linesPerSecond: Int) {
        self.linesPerSecond = linesPerSecond
    }

    /// Whether one more line may be written now; false counts it as dropped.
    func take(now: NIODeadline = .now()) -> Bool {
        let second = now.uptimeNanoseconds / 1_000_000_000
        return window.withLock { window in
            Self.roll(&window, to: second)
            guard window.written < linesPerSecond else {
                window.dropped += 1
                return false
            }
            window.written += 1
            return true
        }
    }

    /// How many lines were dropped in the seconds that are over since the last call (0: nothing
    /// to say).
    func takeUnreported(now: NIODeadline = .now()) -> Int {
        let second = now.uptimeNanoseconds / 1_000_000_000
        return window.withLock { window in
            Self.roll(&window, to: second)
            defer { window.unreported = 0 }
            return window.unreported
        }
    }

    private static func roll(_ window: inout Window, to second: UInt64) {
        guard second != window.second else { return }
        window.unreported += window.dropped
        window = Window(second: second, unreported: window.unreported)
    }
}
