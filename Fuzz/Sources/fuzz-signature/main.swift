import FuzzSupport
import HTTPTypes
import TokenCore

/// `Signature-Input`, `Signature` and `Content-Digest` (three lines of the input) through the
/// parsers, the signature base and the whole authenticator. Properties: the one-pass parser,
/// when it answers, agrees with the generic RFC 8941 parser; nothing traps.
let secrets = try! SecretsLoader.parse(toml: """
    [[signing_keys]]
    kid = "k1"
    secret = "fuzz-signing-secret-0123456789abcdef-0123456789abcdef"
    active = true

    [[callers]]
    id = "web"
    hmac_secret = "fuzz-hmac-secret-0123456789abcdef-0123456789abcdef"
    grants = ["chat"]
    """)
let authenticator = CallerAuthenticator(secrets: secrets)
let body = Array(#"{"identity":"alice"}"#.utf8)

runFuzzer { bytes in
    let parts = fields(bytes, count: 3)
    let (input, signature, digest) = (parts[0], parts[1], parts[2])
    if let fast = SignatureFieldsParser.parse(signatureInput: input, signature: signature) {
        guard let generic = try? MessageSignature.parseGenerically(signatureInput: input, signature: signature) else {
            fatalError("the one-pass parser took what the generic parser refuses: \(input.debugDescription) / \(signature.debugDescription)")
        }
        guard fast.label == generic.label, fast.componentNames == generic.componentNames,
              fast.parametersLine == generic.parametersLine, fast.signature == generic.signature,
              fast.created == generic.created, fast.expires == generic.expires, fast.keyID == generic.keyID,
              fast.nonce == generic.nonce, fast.algorithm == generic.algorithm, fast.tag == generic.tag else {
            fatalError("the parsers disagree on \(input.debugDescription) / \(signature.debugDescription)")
        }
    }
    _ = ContentDigest.verify(header: digest, body: body)
    var headers = HTTPFields()
    headers[HTTPField.Name("signature-input")!] = input
    headers[HTTPField.Name("signature")!] = signature
    headers[HTTPField.Name("content-digest")!] = digest
    let request = RequestParts(method: "POST", scheme: "http", authority: "127.0.0.1:8080", path: "/v1/tokens", query: nil,
                               headers: headers, body: body)
    if let parsed = try? MessageSignature.parse(signatureInput: input, signature: signature) {
        _ = try? SignatureBase.build(parsed, request: request)
    }
    _ = try? authenticator.authenticate(request, now: 1_800_000_000)
}
