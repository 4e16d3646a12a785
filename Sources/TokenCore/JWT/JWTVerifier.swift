/// Verifies tokens signed by the keys of a secrets file: HS256 only, a known key, a matching
/// signature (constant-time), the issuer the file names (a Twilio token's, its key's SID), and
/// `exp`/`nbf` within a small leeway for clock drift.
public struct JWTVerifier: Sendable {
    public let keys: [SigningKey]
    public let leeway: Int
    /// The `iss` a generic-profile token must carry (the secrets file's `issuer`); nil when only
    /// a key is known (`verify --secret`), which cannot say whose tokens it signs.
    public let issuer: String?

    public static let defaultLeeway = 30
    /// The longest lifetime a token may have: the TTL clamp's maximum.
    public static let maximumLifetime = TTLPolicy.maximum

    public init(keys: [SigningKey], issuer: String?, leeway: Int = defaultLeeway) {
        self.keys = keys
        self.issuer = issuer
        self.leeway = leeway
    }

    /// The keys and the issuer of a secrets file.
    public init(secrets: Secrets, leeway: Int = defaultLeeway) {
        self.init(keys: secrets.signingKeys, issuer: secrets.issuer, leeway: leeway)
    }

    public func verify(_ token: String, now: Int) throws(JWTError) -> DecodedJWT {
        let decoded = try DecodedJWT(token)
        // The algorithm is fixed by the key, never chosen by the token: `none`, RS256 (with the
        // secret misread as a public key) and friends are refused before anything else.
        guard let alg = decoded.header["alg"]?.stringValue else { throw .malformed("the header has no alg") }
        guard alg == "HS256" else { throw .unsupportedAlgorithm(alg) }
        let key = try selectKey(decoded)
        guard key.hmacKey.isValidAuthenticationCode(decoded.signature, for: decoded.signingInput) else {
            throw .badSignature
        }
        // RFC 7515 §4.1.11: extensions listed in `crit` must be understood; tokend understands none.
        if decoded.header["crit"] != nil { throw .malformed("the header lists crit extensions, which tokend does not implement") }
        guard let exp = try integerClaim(decoded, "exp") else { throw .invalidClaim("exp is required") }
        // Compared without adding to the claims: a signed token may carry any integer, and a
        // sum that overflows would trap.
        if exp < now - leeway { throw .expired(exp: exp, now: now) }
        let nbf = try integerClaim(decoded, "nbf")
        if let nbf, now + leeway < nbf {
            throw .notYetValid(nbf: nbf, now: now)
        }
        let iat = try integerClaim(decoded, "iat")
        if let iat, iat > now + leeway {
            throw .invalidClaim("iat is \(iat - now) s in the future")
        }
        // tokend never issues for longer than 24 h: a longer lifetime is not one of its tokens.
        if let start = iat ?? nbf, case let (lifetime, overflow) = exp.subtractingReportingOverflow(start), overflow || lifetime > Self.maximumLifetime {
            throw .invalidClaim("the token lives \(overflow ? "longer than any" : "\(lifetime) s"); tokend issues at most \(Self.maximumLifetime)")
        }
        try checkIssuer(decoded, key)
        return decoded
    }

    /// The key is named by `kid` (generic profile) or, for a Twilio token, which has no `kid`, by
    /// its `iss` (the API key SID). Either way the signature check that follows decides.
    private func selectKey(_ decoded: DecodedJWT) throws(JWTError) -> SigningKey {
        if let kidValue = decoded.header["kid"] {
            guard let kid = kidValue.stringValue else { throw .malformed("kid is not a string") }
            guard let key = keys.first(where: { $0.kid == kid }) else { throw .unknownKey("no key with kid \"\(kid)\"") }
            return key
        }
        if decoded.header["cty"]?.stringValue == "twilio-fpa;v=1", let issuer = decoded.payload["iss"]?.stringValue {
            let twilioKeys = keys.filter { if case .twilio = $0.profile { true } else { false } }
            guard let key = twilioKeys.first(where: { $0.kid == issuer }) else {
                throw .unknownKey("no Twilio key with SID \"\(issuer)\"")
            }
            return key
        }
        throw .unknownKey("the header has no kid")
    }

    /// A signature from a key proves who signed, not for whom: a token whose `iss` is not the
    /// file's issuer (or, for Twilio, the key's SID) was not minted by this configuration.
    private func checkIssuer(_ decoded: DecodedJWT, _ key: SigningKey) throws(JWTError) {
        let iss = decoded.payload["iss"]?.stringValue
        switch key.profile {
        case .generic:
            if let issuer, iss != issuer { throw .invalidClaim("iss is not this secrets file's issuer \"\(issuer)\"") }
        case .twilio:
            if iss != key.kid { throw .invalidClaim("iss is not the signing key's SID \"\(key.kid)\"") }
        }
    }

    private func integerClaim(_ decoded: DecodedJWT, _ name: String) throws(JWTError) -> Int? {
        guard let value = decoded.payload[name] else { return nil }
        guard let integer = value.integerValue else { throw .invalidClaim("\(name) is not an integer") }
        return integer
    }
}
