import PostgresNIO
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
        let (admitted, wait) = try await store.run("rate_limit") { client in
            let rows = try await client.query("""
                WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now),
                admitted AS (
                    INSERT INTO tokend_rate AS r (caller_id, tat) SELECT \(callerID), clock.now + \(interval) FROM clock
                    ON CONFLICT (caller_id) DO UPDATE SET tat = greatest(r.tat, EXCLUDED.tat - \(interval)) + \(interval)
                    WHERE greatest(r.tat, EXCLUDED.tat - \(interval)) + \(interval) - (EXCLUDED.tat - \(interval)) <= \(burst)
                    RETURNING 1)
                SELECT (SELECT count(*) FROM admitted),
                       coalesce((SELECT greatest(r.tat, clock.now) + \(interval) - clock.now - \(burst) FROM tokend_rate r, clock
                                 WHERE r.caller_id = \(callerID)), 0)
                FROM clock
                """)
            var result = (1, 0.0)
            for try await row in rows.decode((Int, Double).self) { result = row }
            return result
        }
        if admitted == 1 { return nil }
        return max(1, Int(wait.rounded(.up)))
    }
}
