/// A `ControlEvent` as one line of the state journal, and back.
extension ControlEvent {
    struct LineError: Error, CustomStringConvertible {
        let description: String
    }

    func line() -> [UInt8] {
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
        case .quotaUse(let key):
            return Self.quotaLine(key, count: 1)
        }
        writer.raw("}")
        return writer.bytes
    }

    /// A quota window's count; a compacted journal writes one such line per window.
    static func quotaLine(_ key: QuotaKey, count: Int) -> [UInt8] {
        var writer = JSONWriter(capacity: 160)
        writer.raw("{\"e\":\"quota\",\"caller\":"); writer.string(key.caller)
        if let identity = key.identity { writer.raw(",\"identity\":"); writer.string(identity) }
        writer.raw(",\"window_start\":"); writer.integer(key.windowStart)
        writer.raw(",\"window_seconds\":"); writer.integer(key.windowSeconds)
        if count != 1 { writer.raw(",\"count\":"); writer.integer(count) }
        writer.raw("}")
        return writer.bytes
    }

    /// The event of a journal line; `count` is how many uses a compacted quota line stands for.
    static func parse(line: some Sequence<UInt8>) throws(LineError) -> (event: ControlEvent, count: Int) {
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
            return (.revokeToken(jti: try string("jti"), identity: object["identity"]?.stringValue,
                                 scope: object["scope"]?.stringValue, expires: try integer("expires")), 1)
        case "revoke_identity":
            return (.revokeIdentity(identity: try string("identity"), issuedBefore: try integer("issued_before"),
                                    scope: object["scope"]?.stringValue), 1)
        case "block":
            return (.block(identity: try string("identity"), at: try integer("at"), until: object["until"]?.integerValue), 1)
        case "unblock":
            return (.unblock(identity: try string("identity"), at: try integer("at")), 1)
        case "quota":
            let key = QuotaKey(caller: try string("caller"), identity: object["identity"]?.stringValue,
                               windowStart: try integer("window_start"), windowSeconds: try integer("window_seconds"))
            return (.quotaUse(key), object["count"]?.integerValue ?? 1)
        default:
            throw LineError(description: "unknown event \"\(kind)\"")
        }
    }
}
