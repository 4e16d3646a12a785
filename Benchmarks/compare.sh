#!/usr/bin/env bash
# tokend against the servers a user would otherwise deploy (the peers: Node http+crypto single
# process and cluster, Go net/http, Flask + twilio-python under gunicorn), in one run, with the
# same wrk flags, connections, duration and request (API key; the peers' bench/post.lua), and
# the audit log durable on both sides (tokend: fdatasync with group commit; peers: PEER_FSYNC=1).
# The peers also run without fsync, for reference. Prints one line per server and a table of
# ratios against tokend.
#
#   Benchmarks/compare.sh PATH/TO/peers      (env: DURATION=8s CONNS=64 THREADS=1 PEERS_LIST="node node-cluster python go")
set -euo pipefail
PEERS="$(cd "${1:?usage: compare.sh PATH/TO/peers}" && pwd)"
cd "$(dirname "$0")/.."
export DURATION="${DURATION:-8s}" CONNS="${CONNS:-64}" THREADS="${THREADS:-1}"
PEERS_LIST="${PEERS_LIST:-node node-cluster python go}"
source Benchmarks/common.sh

declare -A RPS P50 P99
results=()

# tokend, durable audit log: run before the peers and again after them, and averaged, so that
# the machine's drift over the minutes the peers take does not favour or hurt either side.
run_tokend() {  # run_tokend PASS
  start_server durable
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$PEERS/bench/post.lua" "http://127.0.0.1:$PORT/v1/tokens" >"$WORK/wrk-tokend-$1.txt"
  local rss; rss=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER/status")
  stop_server
  echo "peer=tokend pass=$1 fsync=1 rps=$(wrk_field "$WORK/wrk-tokend-$1.txt" rps) p50=$(wrk_field "$WORK/wrk-tokend-$1.txt" p50) p99=$(wrk_field "$WORK/wrk-tokend-$1.txt" p99) rss_mb=$rss non2xx=$(wrk_field "$WORK/wrk-tokend-$1.txt" non2xx) audit_lines=$(wc -l <"$WORK/audit.jsonl")"
}
run_tokend 1
results+=(tokend)

# The peers, through their own bench/run.sh (same wrk flags from DURATION/CONNS/THREADS).
for peer in $PEERS_LIST; do
  for fsync in 1 0; do
    line=$("$PEERS/bench/run.sh" "$peer" "$fsync" | grep '^peer=' | tail -1)
    echo "$line"
    key="$peer/fsync=$fsync"
    RPS[$key]=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
    P50[$key]=$(sed -n 's/.* p50=\([0-9.]*\).*/\1/p' <<<"$line")
    P99[$key]=$(sed -n 's/.* p99=\([0-9.]*\).*/\1/p' <<<"$line")
    results+=("$key")
  done
done

run_tokend 2
mean() { awk -v a="$(wrk_field "$WORK/wrk-tokend-1.txt" "$1")" -v b="$(wrk_field "$WORK/wrk-tokend-2.txt" "$1")" 'BEGIN { printf "%.2f", (a + b) / 2 }'; }
RPS[tokend]=$(mean rps); P50[tokend]=$(mean p50); P99[tokend]=$(mean p99)

echo
printf "| server | audit fsync | mints/s | p50 ms | p99 ms | tokend / server (mints/s) |\n|---|---|---:|---:|---:|---:|\n"
for key in "${results[@]}"; do
  name="${key%%/*}"; sync="yes"; [[ "$key" == */fsync=0 ]] && sync="no"
  [ "$key" = tokend ] && sync="yes (group commit; mean of a run before and after the peers)"
  awk -v n="$name" -v s="$sync" -v r="${RPS[$key]}" -v a="${P50[$key]}" -v b="${P99[$key]}" -v t="${RPS[tokend]}" \
    'BEGIN { printf "| %s | %s | %d | %.2f | %.2f | %.2fx |\n", n, s, r, a, b, t / r }'
done
