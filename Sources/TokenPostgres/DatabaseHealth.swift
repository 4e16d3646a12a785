/// Whether PostgreSQL takes writes now, as the background probe and the request path see it: a
/// pure value, changed by events and asked for answers, tested without a database.
///
/// A breaker: once a probe or a request meets a failure that says "the database cannot be used"
/// (no connection, no answer in time, a lock that does not come, the server shutting down), it
/// is `down` and every request fails at once, without a round trip, until a probe succeeds — one
/// probe at a time finds it back. Readiness answers from this value alone, in microseconds: down
/// is not ready, and neither is "up" whose last successful probe is older than `staleAfter` (a
/// probe that is itself stuck on a stalled server).
struct HealthState: Sendable {
    enum Condition: Sendable, Equatable {
        case starting
        case up
        case down(reason: String)
    }

    enum Transition: Sendable, Equatable {
        case wentUp
        case wentDown(reason: String)
    }

    private(set) var condition: Condition = .starting
    private(set) var lastSuccess: ContinuousClock.Instant?
    private(set) var downSince: ContinuousClock.Instant?
    let staleAfter: Duration

    init(staleAfter: Duration) {
        self.staleAfter = staleAfter
    }

    /// A probe committed its write.
    mutating func probeSucceeded(at now: ContinuousClock.Instant) -> Transition? {
        lastSuccess = now
        guard condition != .up else { return nil }
        condition = .up
        downSince = nil
        return .wentUp
    }

    /// A probe or a request failed in a way that says the database cannot be used now.
    mutating func failed(_ reason: String, at now: ContinuousClock.Instant) -> Transition? {
        if case .down(let current) = condition {
            if current != reason { condition = .down(reason: reason) }  // the newest words
            return nil
        }
        condition = .down(reason: reason)
        downSince = now
        return .wentDown(reason: reason)
    }

    /// Why a request must not wait for the database now, or nil.
    var failFastReason: String? {
        if case .down(let reason) = condition { return reason }
        return nil
    }

    /// Why the service is not ready because of the database, or nil.
    func readinessProblem(now: ContinuousClock.Instant) -> String? {
        switch condition {
        case .starting:
            return "no write probe has completed yet"
        case .down(let reason):
            let seconds = downSince.map { now - $0 }.map { " for \(Self.seconds($0)) s" } ?? ""
            return "down\(seconds): \(reason)"
        case .up:
            guard let lastSuccess, now - lastSuccess > staleAfter else { return nil }
            return "no write has completed for \(Self.seconds(now - lastSuccess)) s (stalled: a lock, a full disk, a standby that does not answer)"
        }
    }

    /// Seconds with one decimal.
    private static func seconds(_ duration: Duration) -> String {
        let components = duration.components
        let tenths = Int(components.seconds) * 10 + Int(components.attoseconds / 100_000_000_000_000_000)
        return "\(tenths / 10).\(tenths % 10)"
    }
}
