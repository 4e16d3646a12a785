#!/usr/bin/env python3
"""What kubernetes-validate cannot see in deploy/kubernetes: the operator promises the README makes.

- Prometheus may scrape: a NetworkPolicy ingress rule admits a monitoring namespace's Prometheus
  pods on tokend's port, and the pod template says where /metrics is.
- The grace period outlasts the drain: terminationGracePeriodSeconds > TOKEND_SHUTDOWN_DELAY
  plus the longest request (the database timeout, 2 s) with room to flush.
- A changed Secret is picked up: TOKEND_WATCH_SECRETS is set, and the Secret is mounted as a
  directory (a subPath mount is never updated), root:fsGroup 0440, which tokend accepts.
- Callers in the cluster and through the TLS ingress both sign: TOKEND_PUBLIC_SCHEME is https
  (signatures over the listener's own http:// verify too) and the ingress controller is admitted.

    check_manifests.py deploy/kubernetes
"""
import os
import sys

import yaml

directory = sys.argv[1]
failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def load(name):
    with open(os.path.join(directory, name)) as handle:
        return yaml.safe_load(handle)


deployment = load("deployment.yaml")
policy = load("networkpolicy.yaml")
pod = deployment["spec"]["template"]
container = pod["spec"]["containers"][0]
env = {item["name"]: item.get("value") for item in container["env"]}
port = next(p["containerPort"] for p in container["ports"] if p["name"] == "http")

delay = float(env.get("TOKEND_SHUTDOWN_DELAY", 5))
grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
check(grace >= delay + 2 + 10, f"terminationGracePeriodSeconds {grace} > shutdown delay {delay:g} s + a request + 10 s to flush")

scrapers = [rule for rule in policy["spec"]["ingress"]
            for peer in rule.get("from", [])
            if "prometheus" in str(peer.get("podSelector", {})).lower()
            and any(p.get("port") in (port, "http") for p in rule.get("ports", []))]
check(bool(scrapers), "the NetworkPolicy lets Prometheus reach the metrics port")
annotations = pod["metadata"].get("annotations", {})
check(annotations.get("prometheus.io/path") == "/metrics" and annotations.get("prometheus.io/port") == str(port),
      "the pod template says where /metrics is")
ingress = [rule for rule in policy["spec"]["ingress"] for peer in rule.get("from", [])
           if "ingress" in str(peer.get("namespaceSelector", {})).lower()]
check(bool(ingress), "the NetworkPolicy admits the ingress controller (callers outside the cluster)")

check(float(env.get("TOKEND_WATCH_SECRETS") or 0) > 0, "TOKEND_WATCH_SECRETS reloads a changed Secret without a signal")
mount = next(m for m in container["volumeMounts"] if m["name"] == "secrets")
check("subPath" not in mount, "the Secret is mounted as a directory (a subPath mount is never updated)")
volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "secrets")
mode = volume["secret"].get("defaultMode")
check(mode in (0o400, 0o440), f"the secrets file's mode is 0{mode:o}: owner, and group at most read")
check(pod["spec"]["securityContext"].get("fsGroup") is not None or mode == 0o400,
      "the non-root user can read it (fsGroup gives the file its group)")
check(env.get("TOKEND_PUBLIC_SCHEME") == "https", "TOKEND_PUBLIC_SCHEME=https: ingress and in-cluster signatures both verify")

sys.exit(1 if failures else 0)
