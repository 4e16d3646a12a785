/// The body of `POST /v1/tokens`, parsed and checked for shape. Grants are checked
/// against a caller later, by `TokenIssuer`, because that needs to know who is asking.
public struct TokenRequest: Sendable, Equatable {
    public static let fields: Set<String> = ["identity", "ttl", "grants"]

    public var identity: String
    /// The requested lifetime in seconds, before clamping; nil asks for the default.
    public var ttl: Int?
    public var grants: JSONValue?

    public init(identity: String, ttl: Int? = nil, grants: JSONValue? = nil) {
        self.identity = identity
        self.ttl = ttl
        self.grants = grants
    }

    public init(json body: some Sequence<UInt8>) throws(TokenRequestError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw TokenRequestError(.invalidJSON, "the body is not valid JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw TokenRequestError(.invalidRequest, "the body must be a JSON object, not \(value.kindName)")
        }
        if let unknown = object.keys.first(where: { !Self.fields.contains($0) }) {
            throw TokenRequestError(.invalidRequest, "unknown field '\(Self.printable(unknown))' (allowed: identity, ttl, grants)")
        }
        guard let identityValue = object["identity"] else {
            throw TokenRequestError(.invalidRequest, "identity is required")
        }
        guard case .string(let identity) = identityValue else {
            throw TokenRequestError(.invalidRequest, "identity must be a string, not \(identityValue.kindName)")
        }
        self.identity = identity
        switch object["ttl"] {
        case nil, .null?:
            self.ttl = nil
        case let ttlValue?:
            guard let seconds = ttlValue.integerValue else {
                throw TokenRequestError(.invalidRequest, "ttl must be a whole number of seconds")
            }
            guard seconds > 0 else {
                throw TokenRequestError(.invalidRequest, "ttl must be greater than 0")
            }
            self.ttl = seconds
        }
        self.grants = object["grants"]
    }

    /// A field name from the request, cut short and stripped of control characters, so an error
    /// message can name it without carrying whatever an attacker put there.
    static func printable(_ text: String) -> String {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.properties.generalCategory != .control }))
        return cleaned.count > 40 ? String(cleaned.prefix(40)) + "…" : cleaned
    }
}
