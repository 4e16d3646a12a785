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

            twilio-key prints the [[signing_keys]] entry of a Twilio API key you made in the \
            Twilio Console (Account → API keys): --sid SK…, --account AC…, --region if the key \
            is not a US1 one. Its secret is read from standard input (never from the command \
            line, where ps and the shell's history would show it): \
            tokend keygen twilio-key --sid SK… --account AC… >> secrets.toml, then paste the \
            secret, or pipe it in.
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case signingKey = "signing-key"
        case apiKey = "api-key"
        case hmacSecret = "hmac-secret"
        case auditKey = "audit-key"
        case twilioKey = "twilio-key"
    }

    @Argument(help: ArgumentHelp("What to generate: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")); nothing: a whole secrets file.",
                                 valueName: "kind"))
    var kind: Kind?

    @Option(help: ArgumentHelp("The caller id of a [[callers]] entry.", valueName: "id"))
    var caller = "my-backend"

    @Option(help: ArgumentHelp("twilio-key: the API key's SID (SK + 32 hex).", valueName: "SK…"))
    var sid: String?

    @Option(help: ArgumentHelp("twilio-key: the account SID (AC + 32 hex).", valueName: "AC…"))
    var account: String?

    @Option(help: ArgumentHelp("twilio-key: the API key's region, if not US1 (\(TokenProfile.twilioRegions.joined(separator: ", "))).", valueName: "region"))
    var region: String?

    func validate() throws {
        guard SecretsLoader.isValidCallerID(caller) else {
            throw ValidationError("--caller must be 1…128 printable ASCII characters without quotes or backslashes")
        }
        guard kind == .twilioKey else {
            if sid != nil || account != nil || region != nil { throw ValidationError("--sid, --account and --region are for twilio-key") }
            return
        }
        guard let sid, TwilioGrants.isSID(sid, prefix: "SK") else { throw ValidationError("twilio-key needs --sid, the API key's SID (SK followed by 32 hex digits)") }
        guard let account, TwilioGrants.isSID(account, prefix: "AC") else {
            throw ValidationError("twilio-key needs --account, the account SID (AC followed by 32 hex digits)")
        }
        if let region, !TokenProfile.twilioRegions.contains(region) {
            throw ValidationError("--region must be one of Twilio's regions: \(TokenProfile.twilioRegions.joined(separator: ", "))")
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
        case .twilioKey: Console.out(try twilioKey(secret: Self.readSecret(prompt: "Twilio API key secret (not shown): ")))
        }
    }

    /// A Twilio API key's entry, inactive: a caller points at it with `signing_key`, or it is made
    /// the active key.
    private func twilioKey(secret: String) throws(CommandFailure) -> String {
        guard secret.utf8.count >= SigningKey.minimumSecretLength else {
            throw .usage("the secret read from standard input is \(secret.utf8.count) bytes; a Twilio API key secret is 32 (paste it whole)")
        }
        guard secret.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }) else {
            throw .usage("the secret read from standard input is not a Twilio API key secret (printable ASCII, no spaces or quotes)")
        }
        let (sid, account) = (sid!, account!)
        return """
            # A Twilio API key: tokens in Twilio's Access Token layout, signed with its secret. Point a
            # caller at it (signing_key = "\(sid)") and give that caller Twilio grants, or make it the
            # active key.
            [[signing_keys]]
            kid = "\(sid)"
            secret = "\(secret)"
            account_sid = "\(account)"
            profile = "twilio"
            \(region.map { "region = \"\($0)\"\n" } ?? "")active = false

            """
    }

    /// The first line of standard input; at a terminal, asked for without echo.
    static func readSecret(prompt: String) throws(CommandFailure) -> String {
        let line: String?
        if isatty(0) == 1, let typed = getpass(prompt) {
            line = String(cString: typed)
        } else {
            line = readLine(strippingNewline: true)
        }
        guard let secret = line.map({ String($0.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()) }), !secret.isEmpty else {
            throw .usage("twilio-key reads the API key secret from standard input, and got nothing")
        }
        return secret
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
