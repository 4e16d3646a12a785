import NIOHTTP1
import TokenCore

/// `tokend_http_requests_total{route,status}` and `tokend_http_request_duration_seconds{route}`:
/// a fixed table of atomic cells, indexed by route and status, so recording a request is two
/// atomic adds. Only series that have counted something are rendered.
final class HTTPMetrics: Sendable {
    /// Every status tokend answers with; any other is counted as `other`.
    static let statuses: [UInt] = [200, 400, 401, 403, 404, 405, 408, 413, 415, 417, 429, 431, 500, 501, 503]
    static let durationBounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    private let counts: [AtomicCell]
    private let durations: [AtomicHistogram]

    init() {
        counts = (0..<(Route.allCases.count * (Self.statuses.count + 1))).map { _ in AtomicCell() }
        durations = Route.allCases.map { _ in AtomicHistogram(boundsInSeconds: Self.durationBounds) }
    }

    func record(route: Route, status: HTTPResponseStatus, nanoseconds: Int) {
        let statusIndex = Self.statuses.firstIndex(of: status.code) ?? Self.statuses.count
        counts[route.rawValue * (Self.statuses.count + 1) + statusIndex].add(1)
        durations[route.rawValue].observe(nanoseconds: nanoseconds)
    }

    func render(into text: inout PrometheusText) {
        text.family("tokend_http_requests_total", type: "counter", help: "HTTP requests answered, by route and status.")
        for route in Route.allCases {
            for (index, status) in (Self.statuses.map(String.init) + ["other"]).enumerated() {
                let value = counts[route.rawValue * (Self.statuses.count + 1) + index].value
                if value > 0 {
                    text.sample("tokend_http_requests_total", labels: [("route", route.label), ("status", status)], value: Double(value))
                }
            }
        }
        text.family("tokend_http_request_duration_seconds", type: "histogram",
                    help: "Time from a request's head to its answer being written, by route.")
        for route in Route.allCases {
            let (cumulative, sum) = durations[route.rawValue].snapshot()
            guard let total = cumulative.last, total > 0 else { continue }
            text.histogram("tokend_http_request_duration_seconds", labels: [("route", route.label)],
                           bounds: Self.durationBounds, cumulative: cumulative, sum: sum)
        }
    }
}
