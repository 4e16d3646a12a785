import Synchronization

/// Remembers accepted signatures (and nonces per key id) until they could no longer pass the
/// clock-skew check, so a captured request cannot be sent twice.
///
/// Only signatures that verified are recorded, so an unauthenticated flood cannot grow it; the
/// capacity is a last bound against a misbehaving authenticated caller, and when it is reached the
/// cache refuses new entries (fail closed) rather than forgetting live ones.
public final class ReplayCache: Sendable {
    public enum Outcome: Equatable {
        case fresh
        case replayed
        case full
    }

    public let capacity: Int
    private let state: Mutex<State>

    public init(capacity: Int = 1_000_000) {
        self.capacity = capacity
        self.state = Mutex(State())
    }

    /// Records every key as used until `expiry` (seconds), unless one of them is already recorded.
    public func use(_ keys: [[UInt8]], until expiry: Int, now: Int) -> Outcome {
        state.withLock { state in
            state.purge(now: now)
            if keys.contains(where: { state.expiries[$0] != nil }) { return .replayed }
            if state.expiries.count + keys.count > capacity { return .full }
            for key in keys {
                state.expiries[key] = expiry
                state.buckets[expiry, default: []].append(key)
            }
            return .fresh
        }
    }

    public var count: Int { state.withLock { $0.expiries.count } }

    private struct State {
        var expiries: [[UInt8]: Int] = [:]
        /// Keys grouped by expiry second, so a purge touches only what has expired.
        var buckets: [Int: [[UInt8]]] = [:]
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
            guard let keys = buckets.removeValue(forKey: second) else { return }
            for key in keys where expiries[key] == second { expiries[key] = nil }
        }
    }
}
