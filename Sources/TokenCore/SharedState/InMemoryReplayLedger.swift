import Synchronization

/// The embedded replay ledger: accepted signatures in memory, until they could no longer pass the
/// clock-skew check. Entries are recorded only for requests that authenticated and passed the
/// rate limit, and each caller holds at most its share, so one caller's traffic cannot refuse
/// another's. Bounded in all: callers come from the secrets file, each with a bounded share.
public final class InMemoryReplayLedger: ReplayLedger {
    private let state = Mutex(State())

    public init() {}

    public func record(_ claim: ReplayClaim, share: Int, now: Int, completion: @escaping @Sendable (Result<ReplayOutcome, any Error>) -> Void) {
        completion(.success(record(claim, share: share, now: now)))
    }

    public func record(_ claim: ReplayClaim, share: Int, now: Int) -> ReplayOutcome {
        let key = Key(claim.key)
        return state.withLock { state in
            state.purge(now: now)
            if state.expiries[key] != nil { return .replayed }
            if state.perCaller[claim.callerID, default: 0] >= share { return .shareExhausted }
            state.expiries[key] = claim.expiry
            state.buckets[claim.expiry, default: []].append((key, claim.callerID))
            state.perCaller[claim.callerID, default: 0] += 1
            return .fresh
        }
    }

    public var count: Int { state.withLock { $0.expiries.count } }

    public func count(of callerID: String) -> Int { state.withLock { $0.perCaller[callerID] ?? 0 } }

    /// A claim's key (a SHA-256) as four words: hashed and compared as 4 integers, where a
    /// `[UInt8]` key would be hashed byte by byte and stored as a heap array.
    struct Key: Hashable {
        let words: (UInt64, UInt64, UInt64, UInt64)

        init(_ bytes: [UInt8]) {
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            withUnsafeMutableBytes(of: &words) { raw in
                raw.copyBytes(from: bytes.prefix(32))
            }
            // Longer keys cannot occur (claims are SHA-256 digests); fold any rest in anyway.
            for (index, byte) in bytes.dropFirst(32).enumerated() { words.0 ^= UInt64(byte) << (8 * UInt64(index % 8)) }
            self.words = words
        }

        static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.words.0 == rhs.words.0 && lhs.words.1 == rhs.words.1 && lhs.words.2 == rhs.words.2 && lhs.words.3 == rhs.words.3
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
        }
    }

    private struct State {
        var expiries: [Key: Int] = [:]
        var perCaller: [String: Int] = [:]
        /// Keys grouped by expiry second, so a purge touches only what has expired.
        var buckets: [Int: [(key: Key, caller: String)]] = [:]
        /// Every bucket before this second has been purged.
        var purgedUntil = Int.min

        mutating func purge(now: Int) {
            guard now > purgedUntil else { return }
            defer { purgedUntil = now }
            // Walk the seconds since the last purge; after a long quiet spell, the buckets instead.
            if purgedUntil != Int.min && now - purgedUntil <= buckets.count {
                for second in purgedUntil..<now { drop(second) }
            } else {
                for second in buckets.keys where second < now { drop(second) }
            }
        }

        private mutating func drop(_ second: Int) {
            guard let entries = buckets.removeValue(forKey: second) else { return }
            for entry in entries where expiries[entry.key] == second {
                expiries[entry.key] = nil
                let left = (perCaller[entry.caller] ?? 1) - 1
                perCaller[entry.caller] = left > 0 ? left : nil
            }
        }
    }
}
