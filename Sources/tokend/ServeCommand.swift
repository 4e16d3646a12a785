import ArgumentParser
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TokenCore
import TokenPostgres
import TokenServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP service.",
        discussion: """
            POST /v1/tokens mints a token for an authenticated caller (API key or RFC 9421 \
            hmac-sha256 signature); GET /healthz, /readyz and /metrics are for operators. \
            SIGHUP reloads the secrets file and reopens the audit log; SIGTERM or SIGINT stops \
            gracefully (requests in flight finish).

            --database shares the replay ledger, the rate limits and the audit trail with every \
            instance on the same PostgreSQL (DESIGN §8); the schema is created or upgraded at start. \
            With --database the audit log file is written only when --audit-log is given.

            --dev needs no secrets file: it makes an ephemeral signing key and a caller "dev" with \
            every grant, prints the caller's API key and HMAC secret once, binds 127.0.0.1 only and \
            audits to ./tokend-audit.jsonl.
            """
    )

    @OptionGroup var secretsOptions: SecretsOptions

    @Option(help: ArgumentHelp("Address to bind. Env: TOKEND_HOST.", valueName: "host"))
    var host: String?

    @Option(help: ArgumentHelp("Port to listen on (0: any free port). Env: TOKEND_PORT.", valueName: "port"))
    var port: Int?

    @Option(name: .customLong("audit-log"), help: ArgumentHelp("The audit log (JSON Lines). Env: TOKEND_AUDIT_LOG.", valueName: "path"))
    var auditLog: String?

    @Option(name: .customLong("audit-sync"), help: ArgumentHelp(
        "durable (fdatasync before every answer, the default) or none (write only; survives a crash of tokend, not of the machine). Env: TOKEND_AUDIT_SYNC.",
        valueName: "mode"))
    var auditSync: String?

    @Option(name: .customLong("max-skew"), help: ArgumentHelp("Seconds a signature's created may differ from the server clock. Env: TOKEND_MAX_SKEW.", valueName: "seconds"))
    var maxSkew: Int?

    @Option(name: .customLong("public-scheme"), help: ArgumentHelp(
        "The scheme clients use to reach tokend, for @target-uri in signatures: http, or https behind a TLS-terminating proxy. Env: TOKEND_PUBLIC_SCHEME.",
        valueName: "scheme"))
    var publicScheme: String?

    @Option(name: .customLong("max-connections"), help: ArgumentHelp(
        "Connections held at once (default 4096); more wait in the listen backlog. Env: TOKEND_MAX_CONNECTIONS.", valueName: "count"))
    var maxConnections: Int?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("PEM certificate chain: serve HTTPS directly. Env: TOKEND_TLS_CERT.", valueName: "pem"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key for --tls-cert. Env: TOKEND_TLS_KEY.", valueName: "pem"))
    var tlsKey: String?

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: ArgumentHelp(
        "This replica's name in shared records (default: the host name). Env: TOKEND_INSTANCE.", valueName: "name"))
    var instance: String?

    @Flag(help: "Ephemeral secrets and one caller, for development; binds 127.0.0.1 only. Env: TOKEND_DEV=1.")
    var dev = false

    func run() async throws {
        let isDev = Environment.flag(dev, "TOKEND_DEV")
        let database = try databaseOptions.url()
        let settings = try settings(dev: isDev, database: database != nil)
        var logger = Logger(label: "tokend")
        logger.logLevel = Environment.value("TOKEND_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info

        let devSecrets: DevSecrets? = isDev ? DevSecrets.make() : nil
        let secrets = try devSecrets?.secrets ?? secretsOptions.load()
        let metrics = ServerMetrics.shared
        let auditLog = try settings.auditLogPath.map { path throws(CommandFailure) in try Self.openAuditLog(path, settings, secrets, metrics, logger) }
        defer { auditLog?.close() }
        let shared: SharedStateSetup
        if let database {
            shared = try await SharedStateSetup.postgres(database, instance: try InstanceName.resolve(instance), timeout: try databaseOptions.timeoutDuration(),
                                                         wait: try databaseOptions.waitDuration(), settings: settings, secrets: secrets, auditLog: auditLog, metrics: metrics, logger: logger)
        } else if let auditLog {
            shared = SharedStateSetup(state: .embedded(audit: auditLog))
        } else {
            throw CommandFailure.usage("no audit sink: give --audit-log or --database")
        }
        let service = TokenService(settings: settings, secrets: secrets, state: shared.state, stateServices: shared.services,
                                   stateReadiness: shared.readiness, metrics: metrics, logger: logger)
        let app = try Self.application(service: service, dev: devSecrets)
        do {
            try await app.runService()
        } catch {
            // A failed start (the port is taken, the address does not exist) ends here too.
            throw CommandFailure.usage("the service stopped: \(error)")
        }
    }

    private static func openAuditLog(_ path: String, _ settings: ServerSettings, _ secrets: Secrets, _ metrics: ServerMetrics,
                                     _ logger: Logger) throws(CommandFailure) -> AuditLog {
        let auditLog: AuditLog
        do {
            auditLog = try AuditLog(path: path, key: secrets.auditKey, syncMode: settings.auditSync) { seconds, records, succeeded in
                metrics.auditCommitted(seconds: seconds, records: records, succeeded: succeeded)
            }
        } catch {
            throw .usage("\(error)")
        }
        if auditLog.recovery.tornBytesCut > 0 {
            logger.warning("audit log: cut a torn last line left by a crash (never acknowledged)", metadata: [
                "path": "\(path)", "bytes": "\(auditLog.recovery.tornBytesCut)",
                "last_seq": "\(auditLog.recovery.lastSequence)"])
        }
        return auditLog
    }

    /// The application, announcing its address (and, with --dev, the credentials) once it listens.
    static func application(service: TokenService, dev: DevSecrets?) throws(CommandFailure) -> some ApplicationProtocol {
        let settings = service.settings
        let scheme = settings.tls == nil ? "http" : "https"
        do {
            return try TokenServerApplication.make(service: service) { channel in
                let base = "\(scheme)://\(settings.host):\(channel.localAddress?.port ?? settings.port)"
                if let dev { printDevBanner(dev, base: base) }
                Console.out("tokend: listening on \(base)")
            }
        } catch {
            throw .usage("cannot set up TLS: \(error)")
        }
    }

    private func settings(dev: Bool, database: Bool) throws(CommandFailure) -> ServerSettings {
        var settings = ServerSettings()
        settings.host = Environment.resolve(host, "TOKEND_HOST") ?? "127.0.0.1"
        if dev, !["127.0.0.1", "localhost", "::1"].contains(settings.host) {
            throw .usage("--dev binds 127.0.0.1 only: its secrets are printed on the terminal")
        }
        settings.port = try Environment.integer(port, "--port", "TOKEND_PORT", in: 0...65535, default: settings.port)
        settings.secretsPath = dev ? nil : try Environment.require(secretsOptions.secrets, "--secrets", "TOKEND_SECRETS")
        // With a database the file is optional (DESIGN §8): written only when asked for.
        settings.auditLogPath = Environment.resolve(auditLog, "TOKEND_AUDIT_LOG") ?? (database ? nil : "tokend-audit.jsonl")
        if let text = Environment.resolve(auditSync, "TOKEND_AUDIT_SYNC") {
            guard let mode = AuditLog.SyncMode(rawValue: text) else { throw .usage("--audit-sync must be durable or none") }
            settings.auditSync = mode
        }
        settings.maximumSkew = try Environment.integer(maxSkew, "--max-skew", "TOKEND_MAX_SKEW", in: 1...86400,
                                                       default: settings.maximumSkew)
        settings.maximumConnections = try Environment.integer(maxConnections, "--max-connections", "TOKEND_MAX_CONNECTIONS",
                                                              in: 1...1_000_000, default: settings.maximumConnections)
        switch (Environment.resolve(tlsCert, "TOKEND_TLS_CERT"), Environment.resolve(tlsKey, "TOKEND_TLS_KEY")) {
        case (nil, nil): break
        case (let cert?, let key?): settings.tls = .init(certificateChainPath: cert, privateKeyPath: key)
        default: throw .usage("--tls-cert and --tls-key go together")
        }
        settings.publicScheme = Environment.resolve(publicScheme, "TOKEND_PUBLIC_SCHEME") ?? (settings.tls == nil ? "http" : "https")
        guard ["http", "https"].contains(settings.publicScheme) else { throw .usage("--public-scheme must be http or https") }
        return settings
    }

    /// Shown once: the dev caller's credentials and a request that works as pasted.
    static func printDevBanner(_ dev: DevSecrets, base: String) {
        Console.out("""
            tokend --dev: ephemeral signing key and one caller, "\(DevSecrets.callerID)" (grants: \(DevSecrets.grants.sorted().joined(separator: ", ")))
            Nothing here is kept: restart and these credentials are gone.
            API key: \(dev.apiKey)
            HMAC secret: \(dev.hmacSecret)
            Signing secret: \(dev.signingSecret)   (kid "\(dev.signingKID)"; to verify tokens, e.g. with PyJWT)
            Try:
              curl -s -X POST \(base)/v1/tokens -H 'Authorization: Bearer \(dev.apiKey)' -H 'Content-Type: application/json' -d '{"identity":"alice","grants":{"chat":{}}}'
            """)
    }
}
