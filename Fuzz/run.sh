#!/usr/bin/env bash
# Builds the libFuzzer targets (AddressSanitizer + coverage) and runs each for SECONDS (default
# 30) on its seed corpus in Fuzz/Corpus/<target>, plus what earlier runs found (kept in
# $FUZZ_WORK, default /tmp/tokend-fuzz). Fails on any crash, leak or broken property, leaving the
# input in $FUZZ_WORK/artifacts. `.ci/run` calls this; Fuzz/campaign.sh runs it for longer.
#
#   Fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET="${1:-30}"; shift || true
TARGETS=("$@"); [ ${#TARGETS[@]} -gt 0 ] || TARGETS=(fuzz-json fuzz-signature fuzz-jwt fuzz-audit fuzz-secrets fuzz-control fuzz-http)
WORK="${FUZZ_WORK:-/tmp/tokend-fuzz}"
mkdir -p "$WORK/artifacts"

# libFuzzer without its own main (SwiftPM gives every executable its entry point; the targets
# call LLVMFuzzerRunDriver), coverage for the Swift code, AddressSanitizer for memory errors.
RT="$(dirname "$(readlink -f "$(command -v swiftc)")")/../lib/clang"
FUZZER_LIB="$(ls "$RT"/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a | head -1)"
FLAGS=(-c release -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table
       -Xlinker "$FUZZER_LIB" -Xlinker -lstdc++)
for target in "${TARGETS[@]}"; do swift build "${FLAGS[@]}" --product "$target" 2>&1 | grep -E "error|warning: unre" || true; done
BIN="$(swift build "${FLAGS[@]}" --show-bin-path)"

status=0
for target in "${TARGETS[@]}"; do
  corpus="$WORK/corpus/$target"; mkdir -p "$corpus"
  log="$WORK/$target.log"
  # -rss_limit_mb: a leak or runaway allocation fails the run; -timeout: so does a hang.
  if "$BIN/$target" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
       -artifact_prefix="$WORK/artifacts/$target-" "$corpus" "Corpus/$target" >"$log" 2>&1; then
    runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
    cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    echo "fuzz $target: ok, ${SECONDS_PER_TARGET}s, ${runs:-?} runs, coverage ${cov:-?} edges, corpus $(ls "$corpus" | wc -l) inputs"
  else
    echo "fuzz $target: FAILED (see $log; inputs in $WORK/artifacts)"; tail -30 "$log"; status=1
  fi
done
exit $status
