import NIOCore
import PostgresNIO
import TokenCore

/// Reads the audit chains back: for `tokend audit verify --database` and `tokend audit export`.
public enum PostgresAuditArchive {
    /// Every instance that has a chain, by name.
    public static func instances(_ store: PostgresStore) async throws -> [String] {
        try await store.run("audit_instances") { client in
            var names: [String] = []
            for try await name in try await client.query("SELECT DISTINCT instance FROM tokend_audit ORDER BY instance").decode(String.self) {
                names.append(name)
            }
            return names
        }
    }

    /// One instance's records, oldest first, each line as written (JSON Lines, newline-terminated),
    /// handed to `line` as they arrive so that a long chain is never held whole.
    public static func forEachLine(_ store: PostgresStore, instance: String, _ line: @escaping @Sendable ([UInt8]) -> Void) async throws {
        // No per-call deadline for a whole chain, which may take long: the command's job deadline
        // (`PostgresStore.withTemporaryClient`, 10 min) bounds it.
        let rows = try await store.client.query("SELECT line FROM tokend_audit WHERE instance = \(instance) ORDER BY seq")
        for try await buffer in rows.decode(ByteBuffer.self) {
            line(Array(buffer.readableBytesView) + [0x0A])
        }
    }
}
