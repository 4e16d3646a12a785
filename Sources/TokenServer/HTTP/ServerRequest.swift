import NIOCore
import NIOHTTP1
import TokenCore

/// One whole request as the routes see it: the head, the body (at most the size limit) and what
/// the connection knows about it. Built by `HTTPConnectionHandler` once the request has ended.
struct ServerRequest: Sendable {
    let head: HTTPRequestHead
    let route: Route
    /// The target's path, without the query.
    let path: Substring
    /// The query without its `?`, or nil.
    let query: Substring?
    /// The target URI's authority: the request target's own in absolute form (RFC 9112 §3.2.2:
    /// it wins over `Host`), else the `Host` header.
    let authority: String
    let body: Body
    /// The caller's `X-Request-Id` when it is sane, else a fresh one; echoed on the response.
    let requestID: String
    let remoteAddress: String?

    enum Body: Sendable {
        case bytes(ByteBuffer)
        /// Longer than the limit: not buffered; the answer is a 413 and the connection closes.
        case tooLarge
    }

    var method: HTTPMethod { head.method }
    var headers: HTTPHeaders { head.headers }

    init(head: HTTPRequestHead, exchange: HTTPConnectionStateMachine.Exchange, body: Body, remoteAddress: String?) {
        self.head = head
        let target = exchange.target
        route = exchange.route
        path = target.path
        query = target.query
        authority = target.authority.map(String.init) ?? head.headers.first(name: "host") ?? ""
        self.body = body
        requestID = exchange.requestID
        self.remoteAddress = remoteAddress
    }
}

/// A request target split into its parts: origin form (`/path?query`) or absolute form
/// (`http://host:port/path?query`, which RFC 9112 §3.2.2 says a server must accept).
struct RequestTarget: Sendable {
    let authority: Substring?
    let path: Substring
    let query: Substring?

    init(_ target: String) {
        var rest = Substring(target)
        // Origin form, the usual case, is told by its first byte.
        if rest.utf8.first != UInt8(ascii: "/"), let afterScheme = Self.droppingScheme(rest) {
            let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" } ?? afterScheme.endIndex
            authority = afterScheme[..<authorityEnd]
            rest = afterScheme[authorityEnd...]
        } else {
            authority = nil
        }
        let path: Substring
        (path, query) = PathAndQuery.split(rest)
        // An absolute-form target with no path means the root (RFC 9110 §4.2.3).
        self.path = authority != nil && path.isEmpty ? "/" : path
    }

    /// What follows `http://` or `https://` (in any letter case), or nil.
    private static func droppingScheme(_ target: Substring) -> Substring? {
        for scheme in ["http://", "https://"] where target.utf8.count > scheme.utf8.count {
            let prefix = target.utf8.prefix(scheme.utf8.count)
            if zip(prefix, scheme.utf8).allSatisfy({ ASCII.lowercase($0) == $1 }) {
                return target[target.utf8.index(target.startIndex, offsetBy: scheme.utf8.count)...]
            }
        }
        return nil
    }
}
