/// A caller of the HTTP API, from a `[[callers]]` entry of the secrets file.
public struct Caller: Sendable, CustomStringConvertible {
    public let id: String
    /// SHA-256 of the caller's API key; the key itself is never stored.
    public let apiKeySHA256: Digest?
    /// The RFC 9421 `hmac-sha256` key.
    public let hmacKey: HMACKey?
    public let grants: Set<String>
    public let maxTTL: Int?
    public let signingKeyID: String?
    /// Requests per second; nil means unlimited.
    public let rateLimit: Double?
    public let permissions: Set<Permission>
    /// Tokens this caller may mint per window, and per identity per window; nil means unbounded.
    public let quota: Quota?
    public let identityQuota: Quota?

    public init(id: String, apiKeySHA256: Digest? = nil, hmacKey: HMACKey? = nil, grants: Set<String>,
                maxTTL: Int? = nil, signingKeyID: String? = nil, rateLimit: Double? = nil,
                permissions: Set<Permission> = Permission.defaults, quota: Quota? = nil, identityQuota: Quota? = nil) {
        self.id = id
        self.apiKeySHA256 = apiKeySHA256
        self.hmacKey = hmacKey
        self.grants = grants
        self.maxTTL = maxTTL
        self.signingKeyID = signingKeyID
        self.rateLimit = rateLimit
        self.permissions = permissions
        self.quota = quota
        self.identityQuota = identityQuota
    }

    public func may(_ permission: Permission) -> Bool { permissions.contains(permission) }

    public var description: String { "Caller(\(id))" }
}

/// Everything the secrets file holds, validated (see `SecretsLoader`).
public struct Secrets: Sendable {
    public static let defaultIssuer = "tokend"

    public let issuer: String
    /// Keys the audit log's hash chain when set.
    public let auditKey: HMACKey?
    public let signingKeys: [SigningKey]
    public let callers: [Caller]
    /// The one key marked `active`: it signs tokens for callers that do not name a key.
    public let activeKey: SigningKey

    /// Checks the cross-entry rules the loader also reports (exactly one active key, unique ids,
    /// every caller's key exists); a `Secrets` value that exists is consistent.
    public init(issuer: String = defaultIssuer, auditKey: HMACKey? = nil,
                signingKeys: [SigningKey], callers: [Caller]) throws(SecretsError) {
        let active = signingKeys.filter(\.isActive)
        guard active.count == 1 else {
            throw SecretsError("signing_keys: exactly one key must have active = true (found \(active.count))")
        }
        if let duplicate = Self.firstDuplicate(signingKeys.map(\.kid)) {
            throw SecretsError("signing_keys: duplicate kid \"\(duplicate)\"")
        }
        if let duplicate = Self.firstDuplicate(callers.map(\.id)) {
            throw SecretsError("callers: duplicate id \"\(duplicate)\"")
        }
        if let duplicate = Self.firstDuplicate(callers.compactMap(\.apiKeySHA256?.hex)) {
            throw SecretsError("callers: two callers have the same api_key_sha256 (\(duplicate.prefix(12))…)")
        }
        for caller in callers {
            if let kid = caller.signingKeyID, !signingKeys.contains(where: { $0.kid == kid }) {
                throw SecretsError("callers (id \"\(caller.id)\"): signing_key \"\(kid)\" is not the kid of any signing key")
            }
        }
        self.issuer = issuer
        self.auditKey = auditKey
        self.signingKeys = signingKeys
        self.callers = callers
        self.activeKey = active[0]
    }

    public func signingKey(kid: String) -> SigningKey? {
        signingKeys.first { $0.kid == kid }
    }

    public func signingKey(for caller: Caller) -> SigningKey {
        caller.signingKeyID.flatMap { signingKey(kid: $0) } ?? activeKey
    }

    public func caller(id: String) -> Caller? {
        callers.first { $0.id == id }
    }

    private static func firstDuplicate(_ values: [String]) -> String? {
        var seen = Set<String>()
        return values.first { !seen.insert($0).inserted }
    }
}

/// A secrets file that cannot be used, with a message that names the entry and the field.
public struct SecretsError: Error, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
