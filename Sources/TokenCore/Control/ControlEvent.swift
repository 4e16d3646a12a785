/// A change to what tokens are good for or how many may be minted. Each one is durable (in the
/// state journal and as an audit record) before its answer is sent, and is replayed at start.
public enum ControlEvent: Sendable, Equatable {
    /// One token (or, by `jti` alone, every token with that id). `identity` narrows a Twilio
    /// token, whose jti is only unique per key and second. `scope` is the revoking caller when it
    /// may revoke only its own tokens; nil for any caller's.
    case revokeToken(jti: String, identity: String?, scope: String?, expires: Int)
    /// Every token for `identity` issued before `issuedBefore` (Unix seconds).
    case revokeIdentity(identity: String, issuedBefore: Int, scope: String?)
    /// No token for `identity` from `at` until `until` (nil: until unblocked); the identity's
    /// tokens issued before `at` stop being valid.
    case block(identity: String, at: Int, until: Int?)
    /// Lifts a block; tokens issued up to `at` stay revoked.
    case unblock(identity: String, at: Int)
    /// At most `count` tokens were issued in a quota window (a reservation made ahead of the
    /// tokens), or, `exact`, precisely `count` (written at a clean stop).
    case quotaCount(QuotaKey, count: Int, exact: Bool)
}

/// A quota window's counter: a caller's (identity nil) or a caller's for one identity.
public struct QuotaKey: Sendable, Hashable {
    public let caller: String
    public let identity: String?
    public let windowStart: Int
    public let windowSeconds: Int

    public init(caller: String, identity: String?, windowStart: Int, windowSeconds: Int) {
        self.caller = caller
        self.identity = identity
        self.windowStart = windowStart
        self.windowSeconds = windowSeconds
    }

    /// The counter of `quota`'s window that holds `now`.
    public init(caller: String, identity: String?, quota: Quota, at now: Int) {
        self.init(caller: caller, identity: identity, windowStart: quota.windowStart(at: now), windowSeconds: quota.window.seconds)
    }

    /// Saturating: a journal line or a database row edited to huge numbers must not trap.
    public var windowEnd: Int {
        let (end, overflow) = windowStart.addingReportingOverflow(windowSeconds)
        return overflow ? (windowSeconds < 0 ? Int.min : Int.max) : end
    }
}

extension ControlEvent {
    /// Until when the event can still change an answer (Unix seconds), or nil while nothing but
    /// a later event ends it (a block without `until`, which an unblock lifts). The same rule as
    /// the in-memory purge: a revocation lives as long as a token it names could.
    public var keptUntil: Int? {
        switch self {
        case .revokeToken(_, _, _, let expires):
            return expires
        case .revokeIdentity(_, let issuedBefore, _):
            return issuedBefore + ControlState.entryLifetime
        case .block(_, let at, let until):
            // A block also revokes the identity's earlier tokens, for as long as they could live.
            return until.map { max($0, at + 1 + ControlState.entryLifetime) }
        case .unblock(_, let at):
            return at + 1 + ControlState.entryLifetime
        case .quotaCount(let key, _, _):
            return key.windowEnd
        }
    }

    /// The identity a block or an unblock is about.
    public var blockIdentity: String? {
        switch self {
        case .block(let identity, _, _), .unblock(let identity, _): return identity
        default: return nil
        }
    }

    /// Whether the event lifts the identity's earlier blocks (which then no longer matter).
    public var liftsBlock: Bool {
        if case .unblock = self { return true }
        return false
    }
}
