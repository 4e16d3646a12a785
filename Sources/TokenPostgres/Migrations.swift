/// The schema, as versioned migrations (checked in, applied in order, never edited once released:
/// a change is a new version). One statement per string: the extended protocol runs one at a time.
enum Migrations {
    struct Migration {
        let version: Int
        let name: String
        let statements: [String]
    }

    static let all: [Migration] = [
        Migration(version: 1, name: "replay ledger, rate limits, audit chains", statements: [
            // Replay: one row per accepted request, keyed by the SHA-256 of its nonce or signature.
            // Logged (crash-safe): losing entries would reopen a replay window.
            """
            CREATE TABLE tokend_replay (
                key bytea PRIMARY KEY,
                caller_id text NOT NULL,
                expires_at bigint NOT NULL)
            """,
            "CREATE INDEX tokend_replay_expires_at ON tokend_replay (expires_at)",
            // Each caller's share of the ledger: entries recorded per window, and the cap they
            // were admitted under. Unlogged: after a crash of PostgreSQL it starts empty, which
            // only resets the counts.
            """
            CREATE UNLOGGED TABLE tokend_replay_share (
                caller_id text NOT NULL,
                window_start bigint NOT NULL,
                used integer NOT NULL,
                cap integer NOT NULL,
                PRIMARY KEY (caller_id, window_start))
            """,
            // Rate limits: GCRA, one row per caller holding its theoretical arrival time (seconds
            // on the database's clock). Unlogged: a crash resets buckets, which is harmless.
            """
            CREATE UNLOGGED TABLE tokend_rate (
                caller_id text PRIMARY KEY,
                tat double precision NOT NULL)
            """,
            // A batch of rate-limit decisions in one call: each request in turn, exactly as if
            // they had come one by one (GCRA), callers' rows taken in id order so that batches
            // from several instances cannot deadlock. Returns, per request in input order, 0 when
            // admitted, else the seconds until the caller's next request would be.
            """
            CREATE FUNCTION tokend_rate_acquire(callers text[], intervals float8[], bursts float8[])
            RETURNS float8[] LANGUAGE plpgsql AS $$
            DECLARE
                now float8 := extract(epoch FROM clock_timestamp());
                waits float8[] := array_fill(0::float8, ARRAY[coalesce(array_length(callers, 1), 0)]);
                request record;
                admitted float8;
            BEGIN
                FOR request IN
                    SELECT t.caller_id, t.step, t.burst, t.ord
                    FROM unnest(callers, intervals, bursts) WITH ORDINALITY AS t(caller_id, step, burst, ord)
                    ORDER BY t.caller_id, t.ord
                LOOP
                    INSERT INTO tokend_rate AS r (caller_id, tat) VALUES (request.caller_id, now + request.step)
                    ON CONFLICT (caller_id) DO UPDATE SET tat = greatest(r.tat, now) + request.step
                    WHERE greatest(r.tat, now) + request.step - now <= request.burst
                    RETURNING tat INTO admitted;
                    IF NOT FOUND THEN
                        SELECT greatest(r.tat, now) + request.step - now - request.burst INTO admitted
                        FROM tokend_rate r WHERE r.caller_id = request.caller_id;
                        waits[request.ord] := greatest(admitted, 0.000001);
                    END IF;
                END LOOP;
                RETURN waits;
            END $$
            """,
            // Audit: one chain per instance, the exact line bytes (what `prev` hashes).
            """
            CREATE TABLE tokend_audit (
                instance text NOT NULL,
                seq bigint NOT NULL CHECK (seq > 0),
                line bytea NOT NULL,
                committed_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (instance, seq))
            """,
            // Records are appended, never changed: the table refuses UPDATE for everyone, so an
            // edit needs DDL rights (and still breaks the chain).
            """
            CREATE FUNCTION tokend_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'tokend_audit is append-only'; END $$
            """,
            """
            CREATE TRIGGER tokend_audit_append_only BEFORE UPDATE ON tokend_audit
            FOR EACH ROW EXECUTE FUNCTION tokend_audit_append_only()
            """,
        ]),
        Migration(version: 2, name: "revocations, blocks and quota counts", statements: [
            // Revocations and blocks, one row per event (`ControlEvent.line`), numbered in commit
            // order: every insert takes the same transaction-scoped advisory lock before its ids
            // are drawn, so a replica that has read up to id N never finds a smaller id later. An
            // identity column, not serial: INSERT rights suffice, no grant on its sequence.
            // `kept_until` is when the event stops mattering (NULL: until an unblock lifts it);
            // `block_identity` and `lifts_block` let the purge drop the blocks an unblock lifted.
            """
            CREATE TABLE tokend_control (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                line bytea NOT NULL,
                block_identity text,
                lifts_block boolean NOT NULL DEFAULT false,
                kept_until bigint)
            """,
            "CREATE INDEX tokend_control_kept_until ON tokend_control (kept_until)",
            "CREATE INDEX tokend_control_block_identity ON tokend_control (block_identity) WHERE block_identity IS NOT NULL",
            // Quota counts, one row per caller and window ('' for the caller's own quota) or per
            // caller, identity and window. Logged: "exact across restarts" includes PostgreSQL's.
            """
            CREATE TABLE tokend_quota (
                caller_id text NOT NULL,
                identity text NOT NULL,
                window_start bigint NOT NULL,
                window_seconds bigint NOT NULL,
                used bigint NOT NULL,
                PRIMARY KEY (caller_id, identity, window_start, window_seconds))
            """,
            "CREATE INDEX tokend_quota_window_end ON tokend_quota ((window_start + window_seconds))",
            // How many per-identity rows exist: the bound every replica enforces, kept in one row
            // rather than counted (a count would scan the table on every new identity).
            """
            CREATE TABLE tokend_quota_identities (
                only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
                live bigint NOT NULL)
            """,
            "INSERT INTO tokend_quota_identities (live) VALUES (0)",
            // A batch of quota counts in one call, each token in turn: both of its counters or
            // neither. A counter's row is read (and locked) once per batch and written back once,
            // however many of the batch's tokens it counts: a busy caller's batch costs a few
            // statements, not a few per token. Rows are taken in one order — the identity-row
            // count first when the batch has identity quotas, then callers, then identities —
            // so batches from several replicas do not deadlock (PostgreSQL would break one that
            // did, a 503 for its tokens). Per token, in input order: the caller's count after it
            // (0 without a caller quota), -1 its caller quota is used up, -2 its identity quota,
            // -3 the per-identity table holds `capacity` rows already.
            """
            CREATE FUNCTION tokend_quota_take(callers text[], identities text[],
                                              caller_limits int8[], caller_starts int8[], caller_lengths int8[],
                                              identity_limits int8[], identity_starts int8[], identity_lengths int8[],
                                              capacity int8)
            RETURNS int8[] LANGUAGE plpgsql AS $$
            DECLARE
                results int8[] := array_fill(0::int8, ARRAY[coalesce(array_length(callers, 1), 0)]);
                t record;
                live_rows int8;
                -- The counter rows in hand: key, count, whether the count changed.
                c_key text[]; c_used int8; c_dirty boolean := false;
                i_key text[]; i_used int8; i_dirty boolean := false;
            BEGIN
                IF EXISTS (SELECT 1 FROM unnest(identity_limits) AS l WHERE l > 0) THEN
                    SELECT n.live INTO live_rows FROM tokend_quota_identities n FOR UPDATE;
                END IF;
                FOR t IN
                    SELECT u.* FROM unnest(callers, identities, caller_limits, caller_starts, caller_lengths,
                                           identity_limits, identity_starts, identity_lengths)
                        WITH ORDINALITY AS u(caller_id, identity, climit, cstart, clength, ilimit, istart, ilength, ord)
                    ORDER BY u.caller_id, u.cstart, u.clength, u.identity, u.istart, u.ilength, u.ord
                LOOP
                    IF t.climit > 0 AND c_key IS DISTINCT FROM ARRAY[t.caller_id, t.cstart::text, t.clength::text] THEN
                        IF c_dirty THEN
                            UPDATE tokend_quota q SET used = c_used
                            WHERE q.caller_id = c_key[1] AND q.identity = '' AND q.window_start = c_key[2]::int8 AND q.window_seconds = c_key[3]::int8;
                        END IF;
                        c_key := ARRAY[t.caller_id, t.cstart::text, t.clength::text];
                        c_dirty := false;
                        INSERT INTO tokend_quota VALUES (t.caller_id, '', t.cstart, t.clength, 0) ON CONFLICT DO NOTHING;
                        SELECT q.used INTO c_used FROM tokend_quota q
                        WHERE q.caller_id = t.caller_id AND q.identity = '' AND q.window_start = t.cstart AND q.window_seconds = t.clength
                        FOR UPDATE;
                    END IF;
                    IF t.climit > 0 AND c_used >= t.climit THEN results[t.ord] := -1; CONTINUE; END IF;
                    IF t.ilimit > 0 AND i_key IS DISTINCT FROM ARRAY[t.caller_id, t.identity, t.istart::text, t.ilength::text] THEN
                        IF i_dirty THEN
                            UPDATE tokend_quota q SET used = i_used
                            WHERE q.caller_id = i_key[1] AND q.identity = i_key[2] AND q.window_start = i_key[3]::int8 AND q.window_seconds = i_key[4]::int8;
                        END IF;
                        i_key := ARRAY[t.caller_id, t.identity, t.istart::text, t.ilength::text];
                        i_dirty := false;
                        SELECT q.used INTO i_used FROM tokend_quota q
                        WHERE q.caller_id = t.caller_id AND q.identity = t.identity AND q.window_start = t.istart AND q.window_seconds = t.ilength
                        FOR UPDATE;
                        IF NOT FOUND THEN
                            IF live_rows >= capacity THEN
                                i_key := NULL;
                                results[t.ord] := -3;
                                CONTINUE;
                            END IF;
                            -- No other batch can create it meanwhile: they wait for the count's lock.
                            INSERT INTO tokend_quota VALUES (t.caller_id, t.identity, t.istart, t.ilength, 0);
                            live_rows := live_rows + 1;
                            i_used := 0;
                        END IF;
                    END IF;
                    IF t.ilimit > 0 THEN
                        IF i_used >= t.ilimit THEN results[t.ord] := -2; CONTINUE; END IF;
                        i_used := i_used + 1;
                        i_dirty := true;
                    END IF;
                    IF t.climit > 0 THEN
                        c_used := c_used + 1;
                        c_dirty := true;
                    END IF;
                    results[t.ord] := CASE WHEN t.climit > 0 THEN c_used ELSE 0 END;
                END LOOP;
                IF c_dirty THEN
                    UPDATE tokend_quota q SET used = c_used
                    WHERE q.caller_id = c_key[1] AND q.identity = '' AND q.window_start = c_key[2]::int8 AND q.window_seconds = c_key[3]::int8;
                END IF;
                IF i_dirty THEN
                    UPDATE tokend_quota q SET used = i_used
                    WHERE q.caller_id = i_key[1] AND q.identity = i_key[2] AND q.window_start = i_key[3]::int8 AND q.window_seconds = i_key[4]::int8;
                END IF;
                IF live_rows IS NOT NULL THEN
                    UPDATE tokend_quota_identities SET live = live_rows;
                END IF;
                RETURN results;
            END $$
            """,
        ]),
        Migration(version: 3, name: "the audit table refuses DELETE and TRUNCATE too", statements: [
            // Appended, never changed or removed, for everyone: cutting records from a chain (its
            // newest, or a whole instance's) now needs DDL rights to drop the triggers, as an edit
            // already did. Retention is an administrator's job, with the triggers disabled.
            "DROP TRIGGER tokend_audit_append_only ON tokend_audit",
            """
            CREATE TRIGGER tokend_audit_append_only BEFORE UPDATE OR DELETE ON tokend_audit
            FOR EACH ROW EXECUTE FUNCTION tokend_audit_append_only()
            """,
            """
            CREATE TRIGGER tokend_audit_no_truncate BEFORE TRUNCATE ON tokend_audit
            FOR EACH STATEMENT EXECUTE FUNCTION tokend_audit_append_only()
            """,
        ]),
        Migration(version: 4, name: "instance heartbeats; rate decisions exact at the burst's edge", statements: [
            // The same GCRA, with a microsecond's tolerance: times are epoch seconds (about 1.8e9,
            // where a float8 resolves 0.24 µs), so five steps of 0.2 s from one instant came to
            // a hair over the 1 s burst, and a burst of five decided at once admitted four.
            """
            CREATE OR REPLACE FUNCTION tokend_rate_acquire(callers text[], intervals float8[], bursts float8[])
            RETURNS float8[] LANGUAGE plpgsql AS $$
            DECLARE
                now float8 := extract(epoch FROM clock_timestamp());
                waits float8[] := array_fill(0::float8, ARRAY[coalesce(array_length(callers, 1), 0)]);
                request record;
                admitted float8;
            BEGIN
                FOR request IN
                    SELECT t.caller_id, t.step, t.burst, t.ord
                    FROM unnest(callers, intervals, bursts) WITH ORDINALITY AS t(caller_id, step, burst, ord)
                    ORDER BY t.caller_id, t.ord
                LOOP
                    INSERT INTO tokend_rate AS r (caller_id, tat) VALUES (request.caller_id, now + request.step)
                    ON CONFLICT (caller_id) DO UPDATE SET tat = greatest(r.tat, now) + request.step
                    WHERE greatest(r.tat, now) + request.step - now <= request.burst + 1e-6
                    RETURNING tat INTO admitted;
                    IF NOT FOUND THEN
                        SELECT greatest(r.tat, now) + request.step - now - request.burst INTO admitted
                        FROM tokend_rate r WHERE r.caller_id = request.caller_id;
                        waits[request.ord] := greatest(admitted, 0.000001);
                    END IF;
                END LOOP;
                RETURN waits;
            END $$
            """,
            // One row per instance, written by its write probe every second: proof that a write
            // commits (the probe takes every request-path table's write lock first), and where the
            // instance's audit chain ended then, outside the chain.
            """
            CREATE TABLE tokend_heartbeat (
                instance text PRIMARY KEY,
                beat_at timestamptz NOT NULL,
                audit_seq bigint NOT NULL,
                audit_link text NOT NULL)
            """,
        ]),
        Migration(version: 5, name: "audit batches commit before they are answered", statements: [
            // A statement outside BEGIN commits after the server has reported it complete, and
            // that report can reach the client first (an error at COMMIT, a server process
            // stopped mid-commit). A procedure that commits itself reports only after its
            // COMMIT — and, with a synchronous standby, after the standby's confirmation — in
            // the one round trip the INSERT took. CALL'd on its own, never inside BEGIN.
            """
            CREATE PROCEDURE tokend_audit_append(p_instance text, p_seqs int8[], p_lines bytea[])
            LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO tokend_audit (instance, seq, line)
                SELECT p_instance, t.seq, t.line FROM unnest(p_seqs, p_lines) AS t(seq, line);
                COMMIT;
            END $$
            """,
        ]),
    ]

    static var latestVersion: Int { all.last?.version ?? 0 }
}
