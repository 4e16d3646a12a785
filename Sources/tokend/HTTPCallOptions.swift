import ArgumentParser
import TokenCore

/// How a CLI command authenticates to a running tokend: an API key, or an RFC 9421 key id and
/// HMAC secret.
struct CallerCredentialOptions: ParsableArguments {
    @Option(name: .customLong("api-key"), help: ArgumentHelp("Authenticate with this API key. Env: TOKEND_API_KEY.", valueName: "key"))
    var apiKey: String?

    @Option(name: .customLong("key-id"), help: ArgumentHelp("RFC 9421 key id (the caller id). Env: TOKEND_KEY_ID.", valueName: "id"))
    var keyID: String?

    @Option(name: .customLong("hmac-secret"), help: ArgumentHelp("RFC 9421 hmac-sha256 secret. Env: TOKEND_HMAC_SECRET.", valueName: "secret"))
    var hmacSecret: String?

    enum Credential {
        case apiKey(String)
        case signature(MessageSigner)
    }

    func credential() throws(CommandFailure) -> Credential {
        if let key = Environment.resolve(apiKey, "TOKEND_API_KEY") { return .apiKey(key) }
        if let id = Environment.resolve(keyID, "TOKEND_KEY_ID") {
            let secret = try Environment.require(hmacSecret, "--hmac-secret", "TOKEND_HMAC_SECRET")
            return .signature(MessageSigner(keyID: id, secret: secret))
        }
        throw .usage("give --api-key, or --key-id with --hmac-secret")
    }
}
