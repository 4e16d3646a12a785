import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The listener and each connection's pipeline, run as a service-lifecycle service:
///
///     [TLS] → HTTP/1.1 decoder/encoder → pipelining → parse errors as JSON → timeouts → requests
///
/// On graceful shutdown (SIGTERM, SIGINT): `onDraining` (readiness turns 503), requests are still
/// served for `shutdownDelay` so load balancers can take the instance out, then the listener
/// closes, idle connections close, requests in flight finish and their connections close; `run`
/// returns when the last one has.
final class HTTPServer: Service, Sendable {
    struct Configuration: Sendable {
        var host: String
        var port: Int
        var tls: NIOSSLContext?
        var maximumConnections: Int
        var maximumConnectionsPerAddress: Int
        var headerTimeout: TimeAmount
        /// A body that stalls this long (no byte) is cut off.
        var bodyTimeout: TimeAmount = .seconds(30)
        var maximumBodySize: Int
        var shutdownDelay: Duration
        /// Limits well above any real client's, far below what would let one connection hold
        /// much memory.
        var decoderLimits: NIOHTTPDecoderLimitConfiguration = {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = 16 * 1024
            limits.maxHeaderListSize = 32 * 1024
            limits.maxHeaderFieldCount = 100
            return limits
        }()
    }

    private let configuration: Configuration
    private let responder: any HTTPResponder
    private let observer: any HTTPObserver
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable (SocketAddress) async -> Void
    private let onDraining: @Sendable () -> Void
    private let onRefused: @Sendable () -> Void

    init(configuration: Configuration, responder: any HTTPResponder, observer: any HTTPObserver,
         group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
         onListening: @escaping @Sendable (SocketAddress) async -> Void, onDraining: @escaping @Sendable () -> Void,
         onRefused: @escaping @Sendable () -> Void) {
        self.configuration = configuration
        self.responder = responder
        self.observer = observer
        self.group = group
        self.logger = logger
        self.onListening = onListening
        self.onDraining = onDraining
        self.onRefused = onRefused
    }

    func run() async throws {
        let quiescing = ServerQuiescingHelper(group: group)
        let channel = try await bootstrap(quiescing).bind(host: configuration.host, port: configuration.port).get()
        if let address = channel.localAddress { await onListening(address) }

        // Until SIGTERM/SIGINT; a cancellation (another service failed) skips the delay.
        let graceful = (try? await gracefulShutdown()) != nil
        onDraining()
        if graceful, configuration.shutdownDelay > .zero {
            logger.notice("draining: /readyz answers 503; still serving", metadata: ["shutdown_delay": "\(configuration.shutdownDelay)"])
            try? await Task.sleep(for: configuration.shutdownDelay)
        }
        logger.notice("closing the listener; finishing requests in flight")
        let closed = group.next().makePromise(of: Void.self)
        quiescing.initiateShutdown(promise: closed)
        try await closed.futureResult.get()
    }

    private func bootstrap(_ quiescing: ServerQuiescingHelper) -> ServerBootstrap {
        let configuration = self.configuration
        let responder = self.responder
        let observer = self.observer
        let onRefused = self.onRefused
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionGate(
                        maximumConnections: configuration.maximumConnections,
                        maximumPerAddress: configuration.maximumConnectionsPerAddress,
                        onRefused: onRefused))
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            // tcpOption, not socketOption: the latter means SOL_SOCKET, where TCP_NODELAY's number is
            // SO_DEBUG — refused to unprivileged users, which closed every connection.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configurePipeline(channel, configuration, responder, observer)
                }
            }
    }

    private static func configurePipeline(_ channel: any Channel, _ configuration: Configuration,
                                          _ responder: any HTTPResponder, _ observer: any HTTPObserver) throws {
        let pipeline = channel.pipeline.syncOperations
        if let tls = configuration.tls {
            try pipeline.addHandler(NIOSSLServerHandler(context: tls))
        }
        try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false, withEncoderConfiguration: .init(),
                                                 withDecoderLimitConfiguration: configuration.decoderLimits)
        try pipeline.addHandler(HTTPParseErrorHandler(observer: observer))
        try pipeline.addHandler(HeaderTimeoutHandler(headerTimeout: configuration.headerTimeout, bodyTimeout: configuration.bodyTimeout))
        try pipeline.addHandler(HTTPRequestHandler(responder: responder, observer: observer,
                                                   limits: .init(maximumBodySize: configuration.maximumBodySize)))
    }
}
