/// Per-caller rate limits: `rate` requests per second, holding at most one second's
/// worth, for this instance (memory) or for all instances together (PostgreSQL).
public protocol RateLimiting: Sendable {
    /// Takes one request from `callerID`'s allowance: nil when allowed, else the whole seconds to
    /// wait (≥ 1), for `Retry-After`.
    func acquire(callerID: String, rate: Double) async throws -> Int?
    /// The same, for a caller that must not suspend (an event loop): `completion` runs once the
    /// decision is made — on the calling thread, before this returns, for the in-memory limiter.
    func acquire(callerID: String, rate: Double, completion: @escaping @Sendable (Result<Int?, any Error>) -> Void)
}

extension RateLimiting {
    public func acquire(callerID: String, rate: Double, completion: @escaping @Sendable (Result<Int?, any Error>) -> Void) {
        complete(completion) { try await acquire(callerID: callerID, rate: rate) }
    }
}

/// `Retry-After` from a wait in seconds: whole seconds, at least 1 and at most a day. Total: the
/// secrets file allows any positive rate, and `rate_limit = 1e-300` makes a wait of 1e300 s,
/// which a plain `Int(_:)` would trap on.
public enum RetryAfter {
    public static let maximum = 86_400

    public static func seconds(_ wait: Double) -> Int {
        guard wait.isFinite, wait < Double(maximum) else { return maximum }
        return max(1, Int(wait.rounded(.up)))
    }
}
