import Foundation

/// Runs blocking work (initdb, a base backup, waiting for a process) on a thread of its own and
/// awaits it. The tests run on Swift's cooperative pool, which has one thread per core: two
/// tests blocking it at once — two clusters being made at the suite's start, on two cores —
/// stall every other test for as long, and their deadlines pass while their servers answer.
public func offThePool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try work() }) }
        thread.stackSize = 1 << 20
        thread.start()
    }
}

extension PostgresServer {
    /// `init()`, off the pool.
    public static func make() async throws -> PostgresServer {
        try await offThePool { try PostgresServer() }
    }

    /// `init(standbyOf:)`, off the pool.
    public static func makeStandby(of primary: PostgresServer) async throws -> PostgresServer {
        try await offThePool { try PostgresServer(standbyOf: primary) }
    }

    /// `shared`, waited for off the pool: its first use makes the cluster.
    public static func sharedServer() async throws -> PostgresServer {
        try await offThePool { try shared.get() }
    }
}
