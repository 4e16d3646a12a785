import HTTPTypes
import RawStructuredFieldValues

/// The RFC 9421 §2.5 signature base: one line per covered component, in the client's order, then
/// the `@signature-params` line. The verifier and the CLI's signer share this code.
public enum SignatureBase {
    public static func build(components: [Item], parameters: InnerList, request: RequestParts) throws(AuthenticationFailure) -> [UInt8] {
        var base: [UInt8] = []
        base.reserveCapacity(512)
        var serializer = StructuredFieldValueSerializer()
        for component in components {
            let value = try componentValue(component, request: request)
            guard let identifier = try? serializer.writeItemFieldValue(component) else {
                throw MessageSignature.malformed("a component identifier cannot be serialized")
            }
            base += identifier
            base += Array(": ".utf8)
            base += Array(value.utf8)
            base.append(0x0A)
        }
        guard let parametersLine = try? serializer.writeListFieldValue([.innerList(parameters)]) else {
            throw MessageSignature.malformed("the signature parameters cannot be serialized")
        }
        base += Array("\"@signature-params\": ".utf8)
        base += parametersLine
        return base
    }

    static func componentValue(_ component: Item, request: RequestParts) throws(AuthenticationFailure) -> String {
        guard case .string(let name) = component.rfc9651BareItem else {
            throw MessageSignature.malformed("component identifiers must be strings")
        }
        if let parameter = component.rfc9651Parameters.first {
            throw AuthenticationFailure(.unsupported, "component parameter ;\(parameter.0) on \"\(name)\" is not supported")
        }
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
