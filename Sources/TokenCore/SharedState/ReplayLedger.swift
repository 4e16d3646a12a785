/// A verified signature that must not be accepted again: what the replay ledger records once the
/// request has passed authentication and the rate limit.
public struct ReplayClaim: Sendable, Equatable {
    public let callerID: String
    /// SHA-256 of what identifies the request: its nonce (per key id) when it has one, otherwise the
    /// signature value. One key per request: with a nonce, the nonce alone refuses both a resent
    /// request and a new signature over the same nonce. Hashed, so every entry has the same size.
    public let key: [UInt8]
    /// From this second on the entry may be forgotten: a signature can no longer pass the
    /// clock-skew check (or its own `expires`) by then.
    public let expiry: Int

    public init(callerID: String, key: [UInt8], expiry: Int) {
        self.callerID = callerID
        self.key = key
        self.expiry = expiry
    }
}

public enum ReplayOutcome: Sendable, Equatable {
    case fresh
    case replayed
    /// The caller holds as many live entries as its share allows; others are unaffected.
    case shareExhausted
}

/// Remembers accepted signatures for the rest of their window, so that a captured request is
/// accepted once — by this instance (memory) or by every instance (PostgreSQL).
public protocol ReplayLedger: Sendable {
    /// Records `claim` unless its key is already recorded and live. `share` bounds how many live
    /// entries one caller may hold, so no caller can crowd out another.
    func record(_ claim: ReplayClaim, share: Int, now: Int) async throws -> ReplayOutcome
    /// The same, for a caller that must not suspend: `completion` runs once recorded — on the
    /// calling thread, before this returns, for the in-memory ledger.
    func record(_ claim: ReplayClaim, share: Int, now: Int, completion: @escaping @Sendable (Result<ReplayOutcome, any Error>) -> Void)
}

extension ReplayLedger {
    public func record(_ claim: ReplayClaim, share: Int, now: Int, completion: @escaping @Sendable (Result<ReplayOutcome, any Error>) -> Void) {
        complete(completion) { try await record(claim, share: share, now: now) }
    }
}

/// How many live ledger entries one caller may hold.
public enum ReplayShare {
    /// For a caller without `rate_limit`: about 800 signed requests a second, sustained, with the
    /// default ±300 s window. A caller that needs more declares its rate, which raises its share.
    public static let unlimitedCallerEntries = 250_000

    /// A caller with a rate limit can never exceed its rate times the longest life of an entry
    /// (2 × skew + 1 s); one without gets `unlimitedCallerEntries`.
    public static func entries(rateLimit: Double?, maximumSkew: Int) -> Int {
        guard let rateLimit, rateLimit.isFinite, rateLimit > 0 else { return unlimitedCallerEntries }
        let byRate = Double(2 * maximumSkew + 2) * rateLimit.rounded(.up)
        return max(unlimitedCallerEntries, Int(min(byRate, 1e9)))
    }
}

/// The shared state could not be reached or did not answer in time: the request is refused with a
/// 503 and nothing is issued.
public struct SharedStateUnavailable: Error, CustomStringConvertible {
    public let description: String
    /// The driver's error, for a closer diagnosis; never printed as is (it may quote a query).
    public let underlying: (any Error)?

    public init(_ description: String, underlying: (any Error)? = nil) {
        self.description = description
        self.underlying = underlying
    }
}
