import NIOCore
import NIOHTTP1
import TokenCore

/// `/healthz` (alive), `/readyz` (secrets loaded, the audit sink writable and the shared state
/// reachable, checked on every call; 503 `draining` once shutdown has begun), `/metrics`
/// (Prometheus text) and `/openapi.yaml` (the API's description). None needs authentication,
/// and none reveals a secret.
struct OperationsRoutes: Sendable {
    let service: TokenService

    private static let healthy = ByteBuffer(string: #"{"status":"ok"}"#)
    private static let openAPI = ByteBuffer(bytes: PackageResources.openapi_yaml)

    func health() -> ServerResponse {
        ServerResponse(headers: ServerResponse.jsonHeaders, body: Self.healthy)
    }

    func openAPIDocument() -> ServerResponse {
        ServerResponse(headers: ["Content-Type": "application/yaml"], body: Self.openAPI)
    }

    func metrics() -> ServerResponse {
        ServerResponse(headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                       body: ByteBuffer(bytes: service.metrics.render()))
    }

    /// Checks run off the event loop: the database's is a round trip.
    func readiness(on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        if service.isDraining {
            return eventLoop.makeSucceededFuture(.json(Array(#"{"status":"draining"}"#.utf8), status: .serviceUnavailable))
        }
        return eventLoop.makeFutureWithTask { await readiness() }
    }

    private func readiness() async -> ServerResponse {
        var problems: [String] = []
        if let problem = await service.stateReadiness() { problems.append(problem) }
        if let problem = await service.state.audit.readinessProblem() { problems.append(problem) }
        var writer = JSONWriter()
        if problems.isEmpty {
            writer.raw(#"{"status":"ready","signing_key":"#)
            writer.string(service.configuration.secrets.activeKey.kid)
            writer.raw("}")
            return .json(writer.bytes)
        }
        writer.raw(#"{"status":"not_ready","reasons":["#)
        for (index, problem) in problems.enumerated() {
            if index > 0 { writer.append(byte: UInt8(ascii: ",")) }
            writer.string(problem)
        }
        writer.raw("]}")
        return .json(writer.bytes, status: .serviceUnavailable)
    }
}
