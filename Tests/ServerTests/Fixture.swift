import Foundation
import TestSupport
import TokenCore

/// A running `tokend serve` on the sample secrets, with its own directory and audit log.
struct Fixture {
    let directory: TemporaryDirectory
    let secretsPath: String
    let auditPath: String
    let server: ServerProcess

    /// The state journal: in the fixture's directory, whatever the audit path (`/dev/full`).
    var statePath: String { directory.url.appendingPathComponent("state.jsonl").path }

    var base: String { server.baseURL }

    static func start(_ extraArguments: [String] = [], secrets: String = SampleSecrets.toml,
                      auditPath: String? = nil, environment: [String: String] = [:]) async throws -> Fixture {
        let directory = try TemporaryDirectory()
        let secretsPath = try directory.write("secrets.toml", secrets)
        let auditPath = auditPath ?? directory.url.appendingPathComponent("audit.jsonl").path
        let stateArguments = extraArguments.contains("--state-file") ? [] : ["--state-file", directory.url.appendingPathComponent("state.jsonl").path]
        let server = try await ServerProcess(["--secrets", secretsPath, "--port", "0", "--audit-log", auditPath] + stateArguments + extraArguments,
                                             environment: environment)
        return Fixture(directory: directory, secretsPath: secretsPath, auditPath: auditPath, server: server)
    }

    func mint(_ body: String = #"{"identity":"alice"}"#, apiKey: String = SampleSecrets.apiKey,
              contentType: String = "application/json", headers: [(String, String)] = []) async throws -> HTTPResult {
        try await HTTPTestClient.mint(base, apiKey: apiKey, body: body, contentType: contentType, extraHeaders: headers)
    }

    func mintSigned(_ body: String = #"{"identity":"alice"}"#, keyID: String = "web", secret: String = SampleSecrets.hmacSecret,
                    created: Int = WallClock.now()) async throws -> (result: HTTPResult, headers: [(String, String)]) {
        try await HTTPTestClient.mintSigned(base, keyID: keyID, secret: secret, body: body, created: created)
    }

    /// The audit log's records, parsed.
    func auditRecords() throws -> [JSONObject] {
        let text = (try? String(contentsOfFile: auditPath, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { try unwrap(JSONParser.parse(Array($0.utf8)).objectValue) }
    }
}

func unwrap<T>(_ value: T?) throws -> T {
    guard let value else { throw MissingValue() }
    return value
}

struct MissingValue: Error {}
