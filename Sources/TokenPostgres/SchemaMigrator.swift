import Logging
import PostgresNIO
import TokenCore

/// Creates or upgrades the schema in one transaction, under an advisory lock, so instances that
/// start together against an empty database take turns: the first migrates, the rest find it done.
public enum SchemaMigrator {
    /// `pg_advisory_xact_lock` key: "tokend" in ASCII.
    static let lockKey: Int64 = 0x746F_6B65_6E64

    /// The database was migrated by a newer tokend: this one must not touch it.
    public struct NewerSchema: Error, CustomStringConvertible {
        public let version: Int
        public var description: String {
            "the database schema is version \(version), newer than this tokend knows (\(Migrations.latestVersion)); upgrade tokend"
        }
    }

    public struct Outcome: Sendable {
        public let from: Int
        public let to: Int
    }

    public static func migrate(_ store: PostgresStore) async throws -> Outcome {
        try await store.client.withTransaction(logger: store.logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: store.logger)
            // No DDL at all when the schema is current: a serving role without CREATE rights
            // (the schema migrated by `tokend db migrate` with another role) starts as well.
            var exists = false
            for try await found in try await connection.query("SELECT to_regclass('tokend_schema_migrations') IS NOT NULL",
                                                              logger: store.logger).decode(Bool.self) {
                exists = found
            }
            if !exists {
                try await connection.query("""
                    CREATE TABLE tokend_schema_migrations (
                        version integer PRIMARY KEY,
                        name text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now())
                    """, logger: store.logger)
            }
            var current = 0
            for try await version in try await connection.query("SELECT coalesce(max(version), 0)::int8 FROM tokend_schema_migrations",
                                                                logger: store.logger).decode(Int.self) {
                current = version
            }
            if current > Migrations.latestVersion {
                throw NewerSchema(version: current)
            }
            for migration in Migrations.all where migration.version > current {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: store.logger)
                }
                try await connection.query("INSERT INTO tokend_schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                                           logger: store.logger)
            }
            return Outcome(from: current, to: max(current, Migrations.latestVersion))
        }
    }
}
