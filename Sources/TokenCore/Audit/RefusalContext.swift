/// What is known of a request that may yet be refused — where it came from and, as it is read,
/// who asked and for whom — so that a refusal at any step records what was known by then.
public struct RefusalContext: Sendable {
    public let requestID: String
    public let remote: String?
    /// Set once authenticated.
    public var actor: AuditActor?
    /// Set once the body is read.
    public var identity: String?
    public var ttlRequested: Int?

    public init(requestID: String, remote: String?) {
        self.requestID = requestID
        self.remote = remote
    }

    /// The refusal answered `status` with error code `reason`. An identity that is not a valid
    /// one (possibly forged to look like a log line) is left out.
    public func rejected(status: Int, reason: String) -> AuditRecord {
        let valid = identity.flatMap { (try? IdentityRule.validate($0)) != nil ? $0 : nil }
        return AuditRecord(requestID: requestID, remote: remote, event: .requestRejected(.init(
            actor: actor, identity: valid, ttlRequested: ttlRequested, status: status, reason: reason)))
    }

    /// Authentication failed, or a signed request was replayed: recorded as from nobody known.
    public func denied(_ failure: AuthenticationFailure) -> AuditRecord {
        AuditRecord(requestID: requestID, remote: remote, event: .authDenied(.init(claimedKeyID: failure.claimedKeyID, reason: failure.reason.rawValue)))
    }
}

extension AuditRecord {
    /// For a refusal: who asked (when authenticated), its reason and its status; nil for any
    /// other record.
    public var refusal: (actor: AuditActor?, reason: String, status: Int)? {
        switch event {
        case .authDenied(let denied): (nil, denied.reason, 401)
        case .requestRejected(let rejected): (rejected.actor, rejected.reason, rejected.status)
        default: nil
        }
    }

    /// The same refusal, standing for `count` of its kind (a coalesced summary).
    func counting(_ count: Int) -> AuditRecord {
        var record = self
        switch event {
        case .authDenied(var denied): denied.count = count; record.event = .authDenied(denied)
        case .requestRejected(var rejected): rejected.count = count; record.event = .requestRejected(rejected)
        default: break
        }
        return record
    }
}
