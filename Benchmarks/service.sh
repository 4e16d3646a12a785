#!/usr/bin/env bash
# Loads a release `tokend serve` with wrk and prints mints/s and latency for, in one run:
#   floor        GET /healthz: the whole HTTP pipeline (request id, access log, metrics), no token work
#   apikey       POST /v1/tokens, API key, durable audit log (fdatasync, group commit)
#   apikey-lua   the API-key path with the request handed out by a Lua request() function, as
#                the signed requests must be: the same client cost, the base of the HMAC ratio
#   hmac         POST /v1/tokens, RFC 9421 signature (each one fresh), durable audit log
#   apikey-nosync  the API-key path with --audit-sync none (write(2) only)
# then the ratios the README quotes. Same wrk flags as the peers' bench/run.sh.
#
#   Benchmarks/service.sh            (env: DURATION=8s CONNS=64 THREADS=1 PORT=8110 ROUNDS=1)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-8s}"; CONNS="${CONNS:-64}"; THREADS="${THREADS:-1}"; ROUNDS="${ROUNDS:-1}"
source Benchmarks/common.sh

run() {  # run NAME SYNC SCRIPT [SCRIPT-ARGS...]
  local name="$1" sync="$2" script="$3"; shift 3
  start_server "$sync"
  local out="$WORK/wrk-$name.txt"
  # The server's own CPU time (user + system, clock ticks) around the load: CPU per request is
  # steadier than requests/s on a machine where wrk competes for the same two cores.
  local cpu_before; cpu_before=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
  if [ $# -gt 0 ]; then
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$script" "http://127.0.0.1:$PORT${PATH_OF[$name]}" -- "$@" >"$out"
  else
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$script" "http://127.0.0.1:$PORT${PATH_OF[$name]}" >"$out"
  fi
  # Group commit at work: records written per fdatasync (or per write, without sync).
  local metrics records syncs
  local cpu_after; cpu_after=$(awk '{print $14 + $15}' "/proc/$SERVER/stat")
  metrics=$(curl -s "http://127.0.0.1:$PORT/metrics")
  records=$(awk '/^tokend_audit_records_total\{result="ok"\}/ {print $2}' <<<"$metrics")
  syncs=$(awk '/^tokend_audit_commit_duration_seconds_count\{result="ok"\}/ {print $2}' <<<"$metrics")
  stop_server
  local rps p50 p99 non2xx lines
  rps=$(wrk_field "$out" rps); p50=$(wrk_field "$out" p50); p99=$(wrk_field "$out" p99); non2xx=$(wrk_field "$out" non2xx)
  lines=$(wc -l <"$WORK/audit.jsonl" 2>/dev/null || echo 0)
  RPS[$name]=$rps
  local requests; requests=$(awk '/requests in/ {print $1}' "$out")
  CPU[$name]=$(awk -v c=$((cpu_after - cpu_before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", c * 1e6 / hz / n }')
  printf "%-14s rps=%-8s p50=%-7s p99=%-7s non2xx=%-6s cpu_us_per_request=%-6s audit_lines=%-7s records_per_commit=%s\n" "$name" "$rps" "${p50}ms" "${p99}ms" "$non2xx" "${CPU[$name]}" "$lines" \
    "$(awk -v r="${records:-0}" -v s="${syncs:-0}" 'BEGIN { if (s > 0) printf "%.1f", r / s; else print "-" }')"
}

declare -A PATH_OF=([floor]=/healthz [apikey]=/v1/tokens [apikey-lua]=/v1/tokens [hmac]=/v1/tokens [apikey-nosync]=/v1/tokens)
declare -A RPS CPU
echo "tokend $(git rev-parse --short HEAD 2>/dev/null), wrk -t$THREADS -c$CONNS -d$DURATION, $(nproc) cores"
for round in $(seq 1 "$ROUNDS"); do
  run floor durable Benchmarks/get.lua
  run apikey durable Benchmarks/post-apikey.lua
  # Enough fresh signatures for the whole run at well above the API-key rate.
  python3 Benchmarks/sign_requests.py "http://127.0.0.1:$PORT/v1/tokens" web "$HMAC_SECRET" $(( ${RPS[apikey]} * ${DURATION%s} * 2 + 10000 )) >"$WORK/signed.tsv"
  run apikey-lua durable Benchmarks/post-apikey-scripted.lua
  run hmac durable Benchmarks/post-signed.lua "$WORK/signed.tsv"
  run apikey-nosync none Benchmarks/post-apikey.lua
  awk -v f="${RPS[floor]}" -v a="${RPS[apikey]}" -v l="${RPS[apikey-lua]}" -v h="${RPS[hmac]}" -v n="${RPS[apikey-nosync]}" \
      -v cl="${CPU[apikey-lua]}" -v ch="${CPU[hmac]}" 'BEGIN {
    printf "apikey / floor = %.2f   durable / nosync = %.2f (durable audit costs %.0f%%)\n", a / f, a / n, (1 - a / n) * 100
    printf "hmac / apikey-lua = %.2f (server CPU per request: %.2f)   hmac / apikey (static wrk request) = %.2f\n", h / l, cl / ch, h / a }'
done
