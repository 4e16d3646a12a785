import NIOCore
import NIOHTTP1

/// Serialises every response of the service, routes' and the HTTP layer's own alike: the
/// route's headers, then `Content-Length`, `X-Request-Id` and, on a connection's last answer,
/// `Connection: close`; no body for HEAD. The one place these headers are written.
enum ResponseWriter {
    static func head(_ response: ServerResponse, requestID: String, close: Bool) -> HTTPResponseHead {
        var headers = response.headers
        headers.add(name: "Content-Length", value: String(response.body.readableBytes))
        headers.add(name: "X-Request-Id", value: requestID)
        if close { headers.add(name: "Connection", value: "close") }
        return HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
    }

    /// Writes and flushes the whole response; the future completes when its end is flushed.
    static func write(_ response: ServerResponse, for exchange: HTTPConnectionStateMachine.Exchange, close: Bool,
                      context: ChannelHandlerContext) -> EventLoopFuture<Void> {
        context.write(NIOAny(HTTPServerResponsePart.head(head(response, requestID: exchange.requestID, close: close))), promise: nil)
        if exchange.method != .HEAD, response.body.readableBytes > 0 {
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(response.body))), promise: nil)
        }
        return context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
    }

    static let continueHead = HTTPResponseHead(version: .http1_1, status: .continue)
}
