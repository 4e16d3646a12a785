/// Standard base64 with padding (RFC 4648 §4), which structured-field byte sequences use (the
/// `Signature` and `Content-Digest` values): the base64url coder with the two alphabet
/// differences and the padding handled here.
enum Base64 {
    /// `bytes` as padded standard base64.
    static func encode(_ bytes: [UInt8]) -> String {
        var encoded = Array(Base64URL.encode(bytes).utf8)
        for index in encoded.indices {
            if encoded[index] == UInt8(ascii: "-") { encoded[index] = UInt8(ascii: "+") }
            else if encoded[index] == UInt8(ascii: "_") { encoded[index] = UInt8(ascii: "/") }
        }
        encoded += repeatElement(UInt8(ascii: "="), count: (3 - bytes.count % 3) % 3)
        return String(decoding: encoded, as: UTF8.self)
    }

    /// RFC 8941 §4.2.7: a parser SHOULD accept a byte sequence without its `=` padding.
    static func decode(_ text: String) -> [UInt8]? {
        var bytes = Array(text.utf8)
        guard bytes.count % 4 != 1 else { return nil }
        if bytes.count % 4 != 0, !bytes.contains(UInt8(ascii: "=")) {
            bytes += repeatElement(UInt8(ascii: "="), count: 4 - bytes.count % 4)
        }
        guard bytes.count % 4 == 0 else { return nil }
        var padding = 0
        while padding < 2, bytes.last == UInt8(ascii: "=") {
            bytes.removeLast()
            padding += 1
        }
        for index in bytes.indices {
            switch bytes[index] {
            case UInt8(ascii: "+"): bytes[index] = UInt8(ascii: "-")
            case UInt8(ascii: "/"): bytes[index] = UInt8(ascii: "_")
            case UInt8(ascii: "-"), UInt8(ascii: "_"): return nil  // the URL-safe alphabet is not base64
            default: break
            }
        }
        return Base64URL.decode(bytes: bytes)
    }
}
