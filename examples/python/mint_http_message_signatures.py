#!/usr/bin/env python3
"""Mint a tokend token from a Python backend with `requests` and `http-message-signatures`.

    pip install requests http-message-signatures
    TOKEND_URL=http://127.0.0.1:8080 TOKEND_API_KEY=tkd_... python3 mint_http_message_signatures.py alice
    TOKEND_URL=... TOKEND_KEY_ID=my-backend TOKEND_HMAC_SECRET=... python3 mint_http_message_signatures.py alice

With TOKEND_API_KEY set it authenticates with the API key (an Authorization header); with
TOKEND_KEY_ID and TOKEND_HMAC_SECRET it signs every request. Prints one token per identity, a line each.
"""
import json
import os
import secrets
import sys
import time

import requests
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms


class CallerSecret(HTTPSignatureKeyResolver):
    """hmac-sha256 is symmetric: the caller's HMAC secret signs."""

    def resolve_private_key(self, key_id):
        return os.environ["TOKEND_HMAC_SECRET"].encode()

    def resolve_public_key(self, key_id):
        return self.resolve_private_key(key_id)


SIGNER = HTTPMessageSigner(signature_algorithm=algorithms.HMAC_SHA256, key_resolver=CallerSecret())


def signed_request(url, body):
    """A prepared POST: with the API key, or signed over @method, @target-uri and content-digest,
    with a fresh created and nonce: tokend accepts a signature (and a nonce) once, so every
    request, including a retry of the same one, needs its own."""
    headers = {"Content-Type": "application/json"}
    if os.environ.get("TOKEND_API_KEY"):
        headers["Authorization"] = f"Bearer {os.environ['TOKEND_API_KEY']}"
        return requests.Request("POST", url, data=body, headers=headers).prepare()
    request = requests.Request("POST", url, data=body, headers=headers).prepare()
    # body= makes the signer add Content-Digest (RFC 9530) and cover it.
    SIGNER.sign(request, key_id=os.environ["TOKEND_KEY_ID"], nonce=secrets.token_urlsafe(16), body=body,
                covered_component_ids=("@method", "@target-uri", "content-digest"))
    return request


def mint(session, identity, grants=None, ttl=3600, attempts=4):
    """POST /v1/tokens, retrying 429 (after Retry-After), 503 and network errors, signed anew."""
    url = os.environ.get("TOKEND_URL", "http://127.0.0.1:8080").rstrip("/") + "/v1/tokens"
    body = json.dumps({"identity": identity, "ttl": ttl, "grants": grants or {}}).encode()
    for attempt in range(1, attempts + 1):
        try:
            response = session.send(signed_request(url, body), timeout=10)
        except requests.ConnectionError:
            if attempt == attempts:
                raise
            time.sleep(0.5 * attempt)
            continue
        if response.status_code in (429, 503) and attempt < attempts:
            time.sleep(float(response.headers.get("Retry-After", attempt)))
            continue
        if response.status_code != 200:
            raise RuntimeError(f"tokend answered {response.status_code}: {response.json()['error']['message']}")
        return response.json()


if __name__ == "__main__":
    # One token per identity given (alice if none), in a row on one session.
    with requests.Session() as session:
        for identity in sys.argv[1:] or ["alice"]:
            print(mint(session, identity, {"data_sync": {}})["token"])
