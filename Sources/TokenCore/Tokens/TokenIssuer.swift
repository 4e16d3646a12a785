/// The token policy in one place: validate the identity and grants, pick the key, clamp the TTL,
/// mint. The HTTP handler and the offline CLI both come through here.
public struct TokenIssuer: Sendable {
    public let secrets: Secrets

    public init(secrets: Secrets) {
        self.secrets = secrets
    }

    /// Who a token is issued for, as far as policy goes.
    public enum Requester: Sendable {
        /// An authenticated caller from the secrets file: its grant list, `max_ttl` and key apply.
        case caller(Caller)
        /// The operator, with the secrets file in hand (`tokend mint --secrets`): any grant, any key.
        case `operator`(keyID: String?)
    }

    public func issue(_ request: TokenRequest, for requester: Requester, now: Int) throws(TokenRequestError) -> IssuedToken {
        try IdentityRule.validate(request.identity)
        let key: SigningKey
        let allowedGrants: Set<String>?
        let callerMaximum: Int?
        var clientID: String?
        switch requester {
        case .caller(let caller):
            key = secrets.signingKey(for: caller)
            clientID = caller.id
            allowedGrants = caller.grants
            callerMaximum = caller.maxTTL
        case .operator(let keyID):
            if let keyID {
                guard let chosen = secrets.signingKey(kid: keyID) else {
                    throw TokenRequestError(.invalidRequest, "no signing key with kid '\(keyID)' in the secrets file")
                }
                key = chosen
            } else {
                key = secrets.activeKey
            }
            allowedGrants = nil
            callerMaximum = nil
        }
        let isTwilio = if case .twilio = key.profile { true } else { false }
        let grants = try GrantRules.validate(request.grants, allowed: allowedGrants, twilioProfile: isTwilio)
        if isTwilio, grants["voice"] != nil { try TwilioGrants.validateVoiceIdentity(request.identity) }
        let decision = TTLPolicy.clamp(request.ttl, callerMaximum: callerMaximum)
        let minted = TokenMinter.mint(identity: request.identity, grants: grants, ttl: decision.ttl,
                                      now: now, key: key, issuer: secrets.issuer, clientID: clientID)
        return IssuedToken(token: minted.token, identity: request.identity, ttl: decision.ttl,
                           requestedTTL: request.ttl, issuedAt: now, jti: minted.jti, kid: key.kid,
                           grantNames: grants.keys, warnings: decision.warning.map { [$0] } ?? [])
    }
}
