import HTTPTypes
import Hummingbird
import NIOCore
import TokenCore

/// `/healthz` (alive), `/readyz` (secrets loaded, the audit sink writable and the shared state
/// reachable, checked on every call), `/metrics` (Prometheus text) and `/openapi.yaml` (the API's description). None needs
/// authentication, and none reveals a secret.
struct OperationsRoutes: Sendable {
    let service: TokenService

    func register(on router: Router<TokenRequestContext>) {
        router.get("/healthz") { _, _ in Response.json(Array(#"{"status":"ok"}"#.utf8)) }
        router.get("/readyz") { _, _ in await readiness() }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: service.metrics.render())))
        }
        let openAPI = ByteBuffer(bytes: PackageResources.openapi_yaml)
        router.get("/openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: openAPI))
        }
    }

    func readiness() async -> Response {
        var problems: [String] = []
        if let problem = await service.stateReadiness() { problems.append(problem) }
        if let problem = await service.state.audit.readinessProblem() { problems.append(problem) }
        var writer = JSONWriter()
        if problems.isEmpty {
            writer.raw(#"{"status":"ready","signing_key":"#)
            writer.string(service.configuration.secrets.activeKey.kid)
            writer.raw("}")
            return Response.json(writer.bytes)
        }
        writer.raw(#"{"status":"not_ready","reasons":["#)
        for (index, problem) in problems.enumerated() {
            if index > 0 { writer.append(byte: UInt8(ascii: ",")) }
            writer.string(problem)
        }
        writer.raw("]}")
        return Response.json(writer.bytes, status: .serviceUnavailable)
    }
}
