/// Recomputes an audit log's hash chain and names the first line that breaks it.
public enum AuditVerifier {
    public struct Report: Sendable, Equatable {
        public let records: Int
        /// Set when the first record continues an earlier file (rotation) instead of starting the chain.
        public let continuesFromSequence: Int?
    }

    public struct Broken: Error, Equatable, CustomStringConvertible {
        public let file: String
        public let line: Int
        public let reason: String
        public var description: String { "\(file):\(line): \(reason)" }
    }

    /// Verifies `files` as one chain, in the order given (oldest first).
    public static func verify(files: [(name: String, contents: [UInt8])], key: HMACKey?) throws(Broken) -> Report {
        let chain = AuditChain(key: key)
        var previous: (seq: Int, link: String)?
        var records = 0
        var continues: Int?
        for file in files where !file.contents.isEmpty {
            var lines = file.contents.split(separator: 0x0A, omittingEmptySubsequences: false)
            let endsWithNewline = file.contents.last == 0x0A
            if endsWithNewline { lines.removeLast() }
            for (index, line) in lines.enumerated() {
                let number = index + 1
                func broken(_ reason: String) -> Broken { Broken(file: file.name, line: number, reason: reason) }
                if index == lines.count - 1 && !endsWithNewline {
                    throw broken("truncated: the last record has no newline (a torn or cut write)")
                }
                guard case .object(let record)? = try? JSONParser.parse(line),
                      let seq = record["seq"]?.integerValue, let prev = record["prev"]?.stringValue else {
                    throw broken("not an audit record (edited or truncated)")
                }
                if let previous {
                    if seq <= previous.seq {
                        throw broken("seq \(seq) follows \(previous.seq): records were reordered or duplicated")
                    }
                    if seq > previous.seq + 1 {
                        let missing = previous.seq + 1
                        let laterSeqs = lines[(index + 1)...].lazy.compactMap { try? JSONParser.parse($0).objectValue?["seq"]?.integerValue }
                        if laterSeqs.contains(missing) {
                            throw broken("seq \(seq) follows \(previous.seq), and seq \(missing) comes later: records were reordered")
                        }
                        throw broken("seq \(seq) follows \(previous.seq): \(seq - previous.seq - 1) record(s) before this line were deleted")
                    }
                    if prev != previous.link {
                        let hint = key == nil && records == 1 ? " (if the log is keyed with audit_key, pass --secrets)" : ""
                        throw broken("prev does not match the record before it: that record was edited\(hint)")
                    }
                } else if seq == 1 {
                    guard prev == AuditChain.genesis else { throw broken("the first record's prev must be 64 zeros") }
                } else {
                    continues = seq
                }
                previous = (seq, chain.link(for: line))
                records += 1
            }
        }
        return Report(records: records, continuesFromSequence: continues)
    }
}
