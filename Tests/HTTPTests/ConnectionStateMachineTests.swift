import NIOCore
import NIOHTTP1
import Testing
@testable import TokenServer

/// The connection state machine as a value: events in, actions out, no channel.
struct ConnectionStateMachineTests {
    typealias Machine = HTTPConnectionStateMachine
    static let configuration = Machine.Configuration(maximumBodySize: 64, headerTimeout: .seconds(10), requestTimeout: .seconds(30))
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func head(_ method: HTTPMethod = .GET, _ uri: String = "/healthz", version: HTTPVersion = .http1_1,
                     _ headers: [(String, String)] = []) -> HTTPServerRequestPart {
        .head(HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders([("Host", "a")] + headers)))
    }

    static let ok = ServerResponse(status: .ok, body: ByteBuffer(string: "{}"))

    func machine() -> Machine { Machine(configuration: Self.configuration, now: t0) }

    @Test func aKeptAliveRequestIsDispatchedAnsweredAndTheNextTurnBegins() {
        var m = machine()
        let step1 = m.readRequested()
        #expect(step1)
        let step2 = m.received(Self.head(), now: t0)
        #expect(step2.isNone)
        guard case .dispatch(let head, let exchange, .bytes(let body)) = m.received(.end(nil), now: t0) else {
            Issue.record("no dispatch"); return
        }
        #expect(head.uri == "/healthz" && exchange.target.path == "/healthz" && exchange.route == .healthz && body.readableBytes == 0)
        // The server's turn: reads are held, no deadline runs.
        let step3 = m.readRequested()
        #expect(!step3)
        #expect(m.deadline == nil)
        guard case .write(_, _, close: false) = m.answerReady(Self.ok, now: t0 + .seconds(1)) else { Issue.record("no write"); return }
        let step4 = m.resumeAfterAnswer(now: t0 + .seconds(1))
        #expect(step4.isNone)
        let step5 = m.releaseHeldRead()
        #expect(step5)
        #expect(m.deadline == t0 + .seconds(11))
    }

    @Test func aBodyIsCollectedUpToTheLimit() {
        var m = machine()
        _ = m.received(Self.head(.POST, "/v1/tokens", [("Content-Length", "10")]), now: t0)
        _ = m.received(.body(ByteBuffer(string: "01234")), now: t0)
        _ = m.received(.body(ByteBuffer(string: "56789")), now: t0)
        guard case .dispatch(_, _, .bytes(let body)) = m.received(.end(nil), now: t0) else { Issue.record("no dispatch"); return }
        #expect(String(buffer: body) == "0123456789")
    }

    @Test func aBodyOverTheLimitIsDispatchedAsTooLargeAndItsAnswerIsTheLast() {
        for declared in [true, false] {
            var m = machine()
            let head = Self.head(.POST, "/v1/tokens", declared ? [("Content-Length", "65")] : [("Transfer-Encoding", "chunked")])
            var action = m.received(head, now: t0)
            if !declared { action = m.received(.body(ByteBuffer(repeating: 1, count: 65)), now: t0) }
            guard case .dispatch(_, _, .tooLarge) = action else { Issue.record("\(declared): \(action)"); continue }
            // The rest of the body is dropped, not held as a pipelined request.
            let step6 = m.received(.body(ByteBuffer(repeating: 1, count: 1000)), now: t0)
            #expect(step6.isNone)
            let step7 = m.received(.end(nil), now: t0)
            #expect(step7.isNone)
            guard case .write(_, _, close: true) = m.answerReady(ServerResponse(status: .payloadTooLarge, body: ByteBuffer()), now: t0) else {
                Issue.record("not closing"); continue
            }
            let step8 = m.lastAnswerFlushed(now: t0)
            #expect(step8.isCloseOutput)
            // Lingering: reads go on (to drop what the client still sends) until the deadline.
            let step9 = m.readRequested()
            #expect(step9)
            #expect(m.deadline == t0 + Self.configuration.lingerTime)
            let step10 = m.deadlinePassed(now: t0 + .seconds(1))
            #expect(step10.isNone)
            let step11 = m.deadlinePassed(now: t0 + Self.configuration.lingerTime)
            #expect(step11.isClose)
            let step12 = m.readRequested()
            #expect(!step12)
        }
    }

    @Test func lingeringDropsAtMostTheDiscardLimit() {
        var m = machine()
        _ = m.received(Self.head(.GET, "/", [("Host", "b")]), now: t0)  // two Hosts: answered early
        let step13 = m.lastAnswerFlushed(now: t0)
        #expect(step13.isCloseOutput)
        let chunk = ByteBuffer(repeating: 0, count: 64 * 1024)
        var closed = false
        for _ in 0..<(Self.configuration.maximumDiscard / chunk.readableBytes + 1) where !closed {
            closed = m.received(.body(chunk), now: t0).isClose
        }
        #expect(closed)
    }

    @Test func headProblemsAreAnsweredAtOnceAndClose() {
        let cases: [(HTTPServerRequestPart, HTTPResponseStatus)] = [
            (.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: [:])), .badRequest),
            (Self.head(.GET, "/", [("Host", "b")]), .badRequest),
            (Self.head(.POST, "/v1/tokens", [("Transfer-Encoding", "")]), .badRequest),
            (Self.head(.POST, "/v1/tokens", [("Transfer-Encoding", "gzip, chunked")]), .notImplemented),
            (Self.head(.CONNECT, "a:443"), .notImplemented),
            (Self.head(.POST, "/v1/tokens", [("Content-Length", "2"), ("Expect", "202-accepted")]), .expectationFailed),
        ]
        for (head, status) in cases {
            var m = machine()
            guard case .write(let response, _, close: true) = m.received(head, now: t0) else { Issue.record("\(head)"); continue }
            #expect(response.status == status, "\(head)")
            // Nothing more is taken from this connection.
            let step14 = m.received(Self.head(), now: t0)
            #expect(step14.isNone)
            let step15 = m.answerReady(Self.ok, now: t0)
            #expect(step15.isNone)
        }
    }

    @Test func whatEndsWithItsAnswer() {
        let closing: [HTTPServerRequestPart] = [
            Self.head(version: .http1_0),
            Self.head(.GET, "/healthz", [("Connection", "close")]),
            Self.head(.GET, "/healthz", [("Connection", "Upgrade"), ("Upgrade", "h2c")]),
        ]
        for head in closing {
            var m = machine()
            _ = m.received(head, now: t0)
            _ = m.received(.end(nil), now: t0)
            guard case .write(_, _, close: true) = m.answerReady(Self.ok, now: t0) else { Issue.record("\(head)"); continue }
        }
        // `Upgrade` without `Connection: upgrade` is no offer: kept alive.
        var m = machine()
        _ = m.received(Self.head(.GET, "/healthz", [("Upgrade", "h2c")]), now: t0)
        _ = m.received(.end(nil), now: t0)
        guard case .write(_, _, close: false) = m.answerReady(Self.ok, now: t0) else { Issue.record("closed"); return }
    }

    @Test func continueIsSentOnlyWhenABodyIsAwaited() {
        var m = machine()
        let step16 = m.received(Self.head(.POST, "/v1/tokens", [("Content-Length", "2"), ("Expect", "100-Continue")]), now: t0)
        #expect(step16.isSendContinue)
        var none = machine()
        let step17 = none.received(Self.head(.POST, "/v1/tokens", [("Content-Length", "0"), ("Expect", "100-continue")]), now: t0)
        #expect(step17.isNone)
        var old = machine()
        let step18 = old.received(Self.head(.POST, "/v1/tokens", version: .http1_0, [("Content-Length", "2"), ("Expect", "100-continue")]), now: t0)
        #expect(step18.isNone)
        // Over the limit: the 413 is the answer, never a 100.
        var large = machine()
        guard case .dispatch(_, _, .tooLarge) = large.received(Self.head(.POST, "/v1/tokens", [("Content-Length", "65"), ("Expect", "100-continue")]), now: t0) else {
            Issue.record("no 413"); return
        }
    }

    @Test func deadlines() {
        // No head within the header timeout: closed without an answer.
        var idle = machine()
        #expect(idle.deadline == t0 + .seconds(10))
        let step19 = idle.deadlinePassed(now: t0 + .seconds(9))
        #expect(step19.isNone)
        let step20 = idle.deadlinePassed(now: t0 + .seconds(10))
        #expect(step20.isClose)
        // A head in time, a body that trickles: the request timeout counts from the turn's start
        // whatever arrives, and is answered 408.
        var slow = machine()
        _ = slow.received(Self.head(.POST, "/v1/tokens", [("Content-Length", "60")]), now: t0 + .seconds(9))
        for second in 10..<30 {
            _ = slow.received(.body(ByteBuffer(string: "x")), now: t0 + .seconds(Int64(second)))
            let step21 = slow.deadlinePassed(now: t0 + .seconds(Int64(second)))
            #expect(step21.isNone)
        }
        #expect(slow.deadline == t0 + .seconds(30))
        guard case .write(let response, _, close: true) = slow.deadlinePassed(now: t0 + .seconds(30)) else { Issue.record("no 408"); return }
        #expect(response.status == .requestTimeout)
        // An answer the client never reads is given up after the request timeout too.
        #expect(slow.deadline == t0 + .seconds(60))
        let step22 = slow.deadlinePassed(now: t0 + .seconds(60))
        #expect(step22.isClose)
        // A header timeout longer than the request timeout is capped by it.
        var capped = Machine(configuration: .init(maximumBodySize: 64, headerTimeout: .seconds(60), requestTimeout: .seconds(5)), now: t0)
        #expect(capped.deadline == t0 + .seconds(5))
        let step23 = capped.deadlinePassed(now: t0 + .seconds(5))
        #expect(step23.isClose)
    }

    @Test func readsStopWhileThePeerDoesNotTakeWhatIsWritten() {
        var m = machine()
        _ = m.writabilityChanged(false, now: t0)
        let step24 = m.readRequested()
        #expect(!step24)
        let step25 = m.releaseHeldRead()
        #expect(!step25)
        _ = m.writabilityChanged(true, now: t0)
        let step26 = m.releaseHeldRead()
        #expect(step26)
        let step27 = m.releaseHeldRead()
        #expect(!step27)  // once
    }

    @Test func whileNotWritableANewRequestIsHeldUntilItIs() {
        var m = machine()
        _ = m.writabilityChanged(false, now: t0)
        for uri in ["/second", "/third"] {
            _ = m.received(Self.head(.GET, uri), now: t0)
            _ = m.received(.end(nil), now: t0)
        }
        guard case .dispatch(let held, _, _) = m.writabilityChanged(true, now: t0) else { Issue.record("not resumed"); return }
        #expect(held.uri == "/second")
        guard case .write(_, _, close: true) = m.answerReady(Self.ok, now: t0) else { Issue.record("kept alive"); return }
    }

    @Test func pipeliningHoldsOneRequestAndDropsTheRest() {
        var m = machine()
        _ = m.received(Self.head(.GET, "/first"), now: t0)
        guard case .dispatch = m.received(.end(nil), now: t0) else { Issue.record("no dispatch"); return }
        // Two more arrive in the same read while the first is answered.
        for uri in ["/second", "/third"] {
            let step28 = m.received(Self.head(.GET, uri), now: t0)
            #expect(step28.isNone)
            let step29 = m.received(.end(nil), now: t0)
            #expect(step29.isNone)
        }
        guard case .write(_, _, close: false) = m.answerReady(Self.ok, now: t0) else { Issue.record("first closed"); return }
        guard case .dispatch(let second, _, _) = m.resumeAfterAnswer(now: t0) else { Issue.record("second not dispatched"); return }
        #expect(second.uri == "/second")
        // The held request's answer is the last: the third was not read.
        guard case .write(_, _, close: true) = m.answerReady(Self.ok, now: t0) else { Issue.record("second kept alive"); return }
        let step30 = m.resumeAfterAnswer(now: t0)
        #expect(step30.isNone)
    }

    @Test func aHeldRequestKeepsAtMostTheBodyLimit() {
        var m = machine()
        _ = m.received(Self.head(), now: t0)
        _ = m.received(.end(nil), now: t0)
        _ = m.received(Self.head(.POST, "/v1/tokens", [("Transfer-Encoding", "chunked")]), now: t0)
        for _ in 0..<100 { _ = m.received(.body(ByteBuffer(repeating: 7, count: 60)), now: t0) }
        _ = m.answerReady(Self.ok, now: t0)
        guard case .dispatch(_, _, .tooLarge) = m.resumeAfterAnswer(now: t0) else { Issue.record("held body not refused"); return }
    }

    @Test func aHeldRequestWhoseBodyIsStillComingWaitsForIt() {
        var m = machine()
        _ = m.received(Self.head(), now: t0)
        _ = m.received(.end(nil), now: t0)
        _ = m.received(Self.head(.POST, "/v1/tokens", [("Content-Length", "4")]), now: t0)
        _ = m.received(.body(ByteBuffer(string: "ab")), now: t0)
        _ = m.answerReady(Self.ok, now: t0)
        let step31 = m.resumeAfterAnswer(now: t0)
        #expect(step31.isNone)
        let step32 = m.readRequested()
        #expect(step32)
        _ = m.received(.body(ByteBuffer(string: "cd")), now: t0)
        guard case .dispatch(_, _, .bytes(let body)) = m.received(.end(nil), now: t0) else { Issue.record("no dispatch"); return }
        #expect(String(buffer: body) == "abcd")
    }

    @Test func parseErrors() {
        var idle = machine()
        guard case .write(let bad, let exchange, close: true) = idle.parseError(HTTPParserError.invalidMethod, now: t0) else {
            Issue.record("no answer"); return
        }
        #expect(bad.status == .badRequest && exchange.target.path == "-")
        // The decoder reports each later read too: answered once.
        let step33 = idle.parseError(HTTPParserError.invalidMethod, now: t0)
        #expect(step33.isNone)

        var large = machine()
        guard case .write(let tooLarge, _, close: true) = large.parseError(HTTPParserError.headerOverflow, now: t0) else { Issue.record("no 431"); return }
        #expect(tooLarge.status == .requestHeaderFieldsTooLarge)

        var bareLF = machine()
        _ = bareLF.received(Self.head(.POST, "/v1/tokens", [("Transfer-Encoding", "chunked")]), now: t0)
        guard case .write(let malformed, let known, close: true) = bareLF.parseError(HTTPParserError.unknown, now: t0) else { Issue.record("no 400"); return }
        #expect(malformed.status == .badRequest && known.target.path == "/v1/tokens")

        // While a request is answered, bad bytes after it make its answer the last.
        var busy = machine()
        _ = busy.received(Self.head(), now: t0)
        _ = busy.received(.end(nil), now: t0)
        let step34 = busy.parseError(HTTPParserError.invalidMethod, now: t0)
        #expect(step34.isNone)
        guard case .write(_, _, close: true) = busy.answerReady(Self.ok, now: t0) else { Issue.record("kept alive"); return }

        // Lingering after an upgrade offer: the decoder's buffer ceiling ends it at once.
        var upgraded = machine()
        _ = upgraded.received(Self.head(.GET, "/healthz", [("Connection", "upgrade"), ("Upgrade", "h2c")]), now: t0)
        _ = upgraded.received(.end(nil), now: t0)
        _ = upgraded.answerReady(Self.ok, now: t0)
        _ = upgraded.lastAnswerFlushed(now: t0)
        let step35 = upgraded.parseError(HTTPParserError.invalidMethod, now: t0)
        #expect(step35.isNone)
        let step36 = upgraded.parseError(ByteToMessageDecoderError.PayloadTooLargeError(), now: t0)
        #expect(step36.isClose)
    }

    @Test func quiescing() {
        var idle = machine()
        let step37 = idle.quiesce()
        #expect(step37.isClose)
        var busy = machine()
        _ = busy.received(Self.head(), now: t0)
        let step38 = busy.quiesce()
        #expect(step38.isNone)
        _ = busy.received(.end(nil), now: t0)
        guard case .write(_, _, close: true) = busy.answerReady(Self.ok, now: t0) else { Issue.record("kept alive"); return }
        let step39 = busy.quiesce()
        #expect(step39.isNone)
    }

    /// Every sequence of events, drawn at random (a fixed seed, so a failure repeats), keeps the
    /// machine's promises: one dispatch at a time, one answer per dispatch, no read in the
    /// server's turn, nothing at all after a close.
    @Test func randomWalksKeepTheInvariants() {
        var random = WalkRandom(seed: 0x7041_6b65_6e64)
        for _ in 0..<3000 {
            var m = machine()
            var now = t0
            var dispatched = false
            var closed = false
            var closingAnswerWritten = false
            for _ in 0..<40 {
                now = now + .milliseconds(Int64(random.next(upTo: 3000)))
                let action: Machine.Action
                switch random.next(upTo: 10) {
                case 0: action = m.received(Self.randomHead(&random), now: now)
                case 1, 2: action = m.received(.body(ByteBuffer(repeating: 1, count: random.next(upTo: 80))), now: now)
                case 3: action = m.received(.end(nil), now: now)
                case 4 where dispatched: dispatched = false; action = m.answerReady(Self.ok, now: now)
                case 5: action = m.resumeAfterAnswer(now: now)
                case 6: action = m.deadlinePassed(now: now)
                case 7: action = m.parseError(HTTPParserError.invalidMethod, now: now)
                case 8: action = closingAnswerWritten ? m.lastAnswerFlushed(now: now) : m.quiesce()
                default: action = m.writabilityChanged(random.next(upTo: 2) == 0, now: now)
                }
                // The handler's rule: after a kept-alive answer comes `resumeAfterAnswer`.
                var pending = [action]
                while let action = pending.popLast() {
                    if closed {
                        #expect(action.isNone, "an action after the close: \(action)")
                        let step40 = m.readRequested()
                        #expect(!step40)
                    }
                    switch action {
                    case .dispatch:
                        #expect(!dispatched, "two dispatches at once")
                        dispatched = true
                        let step41 = m.readRequested()
                        #expect(!step41, "read in the server's turn")
                    case .write(_, _, let close):
                        #expect(!closingAnswerWritten, "an answer after the last one")
                        if close { closingAnswerWritten = true } else { pending.append(m.resumeAfterAnswer(now: now)) }
                    case .close: closed = true
                    case .none, .sendContinue, .closeOutput: break
                    }
                }
            }
        }
    }

    static func randomHead(_ random: inout WalkRandom) -> HTTPServerRequestPart {
        let variants: [[(String, String)]] = [[], [("Content-Length", "5")], [("Content-Length", "500")], [("Transfer-Encoding", "chunked")],
                                              [("Connection", "close")], [("Expect", "100-continue"), ("Content-Length", "3")], [("Host", "b")]]
        return head(random.next(upTo: 2) == 0 ? .GET : .POST, "/x", variants[random.next(upTo: variants.count)])
    }
}

/// A small deterministic generator (Knuth's MMIX LCG), so that a failing walk is the same walk
/// next time.
struct WalkRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(upTo bound: Int) -> Int {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((state >> 33) % UInt64(max(bound, 1)))
    }
}

extension HTTPConnectionStateMachine.Action {
    var isNone: Bool { if case .none = self { true } else { false } }
    var isClose: Bool { if case .close = self { true } else { false } }
    var isCloseOutput: Bool { if case .closeOutput = self { true } else { false } }
    var isSendContinue: Bool { if case .sendContinue = self { true } else { false } }
}
