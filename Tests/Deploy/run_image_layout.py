#!/usr/bin/env python3
"""The image's command with the image's user, environment and directories, without a Docker
engine: in a private mount namespace (unshare, as root) the runtime stage's layout is rebuilt —
its `install -d` directories run as written on a fresh /var/lib, the secrets file mounted at
TOKEND_SECRETS as a Secret would be, the binary at /usr/local/bin/tokend — and its ENTRYPOINT and
CMD run as its USER, from its WORKDIR, with exactly its ENV:

- as `docker run` starts it (no database): it serves, mints, and its audit log is on the volume;
- with the Deployment's environment on top (TOKEND_DATABASE_URL, here an unreachable one): it
  goes for the database and writes no audit file.

Usage: run_image_layout.py REPO_ROOT TOKEND_BINARY
"""
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile

from dockerfile import instructions as read_instructions

root, binary = sys.argv[1], os.path.realpath(sys.argv[2])
failures, passes = [], []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message, flush=True)
    (passes if condition else failures).append(message)


if os.geteuid() != 0:
    print("skip: rebuilding the image's layout needs root (a mount namespace)")
    sys.exit(0)

# The runtime stage's instructions.
instructions, _ = read_instructions(os.path.join(root, "deploy", "Dockerfile"))
runtime = instructions[max(i for i, text in enumerate(instructions) if text.upper().startswith("FROM ")):]
env, user, workdir, directories, entrypoint, command = {}, None, "/", [], [], []
for text in runtime:
    keyword, _, rest = text.partition(" ")
    keyword = keyword.upper()
    if keyword == "ENV":
        for pair in shlex.split(rest):
            name, _, value = pair.partition("=")
            env[name] = value
    elif keyword == "USER":
        user = rest.strip()
    elif keyword == "WORKDIR":
        workdir = rest.strip()
    elif keyword == "RUN":
        directories += [step.strip() for step in rest.split("&&") if step.strip().startswith("install -d")]
    elif keyword == "ENTRYPOINT":
        entrypoint = json.loads(rest)
    elif keyword == "CMD":
        command = json.loads(rest)
uid, _, gid = (user or "").partition(":")
check(uid.isdigit() and uid != "0", f"the image runs as a numeric non-root user ({user})")
check(any(workdir in step for step in directories), f"the image creates its WORKDIR {workdir} for its user")

API_KEY = "tkd_image-layout-" + os.urandom(8).hex()
SECRETS = f"""
[[signing_keys]]
kid = "image"
secret = "{os.urandom(24).hex()}"
active = true

[[callers]]
id = "web"
api_key_sha256 = "{hashlib.sha256(API_KEY.encode()).hexdigest()}"
grants = ["data_sync"]
"""


def run_in_layout(extra_env, script_after):
    """Runs the image's command in its layout; `script_after` runs in the same namespace while it
    serves (or after it exits), as root, and its output is returned with the server's."""
    work = tempfile.mkdtemp()
    secrets_dir = os.path.join(work, "secrets")
    os.makedirs(secrets_dir)
    with open(os.path.join(secrets_dir, "secrets.toml"), "w") as handle:
        handle.write(SECRETS)
    os.chown(os.path.join(secrets_dir, "secrets.toml"), 0, int(gid or uid))
    os.chmod(os.path.join(secrets_dir, "secrets.toml"), 0o440)  # as the kubelet mounts a Secret (fsGroup)
    variables = " ".join(shlex.quote(f"{k}={v}") for k, v in {**env, **extra_env}.items())
    secrets_path = env.get("TOKEND_SECRETS", "/etc/tokend/secrets.toml")
    layout = f"""
        set -e
        mount -t tmpfs tmpfs /var/lib
        {' ; '.join(directories)}
        mkdir -p {shlex.quote(os.path.dirname(secrets_path))}
        mount --bind {shlex.quote(secrets_dir)} {shlex.quote(os.path.dirname(secrets_path))}
        mkdir -p /usr/local/bin && touch /usr/local/bin/tokend && mount --bind {shlex.quote(binary)} /usr/local/bin/tokend
        cd {shlex.quote(workdir)}
        setpriv --reuid {uid} --regid {gid or uid} --clear-groups env -i {variables} \
            {' '.join(shlex.quote(part) for part in entrypoint + command)} > {work}/out 2> {work}/err &
        SERVER=$!
        {script_after}
        kill $SERVER 2>/dev/null || true; wait $SERVER || true
        echo "--- server stderr"; tail -5 {work}/err
    """
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c", layout],
                            capture_output=True, text=True, timeout=120)
    return result.stdout + result.stderr


port = env.get("TOKEND_PORT", "8080")
shipped = run_in_layout({"TOKEND_PORT": "18471"}, """
    for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18471/healthz && break; sleep 0.1; done
    echo "mint: $(curl -s -X POST http://127.0.0.1:18471/v1/tokens -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' -d '{"identity":"alice"}' | head -c 40)"
    echo "files: $(ls /var/lib/tokend)"
    echo "owner: $(stat -c %%u /var/lib/tokend/tokend-audit.jsonl 2>/dev/null)"
""" % API_KEY)
check('mint: {"token":"' in shipped, "as docker run starts it: serves and mints as UID " + uid)
check("files: tokend-audit.jsonl" in shipped and f"owner: {uid}" in shipped, "its audit log is on the volume, written by its user")
if failures:
    print(shipped)

with_database = run_in_layout({"TOKEND_DATABASE_URL": "postgres://tokend:pw@127.0.0.1:1/tokend?sslmode=disable&connect_timeout=1",
                               "TOKEND_DATABASE_WAIT": "0"}, """
    wait $SERVER || true
    echo "files: [$(ls /var/lib/tokend)]"
""")
database_ok = "files: []" in with_database and "audit log" not in with_database.split("--- server stderr")[-1]
check(database_ok, "with the Deployment's TOKEND_DATABASE_URL: no audit file, and the error is the database's")
check("127.0.0.1:1" in with_database, "the refusal names the database")
if not database_ok:
    print(with_database)
print(f"image layout: {len(passes)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
