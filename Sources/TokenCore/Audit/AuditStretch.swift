import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// A stretch of one audit file, cut at line ends, that can be checked beside the others: the
/// check of each line needs only that line and the one before it.
struct AuditStretch: Sendable {
    /// One stretch per core: fewer leave a core idle, more only add joins.
    static var defaultCount: Int { max(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 1) }

    /// Below a megabyte a second thread costs more than it saves.
    static let minimumBytes = 1 << 20

    /// Its place among all the stretches, in chain order.
    let index: Int
    /// Which file, and which bytes of it (whole lines, the last one's newline included).
    let file: Int
    let range: Range<Int>

    /// Cuts every file into about `count` stretches of equal bytes in all (a small file stays
    /// whole), each ending just after a newline or at the file's end.
    static func cut(_ files: [[UInt8]], into count: Int, minimumBytes: Int) -> [AuditStretch] {
        let total = files.reduce(0) { $0 + $1.count }
        let target = max(total / max(count, 1) + 1, minimumBytes, 1)
        var stretches: [AuditStretch] = []
        for (file, bytes) in files.enumerated() {
            var start = 0
            while start < bytes.count {
                var end = min(start + target, bytes.count)
                if end < bytes.count {
                    end = bytes[end...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
                }
                stretches.append(AuditStretch(index: stretches.count, file: file, range: start..<end))
                start = end
            }
        }
        return stretches
    }

    /// Checks every stretch, side by side, each with the check `make` gives for its index.
    static func check(_ stretches: [AuditStretch], in files: [(name: String, contents: [UInt8])],
                      make: (Int) -> AuditChainCheck) -> [AuditChainCheck] {
        var checks = stretches.map { make($0.index) }
        checks.withUnsafeMutableBufferPointer { results in
            let results = UnsafeSendable(results)
            DispatchQueue.concurrentPerform(iterations: stretches.count) { index in
                let stretch = stretches[index]
                let bytes = files[stretch.file].contents
                results.value[index].begin(file: files[stretch.file].name)
                results.value[index].check(lines: bytes[stretch.range], endsFile: stretch.range.upperBound == bytes.count)
            }
        }
        return checks
    }

    /// Whether a record with `seq` is in `bytes` after `offset` (a gap's missing record found
    /// later means reordered, not deleted).
    static func contains(seq: Int, in bytes: [UInt8], after offset: Int) -> Bool {
        bytes[offset...].split(separator: 0x0A).contains { AuditChainCheck.seq(of: $0) == seq }
    }
}

/// A buffer each iteration of `concurrentPerform` writes one distinct element of.
private struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

extension AuditChainCheck {
    /// Checks the lines of `bytes`, newline-separated; when `endsFile`, bytes after the last
    /// newline are a truncated record.
    mutating func check(lines bytes: ArraySlice<UInt8>, endsFile: Bool) {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            if let newline = bytes[start...].firstIndex(of: 0x0A) {
                check(line: bytes[start..<newline])
                start = newline + 1
            } else {
                check(line: bytes[start...], terminated: !endsFile)
                start = bytes.endIndex
            }
        }
    }
}
