import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TokenCore

#if canImport(Glibc)
import Glibc
#endif

/// One HTTP request from the CLI to a running tokend (`mint --url`, `health`).
enum HTTPCall {
    struct Answer {
        let status: Int
        let body: [UInt8]
    }

    static func send(method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
                     timeout: TimeAmount = .seconds(10)) async throws(CommandFailure) -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        // A refused port fails at once and an unroutable address within seconds: one attempt,
        // no retries with backoff until the connect timeout (which would hide the cause too).
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(3))
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { client.shutdown { _ in } }
        do {
            let response = try await client.execute(request, timeout: timeout)
            var buffer = try await response.body.collect(upTo: 1 << 20)
            return Answer(status: Int(response.status.code), body: buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch {
            throw .refused("cannot reach \(url): \(cause(of: error))")
        }
    }

    /// What went wrong, in the words an operator searches for: "connection refused", not
    /// NIO's "connection reset (error set): Connection refused (errno: 111)".
    static func cause(of error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        if let connect = error as? NIOConnectionError {
            if let first = connect.connectionErrors.first?.error { return cause(of: first) }
            if let dns = connect.dnsAAAAError ?? connect.dnsAError { return "cannot resolve the host name (\(dns))" }
        }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout: return "connect timed out (nothing answered within 3 s)"
            case .deadlineExceeded, .readTimeout: return "no answer in time"
            case .remoteConnectionClosed: return "the server closed the connection"
            case .invalidURL: return "not a URL (it needs http:// or https://)"
            default: return "\(client)"
            }
        }
        // TLS, in the operator's terms: BoringSSL's own text names a source file of this build.
        if let tls = error as? NIOSSLError {
            switch tls {
            case .handshakeFailed(let underlying):
                if "\(underlying)".contains("WRONG_VERSION_NUMBER") { return "the TLS handshake failed: the server does not speak TLS on this port (try http://)" }
                if "\(underlying)".contains("CERTIFICATE_VERIFY_FAILED") { return "the TLS handshake failed: the server's certificate is not trusted" }
                return "the TLS handshake failed"
            default:
                return "TLS failed (\(String(describing: tls).prefix { $0 != "(" }))"
            }
        }
        if error is BoringSSLError { return "TLS failed" }
        return "\(error)"
    }

    /// The `message` of a JSON error answer, or the status alone.
    static func errorMessage(_ answer: Answer) -> String {
        let message = (try? JSONParser.parse(answer.body))?.objectValue?["error"]?.objectValue?["message"]?.stringValue
        return "HTTP \(answer.status)" + (message.map { ": \($0)" } ?? "")
    }
}
