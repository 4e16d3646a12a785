import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import TokenCore
import UnixSignals

/// The service: the HTTP server and the services beside it (the shared state's own, SIGHUP
/// reloads, denial summaries, audit heads), in one service group that stops on SIGTERM or SIGINT.
/// Each part is made here once and handed only to what uses it.
public struct TokenServerApplication: Sendable {
    let settings: ServerSettings
    let secrets: LiveSecrets
    let state: SharedState
    let control: ControlState
    /// Services that run beside the server for the shared state (the PostgreSQL pool, the audit
    /// writer, the ledger purge), started before it and stopped after it.
    let stateServices: [any Service]
    /// Why the shared state is unusable right now (for `/readyz`), beyond the audit sink's own check.
    let stateReadiness: @Sendable () async -> String?
    let denials: DenialRecorder
    let heads: AuditHeadLogger
    let draining = DrainingFlag()
    let metrics: ServerMetrics
    let logger: Logger

    public init(settings: ServerSettings, secrets: Secrets, state: SharedState, control: ControlState = ControlState(),
                stateServices: [any Service] = [], stateReadiness: @escaping @Sendable () async -> String? = { nil },
                metrics: ServerMetrics, logger: Logger) {
        self.settings = settings
        self.secrets = LiveSecrets(secrets, path: settings.secretsPath, maximumSkew: settings.maximumSkew, metrics: metrics, logger: logger)
        self.state = state
        self.control = control
        self.stateServices = stateServices
        self.stateReadiness = stateReadiness
        denials = DenialRecorder(audit: state.audit, logger: logger)
        heads = AuditHeadLogger(audit: state.audit, logger: logger)
        self.metrics = metrics
        self.logger = logger
        metrics.reportAuditHead { [state] in state.auditFile?.head.seq }
        // Weakly: the live secrets hold the metrics (for their counters); a strong capture would be a cycle.
        metrics.reportQuotaUse { [weak live = self.secrets, control] in
            guard let callers = live?.current.secrets.callers else { return [] }
            let now = WallClock.now()
            return callers.compactMap { caller in
                guard let quota = caller.quota, let used = control.quotaUse(of: caller, now: now) else { return nil }
                return (caller.id, used, quota.limit)
            }
        }
    }

    /// Runs until SIGTERM or SIGINT and the drain that follows (see `HTTPServer`); throws when
    /// the server cannot start (TLS files, the address) or a service fails.
    public func run(tls: NIOSSLContext?, onListening: @escaping @Sendable (_ port: Int) async -> Void) async throws {
        let context = EndpointContext(settings: settings, secrets: secrets, state: state, control: control, denials: denials,
                                      metrics: metrics, logger: logger)
        let operations = OperationsRoutes(secrets: secrets, audit: state.audit, stateReadiness: stateReadiness, draining: draining,
                                          serverMetrics: metrics)
        let server = HTTPServer(
            configuration: .init(settings, tls: tls),
            responder: Router(tokens: TokenEndpoint(context: context), operations: operations),
            observer: RequestRecorder(metrics: metrics, format: settings.logFormat, level: logger.logLevel,
                                      linesPerSecond: settings.accessLogRate),
            logger: logger,
            onListening: { [settings] address in await onListening(address.port ?? settings.port) },
            onDraining: { [draining] in draining.set() },
            onRefused: { [metrics] in metrics.connectionRefused() },
            onAcceptBackoff: { [metrics] in metrics.acceptBackedOff() })
        // Started in this order and stopped in reverse: the server stops first (its drain ends
        // when the last request is answered), then the denial flusher writes its last counts,
        // then the shared state's services close.
        var watchers: [any Service] = []
        if let path = settings.secretsPath, let interval = settings.secretsWatchInterval {
            watchers.append(SecretsFileWatcher(secrets: secrets, logger: logger, path: path, interval: interval))
        }
        let reopener = SignalHandler(secrets: secrets, heads: heads, auditFile: state.auditFile, auditLogPath: settings.auditLogPath,
                                     logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: (stateServices + watchers + [reopener, DenialFlusher(denials: denials),
                                                   AuditHeadReporter(heads: heads, interval: settings.auditHeadInterval), server])
                .map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
        heads.log()
    }

    /// HTTPS with the given certificate chain and key (TLS 1.2 and later, swift-nio-ssl's default
    /// server ciphers); nil serves plain HTTP.
    public static func tlsContext(_ tls: ServerSettings.TLSFiles?) throws -> NIOSSLContext? {
        guard let tls else { return nil }
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChainPath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: configuration)
    }
}

/// SIGHUP: reload the secrets file and reopen the audit log file (logrotate's `create` style).
struct SignalHandler: Service {
    let secrets: LiveSecrets
    let heads: AuditHeadLogger
    let auditFile: AuditLog?
    let auditLogPath: String?
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            await secrets.reloadInBackground()
            // The head before the reopen: where the old file ends, kept in the logs.
            heads.log()
            auditFile?.reopen()
            if let auditLogPath {
                logger.notice("audit log reopened", metadata: ["path": "\(auditLogPath)"])
            }
        }
    }
}
