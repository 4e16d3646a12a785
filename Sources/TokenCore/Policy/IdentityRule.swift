/// Who a token is for: 1…256 Unicode scalars and no control characters (a newline in an identity
/// would forge lines in any log that prints it).
public enum IdentityRule {
    public static let maximumLength = 256

    public static func validate(_ identity: String) throws(TokenRequestError) {
        let scalars = identity.unicodeScalars
        if scalars.isEmpty {
            throw TokenRequestError(.invalidRequest, "identity must not be empty")
        }
        if scalars.count > maximumLength {
            throw TokenRequestError(.invalidRequest, "identity is longer than \(maximumLength) characters")
        }
        if scalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw TokenRequestError(.invalidRequest, "identity must not contain control characters")
        }
    }
}
