import TokenCore

/// `tokend serve --dev`: an ephemeral signing key and one caller, `dev`, allowed every grant —
/// the way `vault server -dev` starts. Nothing is written to disk; the caller's credentials are
/// shown once, on start. With `twilio`, the key is a made-up Twilio API key (random `SK…` and
/// `AC…`), so that the Twilio layout, its grants and their checks can be tried without an
/// account; Twilio itself refuses those tokens, as it should.
public struct DevSecrets: Sendable {
    public let secrets: Secrets
    public let apiKey: String
    public let hmacSecret: String
    public let signingKID: String
    /// Shown on start too, so that a developer can verify the tokens (PyJWT, jwt.io).
    public let signingSecret: String
    public let isTwilio: Bool

    public static let callerID = "dev"

    /// Every grant: the Twilio ones, which is what the generic layout's users name too.
    public static let grants = Set(TwilioGrants.grants.map(\.name))

    public static func make(twilio: Bool = false) -> DevSecrets {
        let apiKey = KeyMaterial.apiKey()
        let hmacSecret = KeyMaterial.secret()
        let signingSecret = KeyMaterial.secret()
        let kid = twilio ? "SK" + Hex.encode(SecureRandom.bytes(16)) : "dev"
        let profile: TokenProfile = twilio ? .twilio(accountSID: "AC" + Hex.encode(SecureRandom.bytes(16))) : .generic
        let key = SigningKey(kid: kid, secret: signingSecret, profile: profile, isActive: true)
        let caller = Caller(id: callerID, apiKeySHA256: SHA256.hash(apiKey), hmacKey: HMACKey(utf8: hmacSecret), grants: grants,
                            permissions: Set(Permission.allCases))  // so that --dev can try every endpoint
        // Cannot fail: one active key, one caller.
        let secrets = try! Secrets(issuer: "tokend-dev", signingKeys: [key], callers: [caller])
        return DevSecrets(secrets: secrets, apiKey: apiKey, hmacSecret: hmacSecret, signingKID: kid, signingSecret: signingSecret, isTwilio: twilio)
    }
}
