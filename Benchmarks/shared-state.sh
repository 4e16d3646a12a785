#!/usr/bin/env bash
# Shared state on PostgreSQL beside the embedded default, in one run, with wrk:
#   file-*  one instance: replay ledger and rate limits in memory, audit log file (fdatasync)
#   pg1-*   one instance on a local PostgreSQL (audit, replay and rate limits in the database)
#   pg2-*   two instances on the same PostgreSQL, one wrk per instance (CONNS/2 each), summed
# each for the API-key path, the API-key path with a (never reached) rate limit, the same with a
# (never reached) quota and identity quota, and the RFC 9421 (hmac) path; then pg2 / file.
# Also printed: audit records per commit, commits per second, database round trips per request,
# and the CPU time per request of tokend (all instances) and of PostgreSQL (all its processes);
# and, on two replicas, how long a revocation and a block made on one take to hold on the other.
#
#   Benchmarks/shared-state.sh        (env: DURATION=8s CONNS=64 THREADS=1 PORT=8110 PGPORT=55433 PATHS="apikey limited quota hmac")
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-8s}"; CONNS="${CONNS:-64}"; THREADS="${THREADS:-1}"; PGPORT="${PGPORT:-55433}"
source Benchmarks/common.sh

source Benchmarks/throwaway-postgres.sh

start_instances() {  # start_instances MODE COUNT: sets SERVERS (pids) and PORTS
  SERVERS=(); PORTS=()
  rm -f "$WORK/audit.jsonl"
  psql_bench -c "DROP SCHEMA public CASCADE" -c "CREATE SCHEMA public" >/dev/null 2>&1
  for i in $(seq 1 "$2"); do
    local port=$((PORT + i - 1))
    local args=(--secrets "$WORK/secrets.toml" --port "$port")
    if [ "$1" = file ]; then rm -f "$WORK/state.jsonl"; args+=(--audit-log "$WORK/audit.jsonl" --state-file "$WORK/state.jsonl"); else args+=(--database "$DATABASE" --instance "bench-$i"); fi
    "$TOKEND" serve "${args[@]}" >"$WORK/server-$i.out" 2>"$WORK/server-$i.err" &
    SERVERS+=($!); PORTS+=("$port")
  done
  for port in "${PORTS[@]}"; do
    for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.1; done
  done
}

stop_instances() { kill -TERM "${SERVERS[@]}"; wait "${SERVERS[@]}" 2>/dev/null || true; }

metric() {  # metric PORT REGEX: sum of the matching samples
  curl -s "http://127.0.0.1:$1/metrics" | awk -v re="$2" '$0 ~ re {s += $NF} END {printf "%d", s}'
}

run() {  # run NAME MODE COUNT PATH(apikey|hmac|limited)
  local name="$1" mode="$2" count="$3" path="$4" conns=$(( CONNS / $3 )) i=0
  # limited: the API-key path for a caller with a rate_limit it never reaches, so every request
  # pays for the shared rate-limit decision (as a production caller would).
  # quota: counted for every request (in the state journal, or in PostgreSQL for all replicas).
  sed -i '/^rate_limit = /d; /^quota = /d; /^identity_quota = /d' "$WORK/secrets.toml"
  [ "$path" = limited ] && echo "rate_limit = 1000000" >>"$WORK/secrets.toml"
  [ "$path" = quota ] && printf 'quota = "1000000000/day"\nidentity_quota = "1000000000/day"\n' >>"$WORK/secrets.toml"
  start_instances "$mode" "$count"
  local outs=() pg_pids
  pg_pids=$(postgres_pids)
  # Enough signed requests for the run at the file mode's rate: each is accepted once, and the
  # rest of a list that ran out would be answered 401 as replays.
  local signed=$(( ${DURATION%s} * 60000 / count ))
  if [ "$path" = hmac ]; then
    for port in "${PORTS[@]}"; do
      python3 Benchmarks/sign_requests.py "http://127.0.0.1:$port/v1/tokens" web "$HMAC_SECRET" "$signed" >"$WORK/signed-$port.tsv"
    done
  fi
  local tokend_before pg_before
  tokend_before=$(cpu_seconds "${SERVERS[@]}"); pg_before=$(cpu_seconds $pg_pids)
  for port in "${PORTS[@]}"; do
    i=$((i + 1)); local out="$WORK/wrk-$name-$i.txt"; outs+=("$out")
    if [ "$path" = hmac ]; then
      wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency -s Benchmarks/post-signed.lua "http://127.0.0.1:$port/v1/tokens" -- "$WORK/signed-$port.tsv" >"$out" &
    else
      wrk -t"$THREADS" -c"$conns" -d"$DURATION" --latency -s Benchmarks/post-apikey.lua "http://127.0.0.1:$port/v1/tokens" >"$out" &
    fi
  done
  wait $(jobs -p | grep -v -x -F "$(printf '%s\n' "${SERVERS[@]}")") 2>/dev/null || true
  local tokend_cpu pg_cpu
  tokend_cpu=$(awk -v a="$tokend_before" -v b="$(cpu_seconds "${SERVERS[@]}")" 'BEGIN { print b - a }')
  pg_cpu=$(awk -v a="$pg_before" -v b="$(cpu_seconds $(postgres_pids))" 'BEGIN { print b - a }')
  local records=0 commits=0 trips=0
  for port in "${PORTS[@]}"; do
    records=$((records + $(metric "$port" '^tokend_audit_records_total\{result="ok"\}')))
    commits=$((commits + $(metric "$port" '^tokend_audit_commit_duration_seconds_count\{result="ok"\}')))
    trips=$((trips + $(metric "$port" '^tokend_database_operation_duration_seconds_count\{operation="(audit_commit|rate_limit|replay|quota)"')))
  done
  stop_instances
  local rps=0 p99=0 non2xx=0
  for out in "${outs[@]}"; do
    rps=$((rps + $(wrk_field "$out" rps))); non2xx=$((non2xx + $(wrk_field "$out" non2xx)))
    p99=$(awk -v a="$p99" -v b="$(wrk_field "$out" p99)" 'BEGIN { print (b > a ? b : a) }')
  done
  RPS[$name]=$rps
  local requests
  requests=$(awk -v r="$rps" -v d="${DURATION%s}" 'BEGIN { print r * d }')
  printf "%-12s rps=%-7s p99=%-8s non2xx=%-6s cpu_us_per_request: tokend=%-5s postgres=%-5s records_per_commit=%-5s commits_per_s=%-6s db_round_trips_per_request=%s\n" \
    "$name" "$rps" "${p99}ms" "$non2xx" \
    "$(awk -v c="$tokend_cpu" -v n="$requests" 'BEGIN { printf "%.1f", c * 1e6 / n }')" \
    "$(awk -v c="$pg_cpu" -v n="$requests" -v m="$mode" 'BEGIN { if (m == "file") print "-"; else printf "%.1f", c * 1e6 / n }')" \
    "$(awk -v r="$records" -v c="$commits" 'BEGIN { if (c > 0) printf "%.1f", r / c; else print "-" }')" \
    "$(awk -v c="$commits" -v d="${DURATION%s}" 'BEGIN { printf "%.0f", c / d }')" \
    "$(awk -v t="$trips" -v r="$records" 'BEGIN { if (r > 0) printf "%.2f", t / r; else print "-" }')"
}

declare -A RPS
echo "tokend $(git rev-parse --short HEAD 2>/dev/null), PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), wrk -t$THREADS -c$CONNS -d$DURATION, $(nproc) cores"
PATHS="${PATHS:-apikey limited quota hmac}"
for path in $PATHS; do
  run "file-$path" file 1 "$path"
  run "pg1-$path" postgres 1 "$path"
  run "pg2-$path" postgres 2 "$path"
done
for path in $PATHS; do
  awk -v f="${RPS[file-$path]}" -v one="${RPS[pg1-$path]}" -v two="${RPS[pg2-$path]}" -v p="$path" 'BEGIN {
    printf "%-6s pg1 / file = %.2f   pg2 / file = %.2f (goal >= 0.50)\n", p, one / f, two / f }'
done
if [ -n "${RPS[pg2-quota]:-}" ] && [ -n "${RPS[pg2-apikey]:-}" ]; then
  awk -v q="${RPS[pg2-quota]}" -v a="${RPS[pg2-apikey]}" -v fq="${RPS[file-quota]}" -v fa="${RPS[file-apikey]}" 'BEGIN {
    printf "quota  file-quota / file-apikey = %.2f   pg2-quota / pg2-apikey = %.2f\n", fq / fa, q / a }'
fi

# Propagation between two replicas (the poll runs every 250 ms; a change is read back at once by
# the replica that made it).
sed -i '/^rate_limit = /d; /^quota = /d; /^identity_quota = /d' "$WORK/secrets.toml"
echo 'permissions = ["mint", "revoke", "introspect", "block"]' >>"$WORK/secrets.toml"
start_instances postgres 2
python3 Benchmarks/propagation.py "http://127.0.0.1:${PORTS[0]}" "http://127.0.0.1:${PORTS[1]}" "$API_KEY" "${PROPAGATION_ROUNDS:-30}"
stop_instances
