import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded mode's durable state: revocations, blocks and quota counts, one JSON line per
/// event, synced before the event's answer. A file of its own rather than a replay of the audit
/// log: the audit log is rotated away by logrotate and can be a day of traffic long, while this
/// file holds only what is still in force — it is compacted at every start, so reading it stays
/// short.
///
/// Appends are group-committed: whatever is queued while a sync runs goes out in the next
/// `write` and `fdatasync`, on a queue of its own (never an event loop or the cooperative pool).
public final class ControlJournal: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public typealias Completion = @Sendable (Result<Void, Failure>) -> Void

    public let path: String
    private let descriptor: Int32
    private let pending = Mutex<(lines: [UInt8], completions: [Completion], flushing: Bool)>(([], [], false))
    private let writer = DispatchQueue(label: "tokend-state-journal")

    /// Reads the journal (a torn last line, a write a crash interrupted, is dropped), hands every
    /// event to `replay`, then rewrites the file as `compacted` returns it and opens it for
    /// appending.
    public init(path: String, replay: (ControlEvent) throws(Failure) -> Void, compacted: () -> [[UInt8]]) throws(Failure) {
        self.path = path
        let contents = try Self.read(path)
        var lines = contents.split(separator: 0x0A, omittingEmptySubsequences: true)
        if contents.last != 0x0A, !lines.isEmpty { lines.removeLast() }  // torn: never acknowledged
        for (number, line) in lines.enumerated() {
            do {
                try replay(try ControlEvent.parse(line: line))
            } catch {
                throw Failure(description: "state journal \(path), line \(number + 1): \(error); move the file aside only if you accept losing the revocations, blocks and quota counts it holds")
            }
        }
        try Self.replace(path, with: compacted())
        descriptor = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure("cannot open state journal", path) }
    }

    deinit { close(descriptor) }

    /// Writes the events' lines now, on the calling thread (a clean stop, when nothing else writes).
    public func appendNow(_ events: [ControlEvent]) throws(Failure) {
        var bytes: [UInt8] = []
        for event in events { bytes += event.line(); bytes.append(0x0A) }
        try Self.write(bytes, to: descriptor, path: path)
    }

    /// Queues the events' lines; `completion` runs once they are on disk (or failed).
    public func append(_ events: [ControlEvent], completion: @escaping Completion) {
        var bytes: [UInt8] = []
        for event in events { bytes += event.line(); bytes.append(0x0A) }
        let startFlush = pending.withLock { state -> Bool in
            state.lines += bytes
            state.completions.append(completion)
            defer { state.flushing = true }
            return !state.flushing
        }
        if startFlush { writer.async { self.flush() } }
    }

    private func flush() {
        while true {
            let (bytes, completions) = pending.withLock { state -> ([UInt8], [Completion]) in
                defer { state.lines.removeAll(keepingCapacity: true); state.completions.removeAll() }
                if state.completions.isEmpty { state.flushing = false }
                return (state.lines, state.completions)
            }
            if completions.isEmpty { return }
            let result: Result<Void, Failure>
            do {
                try Self.write(bytes, to: descriptor, path: path)
                result = .success(())
            } catch {
                result = .failure(error)
            }
            for completion in completions { completion(result) }
        }
    }

    /// Writes and syncs `bytes`; a write that fails half-way is cut off again, so that the next
    /// line does not start inside a torn one.
    private static func write(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(Failure) {
        let start = lseek(descriptor, 0, SEEK_END)
        do {
            try writeAll(bytes, to: descriptor, path: path)
        } catch {
            if start >= 0 { _ = ftruncate(descriptor, start) }
            throw error
        }
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(Failure) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw failure("cannot write state journal", path)
            }
            offset += written
        }
        guard fdatasync(descriptor) == 0 else { throw failure("cannot sync state journal", path) }
    }

    private static func read(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return [] }
            throw failure("cannot read state journal", path)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("cannot read state journal", path)
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }

    /// Writes `lines` to a new file, syncs it, renames it over `path` and syncs the directory:
    /// a crash leaves the old journal or the new one, never half of either.
    private static func replace(_ path: String, with lines: [[UInt8]]) throws(Failure) {
        let temporary = path + ".compacting"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot write state journal", temporary) }
        var bytes: [UInt8] = []
        for line in lines { bytes += line; bytes.append(0x0A) }
        do {
            try write(bytes, to: fd, path: temporary)
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        guard rename(temporary, path) == 0 else { throw failure("cannot replace state journal", path) }
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let directoryFD = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    private static func failure(_ operation: String, _ path: String) -> Failure {
        Failure(description: "\(operation) \(path): \(String(cString: strerror(errno)))")
    }
}
