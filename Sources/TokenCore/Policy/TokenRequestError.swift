/// Why a token request was refused before anything was signed. `code` is the stable string of
/// the API (`invalid_request`, …); `message` tells the caller what to fix and never echoes a
/// secret (it may name a field or a grant, which the caller sent itself).
public struct TokenRequestError: Error, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidJSON = "invalid_json"
        case invalidRequest = "invalid_request"
        case grantNotAllowed = "grant_not_allowed"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
