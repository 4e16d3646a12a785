import COpenSSL
import Synchronization

/// Cryptographically secure random bytes from OpenSSL's DRBG (`RAND_bytes`).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer))
            initialized = count
        }
    }

    /// Fails closed: if the DRBG cannot produce bytes, no token id or key may be made from
    /// whatever happens to be in the buffer, so the process stops.
    static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count > 0 else { return }
        let status = RAND_bytes(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(buffer.count))
        precondition(status == 1, "OpenSSL RAND_bytes failed; refusing to continue without randomness")
    }

    /// Random bytes for token ids, drawn from a pool that `RAND_bytes` refills 4 KiB at a time.
    /// Each `RAND_bytes` call costs a fork check (a `getpid` system call), a lock and the DRBG's
    /// setup, more than an HMAC of a whole token; one call per 256 token ids makes it vanish. The
    /// bytes are the DRBG's all the same, each handed out once. Keys never come from here.
    static func pooled128Bits() -> (UInt64, UInt64) {
        pool.withLock { $0.take128Bits() }
    }

    /// 128 random bits as 22 base64url characters, from the pool: token ids and request ids,
    /// made on every request.
    public static func identifier() -> String {
        let random = pooled128Bits()
        return withUnsafeBytes(of: random) { raw in
            String(unsafeUninitializedCapacity: Base64URL.encodedLength(of: 16)) { buffer in
                Base64URL.encode(raw, into: buffer.baseAddress!)
            }
        }
    }

    private static let pool = Mutex(RandomPool())
}

private struct RandomPool: ~Copyable {
    private static let size = 4096
    private let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: RandomPool.size, alignment: 16)
    private var next = RandomPool.size

    mutating func take128Bits() -> (UInt64, UInt64) {
        if next + 16 > Self.size {
            SecureRandom.fill(storage)
            next = 0
        }
        let value = (storage.loadUnaligned(fromByteOffset: next, as: UInt64.self),
                     storage.loadUnaligned(fromByteOffset: next + 8, as: UInt64.self))
        // Wipe what was handed out so the same bytes can never be handed out again.
        storage.storeBytes(of: 0, toByteOffset: next, as: UInt64.self)
        storage.storeBytes(of: 0, toByteOffset: next + 8, as: UInt64.self)
        next += 16
        return value
    }

    deinit {
        storage.deallocate()
    }
}
