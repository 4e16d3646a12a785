import NIOHTTP1

/// tokend's endpoints. A route is also the `route` label of the request metrics, so the
/// label's values are this fixed set whatever paths clients send.
enum Route: Int, CaseIterable, Sendable {
    case tokens, revoke, introspect, block, unblock, healthz, readyz, metrics, openapi, unknown

    init(path: Substring) {
        switch path {
        case "/v1/tokens": self = .tokens
        case "/v1/tokens/revoke": self = .revoke
        case "/v1/tokens/introspect": self = .introspect
        case "/v1/identities/block": self = .block
        case "/v1/identities/unblock": self = .unblock
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
        case .revoke: "/v1/tokens/revoke"
        case .introspect: "/v1/tokens/introspect"
        case .block: "/v1/identities/block"
        case .unblock: "/v1/identities/unblock"
        case .healthz: "/healthz"
        case .readyz: "/readyz"
        case .metrics: "/metrics"
        case .openapi: "/openapi.yaml"
        case .unknown: "other"
        }
    }

    /// The `Allow` header of a 405. HEAD works wherever GET does.
    var allow: String { action != nil ? "POST" : "GET, HEAD" }

    /// What an authenticated route does; nil for the unauthenticated operations routes.
    var action: CallerAction? {
        switch self {
        case .tokens: .mint
        case .revoke: .revoke
        case .introspect: .introspect
        case .block: .block
        case .unblock: .unblock
        default: nil
        }
    }

    func allows(_ method: HTTPMethod) -> Bool {
        switch self {
        case _ where action != nil: method == .POST
        case .unknown: true
        default: method == .GET || method == .HEAD
        }
    }
}

/// Every path tokend serves, from `Route`: the CLI refuses a base URL that ends in one.
public enum TokenServerPaths {
    public static let served = Route.allCases.filter { $0 != .unknown }.map(\.label)
}
