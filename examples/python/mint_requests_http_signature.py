#!/usr/bin/env python3
"""Mint a tokend token from a Python backend with `requests` and `requests-http-signature`.

    pip install requests requests-http-signature
    TOKEND_URL=http://127.0.0.1:8080 TOKEND_API_KEY=tkd_... python3 mint_requests_http_signature.py alice [bob ...]
    TOKEND_URL=... TOKEND_KEY_ID=my-backend TOKEND_HMAC_SECRET=... python3 mint_requests_http_signature.py alice

With TOKEND_API_KEY set it authenticates with the API key; with TOKEND_KEY_ID and
TOKEND_HMAC_SECRET it signs every request (RFC 9421, hmac-sha256). Prints one token per identity, a line each.
"""
import os
import sys
import time

import requests
from requests_http_signature import HTTPSignatureAuth, algorithms


def authentication():
    """The API key, or an RFC 9421 signer. `use_nonce=True` matters: tokend accepts a signature
    once, and two identical requests in the same second would otherwise carry identical
    signatures, so the second would be refused as a replay."""
    if os.environ.get("TOKEND_API_KEY"):
        return None, {"Authorization": f"Bearer {os.environ['TOKEND_API_KEY']}"}
    auth = HTTPSignatureAuth(
        signature_algorithm=algorithms.HMAC_SHA256,
        key=os.environ["TOKEND_HMAC_SECRET"].encode(),
        key_id=os.environ["TOKEND_KEY_ID"],
        use_nonce=True,
    )
    return auth, {}


def mint(session, identity, grants=None, ttl=3600, attempts=4):
    """POST /v1/tokens, retrying 429 (after Retry-After), 503 and network errors. Each attempt
    is signed anew by `auth` (a fresh created and nonce): resending a signed request is a replay."""
    auth, headers = authentication()
    url = os.environ.get("TOKEND_URL", "http://127.0.0.1:8080").rstrip("/") + "/v1/tokens"
    body = {"identity": identity, "ttl": ttl, "grants": grants or {}}
    for attempt in range(1, attempts + 1):
        try:
            response = session.post(url, json=body, headers=headers, auth=auth, timeout=10)
        except requests.ConnectionError:
            if attempt == attempts:
                raise
            time.sleep(0.5 * attempt)
            continue
        if response.status_code in (429, 503) and attempt < attempts:
            time.sleep(float(response.headers.get("Retry-After", attempt)))
            continue
        if response.status_code != 200:
            error = response.json().get("error", {})
            raise RuntimeError(f"tokend answered {response.status_code}: {error.get('message')}")
        return response.json()


if __name__ == "__main__":
    # One token per identity given (alice if none), in a row on one session.
    with requests.Session() as session:
        for identity in sys.argv[1:] or ["alice"]:
            answer = mint(session, identity, {"data_sync": {}})
            for warning in answer["warnings"]:
                print("warning:", warning, file=sys.stderr)
            print(answer["token"])
