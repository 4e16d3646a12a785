/// Who a token is for: 1…256 Unicode scalars and no control characters (a newline in an identity
/// would forge lines in any log that prints it).
public enum IdentityRule {
    public static let maximumLength = 256

    /// Unicode's control characters (Cc): U+0000–U+001F and U+007F–U+009F. Checked by range
    /// rather than by the general-category table, which this runs for every scalar of every request.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    public static func validate(_ identity: String) throws(TokenRequestError) {
        let scalars = identity.unicodeScalars
        if scalars.isEmpty {
            throw TokenRequestError(.invalidRequest, "identity must not be empty")
        }
        if scalars.count > maximumLength {
            throw TokenRequestError(.invalidRequest, "identity is longer than \(maximumLength) characters")
        }
        if scalars.contains(where: isControl) {
            throw TokenRequestError(.invalidRequest, "identity must not contain control characters")
        }
    }
}
