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

    @Option(help: ArgumentHelp("Base URL of a running tokend (http://127.0.0.1:8080). Env: TOKEND_URL.", valueName: "url"))
    var url: String?

    @OptionGroup var credentials: CallerCredentialOptions

    @Option(help: ArgumentHelp("Who the token is for (1…256 characters). Env: TOKEND_IDENTITY.", valueName: "id"))
    var identity: String?

    @Option(name: .customLong("grant"), help: ArgumentHelp(
        "A grant, repeatable: TYPE[:field=value,...]; a dotted field nests, true/false are booleans. Env: TOKEND_GRANTS (space-separated).",
        valueName: "grant"))
    var grants: [String] = []

    @Option(help: ArgumentHelp("Lifetime: 3600, 90m, 2h, 1d. Clamped into 30m…24h. Env: TOKEND_TTL.", valueName: "duration"))
    var ttl: String?

    @Option(name: .customLong("key"), help: ArgumentHelp("Sign with this kid instead of the active key. Env: TOKEND_KEY.", valueName: "kid"))
    var keyID: String?

    @Flag(help: "Print the JSON object of the HTTP API instead of the bare token. Env: TOKEND_JSON=1.")
    var json = false

    func run() async throws {
        let request = try tokenRequest()
        if Environment.resolve(url, "TOKEND_URL") != nil {
            guard secretsOptions.secrets == nil else { throw CommandFailure.usage("give --url or --secrets, not both") }
            try await mintRemotely(request, base: try Environment.baseURL(url))
            return
        }
        let secrets = try secretsOptions.load()
        let issued: IssuedToken
        do {
            issued = try TokenIssuer(secrets: secrets).issue(
                request, for: .operator(keyID: Environment.resolve(keyID, "TOKEND_KEY")), now: WallClock.now())
        } catch {
            throw CommandFailure.refused(error.message)
        }
        report(issued)
    }

    func tokenRequest() throws(CommandFailure) -> TokenRequest {
        let identity = try Environment.require(identity, "--identity", "TOKEND_IDENTITY")
        var ttlSeconds: Int?
        if let text = Environment.resolve(ttl, "TOKEND_TTL") {
            do {
                ttlSeconds = try DurationParser.seconds(text)
            } catch {
                throw .usage(error.description)
            }
            guard ttlSeconds! > 0 else { throw .usage("--ttl must be greater than 0") }
        }
        let specs = grants.isEmpty
            ? (Environment.value("TOKEND_GRANTS")?.split(separator: " ").map(String.init) ?? [])
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
        Console.out(Environment.flag(json, "TOKEND_JSON") ? String(decoding: answer.body, as: UTF8.self) : token)
    }

    func report(_ issued: IssuedToken) {
        for warning in issued.warnings { Console.error("warning: \(warning)") }
        if Environment.flag(json, "TOKEND_JSON") {
            Console.out(String(decoding: issued.responseJSON(), as: UTF8.self))
        } else {
            Console.out(issued.token)
        }
    }
}
