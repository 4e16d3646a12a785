import HTTPTypes

/// A request as authentication sees it: plain values, so that the RFC 9421 code is tested without
/// a server and the CLI's signer builds the very same signature base.
public struct RequestParts: Sendable {
    public var method: String
    /// `http` or `https`: the scheme the client used to reach us (part of `@target-uri`).
    public var scheme: String
    /// The other scheme a signature may name, or nil: the connection's own scheme when it differs
    /// from the public one (callers inside a cluster sign `http://…`, callers through the TLS
    /// ingress sign `https://…`; both reach the same listener).
    public var alternateScheme: String?
    /// `host[:port]` as the client addressed it (the Host header).
    public var authority: String
    /// The path, without the query; "/" when empty.
    public var path: String
    /// The query without its leading `?`; nil when the URL has none.
    public var query: String?
    public var headers: any HeaderFields
    public var body: [UInt8]

    public init(method: String, scheme: String, authority: String, path: String, query: String?,
                headers: any HeaderFields, body: [UInt8], alternateScheme: String? = nil) {
        self.method = method
        self.scheme = scheme
        self.alternateScheme = alternateScheme
        self.authority = authority
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Splits an absolute `http(s)://authority/path?query` URL, as the CLI is given one.
    public init?(method: String, url: String, headers: HTTPFields = [:], body: [UInt8] = []) {
        let scheme: String
        let rest: Substring
        if url.lowercased().hasPrefix("http://") {
            (scheme, rest) = ("http", url.dropFirst(7))
        } else if url.lowercased().hasPrefix("https://") {
            (scheme, rest) = ("https", url.dropFirst(8))
        } else {
            return nil
        }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = String(rest[..<authorityEnd])
        guard !authority.isEmpty else { return nil }
        var target = rest[authorityEnd...]
        if let fragment = target.firstIndex(of: "#") { target = target[..<fragment] }
        let (path, query) = PathAndQuery.split(target)
        self.init(method: method.uppercased(), scheme: scheme, authority: authority, path: String(path),
                  query: query.map(String.init), headers: headers, body: body)
    }

    /// `@target-uri`: the full URI the client requested.
    public var targetURI: String {
        "\(scheme)://\(authority)\(path)" + (query.map { "?\($0)" } ?? "")
    }

    /// `@authority`: lower-cased, default port dropped (RFC 9421 §2.2.3).
    public var normalizedAuthority: String {
        let lowered = authority.lowercased()
        if scheme == "http", lowered.hasSuffix(":80") { return String(lowered.dropLast(3)) }
        if scheme == "https", lowered.hasSuffix(":443") { return String(lowered.dropLast(4)) }
        return lowered
    }
}
