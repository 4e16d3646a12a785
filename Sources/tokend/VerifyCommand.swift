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

            --secret checks a generic token against one signing secret instead of a file: the \
            "Signing secret" that `serve --dev` prints. Prefer TOKEND_SIGNING_SECRET, which ps \
            does not show.
            """
    )

    @OptionGroup var secretsOptions: SecretsOptions

    @Option(ClientOptions.signingSecret) var secret: String?

    @Option(ClientOptions.leeway) var leeway: String?

    @Argument(help: "The token, or - to read it from stdin.")
    var token: String

    func run() throws {
        let leewaySeconds = try ClientOptions.leeway.value(leeway)
        let text = token == "-" ? Console.readStandardInput().trimmingWhitespace : token
        let verifier = try verifier(for: text, leeway: leewaySeconds)
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

    /// The secrets file's keys and issuer, or the one `--secret` under the kid the token names (a
    /// bare secret has no kid of its own, nor an issuer; the signature decides).
    private func verifier(for token: String, leeway: Int) throws(CommandFailure) -> JWTVerifier {
        switch (try ClientOptions.signingSecret.given(secret), secretsOptions.path) {
        case (let secret?, nil):
            guard secret.utf8.count >= SigningKey.minimumSecretLength else {
                throw .usage("--secret is \(secret.utf8.count) bytes; signing secrets are at least \(SigningKey.minimumSecretLength)")
            }
            let decoded = try? DecodedJWT(token)
            // A Twilio token names its key by `iss` (the API key SID) and has no kid.
            if decoded?.header["cty"]?.stringValue == "twilio-fpa;v=1", let sid = decoded?.payload["iss"]?.stringValue {
                let account = decoded?.payload["sub"]?.stringValue ?? ""
                return JWTVerifier(keys: [SigningKey(kid: sid, secret: secret, profile: .twilio(accountSID: account), isActive: true)], issuer: nil, leeway: leeway)
            }
            let kid = decoded?.header["kid"]?.stringValue ?? ""
            return JWTVerifier(keys: [SigningKey(kid: kid, secret: secret, profile: .generic, isActive: true)], issuer: nil, leeway: leeway)
        case (_?, _?):
            throw .usage("give --secrets or --secret, not both")
        case (nil, _):
            return JWTVerifier(secrets: try secretsOptions.load(), leeway: leeway)
        }
    }
}
