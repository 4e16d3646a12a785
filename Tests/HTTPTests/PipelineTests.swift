import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import TokenServer

/// The whole HTTP/1.1 pipeline (encoder, capped decoder, connection handler) over an
/// `EmbeddedChannel`: bytes in, bytes out, time moved by hand.
struct PipelineTests {
    @Test func aRequestSplitAnywhereGetsTheSameAnswer() throws {
        let request = "POST /v1/tokens HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n{\"a\":\"bcd\"}"
        let whole = try HTTPPipelineHarness()
        whole.send(request)
        let expected = try #require(whole.responses().first)
        for split in 1..<request.utf8.count {
            let harness = try HTTPPipelineHarness()
            let bytes = Array(request.utf8)
            harness.send(bytes: Array(bytes[..<split]))
            harness.send(bytes: Array(bytes[split...]))
            let answer = try #require(harness.responses().first, "split at \(split)")
            #expect(answer.status == expected.status && answer.body == expected.body, "split at \(split)")
        }
    }

    @Test func absoluteFormTargetsAreRoutedByTheirPath() throws {
        let harness = try HTTPPipelineHarness()
        harness.send("GET http://a:8080/healthz?x=1 HTTP/1.1\r\nHost: a:8080\r\n\r\nGET HTTP://a HTTP/1.1\r\nHost: a\r\n\r\n")
        let responses = harness.responses()
        #expect(responses.map(\.body) == ["GET /healthz authority=a:8080 body=0", "GET / authority=a body=0"])
    }

    @Test func expectContinueGetsA100ThenTheAnswer() throws {
        let harness = try HTTPPipelineHarness()
        harness.send("POST /v1/tokens HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        #expect(harness.outboundText().hasPrefix("HTTP/1.1 100 Continue\r\n\r\n"))
        harness.send("{}")
        #expect(harness.responses().map(\.status) == [200])
    }

    @Test func pipelinedRequestsAreAnsweredInOrderAndAThirdIsNotRead() throws {
        let get = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
        // Answered at once (as /healthz is), pipelined requests are simply answered in turn.
        let quick = try HTTPPipelineHarness()
        quick.send(get + get + get)
        #expect(quick.responses().map { $0.header("connection") } == [nil, nil, nil])
        // Answered later (as a mint is, after its audit record), one is held, the third dropped.
        let slow = try HTTPPipelineHarness(slow: true)
        slow.send(get + get + get)
        slow.responder.complete()
        slow.responder.complete()
        slow.responder.complete()
        let answers = slow.responses()
        #expect(answers.count == 2, "\(answers.map(\.status))")
        #expect(answers.map { $0.header("connection") } == [nil, "close"])
    }

    @Test func readsStopWhileTheChannelIsNotWritableAndResumeWhenItIs() throws {
        let harness = try HTTPPipelineHarness()
        let before = harness.reads
        harness.channel.read()
        #expect(harness.reads == before + 1)
        harness.channel.isWritable = false
        harness.channel.pipeline.fireChannelWritabilityChanged()
        harness.channel.read()
        #expect(harness.reads == before + 1, "read while not writable")
        harness.channel.isWritable = true
        harness.channel.pipeline.fireChannelWritabilityChanged()
        #expect(harness.reads == before + 2, "the held read was not released")
    }

    @Test func whileAnsweringNothingIsRead() throws {
        let harness = try HTTPPipelineHarness(slow: true)
        harness.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        let before = harness.reads
        harness.channel.read()
        #expect(harness.reads == before)
        harness.responder.complete()
        #expect(harness.responses().count == 1)
        #expect(harness.reads == before + 1)
    }

    @Test func aTooLargeBodyIsAnsweredInFullThenOurSideClosesAndTheRestIsDropped() throws {
        let harness = try HTTPPipelineHarness()
        harness.send("POST /v1/tokens HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in 0..<3 { harness.send("8000\r\n" + String(repeating: "x", count: 0x8000) + "\r\n") }
        harness.send("0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        let responses = harness.responses()
        #expect(responses.map(\.status) == [413])
        #expect(responses.first?.header("connection") == "close")
        #expect(harness.observer.statuses == [413])
    }

    @Test func bytesAfterAnUpgradeOfferAreNeverHeldBeyondTheCeiling() throws {
        let harness = try HTTPPipelineHarness()
        harness.send("GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
        #expect(harness.responses().map { $0.header("connection") } == ["close"])
        let chunk = [UInt8](repeating: 0x41, count: 16 * 1024)
        var sent = 0
        while harness.channel.isActive, sent < 4 * 1024 * 1024 {
            harness.send(bytes: chunk)
            sent += chunk.count
        }
        #expect(!harness.channel.isActive, "still open after \(sent) bytes")
        #expect(sent <= HTTPPipelineHarness.configuration.maximumDecoderBuffer + chunk.count)
    }

    @Test func aTricklingBodyIsAnswered408AtTheRequestDeadline() throws {
        let harness = try HTTPPipelineHarness()
        harness.send("POST /v1/tokens HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\n")
        for _ in 0..<29 {
            harness.send("x")
            harness.loop.advanceTime(by: .seconds(1))
        }
        #expect(harness.responses().isEmpty)
        harness.loop.advanceTime(by: .seconds(1))
        let answer = harness.responses()
        #expect(answer.map(\.status) == [408])
        #expect(answer.first?.header("connection") == "close")
        // Lingering ends, and the connection (and its slot) is gone.
        harness.loop.advanceTime(by: .seconds(3))
        #expect(!harness.channel.isActive)
    }

    @Test func anIdleConnectionClosesQuietlyAtTheHeaderDeadline() throws {
        let harness = try HTTPPipelineHarness()
        harness.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(harness.responses().count == 1)
        harness.loop.advanceTime(by: .seconds(9))
        #expect(harness.channel.isActive)
        harness.loop.advanceTime(by: .seconds(1))
        #expect(!harness.channel.isActive)
        #expect(harness.outboundText().isEmpty)
    }

    @Test func garbageGetsOneJSONErrorAndAClose() throws {
        let harness = try HTTPPipelineHarness()
        harness.send("\u{1}\u{2}\u{3} nonsense\r\n\r\n")
        harness.send("more nonsense")
        let responses = harness.responses()
        #expect(responses.map(\.status) == [400])
        #expect(responses.first?.header("content-type") == "application/json")
    }

    @Test func quiescingClosesAnIdleConnectionAndLetsABusyOneFinish() throws {
        let idle = try HTTPPipelineHarness()
        idle.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!idle.channel.isActive)

        let busy = try HTTPPipelineHarness(slow: true)
        busy.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        busy.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(busy.channel.isActive)
        busy.responder.complete()
        #expect(busy.responses().first?.header("connection") == "close")
    }
}
