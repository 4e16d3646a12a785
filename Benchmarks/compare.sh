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
PORT="${PORT:-8110}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --product tokend >/dev/null
TOKEND="$(swift build -c release --show-bin-path)/tokend"
WORK="$(mktemp -d /tmp/tokend-compare.XXXXXX)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

cat > "$WORK/secrets.toml" <<TOML
[[signing_keys]]
kid = "bench"
secret = "$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=' | head -c 64)"
active = true

[[callers]]
id = "web"
api_key_sha256 = "$(printf %s test-key-0001 | sha256sum | cut -d' ' -f1)"
grants = ["data_sync", "chat"]
TOML
chmod 600 "$WORK/secrets.toml"

to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); printf "%.2f", v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); printf "%.2f", v } else if (v ~ /s$/) { sub(/s$/,"",v); printf "%.2f", v*1000 } }'; }

declare -A RPS P50 P99
results=()

# tokend, durable audit log.
"$TOKEND" serve --secrets "$WORK/secrets.toml" --port "$PORT" --audit-log "$WORK/audit.jsonl" >"$WORK/out" 2>"$WORK/err" &
SERVER=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$PEERS/bench/post.lua" "http://127.0.0.1:$PORT/v1/tokens" >"$WORK/wrk-tokend.txt"
rss=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER/status")
kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true
non2xx=$(awk '/Non-2xx/ {print $NF}' "$WORK/wrk-tokend.txt")
RPS[tokend]=$(awk '/^Requests\/sec/ {printf "%d", $2}' "$WORK/wrk-tokend.txt")
P50[tokend]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$WORK/wrk-tokend.txt")")
P99[tokend]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$WORK/wrk-tokend.txt")")
echo "peer=tokend fsync=1 rps=${RPS[tokend]} p50=${P50[tokend]}ms p99=${P99[tokend]}ms rss_mb=$rss non2xx=${non2xx:-0} audit_lines=$(wc -l <"$WORK/audit.jsonl")"
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

echo
printf "| server | audit fsync | mints/s | p50 ms | p99 ms | tokend / server (mints/s) |\n|---|---|---:|---:|---:|---:|\n"
for key in "${results[@]}"; do
  name="${key%%/*}"; sync="yes"; [[ "$key" == */fsync=0 ]] && sync="no"
  [ "$key" = tokend ] && sync="yes (group commit)"
  awk -v n="$name" -v s="$sync" -v r="${RPS[$key]}" -v a="${P50[$key]}" -v b="${P99[$key]}" -v t="${RPS[tokend]}" \
    'BEGIN { printf "| %s | %s | %d | %.2f | %.2f | %.2fx |\n", n, s, r, a, b, t / r }'
done
