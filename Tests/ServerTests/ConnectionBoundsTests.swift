import Foundation
import Testing
import TestSupport

/// What one hostile connection can make a real server hold, and what the server does when the
/// machine runs short: each case as an attacker (or a bad day) would try it, on loopback.
@Suite(.serialized)
struct ConnectionBoundsTests {
    static let oversized: String = {
        let chunk = "8000\r\n" + String(repeating: "x", count: 0x8000) + "\r\n"
        return "POST /v1/tokens HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + String(repeating: chunk, count: 3) + "0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: a\r\n\r\n"
    }()

    @Test func every413IsCompleteBeforeTheClose() async throws {
        let fixture = try await Fixture.start(["--log-level", "warning"])
        var lost: [Int] = []
        for attempt in 0..<1000 {
            // Spread over 100 loopback addresses: a first connection from an address is no different.
            let connection = try RawConnection(port: fixture.server.port, source: "127.0.0.\(1 + attempt % 100)")
            connection.send(Self.oversized)
            let (text, closed) = await connection.read(timeout: 5) { _ in false }
            let response = RawResponse(text, closed: closed)
            if !(response.status == 413 && response.errorCode == "payload_too_large" && closed && response.header("Connection") == "close") {
                lost.append(attempt)
            }
            connection.close()
        }
        #expect(lost.isEmpty, "\(lost.count) of 1000 lost, first: \(lost.prefix(5))")
        await fixture.server.stop()
    }

    @Test func aTricklingBodyIsAnswered408AndItsSlotIsFreed() async throws {
        let fixture = try await Fixture.start(["--request-timeout", "1", "--max-connections", "2"])
        let tricklers = try (0..<2).map { _ in try RawConnection(port: fixture.server.port) }
        for trickler in tricklers {
            trickler.send("POST /v1/tokens HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        }
        // Both slots are held; a third caller waits in the backlog until one is freed.
        let waiting = try RawConnection(port: fixture.server.port)
        waiting.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        for _ in 0..<3 {
            try await Task.sleep(for: .milliseconds(300))
            for trickler in tricklers { trickler.send("x") }
        }
        for trickler in tricklers {
            let answer = await trickler.exchange("", timeout: 3)
            #expect(answer.status == 408, "\(answer.text)")
            #expect(answer.errorCode == "request_timeout")
            #expect(answer.header("Connection") == "close")
        }
        let served = RawResponse(await waiting.read(timeout: 3) { RawResponse($0).status != nil }.text)
        #expect(served.status == 200, "the freed slot did not serve the waiting caller")
        // A slow but steady uploader of a whole 64 KiB body within the timeout is served (1.2 s
        // of pacing against 8 s: sleeps stretch on a machine busy with the rest of the suite).
        let steady = try await Fixture.start(["--request-timeout", "8"])
        let uploader = try RawConnection(port: steady.server.port)
        let body = #"{"identity":""# + String(repeating: "a", count: 65_000) + #""}"#
        uploader.send("POST /v1/tokens HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
        for piece in stride(from: 0, to: body.utf8.count, by: 8192) {
            uploader.send(String(body.utf8.dropFirst(piece).prefix(8192))!)
            try await Task.sleep(for: .milliseconds(150))
        }
        let answer = await uploader.exchange("", timeout: 8)
        #expect(answer.status == 401, "not judged on its merits: \(answer.text.prefix(300))")
        await fixture.server.stop()
        await steady.server.stop()
    }

    @Test func bytesAfterAnUpgradeOfferOrACONNECTAreNotHeld() async throws {
        let fixture = try await Fixture.start(["--log-level", "warning"])
        let before = fixture.server.residentBytes
        let flood = [UInt8](repeating: 0x41, count: 64 * 1024)
        for opening in ["GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
                        "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"] {
            for _ in 0..<10 {
                let connection = try RawConnection(port: fixture.server.port)
                connection.send(opening)
                var sent = 0
                let deadline = Date().addingTimeInterval(5)
                while Date() < deadline, let count = connection.trySend(flood), sent < 64 * 1024 * 1024 {
                    sent += count
                    if count == 0 { try await Task.sleep(for: .milliseconds(5)) }
                }
                let (text, _) = await connection.read(timeout: 1)
                #expect(text.hasPrefix("HTTP/1.1 "), "not answered: \(opening)")
                #expect(sent < 8 * 1024 * 1024, "\(sent) bytes taken after \(opening.prefix(20))")
            }
        }
        let growth = fixture.server.residentBytes - before
        #expect(growth < 64 * 1024 * 1024, "RSS grew by \(growth / 1_048_576) MiB")
        #expect(try await RawConnection(port: fixture.server.port).exchange("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").status == 200)
        await fixture.server.stop()
    }

    @Test func aClientThatPipelinesAndNeverReadsIsBounded() async throws {
        let fixture = try await Fixture.start(["--log-level", "warning"])
        let before = fixture.server.residentBytes
        let connection = try RawConnection(port: fixture.server.port)
        let requests = Array(String(repeating: "GET /openapi.yaml HTTP/1.1\r\nHost: a\r\n\r\n", count: 500).utf8)
        var sent = 0
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline, let count = connection.trySend(requests) {
            sent += count
            if count == 0 { try await Task.sleep(for: .milliseconds(10)) }
        }
        let growth = fixture.server.residentBytes - before
        #expect(growth < 64 * 1024 * 1024, "RSS grew by \(growth / 1_048_576) MiB after \(sent) bytes of requests")
        // Reading stopped: the client's sends were refused (its buffers full) or the connection closed.
        #expect(Date() < deadline || connection.trySend(requests) ?? 0 == 0, "still reading after \(sent) bytes")
        #expect(try await RawConnection(port: fixture.server.port).exchange("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").status == 200)
        await fixture.server.stop()
    }

    @Test func theAccessLogIsCappedPerSecondWithASummary() async throws {
        let fixture = try await Fixture.start(["--access-log-rate", "5"])
        let connection = try RawConnection(port: fixture.server.port)
        for _ in 0..<60 {
            #expect(await connection.exchange("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").status == 200)
        }
        #expect(await fixture.server.waitForOutput("dropped=", timeout: 5))
        let lines = fixture.server.stderr.split(separator: "\n")
        let written = lines.filter { $0.contains("message=request ") }.count
        let dropped = lines.filter { $0.contains("dropped=") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("dropped=") }.flatMap { Int($0.dropFirst(8)) }
        }.reduce(0, +)
        #expect(written <= 15, "\(written) lines written at a cap of 5 a second")
        #expect(written + dropped == 60 || dropped > 0)
        let metrics = await connection.exchange("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(metrics.body.contains("tokend_access_log_lines_dropped_total"))
        await fixture.server.stop()
    }

    @Test func acceptBacksOffWhenDescriptorsRunOut() async throws {
        let directory = try TemporaryDirectory()
        let secrets = try directory.write("secrets.toml", SampleSecrets.toml)
        let server = try await ServerProcess(["--secrets", secrets, "--port", "0", "--audit-log", directory.url.appendingPathComponent("a.jsonl").path],
                                             launcher: ["/usr/bin/prlimit", "--nofile=48:48"])
        var held: [RawConnection] = []
        for _ in 0..<80 { if let connection = try? RawConnection(port: server.port) { held.append(connection) } }
        try await Task.sleep(for: .milliseconds(500))
        let cpuBefore = server.cpuSeconds
        try await Task.sleep(for: .seconds(2))
        let spent = server.cpuSeconds - cpuBefore
        #expect(spent < 0.5, "the listener spun: \(spent) s of CPU in 2 s")
        let logged = server.stderr.components(separatedBy: "accept failed").count - 1
        #expect(logged >= 1 && logged <= 4, "\(logged) accept-failure lines in about 2.5 s")
        for connection in held { connection.close() }
        try await Task.sleep(for: .milliseconds(500))
        let metrics = try await RawConnection(port: server.port).exchange("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", timeout: 5)
        #expect(metrics.status == 200)
        let backoffs = metrics.body.split(separator: "\n").first { $0.hasPrefix("tokend_accept_backoffs_total") }
        #expect((backoffs?.split(separator: " ").last.flatMap { Double($0) } ?? 0) > 0)
        await server.stop()
    }
}
