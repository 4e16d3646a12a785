import Foundation
import Testing
import TestSupport
@testable import TokenCore

struct AuditLogTests {
    func record(_ n: Int, identity: String? = nil) -> AuditRecord {
        AuditRecord(requestID: "req-\(n)", remote: "127.0.0.1", event: .tokenIssued(.init(
            actor: AuditActor(caller: "web", auth: "api_key"), identity: identity ?? "user-\(n)", grants: ["chat"], ttlRequested: 60, ttl: 1800,
            kid: "k", jti: "jti-\(n)", tokenSHA256: SHA256.hash("token-\(n)").hex)))
    }

    func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func verify(_ paths: [String], key: HMACKey? = nil, continues: Bool = false, head: AuditVerifier.Head? = nil) throws -> AuditVerifier.Report {
        try AuditVerifier.verify(files: paths.map { ($0, Array(FileManager.default.contents(atPath: $0)!)) }, key: key,
                                 continues: continues, head: head)
    }

    @Test func recordsAreChainedAndDurable() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("audit.jsonl").path
        let log = try AuditLog(path: path, key: nil)
        for n in 1...3 { try await log.append(record(n)) }
        log.close()
        let written = try lines(path)
        #expect(written.count == 3)
        let first = try #require(try JSONParser.parse(written[0]).objectValue)
        #expect(first.keys.first == "seq" && first.keys.last == "prev")
        #expect(first["seq"]?.integerValue == 1)
        #expect(first["prev"] == .string(AuditChain.genesis))
        #expect(first["token_sha256"] == .string(SHA256.hash("token-1").hex))
        #expect(first["time"]?.stringValue?.hasSuffix("Z") == true)
        let second = try #require(try JSONParser.parse(written[1]).objectValue)
        #expect(second["prev"] == .string(SHA256.hash(written[0]).hex))
        let report = try verify([path])
        #expect(report.records == 3 && report.continuesFromSequence == nil && report.head?.seq == 3)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func keyedChainsNeedTheKey() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("audit.jsonl").path
        let key = HMACKey(utf8: "audit-key-0123456789abcdef-0123456789")
        let log = try AuditLog(path: path, key: key)
        for n in 1...3 { try await log.append(record(n)) }
        log.close()
        #expect(try verify([path], key: key).records == 3)
        #expect { try verify([path]) } throws: { "\($0)".contains("pass --secrets") }
        #expect(throws: AuditVerifier.Broken.self) { try verify([path], key: HMACKey(utf8: "another-key-0123456789abcdef-012345")) }
    }

    /// Edited, deleted, reordered and truncated records are each caught and named.
    @Test func verifyCatchesTampering() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("audit.jsonl").path
        let log = try AuditLog(path: path, key: nil)
        for n in 1...5 { try await log.append(record(n)) }
        log.close()
        let original = try lines(path)
        func check(_ tampered: [String], trailingNewline: Bool = true, _ expected: String, line: Int) throws {
            let text = tampered.joined(separator: "\n") + (trailingNewline ? "\n" : "")
            #expect { try AuditVerifier.verify(files: [("audit", Array(text.utf8))], key: nil) } throws: { error in
                guard let broken = error as? AuditVerifier.Broken else { return false }
                return broken.line == line && broken.reason.contains(expected)
            }
        }
        var edited = original
        edited[1] = edited[1].replacingOccurrences(of: "user-2", with: "user-X")
        try check(edited, "was edited", line: 3)
        var deleted = original
        deleted.remove(at: 2)
        try check(deleted, "deleted", line: 3)
        var reordered = original
        reordered.swapAt(1, 2)
        try check(reordered, "reordered", line: 2)
        var truncated = original
        truncated[4] = String(truncated[4].prefix(40))
        try check(truncated, trailingNewline: false, "truncated", line: 5)
        try check(original.map { $0 } + ["not json"], "not an audit record", line: 6)
    }

    @Test func aTornTailIsCutAndTheChainContinues() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("audit.jsonl").path
        let log = try AuditLog(path: path, key: nil)
        for n in 1...2 { try await log.append(record(n)) }
        log.close()
        // A crash in the middle of a write: half a line, no newline.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"seq":3,"time":"2026-11-2"#.utf8))
        try handle.close()
        let reopened = try AuditLog(path: path, key: nil)
        #expect(reopened.recovery.tornBytesCut == 26)
        #expect(reopened.recovery.lastSequence == 2)
        try await reopened.append(record(3))
        reopened.close()
        // 2 records, the audit.repaired record of the cut, then record 3.
        #expect(try verify([path]).records == 4)
    }

    @Test func rotationCarriesTheChainIntoTheNewFile() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("audit.jsonl").path
        let rotated = path + ".1"
        let log = try AuditLog(path: path, key: nil)
        for n in 1...2 { try await log.append(record(n)) }
        try FileManager.default.moveItem(atPath: path, toPath: rotated)  // logrotate
        log.reopen()
        try await log.append(record(3))
        log.close()
        #expect(try lines(path).count == 1)
        #expect(try verify([rotated, path]).records == 3)
        // Alone, the new file starts at seq 3: only with --continues is that not an error.
        #expect(throws: AuditVerifier.Broken.self) { try verify([path]) }
        #expect(try verify([path], continues: true).continuesFromSequence == 3)
    }

    @Test func aFullDiskFailsTheWriteAndMarksTheLogUnhealthy() async throws {
        let log = try AuditLog(path: "/dev/full", key: nil)
        #expect(log.isHealthy)
        await #expect(throws: AuditLog.Unavailable.self) { try await log.append(record(1)) }
        #expect(!log.isHealthy)
        #expect(log.readinessProblem()?.contains("No space left on device") == true)
        log.close()
    }

    /// A real full file system (a small tmpfs; needs root, as CI has): readiness warns before the
    /// disk is full, and a write that runs out of space fails, leaving only whole records.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func aFullFileSystemFailsCleanly() async throws {
        let directory = try SmallFileSystem(megabytes: 2)
        defer { directory.unmount() }
        let path = directory.url.appendingPathComponent("audit.jsonl").path
        let log = try AuditLog(path: path, key: nil)
        #expect(log.readinessProblem()?.contains("MiB free on its file system") == true)
        try await log.append(record(1))
        // Fill the rest of the file system, then ask for a record larger than what is left.
        let filler = try directory.fill(leaving: 0)
        let big = record(2, identity: String(repeating: "x", count: 200_000))
        await #expect(throws: AuditLog.Unavailable.self) { try await log.append(big) }
        #expect(!log.isHealthy)
        try FileManager.default.removeItem(atPath: filler)
        try await log.append(record(3))
        log.close()
        #expect(try verify([path]).records == 2)
    }

    /// A write that runs out of space and is the last one before a clean shutdown: the torn part
    /// is cut when the write fails, so the file verifies and the next start repairs nothing.
    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root"))
    func aFailedWriteLeavesNoTornRecordEvenWithoutAnotherWrite() async throws {
        let directory = try SmallFileSystem(megabytes: 1)
        defer { directory.unmount() }
        let path = directory.url.appendingPathComponent("audit.jsonl").path
        let log = try AuditLog(path: path, key: nil)
        try await log.append(record(1))
        // About 8 KiB left: the record below starts to fit, then runs out.
        let filler = try directory.fill(leaving: 8192)
        let big = record(2, identity: String(repeating: "x", count: 200_000))
        await #expect(throws: AuditLog.Unavailable.self) { try await log.append(big) }
        log.close()
        try FileManager.default.removeItem(atPath: filler)
        #expect(try verify([path]).records == 1)
        let reopened = try AuditLog(path: path, key: nil)
        #expect(reopened.recovery.tornBytesCut == 0)
        reopened.close()
    }

    /// The path stops being a writable file mid-run, then becomes writable again: writes fail
    /// while it is broken and recover by themselves, and the chain stays whole.
    @Test func recoversWhenThePathIsWritableAgain() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("audit.jsonl").path
        let log = try AuditLog(path: path, key: nil)
        try await log.append(record(1))
        let kept = path + ".kept"
        try FileManager.default.moveItem(atPath: path, toPath: kept)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)  // not a file any more
        await #expect(throws: AuditLog.Unavailable.self) { try await log.append(record(2)) }
        #expect(!log.isHealthy)
        try FileManager.default.removeItem(atPath: path)
        try await log.append(record(3))
        #expect(log.isHealthy)
        log.close()
        #expect(try verify([kept, path]).records == 2)
    }

    /// Many concurrent appends share syncs: fewer commits than records, every record once.
    @Test func concurrentAppendsAreGroupCommitted() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("audit.jsonl").path
        let commits = Counter()
        let log = try AuditLog(path: path, key: nil) { _, _, _ in commits.increment() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 1...400 { group.addTask { try await log.append(self.record(n)) } }
            try await group.waitForAll()
        }
        log.close()
        let written = try lines(path)
        #expect(written.count == 400)
        #expect(Set(written.compactMap { try? JSONParser.parse($0).objectValue?["request_id"]?.stringValue }).count == 400)
        #expect(commits.value < 400, "\(commits.value) commits for 400 records")
        #expect(try verify([path]).records == 400)
    }

    @Test func denialsAreCoalescedPerSourceAndReason() {
        let coalescer = DenialCoalescer(sliceSeconds: 10, maximumSources: 2)
        func denial(_ remote: String, _ reason: String = "invalid") -> AuditRecord {
            AuditRecord(requestID: "r", remote: remote, event: .authDenied(.init(claimedKeyID: nil, reason: reason)))
        }
        #expect(coalescer.admit(denial("1.1.1.1"), now: 100).count == 1)
        for _ in 0..<1000 { #expect(coalescer.admit(denial("1.1.1.1"), now: 101).isEmpty) }
        #expect(coalescer.admit(denial("1.1.1.1", "missing"), now: 101).count == 1)  // another reason
        #expect(coalescer.admit(denial("2.2.2.2"), now: 102).count == 1)  // beyond 2 sources: overflow entry
        #expect(coalescer.admit(denial("3.3.3.3"), now: 102).isEmpty)
        let summaries = coalescer.flush(now: 110)
        let counts = summaries.map { summary -> Int? in if case .authDenied(let denied) = summary.event { denied.count } else { nil } }
        #expect(counts.contains(1000))
        #expect(counts.compactMap { $0 }.reduce(0, +) == 1001)
        // A new slice: the first denial is written again.
        #expect(coalescer.admit(denial("1.1.1.1"), now: 111).count == 1)
    }
}

/// A thread-safe counter for callbacks from the audit writer thread.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

extension AuditLogTests {
    /// Whole records cut from either end are caught, and a torn tail cut at start-up is itself
    /// on the record.
    @Test func recordsCutFromEitherEndAreCaught() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("audit.jsonl").path
        let log = try AuditLog(path: path, key: nil)
        for n in 1...4 { try await log.append(record(n)) }
        let head = log.head
        log.close()
        #expect(head.seq == 4)
        #expect(try verify([path], head: head).records == 4)
        let all = try lines(path)
        // The first record cut: no longer passes as a whole log.
        let cutStart = directory.url.appendingPathComponent("cut-start.jsonl").path
        try Data((all.dropFirst().joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: cutStart))
        #expect { try verify([cutStart]) } throws: { "\($0)".contains("starts at seq 2, not 1") }
        // The last record cut: the chain is intact, the head kept elsewhere is not reached.
        let cutEnd = directory.url.appendingPathComponent("cut-end.jsonl").path
        try Data((all.dropLast().joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: cutEnd))
        #expect(try verify([cutEnd]).records == 3)
        #expect { try verify([cutEnd], head: head) } throws: { "\($0)".contains("records were cut from the end") }
    }

    @Test func aTornTailCutAtStartUpIsRecorded() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("audit.jsonl").path
        let log = try AuditLog(path: path, key: nil)
        for n in 1...2 { try await log.append(record(n)) }
        log.close()
        try await Task.sleep(for: .milliseconds(100))
        let torn = Array(#"{"seq":3,"time":"2026-11-30T00:00:00.0"#.utf8)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: torn)
        try handle.close()
        let reopened = try AuditLog(path: path, key: nil)
        #expect(reopened.recovery.tornBytesCut == torn.count)
        try await reopened.append(record(3))
        reopened.close()
        let records = try lines(path).map { try #require(try JSONParser.parse($0).objectValue) }
        #expect(records.count == 4)
        #expect(records[2]["event"] == .string("audit.repaired"))
        #expect(records[2]["cut_bytes"]?.integerValue == torn.count)
        #expect(records[2]["cut_sha256"] == .string(SHA256.hash(torn).hex))
        #expect(try verify([path]).records == 4)
    }
}

/// A tmpfs of a few MiB (mounting needs root), to run out of space for real.
struct SmallFileSystem {
    let directory: TemporaryDirectory
    var url: URL { directory.url }

    init(megabytes: Int) throws {
        directory = try TemporaryDirectory()
        let mount = try Executables.run(URL(fileURLWithPath: "/bin/mount"), ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", directory.url.path])
        guard mount.status == 0 else { throw MountFailed(message: mount.stderr) }
    }

    struct MountFailed: Error { let message: String }

    func unmount() {
        _ = try? Executables.run(URL(fileURLWithPath: "/bin/umount"), [directory.url.path])
    }

    /// Fills the file system but for about `bytes`; returns the filler's path.
    func fill(leaving bytes: Int) throws -> String {
        let filler = url.appendingPathComponent("filler").path
        _ = FileManager.default.createFile(atPath: filler, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: filler) else { throw MountFailed(message: "cannot open \(filler)") }
        defer { try? handle.close() }
        while (try? handle.write(contentsOf: Data(repeating: 0x61, count: 4096))) != nil {}
        if bytes > 0 { try handle.truncate(atOffset: max(0, try handle.offset() - UInt64(bytes))) }
        return filler
    }
}
