import Synchronization

/// The embedded rate limiter: per-caller token buckets in memory, `rate` requests per second,
/// holding at most one second's worth, so a caller can burst to its rate and no further.
public final class InMemoryRateLimiter: RateLimiting {
    private let buckets = Mutex<[String: Bucket]>([:])

    public init() {}

    public func acquire(callerID: String, rate: Double) -> Int? {
        acquire(callerID: callerID, rate: rate, now: Double(WallClock.nowMilliseconds()) / 1000)
    }

    public func acquire(callerID: String, rate: Double, completion: @escaping @Sendable (Result<Int?, any Error>) -> Void) {
        completion(.success(acquire(callerID: callerID, rate: rate)))
    }

    /// Takes one token for `callerID` at time `now` (seconds); nil when allowed, else the whole
    /// seconds to wait (≥ 1).
    public func acquire(callerID: String, rate: Double, now: Double) -> Int? {
        buckets.withLock { buckets in
            var bucket = buckets[callerID] ?? Bucket(tokens: max(rate, 1), updated: now, rate: rate)
            if bucket.rate != rate {  // the secrets file was reloaded with a new limit
                bucket = Bucket(tokens: min(bucket.tokens, max(rate, 1)), updated: bucket.updated, rate: rate)
            }
            let capacity = max(rate, 1)
            bucket.tokens = min(capacity, bucket.tokens + max(0, now - bucket.updated) * rate)
            bucket.updated = now
            defer { buckets[callerID] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return RetryAfter.seconds((1 - bucket.tokens) / rate)
        }
    }

    private struct Bucket {
        var tokens: Double
        var updated: Double
        var rate: Double
    }
}
