import Foundation
import Testing
@testable import TokenCore

/// A chain checked in stretches side by side says exactly what one pass over it says — the same
/// report, or the same first broken line and reason — for every kind of tampering, wherever the
/// stretches happen to be cut and however the chain is split into files.
struct AuditStretchTests {
    static let count = 60

    /// Every record names instance "a", as PostgreSQL's rows do; the file cases do not ask.
    static func chain(instance: String? = "a", key: HMACKey? = nil) -> [[UInt8]] {
        let records = (1...count).map { n in
            AuditRecord(requestID: "r\(n)", remote: "10.0.0.\(n % 7)", event: .tokenIssued(.init(
                actor: AuditActor(caller: "web", auth: "api_key"), identity: "user-\(n)", grants: ["chat"], ttlRequested: nil,
                ttl: 3600, kid: "k1", jti: "J\(n)", tokenSHA256: String(repeating: "ab", count: 32))))
        }
        return AuditChain(key: key).append(records, after: AuditVerifier.Head(seq: 0, link: AuditChain.genesis),
                                           timeMilliseconds: 1_796_357_322_123, instance: instance).lines
    }

    /// The lines rewritten from `index` on with their links recomputed, as someone without the
    /// key would: only the chain's own checks (an instance, a head) can tell.
    static func relinked(_ lines: [[UInt8]], from index: Int, _ edit: (String) -> String) -> [[UInt8]] {
        var lines = lines
        var link = index == 0 ? AuditChain.genesis : AuditChain(key: nil).link(for: lines[index - 1])
        for i in index..<lines.count {
            var text = String(decoding: lines[i], as: UTF8.self)
            if i == index { text = edit(text) }
            let prefix = text.range(of: #""prev":""#)!
            text = String(text[..<prefix.upperBound]) + link + #""}"#
            lines[i] = Array(text.utf8)
            link = AuditChain(key: nil).link(for: lines[i])
        }
        return lines
    }

    struct Case {
        let name: String
        let lines: [[UInt8]]
        var trailingNewline = true
        var continues = false
        var head: AuditVerifier.Head?
        var through: AuditVerifier.Head?
        var instance: String?
        /// What one pass says, in part: a case that does not break when it should tests nothing.
        let expected: String
    }

    static var cases: [Case] {
        let lines = chain()
        func text(_ i: Int) -> String { String(decoding: lines[i], as: UTF8.self) }
        let last = AuditChain(key: nil).link(for: lines[count - 1])
        var cases: [Case] = [Case(name: "intact", lines: lines, expected: "ok: \(count)")]
        for at in [1, 17, 30, 58] {
            var edited = lines
            edited[at] = Array(text(at).replacingOccurrences(of: "user-\(at + 1)", with: "user-X").utf8)
            cases.append(Case(name: "edited \(at)", lines: edited, expected: "was edited"))
            var deleted = lines
            deleted.remove(at: at)
            cases.append(Case(name: "deleted \(at)", lines: deleted, expected: "were deleted"))
            var swapped = lines
            swapped.swapAt(at, at + 1)
            cases.append(Case(name: "swapped \(at)", lines: swapped, expected: "reordered"))
            var moved = lines
            moved.insert(moved.remove(at: at), at: min(at + 9, count - 1))
            cases.append(Case(name: "moved later \(at)", lines: moved, expected: "comes later"))
            var duplicated = lines
            duplicated.insert(lines[at], at: at + 1)
            cases.append(Case(name: "duplicated \(at)", lines: duplicated, expected: "reordered or duplicated"))
            var garbage = lines
            garbage.insert(Array("not json".utf8), at: at)
            cases.append(Case(name: "garbage \(at)", lines: garbage, expected: "not an audit record"))
            var empty = lines
            empty.insert([], at: at)
            cases.append(Case(name: "empty line \(at)", lines: empty, expected: "not an audit record"))
            cases.append(Case(name: "renamed from \(at)", lines: relinked(lines, from: at) { $0.replacingOccurrences(of: #""instance":"a""#, with: #""instance":"b""#) },
                              instance: "a", expected: "copied or renamed"))
            cases.append(Case(name: "rewritten through \(at)", lines: relinked(lines, from: at) { $0.replacingOccurrences(of: "user-", with: "user-Y") },
                              through: AuditVerifier.Head(seq: at + 1, link: AuditChain(key: nil).link(for: lines[at])),
                              instance: "a", expected: "rewritten from here on"))
        }
        cases.append(Case(name: "instance", lines: lines, instance: "a", expected: "ok: \(count)"))
        cases.append(Case(name: "truncated", lines: lines.dropLast() + [Array(lines[count - 1].prefix(40))], trailingNewline: false,
                          expected: "truncated"))
        cases.append(Case(name: "first deleted", lines: Array(lines.dropFirst()), expected: "starts at seq 2"))
        cases.append(Case(name: "first deleted, continues", lines: Array(lines.dropFirst()), continues: true, expected: "ok: \(count - 1)"))
        var badGenesis = lines
        badGenesis[0] = Array(text(0).replacingOccurrences(of: AuditChain.genesis, with: String(repeating: "1", count: 64)).utf8)
        cases.append(Case(name: "bad genesis", lines: badGenesis, expected: "64 zeros"))
        cases.append(Case(name: "head", lines: lines, head: AuditVerifier.Head(seq: count, link: last), expected: "ok: \(count)"))
        cases.append(Case(name: "tail cut", lines: Array(lines.dropLast(3)), head: AuditVerifier.Head(seq: count, link: last),
                          expected: "cut from the end"))
        cases.append(Case(name: "through", lines: lines, through: AuditVerifier.Head(seq: 20, link: AuditChain(key: nil).link(for: lines[19])),
                          expected: "ok: \(count)"))
        cases.append(Case(name: "through, tail cut", lines: Array(lines.prefix(10)),
                          through: AuditVerifier.Head(seq: 20, link: AuditChain(key: nil).link(for: lines[19])), expected: "cut from the end"))
        return cases
    }

    static func outcome(_ c: Case, files: [(name: String, contents: [UInt8])], stretches: Int, minimumBytes: Int) -> String {
        do {
            let report = try AuditVerifier.verify(files: files, key: nil, continues: c.continues, head: c.head, through: c.through,
                                                  instance: c.instance, stretches: stretches, minimumStretchBytes: minimumBytes)
            return "ok: \(report.records) \(report.continuesFromSequence.map(String.init) ?? "-") \(report.head?.description ?? "-")"
        } catch {
            return "\(error)"
        }
    }

    /// The case's bytes, as one file or cut into files at `splits` (line indexes).
    static func files(_ c: Case, splits: [Int]) -> [(name: String, contents: [UInt8])] {
        let bounds = [0] + splits.filter { $0 > 0 && $0 < c.lines.count } + [c.lines.count]
        return zip(bounds, bounds.dropFirst()).enumerated().map { index, range in
            let isLast = range.1 == c.lines.count
            var bytes: [UInt8] = []
            for (i, line) in c.lines[range.0..<range.1].enumerated() {
                bytes += line
                if !(isLast && !c.trailingNewline && range.0 + i == c.lines.count - 1) { bytes.append(0x0A) }
            }
            return ("audit.\(index)", bytes)
        }
    }

    @Test(arguments: [[], [1], [30], [17, 18, 45]])
    func stretchesAgreeWithOnePass(splits: [Int]) {
        for c in Self.cases {
            let files = Self.files(c, splits: splits)
            let onePass = Self.outcome(c, files: files, stretches: 1, minimumBytes: Int.max)
            // Split into files, a reordering across a file's end reads as a deletion (the missing
            // record is looked for in the same file only): the expectation is for one file.
            if splits.isEmpty { #expect(onePass.contains(c.expected), "\(c.name): \(onePass)") }
            for (stretches, minimumBytes) in [(2, 1), (3, 1), (7, 1), (64, 1), (5, 900), (2, 4000)] {
                let outcome = Self.outcome(c, files: files, stretches: stretches, minimumBytes: minimumBytes)
                #expect(outcome == onePass, "\(c.name), \(stretches) stretches of ≥ \(minimumBytes) B, files split at \(splits)")
            }
        }
    }
}
