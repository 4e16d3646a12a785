import TokenCore

/// Every request has an id, echoed in `X-Request-Id` and written in the access log and the audit
/// record: the caller's own when it is sane, else a fresh one.
enum RequestID {
    /// 1…128 characters of `[A-Za-z0-9._:-]`: enough for UUIDs and trace ids, nothing that
    /// could break a log line or a header.
    static func from(_ header: String?) -> String {
        if let header, (1...128).contains(header.utf8.count), header.utf8.allSatisfy(isAllowed) {
            return header
        }
        return SecureRandom.identifier()
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"): true
        default: false
        }
    }
}
