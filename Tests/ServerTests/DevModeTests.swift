import Foundation
import Testing
import TestSupport
import TokenCore

struct DevModeTests {
    /// The README's first command: `tokend serve --dev` prints a key and a curl line that works.
    @Test func devModePrintsWorkingCredentialsAndCurlLine() async throws {
        let directory = try TemporaryDirectory()
        let server = try await ServerProcess(["--dev", "--port", "0"], directory: directory.url)
        let output = server.stdout
        #expect(output.contains("API key: tkd_"))
        #expect(output.contains("HMAC secret: "))
        let curlLine = try #require(output.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("curl ") })
        let curl = try Executables.run(URL(fileURLWithPath: "/bin/sh"), ["-c", String(curlLine)])
        #expect(curl.status == 0)
        let response = try #require(try JSONParser.parse(Array(curl.stdout.utf8)).objectValue)
        let token = try #require(response["token"]?.stringValue)
        // The printed signing secret verifies the token.
        let secretLine = try #require(output.split(separator: "\n").first { $0.hasPrefix("Signing secret: ") })
        let secret = String(try #require(secretLine.split(separator: " ").dropFirst(2).first))
        let key = SigningKey(kid: "dev", secret: secret, profile: .generic, isActive: true)
        _ = try JWTVerifier(keys: [key]).verify(token, now: WallClock.now())
        // The audit log went to ./tokend-audit.jsonl.
        #expect(FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("tokend-audit.jsonl").path))
        await server.stop()
    }

    @Test func devModeRefusesToBindBeyondLoopback() throws {
        let result = try Executables.run(Executables.tokend, ["serve", "--dev", "--host", "0.0.0.0", "--port", "0"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("127.0.0.1 only"))
    }
}
