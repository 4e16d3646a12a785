/// Everything a request shares with other requests — and, with PostgreSQL, with other instances:
/// the replay ledger, the rate limits and the audit trail. Chosen once at start-up; the request
/// path sees only these protocols. A class: every request reads it, and a reference is one retain
/// where a copy of three existentials goes through their value witnesses.
public final class SharedState: Sendable {
    public let replayLedger: any ReplayLedger
    public let rateLimiter: any RateLimiting
    public let audit: any AuditSink

    public init(replayLedger: any ReplayLedger, rateLimiter: any RateLimiting, audit: any AuditSink) {
        self.replayLedger = replayLedger
        self.rateLimiter = rateLimiter
        self.audit = audit
    }

    /// One instance: memory for replay and rate limits, the audit log file.
    public static func embedded(audit: any AuditSink) -> SharedState {
        SharedState(replayLedger: InMemoryReplayLedger(), rateLimiter: InMemoryRateLimiter(), audit: audit)
    }
}
