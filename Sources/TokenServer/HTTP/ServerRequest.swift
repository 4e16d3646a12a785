import NIOCore
import NIOHTTP1

/// One whole request as the routes see it: the head, the body (at most the size limit) and what
/// the connection knows about it. Built by `HTTPRequestHandler` once the request has ended.
struct ServerRequest: Sendable {
    let head: HTTPRequestHead
    /// The target's path, without the query.
    let path: Substring
    /// The query without its `?`, or nil.
    let query: Substring?
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

    init(head: HTTPRequestHead, body: Body, requestID: String, remoteAddress: String?) {
        self.head = head
        let target = head.uri.utf8
        if let mark = target.firstIndex(of: UInt8(ascii: "?")) {
            path = Substring(head.uri[..<mark])
            query = Substring(head.uri[head.uri.index(after: mark)...])
        } else {
            path = Substring(head.uri)
            query = nil
        }
        self.body = body
        self.requestID = requestID
        self.remoteAddress = remoteAddress
    }
}
