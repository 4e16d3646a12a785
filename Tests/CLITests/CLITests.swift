import Foundation
import Testing
import TestSupport
import TokenCore

/// The `tokend` binary as an operator uses it: real files, real processes, exit codes.
struct CLITests {
    let directory: TemporaryDirectory
    let secretsPath: String

    init() throws {
        directory = try TemporaryDirectory()
        secretsPath = try directory.write("secrets.toml", SampleSecrets.toml)
    }

    func tokend(_ arguments: String..., stdin: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
        try Executables.run(Executables.tokend, arguments, stdin: stdin, environment: environment)
    }

    func claims(_ token: String) throws -> JSONObject {
        try DecodedJWT(token).payload
    }

    @Test func mintPrintsOnlyTheTokenAndPyJWTStyleClaims() throws {
        let result = try tokend("mint", "--secrets", secretsPath, "--identity", "alice", "--grant", "data_sync:service_sid=IS1")
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let token = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.split(separator: ".").count == 3)
        #expect(!result.stdout.dropLast().contains("\n"))
        let payload = try claims(token)
        #expect(payload["grants"]?.jsonText == #"{"identity":"alice","data_sync":{"service_sid":"IS1"}}"#)
        #expect(payload["exp"]!.integerValue! - payload["nbf"]!.integerValue! == 3600)
    }

    @Test func shortTTLIsRaisedWithAWarning() throws {
        let result = try tokend("mint", "--secrets", secretsPath, "--identity", "alice", "--ttl", "60")
        #expect(result.status == 0)
        #expect(result.stderr.contains("warning: ttl 60 raised to the minimum of 1800"))
        let payload = try claims(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(payload["exp"]!.integerValue! - payload["nbf"]!.integerValue! == 1800)
    }

    @Test func longTTLIsLoweredToADay() throws {
        let result = try tokend("mint", "--secrets", secretsPath, "--identity", "alice", "--ttl", "2d", "--json")
        #expect(result.status == 0)
        let response = try #require(try JSONParser.parse(Array(result.stdout.utf8)).objectValue)
        #expect(response["ttl"]?.integerValue == 86400)
        #expect(response["warnings"] == .array([.string("ttl 172800 lowered to the maximum of 86400")]))
        let payload = try claims(try #require(response["token"]?.stringValue))
        #expect(payload["exp"]!.integerValue! - payload["nbf"]!.integerValue! == 86400)
    }

    @Test func flagsComeFromTheEnvironmentToo() throws {
        let result = try tokend("mint", environment: [
            "TOKEND_SECRETS": secretsPath, "TOKEND_IDENTITY": "env-user", "TOKEND_TTL": "2h",
            "TOKEND_KEY": SampleSecrets.twilioKid, "TOKEND_GRANTS": "chat:service_sid=IS99999999999999999999999999999999 video:room=r1",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let token = try DecodedJWT(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(token.header["cty"] == .string("twilio-fpa;v=1"))
        #expect(token.payload["grants"]?.objectValue?.keys == ["identity", "chat", "video"])
        #expect(token.payload["exp"]!.integerValue! - token.payload["nbf"]!.integerValue! == 7200)
    }

    /// Signed with the file's key, but for another issuer: not one of this configuration's tokens.
    @Test func verifyRefusesATokenOfAnotherIssuer() throws {
        let key = SigningKey(kid: "2026-11", secret: SampleSecrets.genericSecret, profile: .generic, isActive: true)
        let foreign = TokenMinter.mint(identity: "a", grants: JSONObject(), ttl: 3600, now: WallClock.now(), key: key, issuer: "not-tokend-test").token
        let result = try tokend("verify", "--secrets", secretsPath, foreign)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("issuer"))
        let ours = TokenMinter.mint(identity: "a", grants: JSONObject(), ttl: 3600, now: WallClock.now(), key: key, issuer: "tokend-test").token
        #expect(try tokend("verify", "--secrets", secretsPath, ours).status == 0)
    }

    @Test func verifyAcceptsGoodTokensAndRejectsBadOnes() throws {
        let token = try tokend("mint", "--secrets", secretsPath, "--identity", "alice").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let good = try tokend("verify", "--secrets", secretsPath, token)
        #expect(good.status == 0)
        #expect(good.stdout.contains("\"sub\":\"alice\""))
        #expect(try tokend("verify", "--secrets", secretsPath, "-", stdin: token + "\n").status == 0)

        // Tampered: one character of the payload changed.
        var parts = token.split(separator: ".").map(String.init)
        var payload = Array(parts[1])
        payload[5] = payload[5] == "A" ? "B" : "A"
        parts[1] = String(payload)
        let tampered = try tokend("verify", "--secrets", secretsPath, parts.joined(separator: "."))
        #expect(tampered.status == 1)

        // Foreign key: same kid, different secret.
        let foreign = SigningKey(kid: "2026-11", secret: "someone-elses-secret-0123456789abcdef", profile: .generic, isActive: true)
        let foreignToken = TokenMinter.mint(identity: "alice", grants: JSONObject(), ttl: 3600, now: WallClock.now(), key: foreign, issuer: "x").token
        let foreignResult = try tokend("verify", "--secrets", secretsPath, foreignToken)
        #expect(foreignResult.status == 1)
        #expect(foreignResult.stderr.contains("signature does not match"))

        // Expired: signed with the right key two days ago.
        let key = SigningKey(kid: "2026-11", secret: SampleSecrets.genericSecret, profile: .generic, isActive: true)
        let expiredToken = TokenMinter.mint(identity: "alice", grants: JSONObject(), ttl: 3600, now: WallClock.now() - 172_800, key: key, issuer: "tokend-test").token
        let expired = try tokend("verify", "--secrets", secretsPath, expiredToken)
        #expect(expired.status == 1)
        #expect(expired.stderr.contains("expired"))

        // alg none, unsigned.
        let header = Base64URL.encode(Array(#"{"alg":"none","kid":"2026-11"}"#.utf8))
        let originalPayload = token.split(separator: ".")[1]
        let none = try tokend("verify", "--secrets", secretsPath, "\(header).\(originalPayload).")
        #expect(none.status == 1)
        #expect(none.stderr.contains("\"none\" is not accepted"))
    }

    @Test func decodeShowsHeaderAndPayloadUnverified() throws {
        let token = try tokend("mint", "--secrets", secretsPath, "--identity", "alice").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let decoded = try tokend("decode", token)
        #expect(decoded.status == 0)
        let object = try #require(try JSONParser.parse(Array(decoded.stdout.utf8)).objectValue)
        #expect(object["header"]?.objectValue?["kid"] == .string("2026-11"))
        #expect(object["payload"]?.objectValue?["sub"] == .string("alice"))
        #expect(try tokend("decode", "not-a-token").status == 1)
    }

    /// Configuration problems stop with exit 2 and a message that says what to fix.
    @Test func brokenSecretsFilesExitTwo() throws {
        let readable = try directory.write("readable.toml", SampleSecrets.toml, mode: 0o644)
        let cases: [(String, String)] = [
            (readable, "chmod 600"),
            (try directory.write("short.toml", SampleSecrets.toml.replacingOccurrences(of: SampleSecrets.genericSecret, with: "too-short")),
             "secret is 9 bytes; at least 32"),
            (try directory.write("dup.toml", SampleSecrets.toml.replacingOccurrences(of: "kid = \"2026-11\"", with: "kid = \"\(SampleSecrets.twilioKid)\"")),
             "duplicate kid"),
            (try directory.write("inactive.toml", SampleSecrets.toml.replacingOccurrences(of: "active = true", with: "active = false")),
             "exactly one key must have active = true"),
        ]
        for (path, message) in cases {
            let result = try tokend("mint", "--secrets", path, "--identity", "alice")
            #expect(result.status == 2, "\(path)")
            #expect(result.stderr.contains(message), "\(result.stderr)")
            #expect(result.stdout.isEmpty)
        }
    }

    @Test func usageErrorsExitTwoAndRefusalsExitOne() throws {
        #expect(try tokend("mint", "--identity", "alice").status == 2)             // no secrets file
        #expect(try tokend("mint", "--secrets", secretsPath).status == 2)          // no identity
        #expect(try tokend("mint", "--secrets", secretsPath, "--identity", "a", "--ttl", "soon").status == 2)
        #expect(try tokend("mint", "--secrets", secretsPath, "--identity", "a", "--grant", "chat:x").status == 2)
        #expect(try tokend("mint", "--bogus").status == 2)
        #expect(try tokend("mint", "--secrets", secretsPath, "--identity", "a\u{1}b").status == 1)
        #expect(try tokend("mint", "--secrets", secretsPath, "--identity", "a", "--key", "nope").status == 1)
        #expect(try tokend("--help").status == 0)
        #expect(try tokend("mint", "--help").stdout.contains("--grant"))
    }

    @Test func keygenPrintsPasteableMaterial() throws {
        let result = try tokend("keygen")
        #expect(result.status == 0)
        for expected in ["[[signing_keys]]", "secret = \"", "API key: tkd_", "api_key_sha256 = \"", "hmac_secret = \"", "audit_key = \""] {
            #expect(result.stdout.contains(expected))
        }
        // The printed API key's SHA-256 is the printed fingerprint, and the key is printed once.
        let lines = result.stdout.split(separator: "\n")
        let apiKey = String(try #require(lines.first { $0.contains("API key: ") }?.split(separator: " ").last))
        #expect(result.stdout.contains("api_key_sha256 = \"\(KeyMaterial.apiKeySHA256Hex(apiKey))\""))
        #expect(result.stdout.components(separatedBy: apiKey).count == 2)
        // Two runs never print the same secret.
        let again = try tokend("keygen", "signing-key").stdout
        let secretLine = try #require(again.split(separator: "\n").first { $0.hasPrefix("secret = ") })
        #expect(!result.stdout.contains(String(secretLine.split(separator: "\"")[1])))
        #expect(try tokend("keygen", "nonsense").status == 2)
        #expect(try tokend("keygen", "api-key", "--caller", "a\"b").status == 2)
    }

    /// `tokend keygen > secrets.toml` as the README says, with the usual umask 022: the file is
    /// made private, and `serve`'s loader takes it as it is.
    @Test func keygenWritesASecretsFileThatLoadsAsItIs() throws {
        let path = directory.url.appendingPathComponent("fresh.toml").path
        let written = try shell("umask 022; \"$0\" keygen > \"$1\"", path)
        #expect(written.status == 0, "\(written.stderr)")
        #expect(written.stderr.contains("mode 600"))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        let secrets = try SecretsLoader.load(path: path)
        #expect(secrets.signingKeys.count == 1 && secrets.activeKey.isActive)
        #expect(secrets.auditKey != nil)
        let caller = try #require(secrets.callers.first)
        #expect(caller.id == "my-backend" && caller.hmacKey != nil && caller.apiKeySHA256 != nil)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let apiKey = try #require(text.split(separator: "\n").first { $0.hasPrefix("#   API key: ") }?.split(separator: " ").last)
        #expect(APIKeyAuthenticator(callers: secrets.callers).authenticate(apiKey: apiKey)?.id == "my-backend")
    }

    /// A rotation: `keygen signing-key` appended to a keygen file loads (a second kid, inactive),
    /// and then becomes the active key by flipping the two `active` lines; `keygen api-key
    /// --caller` appends a second caller.
    @Test func keygenEntriesAppendToAFileThatStillLoads() throws {
        let path = directory.url.appendingPathComponent("rotating.toml").path
        #expect(try shell("\"$0\" keygen > \"$1\" && \"$0\" keygen signing-key >> \"$1\" && \"$0\" keygen api-key --caller web >> \"$1\"", path).status == 0)
        let secrets = try SecretsLoader.load(path: path)
        #expect(secrets.signingKeys.count == 2)
        #expect(secrets.signingKeys.filter(\.isActive).count == 1)
        let added = try #require(secrets.signingKeys.last)
        #expect(!added.isActive && added.kid != secrets.activeKey.kid && added.kid.hasPrefix(secrets.activeKey.kid + "-"))
        #expect(secrets.callers.map(\.id) == ["my-backend", "web"])
        let kids = try (0..<5).map { _ in try #require(try tokend("keygen", "signing-key").stdout.split(separator: "\n").first { $0.hasPrefix("kid = ") }) }
        #expect(Set(kids).count == kids.count)
    }

    /// From a Twilio API key to a working secrets file: `keygen twilio-key` reads the secret from
    /// standard input, and its entry, appended to a keygen file with a caller pointed at it, mints
    /// Twilio tokens with the key's region.
    @Test func keygenTwilioKeyReadsTheSecretFromStandardInput() throws {
        let sid = "SK" + Hex.encode(SecureRandom.bytes(16)), account = "AC" + Hex.encode(SecureRandom.bytes(16))
        let secret = "twilio-secret-from-the-console-1"
        let path = directory.url.appendingPathComponent("twilio.toml").path
        let made = try shell("\"$0\" keygen --caller web > \"$1\" && printf '%s\\n' \"$2\" | \"$0\" keygen twilio-key --sid \"$3\" --account \"$4\" --region ie1 >> \"$1\"",
                             path, secret, sid, account)
        #expect(made.status == 0, "\(made.stderr)")
        var text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("secret = \"\(secret)\"") && text.contains("region = \"ie1\""))
        text = text.replacingOccurrences(of: "grants = [\"data_sync\"]", with: "grants = [\"data_sync\"]\nsigning_key = \"\(sid)\"")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o600)
        let secrets = try SecretsLoader.load(path: path)
        #expect(secrets.signingKey(kid: sid)?.profile == .twilio(accountSID: account, region: "ie1"))
        let minted = try tokend("mint", "--secrets", path, "--key", sid, "--identity", "alice", "--grant", "data_sync")
        let token = try DecodedJWT(minted.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(token.header["twr"] == .string("ie1") && token.payload["iss"] == .string(sid) && token.payload["sub"] == .string(account))
        // Refused: a short secret, nothing on stdin, a wrong SID, an unknown region, --sid without twilio-key.
        #expect(try tokend("keygen", "twilio-key", "--sid", sid, "--account", account, stdin: "short\n").status == 2)
        #expect(try tokend("keygen", "twilio-key", "--sid", sid, "--account", account, stdin: "").stderr.contains("got nothing"))
        #expect(try tokend("keygen", "twilio-key", "--sid", "SK1", "--account", account, stdin: secret).status == 2)
        #expect(try tokend("keygen", "twilio-key", "--sid", sid, "--account", account, "--region", "eu9", stdin: secret).stderr.contains("Twilio's regions"))
        #expect(try tokend("keygen", "api-key", "--sid", sid).status == 2)
    }

    /// `audit verify` reads a pipe and standard input, and names a compressed file as such.
    @Test func auditVerifyReadsPipesAndStandardInputAndNamesGzip() async throws {
        let log = directory.url.appendingPathComponent("verify.jsonl").path
        let audit = try AuditLog(path: log, key: nil, syncMode: .none)
        for _ in 0..<3 { try await audit.append(AuditRecord.cut(missing: 1)) }
        audit.close()
        let piped = try Executables.run(URL(fileURLWithPath: "/bin/bash"), ["-c", "\"$0\" audit verify <(cat \"$1\")", Executables.tokend.path, log])
        #expect(piped.status == 0 && piped.stdout.contains("ok: 3 records"), "\(piped.stderr)")
        let standardInput = try shell("\"$0\" audit verify - < \"$1\"", log)
        #expect(standardInput.status == 0 && standardInput.stdout.contains("ok: 3 records"), "\(standardInput.stderr)")
        let zipped = try shell("gzip -kf \"$1\" && \"$0\" audit verify \"$1.gz\"", log)
        #expect(zipped.status == 2 && zipped.stderr.contains("is gzip-compressed: zcat"), "\(zipped.stderr)")
    }

    /// A command group alone is a usage error like `tokend` alone; errors point at the way out.
    @Test func groupsAloneAndMissingSecretsAreUsageErrorsThatSayWhatToDo() throws {
        for group in ["audit", "db"] {
            let alone = try tokend(group)
            #expect(alone.status == 2 && alone.stderr.contains("SUBCOMMANDS"), "\(group): \(alone.stderr)")
        }
        let serve = try tokend("serve", environment: ["TOKEND_SECRETS": ""].filter { _ in false })
        #expect(serve.status == 2 && serve.stderr.contains("tokend keygen > secrets.toml") && serve.stderr.contains("tokend serve --dev"), "\(serve.stderr)")
        let help = try tokend("serve", "--help").stdout
        for option in ["--host <host>", "--port <port>", "--max-skew <seconds>", "--audit-log <path>", "--log-format <format>"] {
            let line = help.components(separatedBy: option).dropFirst().first?.prefix(400) ?? ""
            #expect(line.contains("default"), "\(option) shows no default")
        }
        // One default each (the help text, wrapped, is compared with its white space collapsed).
        let keygenHelp = try tokend("keygen", "--help").stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(!keygenHelp.contains("(default my-backend)") && keygenHelp.contains("(default: my-backend)"))
        #expect(!(try tokend("db", "migrate", "--help").stdout.contains("\\")))
    }

    @Test func versionIsPrinted() throws {
        let result = try tokend("--version")
        #expect(result.status == 0)
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3, "\(result.stdout)")
    }

    /// `serve --dev`'s tokens are checked with its printed signing secret, no file needed.
    @Test func verifyTakesABareSigningSecret() throws {
        let token = try tokend("mint", "--secrets", secretsPath, "--identity", "alice").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try tokend("verify", "--secret", SampleSecrets.genericSecret, token).status == 0)
        let fromEnvironment = try tokend("verify", "-", stdin: token, environment: ["TOKEND_SIGNING_SECRET": SampleSecrets.genericSecret])
        #expect(fromEnvironment.status == 0 && fromEnvironment.stdout.contains("\"sub\":\"alice\""))
        let wrong = try tokend("verify", "--secret", String(SampleSecrets.genericSecret.reversed()), token)
        #expect(wrong.status == 1 && wrong.stderr.contains("signature"))
        #expect(try tokend("verify", "--secret", "short", token).status == 2)
        #expect(try tokend("verify", "--secret", SampleSecrets.genericSecret, "--secrets", secretsPath, token).status == 2)
    }

    /// Nothing listens on the port: the error says so in plain words, with the URL.
    @Test func unreachableServiceErrorsNameTheCause() throws {
        let port = try closedPort()
        let mint = try tokend("mint", "--url", "http://127.0.0.1:\(port)", "--api-key", "k", "--identity", "a")
        #expect(mint.status == 1)
        #expect(mint.stderr.contains("cannot reach http://127.0.0.1:\(port)/v1/tokens: connection refused"), "\(mint.stderr)")
        let health = try tokend("health", "--url", "http://127.0.0.1:\(port)", "--wait", "0.3")
        #expect(health.status == 1)
        #expect(health.stderr.contains("http://127.0.0.1:\(port)/readyz: connection refused"), "\(health.stderr)")
    }

    private func shell(_ script: String, _ arguments: String...) throws -> ProcessResult {
        try Executables.run(URL(fileURLWithPath: "/bin/sh"), ["-c", script, Executables.tokend.path] + arguments)
    }

    /// A loopback port that nothing listens on: bound, then closed again.
    private func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                guard bind(fd, raw, length) == 0, getsockname(fd, raw, &length) == 0 else { throw MissingValue() }
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

private struct MissingValue: Error {}
