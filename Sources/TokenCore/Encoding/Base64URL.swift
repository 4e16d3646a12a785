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
        decode(bytes: Array(text.utf8))
    }

    public static func decode(bytes input: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(input)
        if input.count % 4 == 1 { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = decodeTable[Int(byte)]
            if value == 255 { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        if accumulator != 0 { return nil }
        return output
    }
}
