/// What an audit record says was decided: one case per kind of event, each with the facts that
/// kind has and no others (a cut has its count, a denial the key id it claimed).
public enum AuditEvent: Sendable, Equatable {
    case tokenIssued(TokenIssued)
    /// Authentication failed (or a signed request was replayed): nobody is known to have asked.
    case authDenied(AuthenticationDenied)
    /// A request was refused before or after authentication (a bad body, a permission, a rate
    /// limit, a quota, a block).
    case requestRejected(RequestRejected)
    /// A token, a jti or an identity's tokens revoked before they expire.
    case tokenRevoked(TokenRevoked)
    case identityBlocked(IdentityBlocked)
    case identityUnblocked(IdentityUnblocked)
    /// Start-up cut a torn tail left by a crash: how much, and its hash.
    case auditRepaired(cutBytes: Int, cutSHA256: String)
    /// The instance's chain in the database ends before the head it committed or its heartbeat
    /// kept: `missing` records were lost or removed. The chain continues after this one.
    case auditCut(missing: Int)

    /// The `"event"` member.
    public var name: String {
        switch self {
        case .tokenIssued: "token.issued"
        case .authDenied: "auth.denied"
        case .requestRejected: "request.rejected"
        case .tokenRevoked: "token.revoked"
        case .identityBlocked: "identity.blocked"
        case .identityUnblocked: "identity.unblocked"
        case .auditRepaired: "audit.repaired"
        case .auditCut: "audit.cut"
        }
    }

    public struct TokenIssued: Sendable, Equatable {
        public let actor: AuditActor
        public let identity: String
        public let grants: [String]
        public let ttlRequested: Int?
        public let ttl: Int
        public let kid: String
        public let jti: String
        public let tokenSHA256: String
    }

    public struct AuthenticationDenied: Sendable, Equatable {
        /// The key id the request claimed. Only claimed — never verified — so it is not written
        /// as `caller`: a forged key id must not read as an authenticated caller.
        public let claimedKeyID: String?
        public let reason: String
        /// How many denials this record stands for, when coalesced (absent: one).
        public var count: Int?

        public init(claimedKeyID: String?, reason: String, count: Int? = nil) {
            self.claimedKeyID = claimedKeyID
            self.reason = reason
            self.count = count
        }
    }

    public struct RequestRejected: Sendable, Equatable {
        /// Who asked, once authenticated.
        public let actor: AuditActor?
        /// The identity asked for, when the body said one (and it is a valid identity).
        public let identity: String?
        public let ttlRequested: Int?
        public let status: Int
        /// The error code of the answer.
        public let reason: String
        /// How many refusals this record stands for, when coalesced (absent: one).
        public var count: Int?

        public init(actor: AuditActor?, identity: String?, ttlRequested: Int?, status: Int, reason: String, count: Int? = nil) {
            self.actor = actor
            self.identity = identity
            self.ttlRequested = ttlRequested
            self.status = status
            self.reason = reason
            self.count = count
        }
    }

    public struct TokenRevoked: Sendable, Equatable {
        public let actor: AuditActor
        /// By token: its SHA-256, and its jti and identity when it was valid; by jti: the jti; by
        /// identity: the identity and the cut-off.
        public var identity: String?
        public var jti: String?
        public var tokenSHA256: String?
        public var issuedBefore: Int?
        /// `not_a_valid_token` for a token that was not one (answered as revoked, RFC 7009).
        public var reason: String?

        public init(actor: AuditActor) {
            self.actor = actor
        }
    }

    public struct IdentityBlocked: Sendable, Equatable {
        public let actor: AuditActor
        public let identity: String
        /// When the block ends by itself; nil: until unblocked.
        public let until: Int?
        /// The operator's words.
        public let reason: String?

        public init(actor: AuditActor, identity: String, until: Int?, reason: String?) {
            self.actor = actor
            self.identity = identity
            self.until = until
            self.reason = reason
        }
    }

    public struct IdentityUnblocked: Sendable, Equatable {
        public let actor: AuditActor
        public let identity: String

        public init(actor: AuditActor, identity: String) {
            self.actor = actor
            self.identity = identity
        }
    }
}
