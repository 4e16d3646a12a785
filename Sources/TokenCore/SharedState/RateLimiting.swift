/// Per-caller rate limits (DESIGN §2, §3): `rate` requests per second, holding at most one second's
/// worth, for this instance (memory) or for all instances together (PostgreSQL).
public protocol RateLimiting: Sendable {
    /// Takes one request from `callerID`'s allowance: nil when allowed, else the whole seconds to
    /// wait (≥ 1), for `Retry-After`.
    func acquire(callerID: String, rate: Double) async throws -> Int?
}
