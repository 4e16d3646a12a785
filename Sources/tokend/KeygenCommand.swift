import ArgumentParser
import TokenCore

#if canImport(Glibc)
import Glibc
#endif

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Print a complete secrets file, or fresh material for one entry of it.",
        discussion: """
            Without a kind, prints a secrets file that `serve` accepts as it is: an audit key, an \
            active signing key and one caller with an API key and an HMAC secret (the plain API \
            key in a comment line, shown once: only its SHA-256 is needed). \
            `tokend keygen > secrets.toml` is a working start; when stdout is a file, keygen \
            makes it readable by its owner only.

            signing-key prints a key for a rotation: a kid that does not collide with earlier ones \
            and active = false, to append, reload, then activate. api-key and hmac-secret print a \
            [[callers]] entry (--caller names it); audit-key the line that keys the audit chain. \
            Values come from OpenSSL's RAND_bytes.
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case signingKey = "signing-key"
        case apiKey = "api-key"
        case hmacSecret = "hmac-secret"
        case auditKey = "audit-key"
    }

    @Argument(help: ArgumentHelp("What to generate: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")); nothing: a whole secrets file.",
                                 valueName: "kind"))
    var kind: Kind?

    @Option(help: ArgumentHelp("The caller id of a [[callers]] entry (default my-backend).", valueName: "id"))
    var caller = "my-backend"

    func validate() throws {
        guard SecretsLoader.isValidCallerID(caller) else {
            throw ValidationError("--caller must be 1…128 printable ASCII characters without quotes or backslashes")
        }
    }

    func run() throws {
        Self.restrictOutputFile()
        switch kind {
        case nil: Console.out(secretsFile())
        case .signingKey: Console.out(Self.signingKey(kid: Self.rotationKid(), active: false))
        case .apiKey: Console.out(callerEntry(apiKey: KeyMaterial.apiKey(), hmacSecret: nil))
        case .hmacSecret: Console.out(callerEntry(apiKey: nil, hmacSecret: KeyMaterial.secret()))
        case .auditKey: Console.out(Self.auditKey())
        }
    }

    private func secretsFile() -> String {
        """
        # tokend secrets file, made by `tokend keygen`. Keep it readable by tokend only
        # (chmod 600); `secrets.example` documents every key.
        issuer = "tokend"
        \(Self.auditKey())
        \(Self.signingKey(kid: Self.monthKid(), active: true))
        \(callerEntry(apiKey: KeyMaterial.apiKey(), hmacSecret: KeyMaterial.secret()))
        """
    }

    /// A `[[callers]]` entry. The API key itself is printed once, in a comment: the file needs
    /// only its SHA-256, so once the key is handed over, the comment line can go.
    private func callerEntry(apiKey: String?, hmacSecret: String?) -> String {
        var lines = ["# The caller \"\(caller)\": hand its credentials to that backend over a secure channel."]
        if let apiKey {
            lines += ["# Its API key (only the SHA-256 below is needed; delete this line once it is handed over):",
                      "#   API key: \(apiKey)"]
        }
        if hmacSecret != nil {
            lines += ["# Its HMAC secret signs requests (RFC 9421, hmac-sha256, keyid \"\(caller)\")."]
        }
        lines += ["[[callers]]", "id = \"\(caller)\""]
        if let apiKey { lines.append("api_key_sha256 = \"\(KeyMaterial.apiKeySHA256Hex(apiKey))\"") }
        if let hmacSecret { lines.append("hmac_secret = \"\(hmacSecret)\"") }
        lines += ["grants = [\"data_sync\"]            # the grant types it may ask for", ""]
        return lines.joined(separator: "\n")
    }

    static func signingKey(kid: String, active: Bool) -> String {
        let comment = active
            ? "# The key that signs tokens (HS256)."
            : """
              # A new signing key, not yet active. Append it, reload (SIGHUP) so every instance knows it,
              # then set active = true here and false on the old key and reload again; delete the old
              # key after the longest TTL (24 h).
              """
        return """
            \(comment)
            [[signing_keys]]
            kid = "\(kid)"
            secret = "\(KeyMaterial.secret())"
            active = \(active)

            """
    }

    static func auditKey() -> String {
        """
        # Keys the audit log's hash chain, so that only holders of this key can rewrite it.
        audit_key = "\(KeyMaterial.secret())"

        """
    }

    /// The first key's id: the current year and month, e.g. "2026-11".
    static func monthKid() -> String {
        String(Timestamp.rfc3339(unixSeconds: WallClock.now()).prefix(7))
    }

    /// A rotation's key id: the day and four random hex digits, e.g. "2026-11-30-9f3c", so that
    /// it differs from the month kid and from another rotation on the same day.
    static func rotationKid() -> String {
        String(Timestamp.rfc3339(unixSeconds: WallClock.now()).prefix(10)) + "-" + Hex.encode(SecureRandom.bytes(2))
    }

    /// `tokend keygen > file` writes secrets: when stdout is a regular file that others may read,
    /// make it the owner's alone before anything is written (the shell created it with the umask).
    static func restrictOutputFile() {
        var info = stat()
        guard fstat(1, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_mode & 0o077 != 0 else { return }
        if fchmod(1, info.st_mode & 0o700) == 0 {
            Console.error("tokend keygen: made the output file readable by its owner only (mode 600)")
        } else {
            Console.error("tokend keygen: warning: the output file is readable by others; chmod 600 it")
        }
    }
}
