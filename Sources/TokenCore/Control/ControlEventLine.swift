/// A `ControlEvent` as one line of the state journal, and back.
extension ControlEvent {
    public struct LineError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The event as one line of JSON: the state journal's line, and the shared store's row.
    public func line() -> [UInt8] {
        var writer = JSONWriter(capacity: 160)
        switch self {
        case .revokeToken(let jti, let identity, let scope, let expires):
            writer.raw("{\"e\":\"revoke_token\"")
            writer.optionalMember("\"jti\"", jti); writer.optionalMember("\"identity\"", identity); writer.optionalMember("\"scope\"", scope); writer.optionalMember("\"expires\"", expires)
        case .revokeIdentity(let identity, let issuedBefore, let scope):
            writer.raw("{\"e\":\"revoke_identity\"")
            writer.optionalMember("\"identity\"", identity); writer.optionalMember("\"issued_before\"", issuedBefore); writer.optionalMember("\"scope\"", scope)
        case .block(let identity, let at, let until):
            writer.raw("{\"e\":\"block\"")
            writer.optionalMember("\"identity\"", identity); writer.optionalMember("\"at\"", at); writer.optionalMember("\"until\"", until)
        case .unblock(let identity, let at):
            writer.raw("{\"e\":\"unblock\"")
            writer.optionalMember("\"identity\"", identity); writer.optionalMember("\"at\"", at)
        case .quotaCount(let key, let count, let exact):
            writer.raw("{\"e\":\"quota\",\"caller\":"); writer.string(key.caller)
            writer.optionalMember("\"identity\"", key.identity)
            writer.optionalMember("\"window_start\"", key.windowStart)
            writer.optionalMember("\"window_seconds\"", key.windowSeconds)
            writer.optionalMember("\"count\"", count)
            if exact { writer.raw(",\"exact\":true") }
        }
        writer.raw("}")
        return writer.bytes
    }

    /// The event of a journal line (or a shared store's row).
    public static func parse(line: some Sequence<UInt8>) throws(LineError) -> ControlEvent {
        guard case .object(let object)? = try? JSONParser.parse(line), let kind = object["e"]?.stringValue else {
            throw LineError(description: "not a state journal line")
        }
        func string(_ name: String) throws(LineError) -> String {
            guard let value = object[name]?.stringValue else { throw LineError(description: "\(kind): \(name) is missing") }
            return value
        }
        func integer(_ name: String) throws(LineError) -> Int {
            guard let value = object[name]?.integerValue else { throw LineError(description: "\(kind): \(name) is missing") }
            return value
        }
        switch kind {
        case "revoke_token":
            return .revokeToken(jti: try string("jti"), identity: object["identity"]?.stringValue,
                                scope: object["scope"]?.stringValue, expires: try integer("expires"))
        case "revoke_identity":
            return .revokeIdentity(identity: try string("identity"), issuedBefore: try integer("issued_before"),
                                   scope: object["scope"]?.stringValue)
        case "block":
            return .block(identity: try string("identity"), at: try integer("at"), until: object["until"]?.integerValue)
        case "unblock":
            return .unblock(identity: try string("identity"), at: try integer("at"))
        case "quota":
            let key = QuotaKey(caller: try string("caller"), identity: object["identity"]?.stringValue,
                               windowStart: try integer("window_start"), windowSeconds: try integer("window_seconds"))
            return .quotaCount(key, count: try integer("count"), exact: object["exact"] == .bool(true))
        default:
            throw LineError(description: "unknown event \"\(kind)\"")
        }
    }
}
