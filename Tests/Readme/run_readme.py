#!/usr/bin/env python3
"""Runs the documentation's command blocks as written — README.md, then every file in docs/ —
so the documentation cannot drift from what works.

A fenced block right after an HTML comment is run (or checked) by this script, wherever it lives:

    <!-- ci: dev -->         the opening block: its `serve --dev` line is started, and the curl
                             line the server prints is run as pasted (its `swift test` line is
                             .ci/run's own, checked to be there)
    <!-- ci: NAME -->        a step of scenario NAME: every block of a scenario runs, in document
                             order (README.md, then docs/ by name), in one bash (set -euo pipefail) from the repository's root;
                             background jobs it starts are stopped at the end
    <!-- ci: file PATH -->   the block must equal the file PATH (a quoted config file)

Scenarios: `quickstart` (the README's "for real use": in the repository, as any user),
`twilio` (from a Twilio API key to a Sync token, with made-up SIDs and secret) and `operator`
(install, keygen, directories, serve, mint, rotation, a new caller, audit rotation, verify; as
root, on the system itself: it runs only with TOKEND_README_SYSTEM=1, which CI sets).

    Tests/Readme/run_readme.py
"""
import os
import re
import shlex
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCUMENTS = ["README.md"] + sorted(os.path.join("docs", name) for name in os.listdir(os.path.join(ROOT, "docs")) if name.endswith(".md"))
MARK = re.compile(r"^<!-- ci: (\S+)(?: (\S+))? -->$")

passes, failures = [], []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message, flush=True)
    (passes if condition else failures).append(message)


def blocks():
    """(tag, argument, "FILE line N", text) for every marked fenced block of every document."""
    found = []
    for document in DOCUMENTS:
        found += blocks_of(document)
    return found


def blocks_of(document):
    lines = open(os.path.join(ROOT, document), encoding="utf-8").read().split("\n")
    found = []
    for index, line in enumerate(lines):
        mark = MARK.match(line.strip())
        if not mark:
            continue
        fence = lines[index + 1] if index + 1 < len(lines) else ""
        if not fence.startswith("```"):
            check(False, f"{document} line {index + 1}: a ci mark must be followed by a fenced block")
            continue
        end = next(j for j in range(index + 2, len(lines)) if lines[j].startswith("```"))
        found.append((mark.group(1), mark.group(2), f"{document} line {index + 2}", "\n".join(lines[index + 2:end]) + "\n"))
    return found


# What the README's steps should have produced, checked in the same shell after them.
AFTERWARDS = {
    "quickstart": """
        # The token was on the record before it was returned.
        grep -q "\\"token_sha256\\":\\"$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)\\"" tokend-audit.jsonl
    """,
    "operator": """
        # The rotation took: tokens are signed by the new key, and the old key's still verify.
        tokend mint --url http://127.0.0.1:8080 --api-key "$KEY" --identity zoe | tokend decode - | grep -q "\\"kid\\":\\"$NEW_KID\\""
        [ "$(stat -c %a /etc/tokend/secrets.toml)" = 600 ]
        # The revoked caller stays refused, and the file still loads (the reload kept working).
        if tokend mint --url http://127.0.0.1:8080 --api-key "$MOBILE_KEY" --identity bob 2>/dev/null; then exit 1; fi
        tokend verify --secrets /etc/tokend/secrets.toml "$TOKEN" >/dev/null
        ls /var/lib/tokend/audit.jsonl-* >/dev/null
    """,
}
# What a reader brings to a scenario from elsewhere: for `twilio`, the Twilio Console's SIDs
# (exported in the README's block before the marked ones) and the API key secret, typed when
# keygen asks for it (standard input). Made up here: nothing in CI talks to Twilio.
TWILIO_SECRET = os.urandom(16).hex()
ENVIRONMENT = {
    "twilio": {"TWILIO_ACCOUNT_SID": "AC" + os.urandom(16).hex(), "TWILIO_API_KEY_SID": "SK" + os.urandom(16).hex(),
               "TWILIO_SYNC_SERVICE_SID": "IS" + os.urandom(16).hex()},
}
INPUT = {"twilio": TWILIO_SECRET + "\n"}
AFTERWARDS["twilio"] = f"""
    # A Twilio token for alice with the Sync grant, signed with the API key's secret, on the record.
    tokend decode "$TOKEN" | grep -q '"cty":"twilio-fpa;v=1"'
    tokend decode "$TOKEN" | grep -q "\\"iss\\":\\"$TWILIO_API_KEY_SID\\",\\"sub\\":\\"$TWILIO_ACCOUNT_SID\\""
    tokend decode "$TOKEN" | grep -q "\\"data_sync\\":{{\\"service_sid\\":\\"$TWILIO_SYNC_SERVICE_SID\\"}}"
    TOKEND_SIGNING_SECRET={TWILIO_SECRET} tokend verify "$TOKEN" >/dev/null
    grep -q "\\"token_sha256\\":\\"$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)\\"" tokend-audit.jsonl
"""
# Files a scenario leaves that are the reader's to keep, but CI's to remove.
LEFTOVERS = {
    "quickstart": [os.path.join(ROOT, "secrets.toml"), os.path.join(ROOT, "tokend-audit.jsonl")],
    "twilio": [os.path.join(ROOT, "secrets.toml"), os.path.join(ROOT, "tokend-audit.jsonl")],
    "operator": ["/etc/tokend/secrets.toml", "/etc/logrotate.d/tokend", "/var/lib/tokend/audit.jsonl"],
}


def remove_leftovers(scenario):
    """After a scenario: what its steps wrote (checked absent before it ran)."""
    for path in LEFTOVERS.get(scenario, []):
        if os.path.exists(path):
            os.remove(path)
    if scenario == "operator" and os.path.isdir("/var/lib/tokend"):
        for name in os.listdir("/var/lib/tokend"):
            if name.startswith("audit.jsonl"):
                os.remove(os.path.join("/var/lib/tokend", name))


def run_scenario(name, steps):
    # The README's steps write these; a reader's own copies are never overwritten or removed.
    present = [path for path in LEFTOVERS.get(name, []) if os.path.exists(path)]
    if present:
        check(False, f"scenario {name}: {', '.join(present)} are already there (a reader's own files); move them away to run it")
        return
    script = ["set -euo pipefail",
              # Stop what the steps started in the background (the servers), and let them drain.
              "trap 'kill $(jobs -p) 2>/dev/null || true; wait || true' EXIT"]
    for line_number, text in steps:
        script.append(f"echo '+ {line_number}' >&2")
        script.append(text)
    script.append(AFTERWARDS.get(name, ""))
    started = time.time()
    result = subprocess.run(["bash", "-c", "\n".join(script)], cwd=ROOT, input=INPUT.get(name), text=True,
                            env={**os.environ, **ENVIRONMENT.get(name, {})})
    check(result.returncode == 0,
          f"scenario {name}: {len(steps)} documented blocks ran as written ({time.time() - started:.0f} s)")
    remove_leftovers(name)


def run_dev(line_number, text):
    """The opening block: `swift run … serve --dev` and `swift test`."""
    commands = [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]
    serve = next((c for c in commands if " serve --dev" in c), None)
    check(serve is not None, f"{line_number}: the opening block starts serve --dev")
    check("swift test" in commands and "swift test" in open(os.path.join(ROOT, ".ci/run")).read().splitlines(),
          "the opening block's `swift test` is what .ci/run runs")
    if serve is None:
        return
    audit = os.path.join(ROOT, "tokend-audit.jsonl")
    existed = os.path.exists(audit)
    server = subprocess.Popen(shlex.split(serve), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        banner, deadline = [], time.time() + 900   # the first release build takes minutes
        while time.time() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            banner.append(line)
            if "listening on" in line:
                break
        curl = next((l.strip() for l in banner if l.strip().startswith("curl ")), None)
        check(curl is not None, f"`{serve}` prints a curl line")
        if curl:
            answer = subprocess.run(curl, shell=True, capture_output=True, text=True, timeout=30).stdout
            check('"token":"' in answer, "the printed curl line, pasted, returns a token")
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not existed and os.path.exists(audit):
            os.remove(audit)


def main():
    found = blocks()
    scenarios = {}
    for tag, argument, line_number, text in found:
        if tag == "file":
            with open(os.path.join(ROOT, argument), encoding="utf-8") as handle:
                check(handle.read() == text, f"{line_number} quotes {argument} exactly")
        elif tag == "dev":
            scenarios.setdefault("dev", []).append((line_number, text))
        else:
            scenarios.setdefault(tag, []).append((line_number, text))
    for name in ("dev", "quickstart", "operator", "twilio"):
        check(name in scenarios, f"the documentation marks its {name} blocks")
    for line_number, text in scenarios.pop("dev", []):
        run_dev(line_number, text)
    for name, steps in scenarios.items():
        if name == "operator" and os.environ.get("TOKEND_README_SYSTEM") != "1":
            print("skip scenario operator: it installs into /usr/local, /etc and /var/lib as root; set TOKEND_README_SYSTEM=1")
            continue
        run_scenario(name, steps)
        if name == "quickstart":
            # Pasted twice in a row, in one shell: the first server must be gone (its port free)
            # when the first paste ends.
            run_scenario("quickstart", steps + steps)
    print(f"documentation as written: {len(passes)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
