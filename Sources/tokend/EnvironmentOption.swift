#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TokenServer

/// Every flag can also come from the environment (`--secrets` or `TOKEND_SECRETS`), which is how
/// containers and systemd units configure a program. A flag on the command line wins.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let raw = getenv(name) else { return nil }
        let value = String(cString: raw)
        return value.isEmpty ? nil : value
    }

    /// The flag's value, else the variable's, else nil.
    static func resolve(_ flag: String?, _ name: String) -> String? {
        flag ?? value(name)
    }

    /// tokend's base URL from `--url` or `TOKEND_URL` — the same meaning for every command —
    /// without its trailing slash. A base may have a path (tokend behind a proxy at `/tokend`),
    /// but one that ends in an endpoint's (`http://host/v1/tokens`) is refused with that
    /// explanation rather than answered by a bare 404 from `…/v1/tokens/v1/tokens`.
    static func baseURL(_ flag: String?, default fallback: String? = nil) throws(CommandFailure) -> String {
        guard let text = resolve(flag, "TOKEND_URL") ?? fallback else {
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

    /// The flag's value or the variable's; a usage error naming both when neither is set.
    static func require(_ flag: String?, _ option: String, _ name: String) throws(CommandFailure) -> String {
        guard let value = resolve(flag, name) else {
            throw .usage("missing \(option) (or the environment variable \(name))")
        }
        return value
    }

    /// A whole-number flag or variable within `range`; `fallback` when neither is set.
    static func integer(_ flag: Int?, _ option: String, _ name: String, in range: ClosedRange<Int>,
                        default fallback: Int) throws(CommandFailure) -> Int {
        guard let text = resolve(flag.map(String.init), name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw .usage("\(option) must be a whole number within \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    /// A number of seconds (fractions allowed) within `range`; `fallback` when neither is set.
    static func seconds(_ flag: Double?, _ option: String, _ name: String, in range: ClosedRange<Double>,
                        default fallback: Duration) throws(CommandFailure) -> Duration {
        guard let text = resolve(flag.map { "\($0)" }, name) else { return fallback }
        guard let value = Double(text), range.contains(value) else {
            throw .usage("\(option) must be a number of seconds within \(range.lowerBound.formatted)…\(range.upperBound.formatted)")
        }
        return .milliseconds(Int64((value * 1000).rounded()))
    }

    /// A boolean flag, or the variable set to 1/true/yes.
    static func flag(_ flag: Bool, _ name: String) -> Bool {
        flag || ["1", "true", "yes"].contains(value(name)?.lowercased() ?? "")
    }
}

private extension Double {
    /// `10`, not `10.0`, in messages.
    var formatted: String { self == rounded() ? String(Int(self)) : String(self) }
}
