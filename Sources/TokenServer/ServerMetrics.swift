import Metrics
import Prometheus
import Synchronization
import TokenCore

/// tokend's own metrics, through swift-metrics; Hummingbird's MetricsMiddleware adds requests by
/// route and status and the request-latency histogram. All of it is rendered by one Prometheus
/// registry at `/metrics`.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Counters by caller, made once each: making a swift-metrics counter goes through the
    /// factory and the registry's lock, too much for every request.
    private let issuedCounters = Mutex<[String: Metrics.Counter]>([:])
    private let failureCounters: [AuthenticationFailure.Reason: Metrics.Counter] = Dictionary(uniqueKeysWithValues:
        AuthenticationFailure.Reason.allCases.map { ($0, Metrics.Counter(label: "tokend_auth_failures_total", dimensions: [("reason", $0.rawValue)])) })

    /// swift-metrics has one global backend per process; it is bootstrapped here, once, with a
    /// Prometheus factory (servers started by tests in the same process share it).
    public static let shared: ServerMetrics = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1),
        ]
        MetricsSystem.bootstrap(factory)
        return ServerMetrics(registry: registry)
    }()

    private init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func tokenIssued(caller: String) {
        let counter = issuedCounters.withLock { counters in
            if let counter = counters[caller] { return counter }
            let counter = Metrics.Counter(label: "tokend_tokens_issued_total", dimensions: [("caller", caller)])
            counters[caller] = counter
            return counter
        }
        counter.increment()
    }

    func authenticationFailed(_ reason: AuthenticationFailure.Reason) {
        failureCounters[reason]?.increment()
    }

    private let commitTimers = [true, false].map { succeeded in
        Metrics.Timer(label: "tokend_audit_commit_duration_seconds", dimensions: [("result", succeeded ? "ok" : "error")])
    }
    private let recordCounters = [true, false].map { succeeded in
        Metrics.Counter(label: "tokend_audit_records_total", dimensions: [("result", succeeded ? "ok" : "error")])
    }

    /// Called by the audit writer after each batch (one fdatasync).
    public func auditCommitted(seconds: Double, records: Int, succeeded: Bool) {
        commitTimers[succeeded ? 0 : 1].recordNanoseconds(Int64(seconds * 1e9))
        recordCounters[succeeded ? 0 : 1].increment(by: records)
    }

    func render() -> [UInt8] {
        registry.emitToBuffer()
    }
}
