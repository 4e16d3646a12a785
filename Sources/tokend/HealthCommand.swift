import ArgumentParser
import NIOCore
import TokenCore

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Exit 0 when the service answers /readyz with 200 (for container health checks).",
        discussion: "Prints the readiness answer; exit 1 when not ready or unreachable."
    )

    @Option(help: ArgumentHelp("The service's base URL. Env: TOKEND_URL.", valueName: "url"))
    var url: String?

    func run() async throws {
        let base = Environment.resolve(url, "TOKEND_URL") ?? "http://127.0.0.1:8080"
        let answer = try await HTTPCall.send(method: "GET", url: base.trimmingSuffix("/") + "/readyz", timeout: .seconds(5))
        let text = String(decoding: answer.body, as: UTF8.self)
        guard answer.status == 200 else { throw CommandFailure.refused("not ready (HTTP \(answer.status)): \(text)") }
        Console.out(text)
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
