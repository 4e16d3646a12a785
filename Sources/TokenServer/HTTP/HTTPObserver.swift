import NIOCore
import NIOHTTP1

/// Told of every answered request, after its answer is written: the access log and the request
/// metrics. Called on the connection's event loop, so it must not block.
protocol HTTPObserver: Sendable {
    func requestFinished(_ request: FinishedRequest)
}

struct FinishedRequest {
    let method: HTTPMethod
    /// The request target's path, without the query.
    let path: Substring
    let route: Route
    let status: HTTPResponseStatus
    let requestID: String
    let caller: String?
    let remoteAddress: String?
    let started: NIODeadline
}
