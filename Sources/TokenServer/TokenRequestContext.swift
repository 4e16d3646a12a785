import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The per-request context: Hummingbird's core storage plus the remote address, the request id
/// and what the handler learnt (the caller) for the access log.
public struct TokenRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String?
    public var requestID: String = ""
    let notes = RequestNotes()

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The body limit is enforced by the token endpoint itself, to answer with JSON.
    public var maxUploadSize: Int { ServerSettings.maximumBodySize }
}

/// Facts the handler passes back up to the access-log middleware.
final class RequestNotes: Sendable {
    private let callerID = Mutex<String?>(nil)

    var caller: String? {
        get { callerID.withLock { $0 } }
        set { callerID.withLock { $0 = newValue } }
    }
}
