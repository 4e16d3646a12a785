import ArgumentParser
import TokenCore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a token's signature, expiry and claims against the secrets file.",
        discussion: """
            Accepts only HS256 tokens signed by a key in the secrets file (found by the header's \
            kid, or for Twilio tokens by iss). Exit 0 and print the claims when valid; exit 1 and \
            say why when not. Pass - as TOKEN to read it from stdin and keep it out of ps.
            """
    )

    @OptionGroup var secretsOptions: SecretsOptions

    @Option(help: ArgumentHelp("Seconds of clock drift tolerated for exp and nbf. Env: TOKEND_LEEWAY.", valueName: "seconds"))
    var leeway: Int?

    @Argument(help: "The token, or - to read it from stdin.")
    var token: String

    func run() throws {
        let secrets = try secretsOptions.load()
        let leewaySeconds = try Environment.integer(leeway, "--leeway", "TOKEND_LEEWAY", in: 0...86400,
                                                    default: JWTVerifier.defaultLeeway)
        let text = token == "-" ? Console.readStandardInput().trimmingWhitespace : token
        let verifier = JWTVerifier(keys: secrets.signingKeys, leeway: leewaySeconds)
        let verified: DecodedJWT
        do {
            verified = try verifier.verify(text, now: WallClock.now())
        } catch {
            throw CommandFailure.refused("invalid token: \(error)")
        }
        let kid = verified.header["kid"]?.stringValue ?? verified.payload["iss"]?.stringValue ?? "?"
        let expiry = verified.payload["exp"]?.integerValue.map { Timestamp.rfc3339(unixSeconds: $0) } ?? "?"
        Console.error("valid: signed by key \"\(kid)\", expires \(expiry)")
        Console.out(JSONValue.object(verified.payload).jsonText)
    }
}
