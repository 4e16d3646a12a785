import ArgumentParser
import Logging
import TokenCore
import TokenPostgres

#if canImport(Glibc)
import Glibc
#endif

/// `--database URL` (`TOKEND_DATABASE_URL`) and `--database-timeout`, shared by `serve`, `audit`
/// and `db`. The URL's password never reaches a log line or an error: everything prints the
/// URL's redacted description.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database"), help: ArgumentHelp(
        "PostgreSQL URL, postgres://user:password@host:5432/db?sslmode=verify-full; several hosts as host1:5432,host2:5432 (target_session_attrs=read-write by default). Env: TOKEND_DATABASE_URL.", valueName: "url"))
    var database: String?

    @Option(name: .customLong("database-timeout"), help: ArgumentHelp(
        "Seconds a database call may take before the request is refused with 503 (default 2). Env: TOKEND_DATABASE_TIMEOUT.",
        valueName: "seconds"))
    var timeout: Int?

    @Option(name: .customLong("database-wait"), help: ArgumentHelp(
        "serve: seconds to keep trying to reach the database at start before exiting 2 (default 30; 0 tries once). Env: TOKEND_DATABASE_WAIT.",
        valueName: "seconds"))
    var wait: Int?

    func waitDuration() throws(CommandFailure) -> Duration {
        .seconds(try Environment.integer(wait, "--database-wait", "TOKEND_DATABASE_WAIT", in: 0...3600, default: 30))
    }

    /// The parsed URL, or nil when neither the flag nor the variable is set.
    func url() throws(CommandFailure) -> DatabaseURL? {
        guard let text = Environment.resolve(database, "TOKEND_DATABASE_URL") else { return nil }
        do {
            return try DatabaseURL(text)
        } catch {
            throw .usage(error.description)
        }
    }

    func requiredURL() throws(CommandFailure) -> DatabaseURL {
        guard let url = try url() else { throw .usage("missing --database (or the environment variable TOKEND_DATABASE_URL)") }
        return url
    }

    func timeoutDuration() throws(CommandFailure) -> Duration {
        .seconds(try Environment.integer(timeout, "--database-timeout", "TOKEND_DATABASE_TIMEOUT", in: 1...60, default: 2))
    }

    /// Runs `body` with a short-lived pool, turning database failures into exit status 2.
    func withStore<T: Sendable>(_ body: @escaping @Sendable (PostgresStore) async throws -> T) async throws -> T {
        let url = try requiredURL()
        var logger = Logger(label: "tokend")
        logger.logLevel = .error
        do {
            return try await PostgresStore.withTemporaryClient(url: url, applicationName: "tokend-cli", timeout: try timeoutDuration(),
                                                               logger: logger, body)
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure.usage("\(url): \(PostgresStore.describe(error))")
        }
    }
}

/// `--instance NAME` (`TOKEND_INSTANCE`): this replica's name in shared records; the host name
/// by default, which a Kubernetes pod or a VM already makes unique.
enum InstanceName {
    static func resolve(_ flag: String?) throws(CommandFailure) -> String {
        let name = Environment.resolve(flag, "TOKEND_INSTANCE") ?? hostName()
        guard !name.isEmpty, name.utf8.count <= 128,
              name.unicodeScalars.allSatisfy({ $0.isASCII && !($0.properties.generalCategory == .control) && $0 != " " }) else {
            throw .usage("--instance must be 1…128 printable ASCII characters without spaces")
        }
        return name
    }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "tokend" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
