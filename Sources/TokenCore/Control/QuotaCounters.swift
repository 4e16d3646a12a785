/// Tokens counted per quota window: one counter per caller with a `quota`, one per (caller,
/// identity) with an `identity_quota`. A plain value behind `ControlState`'s lock.
///
/// Per-identity counters are bounded (`identityCapacity`): anyone who can choose identities
/// could otherwise grow the table without end. When it is full, a mint that needs a new
/// counter is refused (fail closed) until a window ends and frees its counters.
struct QuotaCounters {
    enum Decision: Equatable {
        /// Counted: the keys to make durable, and whether the caller's own quota just passed 80 %.
        case admitted([QuotaKey], crossedWarning: Bool)
        case exceeded(Quota, resetsAt: Int)
        case full
    }

    let identityCapacity: Int
    private(set) var counts: [QuotaKey: Int] = [:]
    private(set) var identityEntries = 0

    init(identityCapacity: Int) {
        self.identityCapacity = identityCapacity
    }

    /// The same counts under another bound (the journal is replayed without one: what was
    /// counted was counted).
    func withCapacity(_ capacity: Int) -> QuotaCounters {
        var copy = QuotaCounters(identityCapacity: capacity)
        copy.counts = counts
        copy.identityEntries = identityEntries
        return copy
    }

    func count(_ key: QuotaKey) -> Int { counts[key] ?? 0 }

    /// Counts one token for `caller` and `identity` at `now` if both quotas allow it; nothing
    /// changes when either refuses.
    mutating func reserve(caller: Caller, identity: String, now: Int) -> Decision {
        var keys: [QuotaKey] = []
        if let quota = caller.quota {
            let key = QuotaKey(caller: caller.id, identity: nil, windowStart: quota.windowStart(at: now), windowSeconds: quota.window.seconds)
            if count(key) >= quota.limit { return .exceeded(quota, resetsAt: key.windowEnd) }
            keys.append(key)
        }
        if let quota = caller.identityQuota {
            let key = QuotaKey(caller: caller.id, identity: identity, windowStart: quota.windowStart(at: now), windowSeconds: quota.window.seconds)
            let used = count(key)
            if used >= quota.limit { return .exceeded(quota, resetsAt: key.windowEnd) }
            if used == 0 && identityEntries >= identityCapacity { return .full }
            keys.append(key)
        }
        var crossed = false
        for key in keys {
            add(key)
            if key.identity == nil, let quota = caller.quota {
                crossed = counts[key] == Self.warningThreshold(quota)
            }
        }
        return .admitted(keys, crossedWarning: crossed)
    }

    /// Replays a counted token (from the state journal): no limit applies, the count happened.
    mutating func add(_ key: QuotaKey, count: Int = 1) {
        if counts[key] == nil, key.identity != nil { identityEntries += 1 }
        counts[key, default: 0] += count
    }

    /// Drops the counters of windows that have ended.
    mutating func purge(now: Int) {
        counts = counts.filter { $0.key.windowEnd > now }
        identityEntries = counts.keys.count { $0.identity != nil }
    }

    /// The count at which a warning is logged: the first token past 80 % of the quota.
    static func warningThreshold(_ quota: Quota) -> Int {
        quota.limit * 8 / 10 + 1
    }
}
