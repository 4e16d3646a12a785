import Foundation

/// Log lines to a file descriptor (stderr), buffered: a request appends its line under a lock
/// and returns; a writer thread writes what has gathered in one `write(2)` every 100 ms, or at
/// once when a line is urgent (a warning or an error) or the buffer passes 64 KiB. An event loop
/// never waits on a slow terminal or log collector. If the reader stalls and 4 MiB pile up, new
/// lines are dropped and counted (`tokend_log_lines_dropped_total`) rather than holding memory
/// or requests.
public final class LogOutput: @unchecked Sendable {
    // @unchecked: `pending`, `dropped` and `stopping` are guarded by `condition`.
    public static let standardError = LogOutput(descriptor: 2)

    static let flushInterval: TimeInterval = 0.1
    static let flushThreshold = 64 * 1024
    static let maximumPending = 4 * 1024 * 1024

    private let descriptor: Int32
    private let condition = NSCondition()
    private var pending: [UInt8] = []
    private var urgent = false
    private var dropped = 0
    /// Told how many lines were dropped since the last report (for the metric).
    private var onDrop: (@Sendable (Int) -> Void)?
    /// Run by the writer thread before each write (summary lines that must come even when no
    /// request does).
    private var hooks: [@Sendable () -> Void] = []

    init(descriptor: Int32) {
        self.descriptor = descriptor
        pending.reserveCapacity(Self.flushThreshold * 2)
        let thread = Thread { [self] in writerLoop() }
        thread.name = "tokend-log-writer"
        thread.start()
    }

    public func reportDrops(to onDrop: @escaping @Sendable (Int) -> Void) {
        condition.withLock { self.onDrop = onDrop }
    }

    /// `hook` runs on the writer thread before each of its writes, about every 100 ms.
    func beforeEachWrite(_ hook: @escaping @Sendable () -> Void) {
        condition.withLock { hooks.append(hook) }
    }

    /// Queues one whole line (with its line feed).
    func write(_ line: UnsafeRawBufferPointer, urgent: Bool = false) {
        condition.lock()
        defer { condition.unlock() }
        guard pending.count + line.count <= Self.maximumPending else {
            dropped += 1
            return
        }
        pending.append(contentsOf: line)
        if urgent || pending.count >= Self.flushThreshold {
            self.urgent = true
            condition.signal()
        }
    }

    /// Writes everything queued now, on the calling thread (before the process exits).
    public func flush() {
        condition.lock()
        let bytes = pending
        pending.removeAll(keepingCapacity: true)
        condition.unlock()
        writeAll(bytes)
    }

    private func writerLoop() {
        while true {
            condition.lock()
            if !urgent { _ = condition.wait(until: Date(timeIntervalSinceNow: Self.flushInterval)) }
            let hooks = self.hooks
            condition.unlock()
            for hook in hooks { hook() }
            condition.lock()
            urgent = false
            let bytes = pending
            pending.removeAll(keepingCapacity: true)
            let lost = dropped
            dropped = 0
            let report = onDrop
            condition.unlock()
            writeAll(bytes)
            if lost > 0 { report?(lost) }
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // stderr is gone: nothing useful to do with the lines
                }
                offset += written
            }
        }
    }
}
