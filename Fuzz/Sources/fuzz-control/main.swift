import Foundation
import FuzzSupport
import TokenCore

/// The bodies of revoke, introspect, block and unblock (a form or JSON), the RFC 3339 times in
/// them, and the state journal read at start. Properties: nothing traps; a time that parses
/// formats back to the same instant; a journal that loads, once compacted, loads again to the
/// same lines.
let path = "/tmp/tokend-fuzz-control-\(getpid()).jsonl"

/// The file's bytes, read with plain POSIX calls: `FileManager.contents(atPath:)` leaks a buffer
/// per call on Linux (LeakSanitizer sees it), which would fail every run.
func contents(_ path: String) -> [UInt8]? {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 { return nil }
        if count == 0 { return bytes }
        bytes += chunk[0..<count]
    }
}

runFuzzer { bytes in
    for isForm in [true, false] {
        if let request = try? ControlRequest(body: bytes, isForm: isForm) {
            for value in request.fields.values {
                if let seconds = Timestamp.parseRFC3339(value), (-62_135_596_800...253_402_300_799).contains(seconds) {
                    guard Timestamp.parseRFC3339(Timestamp.rfc3339(unixSeconds: seconds)) == seconds else {
                        fatalError("\(value) parsed to \(seconds), which does not format back to itself")
                    }
                }
            }
        }
    }
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
    let now = 1_796_300_000
    guard (try? ControlState(journalPath: path, now: now)) != nil, let compacted = contents(path) else { return }
    guard (try? ControlState(journalPath: path, now: now)) != nil, let again = contents(path) else {
        fatalError("a compacted journal does not load")
    }
    guard Set(compacted.split(separator: 0x0A)) == Set(again.split(separator: 0x0A)) else {
        fatalError("compacting a compacted journal changed it")
    }
}
