import ArgumentParser
import Foundation
import TokenCore

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Work with the audit log.",
        subcommands: [AuditVerifyCommand.self]
    )
}

struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the audit log's hash chain; exit 0 only for an intact log.",
        discussion: """
            Give rotated files oldest first (tokend-audit.jsonl.2 tokend-audit.jsonl.1 \
            tokend-audit.jsonl): the chain runs across them. Names the first broken line and why:
            edited, deleted, reordered or truncated records. A log keyed with audit_key needs \
            --secrets.
            """
    )

    @OptionGroup var secretsOptions: SecretsOptions

    @Argument(help: "Audit log files, oldest first.")
    var files: [String]

    func run() throws {
        let key = secretsOptions.path == nil ? nil : try secretsOptions.load().auditKey
        var contents: [(name: String, contents: [UInt8])] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure.usage("cannot read \(file)")
            }
            contents.append((file, Array(data)))
        }
        do {
            let report = try AuditVerifier.verify(files: contents, key: key)
            var message = "ok: \(report.records) records, chain intact"
            if let seq = report.continuesFromSequence { message += " (starts at seq \(seq), continuing an earlier file)" }
            Console.out(message)
        } catch {
            throw CommandFailure.refused("audit log broken at \(error)")
        }
    }
}
