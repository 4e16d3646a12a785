import Foundation
import TokenCore

/// A fresh directory under the system temp dir, removed when the value is dropped.
public final class TemporaryDirectory {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("tokend-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    /// Writes `text` to `name` with the given mode and returns its path.
    @discardableResult
    public func write(_ name: String, _ text: String, mode: Int = 0o600) throws -> String {
        let path = url.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }
}

/// A secrets file with one generic key, one Twilio key and one caller, for tests.
public enum SampleSecrets {
    public static let genericSecret = "generic-signing-secret-0123456789abcdef-XYZ"
    public static let twilioSecret = "twilio-api-key-secret-0123456789abcd"
    public static let twilioKid = "SK0123456789abcdef0123456789abcdef"
    public static let accountSID = "AC0123456789abcdef0123456789abcdef"
    public static let apiKey = "tkd_test-api-key-for-the-test-suite-only"
    public static let hmacSecret = "caller-hmac-secret-0123456789abcdef-0123"

    /// The same file without the caller's rate limit, for load.
    public static var unlimitedToml: String { toml.replacingOccurrences(of: "rate_limit = 50\n", with: "") }

    public static var toml: String {
        """
        issuer = "tokend-test"

        [[signing_keys]]
        kid = "2026-11"
        secret = "\(genericSecret)"
        active = true

        [[signing_keys]]
        kid = "\(twilioKid)"
        secret = "\(twilioSecret)"
        account_sid = "\(accountSID)"
        profile = "twilio"

        [[callers]]
        id = "web"
        api_key_sha256 = "\(KeyMaterial.apiKeySHA256Hex(apiKey))"
        hmac_secret = "\(hmacSecret)"
        grants = ["data_sync", "chat"]
        max_ttl = 28800
        rate_limit = 50

        """
    }
}

/// Runs a program to completion and captures its output.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public enum Executables {
    /// The directory the build put the test runner in; `tokend` is built beside it.
    public static var buildDirectory: URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    public static var tokend: URL { buildDirectory.appendingPathComponent("tokend") }

    /// Runs `executable` with `arguments`, optional stdin and extra environment variables.
    public static func run(_ executable: URL = tokend, _ arguments: [String], stdin: String? = nil,
                           environment: [String: String] = [:]) throws -> ProcessResult {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("TOKEND_") }
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus,
                             stdout: String(decoding: stdoutData, as: UTF8.self),
                             stderr: String(decoding: stderrData, as: UTF8.self))
    }
}
