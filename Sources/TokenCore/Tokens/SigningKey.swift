/// Which claim layout a key's tokens use.
public enum TokenProfile: Sendable, Equatable {
    /// `kid` in the header; `iss`, `sub`, `iat`, `nbf`, `exp`, random `jti`, `grants`.
    case generic
    /// Twilio's Access Token layout: the key id is an API key SID (`SK…`), which becomes `iss`;
    /// the account SID (`AC…`) becomes `sub`; a region (`ie1`) becomes the header's `twr`, as
    /// twilio-python's `AccessToken(region=…)` writes it.
    case twilio(accountSID: String, region: String? = nil)

    /// Twilio's region codes (an API key belongs to one; `us1` is the default).
    public static let twilioRegions = ["au1", "br1", "de1", "ie1", "in1", "jp1", "sg1", "us1", "us2"]

    public var name: String {
        switch self {
        case .generic: "generic"
        case .twilio: "twilio"
        }
    }
}

/// A key that signs tokens. The header, which depends only on the key, is encoded once here.
public struct SigningKey: Sendable, CustomStringConvertible {
    public let kid: String
    public let profile: TokenProfile
    public let isActive: Bool
    let hmacKey: HMACKey
    let encodedHeader: [UInt8]

    public static let minimumSecretLength = 32

    /// - Parameter secret: the HMAC key is this string's UTF-8 bytes (as Twilio uses API key secrets).
    public init(kid: String, secret: String, profile: TokenProfile, isActive: Bool) {
        self.kid = kid
        self.profile = profile
        self.isActive = isActive
        self.hmacKey = HMACKey(utf8: secret)
        switch profile {
        case .generic:
            encodedHeader = JWS.encodeHeader(["alg": "HS256", "typ": "JWT", "kid": kid])
        case .twilio(_, let region?):
            encodedHeader = JWS.encodeHeader(["alg": "HS256", "typ": "JWT", "cty": "twilio-fpa;v=1", "twr": region])
        case .twilio:
            encodedHeader = JWS.encodeHeader(["alg": "HS256", "typ": "JWT", "cty": "twilio-fpa;v=1"])
        }
    }

    public var description: String { "SigningKey(kid: \(kid), profile: \(profile.name))" }
}
