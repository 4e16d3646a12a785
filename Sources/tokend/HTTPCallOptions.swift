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

/// A running tokend and how to authenticate to it: `--url` and the caller's credentials, for
/// every command that calls the HTTP API as a caller.
struct CallerCallOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Base URL of a running tokend (http://127.0.0.1:8080). Env: TOKEND_URL.", valueName: "url"))
    var url: String?

    @OptionGroup var credentials: CallerCredentialOptions

    /// POSTs the JSON `body` to `path` under `--url`, authenticated (a Bearer API key, or signed).
    func post(_ body: [UInt8], to path: String) async throws -> HTTPCall.Answer {
        return try await credentials.post(body, to: try Environment.baseURL(url) + path)
    }
}

extension CallerCredentialOptions {
    func post(_ body: [UInt8], to url: String) async throws -> HTTPCall.Answer {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        switch try credential() {
        case .apiKey(let key):
            headers.append(("Authorization", "Bearer \(key)"))
        case .signature(let signer):
            guard let parts = RequestParts(method: "POST", url: url, body: body) else {
                throw CommandFailure.usage("--url must be an absolute http:// or https:// URL")
            }
            do {
                headers += try signer.sign(parts, created: WallClock.now())
            } catch {
                throw CommandFailure.usage(error.message)
            }
        }
        return try await HTTPCall.send(method: "POST", url: url, headers: headers, body: body)
    }
}

