/// Where audit records go before an answer is sent: the file log, PostgreSQL, or both. `append`
/// returns only once the record is durable; a throw means it is not, and nothing that depends on
/// it may be released.
public protocol AuditSink: Sendable {
    /// Returns once `record` is durable; throws when it is not.
    func append(_ record: AuditRecord) async throws
    /// The same, for a caller that must not suspend (an event loop): `completion` is called, on
    /// any thread, once the record is durable or has failed.
    func append(_ record: AuditRecord, completion: @escaping AuditCompletion)
    /// Why records cannot be taken now, or nil (for `/readyz`; checked, not assumed).
    func readinessProblem() async -> String?
    /// Where every chain this sink writes ends, as far as it knows: logged (`audit head …`) every
    /// `--audit-head-interval`, at rotation and at shutdown, so that records cut from a chain's
    /// end — or a whole chain — show against a head kept outside it.
    var chainHeads: [AuditChainHead] { get }
}

/// The end of one audit chain: the file log's (`instance` nil) or an instance's in PostgreSQL.
public struct AuditChainHead: Sendable, Equatable {
    public let instance: String?
    public let head: AuditVerifier.Head

    public init(instance: String?, head: AuditVerifier.Head) {
        self.instance = instance
        self.head = head
    }

    /// The log line's message: `audit head seq=N link=HEX`, with `instance=NAME` first for a
    /// database chain (what `audit verify --database --heads` reads back).
    public var message: String {
        (instance.map { "audit head instance=\($0) " } ?? "audit head ") + "seq=\(head.seq) link=\(head.link)"
    }
}

/// Called once a record is durable or has failed, on any thread.
public typealias AuditCompletion = @Sendable (Result<Void, any Error>) -> Void

extension AuditSink {
    /// A sink whose writes are asynchronous (PostgreSQL) runs one task per record; the file log
    /// hands the record to its writer thread directly.
    public func append(_ record: AuditRecord, completion: @escaping AuditCompletion) {
        complete(completion) { try await append(record) }
    }
}

extension AuditLog: AuditSink {
    public var chainHeads: [AuditChainHead] { [AuditChainHead(instance: nil, head: head)] }
}

/// Both sinks, written concurrently; a record counts as written only when both have it
/// (`--database` with `--audit-log`).
public struct MirroredAuditSink: AuditSink {
    public let first: any AuditSink
    public let second: any AuditSink

    public init(_ first: any AuditSink, _ second: any AuditSink) {
        self.first = first
        self.second = second
    }

    public func append(_ record: AuditRecord) async throws {
        async let one: Void = first.append(record)
        async let two: Void = second.append(record)
        // Both are awaited before either error is thrown, so neither write is left running.
        var failure: (any Error)?
        do { try await one } catch { failure = error }
        do { try await two } catch { failure = failure ?? error }
        if let failure { throw failure }
    }

    public func readinessProblem() async -> String? {
        let problems = [await first.readinessProblem(), await second.readinessProblem()].compactMap { $0 }
        return problems.isEmpty ? nil : problems.joined(separator: "; ")
    }

    public var chainHeads: [AuditChainHead] { first.chainHeads + second.chainHeads }
}
