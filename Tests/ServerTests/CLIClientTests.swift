import Foundation
import Testing
import TestSupport
import TokenCore

/// `tokend mint --url`, `tokend sign` (with real curl) and `tokend health` against a live server.
struct CLIClientTests {
    @Test func mintAgainstTheServiceWithBothCredentials() async throws {
        let fixture = try await Fixture.start()
        let withKey = try Executables.run(Executables.tokend, ["mint", "--url", fixture.base, "--api-key", SampleSecrets.apiKey,
                                                               "--identity", "alice", "--ttl", "1m", "--grant", "chat:service_sid=IS1"])
        #expect(withKey.status == 0, "\(withKey.stderr)")
        #expect(withKey.stderr.contains("warning: ttl 60 raised to the minimum of 1800"))
        _ = try DecodedJWT(withKey.stdout.trimmingCharacters(in: .whitespacesAndNewlines))

        let signed = try Executables.run(Executables.tokend, ["mint", "--url", fixture.base, "--identity", "bob", "--json"],
                                         environment: ["TOKEND_KEY_ID": "web", "TOKEND_HMAC_SECRET": SampleSecrets.hmacSecret])
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(try JSONParser.parse(Array(signed.stdout.utf8)).objectValue?["identity"] == .string("bob"))

        let refused = try Executables.run(Executables.tokend, ["mint", "--url", fixture.base, "--api-key", SampleSecrets.apiKey,
                                                               "--identity", "alice", "--grant", "video"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("HTTP 403"))
        await fixture.server.stop()
    }

    @Test func signPrintsHeadersThatCurlCanUse() async throws {
        let fixture = try await Fixture.start()
        let body = #"{"identity":"carol"}"#
        let url = fixture.base + "/v1/tokens"
        let signed = try Executables.run(Executables.tokend, ["sign", "--key-id", "web", "--hmac-secret", SampleSecrets.hmacSecret,
                                                              "--method", "POST", "--url", url, "--data", body])
        #expect(signed.status == 0)
        let lines = signed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.map { $0.split(separator: ":")[0] } == ["Content-Digest", "Signature-Input", "Signature"])
        var arguments = ["-s", "-X", "POST", url, "-H", "Content-Type: application/json", "--data-binary", body]
        for line in lines { arguments += ["-H", line] }
        let curl = try Executables.run(URL(fileURLWithPath: "/usr/bin/curl"), arguments)
        #expect(try JSONParser.parse(Array(curl.stdout.utf8)).objectValue?["identity"] == .string("carol"), "\(curl.stdout)")
        // --curl prints -H arguments.
        let curlStyle = try Executables.run(Executables.tokend, ["sign", "--key-id", "web", "--hmac-secret", "x", "--url", url, "--curl"])
        #expect(curlStyle.stdout.hasPrefix("-H 'Signature-Input: sig1=(\"@method\" \"@target-uri\");created="))
        await fixture.server.stop()
    }

    /// TOKEND_URL is the base URL for every command: `sign` adds --path (default /v1/tokens) to
    /// it, and an endpoint's URL given as the base is refused with that explanation, not a 404.
    @Test func tokendURLIsTheBaseURLForEveryCommand() async throws {
        let fixture = try await Fixture.start()
        let body = #"{"identity":"dave"}"#
        let environment = ["TOKEND_URL": fixture.base, "TOKEND_KEY_ID": "web", "TOKEND_HMAC_SECRET": SampleSecrets.hmacSecret]
        let signed = try Executables.run(Executables.tokend, ["sign", "--data", body], environment: environment)
        #expect(signed.status == 0, "\(signed.stderr)")
        var arguments = ["-s", "-X", "POST", fixture.base + "/v1/tokens", "-H", "Content-Type: application/json", "--data-binary", body]
        for line in signed.stdout.split(separator: "\n") { arguments += ["-H", String(line)] }
        let curl = try Executables.run(URL(fileURLWithPath: "/usr/bin/curl"), arguments)
        #expect(try JSONParser.parse(Array(curl.stdout.utf8)).objectValue?["identity"] == .string("dave"), "\(curl.stdout)")
        for command in [["mint", "--identity", "alice"], ["sign", "--data", body], ["health"], ["revoke", "--jti", "x"]] {
            let endpoint = try Executables.run(Executables.tokend, command, environment: environment.merging(["TOKEND_URL": fixture.base + "/v1/tokens"]) { $1 })
            #expect(endpoint.status == 2 && endpoint.stderr.contains("is tokend's base URL, \(fixture.base), not an endpoint's"), "\(command): \(endpoint.stderr)")
        }
        // A base with a path of its own (tokend behind a proxy at /tokend) is a base: asked, not refused.
        let prefixed = try Executables.run(Executables.tokend, ["health", "--url", fixture.base + "/tokend"])
        #expect(prefixed.status == 1 && prefixed.stderr.contains("/tokend/readyz"), "\(prefixed.stderr)")
        let trailing = try Executables.run(Executables.tokend, ["mint", "--url", fixture.base + "/", "--identity", "alice"], environment: environment)
        #expect(trailing.status == 0, "\(trailing.stderr)")
        await fixture.server.stop()
    }

    /// https:// against a plain listener, and a URL without a scheme: the cause in the user's
    /// terms, not a TLS library's internals (nor a path of the build).
    @Test func connectionErrorsSayWhatIsWrong() async throws {
        let fixture = try await Fixture.start()
        let tls = try Executables.run(Executables.tokend, ["health", "--url", fixture.base.replacingOccurrences(of: "http://", with: "https://")])
        #expect(tls.status == 1 && tls.stderr.contains("does not speak TLS on this port") && !tls.stderr.contains(".build"), "\(tls.stderr)")
        let bare = try Executables.run(Executables.tokend, ["health", "--url", "127.0.0.1:\(fixture.server.port)"])
        #expect(bare.status == 2 && bare.stderr.contains("http://host:port"), "\(bare.stderr)")
        await fixture.server.stop()
    }

    @Test func healthExitsZeroOnlyWhenReady() async throws {
        let fixture = try await Fixture.start()
        let ready = try Executables.run(Executables.tokend, ["health", "--url", fixture.base])
        #expect(ready.status == 0)
        await fixture.server.stop()
        let down = try Executables.run(Executables.tokend, ["health"], environment: ["TOKEND_URL": fixture.base])
        #expect(down.status == 1)
    }
}
