#!/usr/bin/env bash
# Fuzzes a live `tokend serve` from its own OpenAPI document (GET /openapi.yaml) with
# schemathesis, authenticated with an API key: no 5xx, and every response — status, headers,
# content type, body — must match the document.
#   Tests/Interop/schemathesis.sh VENV_BIN TOKEND_BINARY
set -euo pipefail
VENV_BIN="$1"; TOKEND="$2"
WORK="$(mktemp -d)"
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
API_KEY="tkd_schemathesis-key-0123456789"
cat > "$WORK/secrets.toml" <<TOML
[[signing_keys]]
kid = "fuzz"
secret = "schemathesis-signing-secret-0123456789abcdef"
active = true

[[callers]]
id = "fuzzer"
api_key_sha256 = "$(printf %s "$API_KEY" | sha256sum | cut -d' ' -f1)"
grants = ["data_sync", "chat", "video", "voice"]
permissions = ["mint", "revoke", "revoke_any", "introspect", "block"]
TOML
chmod 600 "$WORK/secrets.toml"
"$TOKEND" serve --secrets "$WORK/secrets.toml" --port 0 --audit-log "$WORK/audit.jsonl" >"$WORK/out" 2>"$WORK/err" &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/out" 2>/dev/null && break; sleep 0.1; done
BASE="$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$WORK/out" | head -1)"
[ -n "$BASE" ] || { echo "tokend did not start"; cat "$WORK/err"; exit 1; }

"$VENV_BIN/python" "$(dirname "$0")/openapi_check.py" "$BASE/openapi.yaml"

"$VENV_BIN/schemathesis" run "$BASE/openapi.yaml" \
  --url "$BASE" \
  --header "Authorization: Bearer $API_KEY" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --max-examples 200 \
  --phases examples,coverage,fuzzing \
  --no-color
echo "schemathesis: no 5xx, every response matches the document"
# The fuzzing went through the audit log, and the chain holds.
"$TOKEND" audit verify "$WORK/audit.jsonl"
