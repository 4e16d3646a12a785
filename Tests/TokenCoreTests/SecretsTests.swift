import Foundation
import Testing
import TestSupport
@testable import TokenCore

struct SecretsTests {
    @Test func loadsAValidFile() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("secrets.toml", SampleSecrets.toml)
        let secrets = try SecretsLoader.load(path: path)
        #expect(secrets.issuer == "tokend-test")
        #expect(secrets.activeKey.kid == "2026-11")
        #expect(secrets.signingKeys.count == 2)
        #expect(secrets.signingKey(kid: SampleSecrets.twilioKid)?.profile == .twilio(accountSID: SampleSecrets.accountSID))
        let caller = try #require(secrets.caller(id: "web"))
        #expect(caller.grants == ["data_sync", "chat"])
        #expect(caller.maxTTL == 28800)
        #expect(caller.rateLimit == 50)
        #expect(caller.apiKeySHA256 == SHA256.hash(SampleSecrets.apiKey))
        #expect(caller.hmacKey != nil)
    }

    @Test func refusesAFileOthersCanRead() throws {
        let directory = try TemporaryDirectory()
        // Owned by a user other than root (as root, the files are given to nobody): the group
        // may not even read.
        let owner: uid_t = getuid() == 0 ? 65534 : getuid()
        for mode in [0o644, 0o640, 0o604, 0o660, 0o620] {
            let path = try directory.write("secrets-\(mode).toml", SampleSecrets.toml, mode: mode)
            #expect(chown(path, owner, gid_t(owner)) == 0)
            #expect { try SecretsLoader.load(path: path) } throws: { error in
                "\(error)".contains("open to other users or its group") && "\(error)".contains("chmod 600 \(path)")
            }
        }
        #expect(throws: Never.self) { try SecretsLoader.load(path: try directory.write("owner.toml", SampleSecrets.toml, mode: 0o400)) }
    }

    /// PostgreSQL's rule: a root-owned file may be read by its group (a Kubernetes Secret in a
    /// non-root pod is root:fsGroup 0440), never written by it, never touched by others.
    @Test(.enabled(if: getuid() == 0, "needs root to own a file as root")) func aRootOwnedFileMayBeReadByItsGroup() throws {
        let directory = try TemporaryDirectory()
        for mode in [0o440, 0o640] {
            #expect(throws: Never.self) { try SecretsLoader.load(path: try directory.write("group-read-\(mode).toml", SampleSecrets.toml, mode: mode)) }
        }
        for mode in [0o660, 0o650, 0o644, 0o604] {
            let path = try directory.write("refused-\(mode).toml", SampleSecrets.toml, mode: mode)
            #expect { try SecretsLoader.load(path: path) } throws: { "\($0)".contains("open to other users or its group") }
        }
    }

    @Test func reportsAMissingFile() {
        #expect { try SecretsLoader.load(path: "/nonexistent/secrets.toml") } throws: { "\($0)".contains("cannot read") }
    }

    /// Each broken variant must fail with a message naming the entry and the field, and must
    /// never print the secret it is complaining about.
    @Test(arguments: [
        ("secret = \"\(SampleSecrets.genericSecret)\"", "secret = \"short-secret\"", "signing_keys[0] (kid \"2026-11\"): secret is 12 bytes"),
        ("kid = \"2026-11\"", "kid = \"\(SampleSecrets.twilioKid)\"", "duplicate kid \"\(SampleSecrets.twilioKid)\""),
        ("active = true", "active = false", "exactly one key must have active = true (found 0)"),
        ("max_ttl = 28800", "max_ttl = 100000", "callers[0] (id \"web\"): max_ttl must be within 1800…86400"),
        ("max_ttl = 28800", "max_ttl = 28800\nmax_tll = 1", "callers[0] (id \"web\"): unknown key \"max_tll\""),
        ("rate_limit = 50", "rate_limit = 0", "callers[0] (id \"web\"): rate_limit must be a positive"),
        ("issuer = \"tokend-test\"", "isuer = \"x\"", "top level: unknown key \"isuer\""),
        ("profile = \"twilio\"", "profile = \"twillio\"", "profile must be \"generic\" or \"twilio\""),
        ("account_sid = \"\(SampleSecrets.accountSID)\"", "account_sid = \"AC123\"", "account_sid must be a Twilio account SID"),
        ("hmac_secret = \"\(SampleSecrets.hmacSecret)\"", "hmac_secret = \"REPLACE-ME-but-long-enough-to-pass-length\"",
         "callers[0] (id \"web\"): hmac_secret still holds the placeholder"),
        ("grants = [\"data_sync\", \"chat\"]", "grants = \"data_sync\"", "grants must be an array of strings"),
        ("id = \"web\"", "id = \"we\\\"b\"", "id must be 1…128 printable ASCII"),
        ("issuer = \"tokend-test\"", "issuer = [", "not valid TOML"),
    ])
    func reportsBrokenFields(_ original: String, _ replacement: String, _ expected: String) throws {
        let toml = SampleSecrets.toml.replacingOccurrences(of: original, with: replacement)
        #expect(toml != SampleSecrets.toml)
        #expect { try SecretsLoader.parse(toml: toml) } throws: { error in
            let message = "\(error)"
            return message.contains(expected) && !message.contains(SampleSecrets.genericSecret)
        }
    }

    @Test func aCallerNeedsACredential() {
        let toml = SampleSecrets.toml
            .replacingOccurrences(of: "api_key_sha256 = \"\(KeyMaterial.apiKeySHA256Hex(SampleSecrets.apiKey))\"\n", with: "")
            .replacingOccurrences(of: "hmac_secret = \"\(SampleSecrets.hmacSecret)\"\n", with: "")
        #expect { try SecretsLoader.parse(toml: toml) } throws: { "\($0)".contains("callers[0] (id \"web\"): api_key_sha256 or hmac_secret is required") }
    }

    @Test func aCallersSigningKeyMustExist() {
        let toml = SampleSecrets.toml + "signing_key = \"nope\"\n"
        #expect { try SecretsLoader.parse(toml: toml) } throws: { "\($0)".contains("signing_key \"nope\" is not the kid") }
    }

    /// secrets.example documents every key; with its placeholders filled in it loads.
    @Test func theExampleFileLoadsOnceFilledIn() throws {
        let exampleURL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("secrets.example")
        let example = try String(contentsOf: exampleURL, encoding: .utf8)
        #expect { try SecretsLoader.parse(toml: example) } throws: { "\($0)".contains("still holds the placeholder") }
        let secretsFilled = example.replacingOccurrences(of: "REPLACE-ME", with: "filled-in-by-the-test-0123456789")
        // The sample API-key hashes (000…0, 111…1) are placeholders too: no key hashes to them.
        #expect { try SecretsLoader.parse(toml: secretsFilled) } throws: { "\($0)".contains("api_key_sha256 is a placeholder") }
        let filled = secretsFilled
            .replacingOccurrences(of: String(repeating: "0", count: 64), with: KeyMaterial.apiKeySHA256Hex("tkd_first-test-key"))
            .replacingOccurrences(of: String(repeating: "1", count: 64), with: KeyMaterial.apiKeySHA256Hex("tkd_second-test-key"))
            .replacingOccurrences(of: String(repeating: "2", count: 64), with: KeyMaterial.apiKeySHA256Hex("tkd_third-test-key"))
        let secrets = try SecretsLoader.parse(toml: filled)
        #expect(secrets.callers.map(\.id) == ["web-backend", "video-rooms", "api-gateway"])
        #expect(secrets.callers[0].quota == Quota(limit: 100000, window: .day) && secrets.callers[0].identityQuota == Quota(limit: 48, window: .day))
        #expect(secrets.callers[2].permissions == [.introspect])
        #expect(secrets.auditKey != nil)
        #expect(secrets.signingKey(for: secrets.callers[1]).kid == "SK00000000000000000000000000000000")
    }
}
