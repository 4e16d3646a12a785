import COpenSSL

/// A key for HMAC-SHA256 (RFC 2104), keyed once.
///
/// The key's inner and outer pad blocks are absorbed into two SHA-256 states when the key is
/// made; each MAC copies those states (plain structs) and hashes only the message, so keying costs
/// nothing per token. One-shot `HMAC()` would redo the key schedule on every call, which costs
/// about as much as signing a JWT itself. The raw key bytes are not kept, and `description` never
/// shows anything derived from them.
public struct HMACKey: Sendable, CustomStringConvertible {
    private let innerState: SHA256_CTX
    private let outerState: SHA256_CTX

    /// The key is the given bytes, as RFC 2104 defines it (longer than 64 bytes: hashed first).
    public init(bytes: some Sequence<UInt8>) {
        var key = Array(bytes)
        if key.count > SHA256.blockLength {
            key = SHA256.hash(key).bytes
        }
        key += [UInt8](repeating: 0, count: SHA256.blockLength - key.count)
        var pad = key.map { $0 ^ 0x36 }
        var inner = SHA256_CTX()
        tokend_sha256_init(&inner)
        tokend_sha256_update(&inner, pad, pad.count)
        for index in pad.indices { pad[index] = key[index] ^ 0x5c }
        var outer = SHA256_CTX()
        tokend_sha256_init(&outer)
        tokend_sha256_update(&outer, pad, pad.count)
        // Best effort: do not leave key material in freed heap memory.
        for index in key.indices { key[index] = 0; pad[index] = 0 }
        innerState = inner
        outerState = outer
    }

    /// The key is the UTF-8 bytes of `string`, as the secrets file and Twilio define it.
    public init(utf8 string: String) {
        self.init(bytes: string.utf8)
    }

    public func authenticationCode(for message: some Sequence<UInt8>) -> Digest {
        withContiguous(message) { raw in
            Digest(bytes: [UInt8](unsafeUninitializedCapacity: SHA256.digestLength) { buffer, count in
                authenticate(raw, into: buffer.baseAddress!)
                count = SHA256.digestLength
            })
        }
    }

    /// Checks `mac` against the MAC of `message` in constant time.
    public func isValidAuthenticationCode(_ mac: [UInt8], for message: some Sequence<UInt8>) -> Bool {
        ConstantTime.equals(authenticationCode(for: message).bytes, mac)
    }

    /// The hot path: MAC of `message` written to the 32 bytes at `output`, no allocation.
    public func authenticate(_ message: UnsafeRawBufferPointer, into output: UnsafeMutablePointer<UInt8>) {
        var context = innerState
        tokend_sha256_update(&context, message.baseAddress, message.count)
        tokend_sha256_final(output, &context)
        var outer = outerState
        tokend_sha256_update(&outer, output, SHA256.digestLength)
        tokend_sha256_final(output, &outer)
    }

    public var description: String { "HMACKey(redacted)" }
}
