/// What the shared state reports about its database work, for `/metrics`: each operation's
/// latency and result, and how many are in flight. The server implements it with Prometheus
/// families that carry HELP text; tests and tools pass `.none`.
public protocol DatabaseObserver: Sendable {
    func operationFinished(_ operation: String, succeeded: Bool, seconds: Double)
    func operationsInFlight(_ count: Int)
}

/// Reports nothing.
public struct NoDatabaseObserver: DatabaseObserver {
    public init() {}
    public func operationFinished(_ operation: String, succeeded: Bool, seconds: Double) {}
    public func operationsInFlight(_ count: Int) {}
}

extension DatabaseObserver where Self == NoDatabaseObserver {
    public static var none: NoDatabaseObserver { NoDatabaseObserver() }
}
