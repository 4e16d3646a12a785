import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import TokenServer

/// tokend's HTTP/1.1 pipeline on an `EmbeddedChannel`, with a responder that says what it was
/// given, an observer that records what was answered, and a count of the reads that reached
/// the socket.
final class HTTPPipelineHarness {
    static let configuration = HTTPServer.Configuration(ServerSettings(), tls: nil)

    let loop = EmbeddedEventLoop()
    let channel: EmbeddedChannel
    let responder: DescribingResponder
    let observer = RecordingObserver()
    private let readCounter = ReadCounter()
    var reads: Int { readCounter.count }

    init(slow: Bool = false) throws {
        channel = EmbeddedChannel(loop: loop)
        responder = DescribingResponder(slow: slow)
        try channel.pipeline.syncOperations.addHandler(readCounter)
        try HTTPServer.addHTTPHandlers(to: channel.pipeline.syncOperations, Self.configuration, responder, observer)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
    }

    func send(_ text: String) { send(bytes: Array(text.utf8)) }

    func send(bytes: [UInt8]) {
        guard channel.isActive else { return }
        _ = try? channel.writeInbound(ByteBuffer(bytes: bytes))
        loop.run()
    }

    /// Everything written since the last call.
    func outboundText() -> String {
        var text = ""
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
            text += String(buffer: buffer)
        }
        return text
    }

    /// The final (non-1xx) responses written since the last call.
    func responses() -> [ParsedResponse] {
        ParsedResponse.all(in: outboundText()).filter { $0.status >= 200 }
    }
}

struct ParsedResponse {
    let status: Int
    let headers: [(String, String)]
    let body: String

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name }?.1 }

    /// Splits a byte stream of responses (each with a Content-Length, as tokend writes them).
    static func all(in text: String) -> [ParsedResponse] {
        var rest = Substring(text)
        var responses: [ParsedResponse] = []
        while let end = rest.range(of: "\r\n\r\n") {
            let lines = rest[..<end.lowerBound].components(separatedBy: "\r\n")
            guard let status = lines.first.flatMap({ Int($0.split(separator: " ").dropFirst().first ?? "") }) else { break }
            let headers = lines.dropFirst().compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            let length = status >= 200 ? headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0 : 0
            let bodyStart = end.upperBound
            let bodyEnd = rest.utf8.index(bodyStart, offsetBy: min(length, rest.utf8.distance(from: bodyStart, to: rest.endIndex)))
            responses.append(ParsedResponse(status: status, headers: headers, body: String(rest[bodyStart..<bodyEnd])))
            rest = rest[bodyEnd...]
        }
        return responses
    }
}

/// Answers 200 with "METHOD path authority=… body=N", or 413 for a body over the limit; with
/// `slow`, only when `complete()` is called.
final class DescribingResponder: HTTPResponder, @unchecked Sendable {
    // @unchecked: used on the embedded loop's thread only.
    private let slow: Bool
    private var pending: (EventLoopPromise<ServerResponse>, ServerResponse)?

    init(slow: Bool) { self.slow = slow }

    func respond(to request: ServerRequest, on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        let response: ServerResponse
        switch request.body {
        case .tooLarge:
            response = APIError.payloadTooLarge.response(requestID: request.requestID)
        case .bytes(let body):
            response = ServerResponse(body: ByteBuffer(string: "\(request.method.rawValue) \(request.path) authority=\(request.authority) body=\(body.readableBytes)"))
        }
        guard slow else { return eventLoop.makeSucceededFuture(response) }
        let promise = eventLoop.makePromise(of: ServerResponse.self)
        pending = (promise, response)
        return promise.futureResult
    }

    func complete() {
        guard let (promise, response) = pending else { return }
        pending = nil
        promise.succeed(response)
    }
}

final class RecordingObserver: HTTPObserver {
    private let recorded = NIOLockedValueBox<[UInt]>([])
    var statuses: [UInt] { recorded.withLockedValue { $0 } }

    func requestFinished(_ request: FinishedRequest) {
        recorded.withLockedValue { $0.append(request.status.code) }
    }
}

/// Counts the reads that pass it on their way to the socket.
final class ReadCounter: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny
    private(set) var count = 0

    func read(context: ChannelHandlerContext) {
        count += 1
        context.read()
    }
}
