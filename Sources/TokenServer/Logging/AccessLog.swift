import Logging
import NIOCore
import NIOHTTP1

/// Every answered request: its metrics (two atomic adds) and, at log level info or below, one
/// access-log line — id, method, path (never the query), status, duration, caller, remote
/// address. Never a header value, body, key, signature or token.
struct AccessLog: HTTPObserver {
    let metrics: HTTPMetrics
    let format: LogFormat
    let output: LogOutput
    let enabled: Bool

    init(metrics: HTTPMetrics, format: LogFormat, level: Logger.Level, output: LogOutput = .standardError) {
        self.metrics = metrics
        self.format = format
        self.output = output
        enabled = level <= .info
    }

    func requestFinished(_ request: FinishedRequest) {
        let nanoseconds = Int((NIODeadline.now() - request.started).nanoseconds)
        let pathEnd = request.path.utf8.firstIndex(of: UInt8(ascii: "?")) ?? request.path.endIndex
        let path = request.path[..<pathEnd]
        metrics.record(route: Route(path: path), status: request.status, nanoseconds: nanoseconds)
        guard enabled else { return }
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
