import NIOCore
import NIOHTTP1

/// A connection's HTTP/1.1 exchanges, after the decoder and encoder: it tells the connection's
/// state machine what happened and does what the machine answers — let a read through or hold
/// it, hand a whole request to the responder, write an answer (through `ResponseWriter`), close.
/// Everything about the connection's life (turns, pipelining, deadlines, lingering) is decided
/// in `HTTPConnectionStateMachine`; this class only carries it out on the channel.
final class HTTPConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let configuration: HTTPConnectionStateMachine.Configuration
    private let responder: any HTTPResponder
    private let observer: any HTTPObserver
    private var machine: HTTPConnectionStateMachine?
    private var remoteAddress: String?
    /// One timer per connection at a time, moved lazily: a deadline that moves later costs a
    /// comparison, and the timer re-arms itself when it fires early.
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(configuration: HTTPConnectionStateMachine.Configuration, responder: any HTTPResponder, observer: any HTTPObserver) {
        self.configuration = configuration
        self.responder = responder
        self.observer = observer
    }

    /// What the connection holds of requests now (see `HTTPConnectionStateMachine.bufferedBytes`).
    var bufferedBytes: Int { machine?.bufferedBytes ?? 0 }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }  // added to an active channel (TLS, tests)
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard machine == nil else { return }
        remoteAddress = context.channel.remoteAddress?.ipAddress
        machine = HTTPConnectionStateMachine(configuration: configuration, now: context.eventLoop.now)
        perform(machine!.writabilityChanged(context.channel.isWritable, now: context.eventLoop.now), context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        perform(machine?.received(part, now: context.eventLoop.now), context: context)
    }

    func read(context: ChannelHandlerContext) {
        if machine?.readRequested() ?? true { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        perform(machine?.writabilityChanged(context.channel.isWritable, now: context.eventLoop.now), context: context)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The decoder's own errors, and the data it received after one (`ByteToMessageDecoderError`).
        if error is HTTPParserError || error is ByteToMessageDecoderError.PayloadTooLargeError || error is ByteToMessageDecoderError {
            perform(machine?.parseError(error, now: context.eventLoop.now), context: context)
        } else {
            // A reset, a TLS failure: nothing to answer.
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            perform(machine?.quiesce(), context: context)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        machine?.closed()
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    // MARK: - Carrying out the machine's actions

    private func perform(_ action: HTTPConnectionStateMachine.Action?, context: ChannelHandlerContext) {
        switch action {
        case nil, .none?:
            break
        case .sendContinue?:
            context.writeAndFlush(wrapOutboundOut(.head(ResponseWriter.continueHead)), promise: nil)
        case .dispatch(let head, let exchange, let body)?:
            dispatch(head, exchange, body, context: context)
        case .write(let response, let exchange, let close)?:
            let flushed = ResponseWriter.write(response, for: exchange, close: close, context: context)
            observer.requestFinished(FinishedRequest(
                method: exchange.method, path: exchange.target.path, route: exchange.route, status: response.status, requestID: exchange.requestID,
                caller: response.caller, remoteAddress: remoteAddress, started: exchange.started))
            if close {
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                flushed.whenComplete { result in
                    let (handler, context) = bound.value
                    switch result {
                    case .success: handler.perform(handler.machine?.lastAnswerFlushed(now: context.eventLoop.now), context: context)
                    case .failure: context.close(promise: nil)
                    }
                }
            } else {
                perform(machine?.resumeAfterAnswer(now: context.eventLoop.now), context: context)
            }
        case .closeOutput?:
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.close(mode: .output).whenFailure { _ in bound.value.close(promise: nil) }
        case .close?:
            context.close(promise: nil)
        }
        settle(context)
    }

    private func dispatch(_ head: HTTPRequestHead, _ exchange: HTTPConnectionStateMachine.Exchange, _ body: ServerRequest.Body,
                          context: ChannelHandlerContext) {
        let request = ServerRequest(head: head, exchange: exchange, body: body, remoteAddress: remoteAddress)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        responder.respond(to: request, on: context.eventLoop).hop(to: context.eventLoop).whenComplete { result in
            let (handler, context) = bound.value
            let response = (try? result.get()) ?? APIError.internalError.response(requestID: exchange.requestID)
            handler.perform(handler.machine?.answerReady(response, now: context.eventLoop.now), context: context)
        }
    }

    /// After every event: let a held read go if it may now, and keep the timer no later than the
    /// machine's deadline.
    private func settle(_ context: ChannelHandlerContext) {
        guard machine != nil else { return }
        let read = machine!.releaseHeldRead()
        if let deadline = machine!.deadline, timer == nil || deadline < timerDeadline! {
            timer?.cancel()
            schedule(at: deadline, context: context)
        }
        if read { context.read() }
    }

    private func schedule(at deadline: NIODeadline, context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timerDeadline = deadline
        timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            handler.timer = nil
            handler.timerDeadline = nil
            handler.perform(handler.machine?.deadlinePassed(now: context.eventLoop.now), context: context)
        }
    }
}
