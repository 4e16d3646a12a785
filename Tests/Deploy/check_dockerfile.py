#!/usr/bin/env python3
"""Static check of deploy/Dockerfile (no Docker engine runs here): every line parses as an
instruction, the paths it COPYs from the build context exist, and the runtime stage is what
operators rely on (non-root USER, HEALTHCHECK with `tokend health`, EXPOSE, STOPSIGNAL SIGTERM,
a static Swift stdlib).

Usage: check_dockerfile.py REPO_ROOT
"""
import os
import shlex
import sys

from dockerfile import instructions as read_instructions

root = sys.argv[1]
path = os.path.join(root, "deploy", "Dockerfile")
INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER",
                "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
failures, passes = [], []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    (passes if condition else failures).append(message)


instructions, dangling = read_instructions(path)
check(not dangling, "no dangling line continuation")
unknown = [i for i in instructions if i.split()[0].upper() not in INSTRUCTIONS]
check(not unknown, f"every line is a Dockerfile instruction {unknown}")

stages = [i for i in instructions if i.upper().startswith("FROM ")]
check(len(stages) >= 2, "multi-stage build")
runtime = instructions[instructions.index(stages[-1]):]
for instruction in instructions:
    words = shlex.split(instruction)
    if words[0].upper() == "COPY" and not any(w.startswith("--from") for w in words):
        for source in words[1:-1]:
            if not source.startswith("--"):
                check(os.path.exists(os.path.join(root, source)), f"COPY source exists: {source}")

def has(prefix, text=""):
    return any(i.upper().startswith(prefix) and text in i for i in runtime)

check(any("--static-swift-stdlib" in i for i in instructions), "release build with --static-swift-stdlib")
check(has("USER") and not has("USER", "root") and not has("USER 0"), "runtime runs as a non-root user")
check(has("HEALTHCHECK", "tokend") and has("HEALTHCHECK", "health"), "HEALTHCHECK runs tokend health")
check(has("EXPOSE"), "EXPOSE")
check(has("STOPSIGNAL", "SIGTERM"), "STOPSIGNAL SIGTERM")
check(not has("COPY", "secrets"), "no secrets baked into the image")
print(f"dockerfile: {len(passes)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
