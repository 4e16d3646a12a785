/// Why a caller was not authenticated.
///
/// `message` helps an honest caller fix the request (clock skew, a missing digest, a malformed
/// header) but never says whether a key id or API key exists: a wrong key, an unknown key id and a
/// bad signature all read "invalid credentials".
public struct AuthenticationFailure: Error, Equatable, CustomStringConvertible {
    /// A short, fixed label for metrics and the audit log.
    public enum Reason: String, Sendable, CaseIterable {
        case missing
        case malformed
        case unsupported
        case coverage
        case clockSkew = "clock_skew"
        case expired
        case digest
        case invalid
        case replay
    }

    public let reason: Reason
    public let message: String
    /// The key id the request claimed, for the audit log (never proof that the caller exists).
    public let claimedKeyID: String?

    public init(_ reason: Reason, _ message: String, claimedKeyID: String? = nil) {
        self.reason = reason
        self.message = message
        self.claimedKeyID = claimedKeyID
    }

    public var description: String { message }

    static let invalidCredentials = "invalid credentials"
}

/// How a caller proved who it is.
public enum AuthenticationMethod: String, Sendable {
    case apiKey = "api_key"
    case hmac
}

public struct AuthenticatedCaller: Sendable {
    public let caller: Caller
    public let method: AuthenticationMethod
    /// For a signed request: what the replay ledger must record before the request is served.
    public let replayClaim: ReplayClaim?

    public init(caller: Caller, method: AuthenticationMethod, replayClaim: ReplayClaim?) {
        self.caller = caller
        self.method = method
        self.replayClaim = replayClaim
    }
}
