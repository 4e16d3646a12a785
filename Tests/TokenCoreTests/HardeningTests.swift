import Foundation
import HTTPTypes
import Testing
import TestSupport
@testable import TokenCore

/// Inputs that used to trap or abort (found by the fuzz targets in Fuzz/), each now a clear
/// refusal.
struct NumericTotalityTests {
    @Test func int64MinIsOutOfRangeNotATrap() throws {
        #expect(JSONValue.number("-9223372036854775808").integerValue == nil)
        #expect(JSONValue.number("9223372036854775807").integerValue == nil)
        #expect(JSONValue.number("-9007199254740992").integerValue == -9_007_199_254_740_992)
        #expect(JSONValue.number("-1e300").integerValue == nil)
        #expect(throws: TokenRequestError.self) { try TokenRequest(json: Array(#"{"identity":"a","ttl":-9223372036854775808}"#.utf8)) }
    }

    @Test func extremeSignatureTimesAreRefusedNotTrapped() throws {
        let secrets = try SecretsLoader.parse(toml: SampleSecrets.toml)
        let authenticator = CallerAuthenticator(secrets: secrets)
        for created in ["-999999999999999", "999999999999999"] {
            var request = RequestParts(method: "POST", url: "http://h/v1/tokens")!
            request.fields[HTTPFieldName.signatureInput] = #"sig1=("@method" "@target-uri");created=\#(created);keyid="web""#
            request.fields[HTTPFieldName.signature] = "sig1=:AAAA:"
            #expect(throws: AuthenticationFailure.self) { try authenticator.authenticate(request, now: 1_800_000_000) }
        }
    }
}

struct SecretsFileParserTests {
    @Test(arguments: ["[.a]", "[[.a]]", "[[[a]]", "[a]", "a.b = 1", "a = {b = 1}", "a = \"\"\"x\"\"\"", "\"a\" = 1",
                      "a = 1\na = 2", "a = [1,", "a = \"x", "a = 1_", "a = 01", "a = 99999999999999999999", "a = 1.",
                      "a = \"\\uD800\"", "a = tru", "a = 1 b = 2", "[[a]]\nb = 1\nb = 2", "a = 1\n[[a]]", "a = " + String(repeating: "[", count: 40)])
    func malformedFilesAreErrorsWithAPosition(_ text: String) {
        #expect(throws: TOMLSyntaxError.self) { try TOMLParser.parse(text) }
        #expect(throws: SecretsError.self) { try SecretsLoader.parse(toml: text) }
    }

    @Test func theSubsetParses() throws {
        let table = try TOMLParser.parse("""
            # comment
            a = "x\\ty\\u00e9\\U0001F600"   # trailing comment
            b = 'C:\\raw'
            c = -1_000
            d = 2.5e3
            e = true
            f = [ "x",
                  "y", ]  # multi-line, trailing comma
            [[t]]\r
            k = 1
            [[t]]
            k = 2
            """)
        #expect(table["a"] == .string("x\ty\u{e9}\u{1F600}"))
        #expect(table["b"] == .string("C:\\raw"))
        #expect(table["c"] == .integer(-1000))
        #expect(table["d"] == .float(2500))
        #expect(table["e"] == .bool(true))
        #expect(table["f"] == .array([.string("x"), .string("y")]))
        #expect(table["t"] == .tables([["k": .integer(1)], ["k": .integer(2)]]))
    }

    @Test func errorsNameTheLineAndColumn() {
        #expect(throws: TOMLSyntaxError(message: "only [[name]] headers (arrays of tables) are used in a secrets file", line: 2, column: 2)) {
            try TOMLParser.parse("a = 1\n[.a]\n")
        }
    }

    @Test func theSampleSecretsStillLoad() throws {
        let secrets = try SecretsLoader.parse(toml: SampleSecrets.toml)
        #expect(!secrets.callers.isEmpty)
    }
}

private enum HTTPFieldName {
    static let signatureInput = HTTPField.Name("signature-input")!
    static let signature = HTTPField.Name("signature")!
}

struct SecretsFileRulesTests {
    @Test func aFIFOIsRefusedWithoutBlocking() throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("secrets.toml").path
        #expect(mkfifo(path, 0o600) == 0)
        #expect { try SecretsLoader.load(path: path) } throws: { "\($0)".contains("not a regular file") }
    }

    @Test(arguments: ["CHANGE_ME-0123456789abcdefghijklmnopqrstuvwxyz", "change-me-please-0123456789abcdefghijklmn",
                      String(repeating: "a", count: 64), "abababababababababababababababababab"])
    func placeholderSecretsAreRefused(_ secret: String) {
        let toml = SampleSecrets.toml.replacingOccurrences(of: SampleSecrets.genericSecret, with: secret)
        #expect { try SecretsLoader.parse(toml: toml) } throws: { "\($0)".contains("still holds the placeholder") }
    }

    @Test func anAllZeroAPIKeyHashIsRefused() {
        let toml = SampleSecrets.toml.replacingOccurrences(of: KeyMaterial.apiKeySHA256Hex(SampleSecrets.apiKey), with: String(repeating: "0", count: 64))
        #expect { try SecretsLoader.parse(toml: toml) } throws: { "\($0)".contains("api_key_sha256 is a placeholder") }
    }
}

/// `tokend verify` (finding 9): `crit`, an `iat` in the future and a lifetime longer than tokend
/// issues are refused.
struct StrictVerificationTests {
    let secret = "verification-test-secret-0123456789abcdef"
    let now = 1_800_000_000

    func token(header: String, payload: String) -> String {
        let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(HMACKey(utf8: secret).authenticationCode(for: Array(input.utf8)).bytes)
    }

    @Test func refusesWhatTokendWouldNeverIssue() {
        let verifier = JWTVerifier(keys: [SigningKey(kid: "k", secret: secret, profile: .generic, isActive: true)], issuer: nil)
        let header = #"{"alg":"HS256","typ":"JWT","kid":"k"}"#
        #expect(throws: Never.self) { try verifier.verify(token(header: header, payload: #"{"iat":\#(now),"exp":\#(now + 3600)}"#), now: now) }
        let refused = [
            token(header: #"{"alg":"HS256","typ":"JWT","kid":"k","crit":["exp"]}"#, payload: #"{"iat":\#(now),"exp":\#(now + 3600)}"#),
            token(header: header, payload: #"{"iat":\#(now + 3600),"exp":\#(now + 7200)}"#),
            token(header: header, payload: #"{"iat":\#(now),"exp":\#(now + 10 * 365 * 86400)}"#),
            token(header: header, payload: #"{"nbf":\#(now),"exp":\#(now + 86400 + 60)}"#),
        ]
        for token in refused {
            #expect(throws: JWTError.self, "\(token)") { try verifier.verify(token, now: now) }
        }
    }
}
