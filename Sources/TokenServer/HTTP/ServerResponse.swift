import NIOCore
import NIOHTTP1

/// A whole response: status, headers and body. `caller` is what the route learnt about who
/// asked, for the access log; it is never sent.
struct ServerResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer
    var caller: String?

    init(status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], body: ByteBuffer, caller: String? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.caller = caller
    }

    /// A JSON body with the headers every token response carries (RFC 6749 §5.1: no caching).
    static func json(_ bytes: [UInt8], status: HTTPResponseStatus = .ok) -> ServerResponse {
        ServerResponse(status: status, headers: jsonHeaders, body: ByteBuffer(bytes: bytes))
    }

    /// Every JSON answer's, successes and errors alike.
    static let jsonHeaders: HTTPHeaders = [
        "Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache",
    ]
}
