import NIOCore
import Synchronization

/// Carries a decision from a completion handler to the code that asked for it, without a promise
/// when the decision was made on the spot (the in-memory state, on every request): a promise, and
/// the future callbacks chained on it, only when the answer comes later from another thread.
final class AdmissionHandoff<Value: Sendable>: Sendable {
    private enum Outcome {
        case now(Result<Value, any Error>)
        case later(EventLoopFuture<Value>)
    }

    private enum State {
        case waiting
        case decided(Result<Value, any Error>)
        case promised(EventLoopPromise<Value>)
    }

    private let state = Mutex<State>(.waiting)

    func complete(_ result: Result<Value, any Error>) {
        let promise = state.withLock { state -> EventLoopPromise<Value>? in
            if case .promised(let promise) = state { return promise }
            state = .decided(result)
            return nil
        }
        promise?.completeWith(result)
    }

    /// Goes on with the decision — on the spot when it is in, else once it arrives on
    /// `eventLoop` — or answers `failed` for an error (the shared state could not decide).
    func proceed<Response: Sendable>(on eventLoop: any EventLoop, _ next: @escaping @Sendable (Value) -> EventLoopFuture<Response>,
                                     failed: @escaping @Sendable (any Error) -> Response) -> EventLoopFuture<Response> {
        switch result(orPromiseOn: eventLoop) {
        case .now(.success(let value)): return next(value)
        case .now(.failure(let error)): return eventLoop.makeSucceededFuture(failed(error))
        case .later(let future): return future.flatMap(next).flatMapError { eventLoop.makeSucceededFuture(failed($0)) }
        }
    }

    /// The decision if it is in; else a future for it, on `eventLoop`.
    private func result(orPromiseOn eventLoop: any EventLoop) -> Outcome {
        state.withLock { state in
            if case .decided(let result) = state { return .now(result) }
            let promise = eventLoop.makePromise(of: Value.self)
            state = .promised(promise)
            return .later(promise.futureResult)
        }
    }
}
