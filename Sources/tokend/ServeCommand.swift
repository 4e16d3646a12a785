import ArgumentParser
import Glibc
import Logging
import NIOSSL
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
            SIGHUP reloads the secrets file and reopens the audit log. SIGTERM or SIGINT stops \
            gracefully: /readyz turns 503 "draining" while requests are still served for \
            --shutdown-delay, then the listener closes, requests in flight finish, the audit log is \
            flushed and the process exits 0.

            --database shares the replay ledger, the rate limits and the audit trail with every \
            instance on the same PostgreSQL; the schema is created or upgraded at start. \
            With --database the audit log file is written only when --audit-log is given.

            --dev needs no secrets file: it makes an ephemeral signing key and a caller "dev" with \
            every grant, prints the caller's API key and HMAC secret once, binds 127.0.0.1 only and \
            audits to ./tokend-audit.jsonl, which is kept and continued across restarts.
            """
    )

    @OptionGroup var secretsOptions: SecretsOptions

    /// The defaults the help text names: ServerSettings' own.
    private static let defaults = ServerSettings()

    @Option(help: ArgumentHelp("Address to bind (default \(defaults.host)). Env: TOKEND_HOST.", valueName: "host"))
    var host: String?

    @Option(help: ArgumentHelp("Port to listen on (default \(defaults.port); 0: any free port). Env: TOKEND_PORT.", valueName: "port"))
    var port: Int?

    @Option(name: .customLong("audit-log"), help: ArgumentHelp(
        "The audit log (JSON Lines; default \(defaults.auditLogPath ?? "-"), and none with --database unless given). Env: TOKEND_AUDIT_LOG.", valueName: "path"))
    var auditLog: String?

    @Option(name: .customLong("state-file"), help: ArgumentHelp(
        "The state journal: revocations, blocks and quota counts, synced before each answer (default: tokend-state.jsonl beside the audit log; not used with --database). Env: TOKEND_STATE_FILE.",
        valueName: "path"))
    var stateFile: String?

    @Option(name: .customLong("identity-quota-capacity"), help: ArgumentHelp(
        "Per-identity quota counters held at most (default 200000); when full, mints that need a new one are refused. Env: TOKEND_IDENTITY_QUOTA_CAPACITY.",
        valueName: "count"))
    var identityQuotaCapacity: Int?

    @Option(name: .customLong("audit-sync"), help: ArgumentHelp(
        "durable (fdatasync before every answer, the default) or none (write only; survives a crash of tokend, not of the machine). Env: TOKEND_AUDIT_SYNC.",
        valueName: "mode"))
    var auditSync: String?

    @Option(name: .customLong("audit-head-interval"), help: ArgumentHelp(
        "Seconds between \"audit head\" log lines (default 60; only when a chain moved), kept outside the chain for audit verify --head/--heads. Env: TOKEND_AUDIT_HEAD_INTERVAL.",
        valueName: "seconds"))
    var auditHeadInterval: Double?

    @Option(name: .customLong("max-skew"), help: ArgumentHelp(
        "Seconds a signature's created may differ from the server clock (default \(defaults.maximumSkew)). Env: TOKEND_MAX_SKEW.", valueName: "seconds"))
    var maxSkew: Int?

    @Option(name: .customLong("public-scheme"), help: ArgumentHelp(
        "The scheme clients use to reach tokend, for @target-uri in signatures: http, or https behind a TLS-terminating proxy. Env: TOKEND_PUBLIC_SCHEME.",
        valueName: "scheme"))
    var publicScheme: String?

    @Option(name: .customLong("max-connections"), help: ArgumentHelp(
        "Connections held at once (default 4096); more wait in the listen backlog. Env: TOKEND_MAX_CONNECTIONS.", valueName: "count"))
    var maxConnections: Int?

    @Option(name: .customLong("max-connections-per-ip"), help: ArgumentHelp(
        "Connections held at once from one address (default 256); more are closed at once. Env: TOKEND_MAX_CONNECTIONS_PER_IP.",
        valueName: "count"))
    var maxConnectionsPerIP: Int?

    @Option(name: .customLong("header-timeout"), help: ArgumentHelp(
        "Seconds a connection may take to send a whole request head, from opening or its last answer (default 10). Env: TOKEND_HEADER_TIMEOUT.",
        valueName: "seconds"))
    var headerTimeout: Double?

    @Option(name: .customLong("request-timeout"), help: ArgumentHelp(
        "Seconds a connection may take to send a whole request, head and body, from opening or its last answer (default 30); a late body is answered 408. Env: TOKEND_REQUEST_TIMEOUT.",
        valueName: "seconds"))
    var requestTimeout: Double?

    @Option(name: .customLong("access-log-rate"), help: ArgumentHelp(
        "Access-log lines written per second at most (default 1000); the rest are counted and summarised (dropped=N). Env: TOKEND_ACCESS_LOG_RATE.",
        valueName: "lines"))
    var accessLogRate: Int?

    @Option(name: .customLong("shutdown-delay"), help: ArgumentHelp(
        "Seconds /readyz reports draining, still serving, before the listener closes on SIGTERM (default 5, 0 with --dev). Env: TOKEND_SHUTDOWN_DELAY.",
        valueName: "seconds"))
    var shutdownDelay: Double?

    @Option(name: .customLong("log-format"), help: ArgumentHelp("text (logfmt, the default) or json, one line per event on stderr. Env: TOKEND_LOG_FORMAT.",
                                                                valueName: "format"))
    var logFormat: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp(
        "trace, debug, info (the default; one line per request), notice, warning, error or critical. Env: TOKEND_LOG_LEVEL.",
        valueName: "level"))
    var logLevel: String?

    @Option(name: .customLong("watch-secrets"), help: ArgumentHelp(
        "Seconds between checks of the secrets file: reload it when it changes, as SIGHUP does (default 0: only on SIGHUP). Env: TOKEND_WATCH_SECRETS.",
        valueName: "seconds"))
    var watchSecrets: Double?

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

    @Flag(help: "With --dev: the ephemeral key is a made-up Twilio API key, so tokens are in Twilio's layout (Twilio itself refuses them).")
    var twilio = false

    @Option(name: .customLong("pid-file"), help: ArgumentHelp(
        "Write this process's id here once it listens (removed at exit), for signals that must reach this instance only: kill -HUP \"$(cat PATH)\". Env: TOKEND_PID_FILE.",
        valueName: "path"))
    var pidFile: String?

    func run() async throws {
        let isDev = Environment.flag(dev, "TOKEND_DEV")
        let database = try databaseOptions.url()
        let settings = try settings(dev: isDev, database: database != nil)
        let level = try resolvedLogLevel()
        var logger = Logger(label: "tokend") { _ in LineLogHandler(format: settings.logFormat) }
        logger.logLevel = level
        defer { LogOutput.standardError.flush() }

        if twilio && !isDev { throw CommandFailure.usage("--twilio goes with --dev (a real Twilio key goes in the secrets file: tokend keygen twilio-key)") }
        let devSecrets: DevSecrets? = isDev ? DevSecrets.make(twilio: twilio) : nil
        let secrets = try devSecrets?.secrets ?? secretsOptions.load()
        let metrics = ServerMetrics(version: TokendVersion.current)
        LogOutput.standardError.reportDrops { metrics.logLinesDropped($0) }
        // A start that cannot listen leaves no empty audit file it created behind.
        let auditFileExisted = settings.auditLogPath.map { access($0, F_OK) == 0 } ?? true
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
        let control: ControlState
        if let shared = shared.control {
            control = shared
        } else if let statePath = settings.statePath {
            do {
                control = try ControlState(journalPath: statePath, identityQuotaCapacity: settings.identityQuotaCapacity)
            } catch {
                throw CommandFailure.usage("cannot open the state journal: \(error)")
            }
        } else {
            control = ControlState(identityQuotaCapacity: settings.identityQuotaCapacity)
        }
        let service = TokenService(settings: settings, secrets: secrets, state: shared.state, control: control, stateServices: shared.services,
                                   stateReadiness: shared.readiness, metrics: metrics, logger: logger)
        let scheme = settings.tls == nil ? "http" : "https"
        let tls: NIOSSLContext?
        do {
            tls = try TokenServerApplication.tlsContext(settings.tls)
        } catch {
            throw CommandFailure.usage("cannot set up TLS: \(error)")
        }
        // Written before the listener opens (a file that cannot be written stops the start: the
        // operator's signals would go nowhere), removed however the service stops.
        let pid = Environment.resolve(pidFile, "TOKEND_PID_FILE").map(PIDFile.init)
        try pid?.write()
        defer { pid?.remove() }
        do {
            let startLogger = logger
            try await TokenServerApplication.run(service: service, tls: tls) { port in
                let base = "\(scheme)://\(settings.host):\(port)"
                if let devSecrets { Self.printDevBanner(devSecrets, base: base, auditLogPath: settings.auditLogPath) }
                Console.out("tokend: listening on \(base)")  // for scripts and people, as it was
                startLogger.notice("listening", metadata: ["url": "\(base)", "port": .stringConvertible(port)])  // in the log's own format
            }
        } catch {
            // A failed start (the port is taken, the address does not exist, unusable TLS files)
            // ends here too.
            if error is ListenError {
                var info = stat()
                if !auditFileExisted, let path = settings.auditLogPath, stat(path, &info) == 0, info.st_size == 0 { unlink(path) }
                throw CommandFailure.usage("\(error)")
            }
            throw CommandFailure.usage("the service stopped: \(error)")
        }
        do {
            try control.writeExactCounts()
        } catch {
            logger.error("could not write the exact quota counts; the next start counts the reserved ones", metadata: ["error": "\(error)"])
        }
        logger.notice("stopped")
    }

    private func resolvedLogLevel() throws(CommandFailure) -> Logger.Level {
        guard let text = Environment.resolve(logLevel, "TOKEND_LOG_LEVEL") else { return .info }
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            throw .usage("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return level
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
                "path": "\(path)", "bytes": .stringConvertible(auditLog.recovery.tornBytesCut),
                "last_seq": .stringConvertible(auditLog.recovery.lastSequence)])
        }
        return auditLog
    }

    private func settings(dev: Bool, database: Bool) throws(CommandFailure) -> ServerSettings {
        var settings = ServerSettings()
        settings.host = Environment.resolve(host, "TOKEND_HOST") ?? "127.0.0.1"
        if dev, !["127.0.0.1", "localhost", "::1"].contains(settings.host) {
            throw .usage("--dev binds 127.0.0.1 only: its secrets are printed on the terminal")
        }
        settings.port = try Environment.integer(port, "--port", "TOKEND_PORT", in: 0...65535, default: settings.port)
        if dev, secretsOptions.secrets != nil {
            throw .usage("--dev makes its own ephemeral secrets: give --dev or --secrets, not both")
        }
        if !dev, Environment.resolve(secretsOptions.secrets, "TOKEND_SECRETS") == nil {
            throw .usage("missing --secrets (or TOKEND_SECRETS): make a secrets file with `tokend keygen > secrets.toml`, or try it with `tokend serve --dev`")
        }
        settings.secretsPath = dev ? nil : try Environment.require(secretsOptions.secrets, "--secrets", "TOKEND_SECRETS")
        // With a database the file is optional: written only when asked for.
        settings.auditLogPath = Environment.resolve(auditLog, "TOKEND_AUDIT_LOG") ?? (database ? nil : "tokend-audit.jsonl")
        if !database {
            let besideAuditLog = settings.auditLogPath.flatMap { path in path.lastIndex(of: "/").map { String(path[...$0]) } } ?? ""
            settings.statePath = Environment.resolve(stateFile, "TOKEND_STATE_FILE") ?? besideAuditLog + "tokend-state.jsonl"
        } else if Environment.resolve(stateFile, "TOKEND_STATE_FILE") != nil {
            throw .usage("--state-file is for the embedded mode; with --database there is no state file")
        }
        settings.identityQuotaCapacity = try Environment.integer(identityQuotaCapacity, "--identity-quota-capacity", "TOKEND_IDENTITY_QUOTA_CAPACITY",
                                                                 in: 1...100_000_000, default: settings.identityQuotaCapacity)
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
        settings.maximumConnectionsPerAddress = try Environment.integer(
            maxConnectionsPerIP, "--max-connections-per-ip", "TOKEND_MAX_CONNECTIONS_PER_IP", in: 1...1_000_000,
            default: settings.maximumConnectionsPerAddress)
        settings.headerTimeout = try Environment.seconds(headerTimeout, "--header-timeout", "TOKEND_HEADER_TIMEOUT", in: 0.001...3600,
                                                         default: settings.headerTimeout)
        settings.requestTimeout = try Environment.seconds(requestTimeout, "--request-timeout", "TOKEND_REQUEST_TIMEOUT", in: 0.001...3600,
                                                          default: settings.requestTimeout)
        settings.accessLogRate = try Environment.integer(accessLogRate, "--access-log-rate", "TOKEND_ACCESS_LOG_RATE", in: 1...1_000_000,
                                                         default: settings.accessLogRate)
        settings.auditHeadInterval = try Environment.seconds(auditHeadInterval, "--audit-head-interval", "TOKEND_AUDIT_HEAD_INTERVAL", in: 0.1...86400,
                                                             default: settings.auditHeadInterval)
        settings.shutdownDelay = try Environment.seconds(shutdownDelay, "--shutdown-delay", "TOKEND_SHUTDOWN_DELAY", in: 0...3600,
                                                         default: dev ? .zero : settings.shutdownDelay)
        let watchInterval = try Environment.seconds(watchSecrets, "--watch-secrets", "TOKEND_WATCH_SECRETS", in: 0...86400, default: .zero)
        settings.secretsWatchInterval = watchInterval == .zero ? nil : watchInterval
        if let text = Environment.resolve(logFormat, "TOKEND_LOG_FORMAT") {
            guard let format = LogFormat(rawValue: text) else { throw .usage("--log-format must be text or json") }
            settings.logFormat = format
        }
        settings.publicScheme = Environment.resolve(publicScheme, "TOKEND_PUBLIC_SCHEME") ?? (settings.tls == nil ? "http" : "https")
        guard ["http", "https"].contains(settings.publicScheme) else { throw .usage("--public-scheme must be http or https") }
        return settings
    }

    /// Shown once: the dev caller's credentials, a request that works as pasted, and what of
    /// it outlives a restart.
    static func printDevBanner(_ dev: DevSecrets, base: String, auditLogPath: String?) {
        let kept = auditLogPath.map { "The audit log \($0) is kept, and continued by the next start." } ?? "No audit file is written."
        let layout = dev.isTwilio ? "a made-up Twilio API key (Twilio's layout; Twilio itself refuses these tokens)" : "ephemeral signing key"
        let grants = dev.isTwilio ? #"{"data_sync":{}}"# : #"{"chat":{}}"#
        Console.out("""
            tokend --dev: \(layout) and one caller, "\(DevSecrets.callerID)" (grants: \(DevSecrets.grants.sorted().joined(separator: ", ")))
            The key and the credentials below live in memory only: restart and they are gone. \(kept)
            API key: \(dev.apiKey)
            HMAC secret: \(dev.hmacSecret)
            Signing secret: \(dev.signingSecret)   (kid "\(dev.signingKID)")
            Verify a token: TOKEND_SIGNING_SECRET='\(dev.signingSecret)' tokend verify TOKEN
            Try:
              curl -s -X POST \(base)/v1/tokens -H 'Authorization: Bearer \(dev.apiKey)' -H 'Content-Type: application/json' -d '{"identity":"alice","grants":\(grants)}'
            """)
    }
}
