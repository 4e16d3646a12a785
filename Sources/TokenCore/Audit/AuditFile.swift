#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The audit log's file, owned by the single writer thread: append, sync, cut back after a
/// failed write, and notice when the file at the path is no longer the one held open.
struct AuditFile {
    struct IOError: Error, CustomStringConvertible {
        let description: String

        init(_ operation: String, path: String, errno code: Int32 = errno) {
            description = "\(operation) \(path): \(String(cString: strerror(code)))"
        }
    }

    let path: String
    private(set) var descriptor: Int32 = -1
    /// Only regular files can be measured, read back and truncated (`/dev/full` cannot).
    private(set) var isRegular = false
    /// The length of the whole records on disk; anything past it is a failed write to cut.
    private(set) var committedSize: Int = 0
    private var device: UInt = 0
    private var inode: UInt = 0

    init(path: String) {
        self.path = path
    }

    mutating func open() throws(IOError) {
        close()
        let fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw IOError("cannot open audit log", path: path) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw IOError("cannot stat audit log", path: path, errno: code)
        }
        descriptor = fd
        isRegular = (info.st_mode & S_IFMT) == S_IFREG
        committedSize = isRegular ? Int(info.st_size) : 0
        device = UInt(info.st_dev)
        inode = UInt(info.st_ino)
    }

    mutating func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    /// True when the path no longer names the open file (deleted, or moved away by logrotate
    /// without a SIGHUP): records written to the old inode would be lost from view.
    func isDetached() -> Bool {
        guard descriptor >= 0 else { return true }
        var info = stat()
        guard stat(path, &info) == 0 else { return true }
        return UInt(info.st_dev) != device || UInt(info.st_ino) != inode
    }

    /// Cuts the file back to its last whole record (after a write that failed half-way).
    mutating func discardUncommitted() throws(IOError) {
        guard isRegular else { return }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw IOError("cannot stat audit log", path: path) }
        if Int(info.st_size) != committedSize, ftruncate(descriptor, off_t(committedSize)) != 0 {
            throw IOError("cannot truncate audit log", path: path)
        }
    }

    /// Appends `bytes` and, when `sync`, waits for them to reach the disk.
    mutating func append(_ bytes: [UInt8], sync: Bool) throws(IOError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw IOError("cannot write audit log", path: path)
            }
            offset += written
        }
        if sync, fdatasync(descriptor) != 0 {
            throw IOError("cannot sync audit log", path: path)
        }
        committedSize += bytes.count
    }

    /// Cuts a torn last line (a write a crash interrupted); returns the last whole line and what
    /// was cut (its length and SHA-256, for the `audit.repaired` record).
    mutating func recoverTail() throws(IOError) -> (lastLine: [UInt8]?, tornBytes: Int, tornSHA256: String?) {
        guard isRegular, committedSize > 0 else { return (nil, 0, nil) }
        let reader = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard reader >= 0 else { throw IOError("cannot read audit log", path: path) }
        defer { Glibc.close(reader) }
        var chunkSize = 64 * 1024
        while true {
            let start = max(0, committedSize - chunkSize)
            var tail = [UInt8](repeating: 0, count: committedSize - start)
            let count = tail.withUnsafeMutableBytes { pread(reader, $0.baseAddress, $0.count, off_t(start)) }
            guard count == tail.count else { throw IOError("cannot read audit log", path: path) }
            guard let lastNewline = tail.lastIndex(of: 0x0A) else {
                if start == 0 {  // not one whole line: all of it is torn
                    try truncate(to: 0)
                    return (nil, tail.count, SHA256.hash(tail).hex)
                }
                chunkSize *= 2
                continue
            }
            let torn = tail.count - lastNewline - 1
            let tornSHA256 = torn > 0 ? SHA256.hash(tail[(lastNewline + 1)...]).hex : nil
            if torn > 0 { try truncate(to: start + lastNewline + 1) }
            let lineStart = tail[..<lastNewline].lastIndex(of: 0x0A).map { $0 + 1 }
            if lineStart == nil && start > 0 {
                chunkSize *= 2
                continue
            }
            return (Array(tail[(lineStart ?? 0)..<lastNewline]), torn, tornSHA256)
        }
    }

    private mutating func truncate(to size: Int) throws(IOError) {
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw IOError("cannot truncate audit log", path: path) }
        committedSize = size
    }
}
