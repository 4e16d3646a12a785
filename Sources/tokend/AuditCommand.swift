import ArgumentParser
import Foundation
import Synchronization
import TokenCore
import TokenPostgres

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Work with the audit log.",
        subcommands: [AuditVerifyCommand.self, AuditExportCommand.self]
    )
}

struct AuditVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the audit log's hash chain; exit 0 only for an intact log.",
        discussion: """
            Give rotated files oldest first (tokend-audit.jsonl.2 tokend-audit.jsonl.1 \
            tokend-audit.jsonl): the chain runs across them. Names the first broken line and why:
            edited, deleted, reordered or truncated records. A log keyed with audit_key needs \
            --secrets.

            With --database, checks every instance's chain in PostgreSQL (or only --instance) and \
            prints a line per instance.
            """
    )

    @OptionGroup var secretsOptions: SecretsOptions

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: ArgumentHelp("With --database: check only this instance's chain.", valueName: "name"))
    var instance: String?

    @Argument(help: "Audit log files, oldest first.")
    var files: [String] = []

    @Flag(help: "The first file follows a rotation: it may start after seq 1 (else records cut from the start are an error).")
    var continues = false

    @Option(help: ArgumentHelp("The head kept outside the file (tokend logs \"audit head seq=N link=HEX\"): the chain must end exactly there.",
                               valueName: "N:HEX"))
    var head: String?

    func run() async throws {
        let key = secretsOptions.path == nil ? nil : try secretsOptions.load().auditKey
        if try databaseOptions.url() != nil {
            guard files.isEmpty else { throw CommandFailure.usage("give files or --database, not both") }
            return try await verifyDatabase(key: key)
        }
        guard !files.isEmpty else { throw CommandFailure.usage("give the audit log files to verify, or --database") }
        var contents: [(name: String, contents: [UInt8])] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure.usage("cannot read \(file)")
            }
            contents.append((file, Array(data)))
        }
        let expectedHead = try head.map { text throws(CommandFailure) in
            guard let head = AuditVerifier.Head(text) else { throw .usage("--head must be N:HEX (a seq and a 64-digit link)") }
            return head
        }
        do {
            let report = try AuditVerifier.verify(files: contents, key: key, continues: continues, head: expectedHead)
            var message = "ok: \(report.records) records, chain intact"
            if let seq = report.continuesFromSequence { message += " (starts at seq \(seq), continuing an earlier file)" }
            if let head = report.head { message += "; head \(head)" }
            Console.out(message)
        } catch {
            throw CommandFailure.refused("audit log broken at \(error)")
        }
    }
}

extension AuditVerifyCommand {
    /// Every chain (or one) read back from PostgreSQL and checked by the same verifier as a file.
    private func verifyDatabase(key: HMACKey?) async throws {
        let only = instance
        let results = try await databaseOptions.withStore { store in
            let names = if let only { [only] } else { try await PostgresAuditArchive.instances(store) }
            var results: [(String, Result<AuditVerifier.Report, AuditVerifier.Broken>)] = []
            for name in names {
                let contents = Mutex<[UInt8]>([])
                try await PostgresAuditArchive.forEachLine(store, instance: name) { line in contents.withLock { $0 += line } }
                let bytes = contents.withLock { $0 }
                do throws(AuditVerifier.Broken) {
                    results.append((name, .success(try AuditVerifier.verify(files: [(name, bytes)], key: key))))
                } catch {
                    results.append((name, .failure(error)))
                }
            }
            return results
        }
        guard !results.isEmpty else {
            throw CommandFailure.refused(only.map { "no audit records for instance \($0)" } ?? "no audit records in the database")
        }
        var broken = 0
        for (name, result) in results {
            switch result {
            case .success(let report) where report.records == 0:
                broken += 1
                Console.out("instance \(name): no records")
            case .success(let report):
                Console.out("instance \(name): ok: \(report.records) records, chain intact")
            case .failure(let error):
                broken += 1
                Console.out("instance \(name): broken at seq line \(error.line): \(error.reason)")
            }
        }
        if broken > 0 { throw CommandFailure.refused("\(broken) of \(results.count) chain(s) broken or empty") }
    }
}

struct AuditExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print one instance's audit records from PostgreSQL as JSON Lines.",
        discussion: """
            The output is the chain byte for byte, as a file log would hold it: `tokend audit verify \
            FILE` accepts it (with --secrets when the chain is keyed with audit_key).
            """
    )

    @OptionGroup var databaseOptions: DatabaseOptions

    @Option(help: ArgumentHelp("The instance whose chain to print. Env: TOKEND_INSTANCE.", valueName: "name"))
    var instance: String?

    func run() async throws {
        guard let name = Environment.resolve(instance, "TOKEND_INSTANCE") else {
            throw CommandFailure.usage("missing --instance (or the environment variable TOKEND_INSTANCE)")
        }
        try await databaseOptions.withStore { store in
            try await PostgresAuditArchive.forEachLine(store, instance: name) { line in Console.write(bytes: line) }
        }
    }
}
