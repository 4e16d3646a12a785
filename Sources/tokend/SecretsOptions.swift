import ArgumentParser
import TokenCore

/// `--secrets PATH` (or `TOKEND_SECRETS`), shared by the commands that read the secrets file.
struct SecretsOptions: ParsableArguments {
    static let spec = OptionSpec.text("secrets", valueName: "path", "The secrets file (TOML)")
    @Option(Self.spec) var secrets: String?

    var path: String? { try? Self.spec.given(secrets) }

    func load() throws(CommandFailure) -> Secrets {
        let path = try Self.spec.value(secrets)
        do {
            return try SecretsLoader.load(path: path)
        } catch {
            throw .usage(error.message)
        }
    }
}

