import NIOCore

/// The listener's admission control, in the server channel's pipeline, so it sees
/// every accepted connection before it is set up:
/// - at `maximumConnections` open, the listener stops accepting (new connections wait in the
///   kernel's backlog) until one closes; the few the kernel handed over in the same wake-up
///   wait here, unserved, for a free slot;
/// - a connection from an address that already holds `maximumPerAddress` is closed at once;
/// - when `accept(2)` fails for lack of descriptors or memory, the listener stops accepting for
///   `AcceptBackoff.pause` (see `AcceptBackoff` for why, and for what it reports).
/// Both pauses turn the listener's autoRead off: NIO's `AcceptBackoffHandler` only delays the
/// next read, but after a failed accept the channel still has a read pending and stays
/// registered for readability, so the failing accept would be retried in a loop.
/// All state belongs to the server channel's event loop: no lock.
final class ConnectionGate: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    private let maximumConnections: Int
    private let maximumPerAddress: Int
    private let onRefused: @Sendable () -> Void
    private let backoff: AcceptBackoff
    private var open = 0
    private var perAddress: [String: Int] = [:]
    private var paused = false
    private var backingOff = false
    /// Accepted while at the limit, in arrival order; admitted as connections close.
    private var waiting: [any Channel] = []
    private var context: ChannelHandlerContext?

    init(maximumConnections: Int, maximumPerAddress: Int, backoff: AcceptBackoff, onRefused: @escaping @Sendable () -> Void) {
        self.maximumConnections = maximumConnections
        self.maximumPerAddress = maximumPerAddress
        self.backoff = backoff
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
            updateReading(context)
            return
        }
        admit(child, context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? IOError, AcceptBackoff.isShortage(error) else {
            context.fireErrorCaught(error)
            return
        }
        let pause = backoff.backOff(error)
        guard !backingOff else { return }
        backingOff = true
        updateReading(context)
        let gate = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: pause) {
            let gate = gate.value
            gate.backingOff = false
            if let context = gate.context { gate.updateReading(context) }
        }
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
        updateReading(context)
        let gate = NIOLoopBound(self, eventLoop: context.eventLoop)
        let serverLoop = context.eventLoop
        child.closeFuture.whenComplete { _ in
            serverLoop.execute { gate.value.released(address) }
        }
        context.fireChannelRead(wrapInboundOut(child))
    }

    /// Accepting stops while the slots are full or the listener backs off, and resumes when
    /// neither holds.
    private func updateReading(_ context: ChannelHandlerContext) {
        let shouldPause = open >= maximumConnections || backingOff
        guard shouldPause != paused else { return }
        paused = shouldPause
        context.channel.setOption(ChannelOptions.autoRead, value: !shouldPause).whenFailure { _ in }
        if !shouldPause { context.read() }
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
        updateReading(context)
    }
}
