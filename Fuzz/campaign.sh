#!/usr/bin/env bash
# The long fuzzing campaign: every target for MINUTES (default 10) each, JOBS (default 2) at a
# time, on the seed corpus plus everything earlier runs kept ($FUZZ_WORK, default
# /tmp/tokend-fuzz). Prints executions, coverage and crashes per target (the README quotes them).
#
#   Fuzz/campaign.sh [MINUTES]        env: JOBS, FUZZ_WORK
set -euo pipefail
cd "$(dirname "$0")"
MINUTES="${1:-10}"; JOBS="${JOBS:-2}"
WORK="${FUZZ_WORK:-/tmp/tokend-fuzz}"
TARGETS=(fuzz-json fuzz-signature fuzz-jwt fuzz-audit fuzz-secrets fuzz-control fuzz-http)
./run.sh 1 "${TARGETS[@]}" >/dev/null   # build, and check each target starts
echo "campaign at $(git rev-parse --short HEAD), ${MINUTES} min per target, $JOBS at a time, $(nproc) cores"
running=0
for target in "${TARGETS[@]}"; do
  ( ./run.sh $((MINUTES * 60)) "$target" | grep '^fuzz' ) &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n || true; running=$((running - 1)); fi
done
wait
crashes=$(ls "$WORK/artifacts" 2>/dev/null | wc -l)
echo "artifacts (crashes, leaks, timeouts) in $WORK/artifacts: $crashes"
[ "$crashes" -eq 0 ]
