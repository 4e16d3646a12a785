import Foundation
import Testing
import TestSupport
import TokenCore

/// Several real `tokend serve` processes sharing one PostgreSQL database.
struct SharedStateFixture {
    let postgres: PostgresServer
    let databaseURL: String
    let directory: TemporaryDirectory
    let secretsPath: String

    init(postgres: PostgresServer? = nil, secrets: String = SampleSecrets.toml, query: String = "sslmode=disable") throws {
        self.postgres = try postgres ?? PostgresServer.shared.get()
        databaseURL = try self.postgres.makeDatabase(query: query)
        directory = try TemporaryDirectory()
        secretsPath = try directory.write("secrets.toml", secrets)
    }

    /// `init`, with the shared server waited for off the cooperative pool (its first use makes
    /// the cluster): what an async test calls.
    static func make(postgres: PostgresServer? = nil, secrets: String = SampleSecrets.toml, query: String = "sslmode=disable") async throws -> SharedStateFixture {
        let server = if let postgres { postgres } else { try await PostgresServer.sharedServer() }
        return try SharedStateFixture(postgres: server, secrets: secrets, query: query)
    }

    /// Over a database that exists already (a promoted standby's, say).
    init(postgres: PostgresServer, databaseURL: String, secrets: String = SampleSecrets.toml) throws {
        self.postgres = postgres
        self.databaseURL = databaseURL
        directory = try TemporaryDirectory()
        secretsPath = try directory.write("secrets.toml", secrets)
    }

    func start(_ instance: String, _ extra: [String] = []) async throws -> ServerProcess {
        try await Self.start(instance, secretsPath: secretsPath, databaseURL: databaseURL, extra)
    }

    static func start(_ instance: String, secretsPath: String, databaseURL: String, _ extra: [String] = []) async throws -> ServerProcess {
        try await ServerProcess(["--secrets", secretsPath, "--port", "0", "--instance", instance] + extra,
                                environment: ["TOKEND_DATABASE_URL": databaseURL])
    }

    /// Runs `tokend` with the database URL in the environment, as an operator would.
    func tokend(_ arguments: [String]) throws -> ProcessResult {
        try Executables.run(Executables.tokend, arguments, environment: ["TOKEND_DATABASE_URL": databaseURL])
    }

    /// An instance's records as PostgreSQL holds them (`tokend audit export`), parsed.
    func records(_ instance: String) throws -> [JSONObject] {
        let export = try tokend(["audit", "export", "--instance", instance])
        #expect(export.status == 0, "\(export.stderr)")
        return try export.stdout.split(separator: "\n").map { try unwrap(JSONParser.parse(Array($0.utf8)).objectValue) }
    }

    var databaseName: String { String(databaseURL.split(separator: "/").last!.split(separator: "?").first!) }

    @discardableResult
    func sql(_ statement: String) throws -> String {
        try postgres.psql(statement, database: databaseName)
    }
}

extension HTTPTestClient {
    /// A request signed for `signedFor` (its authority is in the signature), sent to `sendTo`:
    /// what a load balancer does when it hands the same request to another replica.
    static func mintSigned(signedFor: String, sendTo: String, keyID: String = "web", secret: String = SampleSecrets.hmacSecret,
                           nonce: String = UUID().uuidString, body: String = #"{"identity":"alice"}"#) async throws -> HTTPResult {
        let url = signedFor + "/v1/tokens"
        let parts = RequestParts(method: "POST", url: url, body: Array(body.utf8))!
        let signature = try MessageSigner(keyID: keyID, secret: secret).sign(parts, created: WallClock.now(), nonce: nonce)
        let authority = String(signedFor.split(separator: "/")[1])
        let headers = [("Content-Type", "application/json"), ("Host", authority)] + signature.map { ($0.name, $0.value) }
        return try await send("POST", sendTo + "/v1/tokens", headers: headers, body: Array(body.utf8))
    }
}
