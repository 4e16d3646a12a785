import ArgumentParser
import TokenPostgres

struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Manage the PostgreSQL schema for shared state.",
        subcommands: [DatabaseMigrateCommand.self, DatabaseGrantsCommand.self]
    )
}

struct DatabaseMigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Create or upgrade tokend's schema, then exit.",
        discussion: """
            `serve --database` does the same at start; this is for operators who migrate as a \
            separate step (with a more privileged role, say). Safe to run while instances are \
            serving and from several places at once: migrations take an advisory lock and run in \
            one transaction.
            """
    )

    @OptionGroup var databaseOptions: DatabaseOptions

    func run() async throws {
        let url = try databaseOptions.requiredURL()
        let outcome = try await databaseOptions.withStore { store in try await SchemaMigrator.migrate(store) }
        if outcome.from == outcome.to {
            Console.out("\(url): schema is at version \(outcome.to); nothing to do")
        } else {
            Console.out("\(url): schema migrated from version \(outcome.from) to \(outcome.to)")
        }
    }
}

struct DatabaseGrantsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grants",
        abstract: "Print the GRANT statements a serving role needs, for an administrator to run.",
        discussion: """
            For a role that serves but may not change the schema (`tokend db migrate` runs as \
            another). The audit table gets SELECT and INSERT only: the serving role cannot \
            remove or edit records. Example: tokend db grants tokend_app | psql "$ADMIN_URL"
            """
    )

    @Argument(help: "The serving role.")
    var role: String

    func run() throws {
        guard !role.isEmpty, role.utf8.count <= 63, !role.contains("\0") else { throw CommandFailure.usage("a role name is 1 to 63 bytes") }
        for statement in ServingRoleGrants.statements(role: role) { Console.out(statement) }
    }
}
