import Foundation
import Testing
import TestSupport

/// `--max-connections-per-ip` and `--header-timeout`: idle or slow sockets cannot
/// starve other callers.
struct ConnectionTimeoutTests {
    @Test func oneAddressHoldsAtMostItsShareOfConnections() async throws {
        let fixture = try await Fixture.start(["--max-connections-per-ip", "2"])
        let held = try (0..<2).map { _ in try RawConnection(port: fixture.server.port) }
        try await Task.sleep(for: .milliseconds(200))
        let started = Date()
        let third = try RawConnection(port: fixture.server.port)
        #expect(await third.read(timeout: 3).closed, "a third connection from one address was kept")
        #expect(Date().timeIntervalSince(started) < 2.5)
        // The held ones still work, and a slot freed is a slot available.
        #expect(await held[0].exchange("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").status == 200)
        held[1].close()
        try await Task.sleep(for: .milliseconds(300))
        let freed = try RawConnection(port: fixture.server.port)
        let metrics = await freed.exchange("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains(#"tokend_connections_refused_total{reason="per_address"} 1"#))
        await fixture.server.stop()
    }

    @Test func aHeadNotSentInTimeClosesTheConnection() async throws {
        let fixture = try await Fixture.start(["--header-timeout", "0.5"])
        let silent = try RawConnection(port: fixture.server.port)
        // A slow head: bytes keep coming, the head never ends (slowloris).
        let slow = try RawConnection(port: fixture.server.port)
        slow.send("GET /healthz HTTP/1.1\r\n")
        for _ in 0..<5 {
            slow.send("X-A: b\r\n")
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(await silent.read(timeout: 3).closed)
        #expect(await slow.read(timeout: 3).closed)
        // Each read waits at most 3 s: closed within it means the server closed them (without
        // the header timeout both would still be open). No wall-clock bound beyond that: CI is busy.
        // A kept-alive connection gets the same time for its next head, then is closed.
        let kept = try RawConnection(port: fixture.server.port)
        #expect(await kept.exchange("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").status == 200)
        #expect(await kept.read(timeout: 3).closed)
        // A prompt client is unaffected.
        #expect(try await RawConnection(port: fixture.server.port).exchange("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n").status == 200)
        await fixture.server.stop()
    }

    @Test func badTimeoutAndLimitFlagsAreUsageErrors() throws {
        for flags in [["--header-timeout", "0"], ["--header-timeout", "soon"], ["--max-connections-per-ip", "0"],
                      ["--shutdown-delay", "-1"], ["--log-format", "xml"], ["--log-level", "loud"]] {
            let result = try Executables.run(Executables.tokend, ["serve", "--dev"] + flags)
            #expect(result.status == 2, "\(flags)")
        }
    }
}
