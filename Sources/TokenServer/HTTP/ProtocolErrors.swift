import NIOHTTP1

/// The answers the HTTP layer gives on its own, before (or instead of) a route: framing, limits,
/// deadlines. JSON like every other error (never an empty or HTML answer).
extension APIError {
    static let requestHeaderFieldsTooLarge = APIError(
        status: .requestHeaderFieldsTooLarge, code: "request_header_fields_too_large",
        message: "the request head is over the size or field-count limit")
    static let malformedRequest = APIError(status: .badRequest, code: "bad_request", message: "the request is not valid HTTP/1.1")
    static let requestTimeout = APIError(status: .requestTimeout, code: "request_timeout",
                                         message: "the whole request did not arrive within the request timeout")
}

extension RequestHygiene.Problem {
    var error: APIError {
        switch self {
        case .missingHost: APIError(status: .badRequest, code: "bad_request", message: "the request has no Host header")
        case .duplicateHost: APIError(status: .badRequest, code: "bad_request", message: "the request has more than one Host header")
        case .invalidHost: APIError(status: .badRequest, code: "bad_request", message: "the Host header is not a valid host[:port]")
        case .emptyTransferEncoding:
            APIError(status: .badRequest, code: "bad_request", message: "the Transfer-Encoding header names no coding")
        case .unsupportedTransferCoding:
            APIError(status: .notImplemented, code: "not_implemented", message: "only the chunked transfer coding is supported")
        case .connect: APIError(status: .notImplemented, code: "not_implemented", message: "CONNECT is not supported: this is not a proxy")
        case .unsupportedExpectation:
            APIError(status: .expectationFailed, code: "expectation_failed", message: "the only expectation supported is 100-continue")
        }
    }
}
