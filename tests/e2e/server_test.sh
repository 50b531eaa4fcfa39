# `sextant server`: starts on an empty data directory, answers remote_write's error cases with
# the right codes, refuses a second process on the same directory, stops cleanly on SIGTERM and
# starts again on the data it left.
source "$(dirname "$0")/lib.sh"

start_server() {  # start_server LOG
  LOG=$1
  "$SEXTANT" server --listen=127.0.0.1:0 --data-dir="$WORK/data" >"$LOG" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  SERVER=$(addr_from_log "$LOG" server)
  wait_for_log "$LOG" "msg=ready role=server" >/dev/null
}

start_server "$WORK/server.log"
pass "server started on $SERVER"
[ -d "$WORK/data/wal" ] || fail "no WAL directory"
curl -fsS --max-time 5 "http://$SERVER/-/ready" | grep -q "Ready" || fail "/-/ready"
metrics=$(curl -fsS --max-time 5 "http://$SERVER/metrics")
for m in sextant_tsdb_head_series sextant_tsdb_blocks sextant_tsdb_head_samples_appended_total \
  sextant_tsdb_wal_fsync_duration_seconds sextant_remote_write_samples_received_total; do
  grep -q "^$m" <<<"$metrics" || fail "no $m in /metrics"
done
grep -q '^sextant_build_info{.*role="server".*} 1' <<<"$metrics" || fail "no build info"
pass "storage metrics served"

# The Prometheus query API: Grafana's health check, a form POST, an error, build info.
api() {  # api PATH [CURL ARGS...]: prints the status code; the body is in $WORK/resp
  local path=$1; shift
  curl -s -o "$WORK/resp" -w '%{http_code}' --max-time 5 "$@" "http://$SERVER/api/v1/$path"
}
code=$(api 'query?query=1%2B1&time=4')
[ "$code" = 200 ] || fail "health check answered $code: $(cat "$WORK/resp")"
[ "$(cat "$WORK/resp")" = '{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}' ] ||
  fail "health check body: $(cat "$WORK/resp")"
code=$(api query_range --data-urlencode 'query=vector(time())' -d start=10 -d end=40 -d step=15s)
[ "$code" = 200 ] || fail "query_range POST answered $code: $(cat "$WORK/resp")"
want='{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[10,"10"],[25,"25"],[40,"40"]]}]}}'
[ "$(cat "$WORK/resp")" = "$want" ] || fail "query_range body: $(cat "$WORK/resp")"
code=$(api 'query?query=sum(')
[ "$code" = 400 ] || fail "bad query answered $code"
grep -q '"errorType":"bad_data","error":"invalid parameter \\"query\\": 1:5: parse error' "$WORK/resp" ||
  fail "bad query body: $(cat "$WORK/resp")"
code=$(api 'label/__name__/values')
[ "$code" = 200 ] && grep -q '"status":"success"' "$WORK/resp" || fail "label values: $code"
code=$(api status/buildinfo)
[ "$code" = 200 ] && grep -q '"version":' "$WORK/resp" || fail "buildinfo: $code"
pass "query API answers as Prometheus's"

post() {  # post CONTENT_TYPE BODY_FILE: prints the status code
  curl -s -o "$WORK/resp" -w '%{http_code}' --max-time 5 -X POST \
    -H "Content-Type: $1" -H "Content-Encoding: snappy" \
    -H "X-Prometheus-Remote-Write-Version: 0.1.0" --data-binary "@$2" "http://$SERVER/api/v1/write"
}
printf 'not snappy at all' >"$WORK/garbage"
code=$(post application/x-protobuf "$WORK/garbage")
[ "$code" = 400 ] || fail "garbage body answered $code: $(cat "$WORK/resp")"
grep -q "snappy" "$WORK/resp" || fail "garbage body message: $(cat "$WORK/resp")"
code=$(post application/json "$WORK/garbage")
[ "$code" = 415 ] || fail "JSON body answered $code"
head -c $((33 * 1024 * 1024)) /dev/zero >"$WORK/big"
code=$(post application/x-protobuf "$WORK/big")
[ "$code" = 413 ] || fail "33 MiB body answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$SERVER/api/v1/write")
[ "$code" = 405 ] || [ "$code" = 404 ] || fail "GET /api/v1/write answered $code"
pass "remote_write error codes: 400, 415, 413"

expect_exit 1 "$SEXTANT" server --listen=127.0.0.1:0 --data-dir="$WORK/data"
grep -q "in use by another process" <<<"$OUT" || fail "second server on the same dir: $OUT"
pass "a second server on the same data directory is refused"

kill -TERM "$SERVER_PID"
set +e; wait "$SERVER_PID"; rc=$?; set -e
[ "$rc" -eq 0 ] || fail "server exited $rc after SIGTERM"
grep -q 'msg=stopped role=server' "$WORK/server.log" || fail "no stopped line"
start_server "$WORK/server2.log"
grep -q 'msg="WAL replay done"' "$WORK/server2.log" || fail "no replay line on restart"
kill -TERM "$SERVER_PID"
set +e; wait "$SERVER_PID"; set -e
if cat "$WORK/server.log" "$WORK/server2.log" |
  grep -v -E '^ts=[0-9T:.-]+Z level=(debug|info|warn|error) msg='; then
  fail "lines above are not logfmt"
fi
pass "clean stop and restart on the same data"
