import HTTPTypes
import Hummingbird
import TokenCore

/// An error answer of DESIGN §2: JSON, never HTML, never a secret.
/// `{"error": {"code": "...", "message": "..."}, "request_id": "..."}`
struct APIError: Error {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var headers: HTTPFields = [:]

    static func unauthenticated(_ failure: AuthenticationFailure) -> APIError {
        var headers = HTTPFields()
        // Both schemes the service accepts, so a client learns how to authenticate.
        headers[.wwwAuthenticate] = #"Bearer realm="tokend", Signature realm="tokend", alg="hmac-sha256""#
        return APIError(status: .unauthorized, code: "unauthenticated", message: failure.message, headers: headers)
    }

    static func rejected(_ error: TokenRequestError) -> APIError {
        APIError(status: error.code == .grantNotAllowed ? .forbidden : .badRequest, code: error.code.rawValue, message: error.message)
    }

    static func rateLimited(retryAfter: Int) -> APIError {
        var headers = HTTPFields()
        headers[.retryAfter] = String(retryAfter)
        return APIError(status: .tooManyRequests, code: "rate_limited", message: "rate limit exceeded; retry after \(retryAfter) s", headers: headers)
    }

    static let payloadTooLarge = APIError(status: .contentTooLarge, code: "payload_too_large",
                                          message: "the body is larger than \(ServerSettings.maximumBodySize) bytes")
    static let unsupportedMediaType = APIError(status: .unsupportedMediaType, code: "unsupported_media_type",
                                               message: "send Content-Type: application/json")
    static let auditUnavailable = APIError(status: .serviceUnavailable, code: "audit_unavailable",
                                           message: "the audit log cannot be written; no token was issued")
    /// DESIGN §8: while PostgreSQL cannot answer, a mint is a 503 `audit_unavailable`: no token
    /// without its shared record.
    static let sharedStateUnavailable = APIError(status: .serviceUnavailable, code: "audit_unavailable",
                                                 message: "the shared state (database) is unavailable; no token was issued")
    static let notFound = APIError(status: .notFound, code: "not_found", message: "no such endpoint")
    static let methodNotAllowed = APIError(status: .methodNotAllowed, code: "method_not_allowed", message: "method not allowed here")

    func response(requestID: String) -> Response {
        var writer = JSONWriter(capacity: 128 + message.utf8.count)
        writer.raw("{\"error\":{\"code\":"); writer.string(code)
        writer.raw(",\"message\":"); writer.string(message)
        writer.raw("},\"request_id\":"); writer.string(requestID)
        writer.raw("}")
        var headers = self.headers
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }
}

extension Response {
    /// A JSON body with the headers every token response carries (RFC 6749 §5.1: no caching).
    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Pragma")!] = "no-cache"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
