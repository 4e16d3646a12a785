import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TokenCore

/// A real HTTP client (AsyncHTTPClient) for the tests, with helpers for tokend's API.
public struct HTTPResult: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    public let body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }
    public var json: JSONObject? { (try? JSONParser.parse(body))?.objectValue }
    public var errorCode: String? { json?["error"]?.objectValue?["code"]?.stringValue }
    public var errorMessage: String? { json?["error"]?.objectValue?["message"]?.stringValue }
    public var token: String? { json?["token"]?.stringValue }
    public func header(_ name: String) -> String? { headers.first(name: name) }
}

public enum HTTPTestClient {
    public static func send(_ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                            timeout: TimeAmount = .seconds(15)) async throws -> HTTPResult {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: timeout)
        var buffer = try await response.body.collect(upTo: 4 << 20)
        return HTTPResult(status: Int(response.status.code), headers: response.headers, body: buffer.readBytes(length: buffer.readableBytes) ?? [])
    }

    /// POST /v1/tokens with an API key.
    public static func mint(_ base: String, apiKey: String, body: String, contentType: String = "application/json",
                            extraHeaders: [(String, String)] = [], timeout: TimeAmount = .seconds(15)) async throws -> HTTPResult {
        try await send("POST", base + "/v1/tokens",
                       headers: [("Authorization", "Bearer \(apiKey)"), ("Content-Type", contentType)] + extraHeaders,
                       body: Array(body.utf8), timeout: timeout)
    }

    /// POST /v1/tokens signed with RFC 9421 by tokend's own signer.
    public static func mintSigned(_ base: String, keyID: String, secret: String, body: String,
                                  created: Int = WallClock.now()) async throws -> (result: HTTPResult, headers: [(String, String)]) {
        let url = base + "/v1/tokens"
        let parts = RequestParts(method: "POST", url: url, body: Array(body.utf8))!
        let signature = try MessageSigner(keyID: keyID, secret: secret).sign(parts, created: created).map { ($0.name, $0.value) }
        let headers = [("Content-Type", "application/json")] + signature
        return (try await send("POST", url, headers: headers, body: Array(body.utf8)), headers)
    }
}

extension HTTPTestClient {
    /// POST with a streamed body and no Content-Length (chunked transfer encoding).
    public static func sendStreaming(_ url: String, apiKey: String, chunks: [[UInt8]]) async throws -> HTTPResult {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        request.headers.add(name: "Content-Type", value: "application/json")
        let stream = AsyncStream<ByteBuffer> { continuation in
            for chunk in chunks { continuation.yield(ByteBuffer(bytes: chunk)) }
            continuation.finish()
        }
        request.body = .stream(stream, length: .unknown)
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        var buffer = try await response.body.collect(upTo: 4 << 20)
        return HTTPResult(status: Int(response.status.code), headers: response.headers, body: buffer.readBytes(length: buffer.readableBytes) ?? [])
    }
}
