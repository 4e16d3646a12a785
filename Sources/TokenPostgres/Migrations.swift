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
    ]

    static var latestVersion: Int { all.last?.version ?? 0 }
}
