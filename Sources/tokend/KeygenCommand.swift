import ArgumentParser
import TokenCore

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Print fresh key material and the TOML lines to paste into the secrets file.",
        discussion: """
            Without a kind, prints one of each. Values come from OpenSSL's RAND_bytes. \
            An API key is shown once: only its SHA-256 goes into the secrets file.
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case signingKey = "signing-key"
        case apiKey = "api-key"
        case hmacSecret = "hmac-secret"
        case auditKey = "audit-key"
    }

    @Argument(help: ArgumentHelp("What to generate: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "kind"))
    var kind: Kind?

    func run() throws {
        let kinds = kind.map { [$0] } ?? Kind.allCases
        Console.out(kinds.map(Self.block(for:)).joined(separator: "\n"))
    }

    static func block(for kind: Kind) -> String {
        switch kind {
        case .signingKey:
            return """
                # A signing key. Add it beside the current one, reload (SIGHUP), then set active = true
                # on it and false on the old one; drop the old key after the longest TTL (24 h).
                [[signing_keys]]
                kid = "\(defaultKid())"
                secret = "\(KeyMaterial.secret())"
                active = true

                """
        case .apiKey:
            let apiKey = KeyMaterial.apiKey()
            return """
                # An API key. Give the key to the caller (it is not stored anywhere):
                #   API key: \(apiKey)
                # and put only its SHA-256 into the caller's entry:
                [[callers]]
                id = "my-backend"
                api_key_sha256 = "\(KeyMaterial.apiKeySHA256Hex(apiKey))"
                grants = ["data_sync"]

                """
        case .hmacSecret:
            return """
                # An RFC 9421 HMAC secret: share it with the caller and add it to the caller's entry.
                hmac_secret = "\(KeyMaterial.secret())"

                """
        case .auditKey:
            return """
                # Keys the audit log's hash chain, so that only holders of this key can rewrite it.
                audit_key = "\(KeyMaterial.secret())"

                """
        }
    }

    /// A key id from the current year and month, e.g. "2026-11", the convention of DESIGN §1.
    static func defaultKid() -> String {
        String(Timestamp.rfc3339(unixSeconds: WallClock.now()).prefix(7))
    }
}
