#!/usr/bin/env python3
"""The OpenAPI document as a code generator needs it, fetched from a live server:

- `servers` relative (the document is served by the server it describes);
- an example for every request body and every response body;
- the RFC 9421 headers as the header parameters they are, not a fake API-key scheme;
- only statuses the caller endpoints can answer (no 404 or 405: the path and method are fixed).

    openapi_check.py http://127.0.0.1:PORT/openapi.yaml
"""
import sys
import urllib.request

import yaml

document = yaml.safe_load(urllib.request.urlopen(sys.argv[1]).read())
failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def resolve(node):
    while isinstance(node, dict) and "$ref" in node:
        path = node["$ref"].lstrip("#/").split("/")
        node = document
        for part in path:
            node = node[part]
    return node


servers = document.get("servers", [])
check(bool(servers) and all(server["url"].startswith("/") for server in servers), f"servers are relative: {servers}")

missing = []
for path, operations in document["paths"].items():
    for method, operation in operations.items():
        body = operation.get("requestBody")
        if body:
            for media, content in resolve(body)["content"].items():
                if "example" not in content and "examples" not in content:
                    missing.append(f"{method.upper()} {path} request {media}")
        for status, response in operation["responses"].items():
            for media, content in resolve(response).get("content", {}).items():
                if "example" not in content and "examples" not in content:
                    missing.append(f"{method.upper()} {path} {status} {media}")
check(not missing, "an example for every request and response body" + (f"; missing: {missing}" if missing else ""))

schemes = document.get("components", {}).get("securitySchemes", {})
check(not any(s.get("type") == "apiKey" and s.get("name", "").lower().startswith("signature") for s in schemes.values()),
      "no API-key scheme posing as the Signature header")
mint = document["paths"]["/v1/tokens"]["post"]
headers = {resolve(p)["name"] for p in mint.get("parameters", []) if resolve(p)["in"] == "header"}
check({"Signature-Input", "Signature", "Content-Digest"} <= headers, f"the signature headers are parameters: {sorted(headers)}")
for path in ["/v1/tokens", "/v1/tokens/revoke", "/v1/tokens/introspect", "/v1/identities/block", "/v1/identities/unblock"]:
    statuses = set(document["paths"][path]["post"]["responses"])
    check(statuses <= {"200", "400", "401", "403", "408", "413", "415", "417", "429", "431", "501", "503"} and "200" in statuses,
          f"POST {path} lists only statuses it sends: {sorted(statuses)}")

sys.exit(1 if failures else 0)
