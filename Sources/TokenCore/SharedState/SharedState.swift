/// Everything a request shares with other requests — and, with PostgreSQL, with other instances:
/// the replay ledger, the rate limits and the audit trail. Chosen once at start-up; the request
/// path sees only these protocols. A class: every request reads it, and a reference is one retain
/// where a copy of three existentials goes through their value witnesses.
public final class SharedState: Sendable {
    public let replayLedger: any ReplayLedger
    public let rateLimiter: any RateLimiting
    /// Where every record goes.
    public let audit: any AuditSink
    /// The audit log file, when there is one (the embedded mode, or `--audit-log` beside the
    /// database), for what only a file has: reopening it after logrotate, its head as a metric.
    public let auditFile: AuditLog?

    public init(replayLedger: any ReplayLedger, rateLimiter: any RateLimiting, audit: any AuditSink, auditFile: AuditLog?) {
        self.replayLedger = replayLedger
        self.rateLimiter = rateLimiter
        self.audit = audit
        self.auditFile = auditFile
    }

    /// One instance: memory for replay and rate limits, the audit log file.
    public static func embedded(audit: AuditLog) -> SharedState {
        SharedState(replayLedger: InMemoryReplayLedger(), rateLimiter: InMemoryRateLimiter(), audit: audit, auditFile: audit)
    }
}
