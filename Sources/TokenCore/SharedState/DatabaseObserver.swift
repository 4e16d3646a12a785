/// What the shared state reports about its database work, for `/metrics`: each operation's
/// latency and result, and how many are in flight. The server implements it with Prometheus
/// families that carry HELP text; tests and tools pass `.none`.
public protocol DatabaseObserver: Sendable {
    func operationFinished(_ operation: String, succeeded: Bool, seconds: Double)
    func operationsInFlight(_ count: Int)
    /// A dependency went up or down (the breaker closed or opened).
    func dependencyChanged(_ dependency: String, up: Bool)
    /// One write probe, its time and result.
    func probeFinished(_ dependency: String, succeeded: Bool, seconds: Double)
    /// An instance found its database chain shorter than its heartbeat's head.
    func auditChainCut(missingRecords: Int)
    /// The store moved to another of the URL's hosts (a promoted standby, after a failover).
    func databaseHostChanged(to host: String)
}

/// Reports nothing.
public struct NoDatabaseObserver: DatabaseObserver {
    public init() {}
    public func operationFinished(_ operation: String, succeeded: Bool, seconds: Double) {}
    public func operationsInFlight(_ count: Int) {}
    public func dependencyChanged(_ dependency: String, up: Bool) {}
    public func probeFinished(_ dependency: String, succeeded: Bool, seconds: Double) {}
    public func auditChainCut(missingRecords: Int) {}
    public func databaseHostChanged(to host: String) {}
}

extension DatabaseObserver where Self == NoDatabaseObserver {
    public static var none: NoDatabaseObserver { NoDatabaseObserver() }
}
