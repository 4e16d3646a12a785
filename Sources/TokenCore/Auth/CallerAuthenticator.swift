/// Decides who is calling: an API key (`Authorization: Bearer`) or an RFC 9421 `hmac-sha256`
/// signature, with tokend's policy (required coverage, `created` within the skew window,
/// `expires`, `alg`, Content-Digest). A verified signature comes back with its `ReplayClaim`: the
/// caller records it in the replay ledger after the rate limit, so nothing is recorded for a
/// request that is refused.
public struct CallerAuthenticator: Sendable {
    public static let defaultMaximumSkew = 300

    private let apiKeys: APIKeyAuthenticator
    private let hmacKeys: [String: (caller: Caller, key: HMACKey)]
    public let maximumSkew: Int
    /// Stands in for the key of an unknown key id, so that an unknown id costs the same HMAC as
    /// a known one and the answer is the same "invalid credentials".
    private let decoyKey = HMACKey(bytes: SecureRandom.bytes(32))

    public init(secrets: Secrets, maximumSkew: Int = defaultMaximumSkew) {
        apiKeys = APIKeyAuthenticator(callers: secrets.callers)
        var hmacKeys: [String: (Caller, HMACKey)] = [:]
        for caller in secrets.callers {
            if let key = caller.hmacKey { hmacKeys[caller.id] = (caller, key) }
        }
        self.hmacKeys = hmacKeys
        self.maximumSkew = maximumSkew
    }

    public func authenticate(_ request: RequestParts, now: Int) throws(AuthenticationFailure) -> AuthenticatedCaller {
        if let authorization = request.headers.first(named: "authorization") {
            return try authenticateAPIKey(authorization)
        }
        if let input = request.headers.first(named: "signature-input") {
            guard let signature = request.headers.first(named: "signature") else {
                throw AuthenticationFailure(.malformed, "Signature-Input was sent without a Signature header")
            }
            return try authenticateSignature(input: input, signature: signature, request: request, now: now)
        }
        throw AuthenticationFailure(.missing, "authentication required: send Authorization: Bearer <api key>, or sign the request (RFC 9421, hmac-sha256)")
    }

    private func authenticateAPIKey(_ authorization: String) throws(AuthenticationFailure) -> AuthenticatedCaller {
        // `Bearer <key>`, the scheme in any case, read from the UTF-8 bytes: no array of parts,
        // no lower-cased copy, on every request.
        let utf8 = authorization.utf8
        let space = UInt8(ascii: " ")
        let start = utf8.firstIndex { $0 != space } ?? utf8.endIndex
        guard let end = utf8[start...].firstIndex(of: space), Self.isBearer(utf8[start..<end]),
              utf8[utf8.index(after: end)...].contains(where: { $0 != space }) else {
            throw AuthenticationFailure(.malformed, "Authorization must be 'Bearer <api key>'")
        }
        guard let caller = apiKeys.authenticate(apiKey: authorization[utf8.index(after: end)...].drop(while: { $0 == " " })) else {
            throw AuthenticationFailure(.invalid, AuthenticationFailure.invalidCredentials)
        }
        return AuthenticatedCaller(caller: caller, method: .apiKey, replayClaim: nil)
    }

    /// `bearer` in any case (ASCII letters: setting bit 5 lower-cases them, and no other byte
    /// becomes one of them).
    private static func isBearer(_ scheme: Substring.UTF8View) -> Bool {
        scheme.count == 6 && zip(scheme, "bearer".utf8).allSatisfy { $0 | 0x20 == $1 }
    }

    private func authenticateSignature(input: String, signature: String, request: RequestParts, now: Int) throws(AuthenticationFailure) -> AuthenticatedCaller {
        let parsed = try MessageSignature.parse(signatureInput: input, signature: signature)
        let keyID = parsed.keyID
        func fail(_ reason: AuthenticationFailure.Reason, _ message: String) -> AuthenticationFailure {
            AuthenticationFailure(reason, message, claimedKeyID: keyID.map { String($0.prefix(128)) })
        }
        guard let keyID, !keyID.isEmpty else { throw fail(.malformed, "the signature has no keyid parameter") }
        if let algorithm = parsed.algorithm, algorithm != "hmac-sha256" {
            throw fail(.unsupported, "alg \"\(algorithm.prefix(40))\" is not supported; use hmac-sha256")
        }
        guard let created = parsed.created else { throw fail(.malformed, "the signature has no created parameter") }
        // Total arithmetic: `created` and `expires` come from the request (RFC 8941 bounds them to
        // 15 digits, but nothing here relies on that).
        let (skew, overflow) = now.subtractingReportingOverflow(created)
        if overflow || skew.magnitude > UInt(maximumSkew) {
            let distance = overflow ? "far" : "\(skew.magnitude) s"
            throw fail(.clockSkew, "signature created \(distance) \(created < now ? "ago" : "in the future"); the server allows ±\(maximumSkew) s (check the client's clock)")
        }
        if let expires = parsed.expires, now > expires {
            throw fail(.expired, "signature expired \(now.subtractingReportingOverflow(expires).overflow ? "long" : "\(now - expires) s") ago")
        }
        let names = Set(parsed.componentNames)
        let coversTarget = names.contains("@target-uri") || (names.contains("@authority") && names.contains("@path"))
        if !names.contains("@method") || !coversTarget {
            throw fail(.coverage, "the signature must cover \"@method\" and \"@target-uri\" (or \"@authority\" and \"@path\")")
        }
        if !request.body.isEmpty {
            guard names.contains("content-digest") else {
                throw fail(.coverage, "a request with a body must send Content-Digest and cover \"content-digest\"")
            }
            guard let digest = request.headers.first(named: "content-digest") else {
                throw fail(.digest, "covered Content-Digest header is missing")
            }
            switch ContentDigest.verify(header: digest, body: request.body) {
            case .matches: break
            case .mismatch: throw fail(.digest, "Content-Digest does not match the body")
            case .unusable(let why): throw fail(.digest, why)
            }
        }
        let known = hmacKeys[keyID]
        let key = known?.key ?? decoyKey
        var valid = key.isValidAuthenticationCode(parsed.signature, for: try SignatureBase.build(parsed, request: request))
        // Signed for the other scheme the listener is reached by (see `RequestParts.alternateScheme`)?
        // Tried for unknown key ids too, so that the second HMAC tells nothing about which exist.
        if !valid, let other = request.alternateScheme, names.contains("@target-uri") || names.contains("@scheme") || names.contains("@authority") {
            var alternate = request
            alternate.scheme = other
            alternate.alternateScheme = nil
            valid = key.isValidAuthenticationCode(parsed.signature, for: try SignatureBase.build(parsed, request: alternate))
        }
        guard valid, let known else { throw fail(.invalid, AuthenticationFailure.invalidCredentials) }
        // The nonce names the request when there is one (a resent request carries it too);
        // otherwise the signature value does.
        let identity = parsed.nonce.map { Array("nonce\u{0}\(keyID)\u{0}\($0)".utf8) } ?? Array("signature\u{0}".utf8) + parsed.signature
        // Past created + skew the skew check refuses the signature anyway, so an entry never
        // needs to outlive that, whatever `expires` a client chose.
        let expiry = min(created + maximumSkew, parsed.expires ?? Int.max - 1) + 1
        let claim = ReplayClaim(callerID: known.caller.id, key: SHA256.hash(identity).bytes, expiry: expiry)
        return AuthenticatedCaller(caller: known.caller, method: .hmac, replayClaim: claim)
    }
}
