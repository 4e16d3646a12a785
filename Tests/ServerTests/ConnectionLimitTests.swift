import Foundation
import Testing
import TestSupport

/// `--max-connections`: idle connections beyond the limit are not served until one closes, so a
/// flood of idle sockets cannot exhaust the server's file descriptors.
struct ConnectionLimitTests {
    @Test func connectionsBeyondTheLimitWait() async throws {
        let fixture = try await Fixture.start(["--max-connections", "2"])
        let idle = try (0..<2).map { _ in try RawConnection(port: fixture.server.port) }
        try await Task.sleep(for: .milliseconds(200))
        let curl = URL(fileURLWithPath: "/usr/bin/curl")
        let blocked = try Executables.run(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1", fixture.base + "/healthz"])
        #expect(blocked.stdout != "200", "a third connection was served while two were held")
        for connection in idle { connection.close() }
        try await Task.sleep(for: .milliseconds(200))
        let served = try Executables.run(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", fixture.base + "/healthz"])
        #expect(served.stdout == "200")
        await fixture.server.stop()
    }
}
