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
    static let urlSpec = OptionSpec.text(
        "database", environment: "TOKEND_DATABASE_URL", valueName: "url",
        "PostgreSQL URL, postgres://user:password@host:5432/db?sslmode=verify-full; several hosts as host1:5432,host2:5432 (target_session_attrs=read-write by default)")
    static let timeoutSpec = OptionSpec.seconds("database-timeout", default: .seconds(2), in: 1...60,
                                                "Seconds a database call may take before the request is refused with 503")
    static let waitSpec = OptionSpec.seconds("database-wait", default: .seconds(30), in: 0...3600, note: "0 tries once",
                                             "serve: seconds to keep trying to reach the database at start before exiting 2")

    @Option(Self.urlSpec) var database: String?
    @Option(Self.timeoutSpec) var timeout: String?
    @Option(Self.waitSpec) var wait: String?

    /// The parsed URL, or nil when neither the flag nor the variable is set.
    func url() throws(CommandFailure) -> DatabaseURL? {
        guard let text = try Self.urlSpec.given(database) else { return nil }
        do {
            return try DatabaseURL(text)
        } catch {
            throw .usage(error.description)
        }
    }

    func requiredURL() throws(CommandFailure) -> DatabaseURL {
        guard let url = try url() else { throw .usage("missing \(Self.urlSpec.option) (or the environment variable \(Self.urlSpec.environment))") }
        return url
    }

    /// Runs `body` with a short-lived pool, turning database failures into exit status 2.
    func withStore<T: Sendable>(_ body: @escaping @Sendable (PostgresStore) async throws -> T) async throws -> T {
        let url = try requiredURL()
        var logger = Logger(label: "tokend")
        logger.logLevel = .error
        do {
            return try await PostgresStore.withTemporaryClient(url: url, applicationName: "tokend-cli", timeout: try Self.timeoutSpec.value(timeout),
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
    static func resolve(_ flag: String?, _ resolved: inout ResolvedOptions) throws(CommandFailure) -> String {
        let name = try ServeOptions.instance.given(flag) ?? hostName()
        guard !name.isEmpty, name.utf8.count <= 128,
              name.unicodeScalars.allSatisfy({ $0.isASCII && !($0.properties.generalCategory == .control) && $0 != " " }) else {
            throw .usage("--instance must be 1…128 printable ASCII characters without spaces")
        }
        resolved.note(ServeOptions.instance, flag, name)
        return name
    }

    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "tokend" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
