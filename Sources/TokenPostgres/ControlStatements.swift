import NIOCore
import PostgresNIO

// The statements of the shared revocations, blocks and quota counts (see the migrations for the
// tables and `tokend_quota_take`), prepared once per connection like the others.

/// Appends events under the table's advisory lock, so ids are drawn — and committed — in order.
/// Returns the highest id written. Arrays cannot carry NULLs here: '' and 0 stand for them.
struct ControlInsertStatement: PostgresPreparedStatement {
    static let sql = """
        WITH turn AS (SELECT pg_advisory_xact_lock(\(PostgresControlStore.appendLockKey))),
        written AS (
            INSERT INTO tokend_control (line, block_identity, lifts_block, kept_until)
            SELECT t.line, nullif(t.identity, ''), t.lifts, nullif(t.kept_until, 0) FROM turn,
                   unnest($1::bytea[], $2::text[], $3::bool[], $4::int8[]) WITH ORDINALITY AS t(line, identity, lifts, kept_until, ord)
            ORDER BY t.ord
            RETURNING id)
        SELECT max(id)::int8 FROM written
        """
    typealias Row = Int

    let lines: [ByteBuffer]
    let blockIdentities: [String]
    let liftsBlock: [Bool]
    let keptUntil: [Int]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 4)
        bindings.append(lines)
        bindings.append(blockIdentities)
        bindings.append(liftsBlock)
        bindings.append(keptUntil)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int.self) }
}

/// The events after `after`, in order, at most `limit` of them.
struct ControlReadStatement: PostgresPreparedStatement {
    static let sql = "SELECT id, line FROM tokend_control WHERE id > $1::int8 ORDER BY id LIMIT $2::int8"
    typealias Row = (Int, ByteBuffer)

    let after: Int
    let limit: Int

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(after)
        bindings.append(limit)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// A batch of quota counts in one call of `tokend_quota_take`: per token, the caller's count
/// after it, or a negative refusal code. A limit of 0 means "no such quota".
struct QuotaTakeStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT tokend_quota_take($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::int8)
        """
    typealias Row = [Int]

    let callers: [String]
    let identities: [String]
    let callerLimits: [Int]
    let callerStarts: [Int]
    let callerLengths: [Int]
    let identityLimits: [Int]
    let identityStarts: [Int]
    let identityLengths: [Int]
    let capacity: Int

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 9)
        bindings.append(callers)
        bindings.append(identities)
        bindings.append(callerLimits)
        bindings.append(callerStarts)
        bindings.append(callerLengths)
        bindings.append(identityLimits)
        bindings.append(identityStarts)
        bindings.append(identityLengths)
        bindings.append(capacity)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
