import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import TokenCore
import UnixSignals

/// Runs a `TokenService`: the HTTP server and the services beside it (SIGHUP reloads, denial
/// summaries, the shared state's own), in one service group that stops on SIGTERM or SIGINT.
public enum TokenServerApplication {
    /// Runs until SIGTERM or SIGINT and the drain that follows (see `HTTPServer`); throws when
    /// the server cannot start (TLS files, the address) or a service fails.
    public static func run(service: TokenService, tls: NIOSSLContext?,
                           onListening: @escaping @Sendable (_ port: Int) async -> Void) async throws {
        let settings = service.settings
        let server = HTTPServer(
            configuration: .init(settings, tls: tls),
            responder: Router(service: service),
            observer: RequestRecorder(metrics: service.metrics, format: settings.logFormat, level: service.logger.logLevel,
                                linesPerSecond: settings.accessLogRate),
            logger: service.logger,
            onListening: { address in await onListening(address.port ?? settings.port) },
            onDraining: { service.startDraining() },
            onRefused: { service.metrics.connectionRefused() },
            onAcceptBackoff: { service.metrics.acceptBackedOff() })
        // Started in this order and stopped in reverse: the server stops first (its drain ends
        // when the last request is answered), then the denial flusher writes its last counts,
        // then the shared state's services close.
        var watchers: [any Service] = []
        if let path = settings.secretsPath, let interval = settings.secretsWatchInterval {
            watchers.append(SecretsFileWatcher(service: service, path: path, interval: interval))
        }
        let group = ServiceGroup(configuration: .init(
            services: (service.stateServices + watchers + [SignalHandler(service: service), DenialFlusher(service: service),
                        AuditHeadReporter(service: service), server])
                .map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: service.logger))
        try await group.run()
        service.logAuditHeads()
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
    let service: TokenService

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            await service.reloadSecretsInBackground()
            // The head before the reopen: where the old file ends, kept in the logs.
            service.logAuditHeads()
            service.state.auditFile?.reopen()
            if let path = service.settings.auditLogPath {
                service.logger.notice("audit log reopened", metadata: ["path": "\(path)"])
            }
        }
    }
}

/// Writes the counts of coalesced denials once per slice, and what is left when the service stops.
struct DenialFlusher: Service {
    let service: TokenService

    func run() async throws {
        while true {
            do {
                try await cancelWhenGracefulShutdown {
                    try await Task.sleep(for: .seconds(min(service.coalescer.sliceSeconds, service.throttled.sliceSeconds)))
                }
            } catch {
                // Graceful shutdown, or cancellation because another service failed (the server
                // could not bind, say): either way the loop ends here. Swallowing the error and
                // looping would spin on a cancelled sleep.
                break
            }
            await service.flushCoalescedDenials()
        }
        await service.flushCoalescedDenials(all: true)
    }
}

/// Logs the audit chains' heads every `--audit-head-interval` when they moved: a head outside
/// the chain, not only at rotation and shutdown, shows records cut from its end after a crash too.
struct AuditHeadReporter: Service {
    let service: TokenService

    func run() async throws {
        var logged: [AuditChainHead] = []
        while true {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: service.settings.auditHeadInterval) }
            } catch {
                return  // shutting down: the last heads are logged after the services stop
            }
            logged = service.logAuditHeads(unless: logged)
        }
    }
}
