import Foundation
import Testing
import TestSupport
import TokenCore

/// `tokend serve --tls-cert --tls-key` serves HTTPS with a certificate the test makes with the
/// `openssl` command; curl, trusting only that certificate, mints through it.
struct TLSTests {
    @Test func mintsOverHTTPS() async throws {
        let directory = try TemporaryDirectory()
        let cert = directory.url.appendingPathComponent("cert.pem").path
        let key = directory.url.appendingPathComponent("key.pem").path
        let openssl = try Executables.run(URL(fileURLWithPath: "/usr/bin/openssl"), [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert,
        ])
        #expect(openssl.status == 0, "\(openssl.stderr)")
        let fixture = try await Fixture.start(["--tls-cert", cert, "--tls-key", key])
        #expect(fixture.base.hasPrefix("https://"))
        let url = fixture.base + "/v1/tokens"
        let curl = try Executables.run(URL(fileURLWithPath: "/usr/bin/curl"), [
            "-s", "--cacert", cert, "-X", "POST", url, "-H", "Authorization: Bearer \(SampleSecrets.apiKey)",
            "-H", "Content-Type: application/json", "-d", #"{"identity":"alice"}"#,
        ])
        #expect(curl.status == 0, "\(curl.stderr)")
        let response = try #require(try JSONParser.parse(Array(curl.stdout.utf8)).objectValue)
        _ = try DecodedJWT(try #require(response["token"]?.stringValue))

        // A signed request: @target-uri is https://…, which tokend rebuilds with its scheme.
        let body = #"{"identity":"bob"}"#
        let signed = try Executables.run(Executables.tokend, ["sign", "--key-id", "web", "--hmac-secret", SampleSecrets.hmacSecret,
                                                              "--url", url, "--data", body])
        var arguments = ["-s", "--cacert", cert, "-X", "POST", url, "-H", "Content-Type: application/json", "--data-binary", body]
        for line in signed.stdout.split(separator: "\n") { arguments += ["-H", String(line)] }
        let signedCurl = try Executables.run(URL(fileURLWithPath: "/usr/bin/curl"), arguments)
        #expect(try JSONParser.parse(Array(signedCurl.stdout.utf8)).objectValue?["identity"] == .string("bob"), "\(signedCurl.stdout)")

        // Plain HTTP to the TLS port gets no token.
        let plain = try Executables.run(URL(fileURLWithPath: "/usr/bin/curl"), [
            "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", url.replacingOccurrences(of: "https://", with: "http://"),
        ])
        #expect(plain.stdout != "200")
        await fixture.server.stop()
    }

    @Test func aMissingCertificateIsAConfigurationError() throws {
        let directory = try TemporaryDirectory()
        let secrets = try directory.write("secrets.toml", SampleSecrets.toml)
        let result = try Executables.run(Executables.tokend, ["serve", "--secrets", secrets, "--port", "0", "--tls-cert", "/nonexistent.pem",
                                                              "--tls-key", "/nonexistent.key", "--audit-log", directory.url.appendingPathComponent("a.jsonl").path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("cannot set up TLS"))
        let half = try Executables.run(Executables.tokend, ["serve", "--secrets", secrets, "--tls-cert", "/x.pem"])
        #expect(half.status == 2)
    }
}
