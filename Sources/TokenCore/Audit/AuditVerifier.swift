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
    ///
    /// Each record's `prev` depends only on the bytes of the line before it, so the files are cut
    /// at line ends into stretches checked side by side (one per core), then joined in order: where one stretch ends must be where the next begins. The first
    /// problem reported is the one a single pass would report.
    public static func verify(files: [(name: String, contents: [UInt8])], key: HMACKey?, continues allowContinuation: Bool = false,
                              head expectedHead: Head? = nil, through passedHead: Head? = nil,
                              instance: String? = nil) throws(Broken) -> Report {
        try verify(files: files, key: key, continues: allowContinuation, head: expectedHead, through: passedHead, instance: instance,
                   stretches: AuditStretch.defaultCount, minimumStretchBytes: AuditStretch.minimumBytes)
    }

    /// `verify` cut into `stretches` of at least `minimumStretchBytes` (tests cut small files finely).
    static func verify(files: [(name: String, contents: [UInt8])], key: HMACKey?, continues allowContinuation: Bool,
                       head expectedHead: Head?, through passedHead: Head?, instance: String?,
                       stretches: Int, minimumStretchBytes: Int) throws(Broken) -> Report {
        let nonEmpty = files.filter { !$0.contents.isEmpty }
        let lastFile = nonEmpty.last?.name ?? files.last?.name ?? "-"
        let pieces = AuditStretch.cut(nonEmpty.map(\.contents), into: stretches, minimumBytes: minimumStretchBytes)
        let checks = AuditStretch.check(pieces, in: nonEmpty) { index in
            AuditChainCheck(key: key, start: index == 0 ? .chain(continues: allowContinuation) : .joined, through: passedHead,
                            instance: instance)
        }
        var records = 0
        var previous: Head?
        var continuesFrom: Int?
        var passed = false
        var failure: AuditChainCheck.Failure?
        var lineOffsets: [Int: Int] = [:]
        for (piece, check) in zip(pieces, checks) {
            if piece.index == 0 { continuesFrom = check.continuesFrom }
            // Stretches number their lines from 1; the file's numbers add the stretches before.
            let offset = lineOffsets[piece.file, default: 0]
            lineOffsets[piece.file] = offset + check.lines
            if let previous, let opening = check.opening,
               var problem = AuditChainCheck.continuity(after: previous, seq: opening.seq, prev: opening.prev, recordsBefore: records) {
                if case .gap(let seq, let last, false) = problem,
                   AuditStretch.contains(seq: last + 1, in: nonEmpty[piece.file].contents, after: piece.range.lowerBound) {
                    problem = .gap(seq: seq, previous: last, comesLater: true)
                }
                failure = .init(file: nonEmpty[piece.file].name, line: offset + opening.line, problem: problem)
                break
            }
            if var found = check.failure {
                // The stretch looked for a gap's missing seq in its own lines only; the rest of
                // the file is in the stretches after it.
                if case .gap(let seq, let last, false) = found.problem,
                   AuditStretch.contains(seq: last + 1, in: nonEmpty[piece.file].contents, after: piece.range.upperBound) {
                    found.problem = .gap(seq: seq, previous: last, comesLater: true)
                }
                // It counted its records from 0; the chain had `records` before it.
                if case .prevMismatch(let before) = found.problem { found.problem = .prevMismatch(recordsBefore: records + before) }
                found.line += offset
                failure = found
                break
            }
            records += check.records
            previous = check.previous ?? previous
            passed = passed || check.passed
        }
        return try report(failure: failure, keyed: key != nil, records: records, continuesFrom: continuesFrom, head: previous,
                          passed: passed, lastFile: lastFile, expected: expectedHead, through: passedHead)
    }

    /// What a whole chain's check comes to: its first problem, or whether it ends at `expected`
    /// and passed through `through`.
    static func report(failure: AuditChainCheck.Failure?, keyed: Bool, records: Int, continuesFrom: Int?, head: Head?, passed: Bool,
                       lastFile: String, expected expectedHead: Head?, through passedHead: Head?) throws(Broken) -> Report {
        if let failure {
            throw Broken(file: failure.file, line: failure.line, reason: failure.problem.reason(keyed: keyed))
        }
        if let expectedHead, head != expectedHead {
            let ends = head.map { "seq \($0.seq)" } ?? "no record"
            throw Broken(file: lastFile, line: records, reason: expectedHead.seq > (head?.seq ?? 0)
                ? "the chain ends at \(ends), but the head kept elsewhere is seq \(expectedHead.seq): records were cut from the end"
                : "the chain ends at \(ends) with another link than the head kept elsewhere (seq \(expectedHead.seq)): the file was rewritten")
        }
        if let passedHead, !passed {
            throw Broken(file: lastFile, line: records, reason: head.map { "the chain ends at seq \($0.seq), but a head was logged at seq \(passedHead.seq): records were cut from the end" }
                ?? "no record, but a head was logged at seq \(passedHead.seq): the whole chain was deleted")
        }
        return Report(records: records, continuesFromSequence: continuesFrom, head: head)
    }
}
