import TokenCore

/// Rate limits that hold across all instances together: GCRA on one row per caller, decided in
/// one statement on the database's clock (so the instances' clocks do not matter). Equivalent to
/// the in-memory token bucket: `rate` per second, bursts of at most one second's worth.
///
/// The row is the caller's theoretical arrival time (TAT). A request is admitted when
/// `max(TAT, now) + 1/rate` is no more than one burst ahead of now; admitting moves the TAT there.
public struct PostgresRateLimiter: RateLimiting {
    let store: PostgresStore

    public init(store: PostgresStore) {
        self.store = store
    }

    public func acquire(callerID: String, rate: Double) async throws -> Int? {
        let interval = 1 / rate
        let burst = max(rate, 1) * interval  // seconds of allowance the bucket holds
        let statement = RateLimitStatement(callerID: callerID, interval: interval, burst: burst)
        let (admitted, wait) = try await store.run("rate_limit") { client in try await client.one(statement) }
        if admitted == 1 { return nil }
        return max(1, Int(wait.rounded(.up)))
    }
}
