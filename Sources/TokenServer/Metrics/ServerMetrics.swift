import Prometheus
import Synchronization
import TokenCore

/// Everything `/metrics` shows, with Prometheus names (§2: counters end in `_total`, durations
/// are `_seconds`, every family has HELP and TYPE):
/// - the request families, recorded in `HTTPMetrics`' atomic table and written by `PrometheusText`;
/// - every other family in a swift-prometheus registry, each made once with its HELP text, so
///   that recording is an atomic add (a counter) and never a lookup under a lock; the families
///   read at scrape time (quota use, the audit head, `process_*`) are set in it just before it
///   writes.
/// Histograms that are not on the request path (audit commits, database operations) use the
/// registry's own, which takes a lock per observation.
public final class ServerMetrics: DatabaseObserver, Sendable {
    let http = HTTPMetrics()
    private let registry = PrometheusCollectorRegistry()
    private let failureCounters: [AuthenticationFailure.Reason: Counter]
    private let commitDurations: [DurationHistogram]
    private let recordCounters: [Counter]
    private let databaseDurations = Mutex<[String: DurationHistogram]>([:])
    private let refusedConnections: Counter
    private let droppedLogLines: Counter
    private let droppedAccessLines: Counter
    private let acceptBackoffs: Counter
    private let secretsReloadFailures: Counter
    private let secretsLastLoad: Gauge

    private static let shortDurations: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
    ]

    public init(version: String) {
        let registry = self.registry
        process = ProcessMetrics(registry: registry)
        registry.makeGauge(descriptor: Self.family("tokend_build_info", "Always 1; the version of the running binary is its label."), labels: [("version", version)]).set(to: 1.0)
        failureCounters = Dictionary(uniqueKeysWithValues: AuthenticationFailure.Reason.allCases.map {
            ($0, registry.makeCounter(descriptor: Self.family("tokend_auth_failures_total", "Requests refused by caller authentication, by reason."), labels: [("reason", $0.rawValue)]))
        })
        commitDurations = ["ok", "error"].map {
            registry.makeDurationHistogram(descriptor: Self.family("tokend_audit_commit_duration_seconds", "Time to write (and sync) one batch of audit records."), labels: [("result", $0)],
                                           buckets: Self.shortDurations)
        }
        recordCounters = ["ok", "error"].map {
            registry.makeCounter(descriptor: Self.family("tokend_audit_records_total", "Audit records written, or that failed to be written."), labels: [("result", $0)])
        }
        refusedConnections = registry.makeCounter(descriptor: Self.family("tokend_connections_refused_total", "Connections closed at once because their address held --max-connections-per-ip."), labels: [("reason", "per_address")])
        droppedLogLines = registry.makeCounter(descriptor: Self.family("tokend_log_lines_dropped_total", "Log lines dropped because stderr could not keep up."))
        droppedAccessLines = registry.makeCounter(descriptor: Self.family("tokend_access_log_lines_dropped_total", "Access-log lines not written because they were over --access-log-rate."))
        acceptBackoffs = registry.makeCounter(descriptor: Self.family("tokend_accept_backoffs_total", "Times the listener paused accepting because accept(2) failed (out of file descriptors or memory)."))
        secretsReloadFailures = registry.makeCounter(descriptor: Self.family("tokend_secrets_reload_failures_total",
                                                                             "Reloads of the secrets file that failed; the running configuration stayed."))
        secretsLastLoad = registry.makeGauge(descriptor: Self.family("tokend_secrets_last_reload_success_timestamp_seconds",
                                                                     "Unix time of the last successful load of the secrets file (at start or a reload)."))
    }

    /// `tokend_tokens_issued_total{caller}`; made when a secrets file is loaded.
    func issuedCounter(caller: String) -> Counter {
        registry.makeCounter(descriptor: Self.family("tokend_tokens_issued_total", "Tokens issued, by caller."), labels: [("caller", caller)])
    }

    /// A caller removed by a reload: its series go, so /metrics shows only callers that exist.
    func forget(_ counter: Counter) {
        registry.unregisterCounter(counter)
    }

    func authenticationFailed(_ reason: AuthenticationFailure.Reason) {
        failureCounters[reason]?.increment()
    }

    func connectionRefused() {
        refusedConnections.increment()
    }

    func accessLogLineDropped() {
        droppedAccessLines.increment()
    }

    func acceptBackedOff() {
        acceptBackoffs.increment()
    }

    public func logLinesDropped(_ count: Int) {
        droppedLogLines.increment(by: Int64(count))
    }

    /// Called by the audit writer after each batch (one fdatasync).
    public func auditCommitted(seconds: Double, records: Int, succeeded: Bool) {
        commitDurations[succeeded ? 0 : 1].record(.nanoseconds(Int64(seconds * 1e9)))
        recordCounters[succeeded ? 0 : 1].increment(by: Int64(records))
    }

    public func operationFinished(_ operation: String, succeeded: Bool, seconds: Double) {
        let result = succeeded ? "ok" : "error"
        let histogram = databaseDurations.withLock { histograms in
            if let histogram = histograms[operation + result] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: Self.family("tokend_database_operation_duration_seconds", "Time of one shared-state operation on PostgreSQL, by operation and result."), labels: [("operation", operation), ("result", result)], buckets: Self.shortDurations)
            histograms[operation + result] = histogram
            return histogram
        }
        histogram.record(.nanoseconds(Int64(seconds * 1e9)))
    }

    /// Made on first use: a series only with a database.
    public func operationsInFlight(_ count: Int) {
        registry.makeGauge(descriptor: Self.family("tokend_database_operations_in_flight", "Shared-state operations waiting on PostgreSQL now."))
            .set(Double(count))
    }

    public func dependencyChanged(_ dependency: String, up: Bool) {
        registry.makeGauge(descriptor: Self.family("tokend_dependency_up", "1 while the dependency takes writes (its breaker closed), 0 while it is down."),
                           labels: [("dependency", dependency)]).set(up ? 1.0 : 0.0)
        registry.makeCounter(descriptor: Self.family("tokend_dependency_transitions_total", "Times the dependency went up or down (the breaker closed or opened)."),
                             labels: [("dependency", dependency), ("to", up ? "up" : "down")]).increment()
    }

    /// A reload of the secrets file (SIGHUP, `--watch-secrets`, and the first load at start):
    /// failures counted, the last success's time kept, so that a refused file is seen (an
    /// alert, `tokend reload`) and not only logged.
    public func secretsLoaded(succeeded: Bool) {
        if succeeded {
            secretsLastLoad.set(Double(WallClock.nowMilliseconds()) / 1000)
        } else {
            secretsReloadFailures.increment()
        }
    }

    public func databaseHostChanged(to host: String) {
        registry.makeCounter(descriptor: Self.family("tokend_database_host_switches_total", "Times the PostgreSQL store moved to another of the --database URL's hosts (a failover found)."))
            .increment()
    }

    public func auditChainCut(missingRecords: Int) {
        registry.makeCounter(descriptor: Self.family("tokend_audit_chain_cuts_total", "Times this instance found its database chain shorter than its heartbeat's head (records removed), and wrote audit.cut."))
            .increment()
    }

    public func probeFinished(_ dependency: String, succeeded: Bool, seconds: Double) {
        registry.makeDurationHistogram(descriptor: Self.family("tokend_dependency_probe_duration_seconds", "Time of one write probe, by dependency and result."),
                                       labels: [("dependency", dependency), ("result", succeeded ? "ok" : "error")], buckets: Self.shortDurations)
            .record(.nanoseconds(Int64(seconds * 1e9)))
    }

    /// A family's whole name (its unit already in it, `_total`, `_seconds`) and HELP text.
    private static func family(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    private let auditHead = Mutex<(@Sendable () -> Int?)?>(nil)

    /// Where the file log's chain ends, read when `/metrics` is scraped.
    func reportAuditHead(_ provider: @escaping @Sendable () -> Int?) {
        auditHead.withLock { $0 = provider }
    }

    private let quotaUse = Mutex<(@Sendable () -> [(caller: String, used: Int, limit: Int)])?>(nil)

    /// Each caller's use of its quota in the current window, read when `/metrics` is scraped.
    func reportQuotaUse(_ provider: @escaping @Sendable () -> [(caller: String, used: Int, limit: Int)]) {
        quotaUse.withLock { $0 = provider }
    }

    /// The callers whose quota series were written at the last scrape.
    private let quotaSeries = Mutex<[String: (used: Gauge, limit: Gauge)]>([:])
    private let process: ProcessMetrics

    func render() -> [UInt8] {
        updateScrapeTimeFamilies()
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        // The request families, kept in their own lock-free table (see `HTTPMetrics`).
        var text = PrometheusText()
        http.render(into: &text)
        return buffer + text.bytes
    }

    /// The families read when `/metrics` is scraped, set in the registry just before it writes.
    private func updateScrapeTimeFamilies() {
        let uses = quotaUse.withLock({ $0 })?() ?? []
        quotaSeries.withLock { series in
            let present = Set(uses.map(\.caller))
            for (caller, gauges) in series where !present.contains(caller) {
                registry.unregisterGauge(gauges.used)
                registry.unregisterGauge(gauges.limit)
                series[caller] = nil
            }
            for use in uses {
                let gauges = series[use.caller] ?? (
                    registry.makeGauge(descriptor: Self.family("tokend_quota_used", "Tokens this caller minted in its current quota window (all replicas)."),
                                       labels: [("caller", use.caller)]),
                    registry.makeGauge(descriptor: Self.family("tokend_quota_limit", "The caller's quota: tokens per window."), labels: [("caller", use.caller)]))
                series[use.caller] = gauges
                gauges.used.set(Double(use.used))
                gauges.limit.set(Double(use.limit))
            }
        }
        if let seq = auditHead.withLock({ $0 })?() {
            registry.makeGauge(descriptor: Self.family("tokend_audit_last_seq", "The seq of the last record in the audit log file (its head; see audit verify --head)."))
                .set(Double(seq))
        }
        process.update()
    }
}
