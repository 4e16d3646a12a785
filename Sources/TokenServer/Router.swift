import NIOCore
import NIOHTTP1

/// Routes a whole request: 404 for an unknown path, 405 with `Allow` for a known path and the
/// wrong method, 413 for a body over the limit, else the route's own answer.
struct Router: HTTPResponder {
    let tokens: TokenEndpoint
    let operations: OperationsRoutes


    func respond(to request: ServerRequest, on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        let route = request.route
        guard route != .unknown else { return eventLoop.makeSucceededFuture(APIError.notFound.response(requestID: request.requestID)) }
        guard route.allows(request.method) else {
            return eventLoop.makeSucceededFuture(APIError.methodNotAllowed(allow: route.allow).response(requestID: request.requestID))
        }
        if let action = route.action {
            return tokens.handle(request, action: action, on: eventLoop)
        }
        switch route {
        case .readyz:
            return operations.readiness(on: eventLoop)
        case _ where isTooLarge(request):
            return eventLoop.makeSucceededFuture(APIError.payloadTooLarge.response(requestID: request.requestID))
        case .healthz:
            return eventLoop.makeSucceededFuture(operations.health())
        case .metrics:
            return eventLoop.makeSucceededFuture(operations.metrics())
        case .openapi, .unknown, .tokens, .revoke, .introspect, .block, .unblock:
            return eventLoop.makeSucceededFuture(operations.openAPIDocument())
        }
    }

    private func isTooLarge(_ request: ServerRequest) -> Bool {
        if case .tooLarge = request.body { true } else { false }
    }
}
