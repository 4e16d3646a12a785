import Foundation
import Testing
import TestSupport

/// Every option is declared once, so its flag, its environment variable, its default and its help
/// cannot disagree: walked here through every command's help, and for `serve` through
/// `--print-config`, which says what each option resolved to and where from.
struct OptionDeclarationTests {
    struct HelpOption {
        let flag: String
        let environment: String?
        /// `(default 4096` → "4096"; nil when the help names no value.
        let defaultValue: String?
    }

    /// The options of one command's help, with their variable and default.
    static func options(_ command: [String]) throws -> [HelpOption] {
        let help = try Executables.run(Executables.tokend, command + ["--help"]).stdout
        // An option's help starts at its `--flag` at the line's start and runs to the next one.
        var entries: [String] = []
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix("--") && line.hasPrefix("  --") { entries.append(String(trimmed)) } else if !entries.isEmpty, line.hasPrefix("      ") {
                entries[entries.count - 1] += " " + trimmed
            }
        }
        return entries.map { entry in
            let flag = String(entry.dropFirst(2).prefix { $0 != " " && $0 != "," })
            let environment = entry.range(of: "Env: ").map { String(entry[$0.upperBound...].prefix { $0.isUppercase || $0 == "_" }) }
            let defaultValue = entry.range(of: "(default ").map { String(entry[$0.upperBound...].prefix { $0 != ";" && $0 != ")" }) }
            return HelpOption(flag: flag, environment: environment, defaultValue: defaultValue)
        }
    }

    /// Variables that are not the flag's name in capitals, each for a reason the help gives.
    static let namedOtherwise = ["database": "TOKEND_DATABASE_URL", "grant": "TOKEND_GRANTS", "secret": "TOKEND_SIGNING_SECRET"]

    @Test func everyVariableIsItsFlagsName() throws {
        let commands: [[String]] = [["serve"], ["mint"], ["verify"], ["decode"], ["sign"], ["audit", "verify"], ["audit", "export"],
                                    ["db", "migrate"], ["health"], ["reload"], ["revoke"], ["introspect"], ["block"], ["unblock"]]
        var seen = 0
        for command in commands {
            for option in try Self.options(command) {
                guard let environment = option.environment else { continue }
                seen += 1
                let expected = Self.namedOtherwise[option.flag] ?? "TOKEND_" + option.flag.uppercased().replacingOccurrences(of: "-", with: "_")
                #expect(environment == expected, "tokend \(command.joined(separator: " ")) --\(option.flag): Env: \(environment)")
            }
        }
        #expect(seen > 40)
    }

    /// `serve --print-config`: `--flag value (source)` per line.
    static func printConfig(_ arguments: [String] = [], environment: [String: String] = [:]) throws -> [String: (value: String, source: String)] {
        let result = try Executables.run(Executables.tokend, ["serve", "--print-config"] + arguments, environment: environment)
        #expect(result.status == 0, "\(arguments) \(environment): \(result.stderr)")
        var lines: [String: (String, String)] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0].hasPrefix("--") else { continue }
            lines[String(parts[0].dropFirst(2))] = (String(parts[1]), String(parts[2].dropFirst().dropLast()))
        }
        return lines
    }

    /// Valid values for options without a default whose text has a shape.
    static let samples = ["database": "postgres://tokend@127.0.0.1:5432/db?sslmode=prefer"]

    @Test func serveOptionsAgreeAcrossFlagVariableDefaultAndHelp() throws {
        let options = try Self.options(["serve"]).filter { $0.environment != nil && $0.flag != "dev" }
        #expect(options.count >= 25)
        let defaults = try Self.printConfig()
        for option in options {
            let environment = try #require(option.environment)
            let resolved = try #require(defaults[option.flag], "--\(option.flag) is not in --print-config")
            // The help's default is the one that applies.
            #expect(resolved.source == "default", "--\(option.flag)")
            if let shown = option.defaultValue { #expect(resolved.value == shown, "--\(option.flag): help says \(shown), resolved \(resolved.value)") }
            // A value that is valid by construction (the default, else some text) through the
            // variable, then through the flag: the same value, each named as its source.
            let value = option.defaultValue ?? Self.samples[option.flag] ?? (resolved.value == "-" ? "/tmp/x" : resolved.value)
            // Options that go in pairs are given with their partner.
            let partner = ["tls-cert": ["--tls-key", "key.pem"], "tls-key": ["--tls-cert", "cert.pem"]][option.flag] ?? []
            let fromVariable = try #require(try Self.printConfig(partner, environment: [environment: value])[option.flag])
            #expect(fromVariable.source == environment && fromVariable.value == value, "--\(option.flag) from \(environment): \(fromVariable)")
            let fromFlag = try #require(try Self.printConfig(partner + ["--\(option.flag)", value], environment: [environment: "ignored"])[option.flag])
            #expect(fromFlag.source == "flag" && fromFlag.value == value, "--\(option.flag) given with \(environment) set: \(fromFlag)")
            // A bad value is refused with one message, naming both, whichever way it came.
            let bad = "-bad-value-"
            let viaVariable = try Executables.run(Executables.tokend, ["serve", "--print-config"] + partner, environment: [environment: bad])
            if viaVariable.status != 0 {
                #expect(viaVariable.stderr.contains("--\(option.flag) (or \(environment))"), "\(viaVariable.stderr)")
                let viaFlag = try Executables.run(Executables.tokend, ["serve", "--print-config"] + partner + ["--\(option.flag)=\(bad)"])
                #expect(viaFlag.status == viaVariable.status && viaFlag.stderr == viaVariable.stderr, "--\(option.flag): \(viaFlag.stderr)")
            }
        }
    }
}
