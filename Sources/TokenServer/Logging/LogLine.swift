import TokenCore

/// One log line being built, in either format, straight into a byte buffer: no dictionary, no
/// `String` per field. Always starts with `time`, `level` and `message`.
struct LogLine: ~Copyable {
    private var writer: JSONWriter
    private let format: LogFormat

    init(format: LogFormat, level: String, message: String, capacity: Int = 256) {
        self.format = format
        writer = JSONWriter(capacity: capacity)
        switch format {
        case .json:
            writer.raw(#"{"time":""#)
            LogTimestamp.shared.append(to: &writer)
            writer.raw(#"","level":"#)
            writer.string(level)
            writer.raw(#","message":"#)
            writer.string(message)
        case .text:
            writer.raw("time=")
            LogTimestamp.shared.append(to: &writer)
            writer.raw(" level=")
            writer.raw(utf8: level)
            writer.raw(" message=")
            textValue(message)
        }
    }

    /// A string field.
    mutating func field(_ key: StaticString, _ value: String) {
        begin(key)
        switch format {
        case .json: writer.string(value)
        case .text: textValue(value)
        }
    }

    /// A field whose key is not a literal (swift-log metadata).
    mutating func field(named key: String, _ value: String) {
        begin(named: key)
        switch format {
        case .json: writer.string(value)
        case .text: textValue(value)
        }
    }

    /// A swift-log field whose value is a number or a flag: unquoted in both formats.
    mutating func field(named key: String, raw value: String) {
        begin(named: key)
        writer.raw(utf8: value)
    }

    /// The separator and a metadata key (in text, only its bare characters).
    private mutating func begin(named key: String) {
        switch format {
        case .json:
            writer.append(byte: UInt8(ascii: ","))
            writer.string(key)
            writer.append(byte: UInt8(ascii: ":"))
        case .text:
            writer.append(byte: UInt8(ascii: " "))
            writer.raw(utf8: String(decoding: key.utf8.filter(Self.isBare), as: UTF8.self))
            writer.append(byte: UInt8(ascii: "="))
        }
    }

    /// A whole number, unquoted in both formats.
    mutating func field(_ key: StaticString, integer: Int) {
        begin(key)
        writer.integer(integer)
    }

    /// A duration in milliseconds with two decimals (`0.42`), unquoted, from nanoseconds.
    mutating func field(_ key: StaticString, millisecondsFromNanoseconds nanoseconds: Int) {
        begin(key)
        let hundredths = (max(0, nanoseconds) + 5_000) / 10_000
        writer.integer(hundredths / 100)
        writer.append(byte: UInt8(ascii: "."))
        writer.append(byte: UInt8(ascii: "0") + UInt8(hundredths % 100 / 10))
        writer.append(byte: UInt8(ascii: "0") + UInt8(hundredths % 10))
    }

    /// The line with its end (`}` in json) and a line feed.
    consuming func finish(into body: (UnsafeRawBufferPointer) -> Void) {
        if format == .json { writer.append(byte: UInt8(ascii: "}")) }
        writer.append(byte: 0x0A)
        writer.withBytes(body)
    }

    private mutating func begin(_ key: StaticString) {
        switch format {
        case .json:
            writer.raw(",\"")
            writer.raw(key)
            writer.raw("\":")
        case .text:
            writer.append(byte: UInt8(ascii: " "))
            writer.raw(key)
            writer.append(byte: UInt8(ascii: "="))
        }
    }

    /// Bare when it is a plain token, else quoted with JSON's escapes (a value can hold no line
    /// break, quote or control character that would split or forge a line).
    private mutating func textValue(_ value: String) {
        if !value.isEmpty, value.utf8.allSatisfy(Self.isBare) {
            writer.raw(utf8: value)
        } else {
            writer.string(value)
        }
    }

    private static func isBare(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "@"), UInt8(ascii: "+"): true
        default: false
        }
    }
}
