import ArgumentParser
import TokenCore

/// How a CLI command authenticates to a running tokend: an API key, or an RFC 9421 key id and
/// HMAC secret.
struct CallerCredentialOptions: ParsableArguments {
    @Option(ClientOptions.apiKey) var apiKey: String?
    @Option(ClientOptions.keyID) var keyID: String?
    @Option(ClientOptions.hmacSecret) var hmacSecret: String?

    enum Credential {
        case apiKey(String)
        case signature(MessageSigner)
    }

    func credential() throws(CommandFailure) -> Credential {
        if let key = try ClientOptions.apiKey.given(apiKey) { return .apiKey(key) }
        if let id = try ClientOptions.keyID.given(keyID) {
            let secret = try ClientOptions.hmacSecret.value(hmacSecret)
            return .signature(MessageSigner(keyID: id, secret: secret))
        }
        throw .usage("give --api-key, or --key-id with --hmac-secret")
    }
}

/// A running tokend and how to authenticate to it: `--url` and the caller's credentials, for
/// every command that calls the HTTP API as a caller.
struct CallerCallOptions: ParsableArguments {
    @Option(ClientOptions.url()) var url: String?

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

