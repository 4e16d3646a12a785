#!/usr/bin/env bash
# How fast `tokend audit verify` checks a log, beside `sha256sum` of the same file (the speed at
# which the disk, through the page cache, hands the bytes over and one core hashes them):
#   sha256sum       the file hashed once, one core
#   verify          tokend audit verify FILE (the file cut into one stretch per core)
#   verify-1core    the same pinned to one core (taskset): what the stretches add
#   other           with OTHER_BIN set: that build's verify (an earlier commit's), in the same run
# and with WITH_DATABASE=1, `audit verify --database` of the same chain stored in a throwaway
# PostgreSQL (as instance "bench-N"), its time and its peak resident memory at RECORDS and at a
# tenth of them: memory that does not grow with the chain is the point.
# Each is run ROUNDS times (default 3) after one warm-up read; the medians are printed, with
# records/s and MB/s. The log is RECORDS (default 275,000) token.issued records in tokend's line
# format, about 440 bytes each, chained with SHA-256 as an unkeyed log is.
#
#   Benchmarks/verify.sh      (env: RECORDS=275000 ROUNDS=3 TOKEND_BIN= OTHER_BIN= WITH_DATABASE= PGPORT=55434)
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS="${RECORDS:-275000}"; ROUNDS="${ROUNDS:-3}"
source Benchmarks/tokend-binary.sh
WORK="$(mktemp -d /tmp/tokend-verify.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
LOG="$WORK/audit.jsonl"

generate() {  # generate FILE COUNT [INSTANCE]: a chained log; with INSTANCE, also FILE.csv for COPY
  python3 - "$@" <<'PY'
import hashlib, sys
path, count = sys.argv[1], int(sys.argv[2])
instance = sys.argv[3] if len(sys.argv) > 3 else None
named = '"instance":"%s",' % instance if instance else ""
prev = "0" * 64
with open(path, "wb") as out, open(path + ".csv", "w") if instance else open("/dev/null", "w") as rows:
    for n in range(1, count + 1):
        line = ('{"seq":%d,"time":"2026-12-04T04:08:42.%03dZ",%s"event":"token.issued","request_id":"%032x",'
                '"caller":"web","auth":"api_key","remote":"10.0.%d.%d","identity":"user-%d","grants":["chat","data_sync"],'
                '"ttl":3600,"kid":"2026-11","jti":"%032x","token_sha256":"%s","status":200,"prev":"%s"}'
                % (n, n % 1000, named, n, n % 256, n % 199, n, n * 7919, hashlib.sha256(b"%d" % n).hexdigest(), prev)).encode()
        out.write(line + b"\n")
        if instance: rows.write("%s,%d,\\x%s\n" % (instance, n, line.hex()))
        prev = hashlib.sha256(line).hexdigest()
PY
}
generate "$LOG" "$RECORDS"
BYTES=$(stat -c %s "$LOG")
cat "$LOG" > /dev/null  # in the page cache, as a log just written is

median() {  # median CMD...: seconds, the median of ROUNDS runs
  local times=()
  for _ in $(seq 1 "$ROUNDS"); do
    local start end
    start=$(date +%s.%N); "$@" > /dev/null; end=$(date +%s.%N)
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')")
  done
  printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (ROUNDS + 1) / 2 ))p"
}

report() {  # report NAME SECONDS
  awk -v name="$1" -v s="$2" -v n="$RECORDS" -v b="$BYTES" -v base="${BASE:-$2}" \
    'BEGIN { printf "%-13s %6.3f s  %9.0f records/s  %6.0f MB/s  %.2fx of sha256sum\n", name, s, n / s, b / s / 1e6, base / s }'
}

echo "log: $RECORDS records, $BYTES bytes"
BASE=$(median sha256sum "$LOG"); report sha256sum "$BASE"
report verify "$(median "$TOKEND" audit verify "$LOG")"
report verify-1core "$(median taskset -c 0 "$TOKEND" audit verify "$LOG")"
if [ -n "${OTHER_BIN:-}" ]; then report other "$(median "$OTHER_BIN" audit verify "$LOG")"; fi

[ -n "${WITH_DATABASE:-}" ] || exit 0
PGPORT="${PGPORT:-55434}"
source Benchmarks/throwaway-postgres.sh
"$TOKEND" db migrate --database "$DATABASE" >/dev/null
peak() {  # peak CMD...: "SECONDS KIB", the wall time and the peak resident memory of CMD
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
start = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print("%.3f %d" % (time.monotonic() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
PY
}
for count in $((RECORDS / 10)) "$RECORDS"; do
  instance="bench-$count"  # one chain per size: the table refuses DELETE and TRUNCATE
  generate "$WORK/db.jsonl" "$count" "$instance"
  psql_bench -c "\\copy tokend_audit (instance, seq, line) FROM '$WORK/db.jsonl.csv' WITH (FORMAT csv)" >/dev/null
  for build in "$TOKEND" ${OTHER_BIN:-}; do
    name=verify; [ "$build" = "$TOKEND" ] || name=other
    read -r seconds kib < <(peak "$build" audit verify --database "$DATABASE" --instance "$instance")
    printf '%-13s --database, %7d records: %6.3f s  %9.0f records/s  peak RSS %6.1f MiB\n' \
      "$name" "$count" "$seconds" "$(awk -v n="$count" -v s="$seconds" 'BEGIN { print n / s }')" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')"
  done
done
