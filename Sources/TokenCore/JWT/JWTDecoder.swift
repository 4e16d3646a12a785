/// A JWT split into its parts and decoded, with nothing verified yet.
public struct DecodedJWT: Sendable {
    public let header: JSONObject
    public let payload: JSONObject
    /// `header.payload`, the bytes the signature covers.
    let signingInput: ArraySlice<UInt8>
    let signature: [UInt8]

    /// Tokens longer than this are refused before any decoding work.
    public static let maximumLength = 16 * 1024

    public init(_ token: String) throws(JWTError) {
        let bytes = Array(token.utf8)
        guard bytes.count <= Self.maximumLength else { throw .malformed("token is longer than \(Self.maximumLength) bytes") }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("a JWT has three dot-separated parts, this has \(parts.count)") }
        guard let headerBytes = Base64URL.decode(bytes: parts[0]),
              let payloadBytes = Base64URL.decode(bytes: parts[1]),
              let signature = Base64URL.decode(bytes: parts[2]) else {
            throw .malformed("a part is not base64url")
        }
        guard case .object(let header)? = try? JSONParser.parse(headerBytes) else {
            throw .malformed("the header is not a JSON object")
        }
        guard case .object(let payload)? = try? JSONParser.parse(payloadBytes) else {
            throw .malformed("the payload is not a JSON object")
        }
        self.header = header
        self.payload = payload
        self.signingInput = bytes[..<(parts[0].count + 1 + parts[1].count)]
        self.signature = signature
    }
}

public enum JWTError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case unsupportedAlgorithm(String)
    case unknownKey(String)
    case badSignature
    case expired(exp: Int, now: Int)
    case notYetValid(nbf: Int, now: Int)
    case invalidClaim(String)

    public var description: String {
        switch self {
        case .malformed(let why): "malformed token: \(why)"
        case .unsupportedAlgorithm(let alg): "algorithm \"\(alg)\" is not accepted (only HS256)"
        case .unknownKey(let why): "unknown signing key: \(why)"
        case .badSignature: "signature does not match"
        case .expired(let exp, let now): "token expired at \(Timestamp.rfc3339(unixSeconds: exp)) (\(now - exp) s ago)"
        case .notYetValid(let nbf, let now): "token is not valid before \(Timestamp.rfc3339(unixSeconds: nbf)) (in \(nbf - now) s)"
        case .invalidClaim(let why): "invalid claim: \(why)"
        }
    }
}
