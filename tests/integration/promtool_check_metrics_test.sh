# `promtool check metrics` (Prometheus 2.42 from Debian) finds no problem in the /metrics output
# of both of `sextant local`'s listeners.
source "$(dirname "$0")/../e2e/lib.sh"
command -v promtool >/dev/null || fail "promtool is not installed (scripts/bootstrap installs prometheus)"

start_local
curl -fsS --max-time 5 "http://$SERVER/-/ready" >/dev/null   # so request metrics have samples
for addr in "$SERVER" "$COLLECTOR"; do
  curl -fsS --max-time 5 "http://$addr/metrics" >"$WORK/metrics.txt"
  [ -s "$WORK/metrics.txt" ] || fail "empty /metrics on $addr"
  if ! promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1; then
    cat "$WORK/promtool.out" >&2
    fail "promtool check metrics found problems on $addr"
  fi
  if [ -s "$WORK/promtool.out" ]; then cat "$WORK/promtool.out" >&2; fail "promtool printed lint output"; fi
  pass "promtool check metrics clean on $addr ($(grep -vc '^#' "$WORK/metrics.txt") samples)"
done
