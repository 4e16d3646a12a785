#!/usr/bin/env bash
# Checks deploy/ without a Docker engine or a cluster: the Dockerfile statically and its runtime
# stage's layout with the built binary (run_image_layout.py), the Kubernetes
# manifests with kubernetes-validate (PyPI) and kustomize's resource list, the systemd unit with
# systemd-analyze verify when the tool exists.
#   Tests/Deploy/check.sh PYTHON TOKEND_BINARY
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="$1"; TOKEND="$(realpath "$2")"

"$PYTHON" Tests/Deploy/check_dockerfile.py .
# The image's command, user, environment and directories, rebuilt in a mount namespace (as root).
"$PYTHON" Tests/Deploy/run_image_layout.py . "$TOKEND"

# Every resource the kustomization lists exists and validates against the Kubernetes schemas.
resources=$(sed -n '/^resources:/,/^[^ -]/p' deploy/kubernetes/kustomization.yaml | sed -n 's/^ *- *//p')
files=()
for resource in $resources; do
  [ -f "deploy/kubernetes/$resource" ] || { echo "FAIL kustomization lists a missing file: $resource"; exit 1; }
  files+=("deploy/kubernetes/$resource")
done
# The optional migration Job is its own kustomization (kubectl apply -k deploy/kubernetes/migrate).
grep -q '^  - job.yaml' deploy/kubernetes/migrate/kustomization.yaml || { echo "FAIL migrate/ does not list job.yaml"; exit 1; }
files+=(deploy/kubernetes/migrate/job.yaml)
# One image pin for both, in the shared component; no image pinned anywhere else.
for k in deploy/kubernetes/kustomization.yaml deploy/kubernetes/migrate/kustomization.yaml; do
  grep -q 'image$' "$k" || { echo "FAIL $k does not use the image component"; exit 1; }
done
if grep -n 'image: .*registry\|image: .*:' deploy/kubernetes/*.yaml deploy/kubernetes/migrate/*.yaml; then echo "FAIL an image pinned outside image/"; exit 1; fi
"$PYTHON" -m kubernetes_validate --strict "${files[@]}"
# A pinned image, and no audit data on a volume that dies with the pod.
if grep -rn 'image: .*:latest\|newTag: *"\?latest' deploy/kubernetes; then echo "FAIL an image tag is latest"; exit 1; fi
if grep -n 'emptyDir' deploy/kubernetes/*.yaml; then echo "FAIL an emptyDir volume (audit data must not live on one)"; exit 1; fi
grep -q 'TOKEND_DATABASE_URL' deploy/kubernetes/deployment.yaml || { echo "FAIL the Deployment does not use the shared database"; exit 1; }
echo "kubernetes: ${#files[@]} manifests valid"
"$PYTHON" Tests/Deploy/check_manifests.py deploy/kubernetes

if command -v systemd-analyze >/dev/null; then
  # Verify a copy whose ExecStart points at the binary just built (the unit names the installed path).
  unit_dir="$(mktemp -d)"
  sed "s#/usr/local/bin/tokend#$TOKEND#" deploy/systemd/tokend.service > "$unit_dir/tokend.service"
  out="$(systemd-analyze verify "$unit_dir/tokend.service" 2>&1 || true)"
  rm -rf "$unit_dir"
  # Only problems in our unit count (a container's own units may not verify).
  problems="$(grep 'tokend.service' <<<"$out" | grep -v "Failed to resolve user\|not found, proceeding anyway" || true)"
  if [ -n "$problems" ]; then echo "FAIL systemd-analyze verify:"; echo "$problems"; exit 1; fi
  echo "systemd: tokend.service verified"
else
  echo "systemd: systemd-analyze not installed; unit not verified"
fi
