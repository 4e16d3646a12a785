#!/usr/bin/env bash
# The bounded soak test: SOAK_SECONDS (default 300) of mixed valid, invalid, replayed
# and oversized traffic (Benchmarks/soak.lua) against a release `tokend serve`, then:
#   - RSS after a warm-up and at the end (no growth beyond the caches' bounds: fails above +64 MB),
#   - no 5xx in the server's own request metrics,
#   - the audit log verifies.
#
#   Benchmarks/soak.sh            (env: SOAK_SECONDS=300 CONNS=64 PORT=8110 TOKEND_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECONDS="${SOAK_SECONDS:-300}"; CONNS="${CONNS:-64}"
source Benchmarks/common.sh

start_server durable
python3 Benchmarks/sign_requests.py "http://127.0.0.1:$PORT/v1/tokens" web "$HMAC_SECRET" 1 >"$WORK/signed.tsv"
rss() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER/status"; }
wrk -t1 -c"$CONNS" -d10s -s Benchmarks/soak.lua "http://127.0.0.1:$PORT" -- "$WORK/signed.tsv" >/dev/null
start_rss=$(rss)
wrk -t1 -c"$CONNS" -d"${SOAK_SECONDS}s" -s Benchmarks/soak.lua "http://127.0.0.1:$PORT" -- "$WORK/signed.tsv" >"$WORK/wrk.txt"
end_rss=$(rss)
metrics=$(curl -s "http://127.0.0.1:$PORT/metrics")
stop_server

requests=$(awk '/requests in/ {print $1}' "$WORK/wrk.txt")
errors=$(awk '/Socket errors/ {print}' "$WORK/wrk.txt")
server_errors=$(awk '/^tokend_http_requests_total\{.*status="5[0-9][0-9]"/ {n += $2} END {print n + 0}' <<<"$metrics")
echo "soak: ${SOAK_SECONDS}s, $requests requests ($(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")/s), ${errors:-no socket errors}"
echo "by status: $(awk -F'[{}]' '/^tokend_http_requests_total\{/ {split($2, l, ","); s[l[2]] += $3} END {for (k in s) printf "%s=%d ", k, s[k]}' <<<"$metrics")"
echo "rss: ${start_rss} MB after warm-up, ${end_rss} MB at the end"
verify=$("$TOKEND" audit verify "$WORK/audit.jsonl")
echo "audit: $verify"
status=0
[ "$server_errors" -eq 0 ] || { echo "FAIL: $server_errors answers were 5xx"; status=1; }
awk -v a="$start_rss" -v b="$end_rss" 'BEGIN { exit !(b <= a + 64) }' || { echo "FAIL: RSS grew by more than 64 MB"; status=1; }
exit $status
