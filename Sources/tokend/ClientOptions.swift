import TokenCore

/// The options of the commands that call a running tokend or read tokens, declared once each
/// (see `OptionSpec`); several commands share them.
enum ClientOptions {
    /// tokend's base URL; `fallback` for the commands that have one (a local instance).
    static func url(default fallback: String? = nil) -> OptionSpec<String> {
        .text("url", valueName: "url", default: fallback, "Base URL of a running tokend, e.g. http://127.0.0.1:8080")
    }
    static let apiKey = OptionSpec.text("api-key", valueName: "key", "Authenticate with this API key")
    static let keyID = OptionSpec.text("key-id", valueName: "id", "RFC 9421 key id (the caller id)")
    static let hmacSecret = OptionSpec.text("hmac-secret", valueName: "secret", "The caller's RFC 9421 hmac-sha256 secret")
    static let identity = OptionSpec.text("identity", valueName: "id", "Who the token is for (1…256 characters)")
    static let grants = OptionSpec.text(
        "grant", environment: "TOKEND_GRANTS", valueName: "grant",
        "A grant, repeatable: TYPE[:field=value,...]; a dotted field nests, true/false are booleans (the variable: space-separated)")
    static let ttl = OptionSpec.text("ttl", valueName: "duration", "Lifetime: 3600, 90m, 2h, 1d. Clamped into 30m…24h")
    static let signingKey = OptionSpec.text("key", valueName: "kid", "Sign with this kid instead of the active key")
    static let json = FlagSpec(flag: "json", summary: "Print the JSON object of the HTTP API instead of the bare token.")
    static let token = OptionSpec.text("token", valueName: "jwt", "The token")
    static let signingSecret = OptionSpec.text("secret", environment: "TOKEND_SIGNING_SECRET", valueName: "secret",
                                               "A signing secret instead of --secrets (e.g. serve --dev's)")
    static let leeway = OptionSpec.integer("leeway", valueName: "seconds", default: JWTVerifier.defaultLeeway, in: 0...86400,
                                           "Seconds of clock drift tolerated for exp and nbf")
    static let instance = OptionSpec.text("instance", valueName: "name", "The instance whose chain to print")
    static let pidFile = OptionSpec.text("pid-file", valueName: "path", "A file holding the process id (serve --pid-file)")
}
