import COpenSSL

/// SHA-256 from libcrypto.
public enum SHA256 {
    public static let digestLength = 32
    /// SHA-256's block size, which RFC 2104 uses to pad HMAC keys.
    static let blockLength = 64

    public static func hash(_ bytes: some Sequence<UInt8>) -> Digest {
        withContiguous(bytes) { Digest(bytes: hash(raw: $0)) }
    }

    public static func hash(_ string: String) -> Digest {
        hash(string.utf8)
    }

    static func hash(raw: UnsafeRawBufferPointer) -> [UInt8] {
        var context = SHA256_CTX()
        tokend_sha256_init(&context)
        tokend_sha256_update(&context, raw.baseAddress, raw.count)
        return finish(&context)
    }

    /// Writes the digest of `context` into a new array; `context` is consumed.
    static func finish(_ context: inout SHA256_CTX) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: digestLength) { buffer, count in
            tokend_sha256_final(buffer.baseAddress, &context)
            count = digestLength
        }
    }
}

/// SHA-512 from libcrypto: RFC 9530 `Content-Digest: sha-512=…`.
public enum SHA512 {
    public static let digestLength = 64

    public static func hash(_ bytes: some Sequence<UInt8>) -> Digest {
        withContiguous(bytes) { raw in
            var context = SHA512_CTX()
            tokend_sha512_init(&context)
            tokend_sha512_update(&context, raw.baseAddress, raw.count)
            return Digest(bytes: [UInt8](unsafeUninitializedCapacity: digestLength) { buffer, count in
                tokend_sha512_final(buffer.baseAddress, &context)
                count = digestLength
            })
        }
    }
}

/// Runs `body` over the bytes of `sequence`, copying only when they are not already contiguous.
func withContiguous<R>(_ sequence: some Sequence<UInt8>, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    if let result = sequence.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
        return result
    }
    return Array(sequence).withUnsafeBytes(body)
}
