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
    @Option(ServeOptions.host) var host: String?
    @Option(ServeOptions.port) var port: String?
    @Option(ServeOptions.auditLog) var auditLog: String?
    @Option(ServeOptions.stateFile) var stateFile: String?
    @Option(ServeOptions.identityQuotaCapacity) var identityQuotaCapacity: String?
    @Option(ServeOptions.auditSync) var auditSync: String?
    @Option(ServeOptions.auditHeadInterval) var auditHeadInterval: String?
    @Option(ServeOptions.maxSkew) var maxSkew: String?
    @Option(ServeOptions.publicScheme) var publicScheme: String?
    @Option(ServeOptions.maxConnections) var maxConnections: String?
    @Option(ServeOptions.maxConnectionsPerIP) var maxConnectionsPerIP: String?
    @Option(ServeOptions.headerTimeout) var headerTimeout: String?
    @Option(ServeOptions.requestTimeout) var requestTimeout: String?
    @Option(ServeOptions.accessLogRate) var accessLogRate: String?
    @Option(ServeOptions.shutdownDelay) var shutdownDelay: String?
    @Option(ServeOptions.logFormat) var logFormat: String?
    @Option(ServeOptions.logLevel) var logLevel: String?
    @Option(ServeOptions.watchSecrets) var watchSecrets: String?
    @Option(ServeOptions.tlsCert) var tlsCert: String?
    @Option(ServeOptions.tlsKey) var tlsKey: String?
    @OptionGroup var databaseOptions: DatabaseOptions
    @Option(ServeOptions.instance) var instance: String?
    @Flag(ServeOptions.dev) var dev: Bool

    @Flag(help: "With --dev: the ephemeral key is a made-up Twilio API key, so tokens are in Twilio's layout (Twilio itself refuses them).")
    var twilio = false

    @Option(ServeOptions.pidFile) var pidFile: String?

    @Flag(name: .customLong("print-config"), help: "Print what every option resolved to and where it came from (flag, variable or default), then exit without starting.")
    var printConfig = false

    func run() async throws {
        let isDev = ServeOptions.dev.isOn(dev)
        let database = try databaseOptions.url()
        var resolved = ResolvedOptions()
        let settings = try settings(dev: isDev, database: database != nil, &resolved)
        let level = try resolved.value(ServeOptions.logLevel, logLevel)
        let instanceName = try InstanceName.resolve(instance, &resolved)
        let databaseTimeout = try resolved.value(DatabaseOptions.timeoutSpec, databaseOptions.timeout)
        let databaseWait = try resolved.value(DatabaseOptions.waitSpec, databaseOptions.wait)
        let pidPath = try resolved.given(ServeOptions.pidFile, pidFile)
        if printConfig {
            resolved.note(DatabaseOptions.urlSpec, databaseOptions.database, database.map { "\($0)" })
            resolved.note(SecretsOptions.spec, secretsOptions.secrets, settings.secretsPath)
            for line in resolved.lines { Console.out(line) }
            return
        }
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
            shared = try await SharedStateSetup.postgres(database, instance: instanceName, timeout: databaseTimeout,
                                                         wait: databaseWait, settings: settings, secrets: secrets, auditLog: auditLog, metrics: metrics, logger: logger)
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
        let application = TokenServerApplication(settings: settings, secrets: secrets, state: shared.state, control: control,
                                                 stateServices: shared.services, stateReadiness: shared.readiness, metrics: metrics,
                                                 logger: logger)
        let scheme = settings.listenerScheme.rawValue
        let tls: NIOSSLContext?
        do {
            tls = try TokenServerApplication.tlsContext(settings.tls)
        } catch {
            throw CommandFailure.usage("cannot set up TLS: \(error)")
        }
        // Written before the listener opens (a file that cannot be written stops the start: the
        // operator's signals would go nowhere), removed however the service stops.
        let pid = pidPath.map(PIDFile.init)
        try pid?.write()
        defer { pid?.remove() }
        do {
            let startLogger = logger
            try await application.run(tls: tls) { port in
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

    private func settings(dev: Bool, database: Bool, _ resolved: inout ResolvedOptions) throws(CommandFailure) -> ServerSettings {
        var settings = ServerSettings()
        settings.host = try resolved.value(ServeOptions.host, host)
        if dev, !["127.0.0.1", "localhost", "::1"].contains(settings.host) {
            throw .usage("--dev binds 127.0.0.1 only: its secrets are printed on the terminal")
        }
        settings.port = try resolved.value(ServeOptions.port, port)
        if dev, secretsOptions.secrets != nil {
            throw .usage("--dev makes its own ephemeral secrets: give --dev or --secrets, not both")
        }
        if !dev, secretsOptions.path == nil, !printConfig {
            throw .usage("missing --secrets (or TOKEND_SECRETS): make a secrets file with `tokend keygen > secrets.toml`, or try it with `tokend serve --dev`")
        }
        settings.secretsPath = dev ? nil : secretsOptions.path
        // With a database the file is optional: written only when asked for.
        settings.auditLogPath = try ServeOptions.auditLog.given(auditLog) ?? (database ? nil : ServerSettings.defaultAuditLogPath)
        resolved.note(ServeOptions.auditLog, auditLog, settings.auditLogPath)
        let statePath = try ServeOptions.stateFile.given(stateFile)
        if !database {
            let besideAuditLog = settings.auditLogPath.flatMap { path in path.lastIndex(of: "/").map { String(path[...$0]) } } ?? ""
            settings.statePath = statePath ?? besideAuditLog + "tokend-state.jsonl"
        } else if statePath != nil {
            throw .usage("--state-file is for the embedded mode; with --database there is no state file")
        }
        resolved.note(ServeOptions.stateFile, stateFile, settings.statePath)
        settings.identityQuotaCapacity = try resolved.value(ServeOptions.identityQuotaCapacity, identityQuotaCapacity)
        settings.auditSync = try resolved.value(ServeOptions.auditSync, auditSync)
        settings.maximumSkew = try resolved.value(ServeOptions.maxSkew, maxSkew)
        settings.maximumConnections = try resolved.value(ServeOptions.maxConnections, maxConnections)
        switch (try resolved.given(ServeOptions.tlsCert, tlsCert), try resolved.given(ServeOptions.tlsKey, tlsKey)) {
        case (nil, nil): break
        case (let cert?, let key?): settings.tls = .init(certificateChainPath: cert, privateKeyPath: key)
        default: throw .usage("--tls-cert and --tls-key go together")
        }
        settings.maximumConnectionsPerAddress = try resolved.value(ServeOptions.maxConnectionsPerIP, maxConnectionsPerIP)
        settings.headerTimeout = try resolved.value(ServeOptions.headerTimeout, headerTimeout)
        settings.requestTimeout = try resolved.value(ServeOptions.requestTimeout, requestTimeout)
        settings.accessLogRate = try resolved.value(ServeOptions.accessLogRate, accessLogRate)
        settings.auditHeadInterval = try resolved.value(ServeOptions.auditHeadInterval, auditHeadInterval)
        settings.shutdownDelay = try ServeOptions.shutdownDelay.given(shutdownDelay) ?? (dev ? .zero : settings.shutdownDelay)
        resolved.note(ServeOptions.shutdownDelay, shutdownDelay, ServeOptions.shutdownDelay.show(settings.shutdownDelay))
        let watchInterval = try resolved.value(ServeOptions.watchSecrets, watchSecrets)
        settings.secretsWatchInterval = watchInterval == .zero ? nil : watchInterval
        settings.logFormat = try resolved.value(ServeOptions.logFormat, logFormat)
        settings.publicScheme = try ServeOptions.publicScheme.given(publicScheme)
        resolved.note(ServeOptions.publicScheme, publicScheme, settings.clientScheme.rawValue)
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
