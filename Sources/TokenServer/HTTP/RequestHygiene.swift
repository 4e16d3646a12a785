import NIOHTTP1
import TokenCore

/// The checks on a request head alone: exactly one valid `Host`, no transfer coding but
/// `chunked` and at least one, no `CONNECT`, no expectation but `100-continue`. Pure functions,
/// so they are tested on values as well as over a socket.
enum RequestHygiene {
    enum Problem: Equatable {
        case missingHost
        case duplicateHost
        case invalidHost
        case emptyTransferEncoding
        case unsupportedTransferCoding
        case connect
        case unsupportedExpectation
    }

    static func check(_ head: HTTPRequestHead) -> Problem? {
        var host: String?
        var hostCount = 0
        var transferCodings: [String] = []
        if head.method == .CONNECT { return .connect }
        for (name, value) in head.headers {
            if Self.equalsIgnoringCase(name, "host") {
                hostCount += 1
                host = value
            } else if Self.equalsIgnoringCase(name, "transfer-encoding") {
                transferCodings.append(value)
            } else if Self.equalsIgnoringCase(name, "expect"), !Self.isContinue(value) {
                return .unsupportedExpectation
            }
        }
        guard hostCount > 0, let host else { return .missingHost }
        guard hostCount == 1 else { return .duplicateHost }
        guard isValidHost(host) else { return .invalidHost }
        // The decoder frames `chunked` bodies; any other coding (gzip, compress, an unknown
        // token) is one this server does not implement (RFC 9112 §6.1: 501). A field that names
        // no coding at all is malformed (the decoder would take it as "no body": 400).
        if !transferCodings.isEmpty {
            let codings = transferCodings.flatMap { $0.split(separator: ",") }.map(\.trimmingWhitespace).filter { !$0.isEmpty }
            guard !codings.isEmpty else { return .emptyTransferEncoding }
            if codings.contains(where: { $0.lowercased() != "chunked" }) { return .unsupportedTransferCoding }
        }
        return nil
    }

    /// `Expect: 100-continue` on an HTTP/1.1 request that has a body to send.
    static func expectsContinue(_ head: HTTPRequestHead) -> Bool {
        guard head.version.major == 1, head.version.minor >= 1, let expect = head.headers.first(name: "expect"), isContinue(expect) else {
            return false
        }
        return head.headers.contains(name: "transfer-encoding") || (head.headers.first(name: "content-length").flatMap(Int.init) ?? 0) > 0
    }

    private static func isContinue(_ value: String) -> Bool {
        value.trimmingWhitespace.lowercased() == "100-continue"
    }

    /// The request offers a protocol upgrade the way the decoder recognises one (`Upgrade` with
    /// `Connection: upgrade`): the decoder parses nothing after it, so its answer is the last.
    static func offersUpgrade(_ head: HTTPRequestHead) -> Bool {
        guard head.headers.contains(name: "upgrade") else { return false }
        return head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }
    }

    /// ASCII case-insensitive equality with a lower-case `expected`, without making a string.
    private static func equalsIgnoringCase(_ name: String, _ expected: StaticString) -> Bool {
        guard name.utf8.count == expected.utf8CodeUnitCount else { return false }
        return expected.withUTF8Buffer { expected in
            zip(name.utf8, expected).allSatisfy { ASCII.lowercase($0) == $1 }
        }
    }

    /// RFC 9110 §7.2 / RFC 3986 §3.2: `host [":" port]`, where host is a bracketed IP literal or
    /// a reg-name / IPv4 address of unreserved, percent-encoded and sub-delim characters.
    static func isValidHost(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty, bytes.count <= 255 + 6 else { return false }
        var hostEnd = bytes.count
        var index = 0
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1 else { return false }
            guard bytes[1..<close].allSatisfy({ isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else { return false }
            index = close + 1
            hostEnd = close + 1
            guard index == bytes.count || bytes[index] == UInt8(ascii: ":") else { return false }
        } else {
            hostEnd = bytes.firstIndex(of: UInt8(ascii: ":")) ?? bytes.count
            guard hostEnd > 0, bytes[..<hostEnd].allSatisfy(isRegNameByte) else { return false }
            index = hostEnd
        }
        guard index < bytes.count else { return true }
        // ":" then the port: 1…5 digits, at most 65535.
        let port = bytes[(index + 1)...]
        guard (1...5).contains(port.count), port.allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
        return Int(String(decoding: port, as: UTF8.self))! <= 65535 && hostEnd <= 255
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }

    /// unreserved / pct-encoded ("%") / sub-delims.
    private static func isRegNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "%"),
             UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="):
            return true
        default: return false
        }
    }
}
