# `sextant local` serves health, readiness and self-metrics on both listeners and stops cleanly
# on SIGTERM.
source "$(dirname "$0")/lib.sh"

start_local
pass "local started: server=$SERVER collector=$COLLECTOR"

for addr in "$SERVER" "$COLLECTOR"; do
  body=$(curl -fsS --max-time 5 "http://$addr/-/ready") || fail "/-/ready on $addr"
  [ "$body" = "Sextant is Ready." ] || fail "/-/ready body: $body"
  curl -fsS --max-time 5 "http://$addr/-/healthy" | grep "Healthy" >/dev/null || fail "/-/healthy on $addr"
  metrics=$(curl -fsS --max-time 5 "http://$addr/metrics") || fail "/metrics on $addr"
  echo "$metrics" | grep '^sextant_build_info{.*role="local".*} 1' >/dev/null || fail "no build info on $addr"
  echo "$metrics" | grep '^process_resident_memory_bytes ' >/dev/null || fail "no process metrics on $addr"
done
pass "health, readiness and metrics on both listeners"

# The collector ships every pass to the local server, which stores it.
stored=0
for ((i = 0; i < 100; i++)); do
  stored=$(curl -fsS --max-time 5 "http://$SERVER/metrics" |
    sed -nE 's/^sextant_tsdb_head_series ([0-9.e+]+)$/\1/p')
  [ -n "$stored" ] && [ "${stored%%.*}" -gt 0 ] 2>/dev/null && break
  sleep 0.2
done
[ -n "$stored" ] && [ "${stored%%.*}" -gt 0 ] 2>/dev/null || fail "local server stored no series"
pass "collector samples stored by the local server ($stored series)"

# Requests are counted per route in the server's metrics.
curl -fsS --max-time 5 "http://$SERVER/-/healthy" >/dev/null
curl -fsS --max-time 5 "http://$SERVER/metrics" | grep 'sextant_http_requests_total{.*handler="/-/healthy"' >/dev/null \
  || fail "no request counter for /-/healthy"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$SERVER/no/such/path")
[ "$code" = 404 ] || fail "unknown path answered $code"
pass "request metrics and 404"

grep -q 'msg="autoscaler idle"' "$WORK/local.log" || fail "no autoscaler idle line"
kill -TERM "$LOCAL_PID"
set +e; wait "$LOCAL_PID"; rc=$?; set -e
[ "$rc" -eq 0 ] || fail "local exited $rc after SIGTERM"
grep -q 'msg=stopped role=local' "$WORK/local.log" || fail "no stopped line"
# Every log line is logfmt with ts, level and msg.
if grep -v -E '^ts=[0-9T:.-]+Z level=(debug|info|warn|error) msg=' "$WORK/local.log"; then
  fail "lines above are not logfmt"
fi
pass "clean stop on SIGTERM, logfmt lines"
