# Sourced by every benchmark: sets TOKEND to a release tokend, built from this tree unless
# TOKEND_BIN names another build (an earlier commit's, to compare in one run).
if [ -n "${TOKEND_BIN:-}" ]; then
  TOKEND="$TOKEND_BIN"
else
  swift build -c release --product tokend >/dev/null
  TOKEND="$(swift build -c release --show-bin-path)/tokend"
fi
