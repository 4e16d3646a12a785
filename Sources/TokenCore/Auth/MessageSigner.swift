import HTTPTypes
import RawStructuredFieldValues

/// Signs a request with RFC 9421 `hmac-sha256`, as `tokend sign` and `tokend mint --url` do:
/// covers `@method`, `@target-uri` and, with a body, `content-digest`; parameters `created`,
/// `keyid`, `alg` and a random `nonce`.
public struct MessageSigner: Sendable {
    public let keyID: String
    let key: HMACKey

    public init(keyID: String, secret: String) {
        self.keyID = keyID
        self.key = HMACKey(utf8: secret)
    }

    /// The headers to add to `request`: `Content-Digest` (with a body), `Signature-Input`, `Signature`.
    public func sign(_ request: RequestParts, created: Int, nonce: String = Base64URL.encode(SecureRandom.bytes(16)),
                     label: String = "sig1") throws(AuthenticationFailure) -> [(name: String, value: String)] {
        var request = request
        var headers: [(name: String, value: String)] = []
        var names = ["@method", "@target-uri"]
        if !request.body.isEmpty {
            let digest = ContentDigest.header(for: request.body)
            // The only header field the signature covers: the others need not be carried.
            request.headers = HTTPFields([HTTPField(name: HTTPField.Name("content-digest")!, value: digest)])
            headers.append(("Content-Digest", digest))
            names.append("content-digest")
        }
        var list = BareInnerList()
        for name in names { list.append(Item(bareItem: RFC9651BareItem.string(name), parameters: OrderedMap<String, RFC9651BareItem>())) }
        var parameters = OrderedMap<String, RFC9651BareItem>()
        parameters["created"] = .integer(Int64(created))
        parameters["keyid"] = .string(keyID)
        parameters["alg"] = .string("hmac-sha256")
        parameters["nonce"] = .string(nonce)
        let innerList = InnerList(bareInnerList: list, parameters: parameters)
        var serializer = StructuredFieldValueSerializer()
        guard let input = try? serializer.writeListFieldValue([.innerList(innerList)]) else {
            throw MessageSignature.malformed("cannot serialize the signature parameters")
        }
        let base = try SignatureBase.build(componentNames: names, parametersLine: input, request: request)
        headers.append(("Signature-Input", "\(label)=" + String(decoding: input, as: UTF8.self)))
        headers.append(("Signature", "\(label)=:\(Base64.encode(key.authenticationCode(for: base).bytes)):"))
        return headers
    }
}
