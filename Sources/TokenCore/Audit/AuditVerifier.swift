/// Recomputes an audit log's hash chain and names the first line that breaks it.
public enum AuditVerifier {
    public struct Report: Sendable, Equatable {
        public let records: Int
        /// Set when the first record continues an earlier file (rotation) instead of starting the chain.
        public let continuesFromSequence: Int?
        /// The last record's seq and link: what `--head` checks against later.
        public let head: Head?
    }

    /// Where a chain ends: the last record's `seq` and the link the next record would carry as
    /// `prev`. Kept outside the file (tokend logs it and exports the seq), it shows records cut
    /// from the end, which the chain alone cannot.
    public struct Head: Sendable, Equatable, CustomStringConvertible {
        public let seq: Int
        public let link: String

        public init(seq: Int, link: String) {
            self.seq = seq
            self.link = link
        }

        /// `N:HEX`, as `--head` takes it and tokend logs it.
        public init?(_ text: String) {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let seq = Int(parts[0]), seq >= 0, parts[1].utf8.count == 64,
                  parts[1].utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
            self.init(seq: seq, link: String(parts[1]))
        }

        public var description: String { "\(seq):\(link)" }
    }

    public struct Broken: Error, Equatable, CustomStringConvertible {
        public let file: String
        public let line: Int
        public let reason: String
        public var description: String { "\(file):\(line): \(reason)" }
    }

    /// Verifies `files` as one chain, in the order given (oldest first). The first record must be
    /// seq 1 unless `continues` says the files follow a rotation (records cut from the start are
    /// otherwise invisible); with `head`, the chain must end exactly there; with `through`, it
    /// must pass through that head (a head logged while the instance kept writing); with
    /// `instance`, every record must name it (a chain stored under another name was copied or
    /// renamed).
    public static func verify(files: [(name: String, contents: [UInt8])], key: HMACKey?, continues allowContinuation: Bool = false,
                              head expectedHead: Head? = nil, through passedHead: Head? = nil,
                              instance: String? = nil) throws(Broken) -> Report {
        let chain = AuditChain(key: key)
        var previous: (seq: Int, link: String)?
        var records = 0
        var continues: Int?
        var passed = false
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
                } else if allowContinuation {
                    continues = seq
                } else {
                    throw broken("the file starts at seq \(seq), not 1: records before it are missing (give the previous file first, or --continues for a file that follows a rotation)")
                }
                if let instance, record["instance"]?.stringValue != instance {
                    throw broken("the record names instance \(record["instance"]?.stringValue.map { "\"\($0)\"" } ?? "none"), but is stored as \"\(instance)\"'s: the chain was copied or renamed")
                }
                previous = (seq, chain.link(for: line))
                if let passedHead, seq == passedHead.seq {
                    guard previous?.link == passedHead.link else {
                        throw broken("seq \(seq) has another link than the head logged for it: the chain was rewritten from here on")
                    }
                    passed = true
                }
                records += 1
            }
        }
        let head = previous.map { Head(seq: $0.seq, link: $0.link) }
        if let expectedHead, head != expectedHead {
            let name = files.last(where: { !$0.contents.isEmpty })?.name ?? files.last?.name ?? "-"
            let ends = head.map { "seq \($0.seq)" } ?? "no record"
            throw Broken(file: name, line: records, reason: expectedHead.seq > (head?.seq ?? 0)
                ? "the chain ends at \(ends), but the head kept elsewhere is seq \(expectedHead.seq): records were cut from the end"
                : "the chain ends at \(ends) with another link than the head kept elsewhere (seq \(expectedHead.seq)): the file was rewritten")
        }
        if let passedHead, !passed {
            let name = files.last(where: { !$0.contents.isEmpty })?.name ?? files.last?.name ?? "-"
            throw Broken(file: name, line: records, reason: head.map { "the chain ends at seq \($0.seq), but a head was logged at seq \(passedHead.seq): records were cut from the end" }
                ?? "no record, but a head was logged at seq \(passedHead.seq): the whole chain was deleted")
        }
        return Report(records: records, continuesFromSequence: continues, head: head)
    }
}
