import NIOCore
import NIOHTTP1
import TokenCore

/// One connection's requests, one at a time (`HTTPServerPipelineHandler` before it holds back
/// pipelined ones): collects the head and a body of at most `maximumBodySize`, checks the head's
/// hygiene, hands the whole request to the responder and writes its answer. HEAD is answered like
/// GET without the body; HTTP/1.0 and `Connection: close` requests close the connection after
/// their answer.
final class HTTPRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    struct Limits {
        var maximumBodySize: Int
        /// After an early answer (413 and the like), at most this much more of the body is read
        /// and dropped so that the client sees the answer rather than a reset; beyond it, the
        /// connection is closed at once.
        var maximumDiscard = 1 << 20
    }

    private enum State {
        case idle
        case receiving(Exchange, body: ByteBuffer)
        /// Waiting for the responder's answer.
        case responding(Exchange)
        /// Answered (or about to be) before the request ended: drop the rest of the body, and
        /// close once both the answer is written and the request has ended.
        case discarding(remaining: Int, answered: Bool, ended: Bool)
    }

    /// What the handler knows about the request being answered.
    private struct Exchange {
        let head: HTTPRequestHead
        let requestID: String
        let started: NIODeadline
        let keepAlive: Bool
    }

    private let responder: any HTTPResponder
    private let observer: any HTTPObserver
    private let limits: Limits
    private var state = State.idle
    private var remoteAddress: String?

    init(responder: any HTTPResponder, observer: any HTTPObserver, limits: Limits) {
        self.responder = responder
        self.observer = observer
        self.limits = limits
    }

    func channelActive(context: ChannelHandlerContext) {
        remoteAddress = context.channel.remoteAddress?.ipAddress
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Added to an already active channel (the TLS or test set-up case).
        remoteAddress = context.channel.remoteAddress?.ipAddress
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            begin(head, context: context)
        case (.body(var part), .receiving(let exchange, var body)):
            guard body.readableBytes + part.readableBytes <= limits.maximumBodySize else {
                dispatch(exchange, body: .tooLarge, context: context)
                return
            }
            state = .idle  // drop the reference so that the append does not copy
            body.writeBuffer(&part)
            state = .receiving(exchange, body: body)
        case (.end, .receiving(let exchange, let body)):
            dispatch(exchange, body: .bytes(body), context: context)
        case (.body(let part), .discarding(let remaining, let answered, _)):
            if part.readableBytes > remaining {
                context.close(promise: nil)
            } else {
                state = .discarding(remaining: remaining - part.readableBytes, answered: answered, ended: false)
            }
        case (.end, .discarding(let remaining, let answered, _)):
            if answered {
                context.close(promise: nil)
            } else {
                state = .discarding(remaining: remaining, answered: false, ended: true)
            }
        default:
            // A part out of order cannot come from the decoder; ignore rather than trap.
            break
        }
    }

    private func begin(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let exchange = Exchange(head: head, requestID: RequestID.from(head.headers.first(name: "x-request-id")),
                                started: .now(), keepAlive: head.version.major == 1 && head.version.minor >= 1 && head.isKeepAlive)
        if let problem = RequestHygiene.check(head) {
            answerEarly(exchange, Self.error(for: problem), context: context)
            return
        }
        if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > limits.maximumBodySize {
            dispatch(exchange, body: .tooLarge, context: context)
            return
        }
        state = .receiving(exchange, body: context.channel.allocator.buffer(capacity: 0))
    }

    private static func error(for problem: RequestHygiene.Problem) -> APIError {
        switch problem {
        case .missingHost: APIError(status: .badRequest, code: "bad_request", message: "the request has no Host header")
        case .duplicateHost: APIError(status: .badRequest, code: "bad_request", message: "the request has more than one Host header")
        case .invalidHost: APIError(status: .badRequest, code: "bad_request", message: "the Host header is not a valid host[:port]")
        case .unsupportedTransferCoding:
            APIError(status: .notImplemented, code: "not_implemented", message: "only the chunked transfer coding is supported")
        }
    }

    /// An answer before the body was read: sent, then the rest of the request is dropped and the
    /// connection closed (its framing can no longer be trusted, or the body is not wanted).
    private func answerEarly(_ exchange: Exchange, _ error: APIError, context: ChannelHandlerContext) {
        state = .discarding(remaining: limits.maximumDiscard, answered: false, ended: false)
        writeEarly(error.response(requestID: exchange.requestID), for: exchange, context: context)
    }

    private func dispatch(_ exchange: Exchange, body: ServerRequest.Body, context: ChannelHandlerContext) {
        let request = ServerRequest(head: exchange.head, body: body, requestID: exchange.requestID, remoteAddress: remoteAddress)
        let tooLarge = if case .tooLarge = body { true } else { false }
        state = tooLarge ? .discarding(remaining: limits.maximumDiscard, answered: false, ended: false) : .responding(exchange)
        let answer = responder.respond(to: request, on: context.eventLoop).hop(to: context.eventLoop)
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        answer.whenComplete { result in
            let response = (try? result.get()) ?? APIError.internalError.response(requestID: exchange.requestID)
            handler.value.finish(exchange, response, tooLarge: tooLarge, context: boundContext.value)
        }
    }

    private func finish(_ exchange: Exchange, _ response: ServerResponse, tooLarge: Bool, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if tooLarge {
            writeEarly(response, for: exchange, context: context)
        } else {
            state = .idle
            write(response, for: exchange, keepAlive: exchange.keepAlive, context: context)
        }
    }

    /// Writes an answer given before the request ended; the connection closes once the request
    /// has ended too (or at once, if it already has).
    private func writeEarly(_ response: ServerResponse, for exchange: Exchange, context: ChannelHandlerContext) {
        guard case .discarding(let remaining, _, let ended) = state else { return }
        state = .discarding(remaining: remaining, answered: true, ended: ended)
        write(response, for: exchange, keepAlive: false, closing: ended, context: context)
    }

    private func write(_ response: ServerResponse, for exchange: Exchange, keepAlive: Bool, closing: Bool? = nil,
                       context: ChannelHandlerContext) {
        var headers = response.headers
        headers.add(name: "Content-Length", value: String(response.body.readableBytes))
        headers.add(name: "X-Request-Id", value: exchange.requestID)
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: response.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if exchange.head.method != .HEAD, response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        if !(closing ?? !keepAlive) {
            // Kept alive, or an early answer whose request is still arriving (see `writeEarly`).
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let boundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in boundContext.value.close(promise: nil) }
        }
        observer.requestFinished(FinishedRequest(
            method: exchange.head.method, path: exchange.head.uri, status: response.status, requestID: exchange.requestID,
            caller: response.caller, remoteAddress: remoteAddress, started: exchange.started))
    }

    /// A reset, a TLS failure: nothing to answer; the connection is closed.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .idle
        context.fireChannelInactive()
    }
}
