#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TokenServer

/// The process environment, which can set every option too (see `OptionSpec`).
enum Environment {
    static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        let value = String(cString: raw)
        return value.isEmpty ? nil : value
    }

    /// Where the commands that talk to a local instance go without `--url`.
    static let localBaseURL = "http://127.0.0.1:8080"

    /// tokend's base URL from `--url` or `TOKEND_URL` — the same meaning for every command —
    /// without its trailing slash. A base may have a path (tokend behind a proxy at `/tokend`),
    /// but one that ends in an endpoint's (`http://host/v1/tokens`) is refused with that
    /// explanation rather than answered by a bare 404 from `…/v1/tokens/v1/tokens`.
    static func baseURL(_ flag: String?, default fallback: String? = nil) throws(CommandFailure) -> String {
        guard let text = flag ?? value(ClientOptions.url().environment) ?? fallback else {
            throw .usage("missing --url (or the environment variable TOKEND_URL): tokend's base URL, e.g. http://127.0.0.1:8080")
        }
        let base = text.hasSuffix("/") ? String(text.dropLast()) : text
        guard let scheme = ["http://", "https://"].first(where: base.hasPrefix) else {
            throw .usage("--url / TOKEND_URL must be tokend's base URL, http://host:port or https://host:port (got \(String(text.prefix(200))))")
        }
        if let endpoint = TokenServerPaths.served.first(where: { base.dropFirst(scheme.count).hasSuffix($0) }) {
            throw .usage("--url / TOKEND_URL is tokend's base URL, \(base.dropLast(endpoint.count)), not an endpoint's (\(endpoint) is added by each command)")
        }
        return base
    }
}
