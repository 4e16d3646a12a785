import FuzzSupport
import TokenCore

/// Tokens: any text through the decoder and the verifier (nothing traps; what verifies,
/// verifies again), and any identity and TTL through the minter (what is minted verifies, with
/// the identity as its subject).
let secrets = try! SecretsLoader.parse(toml: """
    [[signing_keys]]
    kid = "k1"
    secret = "fuzz-signing-secret-0123456789abcdef-0123456789abcdef"
    active = true
    """)
let verifier = JWTVerifier(secrets: secrets)
let issuer = TokenIssuer(secrets: secrets)
let now = 1_800_000_000

runFuzzer { bytes in
    let parts = fields(bytes, count: 2)
    let token = parts[0]
    _ = try? DecodedJWT(token)
    if (try? verifier.verify(token, now: now)) != nil, (try? verifier.verify(token, now: now)) == nil {
        fatalError("a token verified once and not twice")
    }
    let ttl = bytes.count >= 8 ? bytes.suffix(8).reduce(0) { $0 << 8 | Int($1) } : nil
    guard let issued = try? issuer.issue(TokenRequest(identity: parts[1], ttl: ttl), for: .operator(keyID: nil), now: now) else { return }
    guard let decoded = try? verifier.verify(issued.token, now: now) else { fatalError("a minted token does not verify: \(issued.token)") }
    guard decoded.payload["sub"]?.stringValue == parts[1] else { fatalError("the subject changed: \(parts[1].debugDescription)") }
    guard (1800...86400).contains(issued.ttl) else { fatalError("ttl \(issued.ttl) outside the clamp") }
}
