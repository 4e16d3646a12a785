import ArgumentParser
import TokenCore

struct MintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mint",
        abstract: "Mint a token: offline with the secrets file, or from a running service with --url.",
        discussion: """
            Prints the token alone on stdout and any warning on stderr, so that \
            TOKEN=$(tokend mint …) captures just the token. The secrets file's caller grant lists \
            do not apply: whoever holds the file holds every key.

            With --url, asks a running tokend as a caller would (POST /v1/tokens), with an API key \
            or an RFC 9421 signature; the caller's grant list and max_ttl apply there.

            Examples:
              tokend mint --secrets secrets.toml --identity alice
              tokend mint --url http://127.0.0.1:8080 --api-key "$KEY" --identity alice
              tokend mint --url http://127.0.0.1:8080 --key-id web --hmac-secret "$S" --identity alice
              tokend mint --secrets secrets.toml --identity alice --ttl 2h \\
                  --grant data_sync:service_sid=IS123 --grant video:room=standup --json
            """
    )

    @OptionGroup var secretsOptions: SecretsOptions

    @Option(ClientOptions.url()) var url: String?

    @OptionGroup var credentials: CallerCredentialOptions

    @Option(ClientOptions.identity) var identity: String?

    @Option(name: .customLong(ClientOptions.grants.flag), help: ClientOptions.grants.help) var grants: [String] = []

    @Option(ClientOptions.ttl) var ttl: String?

    @Option(ClientOptions.signingKey) var keyID: String?

    @Flag(ClientOptions.json) var json: Bool

    func run() async throws {
        let request = try tokenRequest()
        if try ClientOptions.url().given(url) != nil {
            guard secretsOptions.secrets == nil else { throw CommandFailure.usage("give --url or --secrets, not both") }
            try await mintRemotely(request, base: try Environment.baseURL(url))
            return
        }
        let secrets = try secretsOptions.load()
        let signingKey = try ClientOptions.signingKey.given(keyID)
        let issued: IssuedToken
        do {
            issued = try TokenIssuer(secrets: secrets).issue(request, for: .operator(keyID: signingKey), now: WallClock.now())
        } catch {
            throw CommandFailure.refused(error.message)
        }
        report(issued)
    }

    func tokenRequest() throws(CommandFailure) -> TokenRequest {
        let identity = try ClientOptions.identity.value(identity)
        var ttlSeconds: Int?
        if let text = try ClientOptions.ttl.given(ttl) {
            do {
                ttlSeconds = try DurationParser.seconds(text)
            } catch {
                throw .usage(error.description)
            }
            guard ttlSeconds! > 0 else { throw .usage("--ttl must be greater than 0") }
        }
        let specs = grants.isEmpty
            ? (Environment.value(ClientOptions.grants.environment)?.split(separator: " ").map(String.init) ?? [])
            : grants
        do {
            return TokenRequest(identity: identity, ttl: ttlSeconds, grants: .object(try GrantSpec.parse(specs)))
        } catch {
            throw .usage(error.description)
        }
    }

    /// POST /v1/tokens to a running service; prints what offline minting prints.
    func mintRemotely(_ request: TokenRequest, base: String) async throws {
        var writer = JSONWriter()
        writer.raw("{\"identity\":"); writer.string(request.identity)
        if let ttl = request.ttl { writer.raw(",\"ttl\":"); writer.integer(ttl) }
        if let grants = request.grants { writer.raw(",\"grants\":"); writer.value(grants) }
        writer.raw("}")
        let answer = try await credentials.post(writer.bytes, to: base + "/v1/tokens")
        guard answer.status == 200, case .object(let response)? = try? JSONParser.parse(answer.body),
              let token = response["token"]?.stringValue else {
            throw CommandFailure.refused(HTTPCall.errorMessage(answer))
        }
        if case .array(let warnings)? = response["warnings"] {
            for case .string(let warning) in warnings { Console.error("warning: \(warning)") }
        }
        Console.out(ClientOptions.json.isOn(json) ? String(decoding: answer.body, as: UTF8.self) : token)
    }

    func report(_ issued: IssuedToken) {
        for warning in issued.warnings { Console.error("warning: \(warning)") }
        if ClientOptions.json.isOn(json) {
            Console.out(String(decoding: issued.responseJSON(), as: UTF8.self))
        } else {
            Console.out(issued.token)
        }
    }
}
