/// Writes JSON into a growable byte buffer without `JSONEncoder`. The token payload is built on
/// every request and its member order must be deterministic; writing through a raw pointer,
/// with no per-byte `Array.append`, keeps a whole payload well under the cost of its HMAC.
/// The writer owns its memory, so it is non-copyable.
public struct JSONWriter: ~Copyable {
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    public private(set) var count = 0

    public init(capacity: Int = 256) {
        self.capacity = max(capacity, 16)
        storage = .allocate(capacity: self.capacity)
    }

    deinit {
        storage.deallocate()
    }

    /// A copy of what has been written.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage, count: count)) }
    public var string: String { String(decoding: UnsafeBufferPointer(start: storage, count: count), as: UTF8.self) }

    /// The written bytes, without a copy, for the length of `body`.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage, count: count))
    }

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newStorage = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newStorage.update(from: storage, count: count)
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
    }

    @inline(__always)
    public mutating func append(byte: UInt8) {
        reserve(1)
        storage[count] = byte
        count += 1
    }

    private mutating func append(_ buffer: UnsafeBufferPointer<UInt8>) {
        reserve(buffer.count)
        (storage + count).update(from: buffer.baseAddress!, count: buffer.count)
        count += buffer.count
    }

    public mutating func raw(_ literal: StaticString) {
        literal.withUTF8Buffer { append($0) }
    }

    public mutating func raw(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { if !$0.isEmpty { append($0) } }
    }

    /// A string's UTF-8 bytes as they are, without escaping (for text known to need none).
    public mutating func raw(utf8 text: some StringProtocol) {
        var text = String(text)  // a native string: withUTF8 copies nothing
        text.withUTF8 { if !$0.isEmpty { append($0) } }
    }

    /// A string literal with every character JSON requires escaped (`"`, `\`, U+0000–U+001F);
    /// everything else, non-ASCII included, is written as its UTF-8 bytes.
    public mutating func string(_ value: String) {
        var value = value  // withUTF8 needs a native string; ours are, so nothing is copied
        value.withUTF8 { escapeString($0) }
    }

    private mutating func escapeString(_ utf8: UnsafeBufferPointer<UInt8>) {
        reserve(utf8.count * 6 + 2)  // the worst case: every byte as \u00XX
        var out = storage + count
        out.pointee = UInt8(ascii: "\"")
        out += 1
        // Most strings need no escape: a branch-free scan, then one copy.
        var needsEscape: UInt8 = 0
        for byte in utf8 {
            needsEscape |= (byte < 0x20 ? 1 : 0) | (byte == 0x22 ? 1 : 0) | (byte == 0x5C ? 1 : 0)
        }
        if needsEscape == 0 {
            if let base = utf8.baseAddress { out.update(from: base, count: utf8.count) }
            out += utf8.count
        } else {
            for byte in utf8 {
                if byte >= 0x20 && byte != 0x22 && byte != 0x5C {
                    out.pointee = byte
                    out += 1
                } else {
                    out = Self.writeEscape(byte, at: out)
                }
            }
        }
        out.pointee = UInt8(ascii: "\"")
        out += 1
        count = out - storage
    }

    private static func writeEscape(_ byte: UInt8, at out: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        out[0] = UInt8(ascii: "\\")
        let short: UInt8? = switch byte {
        case 0x22: 0x22
        case 0x5C: 0x5C
        case 0x0A: UInt8(ascii: "n")
        case 0x0D: UInt8(ascii: "r")
        case 0x09: UInt8(ascii: "t")
        case 0x08: UInt8(ascii: "b")
        case 0x0C: UInt8(ascii: "f")
        default: nil
        }
        if let short {
            out[1] = short
            return out + 2
        }
        let hex = "0123456789abcdef".utf8
        out[1] = UInt8(ascii: "u")
        out[2] = UInt8(ascii: "0")
        out[3] = UInt8(ascii: "0")
        out[4] = hex[hex.index(hex.startIndex, offsetBy: Int(byte >> 4))]
        out[5] = hex[hex.index(hex.startIndex, offsetBy: Int(byte & 15))]
        return out + 6
    }

    /// "00"…"99": integers are written two digits per division.
    private static let digitPairs: [UInt16] = (0..<100).map { value in
        (UInt16(UInt8(ascii: "0") + UInt8(value / 10)) | UInt16(UInt8(ascii: "0") + UInt8(value % 10)) << 8).littleEndian
    }

    public mutating func integer(_ value: Int) {
        reserve(20)
        if value < 0 {
            storage[count] = UInt8(ascii: "-")
            count += 1
        }
        var magnitude = value.magnitude
        var digits = 1
        var probe = magnitude
        while probe >= 10 { probe /= 10; digits += 1 }
        var end = count + digits
        let raw = UnsafeMutableRawPointer(storage)
        Self.digitPairs.withUnsafeBufferPointer { pairs in
            while magnitude >= 10 {
                end -= 2
                raw.storeBytes(of: pairs[Int(magnitude % 100)], toByteOffset: end, as: UInt16.self)
                magnitude /= 100
            }
            if end > count {
                storage[count] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude)
            }
        }
        count += digits
    }

    public mutating func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): bool(flag)
        case .number(let literal): raw(Array(literal.utf8))
        case .string(let text): string(text)
        case .array(let elements):
            append(byte: UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { append(byte: UInt8(ascii: ",")) }
                self.value(element)
            }
            append(byte: UInt8(ascii: "]"))
        case .object(let object): self.object(object)
        }
    }

    public mutating func object(_ object: JSONObject) {
        append(byte: UInt8(ascii: "{"))
        for (index, member) in object.members.enumerated() {
            if index > 0 { append(byte: UInt8(ascii: ",")) }
            key(member.key)
            value(member.value)
        }
        append(byte: UInt8(ascii: "}"))
    }

    /// `,<name>:<value>` when `value` is not nil: an optional member after the first. `name` is
    /// the member's name as a JSON literal, quotes included (`"\"jti\""`), written as it is.
    public mutating func optionalMember(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        raw(","); raw(name); raw(":"); string(value)
    }

    public mutating func optionalMember(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        raw(","); raw(name); raw(":"); integer(value)
    }

    /// `"key":`, the start of an object member.
    public mutating func key(_ key: String) {
        string(key)
        append(byte: UInt8(ascii: ":"))
    }
}

extension JSONValue {
    /// The value as compact JSON text.
    public var jsonText: String {
        var writer = JSONWriter()
        writer.value(self)
        return writer.string
    }
}
