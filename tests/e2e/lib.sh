# Helpers for the shell tests of the built binary. Source it; $1 of the test is the binary.
# Everything runs on loopback with ports chosen by the kernel (port 0), bounded in time.
set -euo pipefail

SEXTANT=${1:?usage: $0 path/to/sextant}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# wait_for_log FILE REGEX [SECONDS]: waits until a line of FILE matches; prints the line.
wait_for_log() {
  local file=$1 re=$2 seconds=${3:-20} i
  for ((i = 0; i < seconds * 10; i++)); do
    if grep -E -m1 "$re" "$file" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "--- $file" >&2; cat "$file" >&2 || true
  fail "no line matching /$re/ in $file after ${seconds}s"
}

# addr_from_log FILE ROLE: the addr= of the "listening" line for ROLE.
addr_from_log() {
  wait_for_log "$1" "msg=listening role=$2 addr=" | sed -E 's/.* addr=([^ ]+).*/\1/'
}

# expect_exit CODE CMD...: runs CMD, fails unless it exits with CODE; its output is in $OUT.
expect_exit() {
  local want=$1; shift
  set +e
  OUT=$("$@" 2>&1)
  local got=$?
  set -e
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, want $want; output: $OUT"
}

# start_local ARGS...: starts `sextant local` on free ports; sets LOCAL_PID, SERVER, COLLECTOR.
start_local() {
  "$SEXTANT" local --listen=127.0.0.1:0 --collector-listen=127.0.0.1:0 \
    --data-dir="$WORK/data" "$@" >"$WORK/local.log" 2>&1 &
  LOCAL_PID=$!
  PIDS+=("$LOCAL_PID")
  SERVER=$(addr_from_log "$WORK/local.log" server)
  COLLECTOR=$(addr_from_log "$WORK/local.log" collector)
  wait_for_log "$WORK/local.log" "msg=ready" >/dev/null
}
