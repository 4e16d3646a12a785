import NIOCore

/// What the HTTP pipeline hands a whole request to. The answer is a future so that the work can
/// finish off the event loop (the audit writer's fsync, a database round trip); a route that
/// answers at once returns a succeeded future, without a task.
protocol HTTPResponder: Sendable {
    func respond(to request: ServerRequest, on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse>
}
