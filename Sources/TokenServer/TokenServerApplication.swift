import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Logging
import NIOCore
import ServiceLifecycle
import TokenCore
import UnixSignals

/// Builds the Hummingbird application around a `TokenService`: routes, middleware, connection
/// limits, and the services that run beside the server (SIGHUP reloads, denial summaries).
public enum TokenServerApplication {
    /// Slow or idle clients are cut off after this long without a byte.
    public static let idleTimeout: TimeAmount = .seconds(30)

    public static func make(service: TokenService, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        throws -> some ApplicationProtocol
    {
        let router = Router(context: TokenRequestContext.self)
        router.middlewares.add(RequestObserver(logger: service.logger))
        router.middlewares.add(MetricsMiddleware())
        let endpoint = TokenEndpoint(service: service)
        router.post("/v1/tokens") { request, context in await endpoint.handle(request, context: context) }
        OperationsRoutes(service: service).register(on: router)

        // Header limits well above any real client's, far below what would let one connection
        // hold much memory.
        let http1 = HTTP1Channel.Configuration(
            idleTimeout: idleTimeout,
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100))
        return Application(
            router: router,
            server: try serverBuilder(http1: http1, tls: service.settings.tls),
            configuration: ApplicationConfiguration(
                address: .hostname(service.settings.host, port: service.settings.port), serverName: nil, backlog: 1024,
                availableConnectionsDelegate: .maximum(service.settings.maximumConnections, logger: service.logger)),
            // Started in this order and stopped in reverse, after the server: the shared state's
            // services outlive the denial flusher's last write.
            services: service.stateServices + [SignalHandler(service: service), DenialFlusher(service: service)],
            onServerRunning: onServerRunning,
            logger: service.logger
        )
    }
}

extension TokenServerApplication {
    /// Plain HTTP/1.1, or HTTPS with the given certificate chain and key (TLS 1.2 and later,
    /// swift-nio-ssl's default server ciphers).
    static func serverBuilder(http1: HTTP1Channel.Configuration, tls: ServerSettings.TLSFiles?) throws -> HTTPServerBuilder {
        guard let tls else { return .http1(configuration: http1) }
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChainPath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: tls.privateKeyPath, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return try .tls(.http1(configuration: http1), tlsConfiguration: configuration)
    }
}

/// SIGHUP: reload the secrets file and reopen the audit log file (logrotate's `create` style).
struct SignalHandler: Service {
    let service: TokenService

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            service.reloadSecrets()
            service.state.audit.reopen()
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
                    try await Task.sleep(for: .seconds(service.coalescer.sliceSeconds))
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
