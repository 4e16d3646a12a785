#!/usr/bin/env python3
"""Interop: independent RFC 9421 clients, used as their READMEs show, get tokens from a real
`tokend serve`; PyJWT verifies the tokens.

- requests-http-signature: HTTPSignatureAuth(key=..., key_id=..., signature_algorithm=HMAC_SHA256),
  which covers date and content-digest in an order that varies from run to run.
- http-message-signatures: HTTPMessageSigner.sign() with label "pyhms" and components
  @method @authority @target-uri date content-digest.
- A replayed signed request is refused; an API key works through plain requests.

Usage: http_signature_interop.py PATH/TO/tokend
"""
import email.utils
import os
import re
import subprocess
import sys
import tempfile
import time

import jwt
import requests
from http_message_signatures import HTTPMessageSigner, HTTPSignatureKeyResolver, algorithms
from requests_http_signature import HTTPSignatureAuth
from requests_http_signature import algorithms as rhs_algorithms

TOKEND = os.path.abspath(sys.argv[1])
SIGNING_SECRET = "interop-signing-secret-0123456789abcdef-0123"
HMAC_SECRET = "interop-hmac-secret-0123456789abcdef-012345"
API_KEY = "tkd_interop-api-key-0123456789"

passes, failures = [], []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    (passes if condition else failures).append(message)


def verified_token(response):
    token = response.json()["token"]
    return jwt.decode(token, SIGNING_SECRET, algorithms=["HS256"])


class KeyResolver(HTTPSignatureKeyResolver):
    def resolve_public_key(self, key_id):
        return HMAC_SECRET.encode()

    def resolve_private_key(self, key_id):
        return HMAC_SECRET.encode()


with tempfile.TemporaryDirectory() as directory:
    import hashlib

    secrets_path = os.path.join(directory, "secrets.toml")
    with open(secrets_path, "w") as handle:
        handle.write(f"""
[[signing_keys]]
kid = "interop"
secret = "{SIGNING_SECRET}"
active = true

[[callers]]
id = "web"
api_key_sha256 = "{hashlib.sha256(API_KEY.encode()).hexdigest()}"
hmac_secret = "{HMAC_SECRET}"
grants = ["chat"]
""")
    os.chmod(secrets_path, 0o600)
    server = subprocess.Popen([TOKEND, "serve", "--secrets", secrets_path, "--port", "0",
                               "--audit-log", os.path.join(directory, "audit.jsonl")],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        base = None
        deadline = time.time() + 20
        while time.time() < deadline and base is None:
            line = server.stdout.readline()
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            if match:
                base = match.group(1)
        check(base is not None, "tokend serve started")
        url = base + "/v1/tokens"

        # requests-http-signature, as its README shows; several runs, because it orders the
        # covered date and content-digest differently from run to run.
        auth = HTTPSignatureAuth(key=HMAC_SECRET.encode(), key_id="web", signature_algorithm=rhs_algorithms.HMAC_SHA256)
        statuses, inputs = [], set()
        for n in range(12):
            response = requests.post(url, json={"identity": f"alice-{n}", "grants": {"chat": {}}}, auth=auth)
            statuses.append(response.status_code)
            inputs.add(response.request.headers.get("Signature-Input", "").split(";")[0])
            if response.status_code != 200:
                print("  ", response.status_code, response.text, response.request.headers.get("Signature-Input"))
        check(statuses == [200] * 12, f"requests-http-signature gets tokens ({statuses})")
        print(f"     covered-component orders seen: {sorted(inputs)}")
        check(verified_token(response)["sub"] == "alice-11", "PyJWT verifies the token it got")

        # Why the recipes use a nonce: used as its README shows, two identical requests within
        # one second carry identical signatures, and the second is a replay. With use_nonce=True
        # both get tokens.
        body = {"identity": "twice", "grants": {"chat": {}}}
        for _ in range(5):
            first, second = requests.post(url, json=body, auth=auth), requests.post(url, json=body, auth=auth)
            created = {r.request.headers["Signature-Input"].split("created=")[1].split(";")[0] for r in (first, second)}
            if len(created) == 1:
                break
        check(first.status_code == 200 and second.status_code == 401 and "already used" in second.text,
              f"without a nonce, the same request twice in one second: 200 then 401 ({first.status_code}, {second.status_code})")
        nonced = HTTPSignatureAuth(key=HMAC_SECRET.encode(), key_id="web", signature_algorithm=rhs_algorithms.HMAC_SHA256, use_nonce=True)
        statuses = [requests.post(url, json=body, auth=nonced).status_code for _ in range(2)]
        check(statuses == [200, 200], f"with use_nonce=True, both get tokens ({statuses})")

        # http-message-signatures, label pyhms, the components tokend's README names.
        request = requests.Request("POST", url, json={"identity": "bob"},
                                   headers={"Date": email.utils.formatdate(usegmt=True)}).prepare()
        signer = HTTPMessageSigner(signature_algorithm=algorithms.HMAC_SHA256, key_resolver=KeyResolver())
        signer.sign(request, key_id="web", label="pyhms", body=request.body, include_alg=True,
                    covered_component_ids=("@method", "@authority", "@target-uri", "date", "content-digest"))
        session = requests.Session()
        first = session.send(request)
        check(first.status_code == 200, f"http-message-signatures (pyhms) gets a token: {first.status_code} {first.text[:120]}")
        if first.status_code == 200:
            check(verified_token(first)["sub"] == "bob", "PyJWT verifies it")

        # The same signed request again: a replay.
        replay = session.send(request)
        check(replay.status_code == 401 and "already used" in replay.json()["error"]["message"], "a replayed signature is refused")

        # Tampered body under the captured signature.
        tampered = request.copy()
        tampered.body = b'{"identity": "mallory"}'
        tampered.headers["Content-Length"] = str(len(tampered.body))
        answer = session.send(tampered)
        check(answer.status_code == 401, f"a tampered body is refused ({answer.status_code})")

        # API key through plain requests.
        keyed = requests.post(url, json={"identity": "carol"}, headers={"Authorization": f"Bearer {API_KEY}"})
        check(keyed.status_code == 200 and keyed.headers.get("Cache-Control") == "no-store", "API key gets a token")
        check(verified_token(keyed)["sub"] == "carol", "PyJWT verifies it")
    finally:
        server.terminate()
        server.wait(timeout=15)

# `tokend serve --dev`, the README's first command: the curl line it prints returns a token that
# PyJWT verifies with the signing secret it prints.
with tempfile.TemporaryDirectory() as directory:
    dev = subprocess.Popen([TOKEND, "serve", "--dev", "--port", "0"], cwd=directory,
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        banner = []
        deadline = time.time() + 20
        while time.time() < deadline:
            line = dev.stdout.readline()
            banner.append(line)
            if "listening on" in line:
                break
        curl_line = next((l.strip() for l in banner if l.strip().startswith("curl ")), None)
        secret = next((l.split()[2] for l in banner if l.startswith("Signing secret: ")), None)
        check(curl_line is not None and secret is not None, "serve --dev prints a curl line and the signing secret")
        output = subprocess.run(curl_line, shell=True, capture_output=True, text=True, timeout=20).stdout
        token = __import__("json").loads(output)["token"]
        claims = jwt.decode(token, secret, algorithms=["HS256"])
        check(claims["sub"] == "alice" and "chat" in claims["grants"], "the printed curl line's token verifies with PyJWT")
    finally:
        dev.terminate()
        dev.wait(timeout=15)

print(f"http-signature interop: {len(passes)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
