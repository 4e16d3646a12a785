import Foundation
import Testing
import TestSupport
import TokenCore

/// HTTP hygiene, over raw sockets: what a framework used to do, done by tokend's own
/// pipeline.
struct HTTPHygieneTests {
    @Test func aKnownPathWithTheWrongMethodIs405WithAllow() async throws {
        let fixture = try await Fixture.start()
        for (method, path, allow) in [("POST", "/healthz", "GET, HEAD"), ("DELETE", "/metrics", "GET, HEAD"),
                                      ("GET", "/v1/tokens", "POST"), ("PUT", "/v1/tokens", "POST")] {
            let response = try await RawConnection(port: fixture.server.port)
                .exchange("\(method) \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n")
            #expect(response.status == 405, "\(method) \(path)")
            #expect(response.header("Allow") == allow)
            #expect(response.errorCode == "method_not_allowed")
            #expect(response.header("Content-Type") == "application/json")
        }
        await fixture.server.stop()
    }

    @Test func headAnswersLikeGetWithoutTheBody() async throws {
        let fixture = try await Fixture.start()
        let connection = try RawConnection(port: fixture.server.port)
        let head = await connection.exchange("HEAD /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", timeout: 1)
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "15")  // the length GET's body has
        #expect(head.body.isEmpty)
        // Had a body been sent, it would be read as the start of the next answer.
        let get = await connection.exchange("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(get.status == 200 && get.body == #"{"status":"ok"}"#)
        await fixture.server.stop()
    }

    @Test func hostMustBePresentOnceAndValid() async throws {
        let fixture = try await Fixture.start()
        for headers in ["", "Host: a\r\nHost: b\r\n", "Host: bad host\r\n", "Host: a:99999\r\n", "Host: a/b\r\n", "Host: \r\n"] {
            let response = try await RawConnection(port: fixture.server.port).exchange("GET /healthz HTTP/1.1\r\n\(headers)\r\n")
            #expect(response.status == 400, "\(headers.debugDescription)")
            #expect(response.errorCode == "bad_request")
            #expect(response.header("Connection") == "close")
        }
        for host in ["localhost", "127.0.0.1:8080", "[::1]:80", "tokend.internal"] {
            let response = try await RawConnection(port: fixture.server.port).exchange("GET /healthz HTTP/1.1\r\nHost: \(host)\r\n\r\n")
            #expect(response.status == 200, "\(host)")
        }
        await fixture.server.stop()
    }

    @Test func unknownTransferCodingsAre501AndChunkedWorks() async throws {
        let fixture = try await Fixture.start()
        for coding in ["gzip", "gzip, chunked", "x-custom"] {
            let response = try await RawConnection(port: fixture.server.port).exchange(
                "POST /v1/tokens HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \(coding)\r\nContent-Type: application/json\r\n\r\n0\r\n\r\n")
            #expect(response.status == 501, "\(coding)")
            #expect(response.errorCode == "not_implemented")
        }
        // Transfer-Encoding with Content-Length is refused (a request-smuggling shape).
        let both = try await RawConnection(port: fixture.server.port).exchange(
            "POST /v1/tokens HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        #expect(both.status == 501 || both.status == 400)
        let body = #"{"identity":"alice"}"#
        let chunked = try await RawConnection(port: fixture.server.port).exchange(
            "POST /v1/tokens HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(SampleSecrets.apiKey)\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n\(String(body.utf8.count, radix: 16))\r\n\(body)\r\n0\r\n\r\n")
        #expect(chunked.status == 200)
        #expect(chunked.body.contains(#""identity":"alice""#))
        await fixture.server.stop()
    }

    @Test func http10ConnectionsCloseAfterTheirAnswer() async throws {
        let fixture = try await Fixture.start()
        let connection = try RawConnection(port: fixture.server.port)
        let response = await connection.exchange("GET /healthz HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")
        #expect(response.status == 200)
        #expect(response.header("Connection") == "close")
        #expect(await connection.read(timeout: 2).closed)
        // HTTP/1.1 stays open for the next request.
        let kept = try RawConnection(port: fixture.server.port)
        #expect(await kept.exchange("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").status == 200)
        #expect(await kept.exchange("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").status == 200)
        await fixture.server.stop()
    }

    @Test func unparseableRequestsGetJSONErrorsThenClose() async throws {
        let fixture = try await Fixture.start()
        let garbage = try RawConnection(port: fixture.server.port)
        let bad = await garbage.exchange("HELLO THERE\r\n\r\n")
        #expect(bad.status == 400 && bad.errorCode == "bad_request")
        #expect(await garbage.read(timeout: 3).closed)
        let huge = try RawConnection(port: fixture.server.port)
        let tooLarge = await huge.exchange("GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "a", count: 40_000))\r\n\r\n")
        #expect(tooLarge.status == 431 && tooLarge.errorCode == "request_header_fields_too_large")
        let many = (0..<150).map { "X-\($0): v\r\n" }.joined()
        let tooMany = try await RawConnection(port: fixture.server.port).exchange("GET /healthz HTTP/1.1\r\nHost: a\r\n\(many)\r\n")
        #expect(tooMany.status == 431)
        // The server is unharmed.
        #expect(try await RawConnection(port: fixture.server.port).exchange("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").status == 200)
        await fixture.server.stop()
    }
}
