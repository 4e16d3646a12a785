#!/usr/bin/env python3
"""A resource server asks tokend whether a token is good now (RFC 7662), with a short cache.

    pip install requests requests-http-signature
    TOKEND_URL=http://127.0.0.1:8080 TOKEND_API_KEY=tkd_... python3 introspect.py TOKEN [TOKEN ...]

The caller needs the "introspect" permission (`permissions = ["introspect"]` for a resource
server). Prints "active <sub> <client_id>" or "inactive" per token, a line each.

The cache is the trade-off every resource server makes: an answer is reused for at most
TOKEND_INTROSPECTION_CACHE seconds (default 10), so a revocation reaches this server within
that long, and tokend sees one request per token per interval rather than one per API call.
An active answer is never kept past the token's own exp.
"""
import os
import sys
import time

import requests

from mint_requests_http_signature import authentication

CACHE_SECONDS = float(os.environ.get("TOKEND_INTROSPECTION_CACHE", "10"))
_cache = {}  # token -> (answer, until)


def introspect(session, token):
    now = time.time()
    cached = _cache.get(token)
    if cached and cached[1] > now:
        return cached[0]
    auth, headers = authentication()
    url = os.environ.get("TOKEND_URL", "http://127.0.0.1:8080").rstrip("/") + "/v1/tokens/introspect"
    response = session.post(url, json={"token": token}, headers=headers, auth=auth, timeout=5)
    if response.status_code != 200:
        raise RuntimeError(f"tokend answered {response.status_code}: {response.json().get('error', {}).get('message')}")
    answer = response.json()
    until = now + CACHE_SECONDS
    if answer["active"]:
        until = min(until, answer["exp"])
    _cache[token] = (answer, until)
    return answer


if __name__ == "__main__":
    with requests.Session() as session:
        for token in sys.argv[1:]:
            answer = introspect(session, token)
            print(f"active {answer['sub']} {answer.get('client_id', '-')}" if answer["active"] else "inactive")
