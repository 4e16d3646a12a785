# Sourced (after WORK is made): a throwaway PostgreSQL, as the tests make one — its own directory
# under WORK, loopback on PGPORT, a SCRAM password — stopped and removed with WORK on exit.
# PG_OPTIONS adds server settings (-c name=value ...). Sets PGBIN and DATABASE (the URL);
# psql_bench runs psql against it.
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
PGDATA="$WORK/pg"
mkdir -p "$PGDATA"; echo bench-pg-password >"$WORK/pgpass"; chown -R postgres: "$PGDATA" "$WORK/pgpass"; chmod 755 "$WORK"
runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -U tokend --pwfile="$WORK/pgpass" --auth=scram-sha-256 -E UTF8 --no-sync >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/log" -w \
  -o "-p $PGPORT -k $PGDATA -c listen_addresses=127.0.0.1 -c max_connections=100 ${PG_OPTIONS:-}" start >/dev/null
trap 'kill $(jobs -p) 2>/dev/null || true; runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
DATABASE="postgres://tokend:bench-pg-password@127.0.0.1:$PGPORT/postgres?sslmode=disable"
psql_bench() { PGPASSWORD=bench-pg-password psql -q -h 127.0.0.1 -p "$PGPORT" -U tokend -d postgres "$@"; }
# PostgreSQL's processes now, for CPU accounting (a backend that exits mid-run takes its share with it).
postgres_pids() { pgrep -u postgres -x postgres | tr '\n' ' '; }
