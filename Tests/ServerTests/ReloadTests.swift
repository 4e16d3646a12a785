import Foundation
import Testing
import TestSupport

/// Reloads of a large or hostile secrets file take their time on their own thread: probes and
/// requests are answered meanwhile, and the running configuration stays.
struct ReloadTests {
    /// A refused reload is seen, not only logged: `tokend reload` (the unit's ExecReload) exits 1
    /// and the failure is a metric; `--pid-file` names this process and goes away with it.
    @Test func aRefusedReloadIsAMetricAndAFailedReloadCommand() async throws {
        let directory = try TemporaryDirectory()
        let pidPath = directory.url.appendingPathComponent("tokend.pid").path
        let served = try await Fixture.start(["--pid-file", pidPath])
        let pid = try String(contentsOfFile: pidPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Int32(pid) != nil)
        func reload() throws -> ProcessResult {
            try Executables.run(Executables.tokend, ["reload", "--pid-file", pidPath, "--url", served.base])
        }
        let good = try reload()
        #expect(good.status == 0 && good.stderr.contains("loaded"), "\(good.stderr)")
        chmod(served.secretsPath, 0o644)
        let refused = try reload()
        #expect(refused.status == 1 && refused.stderr.contains("refused"), "\(refused.stderr)")
        let metrics = try await HTTPTestClient.send("GET", served.base + "/metrics").text
        #expect(metrics.contains("tokend_secrets_reload_failures_total 1"))
        // Still serving on the old configuration.
        #expect(try await served.mint().status == 200)
        await served.server.stop()
        #expect(!FileManager.default.fileExists(atPath: pidPath), "the PID file outlived its process")
    }

    @Test func aHugeFileOfTableHeadersIsRefusedWhileProbesAreAnswered() async throws {
        let fixture = try await Fixture.start()
        // 1 MiB of `[[signing_keys]]` headers (no kid, so it is refused once parsed).
        let line = "[[signing_keys]]\n"
        try Data(String(repeating: line, count: (1 << 20) / line.utf8.count - 1).utf8).write(to: URL(fileURLWithPath: fixture.secretsPath))
        fixture.server.signal(SIGHUP)
        fixture.server.signal(SIGHUP)
        for _ in 0..<5 {
            let probe = try await RawConnection(port: fixture.server.port).exchange("GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n", timeout: 2)
            #expect(probe.status == 200, "readiness probe: \(probe.text.prefix(200))")
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(await fixture.server.waitForOutput("secrets reload failed", timeout: 20))
        #expect(try await fixture.mint().status == 200)
        let started = Date()
        #expect(await fixture.server.stop() == 0)
        #expect(Date().timeIntervalSince(started) < 10, "shutdown took \(Date().timeIntervalSince(started)) s")
    }
}
