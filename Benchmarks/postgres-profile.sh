#!/usr/bin/env bash
# Where a mint's PostgreSQL time goes: one instance on a throwaway PostgreSQL with
# pg_stat_statements, loaded by wrk on one path for DURATION, then each statement's calls, its
# execution time per request and its share of the database's execution time, beside the CPU
# time per request of tokend and of PostgreSQL's processes.
#   apikey   the API-key path (an audit record per mint)
#   limited  the same for a caller with a rate_limit it never reaches (a rate decision too)
#   hmac     the RFC 9421 path (a replay claim too)
#
#   Benchmarks/postgres-profile.sh [PATH...]   (env: DURATION=8s CONNS=64 PORT=8110 PGPORT=55435 TOKEND_BIN=)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-8s}"; CONNS="${CONNS:-64}"; PGPORT="${PGPORT:-55435}"
source Benchmarks/common.sh
PG_OPTIONS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all -c track_io_timing=on"
source Benchmarks/throwaway-postgres.sh

echo "tokend $(git rev-parse --short HEAD 2>/dev/null), PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), wrk -t1 -c$CONNS -d$DURATION, $(nproc) cores"
for path in "${@:-apikey limited hmac}"; do
  for p in $path; do
    sed -i '/^rate_limit = /d' "$WORK/secrets.toml"
    [ "$p" = limited ] && echo "rate_limit = 1000000" >>"$WORK/secrets.toml"
    psql_bench -c "DROP SCHEMA public CASCADE" -c "CREATE SCHEMA public" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1
    "$TOKEND" serve --secrets "$WORK/secrets.toml" --port "$PORT" --database "$DATABASE" --instance profile \
      >"$WORK/server.out" 2>"$WORK/server.err" &
    SERVER=$!
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.1; done
    args=(-s Benchmarks/post-apikey.lua "http://127.0.0.1:$PORT/v1/tokens")
    if [ "$p" = hmac ]; then
      python3 Benchmarks/sign_requests.py "http://127.0.0.1:$PORT/v1/tokens" web "$HMAC_SECRET" $(( ${DURATION%s} * 20000 )) >"$WORK/signed.tsv"
      args=(-s Benchmarks/post-signed.lua "http://127.0.0.1:$PORT/v1/tokens" -- "$WORK/signed.tsv")
    fi
    psql_bench -c "SELECT pg_stat_statements_reset()" >/dev/null
    pg_pids=$(postgres_pids)
    tokend_before=$(cpu_seconds "$SERVER"); pg_before=$(cpu_seconds $pg_pids)
    wrk -t1 -c"$CONNS" -d"$DURATION" --latency "${args[@]}" >"$WORK/wrk.txt"
    tokend_cpu=$(awk -v a="$tokend_before" -v b="$(cpu_seconds "$SERVER")" 'BEGIN { print b - a }')
    pg_cpu=$(awk -v a="$pg_before" -v b="$(cpu_seconds $(postgres_pids))" 'BEGIN { print b - a }')
    rps=$(wrk_field "$WORK/wrk.txt" rps); requests=$(awk -v r="$rps" -v d="${DURATION%s}" 'BEGIN { print r * d }')
    kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true
    printf '\n%s: rps=%s p99=%sms non2xx=%s  cpu_us_per_request: tokend=%.1f postgres=%.1f\n' "$p" "$rps" \
      "$(wrk_field "$WORK/wrk.txt" p99)" "$(wrk_field "$WORK/wrk.txt" non2xx)" \
      "$(awk -v c="$tokend_cpu" -v n="$requests" 'BEGIN { print c * 1e6 / n }')" "$(awk -v c="$pg_cpu" -v n="$requests" 'BEGIN { print c * 1e6 / n }')"
    psql_bench -A -F $'\t' -t -c "
      SELECT calls, round(total_exec_time::numeric, 1), round((total_exec_time * 1000 / $requests)::numeric, 1),
             round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1),
             regexp_replace(left(regexp_replace(query, '\s+', ' ', 'g'), 90), '\t', ' ')
      FROM pg_stat_statements WHERE calls > 0 ORDER BY total_exec_time DESC LIMIT 8" |
      awk -F '\t' 'BEGIN { printf "  %8s %10s %8s %6s  %s\n", "calls", "exec_ms", "us/req", "share", "statement" }
                   { printf "  %8s %10s %8s %5s%%  %s\n", $1, $2, $3, $4, $5 }'
  done
done
