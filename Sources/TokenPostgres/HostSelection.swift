import PostgresNIO

/// What one host of the URL says it is, asked on a connection of its own.
enum HostAnswer: Sendable, Equatable {
    case serving(inRecovery: Bool, readOnlyByDefault: Bool)
    case unreachable(String)

    /// In an operator's words, for readiness and logs.
    var description: String {
        switch self {
        case .serving(inRecovery: true, _): "a standby (in recovery)"
        case .serving(_, readOnlyByDefault: true): "read-only (default_transaction_read_only is on)"
        case .serving: "accepts writes"
        case .unreachable(let reason): reason
        }
    }
}

/// Which host to use, from every host's answer, with libpq's meaning of `target_session_attrs`:
/// the active host while it suits (no flapping between two that both claim to be primary), else
/// the first in the URL's order that does. A pure function: tested without a database.
enum HostSelection {
    static func choose(_ answers: [HostAnswer], active: Int, target: DatabaseURL.TargetSession) -> Int? {
        if answers.indices.contains(active), suits(answers[active], target) { return active }
        return answers.firstIndex { suits($0, target) }
    }

    static func suits(_ answer: HostAnswer, _ target: DatabaseURL.TargetSession) -> Bool {
        guard case .serving(let inRecovery, let readOnly) = answer else { return false }
        switch target {
        case .any: return true
        case .primary: return !inRecovery
        case .readWrite: return !inRecovery && !readOnly
        }
    }
}

extension PostgresStore {
    /// Asks every host at once what it is (one direct connection each, within the deadline: a
    /// refused one answers at once, an unreachable one at the deadline) and makes the one that
    /// suits active. Nil when one does; otherwise each host's answer, for readiness.
    func selectHost() async -> String? {
        let answers = await withTaskGroup(of: (Int, HostAnswer).self) { group in
            for (index, pool) in pools.enumerated() {
                group.addTask { (index, await self.ask(pool.host)) }
            }
            var answers = [HostAnswer](repeating: .unreachable("not asked"), count: pools.count)
            for await (index, answer) in group { answers[index] = answer }
            return answers
        }
        if let chosen = HostSelection.choose(answers, active: activeIndex, target: url.targetSession) {
            activate(chosen)
            return nil
        }
        return zip(pools, answers).map { "\($0.host) \($1.description)" }.joined(separator: "; ")
    }

    private func ask(_ host: DatabaseURL.Host) async -> HostAnswer {
        let logger = self.logger
        do {
            return try await withDirectConnection(to: host) { connection in
                let rows = try await connection.query("SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only')", logger: logger)
                for try await (inRecovery, readOnly) in rows.decode((Bool, String).self) {
                    return .serving(inRecovery: inRecovery, readOnlyByDefault: readOnly == "on")
                }
                return .unreachable("no answer to pg_is_in_recovery()")
            }
        } catch {
            return .unreachable(Self.describe(error, timeout: timeout))
        }
    }
}
