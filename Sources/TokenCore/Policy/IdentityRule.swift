/// Who a token is for: 1…256 Unicode scalars, with at least one visible character, and no
/// control, format (Cf), line or paragraph separator, variation selector or noncharacter code
/// points (a newline in an identity would forge lines in any log that prints it; a bidi override
/// would make it read as someone else's; an identity of fillers alone, or one that differs from
/// another only by a variation selector, would look like nobody or like someone else).
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
        // ASCII needs no more checks; other scalars are looked up (identities are short).
        if !scalars.allSatisfy(\.isASCII), let bad = scalars.first(where: isInvisibleOrSeparator) {
            let hex = String(bad.value, radix: 16, uppercase: true)
            throw TokenRequestError(.invalidRequest, "identity must not contain U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex) (format, separator, variation selector or noncharacter code points)")
        }
        if !scalars.contains(where: isVisible) {
            throw TokenRequestError(.invalidRequest, "identity must not be blank (it has no visible character)")
        }
    }

    /// A scalar that shows as something: not white space, not a default-ignorable code point
    /// (U+3164 and the other Hangul fillers among them), not a mark alone, not the blank Braille
    /// pattern U+2800.
    static func isVisible(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return scalar.value > 0x20 }
        let properties = scalar.properties
        if properties.isWhitespace || properties.isDefaultIgnorableCodePoint || scalar.value == 0x2800 { return false }
        switch properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .spacingMark: return false
        default: return true
        }
    }

    /// Format characters (Cf: bidi overrides and isolates, zero-width spaces and joiners, the
    /// BOM), line and paragraph separators (U+2028, U+2029), variation selectors (U+FE00–FE0F,
    /// U+E0100–E01EF, the Mongolian ones) and noncharacters: invisible or line-breaking in what
    /// displays or splits an identity.
    static func isInvisibleOrSeparator(_ scalar: Unicode.Scalar) -> Bool {
        guard !scalar.isASCII else { return false }
        switch scalar.properties.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator: return true
        default: return scalar.properties.isNoncharacterCodePoint || scalar.properties.isVariationSelector
        }
    }
}
