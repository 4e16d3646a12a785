/// The grants Twilio's server libraries write (twilio-python 9's `grants.py`, twilio-node's
/// `AccessToken`), field by field, and what Twilio accepts in each: checked at mint time for a
/// Twilio-profile token, so that a wrong SID or a misspelt field is a 400 naming it rather than
/// error 20101 in the SDK. docs/tokens.md prints this table; a change here is a change there.
public enum TwilioGrants {
    /// What a value must be.
    public indirect enum Rule: Sendable {
        /// A SID of one kind: its two-letter prefix and 32 hex digits.
        case sid(prefix: String, of: String)
        /// 1…256 characters, no control characters (a room name).
        case name
        /// 1…256 visible ASCII characters (an endpoint id, e.g. `app:alice:device-1`).
        case endpoint
        case oneOf([String])
        case bool
        /// An object with these fields (`required` must be present), nothing else.
        case object([(String, Rule)], required: [String])
        /// Any object, passed as given (parameters for the application, a Twilio API's answer).
        case anyObject
    }

    /// Grant name → its fields, in the order Twilio's libraries write them.
    public static let grants: [(name: String, fields: [(String, Rule)])] = [
        ("data_sync", [("service_sid", .sid(prefix: "IS", of: "a Sync service")), ("endpoint_id", .endpoint)]),
        ("chat", [("service_sid", .sid(prefix: "IS", of: "a Conversations/Chat service")), ("endpoint_id", .endpoint),
                  ("deployment_role_sid", .sid(prefix: "RL", of: "a role")), ("push_credential_sid", .sid(prefix: "CR", of: "a push credential"))]),
        ("video", [("room", .name)]),
        ("voice", [("incoming", .object([("allow", .bool)], required: ["allow"])),
                   ("outgoing", .object([("application_sid", .sid(prefix: "AP", of: "a TwiML application")), ("params", .anyObject)],
                                        required: ["application_sid"])),
                   ("push_credential_sid", .sid(prefix: "CR", of: "a push credential")), ("endpoint_id", .endpoint)]),
        ("task_router", [("workspace_sid", .sid(prefix: "WS", of: "a TaskRouter workspace")), ("worker_sid", .sid(prefix: "WK", of: "a TaskRouter worker")),
                         ("role", .oneOf(["worker", "supervisor"]))]),
        // PlaybackGrant: the object Twilio Live's PlaybackGrant API returns, passed unchanged.
        ("player", []),
    ]

    /// Checks one grant of a Twilio-profile request.
    public static func validate(_ name: String, _ fields: JSONObject) throws(TokenRequestError) {
        guard let known = grants.first(where: { $0.name == name }) else {
            throw TokenRequestError(.invalidRequest, "'\(name)' is not a Twilio grant (Twilio's grants: \(grants.map(\.name).joined(separator: ", ")))")
        }
        if name == "player" {
            guard !fields.isEmpty else { throw TokenRequestError(.invalidRequest, "grant 'player' must be the PlaybackGrant object Twilio's API returned") }
            return
        }
        try check(fields, against: known.fields, required: [], path: name)
    }

    /// The Voice rule (Twilio error 31105): a client name of at most 256 characters without
    /// control characters, spaces, delimiters or "unwise" characters (RFC 2396's `<>#%"` and `{}|\^[]``).
    public static func validateVoiceIdentity(_ identity: String) throws(TokenRequestError) {
        let refused = Set("<>#%\"{}|\\^[]` ".unicodeScalars)
        if identity.unicodeScalars.count > 256 || identity.unicodeScalars.contains(where: { refused.contains($0) || IdentityRule.isControl($0) }) {
            throw TokenRequestError(.invalidRequest,
                "identity is not a valid Twilio Voice client name (with a voice grant: at most 256 characters, no spaces, control characters or any of < > # % \" { } | \\ ^ [ ] `)")
        }
    }

    private static func check(_ fields: JSONObject, against rules: [(String, Rule)], required: [String], path: String) throws(TokenRequestError) {
        for member in fields {
            guard let rule = rules.first(where: { $0.0 == member.key })?.1 else {
                throw TokenRequestError(.invalidRequest, "grant '\(path)' has no field '\(member.key)' (Twilio's fields: \(rules.map(\.0).joined(separator: ", ")))")
            }
            try check(member.value, rule, path: "\(path).\(member.key)")
        }
        if let missing = required.first(where: { fields[$0] == nil }) {
            throw TokenRequestError(.invalidRequest, "\(path).\(missing) is required")
        }
    }

    private static func check(_ value: JSONValue, _ rule: Rule, path: String) throws(TokenRequestError) {
        func refuse(_ rule: String) -> TokenRequestError { TokenRequestError(.invalidRequest, "\(path) must be \(rule)") }
        switch rule {
        case .sid(let prefix, let kind):
            guard let text = value.stringValue, isSID(text, prefix: prefix) else { throw refuse("the SID of \(kind): \(prefix) followed by 32 hex digits") }
        case .name:
            guard let text = value.stringValue, (1...256).contains(text.unicodeScalars.count), !text.unicodeScalars.contains(where: IdentityRule.isControl) else {
                throw refuse("a string of 1 to 256 characters without control characters")
            }
        case .endpoint:
            guard let text = value.stringValue, (1...256).contains(text.utf8.count), text.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw refuse("1 to 256 visible ASCII characters (no spaces)")
            }
        case .oneOf(let allowed):
            guard let text = value.stringValue, allowed.contains(text) else { throw refuse("one of \(allowed.joined(separator: ", "))") }
        case .bool:
            guard case .bool = value else { throw refuse("true or false") }
        case .object(let rules, let required):
            guard case .object(let object) = value else { throw refuse("an object") }
            try check(object, against: rules, required: required, path: path)
        case .anyObject:
            guard case .object = value else { throw refuse("an object") }
        }
    }

    /// `prefix` and 32 hex digits, as Twilio writes every SID.
    public static func isSID(_ value: String, prefix: String) -> Bool {
        value.hasPrefix(prefix) && value.utf8.count == 34 && Hex.decode(value.dropFirst(2)) != nil
    }
}
