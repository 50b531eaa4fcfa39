# The autoscaler end to end: a collector ships its node metrics by remote_write to a server, the
# server runs a ScalingPolicy (from the fake API server, over TLS with a token) on one of them,
# the metric steps up, and the fake API server receives the PUT of the Deployment's /scale. Also
# /api/v1/scaling, the policy's status, the SuccessfulRescale Event and the self-metrics.
source "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
FAKE="$(dirname "$SEXTANT")/tests/fake_apiserver"
[ -x "$FAKE" ] || fail "no fake apiserver binary at $FAKE"
TLS="$SRC/tests/testdata/tls"
TOKEN=autoscaler-e2e-token

"$FAKE" --listen=127.0.0.1:0 --tls --cert="$TLS/server.pem" --key="$TLS/server-key.pem" \
  --ca="$TLS/ca.pem" --token="$TOKEN" --kubeconfig="$WORK/kubeconfig" --no-seed \
  >"$WORK/fake.out" 2>"$WORK/fake.err" &
PIDS+=("$!")
API=$(wait_for_log "$WORK/fake.out" '^https://127\.0\.0\.1:[0-9]+$' 20)
kapi() {  # kapi METHOD PATH [BODY]: a call to the fake API server; the body goes to stdout
  curl -fsS --max-time 10 --cacert "$TLS/ca.pem" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -X "$1" "$API$2" ${3:+--data "$3"}
}
kapi POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}}' >/dev/null
kapi POST /apis/apps/v1/namespaces/default/deployments '{"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"default"},"spec":{"replicas":1,
  "selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},
  "spec":{"containers":[{"name":"web","image":"nginx"}]}}}}' >/dev/null
kapi POST /api/v1/namespaces/default/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1",
  "namespace":"default","labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}' >/dev/null
# As on a real API server, a create drops the status: the kubelet's part is a status patch.
kpatch() {  # kpatch PATH BODY: a merge patch
  curl -fsS --max-time 10 --cacert "$TLS/ca.pem" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/merge-patch+json' -X PATCH "$API$1" --data "$2"
}
kpatch /api/v1/namespaces/default/pods/web-1/status '{"status":{"phase":"Running",
  "startTime":"2026-01-01T00:00:00Z","conditions":[{"type":"Ready","status":"True",
  "lastTransitionTime":"2026-01-01T00:00:10Z"}]}}' >/dev/null
kpatch /apis/apps/v1/namespaces/default/deployments/web/status '{"status":{"replicas":1}}' >/dev/null
# One External metric on a node series: target 1 per the whole Deployment.
kapi POST /apis/autoscaling.sextant.dev/v1alpha1/namespaces/default/scalingpolicies '{
  "apiVersion":"autoscaling.sextant.dev/v1alpha1","kind":"ScalingPolicy",
  "metadata":{"name":"web","namespace":"default"},
  "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},
  "minReplicas":1,"maxReplicas":10,"metrics":[{"type":"External","name":"load",
  "external":{"query":"max(node_load1)","target":{"type":"Value","value":"1"}}}]}}' >/dev/null
pass "fake API server at $API with a Deployment, its pod and a ScalingPolicy"

# The host the collector reads: the node fixture's /proc, with a load average we can change.
mkdir -p "$WORK/host"
cp -r "$SRC/tests/collector/testdata/node/proc" "$WORK/host/proc"
echo "0.50 0.40 0.30 1/100 1234" >"$WORK/host/proc/loadavg"

cat >"$WORK/config.yaml" <<YAML
autoscaler:
  syncInterval: 1s
YAML
"$SEXTANT" server --config="$WORK/config.yaml" --listen=127.0.0.1:0 --data-dir="$WORK/data" \
  --kubeconfig="$WORK/kubeconfig" >"$WORK/server.log" 2>&1 &
PIDS+=("$!")
SERVER=$(addr_from_log "$WORK/server.log" server)
wait_for_log "$WORK/server.log" "msg=ready role=server" >/dev/null
wait_for_log "$WORK/server.log" "msg=\"autoscaler started\"" >/dev/null
"$SEXTANT" collector --listen=127.0.0.1:0 --host-root="$WORK/host" --interval=500ms \
  --remote-write-url="http://$SERVER/api/v1/write" >"$WORK/collector.log" 2>&1 &
PIDS+=("$!")
wait_for_log "$WORK/collector.log" "msg=ready role=collector" >/dev/null
pass "server $SERVER and collector shipping to it"

# Below target: the policy reads the metric and holds one replica.
scaling() { curl -fsS --max-time 5 "http://$SERVER/api/v1/scaling"; }
for ((i = 0; i < 100; i++)); do
  grep -q '"current":"500m"' <<<"$(scaling)" && break
  sleep 0.1
done
grep -q '"current":"500m"' <<<"$(scaling)" || fail "/api/v1/scaling never saw load 0.5: $(scaling)"
[ "$(kapi GET /apis/apps/v1/namespaces/default/deployments/web | grep -o '"replicas":[0-9]*' | head -1)" = '"replicas":1' ] \
  || fail "scaled while the metric was below target"
pass "load 0.5 under a target of 1 keeps 1 replica"

# The step: load 5 against a target of 1 wants 5 pods; the HPA's scale-up limit without a
# behavior block, max(2 x 1, 4), allows 4.
echo "5.00 0.40 0.30 1/100 1234" >"$WORK/host/proc/loadavg"
for ((i = 0; i < 150; i++)); do
  replicas=$(kapi GET /apis/apps/v1/namespaces/default/deployments/web/scale | grep -o '"replicas":[0-9]*' | head -1)
  [ "$replicas" = '"replicas":4' ] && break
  sleep 0.1
done
[ "$replicas" = '"replicas":4' ] || curl -fsS "http://$SERVER/api/v1/scaling" >&2
[ "$replicas" = '"replicas":4' ] || fail "no PUT of 4 replicas after the step; scale: $replicas; log: $(tail -20 "$WORK/server.log")"
pass "the metric step reached the fake API server as a PUT of 4 replicas"

grep -q 'msg="autoscaler: rescaled" policy=default/web target=Deployment/web from=1 to=4' "$WORK/server.log" \
  || fail "no rescale log line: $(grep autoscaler "$WORK/server.log")"
status=$(kapi GET /apis/autoscaling.sextant.dev/v1alpha1/namespaces/default/scalingpolicies/web)
grep -q '"desiredReplicas":4' <<<"$status" || fail "policy status: $status"
grep -q '"reason":"SucceededRescale"' <<<"$status" || fail "policy status conditions: $status"
events=$(kapi GET /api/v1/namespaces/default/events)
grep -q '"reason":"SuccessfulRescale"' <<<"$events" || fail "no SuccessfulRescale event: $events"
grep -q 'New size: 4; reason: external metric load' <<<"$events" || fail "event message: $events"
grep -q '"desiredReplicas":4' <<<"$(scaling)" || fail "/api/v1/scaling: $(scaling)"
metrics=$(curl -fsS --max-time 5 "http://$SERVER/metrics")
grep -q '^sextant_autoscaler_desired_replicas{namespace="default",policy="web"} 4' <<<"$metrics" \
  || fail "self-metrics: $(grep sextant_autoscaler <<<"$metrics")"
grep -q '^sextant_autoscaler_decisions_total{reason="scale_up"} [1-9]' <<<"$metrics" \
  || fail "decisions metric: $(grep sextant_autoscaler_decisions <<<"$metrics")"
pass "status, Event, /api/v1/scaling and self-metrics say 4"
