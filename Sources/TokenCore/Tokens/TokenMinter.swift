/// Builds a token's claims for a key's profile and signs them. No policy here: the identity,
/// grants and TTL arrive already checked and clamped (see `TokenIssuer`).
public enum TokenMinter {
    public struct Minted: Sendable {
        public let token: String
        public let jti: String
    }

    /// - Parameter clientID: the caller that asked for the token: a generic token carries it as
    ///   RFC 9068's `client_id`, so any replica can tell whose token it is (introspection,
    ///   revocation by the minting caller). Twilio's layout has no such claim.
    public static func mint(identity: String, grants: JSONObject, ttl: Int, now: Int,
                            key: SigningKey, issuer: String, clientID: String? = nil) -> Minted {
        var writer = JSONWriter(capacity: 320)
        let jti: String
        switch key.profile {
        case .generic:
            jti = SecureRandom.identifier()  // 128 random bits: a jti names exactly one token
            writer.raw("{\"iss\":"); writer.string(issuer)
            writer.raw(",\"sub\":"); writer.string(identity)
            writer.raw(",\"iat\":"); writer.integer(now)
            writer.raw(",\"nbf\":"); writer.integer(now)
            writer.raw(",\"exp\":"); writer.integer(now + ttl)
            writer.raw(",\"jti\":"); writer.string(jti)
            if let clientID { writer.raw(",\"client_id\":"); writer.string(clientID) }
        case .twilio(let accountSID, _):
            // twilio-python's AccessToken: jti is "<API key SID>-<issued at>", no iat.
            jti = "\(key.kid)-\(now)"
            writer.raw("{\"jti\":"); writer.string(jti)
            writer.raw(",\"iss\":"); writer.string(key.kid)
            writer.raw(",\"sub\":"); writer.string(accountSID)
            writer.raw(",\"nbf\":"); writer.integer(now)
            writer.raw(",\"exp\":"); writer.integer(now + ttl)
        }
        writer.raw(",\"grants\":{\"identity\":"); writer.string(identity)
        for grant in grants {
            writer.append(byte: UInt8(ascii: ","))
            writer.key(grant.key)
            writer.value(grant.value)
        }
        writer.raw("}}")
        let token = writer.withBytes { JWS.sign(encodedHeader: key.encodedHeader, payload: $0, key: key.hmacKey) }
        return Minted(token: token, jti: jti)
    }
}
