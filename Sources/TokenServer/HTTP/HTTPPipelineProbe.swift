import NIOCore
import NIOHTTP1

/// tokend's HTTP/1.1 pipeline on a channel the caller owns (an `EmbeddedChannel`), for the fuzz
/// target that feeds it random bytes: the real encoder, capped decoder and connection handler,
/// with a responder that answers at once (413 for a body over the limit) and no access log.
@_spi(Fuzzing) public struct HTTPPipelineProbe {
    public static let maximumBodySize = ServerSettings.maximumBodySize
    private let handler: HTTPConnectionHandler
    private let observer: AnswerLog

    public static func install(on pipeline: ChannelPipeline.SynchronousOperations) throws -> HTTPPipelineProbe {
        let configuration = HTTPServer.Configuration(ServerSettings(), tls: nil)
        let observer = AnswerLog()
        try HTTPServer.addHTTPHandlers(to: pipeline, configuration, ImmediateResponder(), observer)
        return HTTPPipelineProbe(handler: try pipeline.handler(type: HTTPConnectionHandler.self), observer: observer)
    }

    /// The request bytes the connection holds now: never more than two bodies' worth.
    public var bufferedBytes: Int { handler.bufferedBytes }

    /// Whether each answer written so far was to a HEAD request (which has no body), in order.
    public var answeredHEAD: [Bool] { observer.heads }
}

private struct ImmediateResponder: HTTPResponder {
    func respond(to request: ServerRequest, on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        if case .tooLarge = request.body {
            return eventLoop.makeSucceededFuture(APIError.payloadTooLarge.response(requestID: request.requestID))
        }
        return eventLoop.makeSucceededFuture(.json(Array(#"{"ok":true}"#.utf8)))
    }
}

/// The embedded channel's one thread is the only one that touches it.
private final class AnswerLog: HTTPObserver, @unchecked Sendable {
    var heads: [Bool] = []

    func requestFinished(_ request: FinishedRequest) {
        heads.append(request.method == .HEAD)
    }
}
