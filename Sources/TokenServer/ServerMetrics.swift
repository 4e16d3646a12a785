import Metrics
import Prometheus
import Synchronization
import TokenCore

/// tokend's own metrics, through swift-metrics; Hummingbird's MetricsMiddleware adds requests by
/// route and status and the request-latency histogram. All of it is rendered by one Prometheus
/// registry at `/metrics`.
public struct ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

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

    func tokenIssued(caller: String) {
        Counter(label: "tokend_tokens_issued_total", dimensions: [("caller", caller)]).increment()
    }

    func authenticationFailed(_ reason: AuthenticationFailure.Reason) {
        Counter(label: "tokend_auth_failures_total", dimensions: [("reason", reason.rawValue)]).increment()
    }

    public func auditCommitted(seconds: Double, records: Int, succeeded: Bool) {
        Timer(label: "tokend_audit_commit_duration_seconds", dimensions: [("result", succeeded ? "ok" : "error")])
            .recordNanoseconds(Int64(seconds * 1e9))
        Counter(label: "tokend_audit_records_total", dimensions: [("result", succeeded ? "ok" : "error")]).increment(by: records)
    }

    func render() -> [UInt8] {
        registry.emitToBuffer()
    }
}
