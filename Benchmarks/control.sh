#!/usr/bin/env bash
# What revocation, introspection, blocks and quotas cost, in one run of a release `tokend serve`:
#   floor          GET /healthz: the HTTP pipeline alone
#   introspect     POST /v1/tokens/introspect of a valid token (no audit, no disk: memory only)
#   post-healthz   the same request sent to /healthz (answered 405): the HTTP side of it alone
#   mint           POST /v1/tokens, API key, durable audit log, a caller without quotas
#   mint-quota     the same by a caller with quota and identity_quota (each count synced in the
#                  state journal before the answer), with BLOCKS identities blocked
#   introspect-1M  introspection with REVOKED (default 1,000,000) revoked tokens in memory
# and the server's resident memory with and without the revocations (and with IDENTITIES
# per-identity quota counters, default 200,000), and its start-up time (loading and compacting
# the journal).
#
# The floor and introspection, and then the two mints, are loaded in turn, ROUNDS times (default
# 3), and each ratio is the median of the rounds' ratios: this machine's noise moves a single run
# by a third.
#
#   Benchmarks/control.sh     (env: DURATION=8s CONNS=64 THREADS=1 PORT=8110 BLOCKS=10000 REVOKED=1000000 ROUNDS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-8s}"; CONNS="${CONNS:-64}"; THREADS="${THREADS:-1}"
BLOCKS="${BLOCKS:-10000}"; REVOKED="${REVOKED:-1000000}"; ROUNDS="${ROUNDS:-3}"; IDENTITIES="${IDENTITIES:-200000}"
source Benchmarks/common.sh
cat >> "$WORK/secrets.toml" <<TOML
permissions = ["mint", "revoke", "introspect", "block"]

[[callers]]
id = "quota"
api_key_sha256 = "$(printf %s "test-key-0002" | sha256sum | cut -d' ' -f1)"
grants = ["data_sync", "chat"]
quota = "1000000000/day"
identity_quota = "1000000000/day"
TOML

# start STATE-LINES: a server whose state journal holds those lines; prints its start-up seconds.
start() {
  rm -f "$WORK/audit.jsonl"
  cp "$1" "$WORK/state.jsonl"
  local started; started=$(date +%s.%N)
  "$TOKEND" serve --secrets "$WORK/secrets.toml" --port "$PORT" --audit-log "$WORK/audit.jsonl" --state-file "$WORK/state.jsonl" \
    >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER=$!
  for _ in $(seq 1 600); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
    sleep 0.05
  done
  STARTUP=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
}
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER/status"; }

load() {  # load NAME PATH SCRIPT [ARGS...]
  local name="$1" path="$2" script="$3"; shift 3
  local out="$WORK/wrk-$name.txt"
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$script" "http://127.0.0.1:$PORT$path" ${1:+--} "$@" >"$out"
  RPS[$name]=$(wrk_field "$out" rps)
  printf "%-14s rps=%-8s p50=%-7s p99=%-7s non2xx=%s\n" "$name" "${RPS[$name]}" "$(wrk_field "$out" p50)ms" "$(wrk_field "$out" p99)ms" "$(wrk_field "$out" non2xx)"
}

declare -A RPS
now=$(date +%s)
: >"$WORK/empty.jsonl"
python3 - "$WORK" "$BLOCKS" "$REVOKED" "$now" "$IDENTITIES" <<'PY'
import sys
work, blocks, revoked, now, identities = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
with open(f"{work}/identities.jsonl", "w") as f:
    for i in range(identities):
        f.write(f'{{"e":"quota","caller":"quota","identity":"user-{i:08d}@example.com","window_start":{now - now % 86400},"window_seconds":86400,"count":3}}\n')
with open(f"{work}/blocks.jsonl", "w") as f:
    for i in range(blocks):
        f.write(f'{{"e":"block","identity":"blocked-{i}","at":{now}}}\n')
with open(f"{work}/revoked.jsonl", "w") as f:
    for i in range(revoked):
        f.write(f'{{"e":"revoke_token","jti":"revoked-{i:016x}AAAAAA","expires":{now + 80000}}}\n')
PY

echo "tokend $(git rev-parse --short HEAD 2>/dev/null), wrk -t$THREADS -c$CONNS -d$DURATION, $(nproc) cores"
start "$WORK/blocks.jsonl"
TOKEN=$(curl -s -X POST "http://127.0.0.1:$PORT/v1/tokens" -H "Authorization: Bearer test-key-0001" -H "Content-Type: application/json" -d '{"identity":"alice"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
curl -s -X POST "http://127.0.0.1:$PORT/v1/tokens/introspect" -H "Authorization: Bearer test-key-0001" -H "Content-Type: application/json" -d "{\"token\":\"$TOKEN\"}" | grep -q '"active":true' \
  || { echo "introspection does not answer active" >&2; exit 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
FLOOR_RATIOS=()
for round in $(seq 1 "$ROUNDS"); do
  load floor /healthz Benchmarks/get.lua
  load introspect /v1/tokens/introspect Benchmarks/introspect.lua "$TOKEN"
  FLOOR_RATIOS+=("$(ratio "${RPS[introspect]}" "${RPS[floor]}")")
done
INTROSPECT_RATIO=$(median "${FLOOR_RATIOS[@]}")
# The same request to /healthz (a 405 with a JSON error): the HTTP cost of that body and header.
load post-healthz /healthz Benchmarks/introspect.lua "$TOKEN"
RATIOS=()
for round in $(seq 1 "$ROUNDS"); do
  load mint /v1/tokens Benchmarks/post-apikey.lua
  load mint-quota /v1/tokens Benchmarks/post-quota.lua
  RATIOS+=("$(ratio "${RPS[mint-quota]}" "${RPS[mint]}")")
done
QUOTA_RATIO=$(median "${RATIOS[@]}")
stop_server

start "$WORK/empty.jsonl"
EMPTY_RSS=$(rss_mib); EMPTY_STARTUP=$STARTUP
stop_server
start "$WORK/revoked.jsonl"
FULL_RSS=$(rss_mib); FULL_STARTUP=$STARTUP
TOKEN=$(curl -s -X POST "http://127.0.0.1:$PORT/v1/tokens" -H "Authorization: Bearer test-key-0001" -H "Content-Type: application/json" -d '{"identity":"alice"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
load introspect-1M /v1/tokens/introspect Benchmarks/introspect.lua "$TOKEN"
stop_server
start "$WORK/identities.jsonl"
IDENTITY_RSS=$(rss_mib)
stop_server

awk -v f="${RPS[floor]}" -v i="${RPS[introspect]}" -v m="${RPS[mint]}" -v q="$QUOTA_RATIO" -v rounds="${RATIOS[*]}" -v i1="${RPS[introspect-1M]}" -v ph="${RPS[post-healthz]}" \
    -v ir_="$INTROSPECT_RATIO" -v irounds="${FLOOR_RATIOS[*]}" \
    -v er="$EMPTY_RSS" -v fr="$FULL_RSS" -v ir="$IDENTITY_RSS" -v ni="$IDENTITIES" -v es="$EMPTY_STARTUP" -v fs="$FULL_STARTUP" -v n="$REVOKED" -v b="$BLOCKS" 'BEGIN {
  printf "introspect / floor = %.2f (median of rounds: %s)   introspect / mint = %.2f   post-healthz / floor = %.2f\n", ir_, irounds, i / m, ph / f
  printf "mint-quota (with %d blocks) / mint = %.2f (median of rounds: %s)\n", b, q, rounds
  printf "%d revocations: RSS %.1f MiB -> %.1f MiB (%.0f bytes each), start-up %.2f s -> %.2f s, introspect-1M / introspect = %.2f\n",
         n, er, fr, (fr - er) * 1048576 / n, es, fs, i1 / i
  printf "%d per-identity quota counters: RSS %.1f MiB -> %.1f MiB (%.0f bytes each)\n", ni, er, ir, (ir - er) * 1048576 / ni }'
