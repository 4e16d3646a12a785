#!/usr/bin/env bash
# Loads a release `tokend serve` with wrk and prints mints/s and latency for, in one run:
#   floor        GET /healthz: Hummingbird and tokend's middleware, no token work
#   apikey       POST /v1/tokens, API key, durable audit log (fdatasync, group commit)
#   hmac         POST /v1/tokens, RFC 9421 signature (each one fresh), durable audit log
#   apikey-nosync  the API-key path with --audit-sync none (write(2) only)
# then the ratios the README quotes. Same wrk flags as the peers' bench/run.sh.
#
#   Benchmarks/service.sh            (env: DURATION=8s CONNS=64 THREADS=1 PORT=8110 ROUNDS=1)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-8s}"; CONNS="${CONNS:-64}"; THREADS="${THREADS:-1}"; PORT="${PORT:-8110}"; ROUNDS="${ROUNDS:-1}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --product tokend >/dev/null
TOKEND="$(swift build -c release --show-bin-path)/tokend"
WORK="$(mktemp -d /tmp/tokend-bench.XXXXXX)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

API_KEY="test-key-0001"   # the peers' test key, so one wrk script fits all
HMAC_SECRET="bench-hmac-secret-0123456789abcdef-0123456789"
cat > "$WORK/secrets.toml" <<TOML
[[signing_keys]]
kid = "bench"
secret = "$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=' | head -c 64)"
active = true

[[callers]]
id = "web"
api_key_sha256 = "$(printf %s "$API_KEY" | sha256sum | cut -d' ' -f1)"
hmac_secret = "$HMAC_SECRET"
grants = ["data_sync", "chat"]
TOML
chmod 600 "$WORK/secrets.toml"

start_server() {  # start_server AUDIT_SYNC
  rm -f "$WORK/audit.jsonl"
  "$TOKEND" serve --secrets "$WORK/secrets.toml" --port "$PORT" --audit-log "$WORK/audit.jsonl" --audit-sync "$1" \
    >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER=$!
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && return 0
    sleep 0.1
  done
  echo "tokend did not start" >&2; cat "$WORK/server.err" >&2; exit 1
}
stop_server() { kill -TERM "$SERVER"; wait "$SERVER" 2>/dev/null || true; }

to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); printf "%.2f", v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); printf "%.2f", v } else if (v ~ /s$/) { sub(/s$/,"",v); printf "%.2f", v*1000 } }'; }

run() {  # run NAME SYNC SCRIPT [SCRIPT-ARGS...]
  local name="$1" sync="$2" script="$3"; shift 3
  start_server "$sync"
  local out="$WORK/wrk-$name.txt"
  if [ $# -gt 0 ]; then
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$script" "http://127.0.0.1:$PORT${PATH_OF[$name]}" -- "$@" >"$out"
  else
    wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$script" "http://127.0.0.1:$PORT${PATH_OF[$name]}" >"$out"
  fi
  stop_server
  local rps p50 p99 non2xx lines
  rps=$(awk '/^Requests\/sec/ {printf "%d", $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$out"); non2xx=${non2xx:-0}
  lines=$(wc -l <"$WORK/audit.jsonl" 2>/dev/null || echo 0)
  RPS[$name]=$rps
  printf "%-14s rps=%-8s p50=%-7s p99=%-7s non2xx=%-6s audit_lines=%s\n" "$name" "$rps" "${p50}ms" "${p99}ms" "$non2xx" "$lines"
}

declare -A PATH_OF=([floor]=/healthz [apikey]=/v1/tokens [hmac]=/v1/tokens [apikey-nosync]=/v1/tokens)
declare -A RPS
echo "tokend $(git rev-parse --short HEAD 2>/dev/null), wrk -t$THREADS -c$CONNS -d$DURATION, $(nproc) cores"
for round in $(seq 1 "$ROUNDS"); do
  run floor durable Benchmarks/get.lua
  run apikey durable Benchmarks/post-apikey.lua
  # Enough fresh signatures for the whole run at well above the API-key rate.
  python3 Benchmarks/sign_requests.py "http://127.0.0.1:$PORT/v1/tokens" web "$HMAC_SECRET" $(( ${RPS[apikey]} * ${DURATION%s} * 2 + 10000 )) >"$WORK/signed.tsv"
  run hmac durable Benchmarks/post-signed.lua "$WORK/signed.tsv"
  run apikey-nosync none Benchmarks/post-apikey.lua
  awk -v f="${RPS[floor]}" -v a="${RPS[apikey]}" -v h="${RPS[hmac]}" -v n="${RPS[apikey-nosync]}" 'BEGIN {
    printf "apikey / floor = %.2f   hmac / floor = %.2f   durable / nosync = %.2f (durable audit costs %.0f%%)\n",
      a / f, h / f, a / n, (1 - a / n) * 100 }'
done
