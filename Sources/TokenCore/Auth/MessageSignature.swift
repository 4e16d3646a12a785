import RawStructuredFieldValues

/// One RFC 9421 signature taken from the `Signature-Input` and `Signature` dictionaries.
public struct MessageSignature: Sendable {
    public let label: String
    /// The covered components, in the order the client listed them: the base is rebuilt in
    /// exactly this order.
    public let componentNames: [String]
    /// The inner list with its parameters, serialized (RFC 8941 §4.1): the `@signature-params` value.
    public internal(set) var parametersLine: [UInt8]
    public var signature: [UInt8]

    public internal(set) var keyID: String?
    public internal(set) var nonce: String?
    public internal(set) var algorithm: String?
    public internal(set) var tag: String?
    public internal(set) var created: Int?
    public internal(set) var expires: Int?

    /// The parameters whose type RFC 9421 fixes: integers (`created`, `expires`) or strings.
    static let typedParameters: Set<String> = ["created", "expires", "keyid", "nonce", "alg", "tag"]

    init(label: String, componentNames: [String], parametersLine: [UInt8], signature: [UInt8]) {
        self.label = label
        self.componentNames = componentNames
        self.parametersLine = parametersLine
        self.signature = signature
    }

    func with(signature: [UInt8]) -> MessageSignature {
        var copy = self
        copy.signature = signature
        return copy
    }

    /// Parses the two headers and returns the first signature present in both, in
    /// `Signature-Input` order. Errors are `malformed` failures with a message that names the
    /// header and what is wrong with it.
    public static func parse(signatureInput: String, signature: String) throws(AuthenticationFailure) -> MessageSignature {
        if let parsed = SignatureFieldsParser.parse(signatureInput: signatureInput, signature: signature) { return parsed }
        return try parseGenerically(signatureInput: signatureInput, signature: signature)
    }

    /// Any shape RFC 8941 allows, through swift-http-structured-headers; the errors name what is wrong.
    public static func parseGenerically(signatureInput: String, signature: String) throws(AuthenticationFailure) -> MessageSignature {
        let inputs = try dictionary(signatureInput, header: "Signature-Input")
        let signatures = try dictionary(signature, header: "Signature")
        for (label, member) in inputs {
            guard let signatureMember = signatures[label] else { continue }
            guard case .innerList(let list) = member else {
                throw malformed("Signature-Input \(label) must be an inner list of components")
            }
            guard case .item(let item) = signatureMember, case .undecodedByteSequence(let encoded) = item.rfc9651BareItem,
                  let bytes = Base64.decode(encoded) else {
                throw malformed("Signature \(label) must be a byte sequence (:base64:)")
            }
            var names: [String] = []
            var seen = Set<String>()
            for component in list.bareInnerList {
                guard case .string(let name) = component.rfc9651BareItem else {
                    throw malformed("Signature-Input \(label): component identifiers must be strings")
                }
                let key = "\(name)|\(component.rfc9651Parameters.map { $0.0 }.joined(separator: ";"))"
                guard seen.insert(key).inserted else {
                    throw malformed("Signature-Input \(label) lists \"\(name)\" twice")
                }
                if let parameter = component.rfc9651Parameters.first {
                    throw AuthenticationFailure(.unsupported, "component parameter ;\(parameter.0) on \"\(name)\" is not supported")
                }
                names.append(name)
            }
            var serializer = StructuredFieldValueSerializer()
            guard let line = try? serializer.writeListFieldValue([.innerList(list)]) else {
                throw malformed("the signature parameters cannot be serialized")
            }
            var parsed = MessageSignature(label: label, componentNames: names, parametersLine: line, signature: bytes)
            try parsed.readParameters(list.rfc9651Parameters)
            return parsed
        }
        throw malformed("Signature-Input and Signature share no label")
    }

    private mutating func readParameters(_ parameters: OrderedMap<String, RFC9651BareItem>) throws(AuthenticationFailure) {
        for (name, value) in parameters {
            switch (name, value) {
            case ("created", .integer(let number)): created = Int(exactly: number)
            case ("expires", .integer(let number)): expires = Int(exactly: number)
            case ("keyid", .string(let text)): keyID = text
            case ("nonce", .string(let text)): nonce = text
            case ("alg", .string(let text)): algorithm = text
            case ("tag", .string(let text)): tag = text
            case ("created", _), ("expires", _):
                throw Self.malformed("Signature-Input parameter \(name) must be an integer")
            case ("keyid", _), ("nonce", _), ("alg", _), ("tag", _):
                throw Self.malformed("Signature-Input parameter \(name) must be a string")
            default:
                continue  // RFC 9421 §2.3: unknown parameters are covered by the signature, nothing more
            }
        }
    }

    private static func dictionary(_ value: String, header: String) throws(AuthenticationFailure) -> OrderedMap<String, ItemOrInnerList> {
        do {
            var parser = StructuredFieldValueParser(Array(value.utf8))
            return try parser.parseDictionaryFieldValue()
        } catch {
            throw malformed("\(header) is not a valid structured-field dictionary (RFC 8941)")
        }
    }

    static func malformed(_ message: String) -> AuthenticationFailure {
        AuthenticationFailure(.malformed, message)
    }
}
