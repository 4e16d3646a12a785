import ArgumentParser
import NIOCore
import TokenCore

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Exit 0 when the service answers /readyz with 200 (for container health checks).",
        discussion: """
            Prints the readiness answer, and on stderr the URL it probed; exit 1 when not ready \
            or unreachable. --wait keeps asking (every 200 ms) until ready or the time is up: \
            for scripts that start tokend and then use it.
            """
    )

    @Option(ClientOptions.url(default: Environment.localBaseURL)) var url: String?

    @Option(help: ArgumentHelp("Seconds to keep asking until ready (0: ask once).", valueName: "seconds"))
    var wait: Double = 0

    func validate() throws {
        guard wait >= 0, wait <= 3600 else { throw ValidationError("--wait must be within 0…3600 seconds") }
    }

    func run() async throws {
        let probe = try Environment.baseURL(url, default: Environment.localBaseURL) + "/readyz"
        let deadline = ContinuousClock.now + .milliseconds(Int64(wait * 1000))
        while true {
            do {
                let answer = try await HTTPCall.send(method: "GET", url: probe, timeout: .seconds(5))
                let text = String(decoding: answer.body, as: UTF8.self)
                guard answer.status == 200 else { throw CommandFailure.refused("not ready: \(probe) answered HTTP \(answer.status): \(text)") }
                Console.error("tokend health: \(probe): ready")
                Console.out(text)
                return
            } catch {
                guard ContinuousClock.now < deadline else { throw error }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
