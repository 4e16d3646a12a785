import Foundation

/// A plain TCP connection to a test server, for what an HTTP client library will not send: a
/// request without Host, two Host fields, HTTP/1.0, a head that never ends, garbage.
public final class RawConnection: @unchecked Sendable {
    // @unchecked: a connection is used by one test at a time; its reads run off the pool
    // (`offThePool`) but are awaited, never overlapped.
    private let descriptor: Int32
    private var isOpen = true

    /// `source`: the local address to connect from (another loopback address, 127.0.0.N).
    public init(port: Int, source: String? = nil) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            _ = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close()  // deinit still runs for a class that throws once initialized: close() is once only
            throw POSIXError(.ECONNREFUSED)
        }
    }

    deinit { close() }

    /// Closes our end (once).
    public func close() {
        guard isOpen else { return }
        isOpen = false
        Foundation.close(descriptor)
    }

    public func send(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Foundation.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }

    /// Sends what the kernel takes now without waiting: the bytes sent, 0 when its buffer is full
    /// (the server is not reading), nil when the connection is closed or reset.
    public func trySend(_ bytes: [UInt8]) -> Int? {
        let written = bytes.withUnsafeBytes { Foundation.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        if written >= 0 { return written }
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : nil
    }

    /// What the server sends within `timeout` seconds, and whether it closed the connection.
    /// Waited for off the cooperative pool: a read may take its whole timeout, and a test
    /// blocking a pool thread that long stalls the tests that share it.
    public func read(timeout: Double = 3, until done: @escaping @Sendable (String) -> Bool = { _ in false }) async -> (text: String, closed: Bool) {
        (try? await offThePool { self.readBlocking(timeout: timeout, until: done) }) ?? ("", false)
    }

    private func readBlocking(timeout: Double, until done: (String) -> Bool) -> (text: String, closed: Bool) {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while Date() < deadline {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&poller, 1, remaining) > 0 else { break }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return (String(decoding: received, as: UTF8.self), true) }
            received += buffer[..<count]
            if done(String(decoding: received, as: UTF8.self)) { break }
        }
        return (String(decoding: received, as: UTF8.self), false)
    }

    /// Sends `request` and reads one whole answer (head and a Content-Length body).
    public func exchange(_ request: String, timeout: Double = 3) async -> RawResponse {
        send(request)
        let (text, closed) = await read(timeout: timeout) { RawResponse($0).isComplete }
        return RawResponse(text, closed: closed)
    }
}

/// An HTTP/1.1 answer as text, split into its parts.
public struct RawResponse {
    public let text: String
    public let closed: Bool

    public init(_ text: String, closed: Bool = false) {
        self.text = text
        self.closed = closed
    }

    private var split: (head: Substring, body: Substring)? {
        guard let range = text.range(of: "\r\n\r\n") else { return nil }
        return (text[..<range.lowerBound], text[range.upperBound...])
    }

    public var status: Int? { split.flatMap { Int($0.head.split(separator: " ").dropFirst().first ?? "") } }
    public var body: String { split.map { String($0.body) } ?? "" }

    public func header(_ name: String) -> String? {
        guard let head = split?.head else { return nil }
        for line in head.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() { return parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    var isComplete: Bool {
        guard let split, let length = header("Content-Length").flatMap(Int.init) else { return false }
        return split.body.utf8.count >= length
    }

    public var errorCode: String? {
        guard let range = body.range(of: #""code":""#) else { return nil }
        return String(body[range.upperBound...].prefix { $0 != "\"" })
    }
}
