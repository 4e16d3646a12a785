import NIOCore
import Synchronization

/// Carries a decision from a completion handler to the code that asked for it, without a promise
/// when the decision was made on the spot (the in-memory state, on every request): a promise, and
/// the future callbacks chained on it, only when the answer comes later from another thread.
final class AdmissionHandoff<Value: Sendable>: Sendable {
    enum Outcome {
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

    /// The decision if it is in; else a future for it, on `eventLoop`.
    func result(orPromiseOn eventLoop: any EventLoop) -> Outcome {
        state.withLock { state in
            if case .decided(let result) = state { return .now(result) }
            let promise = eventLoop.makePromise(of: Value.self)
            state = .promised(promise)
            return .later(promise.futureResult)
        }
    }
}
