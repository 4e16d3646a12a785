/// A JSON value that keeps what the sender wrote: object members in their order and numbers as
/// their literal text, so grants pass through into a token exactly, with no float rounding.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's literal, already checked against RFC 8259's grammar.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    public var stringValue: String? {
        if case .string(let string) = self { return string }
        return nil
    }

    /// The number as an integer, when it is integral and exact in a double (|n| <= 2^53),
    /// so `3600`, `3600.0` and `3.6e3` all read as 3600 and `3600.5` or `1e400` read as nil.
    public var integerValue: Int? {
        guard case .number(let literal) = self else { return nil }
        // `magnitude`, not `abs`: abs(Int.min) traps, and a request may say -9223372036854775808.
        if let exact = Int(literal) { return exact.magnitude <= 1 << 53 ? exact : nil }
        guard let double = Double(literal), double.isFinite, double.rounded() == double,
              double.magnitude <= 9_007_199_254_740_992 else { return nil }
        return Int(double)
    }

    /// A short name of the kind of value, for error messages ("ttl must be an integer, not a string").
    public var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON object with its members in the order they were written. Keys are unique: the parser
/// rejects duplicates, because two parsers that disagree on which duplicate wins are a classic
/// way to smuggle a different value past a check.
public struct JSONObject: Sendable, Equatable, Sequence {
    public struct Member: Sendable, Equatable {
        public let key: String
        public let value: JSONValue

        public init(key: String, value: JSONValue) {
            self.key = key
            self.value = value
        }
    }

    public private(set) var members: [Member]

    public init(_ members: [Member] = []) {
        self.members = members
    }

    public init(_ pairs: KeyValuePairs<String, JSONValue>) {
        self.members = pairs.map { Member(key: $0.key, value: $0.value) }
    }

    public subscript(key: String) -> JSONValue? {
        members.first { $0.key == key }?.value
    }

    public var keys: [String] { members.map(\.key) }
    public var isEmpty: Bool { members.isEmpty }
    public var count: Int { members.count }

    /// Sets `key`, replacing its value in place or appending it.
    public mutating func set(_ key: String, _ value: JSONValue) {
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index] = Member(key: key, value: value)
        } else {
            members.append(Member(key: key, value: value))
        }
    }

    public func makeIterator() -> IndexingIterator<[Member]> {
        members.makeIterator()
    }
}
