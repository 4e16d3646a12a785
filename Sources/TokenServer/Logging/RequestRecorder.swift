import Logging
import NIOCore
import NIOHTTP1

/// Every answered request: its metrics (two atomic adds) and, at log level info or below, one
/// access-log line — id, method, path (never the query), status, duration, caller, remote
/// address. Never a header value, body, key, signature or token. Lines are capped per second
/// (`AccessLogBudget`); what is over is summarised in one line a second and counted in
/// `tokend_access_log_lines_dropped_total`.
struct RequestRecorder: HTTPObserver {
    let metrics: ServerMetrics
    let format: LogFormat
    let output: LogOutput
    let enabled: Bool
    let budget: AccessLogBudget

    init(metrics: ServerMetrics, format: LogFormat, level: Logger.Level, linesPerSecond: Int, output: LogOutput = .standardError) {
        self.metrics = metrics
        self.format = format
        self.output = output
        enabled = level <= .info
        let budget = AccessLogBudget(linesPerSecond: linesPerSecond)
        self.budget = budget
        // The summary of a second that is over comes from the writer thread, so it is written
        // even when no request follows.
        output.beforeEachWrite { [format] in
            let dropped = budget.takeUnreported()
            guard dropped > 0 else { return }
            var line = LogLine(format: format, level: "warning", message: "access log lines dropped over the rate cap")
            line.field("dropped", integer: dropped)
            line.field("rate", integer: budget.linesPerSecond)
            line.finish { output.write($0) }
        }
    }

    func requestFinished(_ request: FinishedRequest) {
        let nanoseconds = Int((NIODeadline.now() - request.started).nanoseconds)
        let path = request.path
        metrics.http.record(route: request.route, status: request.status, nanoseconds: nanoseconds)
        guard enabled else { return }
        guard budget.take() else {
            metrics.accessLogLineDropped()
            return
        }
        var line = LogLine(format: format, level: "info", message: "request")
        line.field("request_id", request.requestID)
        line.field("method", request.method.rawValue)
        line.field("path", path.utf8.count <= 200 ? String(path) : String(path.prefix(200)))
        line.field("status", integer: Int(request.status.code))
        line.field("duration_ms", millisecondsFromNanoseconds: nanoseconds)
        line.field("caller", request.caller ?? "-")
        line.field("remote", request.remoteAddress ?? "-")
        line.finish { output.write($0) }
    }
}
