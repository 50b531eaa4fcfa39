# `promtool check metrics` (Prometheus 2.42 from Debian) finds no problem in the /metrics output
# of both of `sextant local`'s listeners, except, on the collector's, the camelCase names
# node_exporter itself exports (node_memory_MemTotal_bytes, ...; tests/integration/
# node_exporter_test.cc compares the two outputs' findings in full).
source "$(dirname "$0")/../e2e/lib.sh"
command -v promtool >/dev/null || fail "promtool is not installed (scripts/bootstrap installs prometheus)"

start_local
curl -fsS --max-time 5 "http://$SERVER/-/ready" >/dev/null   # so request metrics have samples
for addr in "$SERVER" "$COLLECTOR"; do
  curl -fsS --max-time 5 "http://$addr/metrics" >"$WORK/metrics.txt"
  [ -s "$WORK/metrics.txt" ] || fail "empty /metrics on $addr"
  promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1 || true
  allowed='^node_memory_[A-Za-z0-9_]+ metric names should be written in .snake_case. not .camelCase.$'
  [ "$addr" = "$COLLECTOR" ] || allowed='^$'
  if grep -Ev "$allowed" "$WORK/promtool.out" >/dev/null; then  # any other line
    cat "$WORK/promtool.out" >&2
    fail "promtool check metrics found problems on $addr"
  fi
  if [ "$addr" = "$COLLECTOR" ]; then
    grep -q '^node_cpu_seconds_total{' "$WORK/metrics.txt" || fail "no node series on $addr"
  fi
  pass "promtool check metrics clean on $addr ($(grep -vc '^#' "$WORK/metrics.txt") samples)"
done
