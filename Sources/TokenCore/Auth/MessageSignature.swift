import RawStructuredFieldValues

/// One RFC 9421 signature taken from the `Signature-Input` and `Signature` dictionaries.
public struct MessageSignature: Sendable {
    public let label: String
    /// The covered components, in the order the client listed them: the base is rebuilt in
    /// exactly this order.
    public let components: [Item]
    /// The inner list with its parameters: serialized, it is the `@signature-params` line.
    let signatureParameters: InnerList
    public let signature: [UInt8]

    public var keyID: String? { stringParameter("keyid") }
    public var nonce: String? { stringParameter("nonce") }
    public var algorithm: String? { stringParameter("alg") }
    public var tag: String? { stringParameter("tag") }
    public var created: Int? { integerParameter("created") }
    public var expires: Int? { integerParameter("expires") }

    /// Component names as plain strings (`"@method"`, `"content-digest"`).
    public var componentNames: [String] {
        components.compactMap { if case .string(let name) = $0.rfc9651BareItem { name } else { nil } }
    }

    private func stringParameter(_ name: String) -> String? {
        if case .string(let value)? = signatureParameters.rfc9651Parameters[name] { return value }
        return nil
    }

    private func integerParameter(_ name: String) -> Int? {
        if case .integer(let value)? = signatureParameters.rfc9651Parameters[name] { return Int(exactly: value) }
        return nil
    }

    /// Parses the two headers and returns the first signature present in both, in
    /// `Signature-Input` order. Errors are `malformed` failures with a message that names the
    /// header and what is wrong with it.
    public static func parse(signatureInput: String, signature: String) throws(AuthenticationFailure) -> MessageSignature {
        let inputs = try dictionary(signatureInput, header: "Signature-Input")
        let signatures = try dictionary(signature, header: "Signature")
        for (label, member) in inputs {
            guard let signatureMember = signatures[label] else { continue }
            guard case .innerList(let list) = member else {
                throw malformed("Signature-Input \(label) must be an inner list of components")
            }
            guard case .item(let item) = signatureMember, case .undecodedByteSequence(let encoded) = item.rfc9651BareItem,
                  let bytes = decodeStandardBase64(encoded) else {
                throw malformed("Signature \(label) must be a byte sequence (:base64:)")
            }
            var components: [Item] = []
            var seen = Set<String>()
            for component in list.bareInnerList {
                guard case .string(let name) = component.rfc9651BareItem else {
                    throw malformed("Signature-Input \(label): component identifiers must be strings")
                }
                let key = "\(name)|\(component.rfc9651Parameters.map { $0.0 }.joined(separator: ";"))"
                guard seen.insert(key).inserted else {
                    throw malformed("Signature-Input \(label) lists \"\(name)\" twice")
                }
                components.append(component)
            }
            let parsed = MessageSignature(label: label, components: components, signatureParameters: list, signature: bytes)
            try parsed.checkParameterTypes()
            return parsed
        }
        throw malformed("Signature-Input and Signature share no label")
    }

    private func checkParameterTypes() throws(AuthenticationFailure) {
        for (name, value) in signatureParameters.rfc9651Parameters {
            switch (name, value) {
            case ("created", .integer), ("expires", .integer),
                 ("keyid", .string), ("nonce", .string), ("alg", .string), ("tag", .string):
                continue
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
