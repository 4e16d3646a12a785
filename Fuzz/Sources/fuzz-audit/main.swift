import Foundation
import FuzzSupport
import TokenCore

/// An audit file: any bytes through the verifier (nothing traps; the verdict is the same twice)
/// and through the log's start-up recovery (a torn tail is cut, a bad last record is refused).
let key = HMACKey(utf8: "fuzz-audit-key-0123456789abcdef-0123456789abcdef")
let path = "/tmp/tokend-fuzz-audit-\(getpid()).jsonl"

runFuzzer { bytes in
    let first = Result { () throws(AuditVerifier.Broken) in try AuditVerifier.verify(files: [("fuzz", bytes)], key: key) }
    let second = Result { () throws(AuditVerifier.Broken) in try AuditVerifier.verify(files: [("fuzz", bytes)], key: key) }
    switch (first, second) {
    case (.success(let a), .success(let b)) where a == b: break
    case (.failure(let a), .failure(let b)) where a == b: break
    default: fatalError("the verdict changed between two runs")
    }
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
    if let log = try? AuditLog(path: path, key: key, syncMode: .none) { log.close() }
}
