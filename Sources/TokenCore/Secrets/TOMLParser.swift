/// The TOML that a secrets file needs, parsed by a small strict parser of our own: top-level
/// `key = value` lines, `[[name]]` arrays of tables, basic and literal strings, integers, floats,
/// booleans and arrays, `#` comments. Anything else TOML has (inline tables, dotted keys,
/// `[table]` headers, multi-line strings, dates) is refused with the line and column, as is any
/// malformed input — never a trap. It replaces toml++ (through TOMLKit), which aborted the
/// process on `[.a]` and leaked memory on every parse, which a SIGHUP reload repeats.
public enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int)
    case float(Double)
    case bool(Bool)
    case array([TOMLValue])
    case tables([TOMLTable])
}

/// A table: its keys and values (unordered; keys are unique).
public typealias TOMLTable = [String: TOMLValue]

public struct TOMLSyntaxError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public let line: Int
    public let column: Int
    public var description: String { "\(message) (line \(line), column \(column))" }
}

public enum TOMLParser {
    /// Nesting of arrays beyond this is refused: the parser recurses per level.
    static let maximumDepth = 16

    public static func parse(_ text: String) throws(TOMLSyntaxError) -> TOMLTable {
        var parser = Parser(Array(text.utf8))
        return try parser.document()
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var lineStart = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        func fail(_ message: String) -> TOMLSyntaxError {
            TOMLSyntaxError(message: message, line: line, column: index - lineStart + 1)
        }

        mutating func document() throws(TOMLSyntaxError) -> TOMLTable {
            var root: TOMLTable = [:]
            // Arrays of tables are built here, in place, and put into the root at the end: each
            // `[[name]]` appends one table without copying the ones before (linear in the file).
            var arrays: [String: [TOMLTable]] = [:]
            // Where `key = value` lines go: the root, or the last table of the named array.
            var current: String?
            while true {
                skipBlank()
                guard let byte = peek else { break }
                if byte == UInt8(ascii: "[") {
                    let name = try header()
                    guard root[name] == nil else { throw fail("[[\(name)]] names a key that already has a value") }
                    arrays[name, default: []].append([:])
                    current = name
                } else {
                    let (key, value) = try keyValue()
                    if let current {
                        guard arrays[current]![arrays[current]!.count - 1][key] == nil else {
                            throw fail("key \"\(key)\" appears twice in this table")
                        }
                        arrays[current]![arrays[current]!.count - 1][key] = value
                    } else {
                        guard root[key] == nil, arrays[key] == nil else { throw fail("key \"\(key)\" appears twice") }
                        root[key] = value
                    }
                }
                try endOfLine()
            }
            for (name, tables) in arrays { root[name] = .tables(tables) }
            return root
        }

        /// `[[name]]`; a `[name]` table is not used in a secrets file.
        mutating func header() throws(TOMLSyntaxError) -> String {
            index += 1
            guard peek == UInt8(ascii: "[") else {
                throw fail("only [[name]] headers (arrays of tables) are used in a secrets file")
            }
            index += 1
            skipSpaces()
            let name = try bareKey()
            skipSpaces()
            guard peek == UInt8(ascii: "]"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "]") else {
                throw fail("expected ]] to close [[\(name)")
            }
            index += 2
            return name
        }

        mutating func keyValue() throws(TOMLSyntaxError) -> (String, TOMLValue) {
            let key = try bareKey()
            skipSpaces()
            if peek == UInt8(ascii: ".") { throw fail("dotted keys are not used in a secrets file") }
            guard peek == UInt8(ascii: "=") else { throw fail("expected = after a key") }
            index += 1
            skipSpaces()
            return (key, try value(depth: 0))
        }

        /// A bare key: letters, digits, `_` and `-`.
        mutating func bareKey() throws(TOMLSyntaxError) -> String {
            let start = index
            while let byte = peek, Self.isBareKeyByte(byte) { index += 1 }
            guard index > start else {
                throw fail(peek == UInt8(ascii: "\"") || peek == UInt8(ascii: "'") ? "quoted keys are not used in a secrets file" : "expected a key")
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func value(depth: Int) throws(TOMLSyntaxError) -> TOMLValue {
            guard let byte = peek else { throw fail("expected a value") }
            switch byte {
            case UInt8(ascii: "\""): return .string(try basicString())
            case UInt8(ascii: "'"): return .string(try literalString())
            case UInt8(ascii: "["): return .array(try array(depth: depth + 1))
            case UInt8(ascii: "{"): throw fail("inline tables are not used in a secrets file")
            case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool(try boolean())
            default: return try number()
            }
        }

        mutating func basicString() throws(TOMLSyntaxError) -> String {
            index += 1
            if peek == UInt8(ascii: "\""), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\"") {
                throw fail("multi-line strings are not used in a secrets file")
            }
            var scalars = String.UnicodeScalarView()
            var start = index
            func flush(_ parser: Parser, to end: Int, _ scalars: inout String.UnicodeScalarView) {
                scalars.append(contentsOf: String(decoding: parser.bytes[start..<end], as: UTF8.self).unicodeScalars)
            }
            while true {
                guard let byte = peek else { throw fail("unterminated string") }
                switch byte {
                case UInt8(ascii: "\""):
                    flush(self, to: index, &scalars)
                    index += 1
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    flush(self, to: index, &scalars)
                    index += 1
                    scalars.append(try escape())
                    start = index
                case 0x0A, 0x0D: throw fail("unterminated string (a line break before the closing quote)")
                case 0x00...0x08, 0x0B...0x1F, 0x7F: throw fail("control character in a string: write it as an escape")
                default: index += 1
                }
            }
        }

        mutating func escape() throws(TOMLSyntaxError) -> Unicode.Scalar {
            guard let byte = peek else { throw fail("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "u"): return try unicodeEscape(digits: 4)
            case UInt8(ascii: "U"): return try unicodeEscape(digits: 8)
            default:
                index -= 1
                throw fail("unknown escape sequence")
            }
        }

        mutating func unicodeEscape(digits: Int) throws(TOMLSyntaxError) -> Unicode.Scalar {
            guard index + digits <= bytes.count,
                  let value = UInt32(String(decoding: bytes[index..<index + digits], as: UTF8.self), radix: 16),
                  bytes[index..<index + digits].allSatisfy({ Self.isHexDigit($0) }),
                  let scalar = Unicode.Scalar(value) else {
                throw fail("invalid \\u escape: \(digits) hex digits of a Unicode scalar value")
            }
            index += digits
            return scalar
        }

        mutating func literalString() throws(TOMLSyntaxError) -> String {
            index += 1
            if peek == UInt8(ascii: "'"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "'") {
                throw fail("multi-line strings are not used in a secrets file")
            }
            let start = index
            while let byte = peek, byte != UInt8(ascii: "'") {
                if byte == 0x0A || byte == 0x0D { throw fail("unterminated string (a line break before the closing quote)") }
                if byte < 0x20 && byte != 0x09 || byte == 0x7F { throw fail("control character in a string") }
                index += 1
            }
            guard peek != nil else { throw fail("unterminated string") }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            index += 1
            return text
        }

        mutating func array(depth: Int) throws(TOMLSyntaxError) -> [TOMLValue] {
            guard depth <= TOMLParser.maximumDepth else { throw fail("arrays nested more than \(TOMLParser.maximumDepth) deep") }
            index += 1
            var elements: [TOMLValue] = []
            while true {
                skipBlank()
                guard let byte = peek else { throw fail("unterminated array") }
                if byte == UInt8(ascii: "]") {
                    index += 1
                    return elements
                }
                elements.append(try value(depth: depth))
                skipBlank()
                if peek == UInt8(ascii: ",") {
                    index += 1
                } else if peek != UInt8(ascii: "]") {
                    throw fail("expected , or ] in an array")
                }
            }
        }

        mutating func boolean() throws(TOMLSyntaxError) -> Bool {
            for (word, value) in [("true", true), ("false", false)] where bytes[index...].starts(with: word.utf8) {
                let end = index + word.utf8.count
                if end < bytes.count, Self.isBareKeyByte(bytes[end]) { break }
                index = end
                return value
            }
            throw fail("expected a value (a string in quotes, a number, true, false or an array)")
        }

        /// A decimal integer or float, with optional sign and `_` between digits.
        mutating func number() throws(TOMLSyntaxError) -> TOMLValue {
            let start = index
            while let byte = peek, Self.isNumberByte(byte) { index += 1 }
            let raw = bytes[start..<index]
            guard !raw.isEmpty else { throw fail("expected a value (a string in quotes, a number, true, false or an array)") }
            // `_` only between digits.
            for (offset, byte) in raw.enumerated() where byte == UInt8(ascii: "_") {
                let position = raw.startIndex + offset
                guard position > raw.startIndex, position + 1 < raw.endIndex,
                      Self.isDigit(bytes[position - 1]), Self.isDigit(bytes[position + 1]) else {
                    throw fail("a _ in a number must sit between digits")
                }
            }
            let text = String(decoding: raw.filter { $0 != UInt8(ascii: "_") }, as: UTF8.self)
            let digits = text.drop { $0 == "+" || $0 == "-" }
            if digits.count > 1, digits.hasPrefix("0"), digits.dropFirst().first?.isNumber == true {
                throw fail("leading zeros are not allowed in a number")
            }
            if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
                guard let value = Double(text), value.isFinite, text.last?.isNumber == true,
                      !text.contains(".e"), !text.contains(".E"), text.first(where: { $0 != "+" && $0 != "-" }) != "." else {
                    throw fail("not a number")
                }
                return .float(value)
            }
            guard let value = Int(text) else {
                // Only where, never the value: an unquoted secret must not reach a log.
                throw fail(digits.allSatisfy(\.isNumber) && !digits.isEmpty ? "integer out of range" : "not a number")
            }
            return .integer(value)
        }

        mutating func skipSpaces() {
            while peek == UInt8(ascii: " ") || peek == UInt8(ascii: "\t") { index += 1 }
        }

        /// Spaces, comments and line breaks (between entries, and inside arrays).
        mutating func skipBlank() {
            while let byte = peek {
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), 0x0D: index += 1
                case 0x0A: newLine()
                case UInt8(ascii: "#"): skipComment()
                default: return
                }
            }
        }

        mutating func skipComment() {
            while let byte = peek, byte != 0x0A { index += 1 }
        }

        mutating func newLine() {
            index += 1
            line += 1
            lineStart = index
        }

        /// After an entry: spaces, an optional comment, then a line break or the end.
        mutating func endOfLine() throws(TOMLSyntaxError) {
            skipSpaces()
            if peek == UInt8(ascii: "#") { skipComment() }
            if peek == 0x0D, index + 1 < bytes.count, bytes[index + 1] == 0x0A { index += 1 }
            guard let byte = peek else { return }
            guard byte == 0x0A else { throw fail("expected the end of the line") }
            newLine()
        }

        static func isBareKeyByte(_ byte: UInt8) -> Bool {
            isDigit(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }

        static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }

        static func isHexDigit(_ byte: UInt8) -> Bool {
            isDigit(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
        }

        static func isNumberByte(_ byte: UInt8) -> Bool {
            isDigit(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        }
    }
}
