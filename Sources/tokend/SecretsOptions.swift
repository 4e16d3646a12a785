import ArgumentParser
import TokenCore

/// `--secrets PATH` (or `TOKEND_SECRETS`), shared by the commands that read the secrets file.
struct SecretsOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The secrets file (TOML). Env: TOKEND_SECRETS.", valueName: "path"))
    var secrets: String?

    var path: String? { Environment.resolve(secrets, "TOKEND_SECRETS") }

    func load() throws(CommandFailure) -> Secrets {
        let path = try Environment.require(secrets, "--secrets", "TOKEND_SECRETS")
        do {
            return try SecretsLoader.load(path: path)
        } catch {
            throw .usage(error.message)
        }
    }
}

