import Foundation
import Logging
import NIOCore

/// When `accept(2)` fails — out of file descriptors (EMFILE, ENFILE) or kernel memory — the
/// connection stays in the backlog and the listening socket stays readable: trying again at once
/// would spin a core and starve the connections being served. `ConnectionGate` pauses the
/// listener for `pause` instead; this says so in a metric every time and in a log line at most
/// once a second (with how many more there were).
final class AcceptBackoff {
    static let pause: TimeAmount = .milliseconds(250)

    private let logger: Logger
    private let onBackoff: @Sendable () -> Void
    private var lastLogged: NIODeadline?
    private var unlogged = 0

    init(logger: Logger, onBackoff: @escaping @Sendable () -> Void) {
        self.logger = logger
        self.onBackoff = onBackoff
    }

    /// The accept errors that mean "not now" rather than "never": the backlog keeps the connection.
    static func isShortage(_ error: IOError) -> Bool {
        [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode)
    }

    func backOff(_ error: IOError, now: NIODeadline = .now()) -> TimeAmount {
        onBackoff()
        if let lastLogged, now - lastLogged < .seconds(1) {
            unlogged += 1
        } else {
            logger.error("accept failed; the listener pauses", metadata: [
                "error": "\(Self.describe(error))", "pause_ms": "\(Self.pause.nanoseconds / 1_000_000)",
                "since_last_line": "\(unlogged)",
            ])
            lastLogged = now
            unlogged = 0
        }
        return Self.pause
    }

    private static func describe(_ error: IOError) -> String {
        switch error.errnoCode {
        case EMFILE: "EMFILE (this process is out of file descriptors: raise LimitNOFILE / ulimit -n, or lower --max-connections)"
        case ENFILE: "ENFILE (the system is out of file descriptors)"
        case ENOBUFS, ENOMEM: "out of kernel memory for sockets"
        default: "errno \(error.errnoCode)"
        }
    }
}
