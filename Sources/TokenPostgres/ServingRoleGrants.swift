/// What a serving role needs on tokend's schema, and nothing more: the audit table may only be
/// read and appended to (no UPDATE, DELETE or TRUNCATE — the triggers refuse those to everyone,
/// and without the right a serving role's credentials cannot even try). `tokend db grants ROLE`
/// prints these for an administrator to run after `tokend db migrate`.
public enum ServingRoleGrants {
    /// Table → the rights `serve` uses on it.
    static let rights: [(table: String, rights: String)] = [
        ("tokend_schema_migrations", "SELECT"),
        ("tokend_audit", "SELECT, INSERT"),
        ("tokend_replay", "SELECT, INSERT, UPDATE, DELETE"),
        ("tokend_replay_share", "SELECT, INSERT, UPDATE, DELETE"),
        ("tokend_rate", "SELECT, INSERT, UPDATE"),
        ("tokend_control", "SELECT, INSERT, DELETE"),
        ("tokend_quota", "SELECT, INSERT, UPDATE, DELETE"),
        ("tokend_quota_identities", "SELECT, UPDATE"),
        ("tokend_heartbeat", "SELECT, INSERT, UPDATE"),
    ]

    /// The GRANT statements for `role`, one per line (quoted as an SQL identifier).
    public static func statements(role: String) -> [String] {
        let quoted = "\"" + role.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
        return rights.map { "GRANT \($0.rights) ON \($0.table) TO \(quoted);" }
    }
}
