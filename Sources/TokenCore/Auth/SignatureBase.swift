import HTTPTypes

/// The RFC 9421 §2.5 signature base: one line per covered component, in the client's order, then
/// the `@signature-params` line. The verifier and the CLI's signer share this code.
public enum SignatureBase {
    public static func build(_ signature: MessageSignature, request: RequestParts) throws(AuthenticationFailure) -> [UInt8] {
        try build(componentNames: signature.componentNames, parametersLine: signature.parametersLine, request: request)
    }

    /// `parametersLine` is the serialized inner list (`("@method" ...);created=...`).
    static func build(componentNames: [String], parametersLine: [UInt8], request: RequestParts) throws(AuthenticationFailure) -> [UInt8] {
        var base: [UInt8] = []
        base.reserveCapacity(512)
        for name in componentNames {
            let value = try componentValue(name, request: request)
            // The identifier as an sf-string; names are lower-case field names or `@` names, so
            // nothing needs escaping, but escaping keeps that true whatever a client sends.
            SFString.append(name, to: &base)
            base += ": ".utf8
            base += value.utf8
            base.append(0x0A)
        }
        base += "\"@signature-params\": ".utf8
        base += parametersLine
        return base
    }

    static func componentValue(_ name: String, request: RequestParts) throws(AuthenticationFailure) -> String {
        if name.hasPrefix("@") {
            switch name {
            case "@method": return request.method
            case "@target-uri": return request.targetURI
            case "@authority": return request.normalizedAuthority
            case "@scheme": return request.scheme
            case "@path": return request.path
            case "@query": return "?" + (request.query ?? "")
            case "@request-target": return request.path + (request.query.map { "?\($0)" } ?? "")
            case "@signature-params": throw MessageSignature.malformed("\"@signature-params\" cannot be a covered component")
            default: throw AuthenticationFailure(.unsupported, "derived component \"\(name)\" is not supported")
            }
        }
        guard name == name.lowercased(), HTTPField.Name(name) != nil else {
            throw MessageSignature.malformed("component \"\(name)\" must be a lower-case header field name")
        }
        let values = request.headers.values(named: name)
        guard !values.isEmpty else {
            throw MessageSignature.malformed("covered header \"\(name)\" is missing from the request")
        }
        // RFC 9421 §2.1: each field line's value trimmed, then joined with ", ".
        return values.map(\.trimmingWhitespace).joined(separator: ", ")
    }
}
