/// Runs an `async` operation in a task and hands its result to `completion`: how a state that
/// answers asynchronously (PostgreSQL) serves the completion form of a protocol, which the
/// in-memory and file states answer on the calling thread with no task at all.
public func complete<T: Sendable>(_ completion: @escaping @Sendable (Result<T, any Error>) -> Void,
                                  with operation: @escaping @Sendable () async throws -> T) {
    Task {
        do {
            completion(.success(try await operation()))
        } catch {
            completion(.failure(error))
        }
    }
}
