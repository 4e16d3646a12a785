import TokenCore

/// `tokend serve --dev`: an ephemeral signing key and one caller, `dev`, allowed every grant —
/// the way `vault server -dev` starts. Nothing is written to disk; the caller's credentials are
/// shown once, on start.
public struct DevSecrets: Sendable {
    public let secrets: Secrets
    public let apiKey: String
    public let hmacSecret: String
    public let signingKID = "dev"
    /// Shown on start too, so that a developer can verify the tokens (PyJWT, jwt.io).
    public let signingSecret: String

    public static let callerID = "dev"
    public static let grants: Set<String> = ["data_sync", "chat", "video", "voice"]

    public static func make() -> DevSecrets {
        let apiKey = KeyMaterial.apiKey()
        let hmacSecret = KeyMaterial.secret()
        let signingSecret = KeyMaterial.secret()
        let key = SigningKey(kid: "dev", secret: signingSecret, profile: .generic, isActive: true)
        let caller = Caller(id: callerID, apiKeySHA256: SHA256.hash(apiKey), hmacKey: HMACKey(utf8: hmacSecret), grants: grants,
                            permissions: Set(Permission.allCases))  // so that --dev can try every endpoint
        // Cannot fail: one active key, one caller.
        let secrets = try! Secrets(issuer: "tokend-dev", signingKeys: [key], callers: [caller])
        return DevSecrets(secrets: secrets, apiKey: apiKey, hmacSecret: hmacSecret, signingSecret: signingSecret)
    }
}
