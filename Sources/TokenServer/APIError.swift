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
    /// More members of the `error` object (a quota's `quota` and `resets_at`).
    var details: [(String, String)] = []

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

    static func permissionDenied(_ permission: Permission) -> APIError {
        APIError(status: .forbidden, code: "permission_denied",
                 message: "this caller lacks the \"\(permission.rawValue)\" permission (permissions in the secrets file)")
    }

    static let identityBlocked = APIError(status: .forbidden, code: "identity_blocked",
                                          message: "this identity is blocked; no token is issued for it")

    /// Beyond a quota: `Retry-After` runs to the window's end.
    static func quotaExceeded(_ quota: Quota, resetsAt: Int, now: Int) -> APIError {
        let resets = Timestamp.rfc3339(unixSeconds: resetsAt)
        return APIError(status: .tooManyRequests, code: "quota_exceeded",
                        message: "quota \(quota) used up; it resets at \(resets)",
                        headers: ["Retry-After": String(max(1, resetsAt - now))],
                        details: [("quota", quota.description), ("resets_at", resets)])
    }

    static let quotaTableFull = APIError(status: .serviceUnavailable, code: "quota_state_full",
                                         message: "the per-identity quota table is full; no token was issued (it frees as quota windows end)")
    static let stateUnavailable = APIError(status: .serviceUnavailable, code: "state_unavailable",
                                           message: "revocations, blocks and quota counts cannot be stored now; nothing was changed or issued")

    static let stateNotShared = APIError(status: .serviceUnavailable, code: "state_unavailable",
                                         message: "this instance keeps revocations and blocks nowhere durable; nothing was changed")

    static func invalidControlRequest(_ message: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_request", message: message)
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
                                                 message: "the shared state (database) is unavailable; no token was issued",
                                                 headers: ["Retry-After": "1"])
    static let notFound = APIError(status: .notFound, code: "not_found", message: "no such endpoint")
    static let internalError = APIError(status: .internalServerError, code: "internal_error", message: "internal error")

    func response(requestID: String, caller: String? = nil) -> ServerResponse {
        var writer = JSONWriter(capacity: 128 + message.utf8.count)
        writer.raw("{\"error\":{\"code\":"); writer.string(code)
        writer.raw(",\"message\":"); writer.string(message)
        for (name, value) in details {
            writer.append(byte: UInt8(ascii: ",")); writer.key(name); writer.string(value)
        }
        writer.raw("},\"request_id\":"); writer.string(requestID)
        writer.raw("}")
        // The same headers as a success (one list): an error of a token endpoint is not to be
        // cached either.
        var headers = ServerResponse.jsonHeaders
        headers.add(contentsOf: self.headers)
        return ServerResponse(status: status, headers: headers, body: ByteBuffer(bytes: writer.bytes), caller: caller)
    }
}
