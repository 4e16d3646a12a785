#!/usr/bin/env python3
"""How long a revocation and a block made on one replica take to hold on another.

    propagation.py URL_A URL_B API_KEY [ROUNDS]

Per round: mint on A, revoke it on A, then introspect it on B every 2 ms until inactive; block
a fresh identity on A, then mint for it on B every 2 ms until refused. Prints the median, the
90th percentile and the worst of each, in milliseconds. The caller needs the mint, revoke,
introspect and block permissions.
"""
import json
import sys
import time
import urllib.error
import urllib.request


def post(base, path, key, body):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def until(check, limit=5.0):
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > limit:
            return float("inf")
        time.sleep(0.002)
    return (time.monotonic() - started) * 1000


def summary(name, values):
    values = sorted(values)
    pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
    print(f"{name:<11} p50={pick(0.5):.0f}ms p90={pick(0.9):.0f}ms max={values[-1]:.0f}ms (n={len(values)})")


def main():
    a, b, key = sys.argv[1:4]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 30
    revocations, blocks = [], []
    for round in range(rounds):
        status, minted = post(a, "/v1/tokens", key, {"identity": f"user-{round}"})
        assert status == 200, minted
        token = minted["token"]
        assert post(a, "/v1/tokens/revoke", key, {"token": token})[0] == 200
        revocations.append(until(lambda: post(b, "/v1/tokens/introspect", key, {"token": token})[1] == {"active": False}))
        identity = f"blocked-{round}-{time.time_ns()}"
        assert post(a, "/v1/identities/block", key, {"identity": identity})[0] == 200
        blocks.append(until(lambda: post(b, "/v1/tokens", key, {"identity": identity})[0] == 403))
    summary("revocation", revocations)
    summary("block", blocks)


if __name__ == "__main__":
    main()
