/// base64url without padding (RFC 4648 §5, as JWS uses it, RFC 7515 §2).
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Two output characters per 12 input bits, laid out so that one 16-bit store writes them
    /// in order: half the table lookups of the textbook loop.
    private static let pairs: [UInt16] = (0..<4096).map { index in
        (UInt16(alphabet[index >> 6]) | UInt16(alphabet[index & 63]) << 8).littleEndian
    }

    /// 255 marks a byte that is not in the alphabet.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    public static func encodedLength(of count: Int) -> Int {
        (count * 4 + 2) / 3
    }

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        withContiguous(bytes) { raw in
            String(unsafeUninitializedCapacity: encodedLength(of: raw.count)) { encode(raw, into: $0.baseAddress!) }
        }
    }

    /// Writes the encoding of `input` at `output`, which must have room for
    /// `encodedLength(of: input.count)` bytes; returns the number written. The JWT encoder
    /// builds a whole token in one buffer with this, one table lookup per output byte.
    static func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutablePointer<UInt8>) -> Int {
        alphabet.withUnsafeBufferPointer { table in
            let table = table.baseAddress!
            var inIndex = 0
            var outIndex = 0
            let count = input.count
            pairs.withUnsafeBufferPointer { pairs in
                let raw = UnsafeMutableRawPointer(output)
                // Six input bytes (from one 8-byte load) to eight characters per step.
                while inIndex + 8 <= count {
                    let word = UInt64(bigEndian: input.loadUnaligned(fromByteOffset: inIndex, as: UInt64.self))
                    raw.storeBytes(of: pairs[Int(word >> 52)], toByteOffset: outIndex, as: UInt16.self)
                    raw.storeBytes(of: pairs[Int(word >> 40 & 0xFFF)], toByteOffset: outIndex + 2, as: UInt16.self)
                    raw.storeBytes(of: pairs[Int(word >> 28 & 0xFFF)], toByteOffset: outIndex + 4, as: UInt16.self)
                    raw.storeBytes(of: pairs[Int(word >> 16 & 0xFFF)], toByteOffset: outIndex + 6, as: UInt16.self)
                    inIndex += 6
                    outIndex += 8
                }
                while inIndex + 3 <= count {
                    let chunk = Int(input[inIndex]) << 16 | Int(input[inIndex + 1]) << 8 | Int(input[inIndex + 2])
                    raw.storeBytes(of: pairs[chunk >> 12], toByteOffset: outIndex, as: UInt16.self)
                    raw.storeBytes(of: pairs[chunk & 0xFFF], toByteOffset: outIndex + 2, as: UInt16.self)
                    inIndex += 3
                    outIndex += 4
                }
            }
            switch count - inIndex {
            case 1:
                let chunk = UInt32(input[inIndex]) << 16
                output[outIndex] = table[Int(chunk >> 18 & 63)]
                output[outIndex + 1] = table[Int(chunk >> 12 & 63)]
                outIndex += 2
            case 2:
                let chunk = UInt32(input[inIndex]) << 16 | UInt32(input[inIndex + 1]) << 8
                output[outIndex] = table[Int(chunk >> 18 & 63)]
                output[outIndex + 1] = table[Int(chunk >> 12 & 63)]
                output[outIndex + 2] = table[Int(chunk >> 6 & 63)]
                outIndex += 3
            default:
                break
            }
            return outIndex
        }
    }

    /// Strict decoding: no padding, no white space, no characters outside the alphabet, and no
    /// non-zero bits after the last whole byte, so every byte string has exactly one encoding
    /// (a token cannot be altered in its encoding and still verify). Returns nil when invalid.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        decode(bytes: text.utf8)
    }

    public static func decode(bytes input: some Collection<UInt8>) -> [UInt8]? {
        if let decoded = input.withContiguousStorageIfAvailable({ decode(UnsafeRawBufferPointer($0)) }) { return decoded }
        return Array(input).withUnsafeBytes { decode($0) }
    }

    /// Four characters to three bytes per step, through one table pointer. A character outside
    /// the alphabet maps to 255, whose top bits no valid value has: the bytes are ORed together
    /// and checked once at the end rather than per character.
    private static func decode(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        let count = input.count
        if count % 4 == 1 { return nil }
        var valid = false
        let output = decodeTable.withUnsafeBufferPointer { table in
            [UInt8](unsafeUninitializedCapacity: count * 3 / 4) { output, initialized in
                var seen: UInt8 = 0
                var inIndex = 0
                var outIndex = 0
                while inIndex + 4 <= count {
                    let a = table[Int(input[inIndex])], b = table[Int(input[inIndex + 1])]
                    let c = table[Int(input[inIndex + 2])], d = table[Int(input[inIndex + 3])]
                    seen |= a | b | c | d
                    output[outIndex] = a << 2 | b >> 4
                    output[outIndex + 1] = b << 4 | c >> 2
                    output[outIndex + 2] = c << 6 | d
                    inIndex += 4
                    outIndex += 3
                }
                // The last group: 2 characters make one byte (4 bits left over), 3 make two (2
                // left over); left-over bits must be zero, so that each byte string has one encoding.
                var leftOver: UInt8 = 0
                switch count - inIndex {
                case 2:
                    let a = table[Int(input[inIndex])], b = table[Int(input[inIndex + 1])]
                    seen |= a | b
                    output[outIndex] = a << 2 | b >> 4
                    leftOver = b & 0x0F
                    outIndex += 1
                case 3:
                    let a = table[Int(input[inIndex])], b = table[Int(input[inIndex + 1])], c = table[Int(input[inIndex + 2])]
                    seen |= a | b | c
                    output[outIndex] = a << 2 | b >> 4
                    output[outIndex + 1] = b << 4 | c >> 2
                    leftOver = c & 0x03
                    outIndex += 2
                default:
                    break
                }
                initialized = outIndex
                valid = seen & 0xC0 == 0 && leftOver == 0
            }
        }
        return valid ? output : nil
    }
}
