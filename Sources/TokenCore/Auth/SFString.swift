/// A structured-field string (RFC 8941 §3.3.3) as it is serialized: in quotes, with `"` and `\`
/// escaped. The signature's parameters line and the base's component identifiers both write
/// one, and must write it alike for a signature to verify.
enum SFString {
    static func append(_ text: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
