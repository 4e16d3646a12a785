# Shared by service.sh and compare.sh (sourced): a release tokend, a work directory, a secrets
# file whose caller "web" has the peers' test API key, helpers to start, stop and read wrk, and a
# process's CPU time.
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
source Benchmarks/tokend-binary.sh
WORK="$(mktemp -d /tmp/tokend-bench.XXXXXX)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT="${PORT:-8110}"

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

start_server() {  # start_server AUDIT_SYNC: sets SERVER
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

# wrk latency (812.00us, 2.31ms, 1.02s) in milliseconds
to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); printf "%.2f", v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); printf "%.2f", v } else if (v ~ /s$/) { sub(/s$/,"",v); printf "%.2f", v*1000 } }'; }

# wrk_field FILE (rps|p50|p99|non2xx)
wrk_field() {
  case "$2" in
    rps) awk '/^Requests\/sec/ {printf "%d", $2}' "$1" ;;
    p50) to_ms "$(awk '$1 == "50%" {print $2}' "$1")" ;;
    p99) to_ms "$(awk '$1 == "99%" {print $2}' "$1")" ;;
    non2xx) awk '/Non-2xx/ {n = $NF} END {print n + 0}' "$1" ;;
  esac
}

cpu_seconds() {  # cpu_seconds PID...: user + system CPU time of the processes, in seconds
  local ticks=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    # utime and stime: fields 14 and 15, counted after the command name's closing parenthesis.
    ticks=$((ticks + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}
