#!/usr/bin/env bash
# The README's operator walkthrough, run for real: install, configure, serve, rotate a signing key
# without downtime, issue and revoke a caller, rotate and verify the audit log, trace a token to
# its record. Every command here is one the README shows.
#   Tests/Operator/walkthrough.sh TOKEND_BINARY
set -euo pipefail
BIN="$(realpath "$1")"
ROOT="$(mktemp -d)"
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$ROOT"' EXIT
cd "$ROOT"
passes=0
ok() { echo "ok   $*"; passes=$((passes + 1)); }
fail() { echo "FAIL $*"; echo "operator walkthrough: $passes passed, 1 failed"; exit 1; }
# What an operator does in an editor: set `active` on one signing key.
set_active() {  # set_active KID true|false
  python3 - "$1" "$2" etc/tokend/secrets.toml <<'PY'
import re, sys
kid, value, path = sys.argv[1:]
text = open(path).read()
text = re.sub(r'(kid = "%s"\nsecret = "[^"]*"\nactive = )(?:true|false)' % re.escape(kid), r'\g<1>' + value, text)
open(path, "w").write(text)
PY
}

# Install.
install -D -m 0755 "$BIN" "$ROOT/usr/local/bin/tokend"
export PATH="$ROOT/usr/local/bin:$PATH"
mkdir -p etc/tokend var/lib/tokend

# Configure: keygen prints the secrets and the TOML to paste.
tokend keygen signing-key > etc/tokend/secrets.toml
tokend keygen api-key > api-key.txt
API_KEY=$(sed -n 's/^#   API key: //p' api-key.txt)
grep -v '^#' api-key.txt | sed 's/^id = "my-backend"/id = "web-backend"/' >> etc/tokend/secrets.toml
chmod 600 etc/tokend/secrets.toml
OLD_KID=$(sed -n 's/^kid = "\(.*\)"/\1/p' etc/tokend/secrets.toml | head -1)
ok "secrets file from tokend keygen (kid $OLD_KID)"

# Serve.
tokend serve --secrets etc/tokend/secrets.toml --port 0 --audit-log var/lib/tokend/audit.jsonl >serve.out 2>serve.err &
SERVER=$!
for _ in $(seq 1 100); do grep -q "listening on" serve.out && break; sleep 0.1; done
URL=$(sed -n 's/.*listening on //p' serve.out)
tokend health --url "$URL" >/dev/null || fail "tokend health"
ok "tokend health"
OLD_TOKEN=$(tokend mint --url "$URL" --api-key "$API_KEY" --identity alice --grant data_sync:service_sid=IS123)
tokend verify --secrets etc/tokend/secrets.toml "$OLD_TOKEN" >/dev/null 2>&1 || fail "verify"
ok "mint --url and verify"

# Rotate the signing key without downtime.
tokend keygen signing-key | sed 's/^kid = ".*"/kid = "next"/; s/^active = true/active = false/' >> etc/tokend/secrets.toml
kill -HUP $SERVER; sleep 0.5                          # 1. the new key is known (verifies), not yet signing
set_active next true; set_active "$OLD_KID" false
kill -HUP $SERVER; sleep 0.5                          # 2. the new key signs; the old one still verifies
NEW_TOKEN=$(tokend mint --url "$URL" --api-key "$API_KEY" --identity alice)
[ "$(tokend decode "$NEW_TOKEN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["kid"])')" = next ] || fail "new key signs"
tokend verify --secrets etc/tokend/secrets.toml "$OLD_TOKEN" >/dev/null 2>&1 || fail "old tokens still verify"
ok "rotation: the new key signs, tokens of the old one still verify"
# 3. after the longest TTL (24 h) the old key goes: delete its entry and reload (not waited for here).

# Issue a caller, then revoke it.
tokend keygen api-key > mobile.txt
MOBILE_KEY=$(sed -n 's/^#   API key: //p' mobile.txt)
grep -v '^#' mobile.txt | sed 's/^id = "my-backend"/id = "mobile"/' >> etc/tokend/secrets.toml
kill -HUP $SERVER; sleep 0.5
tokend mint --url "$URL" --api-key "$MOBILE_KEY" --identity bob >/dev/null || fail "issued caller"
python3 - etc/tokend/secrets.toml <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
text = re.sub(r'\n\[\[callers\]\]\nid = "mobile"\n(?:[^\[\n][^\n]*\n|\n)*', '\n', text)
open(path, "w").write(text)
PY
kill -HUP $SERVER; sleep 0.5
if tokend mint --url "$URL" --api-key "$MOBILE_KEY" --identity bob 2>revoked.err; then fail "revoked caller still mints"; fi
grep -q "HTTP 401" revoked.err || fail "revoked caller: 401"
ok "issue a caller, then revoke it (401)"

# Rotate the audit log (as logrotate does), verify the chain across files, trace a token.
mv var/lib/tokend/audit.jsonl var/lib/tokend/audit.jsonl.1
kill -HUP $SERVER; sleep 0.5
LAST_TOKEN=$(tokend mint --url "$URL" --api-key "$API_KEY" --identity carol)
tokend audit verify var/lib/tokend/audit.jsonl.1 var/lib/tokend/audit.jsonl || fail "audit verify"
HASH=$(printf %s "$LAST_TOKEN" | sha256sum | cut -d' ' -f1)
grep -q "\"token_sha256\":\"$HASH\"" var/lib/tokend/audit.jsonl || fail "token traced to its record"
ok "audit log rotated, chain verified across files, token traced by its SHA-256"

kill -TERM $SERVER; wait $SERVER || fail "graceful stop"
ok "graceful stop on SIGTERM"
echo "operator walkthrough: $passes passed, 0 failed"
