# `sextant collector` on fixture files under --host-root: --once prints the pass as exposition
# text; the daemon serves it on /metrics, becomes ready after its first pass, keeps passing, and
# stops cleanly on SIGTERM.
source "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)

# The node fixture's /proc and the cgroup v2 fixture's /sys as the host.
mkdir -p "$WORK/host"
ln -s "$SRC/tests/collector/testdata/node/proc" "$WORK/host/proc"
ln -s "$SRC/tests/collector/testdata/cgroup/v2/sys" "$WORK/host/sys"

expect_exit 0 "$SEXTANT" collector --once --host-root="$WORK/host" --remote-write-url= --log-level=error
grep -qx 'node_load1 0.58' <<<"$OUT" || fail "--once: no node_load1 from the fixture: $OUT"
grep -q '^container_memory_working_set_bytes{.*id="/kubepods.slice/' <<<"$OUT" \
  || fail "--once: no container series from the cgroup fixture"
grep -q '^sextant_collector_source_success{source="cgroup"} 1' <<<"$OUT" || fail "--once: cgroup failed"
if command -v promtool >/dev/null; then
  echo "$OUT" | promtool check metrics >"$WORK/lint.txt" 2>&1 || true
  # grep -v succeeds when any line is left: a finding that is not node_exporter's camelCase.
  if grep -v "^node_memory_.* metric names should be written in 'snake_case' not 'camelCase'$" \
      "$WORK/lint.txt" >/dev/null; then
    cat "$WORK/lint.txt" >&2; fail "--once: promtool check metrics"
  fi
fi
pass "--once prints the pass"

expect_exit 2 "$SEXTANT" collector --once --interval=0s
grep -q "collector.interval: must be positive" <<<"$OUT" || fail "interval 0: $OUT"
pass "bad interval is a usage error"

"$SEXTANT" collector --listen=127.0.0.1:0 --host-root="$WORK/host" --interval=100ms \
  --remote-write-url= >"$WORK/collector.log" 2>&1 &
PID=$!
PIDS+=("$PID")
ADDR=$(addr_from_log "$WORK/collector.log" collector)
wait_for_log "$WORK/collector.log" "msg=ready role=collector" >/dev/null
[ "$(curl -fsS --max-time 5 "http://$ADDR/-/ready")" = "Sextant is Ready." ] || fail "not ready"
metrics=$(curl -fsS --max-time 5 "http://$ADDR/metrics") || fail "/metrics"
grep -qx 'node_load1 0.58' <<<"$metrics" || fail "/metrics: no node_load1"
grep -q '^sextant_build_info{.*role="collector"' <<<"$metrics" || fail "/metrics: no build info"
passes() { curl -fsS --max-time 5 "http://$ADDR/metrics" | sed -n 's/^sextant_collector_passes_total //p'; }
first=$(passes)
for _ in $(seq 50); do [ "$(passes)" -gt "$first" ] && break; sleep 0.1; done
[ "$(passes)" -gt "$first" ] || fail "passes_total did not grow from $first"
pass "daemon serves passes on /metrics ($ADDR)"

kill -TERM "$PID"
set +e; wait "$PID"; rc=$?; set -e
[ "$rc" -eq 0 ] || fail "collector exited $rc after SIGTERM"
grep -q 'msg=stopped role=collector' "$WORK/collector.log" || fail "no stopped line"
pass "SIGTERM stops it"
