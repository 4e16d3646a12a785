import Foundation
import Synchronization

/// The durable, hash-chained audit log.
///
/// `append` returns only once the record is written and, in `.durable` mode, `fdatasync`'d. One
/// writer thread takes whatever is queued, writes it in one `write` and syncs once (group
/// commit): concurrent requests share a sync, so durability costs little throughput. The writer
/// is a plain thread, not a task: a blocking `fdatasync` must not occupy one of the cooperative
/// pool's few threads (two on this kind of machine).
///
/// A failed write fails every record of its batch, cuts the file back to its last whole record,
/// and marks the log unhealthy until a later write succeeds.
public final class AuditLog: @unchecked Sendable {
    // @unchecked: `queue` and `stopping` are guarded by `condition`; `file`, `sequence` and
    // `lastLink` belong to the writer thread alone (and to `init`, before it starts).

    public enum SyncMode: String, Sendable, CaseIterable {
        /// fdatasync before acknowledging (the default).
        case durable
        /// write(2) only: survives a process crash, not a power loss. For those who ask.
        case none
    }

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// What happened at start-up, for the server to log.
    public struct Recovery: Sendable {
        public let lastSequence: Int
        public let tornBytesCut: Int
    }

    public let path: String
    public let syncMode: SyncMode
    public let recovery: Recovery
    private let chain: AuditChain
    private let onCommit: @Sendable (_ seconds: Double, _ records: Int, _ succeeded: Bool) -> Void

    private let condition = NSCondition()
    /// Records waiting for the writer, each with what to call once it is written (or not).
    private var queue: [(record: AuditRecord, completion: AuditCompletion)] = []
    private var reopenRequested = false
    private var stopping = false
    private let healthy = Atomic<Bool>(true)
    /// The last committed record's seq and link, published by the writer for `head`.
    private let publishedHead: Mutex<AuditVerifier.Head>
    private let lastError = Mutex<String?>(nil)

    private var file: AuditFile
    private var sequence: Int
    private var lastLink: String

    /// Opens (or creates) the log, cuts a torn last line and continues the chain from the last
    /// whole record; an empty file starts a new chain.
    public init(path: String, key: HMACKey?, syncMode: SyncMode = .durable,
                onCommit: @escaping @Sendable (_ seconds: Double, _ records: Int, _ succeeded: Bool) -> Void = { _, _, _ in }) throws {
        self.path = path
        self.syncMode = syncMode
        self.chain = AuditChain(key: key)
        self.onCommit = onCommit
        var file = AuditFile(path: path)
        // A refused file must not keep its descriptor: `serve` exits, but a caller that retries
        // (or a fuzzer, which found this) would run out of them.
        var opened = false
        defer { if !opened { file.close() } }
        do {
            try file.open()
            let (lastLine, torn, tornSHA256) = try file.recoverTail()
            if torn > 0, let tornSHA256 {
                // The repair goes on the record first, before anything new.
                queue.append((AuditRecord.repaired(cutBytes: torn, cutSHA256: tornSHA256), { _ in }))
            }
            if let lastLine {
                guard case .object(let record)? = try? JSONParser.parse(lastLine), let seq = record["seq"]?.integerValue else {
                    throw Unavailable(description: "the last record of \(path) is not an audit record; move the file aside or fix it")
                }
                sequence = seq
                lastLink = chain.link(for: lastLine)
            } else {
                sequence = 0
                lastLink = AuditChain.genesis
            }
            recovery = Recovery(lastSequence: sequence, tornBytesCut: torn)
        } catch let error as AuditFile.IOError {
            throw Unavailable(description: error.description)
        }
        opened = true
        self.file = file
        publishedHead = Mutex(AuditVerifier.Head(seq: sequence, link: lastLink))
        // The thread holds the log until `close()`: a writer must outlive every pending append.
        let thread = Thread { self.writerLoop() }
        thread.name = "tokend-audit-writer"
        thread.start()
    }

    /// Returns once `record` is in the log (durably, in `.durable` mode); throws `Unavailable`
    /// when it could not be written, in which case nothing that depends on it may be released.
    public func append(_ record: AuditRecord) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            append(record) { continuation.resume(with: $0) }
        }
    }

    /// Queues `record` and calls `completion` on the writer thread once it is in the log (or
    /// could not be written). For callers that must not suspend: the HTTP server completes an
    /// event-loop promise from here, with no task per request.
    public func append(_ record: AuditRecord, completion: @escaping AuditCompletion) {
        condition.lock()
        if stopping {
            condition.unlock()
            completion(.failure(Unavailable(description: "the audit log is closed")))
            return
        }
        queue.append((record, completion))
        condition.signal()
        condition.unlock()
    }

    /// Reopens the path (after logrotate moved the file away); the chain continues.
    public func reopen() {
        condition.lock()
        reopenRequested = true
        condition.signal()
        condition.unlock()
    }

    /// Where the chain ends now: logged at rotation and shutdown and exported as a metric, so
    /// that records cut from the end can be caught (`audit verify --head`).
    public var head: AuditVerifier.Head { publishedHead.withLock { $0 } }

    /// Whether the last write succeeded and the path still names the file being written.
    public var isHealthy: Bool { healthy.load(ordering: .relaxed) }
    public var lastFailure: String? { lastError.withLock { $0 } }

    /// Less free space than this on the log's file system and `/readyz` says so, before a write fails.
    public static let minimumFreeBytes = 16 * 1024 * 1024

    /// Why the log cannot take records now, or nil: the last write failed, the path can no
    /// longer be written, or its file system is nearly full (checked on every call, for `/readyz`).
    public func readinessProblem() -> String? {
        if !isHealthy { return "audit log: \(lastFailure ?? "last write failed")" }
        if access(path, W_OK) != 0 { return "audit log \(path) is not writable" }
        var fileInfo = stat()
        var fileSystem = statvfs()
        if stat(path, &fileInfo) == 0, (fileInfo.st_mode & S_IFMT) == S_IFREG, statvfs(path, &fileSystem) == 0,
           Int(fileSystem.f_bavail) * Int(fileSystem.f_frsize) < Self.minimumFreeBytes {
            return "audit log \(path): less than \(Self.minimumFreeBytes >> 20) MiB free on its file system"
        }
        return nil
    }

    /// Fails what is still queued and stops the writer.
    public func close() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func writerLoop() {
        while true {
            condition.lock()
            while queue.isEmpty && !reopenRequested && !stopping { condition.wait() }
            let batch = queue
            queue.removeAll(keepingCapacity: true)
            let reopen = reopenRequested
            reopenRequested = false
            let stop = stopping
            condition.unlock()

            if reopen { reopenFile() }
            if !batch.isEmpty { commit(batch) }
            if stop {
                condition.lock()
                let leftover = queue
                queue.removeAll()
                condition.unlock()
                for entry in leftover { entry.completion(.failure(Unavailable(description: "the audit log is closed"))) }
                file.close()
                return
            }
        }
    }

    private func reopenFile() {
        do {
            try file.open()
            markHealthy()
        } catch {
            markFailed(error.description)
        }
    }

    private func commit(_ batch: [(record: AuditRecord, completion: AuditCompletion)]) {
        let started = DispatchTime.now().uptimeNanoseconds
        let (lines, head) = chain.append(batch.map(\.record), after: AuditVerifier.Head(seq: sequence, link: lastLink),
                                         timeMilliseconds: WallClock.nowMilliseconds())
        var bytes: [UInt8] = []
        bytes.reserveCapacity(batch.count * 400)
        for line in lines {
            bytes += line
            bytes.append(0x0A)
        }
        let (seq, link) = (head.seq, head.link)
        do {
            if file.isDetached() { try file.open() }
            try file.discardUncommitted()
            try file.append(bytes, sync: syncMode == .durable)
            sequence = seq
            lastLink = link
            publishedHead.withLock { $0 = AuditVerifier.Head(seq: seq, link: link) }
            markHealthy()
            onCommit(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, batch.count, true)
            for entry in batch { entry.completion(.success(())) }
        } catch {
            // Cut the torn part at once, not at the next write: a shutdown (or no further
            // request) must leave whole records only, or `audit verify` and the next start would
            // report damage that no crash caused. If the cut fails too, the next write retries it.
            try? file.discardUncommitted()
            markFailed(error.description)
            onCommit(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9, batch.count, false)
            let failure = Unavailable(description: error.description)
            for entry in batch { entry.completion(.failure(failure)) }
        }
    }

    private func markHealthy() {
        healthy.store(true, ordering: .relaxed)
        lastError.withLock { $0 = nil }
    }

    private func markFailed(_ message: String) {
        healthy.store(false, ordering: .relaxed)
        lastError.withLock { $0 = message }
    }
}
