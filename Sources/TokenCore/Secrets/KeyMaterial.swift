/// Fresh secrets, as `tokend keygen` and `tokend serve --dev` make them.
public enum KeyMaterial {
    /// 384 random bits as 64 base64url characters: the string's UTF-8 bytes are the HMAC key,
    /// comfortably above the 32-byte minimum and SHA-256's 256-bit strength.
    public static func secret() -> String {
        Base64URL.encode(SecureRandom.bytes(48))
    }

    /// API keys carry a `tkd_` prefix so secret scanners and people can recognise a leaked one.
    public static let apiKeyPrefix = "tkd_"

    public static func apiKey() -> String {
        apiKeyPrefix + Base64URL.encode(SecureRandom.bytes(32))
    }

    /// What the secrets file stores for an API key: its SHA-256 in hex.
    public static func apiKeySHA256Hex(_ apiKey: String) -> String {
        SHA256.hash(apiKey).hex
    }
}
