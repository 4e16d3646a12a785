#!/usr/bin/env python3
"""Writes COUNT RFC 9421 hmac-sha256 signed token requests for wrk (post-signed.lua), one per
line: body, Content-Digest, Signature-Input, Signature, tab-separated. Standard library only,
so the benchmark's signer is independent of tokend's.

Usage: sign_requests.py URL KEY_ID SECRET COUNT > requests.tsv
"""
import base64
import hashlib
import hmac
import sys
import time
from urllib.parse import urlsplit

url, key_id, secret, count = sys.argv[1], sys.argv[2], sys.argv[3].encode(), int(sys.argv[4])
created = int(time.time())
out = sys.stdout
for n in range(count):
    body = '{"identity":"user-%d","grants":{"data_sync":{"service_sid":"IS123"}},"ttl":3600}' % n
    digest = "sha-256=:%s:" % base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    params = '("@method" "@target-uri" "content-digest");created=%d;keyid="%s";alg="hmac-sha256"' % (created, key_id)
    base = '"@method": POST\n"@target-uri": %s\n"content-digest": %s\n"@signature-params": %s' % (url, digest, params)
    signature = base64.b64encode(hmac.new(secret, base.encode(), hashlib.sha256).digest()).decode()
    out.write("%s\t%s\tsig1=%s\tsig1=:%s:\n" % (body, digest, params, signature))
