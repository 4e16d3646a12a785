/// One audit chain checked a line at a time: the same checks whether the lines come from files,
/// from PostgreSQL's rows as they stream in, or from one stretch of a file checked beside the
/// others (`AuditVerifier.verify`). Memory stays constant however long the chain is: what it
/// keeps is the previous record's seq and link, and the first problem found.
public struct AuditChainCheck: Sendable {
    /// What the first line is checked against.
    enum Start: Sendable {
        /// The chain's first record: seq 1 with 64 zeros as `prev`, or (with `continues`) any
        /// seq after a rotation.
        case chain(continues: Bool)
        /// A stretch that starts inside a chain: its first record's seq and `prev` are kept as
        /// its `opening`, for whoever joins it to the stretch before it.
        case joined
    }

    /// Why a line breaks the chain, kept as facts: the message is written when it is reported,
    /// with what only the whole chain knows.
    enum Problem: Sendable, Equatable {
        case truncated
        case notARecord
        case notAfter(seq: Int, previous: Int)
        /// Records missing between `previous` and `seq`: deleted, or reordered if `previous + 1`
        /// comes later in the same file.
        case gap(seq: Int, previous: Int, comesLater: Bool)
        /// `records` is how many records came before this one in the chain (a hint at record 2).
        case prevMismatch(recordsBefore: Int)
        case badGenesis
        case startsLate(seq: Int)
        case wrongInstance(found: String?, expected: String)
        case headRewritten(seq: Int)

        func reason(keyed: Bool) -> String {
            switch self {
            case .truncated:
                "truncated: the last record has no newline (a torn or cut write)"
            case .notARecord:
                "not an audit record (edited or truncated)"
            case .notAfter(let seq, let previous):
                "seq \(seq) follows \(previous): records were reordered or duplicated"
            case .gap(let seq, let previous, true):
                "seq \(seq) follows \(previous), and seq \(previous + 1) comes later: records were reordered"
            case .gap(let seq, let previous, false):
                "seq \(seq) follows \(previous): \(seq - previous - 1) record(s) before this line were deleted"
            case .prevMismatch(let recordsBefore):
                "prev does not match the record before it: that record was edited"
                    + (!keyed && recordsBefore == 1 ? " (if the log is keyed with audit_key, pass --secrets)" : "")
            case .badGenesis:
                "the first record's prev must be 64 zeros"
            case .startsLate(let seq):
                "the file starts at seq \(seq), not 1: records before it are missing (give the previous file first, or --continues for a file that follows a rotation)"
            case .wrongInstance(let found, let expected):
                "the record names instance \(found.map { "\"\($0)\"" } ?? "none"), but is stored as \"\(expected)\"'s: the chain was copied or renamed"
            case .headRewritten(let seq):
                "seq \(seq) has another link than the head logged for it: the chain was rewritten from here on"
            }
        }
    }

    struct Failure: Sendable {
        var file: String
        var line: Int
        var problem: Problem
    }

    private let chain: AuditChain
    private let keyed: Bool
    private let instance: String?
    private let passedHead: AuditVerifier.Head?
    private let start: Start
    private var file = "-"
    private var lineInFile = 0
    /// How many lines were checked (or, after a problem, read).
    var lines: Int { lineInFile }
    /// The last record checked: its seq and the link the next record must carry as `prev`.
    private(set) var previous: AuditVerifier.Head?
    private(set) var records = 0
    private(set) var continuesFrom: Int?
    private(set) var passed = false
    /// For a `.joined` stretch: its first record's seq and `prev`, and where it is.
    private(set) var opening: (seq: Int, prev: String, line: Int)?
    private(set) var failure: Failure?

    /// `continues`: the first record may follow a rotation; `through`: the chain must pass through
    /// this head; `instance`: every record must name it.
    public init(key: HMACKey?, continues: Bool = false, through passedHead: AuditVerifier.Head? = nil, instance: String? = nil) {
        self.init(key: key, start: .chain(continues: continues), through: passedHead, instance: instance)
    }

    init(key: HMACKey?, start: Start, through passedHead: AuditVerifier.Head?, instance: String?) {
        chain = AuditChain(key: key)
        keyed = key != nil
        self.start = start
        self.passedHead = passedHead
        self.instance = instance
    }

    /// The lines that follow belong to `name`, numbered from `firstLine`.
    public mutating func begin(file name: String, firstLine: Int = 1) {
        file = name
        lineInFile = firstLine - 1
    }

    /// Checks one line (without its newline); `terminated` is false for a file's last bytes when
    /// no newline follows them. After the first problem the chain is not checked further; a gap's
    /// missing seq is still looked for in the rest of the file, which tells reordered from deleted.
    public mutating func check(line: ArraySlice<UInt8>, terminated: Bool = true) {
        lineInFile += 1
        if let found = failure {
            if case .gap(let seq, let previous, false) = found.problem, found.file == file, Self.seq(of: line) == previous + 1 {
                failure?.problem = .gap(seq: seq, previous: previous, comesLater: true)
            }
            return
        }
        if let problem = problem(with: line, terminated: terminated) {
            failure = Failure(file: file, line: lineInFile, problem: problem)
        }
    }

    private mutating func problem(with line: ArraySlice<UInt8>, terminated: Bool) -> Problem? {
        guard terminated else { return .truncated }
        guard case .object(let record)? = try? JSONParser.parse(line),
              let seq = record["seq"]?.integerValue, let prev = record["prev"]?.stringValue else {
            return .notARecord
        }
        if let previous {
            if let problem = Self.continuity(after: previous, seq: seq, prev: prev, recordsBefore: records) { return problem }
        } else {
            switch start {
            case .joined:
                opening = (seq, prev, lineInFile)
            case .chain:
                if seq == 1 {
                    guard prev == AuditChain.genesis else { return .badGenesis }
                } else if case .chain(continues: true) = start {
                    continuesFrom = seq
                } else {
                    return .startsLate(seq: seq)
                }
            }
        }
        if let instance, record["instance"]?.stringValue != instance {
            return .wrongInstance(found: record["instance"]?.stringValue, expected: instance)
        }
        let link = chain.link(for: line)
        previous = AuditVerifier.Head(seq: seq, link: link)
        if let passedHead, seq == passedHead.seq {
            guard link == passedHead.link else { return .headRewritten(seq: seq) }
            passed = true
        }
        records += 1
        return nil
    }

    /// Whether a record with `seq` and `prev` may follow `previous` (a gap is reported as a
    /// deletion until its missing seq turns up later).
    static func continuity(after previous: AuditVerifier.Head, seq: Int, prev: String, recordsBefore: Int) -> Problem? {
        if seq <= previous.seq { return .notAfter(seq: seq, previous: previous.seq) }
        if seq > previous.seq + 1 { return .gap(seq: seq, previous: previous.seq, comesLater: false) }
        if prev != previous.link { return .prevMismatch(recordsBefore: recordsBefore) }
        return nil
    }

    /// A line's seq, for the search after a gap (nil for a line that is not a record).
    static func seq(of line: ArraySlice<UInt8>) -> Int? {
        (try? JSONParser.parse(line))?.objectValue?["seq"]?.integerValue
    }

    /// The report, or the first problem; `head`: the chain must end exactly there.
    public func finish(head expectedHead: AuditVerifier.Head? = nil) throws(AuditVerifier.Broken) -> AuditVerifier.Report {
        try AuditVerifier.report(failure: failure, keyed: keyed, records: records, continuesFrom: continuesFrom, head: previous,
                                 passed: passed, lastFile: file, expected: expectedHead, through: passedHead)
    }
}
