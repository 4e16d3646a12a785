import NIOCore
import NIOHTTP1

/// A request the decoder cannot parse gets a JSON error (DESIGN §2: never an empty or HTML
/// answer), then the connection is closed: 431 for a head over the size or count
/// limits, 400 for anything else. SwiftNIO's `HTTPServerProtocolErrorHandler`, with our body.
final class HTTPParseErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let observer: any HTTPObserver
    /// A response has begun and not ended: a second one cannot be written into it.
    private var hasUnterminatedResponse = false
    /// The request being read has already been answered (an early 413 or 501): an error in
    /// the rest of it needs no second answer.
    private var requestInProgress = false
    private var answeredEarly = false
    /// Answered and closing: later errors (the decoder reports each byte it cannot take) are dropped.
    private var closing = false

    init(observer: any HTTPObserver) {
        self.observer = observer
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !closing else { return }
        closing = true
        if hasUnterminatedResponse {
            context.close(promise: nil)
        } else if answeredEarly {
            Self.linger(context)
        } else {
            let started = NIODeadline.now()
            let requestID = RequestID.from(nil)
            let apiError = Self.error(for: parserError)
            let response = apiError.response(requestID: requestID)
            var headers = response.headers
            headers.add(name: "Content-Length", value: String(response.body.readableBytes))
            headers.add(name: "X-Request-Id", value: requestID)
            headers.add(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: apiError.status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
            let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in Self.linger(boundContext.value) }
            observer.requestFinished(FinishedRequest(
                method: .RAW(value: "-"), path: "-", status: apiError.status, requestID: requestID, caller: nil,
                remoteAddress: context.channel.remoteAddress?.ipAddress, started: started))
        }
        // Not passed on: it is answered, and the connection closes, its framing no longer to be
        // trusted.
    }

    /// Closes our side first and the whole connection a moment later: closing at once with the
    /// rest of a bad request unread would reset the connection, and the client could lose the
    /// answer before reading it.
    private static func linger(_ context: ChannelHandlerContext) {
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.close(mode: .output).whenComplete { result in
            let context = boundContext.value
            guard case .success = result else { return context.close(promise: nil) }
            context.eventLoop.scheduleTask(in: lingerTime) { boundContext.value.close(promise: nil) }
        }
    }

    static let lingerTime: TimeAmount = .seconds(1)

    static func error(for error: HTTPParserError) -> APIError {
        switch error {
        case .headerOverflow:
            APIError(status: .requestHeaderFieldsTooLarge, code: "request_header_fields_too_large",
                     message: "the request head is over the size or field-count limit")
        case .unknown:
            // llhttp refuses a request whose last transfer coding is not `chunked` (gzip alone,
            // an unknown token), or that has Transfer-Encoding with Content-Length, before there
            // is a head to look at; NIO reports both as `.unknown`. `RequestHygiene` answers the
            // codings that reach a head ("gzip, chunked").
            APIError(status: .notImplemented, code: "not_implemented",
                     message: "unsupported message framing: only the chunked transfer coding, never with Content-Length")
        default:
            APIError(status: .badRequest, code: "bad_request", message: "the request is not valid HTTP/1.1")
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: (requestInProgress, answeredEarly) = (true, false)
        case .body: break
        case .end: (requestInProgress, answeredEarly) = (false, false)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200: hasUnterminatedResponse = true
        case .end:
            hasUnterminatedResponse = false
            if requestInProgress { answeredEarly = true }
        default: break
        }
        context.write(data, promise: promise)
    }
}
