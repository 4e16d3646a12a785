import RawStructuredFieldValues

/// RFC 9530 `Content-Digest`: a dictionary of algorithm → byte sequence.
public enum ContentDigest {
    /// The header value for `body`, as a signer sends it.
    public static func header(for body: [UInt8]) -> String {
        "sha-256=:\(Base64.encode(SHA256.hash(body).bytes)):"
    }

    public enum Outcome: Equatable {
        case matches
        case mismatch
        /// The header names no algorithm we implement, or is not a valid dictionary.
        case unusable(String)
    }

    /// Checks every algorithm we implement (sha-256, sha-512) that the header carries; at least
    /// one must be present, and all present must match.
    public static func verify(header: String, body: [UInt8]) -> Outcome {
        // The usual shape (`sha-256=:…:`) in one pass; anything else through the generic parser.
        let members: [(label: String, bytes: [UInt8])]
        if let parsed = SignatureFieldsParser.byteSequences(in: header) {
            members = parsed
        } else {
            switch parseGenerically(header) {
            case .success(let parsed): members = parsed
            case .failure(let why): return .unusable(why.message)
            }
        }
        var checked = 0
        for (algorithm, bytes) in members {
            let expected: Digest
            switch algorithm {
            case "sha-256": expected = SHA256.hash(body)
            case "sha-512": expected = SHA512.hash(body)
            default: continue
            }
            guard Digest(bytes: bytes) == expected else { return .mismatch }
            checked += 1
        }
        return checked > 0 ? .matches : .unusable("Content-Digest must use sha-256 or sha-512")
    }

    private struct Unusable: Error {
        let message: String
    }

    /// The members for the algorithms we implement, from any valid dictionary.
    private static func parseGenerically(_ header: String) -> Result<[(label: String, bytes: [UInt8])], Unusable> {
        let dictionary: OrderedMap<String, ItemOrInnerList>
        do {
            var parser = StructuredFieldValueParser(Array(header.utf8))
            dictionary = try parser.parseDictionaryFieldValue()
        } catch {
            return .failure(Unusable(message: "Content-Digest is not a valid structured-field dictionary"))
        }
        var members: [(label: String, bytes: [UInt8])] = []
        for (algorithm, member) in dictionary where algorithm == "sha-256" || algorithm == "sha-512" {
            guard case .item(let item) = member, case .undecodedByteSequence(let encoded) = item.rfc9651BareItem,
                  let bytes = Base64.decode(encoded) else {
                return .failure(Unusable(message: "Content-Digest \(algorithm) must be a byte sequence (:base64:)"))
            }
            members.append((algorithm, bytes))
        }
        return .success(members)
    }
}
