/// Tokens counted per quota window: one counter per caller with a `quota`, one per (caller,
/// identity) with an `identity_quota`. A plain value behind `ControlState`'s lock.
///
/// Counts are made durable ahead, in steps: the state journal records a *reservation* — "at most
/// this many tokens in this window" — of 1 % of the quota (one token for quotas up to 100), and
/// a mint waits for the journal only when its count passes what is already durable. A crash can
/// therefore leave a window counted higher than the tokens issued (by less than one step: fail
/// closed), never lower; a clean stop writes the exact counts.
///
/// Per-identity counters are bounded (`identityCapacity`): anyone who can choose identities
/// could otherwise grow the table without end. When it is full, a mint that needs a new
/// counter is refused (fail closed) until a window ends and frees its counters.
struct QuotaCounters {
    enum Decision: Equatable {
        /// Counted: the reservations to make durable before the token may be released (none when
        /// the count is within what is durable already), and whether the caller's own quota
        /// just passed 80 %.
        case admitted([Reservation], crossedWarning: Bool)
        case exceeded(Quota, resetsAt: Int)
        case full
    }

    struct Reservation: Equatable, Sendable {
        let key: QuotaKey
        let upTo: Int
    }

    private struct Counter {
        var count = 0
        /// The highest reservation asked of the journal, and the highest it has confirmed.
        var reserved = 0
        var durable = 0
    }

    let identityCapacity: Int
    private var counters: [QuotaKey: Counter] = [:]
    private(set) var identityEntries = 0

    init(identityCapacity: Int) {
        self.identityCapacity = identityCapacity
    }

    /// The same counts under another bound (the journal is replayed without one: what was
    /// counted was counted).
    func withCapacity(_ capacity: Int) -> QuotaCounters {
        QuotaCounters(identityCapacity: capacity, counters: counters, identityEntries: identityEntries)
    }

    private init(identityCapacity: Int, counters: [QuotaKey: Counter], identityEntries: Int) {
        self.identityCapacity = identityCapacity
        self.counters = counters
        self.identityEntries = identityEntries
    }

    func count(_ key: QuotaKey) -> Int { counters[key]?.count ?? 0 }

    /// Every window's count, for a compacted journal or the exact counts at a clean stop.
    var counts: [QuotaKey: Int] { counters.mapValues(\.count) }

    /// The step a reservation takes for `quota`.
    static func step(_ quota: Quota) -> Int { max(1, quota.limit / 100) }

    /// Counts one token for `caller` and `identity` at `now` if both quotas allow it; nothing
    /// changes when either refuses.
    mutating func reserve(caller: Caller, identity: String, now: Int) -> Decision {
        var keys: [(QuotaKey, Quota)] = []
        if let quota = caller.quota {
            let key = QuotaKey(caller: caller.id, identity: nil, quota: quota, at: now)
            if count(key) >= quota.limit { return .exceeded(quota, resetsAt: key.windowEnd) }
            keys.append((key, quota))
        }
        if let quota = caller.identityQuota {
            let key = QuotaKey(caller: caller.id, identity: identity, quota: quota, at: now)
            let used = count(key)
            if used >= quota.limit { return .exceeded(quota, resetsAt: key.windowEnd) }
            if counters[key] == nil && identityEntries >= identityCapacity { return .full }
            keys.append((key, quota))
        }
        var crossed = false
        var reservations: [Reservation] = []
        for (key, quota) in keys {
            if counters[key] == nil, key.identity != nil { identityEntries += 1 }
            var counter = counters[key] ?? Counter()
            counter.count += 1
            if counter.count > counter.reserved {
                // Never past the limit, and no addition that could overflow near Int.max.
                counter.reserved = counter.count + min(Self.step(quota) - 1, quota.limit - counter.count)
            }
            // Not yet durable: this token waits for a reservation that covers it (a second line
            // while one is in flight is harmless: the journal keeps the highest).
            if counter.count > counter.durable { reservations.append(Reservation(key: key, upTo: counter.reserved)) }
            counters[key] = counter
            if key.identity == nil { crossed = counter.count == Self.warningThreshold(quota) }
        }
        return .admitted(reservations, crossedWarning: crossed)
    }

    /// The journal has `reservation` on disk.
    mutating func confirm(_ reservation: Reservation) {
        guard var counter = counters[reservation.key] else { return }
        counter.durable = max(counter.durable, reservation.upTo)
        counters[reservation.key] = counter
    }

    /// Replays a journal line: a reservation raises the count to it (an upper bound of what was
    /// issued), an exact count from a clean stop sets it.
    mutating func restore(_ key: QuotaKey, count: Int, exact: Bool) {
        if counters[key] == nil, key.identity != nil { identityEntries += 1 }
        var counter = counters[key] ?? Counter()
        counter.count = exact ? count : max(counter.count, count)
        counter.reserved = counter.count
        counter.durable = counter.count
        counters[key] = counter
    }

    /// Drops the counters of windows that have ended.
    mutating func purge(now: Int) {
        counters = counters.filter { $0.key.windowEnd > now }
        identityEntries = counters.keys.count { $0.identity != nil }
    }

    /// The count at which a warning is logged: the first token past 80 % of the quota.
    static func warningThreshold(_ quota: Quota) -> Int {
        quota.limit / 5 * 4 + quota.limit % 5 * 4 / 5 + 1  // ⌊0.8 × limit⌋ + 1, without overflowing
    }
}
