#!/usr/bin/env bash
# Mint a tokend token from a shell script with `tokend sign` and curl.
#
#   TOKEND_URL=http://127.0.0.1:8080 TOKEND_API_KEY=tkd_... ./mint.sh alice [bob ...]
#   TOKEND_URL=... TOKEND_KEY_ID=my-backend TOKEND_HMAC_SECRET=... ./mint.sh alice
#
# With TOKEND_API_KEY it sends the API key; with TOKEND_KEY_ID and TOKEND_HMAC_SECRET (read by
# `tokend sign` from the environment, so they stay out of `ps`) it signs every request.
# Prints one token per identity, a line each. Needs curl, and tokend on PATH for signing.
set -euo pipefail
URL="${TOKEND_URL:-http://127.0.0.1:8080}"
URL="${URL%/}/v1/tokens"

# json_string TEXT: TEXT as a JSON string literal (backslashes and quotes escaped). Control
# characters are refused here, as tokend refuses them in an identity.
json_string() {
  if [[ $1 =~ [[:cntrl:]] ]]; then echo "mint.sh: control characters in '$1'" >&2; return 1; fi
  local text=${1//\\/\\\\}
  text=${text//\"/\\\"}
  printf '"%s"' "$text"
}

mint() {  # mint IDENTITY: print the token
  local identity body
  identity=$(json_string "$1") || return 1
  body="{\"identity\":$identity,\"ttl\":3600,\"grants\":{\"data_sync\":{}}}"
  local attempt answer status headers
  for attempt in 1 2 3 4; do
    # Every attempt is signed anew (a fresh created and nonce): a signature is accepted once,
    # which is why curl's own --retry, resending the same headers, is not used here.
    if [ -n "${TOKEND_API_KEY:-}" ]; then
      headers=(-H "Authorization: Bearer $TOKEND_API_KEY")
    else
      mapfile -t lines < <(tokend sign --method POST --url "$URL" --data "$body")
      headers=()
      for line in "${lines[@]}"; do headers+=(-H "$line"); done
    fi
    answer=$(curl -sS -D "$TMP/headers" -o "$TMP/body" -w '%{http_code}' -X POST "$URL" \
      -H 'Content-Type: application/json' "${headers[@]}" --data-binary "$body") || answer=000
    status=$answer
    if [ "$status" = 200 ]; then
      printf '%s\n' "$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$TMP/body")"
      return 0
    fi
    if [ "$attempt" -lt 4 ] && { [ "$status" = 429 ] || [ "$status" = 503 ] || [ "$status" = 000 ]; }; then
      sleep "$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/Ip' "$TMP/headers" 2>/dev/null | grep . || echo "$attempt")"
      continue
    fi
    echo "tokend answered $status: $(cat "$TMP/body")" >&2
    return 1
  done
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for identity in "${@:-alice}"; do mint "$identity"; done
