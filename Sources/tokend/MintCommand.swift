import ArgumentParser
import TokenCore

struct MintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mint",
        abstract: "Mint a token with the secrets file (the operator's tool).",
        discussion: """
            Prints the token alone on stdout and any warning on stderr, so that
            TOKEN=$(tokend mint …) captures just the token. The secrets file's caller grant lists
            do not apply: whoever holds the file holds every key.

            Examples:
              tokend mint --secrets secrets.toml --identity alice
              tokend mint --secrets secrets.toml --identity alice --ttl 2h \\
                  --grant data_sync:service_sid=IS123 --grant video:room=standup --json
            """
    )

    @OptionGroup var secretsOptions: SecretsOptions

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

    func report(_ issued: IssuedToken) {
        for warning in issued.warnings { Console.error("warning: \(warning)") }
        if Environment.flag(json, "TOKEND_JSON") {
            Console.out(String(decoding: issued.responseJSON(), as: UTF8.self))
        } else {
            Console.out(issued.token)
        }
    }
}
