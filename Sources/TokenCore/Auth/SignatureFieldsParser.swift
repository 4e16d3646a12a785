/// The common shape of `Signature-Input` and `Signature`, parsed in one pass over the bytes:
///
///     Signature-Input: sig1=("@method" "@target-uri" "content-digest");created=1;keyid="web";alg="hmac-sha256";nonce="n"
///     Signature: sig1=:base64:
///
/// Component identifiers are plain strings; parameters are integers, strings, tokens or
/// booleans. Anything else RFC 8941 allows (component parameters, decimals, byte-sequence
/// parameters, a repeated key, parameters on a signature) makes it return nil, and the request
/// goes through the generic structured-field parser, which accepts or refuses it with the same
/// result — so this is only ever a faster way to the same answer. It builds the canonical
/// serialization of the inner list (the `@signature-params` value) as it parses.
public enum SignatureFieldsParser {
    public static func parse(signatureInput: String, signature: String) -> MessageSignature? {
        let input = signatureInput.utf8
        let signatures = signature.utf8
        return input.withContiguousStorageIfAvailable { inputBytes in
            signatures.withContiguousStorageIfAvailable { signatureBytes in
                parse(inputBytes, signatureBytes)
            } ?? nil
        } ?? nil
    }

    private static func parse(_ inputBytes: UnsafeBufferPointer<UInt8>, _ signatureBytes: UnsafeBufferPointer<UInt8>) -> MessageSignature? {
        guard let signatures = byteSequenceMembers(signatureBytes) else { return nil }
        var cursor = Cursor(bytes: inputBytes)
        var labels: [String] = []
        var chosen: MessageSignature?
        repeat {
            cursor.skipSpaces()
            guard let label = cursor.key(), !labels.contains(label), cursor.take(UInt8(ascii: "=")) else { return nil }
            labels.append(label)
            guard let member = innerList(&cursor, label: label) else { return nil }
            if chosen == nil, let bytes = signatures.first(where: { $0.label == label })?.bytes {
                chosen = member.with(signature: bytes)
            }
            cursor.skipOptionalWhitespace()
        } while cursor.take(UInt8(ascii: ","))
        guard cursor.atEnd else { return nil }
        return chosen
    }

    /// `("a" "b");k=v;...` into names, parameters and the canonical line.
    private static func innerList(_ cursor: inout Cursor, label: String) -> MessageSignature? {
        var line: [UInt8] = [UInt8(ascii: "(")]
        guard cursor.take(UInt8(ascii: "(")) else { return nil }
        var names: [String] = []
        cursor.skipSpaces()
        while !cursor.take(UInt8(ascii: ")")) {
            guard let name = cursor.string(), !names.contains(name) else { return nil }
            if !names.isEmpty { line.append(UInt8(ascii: " ")) }
            SFString.append(name, to: &line)
            names.append(name)
            // A component parameter (`;sf`, `;key=`) is left to the generic parser.
            guard let next = cursor.peek, next == UInt8(ascii: " ") || next == UInt8(ascii: ")") else { return nil }
            cursor.skipSpaces()
        }
        line.append(UInt8(ascii: ")"))
        var parsed = MessageSignature(label: label, componentNames: names, parametersLine: [], signature: [])
        var seen: [String] = []
        while cursor.take(UInt8(ascii: ";")) {
            cursor.skipSpaces()
            guard let key = cursor.key(), !seen.contains(key) else { return nil }
            seen.append(key)
            line.append(UInt8(ascii: ";"))
            line += key.utf8
            guard cursor.take(UInt8(ascii: "=")) else {
                guard !MessageSignature.typedParameters.contains(key) else { return nil }  // a bare `;created` is boolean: wrong type
                continue  // `;key` is true, serialized bare
            }
            guard let value = cursor.bareItem() else { return nil }
            switch (key, value) {
            case ("created", .integer(let number)): parsed.created = number
            case ("expires", .integer(let number)): parsed.expires = number
            case ("keyid", .string(let text)): parsed.keyID = text
            case ("nonce", .string(let text)): parsed.nonce = text
            case ("alg", .string(let text)): parsed.algorithm = text
            case ("tag", .string(let text)): parsed.tag = text
            case (let key, _) where MessageSignature.typedParameters.contains(key): return nil  // the wrong type: named by the generic parser
            default: break
            }
            switch value {
            case .integer(let number): line.append(UInt8(ascii: "=")); line += String(number).utf8
            case .string(let text): line.append(UInt8(ascii: "=")); SFString.append(text, to: &line)
            case .token(let token): line.append(UInt8(ascii: "=")); line += token.utf8
            case .boolean(true): break
            case .boolean(false): line += "=?0".utf8
            }
        }
        parsed.parametersLine = line
        return parsed
    }

    /// A dictionary whose members are all byte sequences without parameters — `Signature`
    /// (`sig1=:…:`) and `Content-Digest` (`sha-256=:…:`) — or nil for any other shape.
    public static func byteSequences(in field: String) -> [(label: String, bytes: [UInt8])]? {
        let utf8 = field.utf8
        return utf8.withContiguousStorageIfAvailable { byteSequenceMembers($0) } ?? nil
    }

    private static func byteSequenceMembers(_ bytes: UnsafeBufferPointer<UInt8>) -> [(label: String, bytes: [UInt8])]? {
        var cursor = Cursor(bytes: bytes)
        var members: [(label: String, bytes: [UInt8])] = []
        repeat {
            cursor.skipSpaces()
            guard let label = cursor.key(), !members.contains(where: { $0.label == label }), cursor.take(UInt8(ascii: "=")),
                  cursor.take(UInt8(ascii: ":")) else { return nil }
            let start = cursor.index
            while let byte = cursor.peek, byte != UInt8(ascii: ":") { cursor.index += 1 }
            let encoded = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<cursor.index]), as: UTF8.self)
            guard cursor.take(UInt8(ascii: ":")), let decoded = Base64.decode(encoded) else { return nil }
            members.append((label, decoded))
            cursor.skipOptionalWhitespace()
        } while cursor.take(UInt8(ascii: ","))
        return cursor.atEnd ? members : nil
    }

    private enum BareItem {
        case integer(Int)
        case string(String)
        case token(String)
        case boolean(Bool)
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
        var atEnd: Bool { index == bytes.count }

        mutating func take(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        mutating func skipSpaces() {
            while peek == UInt8(ascii: " ") { index += 1 }
        }

        mutating func skipOptionalWhitespace() {
            while peek == UInt8(ascii: " ") || peek == UInt8(ascii: "\t") { index += 1 }
        }

        /// RFC 8941 key: lcalpha or `*`, then lcalpha, digits, `_`, `-`, `.`, `*`.
        mutating func key() -> String? {
            guard let first = peek, (0x61...0x7A).contains(first) || first == UInt8(ascii: "*") else { return nil }
            let start = index
            while let byte = peek, (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                    || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "*") {
                index += 1
            }
            return text(start..<index)
        }

        /// An sf-string of printable ASCII, with `\"` and `\\` escapes.
        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            var value: [UInt8] = []
            while let byte = peek {
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(decoding: value, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let escaped = peek, escaped == UInt8(ascii: "\"") || escaped == UInt8(ascii: "\\") else { return nil }
                    value.append(escaped)
                    index += 1
                case 0x20...0x7E: value.append(byte)
                default: return nil
                }
            }
            return nil
        }

        mutating func bareItem() -> BareItem? {
            guard let first = peek else { return nil }
            switch first {
            case UInt8(ascii: "\""):
                return string().map { .string($0) }
            case UInt8(ascii: "?"):
                index += 1
                if take(UInt8(ascii: "1")) { return .boolean(true) }
                if take(UInt8(ascii: "0")) { return .boolean(false) }
                return nil
            case UInt8(ascii: "-"), 0x30...0x39:
                let start = index
                _ = take(UInt8(ascii: "-"))
                let digitsStart = index
                while let byte = peek, (0x30...0x39).contains(byte) { index += 1 }
                // A decimal (`.`) is left to the generic parser; at most 15 digits, as RFC 8941 says.
                guard index > digitsStart, index - digitsStart <= 15, peek != UInt8(ascii: ".") else { return nil }
                return text(start..<index).flatMap { Int($0) }.map { .integer($0) }
            case 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "*"):
                let start = index
                while let byte = peek, Self.isTokenByte(byte) { index += 1 }
                return text(start..<index).map { .token($0) }
            default:
                return nil
            }
        }

        private static func isTokenByte(_ byte: UInt8) -> Bool {
            switch byte {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
            case UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"),
                 UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
            default: false
            }
        }

        private func text(_ range: Range<Int>) -> String? {
            String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }
    }
}
