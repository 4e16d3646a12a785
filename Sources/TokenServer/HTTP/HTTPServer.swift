import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The listener and each connection's pipeline, run as a service-lifecycle service:
///
///     [TLS] → HTTP/1.1 encoder, decoder (its buffer capped) → the connection handler
///
/// The connection handler (`HTTPConnectionHandler`, deciding through `HTTPConnectionStateMachine`)
/// is where a connection's life is decided: what is read, held, answered and closed, and when.
///
/// On graceful shutdown (SIGTERM, SIGINT): `onDraining` (readiness turns 503), requests are still
/// served for `shutdownDelay` so load balancers can take the instance out, then the listener
/// closes, idle connections close, requests in flight finish and their connections close; `run`
/// returns when the last one has.
/// Why the listener could not open, in the operator's terms (the address and the cause).
public struct ListenError: Error, CustomStringConvertible {
    public let description: String
}

final class HTTPServer: Service, Sendable {
    struct Configuration: Sendable {
        var host: String
        var port: Int
        var tls: NIOSSLContext?
        var maximumConnections: Int
        var maximumConnectionsPerAddress: Int
        var headerTimeout: TimeAmount
        /// The whole request (head and body) is due this long after the client's turn begins.
        var requestTimeout: TimeAmount
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
        /// The decoder's buffer ceiling. While it parses, it holds at most one request head (the
        /// limits above); only bytes after an upgrade offer, which it does not parse, could pile
        /// up, and past this the connection is closed.
        var maximumDecoderBuffer = 128 * 1024

        /// The listener's part of the service's settings, in NIO's units: derived here only.
        init(_ settings: ServerSettings, tls: NIOSSLContext?) {
            host = settings.host
            port = settings.port
            self.tls = tls
            maximumConnections = settings.maximumConnections
            maximumConnectionsPerAddress = settings.maximumConnectionsPerAddress
            headerTimeout = TimeAmount(settings.headerTimeout)
            requestTimeout = TimeAmount(settings.requestTimeout)
            maximumBodySize = ServerSettings.maximumBodySize
            shutdownDelay = settings.shutdownDelay
        }

        var connection: HTTPConnectionStateMachine.Configuration {
            .init(maximumBodySize: maximumBodySize, headerTimeout: headerTimeout, requestTimeout: requestTimeout)
        }
    }

    private let configuration: Configuration
    private let responder: any HTTPResponder
    private let observer: any HTTPObserver
    private let group: any EventLoopGroup
    private let logger: Logger
    private let onListening: @Sendable (SocketAddress) async -> Void
    private let onDraining: @Sendable () -> Void
    private let onRefused: @Sendable () -> Void
    private let onAcceptBackoff: @Sendable () -> Void

    init(configuration: Configuration, responder: any HTTPResponder, observer: any HTTPObserver,
         group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger,
         onListening: @escaping @Sendable (SocketAddress) async -> Void, onDraining: @escaping @Sendable () -> Void,
         onRefused: @escaping @Sendable () -> Void, onAcceptBackoff: @escaping @Sendable () -> Void) {
        self.configuration = configuration
        self.responder = responder
        self.observer = observer
        self.group = group
        self.logger = logger
        self.onListening = onListening
        self.onDraining = onDraining
        self.onRefused = onRefused
        self.onAcceptBackoff = onAcceptBackoff
    }

    func run() async throws {
        let quiescing = ServerQuiescingHelper(group: group)
        let channel: any Channel
        do {
            channel = try await bootstrap(quiescing).bind(host: configuration.host, port: configuration.port).get()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw ListenError(description: "cannot listen on \(configuration.host):\(configuration.port): the port is in use (another process, or a tokend still draining)")
        } catch let error as IOError {
            throw ListenError(description: "cannot listen on \(configuration.host):\(configuration.port): \(String(cString: strerror(error.errnoCode)))")
        }
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
        let logger = self.logger
        let onAcceptBackoff = self.onAcceptBackoff
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionGate(
                        maximumConnections: configuration.maximumConnections,
                        maximumPerAddress: configuration.maximumConnectionsPerAddress,
                        backoff: AcceptBackoff(logger: logger, onBackoff: onAcceptBackoff),
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
        try addHTTPHandlers(to: pipeline, configuration, responder, observer)
    }

    /// The HTTP/1.1 part of a connection's pipeline (everything after TLS).
    static func addHTTPHandlers(to pipeline: ChannelPipeline.SynchronousOperations, _ configuration: Configuration,
                                _ responder: any HTTPResponder, _ observer: any HTTPObserver) throws {
        try pipeline.addHandler(HTTPResponseEncoder())
        try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: configuration.decoderLimits),
                                                     maximumBufferSize: configuration.maximumDecoderBuffer))
        try pipeline.addHandler(HTTPConnectionHandler(configuration: configuration.connection, responder: responder, observer: observer))
    }
}
