/// Compact JWS with HS256 (RFC 7515 §7.1): `base64url(header).base64url(payload).base64url(mac)`.
enum JWS {
    /// Signs `payload` under a header that was encoded once, when the key was loaded, building
    /// the whole token in one buffer.
    static func sign(encodedHeader: [UInt8], payload: UnsafeRawBufferPointer, key: HMACKey) -> String {
        let signingInputLength = encodedHeader.count + 1 + Base64URL.encodedLength(of: payload.count)
        let length = signingInputLength + 1 + Base64URL.encodedLength(of: SHA256.digestLength)
        // Written straight into the string's own storage: no intermediate buffer to copy.
        return String(unsafeUninitializedCapacity: length) { token in
            let base = token.baseAddress!
            var offset = encodedHeader.withUnsafeBufferPointer { header in
                base.update(from: header.baseAddress!, count: header.count)
                return header.count
            }
            base[offset] = UInt8(ascii: ".")
            offset += 1
            offset += Base64URL.encode(payload, into: base + offset)
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: SHA256.digestLength) { mac in
                key.authenticate(UnsafeRawBufferPointer(start: base, count: signingInputLength), into: mac.baseAddress!)
                base[offset] = UInt8(ascii: ".")
                offset += 1
                offset += Base64URL.encode(UnsafeRawBufferPointer(mac), into: base + offset)
            }
            return offset
        }
    }

    /// The header as JSON in a fixed member order, then base64url.
    static func encodeHeader(_ members: KeyValuePairs<String, String>) -> [UInt8] {
        var writer = JSONWriter(capacity: 96)
        writer.append(byte: UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { writer.append(byte: UInt8(ascii: ",")) }
            writer.key(member.key)
            writer.string(member.value)
        }
        writer.append(byte: UInt8(ascii: "}"))
        return writer.withBytes { Array(Base64URL.encode($0).utf8) }
    }
}
