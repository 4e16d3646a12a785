import NIOCore

/// The listener's admission control (DESIGN §2), in the server channel's pipeline, so it sees
/// every accepted connection before it is set up:
/// - at `maximumConnections` open, the listener stops accepting (new connections wait in the
///   kernel's backlog) until one closes; the few the kernel handed over in the same wake-up
///   wait here, unserved, for a free slot;
/// - a connection from an address that already holds `maximumPerAddress` is closed at once.
/// All state belongs to the server channel's event loop: no lock.
final class ConnectionGate: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let maximumConnections: Int
    private let maximumPerAddress: Int
    private let onRefused: @Sendable () -> Void
    private var open = 0
    private var perAddress: [String: Int] = [:]
    private var paused = false
    /// Accepted while at the limit, in arrival order; admitted as connections close.
    private var waiting: [any Channel] = []
    private var context: ChannelHandlerContext?

    init(maximumConnections: Int, maximumPerAddress: Int, onRefused: @escaping @Sendable () -> Void) {
        self.maximumConnections = maximumConnections
        self.maximumPerAddress = maximumPerAddress
        self.onRefused = onRefused
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        for child in waiting { child.close(promise: nil) }
        waiting.removeAll()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        if open >= maximumConnections {
            waiting.append(child)
            pause(context)
            return
        }
        admit(child, context: context)
    }

    private func admit(_ child: any Channel, context: ChannelHandlerContext) {
        let address = child.remoteAddress?.ipAddress ?? "-"
        let fromAddress = perAddress[address, default: 0]
        guard fromAddress < maximumPerAddress else {
            // Not yet registered: NIO closes such a channel the same way when set-up fails.
            child.close(promise: nil)
            onRefused()
            return
        }
        perAddress[address] = fromAddress + 1
        open += 1
        if open >= maximumConnections { pause(context) }
        let gate = NIOLoopBound(self, eventLoop: context.eventLoop)
        let serverLoop = context.eventLoop
        child.closeFuture.whenComplete { _ in
            serverLoop.execute { gate.value.released(address) }
        }
        context.fireChannelRead(wrapInboundOut(child))
    }

    private func pause(_ context: ChannelHandlerContext) {
        guard !paused else { return }
        paused = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
    }

    private func released(_ address: String) {
        open -= 1
        if let count = perAddress[address], count > 1 {
            perAddress[address] = count - 1
        } else {
            perAddress[address] = nil
        }
        guard let context else { return }
        while open < maximumConnections, !waiting.isEmpty {
            admit(waiting.removeFirst(), context: context)
        }
        if paused, open < maximumConnections {
            paused = false
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
            context.read()
        }
    }
}
