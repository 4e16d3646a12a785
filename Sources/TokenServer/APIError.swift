import NIOCore
import NIOHTTP1
import TokenCore

/// An error answer: JSON, never HTML, never a secret.
/// `{"error": {"code": "...", "message": "..."}, "request_id": "..."}`
struct APIError: Error {
    let status: HTTPResponseStatus
    let code: String
    let message: String
    var headers: HTTPHeaders = [:]

    static func unauthenticated(_ failure: AuthenticationFailure) -> APIError {
        // Both schemes the service accepts, so a client learns how to authenticate.
        APIError(status: .unauthorized, code: "unauthenticated", message: failure.message,
                 headers: ["WWW-Authenticate": #"Bearer realm="tokend", Signature realm="tokend", alg="hmac-sha256""#])
    }

    static func rejected(_ error: TokenRequestError) -> APIError {
        APIError(status: error.code == .grantNotAllowed ? .forbidden : .badRequest, code: error.code.rawValue, message: error.message)
    }

    static func rateLimited(retryAfter: Int) -> APIError {
        APIError(status: .tooManyRequests, code: "rate_limited", message: "rate limit exceeded; retry after \(retryAfter) s",
                 headers: ["Retry-After": String(retryAfter)])
    }

    static func methodNotAllowed(allow: String) -> APIError {
        APIError(status: .methodNotAllowed, code: "method_not_allowed", message: "method not allowed here; allowed: \(allow)",
                 headers: ["Allow": allow])
    }

    static let payloadTooLarge = APIError(status: .payloadTooLarge, code: "payload_too_large",
                                          message: "the body is larger than \(ServerSettings.maximumBodySize) bytes")
    static let unsupportedMediaType = APIError(status: .unsupportedMediaType, code: "unsupported_media_type",
                                               message: "send Content-Type: application/json")
    static let auditUnavailable = APIError(status: .serviceUnavailable, code: "audit_unavailable",
                                           message: "the audit log cannot be written; no token was issued")
    /// While PostgreSQL cannot answer, a mint is a 503 `audit_unavailable`: no token
    /// without its shared record.
    static let sharedStateUnavailable = APIError(status: .serviceUnavailable, code: "audit_unavailable",
                                                 message: "the shared state (database) is unavailable; no token was issued")
    static let notFound = APIError(status: .notFound, code: "not_found", message: "no such endpoint")
    static let internalError = APIError(status: .internalServerError, code: "internal_error", message: "internal error")

    func response(requestID: String, caller: String? = nil) -> ServerResponse {
        var writer = JSONWriter(capacity: 128 + message.utf8.count)
        writer.raw("{\"error\":{\"code\":"); writer.string(code)
        writer.raw(",\"message\":"); writer.string(message)
        writer.raw("},\"request_id\":"); writer.string(requestID)
        writer.raw("}")
        var headers = self.headers
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Cache-Control", value: "no-store")
        return ServerResponse(status: status, headers: headers, body: ByteBuffer(bytes: writer.bytes), caller: caller)
    }
}
