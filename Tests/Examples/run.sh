#!/usr/bin/env bash
# Runs every client recipe in examples/ against a real `tokend serve`, by both methods:
#   - two identical requests in a row (the same identity, the same second): both must get a
#     token, which only a fresh nonce per signature allows;
#   - a caller limited to 1 request a second asking three times at once: the recipes must wait
#     out the 429s (Retry-After) and sign their retries anew, and still get every token.
# Every token printed is verified with `tokend verify`.
#   Tests/Examples/run.sh TOKEND_BINARY PYTHON   (PYTHON: one with requests, requests-http-signature,
#                                                 http-message-signatures installed)
set -euo pipefail
BIN="$(realpath "$1")"
PYTHON="$(realpath -s "$2")"
EXAMPLES="$(cd "$(dirname "$0")/../../examples" && pwd)"
WORK="$(mktemp -d)"
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir "$WORK/bin" && ln -s "$BIN" "$WORK/bin/tokend"
export PATH="$WORK/bin:$PATH"
passes=0 failures=0

# A secrets file as the README makes it, plus a rate-limited caller "slow" with both credentials.
tokend keygen > "$WORK/secrets.toml" 2>/dev/null
API_KEY=$(sed -n 's/^#   API key: //p' "$WORK/secrets.toml")
HMAC_SECRET=$(sed -n 's/^hmac_secret = "\(.*\)"/\1/p' "$WORK/secrets.toml")
SLOW_KEY="tkd_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
SLOW_SECRET="$(head -c 48 /dev/urandom | base64 | tr '+/' '-_')"
RESOURCE_KEY="tkd_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
RESOURCE_SECRET="$(head -c 48 /dev/urandom | base64 | tr '+/' '-_')"
cat >> "$WORK/secrets.toml" <<TOML
[[callers]]
id = "slow"
api_key_sha256 = "$(printf %s "$SLOW_KEY" | sha256sum | cut -d' ' -f1)"
hmac_secret = "$SLOW_SECRET"
grants = ["data_sync"]
rate_limit = 1

[[callers]]
id = "resource"
api_key_sha256 = "$(printf %s "$RESOURCE_KEY" | sha256sum | cut -d' ' -f1)"
hmac_secret = "$RESOURCE_SECRET"
permissions = ["introspect"]
TOML

# A Twilio API key, as `keygen twilio-key` writes it (the secret on standard input), and a caller
# whose tokens it signs: the backend behind the Twilio token-endpoint recipes.
TWILIO_SID="SK$(openssl rand -hex 16)"; TWILIO_ACCOUNT="AC$(openssl rand -hex 16)"; TWILIO_SECRET="$(openssl rand -hex 16)"
TWILIO_APP_KEY="tkd_$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')"
printf '%s\n' "$TWILIO_SECRET" | tokend keygen twilio-key --sid "$TWILIO_SID" --account "$TWILIO_ACCOUNT" >> "$WORK/secrets.toml" 2>/dev/null
cat >> "$WORK/secrets.toml" <<TOML
[[callers]]
id = "twilio-app"
api_key_sha256 = "$(printf %s "$TWILIO_APP_KEY" | sha256sum | cut -d' ' -f1)"
grants = ["data_sync", "voice", "task_router"]
signing_key = "$TWILIO_SID"
TOML

tokend serve --secrets "$WORK/secrets.toml" --port 0 --audit-log "$WORK/audit.jsonl" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/serve.out" && break; sleep 0.1; done
export TOKEND_URL=$(sed -n 's/.*listening on //p' "$WORK/serve.out")
tokend health --wait 10 >/dev/null 2>&1

(cd "$EXAMPLES/go" && go build -o "$WORK/mint-go" .)

# run NAME METHOD CALLER IDENTITY... : the recipe NAME, authenticated by METHOD as CALLER.
run() {
  local name=$1 method=$2 caller=$3; shift 3
  local command
  case $name in
    python-requests-http-signature) command=("$PYTHON" "$EXAMPLES/python/mint_requests_http_signature.py") ;;
    python-http-message-signatures) command=("$PYTHON" "$EXAMPLES/python/mint_http_message_signatures.py") ;;
    node) command=(node "$EXAMPLES/node/mint.mjs") ;;
    go) command=("$WORK/mint-go") ;;
    shell) command=(bash "$EXAMPLES/shell/mint.sh") ;;
  esac
  local env=(-u TOKEND_API_KEY -u TOKEND_KEY_ID -u TOKEND_HMAC_SECRET)
  if [ "$caller" = slow ]; then key=$SLOW_KEY secret=$SLOW_SECRET; else key=$API_KEY secret=$HMAC_SECRET; fi
  if [ "$method" = api-key ]; then env+=(TOKEND_API_KEY="$key"); else env+=(TOKEND_KEY_ID="$caller" TOKEND_HMAC_SECRET="$secret"); fi
  local label="$name ($method, $caller: $*)"
  if env "${env[@]}" "${command[@]}" "$@" >"$WORK/tokens" 2>"$WORK/errors"; then :; else
    echo "FAIL $label: exit status $?"; sed 's/^/     /' "$WORK/errors"; failures=$((failures + 1)); return
  fi
  local count=0 token
  while read -r token; do
    if ! tokend verify --secrets "$WORK/secrets.toml" "$token" >/dev/null 2>&1; then
      echo "FAIL $label: a printed token does not verify"; failures=$((failures + 1)); return
    fi
    count=$((count + 1))
  done <"$WORK/tokens"
  if [ "$count" -ne $# ]; then echo "FAIL $label: $count tokens for $# identities"; failures=$((failures + 1)); return; fi
  echo "ok   $label: $count tokens, each verified"; passes=$((passes + 1))
}

rate_limited() { grep -c '"reason":"rate_limited"' "$WORK/audit.jsonl" || true; }

for name in python-requests-http-signature python-http-message-signatures node go shell; do
  for method in api-key hmac; do
    run "$name" "$method" my-backend alice alice
    before=$(rate_limited)
    sleep 1.1   # a full bucket for "slow"
    run "$name" "$method" slow bob bob bob
    after=$(rate_limited)
    if [ "$after" -gt "$before" ]; then
      echo "ok   $name ($method): waited out $((after - before)) answer(s) of 429 and retried, signed anew"; passes=$((passes + 1))
    else
      echo "FAIL $name ($method): the rate limit was never reached, so its retry was not exercised"; failures=$((failures + 1))
    fi
  done
done

# An identity JSON needs escaping for: every recipe builds its body safely.
for name in python-requests-http-signature python-http-message-signatures node go shell; do
  run "$name" api-key my-backend 'o"brien \ jr'
done

# The resource-server recipes: a token is active (asked once for two lookups: the cache), then
# revoked by its minter, then inactive.
introspections() { curl -s "$TOKEND_URL/metrics" | sed -n 's/^tokend_http_requests_total{route="\/v1\/tokens\/introspect",status="200"} //p' | head -1; }
for name in python node; do
  case $name in
    python) command=("$PYTHON" "$EXAMPLES/python/introspect.py") ;;
    node) command=(node "$EXAMPLES/node/introspect.mjs") ;;
  esac
  for method in api-key hmac; do
    if [ "$method" = api-key ]; then env=(-u TOKEND_KEY_ID TOKEND_API_KEY="$RESOURCE_KEY"); else env=(-u TOKEND_API_KEY TOKEND_KEY_ID=resource TOKEND_HMAC_SECRET="$RESOURCE_SECRET"); fi
    token=$(TOKEND_API_KEY="$API_KEY" tokend mint --url "$TOKEND_URL" --identity carol)
    before=$(introspections); before=${before:-0}
    first=$(env "${env[@]}" "${command[@]}" "$token" "$token" 2>&1) || true
    after=$(introspections)
    TOKEND_API_KEY="$API_KEY" tokend revoke --url "$TOKEND_URL" --token "$token" >/dev/null
    second=$(env "${env[@]}" "${command[@]}" "$token" 2>&1) || true
    if [ "$first" = "$(printf 'active carol my-backend\nactive carol my-backend')" ] && [ "$((after - before))" -eq 1 ] && [ "$second" = inactive ]; then
      echo "ok   introspect $name ($method): active (one request for two lookups), then inactive after the revocation"; passes=$((passes + 1))
    else
      echo "FAIL introspect $name ($method): first=[$first] requests=$((after - before)) after-revoke=[$second]"; failures=$((failures + 1))
    fi
  done
done

# The Twilio token endpoints: started as a backend would run them, asked for a token as a Twilio
# client would, the answer checked against twilio-python's AccessToken for the same inputs; a
# wrong SID comes back as the endpoint's 502 naming the field; and the client-side snippet keeps
# and refreshes tokens as it says.
TWILIO_GRANTS='{"data_sync": {"service_sid": "IS'$(openssl rand -hex 16)'"}, "voice": {"incoming": {"allow": true}, "outgoing": {"application_sid": "AP'$(openssl rand -hex 16)'"}}, "task_router": {"workspace_sid": "WS'$(openssl rand -hex 16)'", "worker_sid": "WK'$(openssl rand -hex 16)'", "role": "worker"}}'
# endpoint NAME GRANTS: starts the recipe on a free port; sets ENDPOINT (its base URL) and ENDPOINT_PID.
endpoint() {
  local name=$1 grants=$2
  case $name in
    python) command=("$PYTHON" "$EXAMPLES/python/twilio_token_endpoint.py") ;;
    node) command=(node "$EXAMPLES/node/twilio-token-endpoint.mjs") ;;
  esac
  env -u TOKEND_KEY_ID -u TOKEND_HMAC_SECRET TOKEND_API_KEY="$TWILIO_APP_KEY" "${command[@]}" 0 "$grants" >"$WORK/endpoint.out" 2>"$WORK/endpoint.err" &
  ENDPOINT_PID=$!
  ENDPOINT=""
  for _ in $(seq 1 100); do ENDPOINT=$(sed -n 's/^listening on //p' "$WORK/endpoint.out"); [ -n "$ENDPOINT" ] && break; sleep 0.1; done
}
for name in python node; do
  endpoint "$name" "$TWILIO_GRANTS"
  answer=$(curl -s "$ENDPOINT/twilio-token?identity=alice_smith")
  if check=$("$PYTHON" "$(dirname "$0")/check_twilio_token.py" "$answer" "$TWILIO_SECRET" "$TWILIO_SID" "$TWILIO_ACCOUNT" alice_smith "$TWILIO_GRANTS" 3600 2>&1); then
    echo "ok   twilio endpoint $name: {token, expires_at}, $check"; passes=$((passes + 1))
  else
    echo "FAIL twilio endpoint $name: $check [$answer]"; sed 's/^/     /' "$WORK/endpoint.err"; failures=$((failures + 1))
  fi
  if check=$(node "$(dirname "$0")/twilio_token_source_check.mjs" "$ENDPOINT/twilio-token?identity=alice_smith" 2>&1); then
    echo "ok   twilio token source against the $name endpoint: $check"; passes=$((passes + 1))
  else
    echo "FAIL twilio token source against the $name endpoint: $check"; failures=$((failures + 1))
  fi
  kill "$ENDPOINT_PID"; wait "$ENDPOINT_PID" 2>/dev/null || true
  endpoint "$name" '{"data_sync": {"service_sid": "IS123"}}'
  refused=$(curl -s -w ' %{http_code}' "$ENDPOINT/twilio-token?identity=alice")
  if [[ "$refused" == *"data_sync.service_sid must be the SID of a Sync service"*" 502" ]]; then
    echo "ok   twilio endpoint $name: a wrong SID is refused, naming the field"; passes=$((passes + 1))
  else
    echo "FAIL twilio endpoint $name: a wrong SID gave [$refused]"; failures=$((failures + 1))
  fi
  kill "$ENDPOINT_PID"; wait "$ENDPOINT_PID" 2>/dev/null || true
done

echo "client recipes: $passes passed, $failures failed"
[ "$failures" -eq 0 ]
