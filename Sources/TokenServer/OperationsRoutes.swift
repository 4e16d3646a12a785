import NIOCore
import NIOHTTP1
import Synchronization
import TokenCore

/// Shutdown has begun: set by the server as it starts to drain, read by `/readyz`, which then
/// answers 503 `draining` while requests are still served.
final class DrainingFlag: Sendable {
    private let draining = Atomic<Bool>(false)

    var isSet: Bool { draining.load(ordering: .relaxed) }

    func set() {
        draining.store(true, ordering: .relaxed)
    }
}

/// `/healthz` (alive), `/readyz` (secrets loaded, the audit sink writable and the shared state
/// usable: the file's checks made on the call, the database's answered from its background write
/// probe; 503 `draining` once shutdown has begun), `/metrics` (Prometheus text) and `/openapi.yaml` (the API's description). None needs
/// authentication, and none reveals a secret.
struct OperationsRoutes: Sendable {
    let secrets: LiveSecrets
    let audit: any AuditSink
    /// Why the shared state is unusable right now, beyond the audit sink's own check.
    let stateReadiness: @Sendable () async -> String?
    let draining: DrainingFlag
    let serverMetrics: ServerMetrics

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
                       body: ByteBuffer(bytes: serverMetrics.render()))
    }

    /// Checks run off the event loop: the file's are system calls on its path (a slow or hung disk
    /// must not stall the connections that share the loop).
    func readiness(on eventLoop: any EventLoop) -> EventLoopFuture<ServerResponse> {
        if draining.isSet {
            return eventLoop.makeSucceededFuture(.json(Array(#"{"status":"draining"}"#.utf8), status: .serviceUnavailable))
        }
        return eventLoop.makeFutureWithTask { await readiness() }
    }

    private func readiness() async -> ServerResponse {
        var problems: [String] = []
        if let problem = await stateReadiness() { problems.append(problem) }
        if let problem = await audit.readinessProblem() { problems.append(problem) }
        var writer = JSONWriter()
        if problems.isEmpty {
            writer.raw(#"{"status":"ready","signing_key":"#)
            writer.string(secrets.current.secrets.activeKey.kid)
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
