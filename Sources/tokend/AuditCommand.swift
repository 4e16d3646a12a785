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
            prints a line per instance; every record must name the instance it is stored under. \
            --heads reads tokend's logs for the "audit head instance=… seq=… link=…" lines and \
            checks each chain against the last head logged for it: records cut from its end, an \
            edit of its last records or a whole chain deleted show there.
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

    @Option(help: ArgumentHelp("The head kept outside the file (tokend logs \"audit head seq=N link=HEX\"): the chain must end exactly there. With --database (and --instance): the chain must pass through it.",
                               valueName: "N:HEX"))
    var head: String?

    @Option(name: .customLong("heads"), parsing: .upToNextOption,
            help: ArgumentHelp("With --database: tokend's log files, whose last \"audit head instance=…\" line per instance each chain must pass through.",
                               valueName: "log"))
    var headLogs: [String] = []

    func run() async throws {
        let key = secretsOptions.path == nil ? nil : try secretsOptions.load().auditKey
        if try databaseOptions.url() != nil {
            guard files.isEmpty else { throw CommandFailure.usage("give files or --database, not both") }
            guard head == nil || instance != nil else { throw CommandFailure.usage("--head with --database names one chain: give --instance too") }
            return try await verifyDatabase(key: key, heads: try loggedHeads())
        }
        guard !files.isEmpty else { throw CommandFailure.usage("give the audit log files to verify, or --database") }
        guard headLogs.isEmpty else { throw CommandFailure.usage("--heads is for --database; a file log takes --head") }
        var contents: [(name: String, contents: [UInt8])] = []
        for file in files {
            contents.append((file == "-" ? "standard input" : file, try Self.read(file)))
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
    /// A log's bytes: a file, a pipe (`<(zcat …)`) or, for `-`, standard input. A compressed
    /// file is named as such rather than reported as an edited record.
    static func read(_ file: String) throws(CommandFailure) -> [UInt8] {
        let bytes: [UInt8]?
        if file != "-", let regular = readRegularFile(file) {
            bytes = regular
        } else {
            let handle = file == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: file)
            bytes = handle.flatMap { handle -> [UInt8]? in
                do {
                    return Array(try handle.readToEnd() ?? Data())  // nil: nothing at all to read
                } catch {
                    return nil
                }
            }
        }
        guard let bytes else { throw .usage("cannot read \(file): \(String(cString: strerror(errno)))") }
        if bytes.starts(with: [0x1F, 0x8B]) {
            throw .usage("\(file) is gzip-compressed: zcat \(file) | tokend audit verify - (logrotate's tokend file no longer compresses)")
        }
        return bytes
    }

    /// A regular file read straight into one array of its size: a log of a hundred megabytes
    /// read through `Data` and copied was a fifth of the whole check. Nil for anything else (a
    /// pipe, a path that cannot be opened), which the general path reads or reports.
    private static func readRegularFile(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        let size = Int(info.st_size)
        var failed = false
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            while count < size {
                let got = Glibc.read(descriptor, buffer.baseAddress! + count, size - count)
                if got < 0, errno == EINTR { continue }
                if got <= 0 {
                    failed = got < 0
                    break  // shorter than it was a moment ago: what was read is what the file holds
                }
                count += got
            }
        }
        return failed ? nil : bytes
    }

    /// The head each chain must pass through: `--head` for `--instance`, and the last
    /// `audit head instance=… seq=… link=…` line per instance in the `--heads` logs.
    private func loggedHeads() throws(CommandFailure) -> [String: AuditVerifier.Head] {
        var heads: [String: AuditVerifier.Head] = [:]
        for path in headLogs {
            guard let data = FileManager.default.contents(atPath: path) else { throw .usage("cannot read \(path)") }
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                if let (name, head) = Self.loggedHead(in: line) { heads[name] = head }
            }
        }
        if let text = head, let instance {
            guard let head = AuditVerifier.Head(text) else { throw .usage("--head must be N:HEX (a seq and a 64-digit link)") }
            heads[instance] = head
        }
        return heads
    }

    /// `audit head instance=NAME seq=N link=HEX` anywhere in a log line (text or JSON format).
    static func loggedHead(in line: Substring) -> (String, AuditVerifier.Head)? {
        guard let start = line.range(of: "audit head instance=") else { return nil }
        let fields = line[start.upperBound...].split(separator: " ", maxSplits: 2)
        guard fields.count >= 3, fields[1].hasPrefix("seq="), fields[2].hasPrefix("link=") else { return nil }
        let link = fields[2].dropFirst(5).prefix(64)
        guard let head = AuditVerifier.Head("\(fields[1].dropFirst(4)):\(link)") else { return nil }
        return (String(fields[0]), head)
    }

    /// Every chain (or one) read back from PostgreSQL and checked by the same checks as a file,
    /// with the instance each record names and the head logged for it: row by row as they stream
    /// in, so memory stays the same however long a chain is.
    private func verifyDatabase(key: HMACKey?, heads: [String: AuditVerifier.Head]) async throws {
        let only = instance
        let results = try await databaseOptions.withStore { store in
            var names = if let only { [only] } else { try await PostgresAuditArchive.instances(store) }
            // A chain with a logged head but no rows was deleted whole: check it as well.
            if only == nil { names = Array(Set(names).union(heads.keys)).sorted() }
            var results: [(String, Result<AuditVerifier.Report, AuditVerifier.Broken>)] = []
            for name in names {
                var fresh = AuditChainCheck(key: key, through: heads[name], instance: name)
                fresh.begin(file: name)
                let check = Mutex(fresh)
                try await PostgresAuditArchive.forEachLine(store, instance: name) { line in
                    check.withLock { $0.check(line: line.dropLast()) }  // the row, without the newline a file has
                }
                do throws(AuditVerifier.Broken) {
                    results.append((name, .success(try check.withLock { $0 }.finish())))
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
                let checked = heads[name].map { "; passes through the head logged at seq \($0.seq)" } ?? ""
                Console.out("instance \(name): ok: \(report.records) records, chain intact\(checked)")
            case .failure(let error):
                broken += 1
                Console.out("instance \(name): broken at record \(error.line): \(error.reason)")
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

    @Option(ClientOptions.instance) var instance: String?

    func run() async throws {
        let name = try ClientOptions.instance.value(instance)
        try await databaseOptions.withStore { store in
            try await PostgresAuditArchive.forEachLine(store, instance: name) { line in Console.write(bytes: line) }
        }
    }
}
