import ArgumentParser
import Foundation
import NIOCore

/// `tokend reload --pid PID`: SIGHUP, then the outcome. A signal alone says nothing about whether
/// the file loaded; this waits until the service's metrics show the reload succeeded or failed,
/// so that `systemctl reload` (the unit's ExecReload) fails when the new file was refused.
struct ReloadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Reload a running tokend's secrets file (SIGHUP) and report whether it loaded.",
        discussion: """
            Sends SIGHUP to --pid (or the process in --pid-file), then watches /metrics under --url \
            until tokend_secrets_last_reload_success_timestamp_seconds moves (exit 0) or \
            tokend_secrets_reload_failures_total grows (exit 1: the running configuration stays; \
            the service's log says why).
            """
    )

    @Option(help: ArgumentHelp("The tokend process.", valueName: "pid"))
    var pid: Int32?

    @Option(ClientOptions.pidFile) var pidFile: String?

    @Option(ClientOptions.url(default: Environment.localBaseURL)) var url: String?

    @Option(help: ArgumentHelp("Seconds to wait for the outcome.", valueName: "seconds"))
    var wait: Double = 10

    func validate() throws {
        guard wait > 0, wait <= 3600 else { throw ValidationError("--wait must be within 0…3600 seconds") }
        // 0 and negative ids name process groups (kill(-1) is every process): one process only.
        if let pid, pid <= 1 { throw ValidationError("--pid must be a process id greater than 1") }
    }

    func run() async throws {
        let process = try target()
        let metrics = try Environment.baseURL(url, default: Environment.localBaseURL) + "/metrics"
        let before = try await Self.reloadState(metrics)
        guard kill(process, SIGHUP) == 0 else {
            throw CommandFailure.refused("cannot signal process \(process): \(String(cString: strerror(errno)))")
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1000))
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            let now = try await Self.reloadState(metrics)
            if now.failures > before.failures {
                throw CommandFailure.refused("the secrets file was refused; the running configuration stays (the service's log says why)")
            }
            if now.lastSuccess > before.lastSuccess {
                Console.error("tokend reload: the secrets file loaded")
                return
            }
        }
        throw CommandFailure.refused("no reload outcome within \(wait) s (is \(process) the tokend behind \(metrics)?)")
    }

    private func target() throws(CommandFailure) -> pid_t {
        if let pid { return pid }
        guard let path = try ClientOptions.pidFile.given(pidFile) else { throw .usage("give --pid or --pid-file") }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1 else {
            throw .usage("\(path) does not hold a process id")
        }
        return pid
    }

    /// The two reload series from `/metrics`.
    static func reloadState(_ url: String) async throws(CommandFailure) -> (failures: Double, lastSuccess: Double) {
        let answer = try await HTTPCall.send(method: "GET", url: url, timeout: .seconds(5))
        guard answer.status == 200 else { throw .refused("\(url) answered HTTP \(answer.status)") }
        func value(_ name: String) -> Double {
            String(decoding: answer.body, as: UTF8.self).split(separator: "\n")
                .first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
        }
        return (value("tokend_secrets_reload_failures_total"), value("tokend_secrets_last_reload_success_timestamp_seconds"))
    }
}
