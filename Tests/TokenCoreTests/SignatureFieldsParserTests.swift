import Testing
@testable import TokenCore

/// The one-pass parser of the common `Signature-Input`/`Signature` shape must reach exactly the
/// generic structured-field parser's result, or decline (nil) and leave the request to it.
struct SignatureFieldsParserTests {
    static let signature = "sig1=:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=:"

    static let agreeing: [String] = [
        #"sig1=("@method" "@target-uri" "content-digest");created=1700000000;keyid="web";alg="hmac-sha256";nonce="n-1""#,
        #"sig1=("@method" "@authority" "@path");created=1;keyid="a \"quoted\" \\ key";expires=99"#,
        #"sig1=( "@method"   "@target-uri" );created=-0;keyid="web";flag;off=?0;tok=abc/def:1"#,
        #"other=("date");created=5, sig1=("@method" "@target-uri");created=007;keyid="web""#,
        #"sig1=();created=1;keyid="web""#,
    ]

    static let declined: [String] = [
        #"sig1=("@method";req "@target-uri");created=1;keyid="web""#,  // a component parameter
        #"sig1=("@method" "@target-uri");created=1.5;keyid="web""#,     // a decimal
        #"sig1=("@method" "@target-uri");created="1";keyid="web""#,     // a string where an integer belongs
        #"sig1=("@method" "@target-uri");created=1;created=2"#,          // a repeated parameter
        #"sig1=("@method" "@method");created=1"#,                        // a repeated component
        #"sig1=("@method");created;keyid="web""#,                        // `created` as a boolean
        #"sig1=("@method");created=1, sig1=("@path");created=2"#,        // a repeated label
        #"sig1=("@method");created=1,"#,                                 // a trailing comma
        #"sig1=("@method");b=:AAAA:"#,                                   // a byte-sequence parameter
        #"Sig1=("@method");created=1"#,                                  // an upper-case key
        #"nomatch=("@method");created=1"#,                               // no label in both
        "",
    ]

    @Test(arguments: agreeing)
    func agreesWithTheGenericParser(_ input: String) throws {
        let fast = try #require(SignatureFieldsParser.parse(signatureInput: input, signature: Self.signature))
        let generic = try MessageSignature.parseGenerically(signatureInput: input, signature: Self.signature)
        #expect(fast.label == generic.label)
        #expect(fast.componentNames == generic.componentNames)
        #expect(String(decoding: fast.parametersLine, as: UTF8.self) == String(decoding: generic.parametersLine, as: UTF8.self))
        #expect(fast.signature == generic.signature)
        #expect(fast.keyID == generic.keyID && fast.nonce == generic.nonce && fast.algorithm == generic.algorithm)
        #expect(fast.created == generic.created && fast.expires == generic.expires && fast.tag == generic.tag)
    }

    @Test(arguments: declined)
    func declinesWhatItDoesNotHandle(_ input: String) {
        #expect(SignatureFieldsParser.parse(signatureInput: input, signature: Self.signature) == nil)
    }

    @Test func malformedSignatureValuesAreDeclined() {
        let input = #"sig1=("@method");created=1;keyid="web""#
        for signature in ["sig1=:not base64!:", "sig1=AAAA", "sig1=:AAAA:;p=1", "sig1=:AAAA", ""] {
            #expect(SignatureFieldsParser.parse(signatureInput: input, signature: signature) == nil, "\(signature)")
        }
    }
}

/// `Content-Digest` takes the same one-pass path when it is a plain dictionary of byte
/// sequences, and the generic one otherwise, with the same outcomes.
struct ContentDigestShapeTests {
    static let body = Array(#"{"identity":"alice"}"#.utf8)

    @Test func usualAndUnusualShapesVerifyAlike() {
        let digest = ContentDigest.header(for: Self.body)  // sha-256=:…:
        let encoded = String(digest.dropFirst("sha-256=".count))
        #expect(SignatureFieldsParser.byteSequences(in: digest) != nil)
        #expect(ContentDigest.verify(header: digest, body: Self.body) == .matches)
        // With a parameter, or beside a member of another type: the generic parser's path.
        for header in ["sha-256=\(encoded);p=1", "md5=?1, sha-256=\(encoded)", "sha-256=\(encoded),  unixsum=3"] {
            #expect(SignatureFieldsParser.byteSequences(in: header) == nil, "\(header)")
            #expect(ContentDigest.verify(header: header, body: Self.body) == .matches, "\(header)")
        }
        #expect(ContentDigest.verify(header: digest, body: Self.body + [0x20]) == .mismatch)
        #expect(ContentDigest.verify(header: "md5=:AAAA:", body: Self.body) == .unusable("Content-Digest must use sha-256 or sha-512"))
        #expect(ContentDigest.verify(header: "sha-256=1", body: Self.body) == .unusable("Content-Digest sha-256 must be a byte sequence (:base64:)"))
        #expect(ContentDigest.verify(header: "sha-256=:AA", body: Self.body) == .unusable("Content-Digest is not a valid structured-field dictionary"))
    }
}
