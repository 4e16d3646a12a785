import Testing
@testable import TokenPostgres

/// The breaker and readiness as a value: events in, answers out, no database.
struct HealthStateTests {
    let start = ContinuousClock.now

    @Test func startsNotReadyThenOpensAndClosesOnceEach() {
        var health = HealthState(staleAfter: .seconds(3))
        #expect(health.readinessProblem(now: start) == "no write probe has completed yet")
        #expect(health.failFastReason == nil, "nothing is known yet: requests try")
        #expect(health.probeSucceeded(at: start) == .wentUp)
        #expect(health.probeSucceeded(at: start + .seconds(1)) == nil)
        #expect(health.readinessProblem(now: start + .seconds(1)) == nil)

        #expect(health.failed("audit_commit: no answer", at: start + .seconds(2)) == .wentDown(reason: "audit_commit: no answer"))
        #expect(health.failed("write probe: connection refused", at: start + .seconds(3)) == nil, "already down: no second transition")
        #expect(health.failFastReason == "write probe: connection refused", "the newest reason")
        #expect(health.readinessProblem(now: start + .milliseconds(4500)) == "down for 2.5 s: write probe: connection refused")
        #expect(health.probeSucceeded(at: start + .seconds(5)) == .wentUp)
        #expect(health.failFastReason == nil)
    }

    @Test func upButWithoutARecentProbeIsNotReady() {
        var health = HealthState(staleAfter: .seconds(3))
        _ = health.probeSucceeded(at: start)
        #expect(health.readinessProblem(now: start + .seconds(3)) == nil)
        let problem = health.readinessProblem(now: start + .milliseconds(3200))
        #expect(problem?.hasPrefix("no write has completed for 3.2 s") == true, "\(problem ?? "nil")")
        #expect(health.failFastReason == nil, "a slow probe is not a failure: requests still try")
    }
}
