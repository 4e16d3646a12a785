/// The command line's way to write a grant: `TYPE[:field=value,...]`.
///
/// `data_sync:service_sid=IS123` is `{"data_sync": {"service_sid": "IS123"}}`. A dotted field
/// nests (`voice:incoming.allow=true` is `{"voice": {"incoming": {"allow": true}}}`), and the
/// values `true` and `false` are booleans; every other value is a string.
public enum GrantSpec {
    public struct InvalidSpec: Error, CustomStringConvertible {
        public let spec: String
        public let reason: String
        public var description: String { "invalid --grant '\(spec)': \(reason) (expected TYPE[:field=value,...])" }
    }

    /// Parses each spec and merges them into one grants object, in the order given.
    public static func parse(_ specs: [String]) throws(InvalidSpec) -> JSONObject {
        var grants = JSONObject()
        for spec in specs {
            let (name, fields) = try parse(spec)
            if grants[name] != nil { throw InvalidSpec(spec: spec, reason: "grant '\(name)' is given twice") }
            grants.set(name, .object(fields))
        }
        return grants
    }

    static func parse(_ spec: String) throws(InvalidSpec) -> (String, JSONObject) {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        guard !name.isEmpty else { throw InvalidSpec(spec: spec, reason: "the grant type is empty") }
        var fields = JSONObject()
        guard parts.count == 2, !parts[1].isEmpty else { return (name, fields) }
        for assignment in parts[1].split(separator: ",", omittingEmptySubsequences: false) {
            let pair = assignment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, !pair[0].isEmpty else {
                throw InvalidSpec(spec: spec, reason: "'\(assignment)' is not field=value")
            }
            let path = pair[0].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !path.contains(where: \.isEmpty) else { throw InvalidSpec(spec: spec, reason: "empty name in '\(pair[0])'") }
            let value: JSONValue = switch pair[1] {
            case "true": .bool(true)
            case "false": .bool(false)
            default: .string(String(pair[1]))
            }
            guard insert(value, at: path[...], into: &fields) else {
                throw InvalidSpec(spec: spec, reason: "field '\(pair[0])' is given twice")
            }
        }
        return (name, fields)
    }

    /// Sets `path` in `object`, creating nested objects; false when the path is already taken.
    private static func insert(_ value: JSONValue, at path: ArraySlice<String>, into object: inout JSONObject) -> Bool {
        let head = path.first!
        if path.count == 1 {
            guard object[head] == nil else { return false }
            object.set(head, value)
            return true
        }
        var child: JSONObject
        switch object[head] {
        case nil: child = JSONObject()
        case .object(let existing)?: child = existing
        default: return false
        }
        guard insert(value, at: path.dropFirst(), into: &child) else { return false }
        object.set(head, .object(child))
        return true
    }
}
