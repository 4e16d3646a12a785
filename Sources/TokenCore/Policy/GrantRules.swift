/// Grants are an object of objects: `{"data_sync": {"service_sid": "IS…"}}`. Each grant name must
/// be one the caller may issue, and `identity` is reserved because the token writes the identity
/// into the same object.
public enum GrantRules {
    /// Checks `grants` and returns them in request order.
    /// - Parameters:
    ///   - allowed: the caller's grant list; nil means any (the operator's offline `mint`).
    ///   - twilioProfile: whether the token will be in Twilio's layout.
    public static func validate(_ grants: JSONValue?, allowed: Set<String>?, twilioProfile: Bool) throws(TokenRequestError) -> JSONObject {
        guard let grants, grants != .null else { return JSONObject() }
        guard case .object(let object) = grants else {
            throw TokenRequestError(.invalidRequest, "grants must be an object, not \(grants.kindName)")
        }
        for member in object {
            let name = member.key
            if name == "identity" {
                throw TokenRequestError(.invalidRequest, "grant name 'identity' is reserved")
            }
            if name.isEmpty || name.unicodeScalars.contains(where: IdentityRule.isControl) {
                throw TokenRequestError(.invalidRequest, "grant names must be non-empty and without control characters")
            }
            guard case .object(let fields) = member.value else {
                throw TokenRequestError(.invalidRequest, "grant '\(name)' must be an object, not \(member.value.kindName)")
            }
            if let allowed, !allowed.contains(name) {
                throw TokenRequestError(.grantNotAllowed, "this caller may not issue the '\(name)' grant")
            }
            // Twilio's grants, fields and values (`TwilioGrants`): a misspelt `service_sid` or an
            // `AP…` where a `CR…` belongs would otherwise be a token the SDK refuses or ignores.
            if twilioProfile { try TwilioGrants.validate(name, fields) }
        }
        return object
    }
}
