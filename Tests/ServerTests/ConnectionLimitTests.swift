import Foundation
import Testing
import TestSupport

/// `--max-connections`: idle connections beyond the limit are not served until one closes, so a
/// flood of idle sockets cannot exhaust the server's file descriptors.
struct ConnectionLimitTests {
    @Test func connectionsBeyondTheLimitWait() async throws {
        let fixture = try await Fixture.start(["--max-connections", "2"])
        let idle = try (0..<2).map { _ in try openTCP(port: fixture.server.port) }
        try await Task.sleep(for: .milliseconds(200))
        let curl = URL(fileURLWithPath: "/usr/bin/curl")
        let blocked = try Executables.run(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1", fixture.base + "/healthz"])
        #expect(blocked.stdout != "200", "a third connection was served while two were held")
        for socket in idle { close(socket) }
        try await Task.sleep(for: .milliseconds(200))
        let served = try Executables.run(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", fixture.base + "/healthz"])
        #expect(served.stdout == "200")
        await fixture.server.stop()
    }

    private func openTCP(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
        return descriptor
    }
}
