import NIOHTTP1

/// tokend's five endpoints. A route is also the `route` label of the request metrics, so the
/// label's values are this fixed set whatever paths clients send.
enum Route: Int, CaseIterable, Sendable {
    case tokens, healthz, readyz, metrics, openapi, unknown

    init(path: Substring) {
        switch path {
        case "/v1/tokens": self = .tokens
        case "/healthz": self = .healthz
        case "/readyz": self = .readyz
        case "/metrics": self = .metrics
        case "/openapi.yaml": self = .openapi
        default: self = .unknown
        }
    }

    var label: String {
        switch self {
        case .tokens: "/v1/tokens"
        case .healthz: "/healthz"
        case .readyz: "/readyz"
        case .metrics: "/metrics"
        case .openapi: "/openapi.yaml"
        case .unknown: "other"
        }
    }

    /// The `Allow` header of a 405. HEAD works wherever GET does.
    var allow: String { self == .tokens ? "POST" : "GET, HEAD" }

    func allows(_ method: HTTPMethod) -> Bool {
        switch self {
        case .tokens: method == .POST
        case .unknown: true
        default: method == .GET || method == .HEAD
        }
    }
}
