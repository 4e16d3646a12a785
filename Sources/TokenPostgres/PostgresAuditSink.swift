import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle
import Synchronization
import TokenCore

/// The audit trail in PostgreSQL: this instance's chain, with the file's `seq`/`prev`
/// rules and `"instance"` in every record. `append` returns once the record is committed.
///
/// Group commit (`GroupCommitter`): one writer takes whatever is queued and inserts it in one
/// statement (one transaction, one WAL flush), as the file log shares one fdatasync; concurrent
/// requests share a commit. The writer keeps the chain's head and re-reads it from the database after any failure,
/// so an instance that restarts under the same name, or a commit whose answer was lost, continues
/// the chain where the database says it ends. (Two live processes under one name cannot fork it
/// either: the primary key refuses a second record with the same `seq`.)
public final class PostgresAuditSink: AuditSink, Service {
    /// The end of this instance's chain as of its last commit by this process (none before the
    /// first: the heartbeat then keeps the previous run's, which the first commit checks against).
    public var chainHeads: [AuditChainHead] {
        committed.withLock { $0 }.map { [AuditChainHead(instance: instance, head: $0)] } ?? []
    }

    public let instance: String
    private let store: PostgresStore
    private let chain: AuditChain
    private let logger: Logger
    private let onCommit: @Sendable (_ seconds: Double, _ records: Int, _ succeeded: Bool) -> Void
    private let committer = GroupCommitter<AuditRecord, Void>(name: "audit")
    /// The chain's last (seq, link), and the store's host switches when it was read; nil until
    /// read from the database. The writer's alone.
    private let head = Mutex<(seq: Int, link: String, switches: Int)?>(nil)
    private let lastFailure = Mutex<(reason: String, at: ContinuousClock.Instant)?>(nil)
    /// An `audit.cut` was committed: the heartbeat's older head must not report it again.
    private let cutReported = Mutex(false)
    /// The head after this process's last successful commit.
    private let committed = Mutex<AuditVerifier.Head?>(nil)

    public init(store: PostgresStore, instance: String, key: HMACKey?, logger: Logger,
                onCommit: @escaping @Sendable (_ seconds: Double, _ records: Int, _ succeeded: Bool) -> Void = { _, _, _ in }) {
        self.store = store
        self.instance = instance
        self.chain = AuditChain(key: key)
        self.logger = logger
        self.onCommit = onCommit
    }

    public func append(_ record: AuditRecord) async throws {
        try await committer.submit(record)
    }

    /// The last commit failed, and no write probe has committed since (from memory: the probe
    /// keeps the database's health current, so readiness needs no round trip).
    public func readinessProblem() async -> String? {
        guard let failure = lastFailure.withLock({ $0 }) else { return nil }
        if let probed = store.lastHealthyProbe, probed > failure.at { return nil }
        return "audit (PostgreSQL): \(failure.reason)"
    }

    /// The writer: runs until graceful shutdown, then commits what is queued and stops.
    public func run() async throws {
        await committer.runUntilGracefulShutdown { batch in await commit(batch) }
    }

    private func commit(_ batch: [AuditRecord]) async -> Result<[Void], any Error> {
        let started = DispatchTime.now().uptimeNanoseconds
        func seconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9 }
        do {
            let (start, missing) = try await currentHead()
            // Records removed while this instance was away: continued, not silently.
            let records = missing.map { [AuditRecord.cut(missing: $0)] + batch } ?? batch
            let (lines, end) = chain.append(records, after: AuditVerifier.Head(seq: start.seq, link: start.link),
                                            timeMilliseconds: WallClock.nowMilliseconds(), instance: instance)
            let (seq, link) = (end.seq, end.link)
            let statement = AuditInsertStatement(instance: instance, seqs: (start.seq + 1...seq).map(Int64.init),
                                                 lines: lines.map { ByteBuffer(bytes: $0) })
            try await store.run("audit_commit") { client in try await client.runCommittingItself(statement) }
            head.withLock { $0 = (seq, link, $0?.switches ?? store.hostSwitches) }
            committed.withLock { $0 = AuditVerifier.Head(seq: seq, link: link) }
            if missing != nil { cutReported.withLock { $0 = true } }
            lastFailure.withLock { $0 = nil }
            onCommit(seconds(), batch.count, true)
            return .success(Array(repeating: (), count: batch.count))
        } catch {
            // Whatever happened (even a commit whose answer was lost), the database knows where
            // the chain ends: read it again before the next batch.
            head.withLock { $0 = nil }
            lastFailure.withLock { $0 = ("\(error)", .now) }
            logger.error("audit commit to PostgreSQL failed", metadata: ["records": .stringConvertible(batch.count), "error": "\(error)"])
            onCommit(seconds(), batch.count, false)
            return .failure(error)
        }
    }

    /// The head to continue from, and — when it was just read and is behind the head this
    /// process committed or this instance's heartbeat kept — how many records are missing from
    /// the end. Read again after any failure and after the store moved to another host: a
    /// standby promoted from asynchronous replication may lack the last commits.
    private func currentHead() async throws -> (head: (seq: Int, link: String), missing: Int?) {
        let switches = store.hostSwitches
        if let head = head.withLock({ $0 }), head.switches == switches { return ((head.seq, head.link), nil) }
        let read = try await readHead()
        let instance = self.instance
        let kept = try await store.run("audit_heartbeat") { client -> Int? in
            var seq: Int?
            for try await row in try await client.query("SELECT audit_seq FROM tokend_heartbeat WHERE instance = \(instance)").decode(Int.self) { seq = row }
            return seq
        }
        // This process's own last commit is known for certain; the heartbeat's, once per cut
        // (it keeps the older head until the next probe).
        let committedSeq = committed.withLock { $0?.seq } ?? 0
        let heartbeatSeq = cutReported.withLock({ $0 }) ? 0 : kept ?? 0
        let expected = max(committedSeq, heartbeatSeq)
        var missing: Int?
        if expected > read.seq {
            missing = expected - read.seq
            logger.error("audit chain in PostgreSQL is shorter than this instance committed or its heartbeat kept: records were lost or removed; continuing after an audit.cut record",
                         metadata: ["instance": "\(instance)", "chain_ends_at": .stringConvertible(read.seq), "expected_head": .stringConvertible(expected), "database": "\(store.activeHost)"])
            store.observer.auditChainCut(missingRecords: expected - read.seq)
        }
        head.withLock { $0 = (read.seq, read.link, switches) }
        return (read, missing)
    }

    /// The chain's last record as the database has it (64 zeros for a new chain).
    private func readHead() async throws -> (seq: Int, link: String) {
        let instance = self.instance
        let last = try await store.run("audit_head") { client -> (Int, ByteBuffer)? in
            let rows = try await client.query("SELECT seq, line FROM tokend_audit WHERE instance = \(instance) ORDER BY seq DESC LIMIT 1")
            var last: (Int, ByteBuffer)?
            for try await row in rows.decode((Int, ByteBuffer).self) { last = row }
            return last
        }
        guard let (seq, line) = last else { return (0, AuditChain.genesis) }
        // The database is not the request, but a row edited to seq Int64.max must not make the
        // writer trap on `seq + 1`: refuse it (503s, /readyz says why) instead.
        guard seq < Int.max / 2 else {
            throw SharedStateUnavailable("audit chain of \(instance) ends at seq \(seq), beyond what it can continue; the table was edited")
        }
        return (seq, chain.link(for: line.readableBytesView))
    }
}
