import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import TokenCore

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
        // A refused or unroutable address fails within seconds, not the whole request timeout.
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(3))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { client.shutdown { _ in } }
        do {
            let response = try await client.execute(request, timeout: timeout)
            var buffer = try await response.body.collect(upTo: 1 << 20)
            return Answer(status: Int(response.status.code), body: buffer.readBytes(length: buffer.readableBytes) ?? [])
        } catch {
            throw .refused("cannot reach \(url): \(error)")
        }
    }

    /// The `message` of a JSON error answer, or the status alone.
    static func errorMessage(_ answer: Answer) -> String {
        let message = (try? JSONParser.parse(answer.body))?.objectValue?["error"]?.objectValue?["message"]?.stringValue
        return "HTTP \(answer.status)" + (message.map { ": \($0)" } ?? "")
    }
}
