import Logging
import NIOCore
import PostgresNIO
import TokenCore

// The statements on the request path, prepared once per connection (postgres-nio's
// `PostgresPreparedStatement`): PostgreSQL parses and plans each once instead of on every
// request — for the replay CTE, most of its CPU. Parameters carry explicit casts so the types are
// known at preparation.

/// A batch of replay claims in one statement. For each claim, in order: 0 recorded (fresh), 1 a
/// live entry has its key (replayed; also the second of two claims with one key in the batch),
/// 2 its caller's share is used up. A replay takes nothing from the share, so replaying a
/// captured request cannot use up its caller's share; a caller whose claims in the batch do not
/// all fit its share has none of them recorded. Rows are locked in one order (callers by id, keys
/// by value), so batches committing concurrently cannot deadlock. Whether a key is held is a
/// `LATERAL … LIMIT 1` probe of the primary key, not a `NOT EXISTS`: the generic plan PostgreSQL
/// keeps for a prepared statement is made while the ledger is small, and for the anti-join it
/// chose to read every live entry (by `expires_at`) in every batch, a cost that grew with the
/// ledger.
struct ReplayBatchStatement: PostgresPreparedStatement {
    static let sql = """
        WITH input AS (
            SELECT t.key, t.caller_id, t.expires_at, t.share, t.ord
            FROM unnest($1::bytea[], $2::text[], $3::int8[], $4::int4[]) WITH ORDINALITY AS t(key, caller_id, expires_at, share, ord)),
        first AS (
            SELECT DISTINCT ON (i.key) i.key, i.caller_id, i.expires_at, i.share, i.ord FROM input i
            LEFT JOIN LATERAL (SELECT r.expires_at FROM tokend_replay r WHERE r.key = i.key LIMIT 1) held ON true
            WHERE held.expires_at IS NULL OR held.expires_at <= $5::int8
            ORDER BY i.key, i.ord),
        demand AS (
            SELECT caller_id, count(*)::int4 AS n, max(share) AS cap FROM first GROUP BY caller_id),
        share AS (
            INSERT INTO tokend_replay_share AS s (caller_id, window_start, used, cap)
            SELECT caller_id, $6::int8, n, cap FROM demand WHERE n <= cap ORDER BY caller_id
            ON CONFLICT (caller_id, window_start) DO UPDATE SET used = s.used + EXCLUDED.used, cap = EXCLUDED.cap
            WHERE s.used + EXCLUDED.used <= EXCLUDED.cap
            RETURNING caller_id),
        recorded AS (
            INSERT INTO tokend_replay AS r (key, caller_id, expires_at)
            SELECT f.key, f.caller_id, f.expires_at FROM first f WHERE f.caller_id IN (SELECT caller_id FROM share) ORDER BY f.key
            ON CONFLICT (key) DO UPDATE SET caller_id = EXCLUDED.caller_id, expires_at = EXCLUDED.expires_at
            WHERE r.expires_at <= $5::int8
            RETURNING key)
        SELECT i.ord::int8,
               (CASE WHEN EXISTS (SELECT 1 FROM first f JOIN recorded rc ON rc.key = f.key WHERE f.ord = i.ord) THEN 0
                     WHEN EXISTS (SELECT 1 FROM first f WHERE f.ord = i.ord)
                          AND NOT EXISTS (SELECT 1 FROM share s WHERE s.caller_id = i.caller_id) THEN 2
                     ELSE 1 END)::int8
        FROM input i ORDER BY i.ord
        """
    typealias Row = (Int, Int)

    let keys: [ByteBuffer]
    let callerIDs: [String]
    let expiries: [Int]
    let shares: [Int32]
    let now: Int
    let window: Int

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(keys)
        bindings.append(callerIDs)
        bindings.append(expiries)
        bindings.append(shares)
        bindings.append(now)
        bindings.append(window)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// A batch of rate-limit decisions (`tokend_rate_acquire`, see the migrations): per request, 0
/// when admitted, else the seconds to wait.
struct RateLimitBatchStatement: PostgresPreparedStatement {
    static let sql = "SELECT tokend_rate_acquire($1::text[], $2::float8[], $3::float8[])"
    typealias Row = [Double]

    let callerIDs: [String]
    /// Seconds between two requests at each caller's rate.
    let intervals: [Double]
    /// Seconds of allowance each bucket holds (one second's worth of requests, at least one).
    let bursts: [Double]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(callerIDs)
        bindings.append(intervals)
        bindings.append(bursts)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// One batch of an instance's audit chain, in one statement (one transaction, one WAL flush). The
/// procedure commits before it returns (see migration 5), so the statement's completion is the
/// commit's: no `commit` barrier, no second round trip.
struct AuditInsertStatement: PostgresPreparedStatement {
    static let sql = "CALL tokend_audit_append($1::text, $2::int8[], $3::bytea[])"
    typealias Row = Void

    let instance: String
    let seqs: [Int64]
    let lines: [ByteBuffer]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(instance)
        bindings.append(seqs)
        bindings.append(lines)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {}
}

/// A statement with nothing to do: run after a write on the same connection, it returns only
/// once the write's transaction has committed (see `PostgresClient.commit`).
struct CommitBarrierStatement: PostgresPreparedStatement {
    static let sql = "SELECT 1"
    typealias Row = Int

    func makeBindings() throws -> PostgresBindings { PostgresBindings() }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

extension PostgresClient {
    /// Runs a prepared statement that writes, and returns its rows once its transaction has
    /// committed — not merely once the statement completed.
    ///
    /// In the extended protocol a statement outside `BEGIN` commits after its CommandComplete,
    /// when the server reaches Sync, and postgres-nio finishes the query at CommandComplete. The
    /// server normally sends both together with ReadyForQuery, after the commit, but flushes the
    /// CommandComplete early with anything it says first: an error at COMMIT (a deferred
    /// constraint), or the notice of a backend stopped by an immediate shutdown or by another
    /// backend's crash while the commit — or a synchronous standby's confirmation of it — was
    /// still to come. Then the write is reported done and is not. A connection starts its next
    /// query only after ReadyForQuery, so a trivial one on the same connection returns only if
    /// the commit did (a failed commit closes the connection: the library takes an error after
    /// CommandComplete as a protocol violation). One round trip per batch, not per request.
    func commit<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [Statement.Row] where Statement.Row: Sendable {
        try await withConnection { connection in
            var rows: [Statement.Row] = []
            for try await row in try await connection.execute(statement, logger: Self.statementLogger) { rows.append(row) }
            for try await _ in try await connection.execute(CommitBarrierStatement(), logger: Self.statementLogger) {}
            return rows
        }
    }

    /// `commit` of a statement that returns exactly one row. No row is an error, never a
    /// default: a decision must not fail open.
    func commitOne<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> Statement.Row where Statement.Row: Sendable {
        guard let row = try await commit(statement).last else { throw SharedStateUnavailable("\(Statement.self) returned no row") }
        return row
    }

    /// Runs a statement that commits its own work before it completes (a procedure that ends in
    /// COMMIT), so that its completion already says the commit happened.
    func runCommittingItself<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws {
        for try await _ in try await execute(statement) {}
    }

    /// Runs a prepared statement that only reads and returns all its rows.
    func all<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> [Statement.Row] {
        var rows: [Statement.Row] = []
        for try await row in try await execute(statement) { rows.append(row) }
        return rows
    }

    /// The statements' own events are not logged (the store records each call's outcome).
    private static let statementLogger = Logger(label: "tokend.postgres.statement", factory: { _ in SwiftLogNoOpLogHandler() })
}
