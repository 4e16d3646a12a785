/// Where revocations, blocks and quota counts live when several replicas share them
/// (PostgreSQL). Each replica still answers introspection and the block check from memory
/// (`ControlState`); the store makes a change durable for all of them and decides each quota
/// count for all of them together.
public protocol SharedControlStore: Sendable {
    /// Makes `events` durable for every replica. `completion` runs once they are, and once this
    /// replica has them in force (`ControlState.applyShared`, in the order every replica applies
    /// them).
    func record(_ events: [ControlEvent], completion: @escaping @Sendable (Result<Void, any Error>) -> Void)

    /// Counts one token against the caller's quotas for all replicas: both counted or neither.
    func count(_ take: QuotaTake, completion: @escaping @Sendable (Result<QuotaTake.Outcome, any Error>) -> Void)
}

/// One token to count: against the caller's own quota, its quota for the token's identity, or both.
public struct QuotaTake: Sendable {
    public struct Counter: Sendable {
        public let key: QuotaKey
        public let quota: Quota
    }

    public let caller: Counter?
    public let identity: Counter?

    public enum Outcome: Sendable, Equatable {
        /// Counted; `callerCount` is the caller's count after it (0 without a caller quota).
        case admitted(callerCount: Int)
        case callerExceeded
        case identityExceeded
        /// The shared per-identity table is full: refused rather than counted nowhere.
        case full
    }

    public init(caller: Caller, identity: String, now: Int) {
        self.caller = caller.quota.map { Counter(key: QuotaKey(caller: caller.id, identity: nil, quota: $0, at: now), quota: $0) }
        self.identity = caller.identityQuota.map { Counter(key: QuotaKey(caller: caller.id, identity: identity, quota: $0, at: now), quota: $0) }
    }
}
