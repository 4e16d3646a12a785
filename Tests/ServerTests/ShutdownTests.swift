import Foundation
import Testing
import TestSupport
import TokenCore

/// The shutdown sequence: readiness turns 503 at once, requests are served through
/// `--shutdown-delay`, then the listener closes, requests in flight finish, the audit log is
/// flushed, and the process exits 0.
struct ShutdownTests {
    @Test func sigtermDrainsThenExitsZero() async throws {
        let fixture = try await Fixture.start(["--shutdown-delay", "4"])
        // A request in flight across the whole shutdown: its head is in, half its body is not.
        let body = #"{"identity":"inflight"}"#
        let inFlight = try RawConnection(port: fixture.server.port)
        inFlight.send("POST /v1/tokens HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(SampleSecrets.apiKey)\r\n"
                      + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + String(body.prefix(5)))
        try await Task.sleep(for: .milliseconds(200))
        let stopped = Date()
        fixture.server.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(200))

        // Draining: not ready, still serving, new tokens still issued.
        let ready = try await HTTPTestClient.send("GET", fixture.base + "/readyz")
        #expect(ready.status == 503)
        #expect(ready.json?["status"] == .string("draining"))
        #expect(try await HTTPTestClient.send("GET", fixture.base + "/healthz").status == 200)
        #expect(try await fixture.mint(#"{"identity":"during-drain"}"#).status == 200)

        // After the delay the listener is closed: new connections are refused. (A long delay
        // and a wait measured from the signal: CI machines are busy.)
        try await Task.sleep(for: .seconds(max(0, 4.5 - Date().timeIntervalSince(stopped))))
        #expect(throws: (any Error).self) { try RawConnection(port: fixture.server.port) }
        #expect(fixture.server.process.isRunning, "exited before its request in flight was answered")

        // The request in flight finishes, with its token, and its connection then closes.
        let answer = await inFlight.exchange(String(body.dropFirst(5)), timeout: 5)
        #expect(answer.status == 200)
        #expect(answer.body.contains(#""identity":"inflight""#))
        #expect(answer.header("Connection") == "close")
        #expect(await fixture.server.waitForExit() == 0)
        #expect(Date().timeIntervalSince(stopped) >= 4)

        // Both tokens were audited before the process ended.
        let identities = try fixture.auditRecords().compactMap { $0["identity"]?.stringValue }
        #expect(identities.contains("inflight") && identities.contains("during-drain"))
        #expect(fixture.server.stderr.contains("draining"))
    }

    @Test func devModeStopsWithoutDelay() async throws {
        let directory = try TemporaryDirectory()
        let server = try await ServerProcess(["--dev", "--port", "0"], environment: [:], directory: directory.url)
        #expect(await server.stop() == 0)
        // No drain at all (a non-dev server logs "draining" and serves on for 5 s): told by what it
        // did, not by a clock that a machine busy with the rest of the suite stretches.
        #expect(!server.stderr.contains("draining") && server.stderr.contains("closing the listener"), "\(server.stderr)")
    }
}
