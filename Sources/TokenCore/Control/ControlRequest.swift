/// The body of a revoke, introspect, block or unblock request: a JSON object of strings, or (for
/// revoke and introspect, as RFC 7009 and RFC 7662 define them) a form, `token=…`.
public struct ControlRequest: Sendable, Equatable {
    public let fields: [String: String]

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// Reads `body` as JSON (`isForm` false) or `application/x-www-form-urlencoded`. Members
    /// other than strings, repeated form fields and bad percent-escapes are refused.
    public init(body: [UInt8], isForm: Bool) throws(Invalid) {
        fields = isForm ? try Self.form(body) : try Self.json(body)
    }

    public subscript(name: String) -> String? { fields[name] }

    /// The one field of `names` that is present: exactly one must be.
    public func exactlyOne(of names: [String]) throws(Invalid) -> (name: String, value: String) {
        let present = names.filter { fields[$0] != nil }
        guard present.count == 1 else {
            throw Invalid(description: "send exactly one of \(names.map { "\"\($0)\"" }.joined(separator: ", "))")
        }
        return (present[0], fields[present[0]]!)
    }

    /// An optional RFC 3339 time field, as Unix seconds.
    public func time(_ name: String) throws(Invalid) -> Int? {
        guard let text = fields[name] else { return nil }
        guard let seconds = Timestamp.parseRFC3339(text) else {
            throw Invalid(description: "\(name) must be an RFC 3339 time such as 2026-12-03T18:00:00Z")
        }
        return seconds
    }

    private static func json(_ body: [UInt8]) throws(Invalid) -> [String: String] {
        guard case .object(let object)? = try? JSONParser.parse(body) else {
            throw Invalid(description: "the body must be a JSON object")
        }
        var fields: [String: String] = [:]
        for member in object {
            guard let value = member.value.stringValue else {
                throw Invalid(description: "\(TokenRequest.printable(member.key)) must be a string, not \(member.value.kindName)")
            }
            fields[member.key] = value
        }
        return fields
    }

    private static func form(_ body: [UInt8]) throws(Invalid) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : []) else {
                throw Invalid(description: "the form body is not valid application/x-www-form-urlencoded UTF-8")
            }
            guard fields[name] == nil else { throw Invalid(description: "the form repeats \(TokenRequest.printable(name))") }
            fields[name] = value
        }
        return fields
    }

    /// `+` is a space, `%XX` a byte; the result must be UTF-8.
    private static func decode(_ bytes: ArraySlice<UInt8>) -> String? {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex,
                      let high = Hex.nibble(bytes[index + 1]), let low = Hex.nibble(bytes[index + 2]) else { return nil }
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(byte == UInt8(ascii: "+") ? 0x20 : byte)
                index += 1
            }
        }
        return String(validating: decoded, as: UTF8.self)
    }
}
