import Testing
@testable import TokenCore

/// Known-answer tests: RFC 4231 (HMAC-SHA256), FIPS 180-2 examples (SHA-2).
struct CryptoTests {
    struct HMACCase: Sendable, CustomTestStringConvertible {
        let name: String
        let key: [UInt8]
        let data: [UInt8]
        let expected: String
        var testDescription: String { name }
    }

    static let rfc4231: [HMACCase] = [
        HMACCase(name: "RFC 4231 case 1", key: [UInt8](repeating: 0x0b, count: 20), data: Array("Hi There".utf8),
                 expected: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        HMACCase(name: "RFC 4231 case 2", key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8),
                 expected: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        HMACCase(name: "RFC 4231 case 3", key: [UInt8](repeating: 0xaa, count: 20), data: [UInt8](repeating: 0xdd, count: 50),
                 expected: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        HMACCase(name: "RFC 4231 case 4", key: Array(1...25), data: [UInt8](repeating: 0xcd, count: 50),
                 expected: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        // Case 5 is truncated to 128 bits by the RFC.
        HMACCase(name: "RFC 4231 case 5", key: [UInt8](repeating: 0x0c, count: 20), data: Array("Test With Truncation".utf8),
                 expected: "a3b6167473100ee06e0c796c2955552b"),
        HMACCase(name: "RFC 4231 case 6", key: [UInt8](repeating: 0xaa, count: 131),
                 data: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                 expected: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        HMACCase(name: "RFC 4231 case 7", key: [UInt8](repeating: 0xaa, count: 131),
                 data: Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
                 expected: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test(arguments: rfc4231)
    func hmacSHA256KnownAnswers(_ testCase: HMACCase) {
        let mac = HMACKey(bytes: testCase.key).authenticationCode(for: testCase.data)
        #expect(mac.hex.hasPrefix(testCase.expected))
        #expect(mac.bytes.count == 32)
    }

    @Test func preKeyedContextIsReusable() {
        // The same key object must give the same MAC every time: the copied states are not consumed.
        let key = HMACKey(utf8: "Jefe")
        let first = key.authenticationCode(for: Array("what do ya want for nothing?".utf8))
        let second = key.authenticationCode(for: Array("what do ya want for nothing?".utf8))
        #expect(first == second)
        #expect(first.hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(key.isValidAuthenticationCode(first.bytes, for: Array("what do ya want for nothing?".utf8)))
        #expect(!key.isValidAuthenticationCode(first.bytes, for: Array("what do ya want for nothing!".utf8)))
    }

    @Test func sha256KnownAnswers() {
        #expect(SHA256.hash("").hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash("abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hex
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func sha512KnownAnswer() {
        #expect(SHA512.hash(Array("abc".utf8)).hex
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f")
    }

    @Test func constantTimeEquality() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equals([], []))
        #expect(Digest(bytes: [9, 9]) != Digest(bytes: [9, 8]))
    }

    @Test func secureRandomIsNotConstant() {
        let first = SecureRandom.bytes(32)
        let second = SecureRandom.bytes(32)
        #expect(first.count == 32)
        #expect(first != second)
        let ids = Set((0..<1000).map { _ in SecureRandom.identifier() })
        #expect(ids.count == 1000)
        #expect(ids.allSatisfy { $0.utf8.count == 22 && Base64URL.decode($0)?.count == 16 })
    }

    @Test func keysNeverDescribeTheirMaterial() {
        let key = HMACKey(utf8: "a-very-secret-value-0123456789abcdef")
        #expect(!String(describing: key).contains("secret"))
        #expect(String(describing: key) == "HMACKey(redacted)")
    }
}

struct EncodingTests {
    @Test func base64URLRoundTripsEveryLength() {
        for length in 0..<70 {
            let bytes = SecureRandom.bytes(length)
            let encoded = Base64URL.encode(bytes)
            #expect(!encoded.contains("=") && !encoded.contains("+") && !encoded.contains("/"))
            #expect(encoded.utf8.count == Base64URL.encodedLength(of: length))
            #expect(Base64URL.decode(encoded) == bytes)
        }
    }

    @Test func base64URLKnownValues() {
        #expect(Base64URL.encode(Array("f".utf8)) == "Zg")
        #expect(Base64URL.encode(Array("fo".utf8)) == "Zm8")
        #expect(Base64URL.encode(Array("foo".utf8)) == "Zm9v")
        #expect(Base64URL.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64URL.encode([0xfb, 0xff, 0xbf]) == "-_-_")
    }

    @Test func base64URLDecodingIsStrict() {
        #expect(Base64URL.decode("Zg==") == nil)       // padding
        #expect(Base64URL.decode("Zm9v YmFy") == nil)  // white space
        #expect(Base64URL.decode("Zm9v+mFy") == nil)   // standard alphabet
        #expect(Base64URL.decode("Z") == nil)          // impossible length
        #expect(Base64URL.decode("Zh") == nil)         // non-zero trailing bits: a second spelling of "f"
        #expect(Base64URL.decode("") == [])
    }

    /// The unrolled decoder against the textbook one (six bits at a time), on random strings
    /// of the alphabet with an occasional stranger: the same bytes, or nil, for every input.
    @Test func base64URLDecodingMatchesTheTextbookLoop() {
        func reference(_ text: [UInt8]) -> [UInt8]? {
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
            if text.count % 4 == 1 { return nil }
            var output: [UInt8] = []
            var accumulator: UInt32 = 0
            var bits = 0
            for byte in text {
                guard let value = alphabet.firstIndex(of: byte) else { return nil }
                accumulator = accumulator << 6 | UInt32(value)
                bits += 6
                if bits >= 8 {
                    bits -= 8
                    output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                    accumulator &= (1 << UInt32(bits)) - 1
                }
            }
            return accumulator == 0 ? output : nil
        }
        let characters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8) + Array("=+/ .\u{0}\u{ff}".utf8)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...24, using: &generator)
            let text = (0..<length).map { _ in
                Bool.random(using: &generator) && Int.random(in: 0..<40, using: &generator) == 0
                    ? characters[Int.random(in: 64..<characters.count, using: &generator)]
                    : characters[Int.random(in: 0..<64, using: &generator)]
            }
            #expect(Base64URL.decode(bytes: text) == reference(text), "\(String(decoding: text, as: UTF8.self))")
            #expect(Base64URL.decode(bytes: text[...]) == reference(text))
        }
    }

    @Test func hexRoundTrip() {
        #expect(Hex.encode([0x00, 0xab, 0xff]) == "00abff")
        #expect(Hex.decode("00ABff") == [0x00, 0xab, 0xff])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }

    @Test func timestamps() {
        #expect(Timestamp.rfc3339(unixSeconds: 0) == "1970-01-01T00:00:00Z")
        #expect(Timestamp.rfc3339(unixSeconds: 1_795_964_645) == "2026-11-29T15:04:05Z")
        #expect(Timestamp.rfc3339(unixSeconds: 951_782_400, milliseconds: 7) == "2000-02-29T00:00:00.007Z")
        #expect(Timestamp.rfc3339(unixSeconds: 4_107_542_399) == "2100-02-28T23:59:59Z")
    }
}
