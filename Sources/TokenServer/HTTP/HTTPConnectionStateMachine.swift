import NIOCore
import NIOHTTP1

/// One HTTP/1.1 connection's life, as a value: the handler tells it what happened (a request
/// part, an answer ready, a flush, a timer, a parse error, a quiesce) and it answers with the one
/// thing to do. No channel, no I/O, no clock of its own (`now` comes with each event), so every
/// transition is tested as a value (postgres-nio's `ConnectionStateMachine` style).
///
/// What it guarantees, by construction:
/// - **Turns.** The client's turn (reading a request) and the server's (answering it) alternate.
///   Reads are let through only in the client's turn and while the channel is writable, so a
///   client that sends and never reads stops being read.
/// - **Read-ahead of one.** A request that arrives while another is answered (pipelining), or
///   while the channel is not writable, is held, with at most `maximumBodySize` of its body; a
///   further one is dropped and the held one's answer closes the connection (RFC 9112 §9.3.2: the
///   client retries what was not answered). So past the write buffer's high-water mark at most
///   one more answer is queued.
/// - **Deadlines.** A head is due within `headerTimeout` of the client's turn starting (the
///   connection opening, or the previous answer), the whole request within `requestTimeout`; a
///   late head closes quietly, a late body is answered `408`. An answer that cannot be flushed
///   within `requestTimeout` is given up.
/// - **Complete answers before a close.** The last answer is flushed, then our side closes
///   (half-close) and what the client still sends is read and dropped (at most `maximumDiscard`
///   bytes, for at most `lingerTime`), so the client reads the answer instead of a reset.
struct HTTPConnectionStateMachine {
    struct Configuration: Sendable {
        var maximumBodySize: Int
        var headerTimeout: TimeAmount
        var requestTimeout: TimeAmount
        var lingerTime: TimeAmount = .seconds(2)
        var maximumDiscard = 1 << 20
    }

    /// What the access log and the answer need to know about one request.
    struct Exchange: Sendable {
        let method: HTTPMethod
        /// The request target as sent, split once for everything that reads it (the routes, the
        /// access log, the metrics); "-" when there was no head to read it from.
        let target: RequestTarget
        /// The target's route, decided once.
        let route: Route
        let requestID: String
        let started: NIODeadline

        init(method: HTTPMethod, target: String, requestID: String, started: NIODeadline) {
            self.method = method
            self.target = RequestTarget(target)
            route = Route(path: self.target.path)
            self.requestID = requestID
            self.started = started
        }

        /// A request whose head never parsed.
        static func unparsed(at now: NIODeadline) -> Exchange {
            Exchange(method: .RAW(value: "-"), target: "-", requestID: RequestID.from(nil), started: now)
        }
    }

    enum Action {
        case none
        /// `100 Continue`: the client waits for it before sending the body.
        case sendContinue
        /// A whole request for the responder; its answer comes back as `answerReady`.
        case dispatch(HTTPRequestHead, Exchange, ServerRequest.Body)
        /// Serialise the answer; with `close`, it says `Connection: close`, and its flush comes
        /// back as `lastAnswerFlushed`. Without, call `resumeAfterAnswer` next.
        case write(ServerResponse, Exchange, close: Bool)
        /// Close our side of the connection; keep reading (and dropping) until the deadline.
        case closeOutput
        case close
    }

    private struct Request {
        let head: HTTPRequestHead
        let exchange: Exchange
        var body: ByteBuffer
    }

    /// A request that came while another was being answered, held until its turn.
    private struct Held {
        let head: HTTPRequestHead
        var body: ByteBuffer
        var ended = false
        var tooLarge = false
    }

    private enum State {
        /// The client's turn since `turn`: a head is due.
        case idle(turn: NIODeadline)
        /// A head has come; the rest of the request is due.
        case receiving(Request, turn: NIODeadline)
        /// The server's turn: the responder is working on this request.
        case responding(Exchange)
        /// The last answer is written; waiting for it to be flushed.
        case closing(since: NIODeadline)
        /// Our side is closed; the client's remaining bytes are dropped until it closes.
        case lingering(until: NIODeadline, remaining: Int)
        case closed
    }

    private let configuration: Configuration
    private var state: State
    /// The answer being made is the connection's last: nothing after it is read.
    private var lastAnswer = false
    private var held: Held?
    /// A request came after the held one: it is not read, and the held one's answer is the last.
    private var heldIsLast = false
    private var writable = true
    /// The channel asked to read while reading was not allowed.
    private var readHeld = false

    init(configuration: Configuration, now: NIODeadline) {
        self.configuration = configuration
        state = .idle(turn: now)
    }

    /// Request bytes held now: the body being read and the held request's body (each at most
    /// `maximumBodySize`).
    var bufferedBytes: Int {
        let current = if case .receiving(let request, _) = state { request.body.readableBytes } else { 0 }
        return current + (held?.body.readableBytes ?? 0)
    }

    // MARK: - Reading

    /// Whether bytes may be read now: in the client's turn (or lingering, to drop them) and while
    /// the peer takes what is written.
    private var mayRead: Bool {
        guard writable else { return false }
        switch state {
        case .idle, .receiving, .lingering: return true
        case .responding, .closing, .closed: return false
        }
    }

    /// The channel wants to read: true to let it, false to hold the read until `releaseHeldRead`.
    mutating func readRequested() -> Bool {
        if mayRead { return true }
        readHeld = true
        return false
    }

    /// True when a held read may go now (ask after every event).
    mutating func releaseHeldRead() -> Bool {
        guard readHeld, mayRead else { return false }
        readHeld = false
        return true
    }

    /// While the peer does not take what is written, a new request is held like a pipelined one
    /// (so answers cannot pile up either); when it does again, the held request takes its turn.
    mutating func writabilityChanged(_ writable: Bool, now: NIODeadline) -> Action {
        self.writable = writable
        return writable ? resumeAfterAnswer(now: now) : .none
    }

    // MARK: - Request parts

    mutating func received(_ part: HTTPServerRequestPart, now: NIODeadline) -> Action {
        switch state {
        case .idle(let turn):
            if !writable || held != nil {
                hold(part)
                return .none
            }
            guard case .head(let head) = part else { return .none }  // the decoder sends a head first
            return begin(head, turn: turn, now: now)
        case .receiving(var request, let turn):
            switch part {
            case .head:
                return .none  // cannot come before this request's end
            case .body(let bytes):
                guard request.body.readableBytes + bytes.readableBytes <= configuration.maximumBodySize else {
                    return dispatchTooLarge(request.head, request.exchange)
                }
                state = .closed  // drop the reference so that the append does not copy
                request.body.writeImmutableBuffer(bytes)
                state = .receiving(request, turn: turn)
                return .none
            case .end:
                state = .responding(request.exchange)
                return .dispatch(request.head, request.exchange, .bytes(request.body))
            }
        case .responding, .closing:
            if !lastAnswer { hold(part) }
            return .none
        case .lingering(let until, let remaining):
            guard case .body(let bytes) = part else { return .none }
            guard bytes.readableBytes < remaining else { return closeNow() }
            state = .lingering(until: until, remaining: remaining - bytes.readableBytes)
            return .none
        case .closed:
            return .none
        }
    }

    private mutating func begin(_ head: HTTPRequestHead, turn: NIODeadline, now: NIODeadline) -> Action {
        let exchange = Exchange(method: head.method, target: head.uri,
                                requestID: RequestID.from(head.headers.first(name: "x-request-id")), started: now)
        if let problem = RequestHygiene.check(head) {
            return answerEarly(problem.error.response(requestID: exchange.requestID), exchange, now: now)
        }
        // HTTP/1.0 and `Connection: close` end with their answer; so does an upgrade offer (RFC
        // 9110 §7.8: ignored, but the decoder reads nothing after it) and a quiescing server.
        if !(head.version.major == 1 && head.version.minor >= 1 && head.isKeepAlive) || RequestHygiene.offersUpgrade(head) {
            lastAnswer = true
        }
        if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > configuration.maximumBodySize {
            return dispatchTooLarge(head, exchange)
        }
        state = .receiving(Request(head: head, exchange: exchange, body: ByteBuffer()), turn: turn)
        return RequestHygiene.expectsContinue(head) ? .sendContinue : .none
    }

    /// A body over the limit: the route answers (a 413, with its audit record), the rest of the
    /// connection's input is dropped, and the answer is the last.
    private mutating func dispatchTooLarge(_ head: HTTPRequestHead, _ exchange: Exchange) -> Action {
        lastAnswer = true
        state = .responding(exchange)
        return .dispatch(head, exchange, .tooLarge)
    }

    private mutating func answerEarly(_ response: ServerResponse, _ exchange: Exchange, now: NIODeadline) -> Action {
        lastAnswer = true
        state = .closing(since: now)
        return .write(response, exchange, close: true)
    }

    /// Pipelining: one request is held (its body up to the limit); anything after it is dropped.
    private mutating func hold(_ part: HTTPServerRequestPart) {
        guard !heldIsLast else { return }
        switch part {
        case .head(let head):
            if held == nil {
                held = Held(head: head, body: ByteBuffer())
            } else {
                heldIsLast = true
            }
        case .body(let bytes):
            guard var request = held, !request.ended else { return }
            held = nil
            if request.tooLarge || request.body.readableBytes + bytes.readableBytes > configuration.maximumBodySize {
                request.tooLarge = true
                request.body = ByteBuffer()
            } else {
                request.body.writeImmutableBuffer(bytes)
            }
            held = request
        case .end:
            held?.ended = true
        }
    }

    // MARK: - Answers

    /// The responder's answer to the request in `.responding`.
    mutating func answerReady(_ response: ServerResponse, now: NIODeadline) -> Action {
        guard case .responding(let exchange) = state else { return .none }
        if lastAnswer {
            held = nil
            state = .closing(since: now)
            return .write(response, exchange, close: true)
        }
        state = .idle(turn: now)
        return .write(response, exchange, close: false)
    }

    /// After a kept-alive answer is written: the held request, if any, takes its turn.
    mutating func resumeAfterAnswer(now: NIODeadline) -> Action {
        guard case .idle = state, let request = held else { return .none }
        held = nil
        if heldIsLast {
            heldIsLast = false
            lastAnswer = true
        }
        let action = received(.head(request.head), now: now)
        guard case .receiving = state else { return action }
        if request.tooLarge { return dispatchTooLarge(request.head, currentExchange ?? .unparsed(at: now)) }
        if request.body.readableBytes > 0 { _ = received(.body(request.body), now: now) }
        if request.ended { return received(.end(nil), now: now) }
        // The body is still to come: a client that asked for `100 Continue` is waiting for it.
        if case .sendContinue = action, request.body.readableBytes == 0 { return action }
        return .none
    }

    private var currentExchange: Exchange? {
        if case .receiving(let request, _) = state { request.exchange } else { nil }
    }

    /// The flush of the last answer completed.
    mutating func lastAnswerFlushed(now: NIODeadline) -> Action {
        guard case .closing = state else { return .none }
        state = .lingering(until: now + configuration.lingerTime, remaining: configuration.maximumDiscard)
        return .closeOutput
    }

    // MARK: - Deadlines, errors, shutdown

    /// When `deadlinePassed` should next be called; nil when nothing is due (the server's turn).
    var deadline: NIODeadline? {
        switch state {
        case .idle(let turn): turn + min(configuration.headerTimeout, configuration.requestTimeout)
        case .receiving(_, let turn): turn + configuration.requestTimeout
        case .closing(let since): since + configuration.requestTimeout
        case .lingering(let until, _): until
        case .responding, .closed: nil
        }
    }

    mutating func deadlinePassed(now: NIODeadline) -> Action {
        guard let deadline, deadline <= now else { return .none }
        if case .receiving(let request, _) = state {
            // The head came, the body did not (or trickles): answered, so the client knows why.
            return answerEarly(APIError.requestTimeout.response(requestID: request.exchange.requestID), request.exchange, now: now)
        }
        // A head that never came (an idle keep-alive, a slowloris), an answer the client does not
        // read, or the end of lingering: closed without a word.
        return closeNow()
    }

    /// The decoder could not parse the input (or a decoder limit was passed): answered with a JSON
    /// error if nothing is owed, and the connection closes — its framing can no longer be trusted.
    mutating func parseError(_ error: any Error, now: NIODeadline) -> Action {
        switch state {
        case .idle:
            let exchange = Exchange.unparsed(at: now)
            return answerEarly(Self.answer(to: error).response(requestID: exchange.requestID), exchange, now: now)
        case .receiving(let request, _):
            return answerEarly(Self.answer(to: error).response(requestID: request.exchange.requestID), request.exchange, now: now)
        case .responding:
            // An answer is owed for the request before the bad bytes: it is the last.
            lastAnswer = true
            held = nil
            return .none
        case .closing, .lingering:
            // The decoder reports every later read in error state; only a buffer over its
            // ceiling (bytes after an upgrade offer while lingering) ends the lingering early.
            return error is ByteToMessageDecoderError.PayloadTooLargeError ? closeNow() : .none
        case .closed:
            return .none
        }
    }

    /// The server is shutting down: an idle connection closes now, a busy one after its answer.
    mutating func quiesce() -> Action {
        switch state {
        case .idle: return closeNow()
        case .receiving, .responding:
            lastAnswer = true
            held = nil
            return .none
        case .closing, .lingering, .closed: return .none
        }
    }

    mutating func closed() {
        state = .closed
        held = nil
    }

    private mutating func closeNow() -> Action {
        state = .closed
        held = nil
        return .close
    }

    /// A head over the decoder's limits is a 431; anything else it cannot parse is a 400 —
    /// including llhttp's "unknown" errors, which are malformed framing (a bare LF where CRLF
    /// belongs, in a header or a chunk-size line). A transfer coding it refuses reaches
    /// `RequestHygiene` with the head first and is answered 501 there.
    static func answer(to error: any Error) -> APIError {
        if case .headerOverflow? = error as? HTTPParserError { return .requestHeaderFieldsTooLarge }
        return error is ByteToMessageDecoderError.PayloadTooLargeError ? .requestHeaderFieldsTooLarge : .malformedRequest
    }
}
