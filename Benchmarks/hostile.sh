#!/usr/bin/env bash
# What hostile connections cost the server: N (default 1000) connections of each kind, held for
# SECONDS (default 8), against a release tokend with its default limits (per-address limit
# raised, since the connections come from one machine). Prints the server's RSS before, at its
# peak and after, the peak cost per connection, and how many the server closed by itself.
#
#   Benchmarks/hostile.sh [N] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
source Benchmarks/common.sh
N="${1:-1000}"; HOLD="${2:-8}"
ulimit -n "$(ulimit -Hn)"  # as many descriptors as this shell may have
"$TOKEND" serve --secrets "$WORK/secrets.toml" --port "$PORT" --audit-log "$WORK/audit.jsonl" --log-level warning \
  --max-connections-per-ip 100000 >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
printf '%-14s %6s %9s %9s %12s %9s %7s %10s\n' kind conns "rss MiB" "peak MiB" "KiB/conn" "after" closed "sent MiB"
for kind in idle slow-head body-at-limit trickle upgrade connect pipeline; do
  python3 Benchmarks/hostile.py "$PORT" "$SERVER" "$kind" "$N" "$HOLD"
done
curl -s "http://127.0.0.1:$PORT/healthz" >/dev/null && echo "healthz: ok after all kinds"
stop_server
