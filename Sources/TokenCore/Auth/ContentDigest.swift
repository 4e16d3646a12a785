import RawStructuredFieldValues

/// RFC 9530 `Content-Digest`: a dictionary of algorithm → byte sequence.
public enum ContentDigest {
    /// The header value for `body`, as a signer sends it.
    public static func header(for body: [UInt8]) -> String {
        "sha-256=:\(standardBase64(SHA256.hash(body).bytes)):"
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
        let dictionary: OrderedMap<String, ItemOrInnerList>
        do {
            var parser = StructuredFieldValueParser(Array(header.utf8))
            dictionary = try parser.parseDictionaryFieldValue()
        } catch {
            return .unusable("Content-Digest is not a valid structured-field dictionary")
        }
        var checked = 0
        for (algorithm, member) in dictionary {
            let expected: Digest
            switch algorithm {
            case "sha-256": expected = SHA256.hash(body)
            case "sha-512": expected = SHA512.hash(body)
            default: continue
            }
            guard case .item(let item) = member, case .undecodedByteSequence(let encoded) = item.rfc9651BareItem,
                  let bytes = decodeStandardBase64(encoded) else {
                return .unusable("Content-Digest \(algorithm) must be a byte sequence (:base64:)")
            }
            guard Digest(bytes: bytes) == expected else { return .mismatch }
            checked += 1
        }
        return checked > 0 ? .matches : .unusable("Content-Digest must use sha-256 or sha-512")
    }
}

/// Standard base64 with padding (RFC 4648 §4), which structured-field byte sequences use.
func standardBase64(_ bytes: [UInt8]) -> String {
    Base64URL.encode(bytes).map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 }
        .reduce(into: "") { $0.append($1) } + String(repeating: "=", count: (3 - bytes.count % 3) % 3)
}

func decodeStandardBase64(_ text: String) -> [UInt8]? {
    var trimmed = Substring(text)
    while trimmed.hasSuffix("=") { trimmed = trimmed.dropLast() }
    guard text.utf8.count % 4 == 0, !trimmed.contains("-"), !trimmed.contains("_") else { return nil }
    let urlSafe = String(trimmed.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    return Base64URL.decode(urlSafe)
}
