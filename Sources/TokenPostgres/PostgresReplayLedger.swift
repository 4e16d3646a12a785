import NIOCore
import PostgresNIO
import TokenCore

/// The replay ledger shared by every instance: a signature (or nonce) accepted anywhere is refused
/// everywhere for the rest of its window. One statement per request: count the caller's share,
/// then insert the key unless a live entry has it (an expired one is taken over).
///
/// The share is counted per window of `2 × skew + 2` seconds (the longest life of an entry), so a
/// caller holds at most two windows' worth of live entries: `2 × share` at the worst, without
/// counting rows on every request.
public struct PostgresReplayLedger: ReplayLedger {
    let store: PostgresStore
    let windowSeconds: Int

    public init(store: PostgresStore, maximumSkew: Int) {
        self.store = store
        windowSeconds = 2 * maximumSkew + 2
    }

    public func record(_ claim: ReplayClaim, share: Int, now: Int) async throws -> ReplayOutcome {
        let window = now - now % windowSeconds
        let key = ByteBuffer(bytes: claim.key)
        let (admitted, recorded) = try await store.run("replay") { client in
            let rows = try await client.query("""
                WITH share AS (
                    INSERT INTO tokend_replay_share AS s (caller_id, window_start, used) VALUES (\(claim.callerID), \(window), 1)
                    ON CONFLICT (caller_id, window_start) DO UPDATE SET used = s.used + 1 WHERE s.used < \(share)
                    RETURNING 1),
                recorded AS (
                    INSERT INTO tokend_replay AS r (key, caller_id, expires_at)
                    SELECT \(key), \(claim.callerID), \(claim.expiry) WHERE EXISTS (SELECT 1 FROM share)
                    ON CONFLICT (key) DO UPDATE SET caller_id = EXCLUDED.caller_id, expires_at = EXCLUDED.expires_at
                    WHERE r.expires_at <= \(now)
                    RETURNING 1)
                SELECT (SELECT count(*) FROM share), (SELECT count(*) FROM recorded)
                """)
            var result = (0, 0)
            for try await row in rows.decode((Int, Int).self) { result = row }
            return result
        }
        if admitted == 0 { return .shareExhausted }
        return recorded == 1 ? .fresh : .replayed
    }

    /// Deletes entries that can no longer matter, and share counts of past windows.
    func purge(now: Int) async throws {
        let oldestWindow = now - now % windowSeconds - windowSeconds
        try await store.run("replay_purge") { client in
            try await client.query("DELETE FROM tokend_replay WHERE expires_at < \(now)")
            try await client.query("DELETE FROM tokend_replay_share WHERE window_start < \(oldestWindow)")
        }
    }
}
