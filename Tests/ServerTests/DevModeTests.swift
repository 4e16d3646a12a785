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
        _ = try JWTVerifier(keys: [key], issuer: nil).verify(token, now: WallClock.now())
        // The banner's verify line works as printed, and it says what outlives a restart.
        let verifyLine = try #require(output.split(separator: "\n").first { $0.hasPrefix("Verify a token: ") && $0.hasSuffix(" TOKEN") })
            .dropFirst("Verify a token: ".count)
        let verified = try Executables.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "PATH=\"$0:$PATH\"; " + verifyLine.dropLast("TOKEN".count) + token,
                                                                             Executables.tokend.deletingLastPathComponent().path])
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(output.contains("The audit log tokend-audit.jsonl is kept"))
        // The audit log went to ./tokend-audit.jsonl.
        #expect(FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("tokend-audit.jsonl").path))
        await server.stop()
    }

    /// `--dev --twilio`: the same flow in Twilio's layout, with its grant checks, no account needed.
    @Test func devModeWithTwilioSignsTwilioTokensAndChecksTheirGrants() async throws {
        let directory = try TemporaryDirectory()
        let server = try await ServerProcess(["--dev", "--twilio", "--port", "0"], directory: directory.url)
        let output = server.stdout
        #expect(output.contains("a made-up Twilio API key"))
        let curlLine = try #require(output.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("curl ") })
        #expect(curlLine.contains(#""grants":{"data_sync":{}}"#))
        let curl = try Executables.run(URL(fileURLWithPath: "/bin/sh"), ["-c", String(curlLine)])
        let token = try #require(try JSONParser.parse(Array(curl.stdout.utf8)).objectValue?["token"]?.stringValue)
        let decoded = try DecodedJWT(token)
        #expect(decoded.header["cty"] == .string("twilio-fpa;v=1") && decoded.header["kid"] == nil)
        #expect(decoded.payload["iss"]?.stringValue.map { TwilioGrants.isSID($0, prefix: "SK") } == true)
        #expect(decoded.payload["sub"]?.stringValue.map { TwilioGrants.isSID($0, prefix: "AC") } == true)
        // The banner's verify line works for a Twilio token too.
        let verifyLine = try #require(output.split(separator: "\n").first { $0.hasPrefix("Verify a token: ") && $0.hasSuffix(" TOKEN") })
            .dropFirst("Verify a token: ".count)
        let verified = try Executables.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "PATH=\"$0:$PATH\"; " + verifyLine.dropLast("TOKEN".count) + token,
                                                                             Executables.tokend.deletingLastPathComponent().path])
        #expect(verified.status == 0, "\(verified.stderr)")
        // Twilio's checks apply: a Sync grant with a wrong SID is a 400 naming the field.
        let apiKey = String(try #require(output.split(separator: "\n").first { $0.hasPrefix("API key: ") }).dropFirst("API key: ".count))
        let wrong = try await HTTPTestClient.mint(server.baseURL, apiKey: apiKey, body: #"{"identity":"alice","grants":{"data_sync":{"service_sid":"IS123"}}}"#)
        #expect(wrong.status == 400 && wrong.text.contains("data_sync.service_sid must be the SID of a Sync service"), "\(wrong.text)")
        await server.stop()
    }

    @Test func devModeRefusesToBindBeyondLoopback() throws {
        let result = try Executables.run(Executables.tokend, ["serve", "--dev", "--host", "0.0.0.0", "--port", "0"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("127.0.0.1 only"))
    }
}

/// A server that cannot start must say so and exit, not linger.
struct StartupFailureTests {
    @Test func aTakenPortEndsTheProcessWithAnError() async throws {
        let fixture = try await Fixture.start()
        let second = Process()
        second.executableURL = Executables.tokend
        second.arguments = ["serve", "--secrets", fixture.secretsPath, "--port", String(fixture.server.port),
                            "--audit-log", fixture.directory.url.appendingPathComponent("second.jsonl").path]
        let errors = Pipe()
        second.standardError = errors
        second.standardOutput = FileHandle.nullDevice
        try second.run()
        let deadline = Date().addingTimeInterval(10)
        while second.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let stillRunning = second.isRunning
        if stillRunning { kill(second.processIdentifier, SIGKILL) }
        #expect(!stillRunning, "a server that could not bind kept running")
        second.waitUntilExit()
        #expect(second.terminationStatus == 2)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(message.contains("cannot listen on 127.0.0.1:\(fixture.server.port): the port is in use"), "\(message)")
        // The failed start leaves no empty audit file of its own behind.
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.url.appendingPathComponent("second.jsonl").path))
        #expect(try await fixture.mint().status == 200)  // the first server is unaffected
        await fixture.server.stop()
    }
}
