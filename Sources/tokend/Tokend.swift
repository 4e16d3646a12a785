import ArgumentParser
import TokenCore
import TokenServer

#if canImport(Glibc)
import Glibc
#endif

@main
struct Tokend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokend",
        abstract: "Mints short-lived HS256 JWT access tokens with grants.",
        discussion: """
            One binary: the HTTP service and the operator's tool. Every option can also be set \
            through the environment variable named in its help (TOKEND_…).

            Exit status: 0 success, 1 invalid token or refused request, 2 usage or configuration error.
            """,
        version: TokendVersion.current,
        subcommands: [
            ServeCommand.self, MintCommand.self, VerifyCommand.self, DecodeCommand.self, KeygenCommand.self,
            SignCommand.self, AuditCommand.self, DatabaseCommand.self, HealthCommand.self, ReloadCommand.self,
            RevokeCommand.self, IntrospectCommand.self, BlockCommand.self, UnblockCommand.self,
        ]
    )

    /// ArgumentParser's own `main` exits 64 for usage errors; tokend promises 2 for usage and
    /// configuration errors and 1 for a refusal, so errors are mapped here.
    static func main() async {
        // Without a subcommand there is nothing to do: say how to use it, as a usage error.
        if CommandLine.arguments.count == 1 {
            Console.error(helpMessage())
            Glibc.exit(CommandFailure.Status.usage.rawValue)
        }
        do {
            var command = try parseAsRoot()
            // A group alone (`tokend audit`, `tokend db`) is the same as `tokend` alone.
            let group = type(of: command).configuration
            if !group.subcommands.isEmpty, group.defaultSubcommand == nil {
                Console.error(helpMessage(for: type(of: command)))
                Glibc.exit(CommandFailure.Status.usage.rawValue)
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as CommandFailure {
            Console.error("tokend: \(failure.message)")
            Glibc.exit(failure.status.rawValue)
        } catch {
            // --help and --version arrive here as "errors" that exit 0; everything else the
            // parser or a command throws is a usage or configuration problem.
            if exitCode(for: error) == .success { exit(withError: error) }
            Console.error(fullMessage(for: error))
            Glibc.exit(CommandFailure.Status.usage.rawValue)
        }
    }
}

/// How a command ends when it does not succeed, with the exit status that tells scripts why.
struct CommandFailure: Error {
    enum Status: Int32 {
        /// The token is invalid or the request was refused.
        case refused = 1
        /// Bad usage or an unusable configuration (secrets file, flags).
        case usage = 2
    }

    let status: Status
    let message: String

    static func refused(_ message: String) -> CommandFailure { CommandFailure(status: .refused, message: message) }
    static func usage(_ message: String) -> CommandFailure { CommandFailure(status: .usage, message: message) }
}
