/// What a resource server learns about a token (RFC 7662), and whose token it is. Everything here
/// is answered from the secrets file and memory: no disk, no database. A class: made once per
/// secrets file and used by every introspection and revocation, by reference.
public final class TokenIntrospector: Sendable {
    /// A token that verified: the facts revocation and introspection need.
    public struct Facts: Sendable {
        public let payload: JSONObject
        public let jti: String
        public let identity: String
        public let issuedAt: Int
        public let expires: Int
        public let kid: String
        /// The minting caller, for a generic token; nil for Twilio's layout.
        public let clientID: String?
    }

    let secrets: Secrets
    private let verifier: JWTVerifier

    /// `leeway` 0 for introspection (active means valid now); the verifier's default for revocation,
    /// which should reach every token some verifier may still accept.
    public init(secrets: Secrets, leeway: Int) {
        self.secrets = secrets
        verifier = JWTVerifier(secrets: secrets, leeway: leeway)
    }

    /// The token's facts when it verifies with a key of the secrets file; nil for anything else.
    public func facts(of token: String, now: Int) -> Facts? {
        guard let decoded = try? verifier.verify(token, now: now),
              let jti = decoded.payload["jti"]?.stringValue,
              let identity = decoded.payload["grants"]?.objectValue?["identity"]?.stringValue,
              let expires = decoded.payload["exp"]?.integerValue,
              let issuedAt = (decoded.payload["iat"] ?? decoded.payload["nbf"])?.integerValue,
              let kid = decoded.header["kid"]?.stringValue ?? decoded.payload["iss"]?.stringValue else { return nil }
        return Facts(payload: decoded.payload, jti: jti, identity: identity, issuedAt: issuedAt, expires: expires,
                     kid: kid, clientID: decoded.payload["client_id"]?.stringValue)
    }

    /// Whether caller `callerID` minted the token: a generic token names it (`client_id`); a
    /// Twilio token, which cannot, belongs to every caller whose tokens its key signs.
    public func isMinted(_ facts: Facts, by callerID: String) -> Bool {
        if let clientID = facts.clientID { return clientID == callerID }
        guard let caller = secrets.caller(id: callerID) else { return false }
        return secrets.signingKey(for: caller).kid == facts.kid
    }

    /// The caller named as `client_id` in an introspection answer: the token's own claim, or for
    /// a Twilio token the one caller whose tokens its key signs (none when several share it).
    public func mintingCaller(_ facts: Facts) -> String? {
        if let clientID = facts.clientID { return clientID }
        let candidates = secrets.callers.filter { secrets.signingKey(for: $0).kid == facts.kid }
        return candidates.count == 1 ? candidates[0].id : nil
    }

    public static let inactive: [UInt8] = Array(#"{"active":false}"#.utf8)

    /// `{"active": true, …}`: the claims, the minting caller and the token type.
    public func activeJSON(_ facts: Facts) -> [UInt8] {
        var writer = JSONWriter(capacity: 384)
        writer.raw("{\"active\":true")
        if let sub = facts.payload["sub"] { writer.raw(",\"sub\":"); writer.value(sub) }
        if let iss = facts.payload["iss"] { writer.raw(",\"iss\":"); writer.value(iss) }
        writer.raw(",\"iat\":"); writer.integer(facts.issuedAt)
        if let nbf = facts.payload["nbf"] { writer.raw(",\"nbf\":"); writer.value(nbf) }
        writer.raw(",\"exp\":"); writer.integer(facts.expires)
        writer.raw(",\"jti\":"); writer.string(facts.jti)
        writer.raw(",\"kid\":"); writer.string(facts.kid)
        if let client = mintingCaller(facts) { writer.raw(",\"client_id\":"); writer.string(client) }
        writer.raw(",\"token_type\":\"access_token\"")
        if let grants = facts.payload["grants"] { writer.raw(",\"grants\":"); writer.value(grants) }
        writer.raw("}")
        return writer.bytes
    }
}
