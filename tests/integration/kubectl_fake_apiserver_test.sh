# The real kubectl against the fake API server (tests/fakes/fake_apiserver) over TLS with a
# bearer token: get pods -A, scale a deployment, read it back with jsonpath, and get --raw a
# ScalingPolicy. Usage: bash kubectl_fake_apiserver_test.sh path/to/build/sextant
source "$(dirname "$0")/../e2e/lib.sh"
command -v kubectl >/dev/null || fail "kubectl is not installed"

FAKE="$(dirname "$SEXTANT")/tests/fake_apiserver"
[ -x "$FAKE" ] || fail "no fake apiserver binary at $FAKE"
TLS="$(cd "$(dirname "$0")/../testdata/tls" && pwd)"
TOKEN=kubectl-test-token
export KUBECONFIG="$WORK/kubeconfig"
export HOME="$WORK"  # kubectl's discovery cache goes under $HOME/.kube

"$FAKE" --listen=127.0.0.1:0 --tls --cert="$TLS/server.pem" --key="$TLS/server-key.pem" \
  --ca="$TLS/ca.pem" --token="$TOKEN" --kubeconfig="$KUBECONFIG" >"$WORK/fake.out" 2>"$WORK/fake.err" &
PIDS+=("$!")
URL=$(wait_for_log "$WORK/fake.out" '^https://127\.0\.0\.1:[0-9]+$' 20)
pass "fake apiserver listening at $URL"

k() { timeout 30 kubectl --request-timeout=10s "$@"; }

expect_exit 0 k get pods -A
grep -q 'web-5d9c7b8f6-abcde' <<<"$OUT" || fail "kubectl get pods -A: no web pod in: $OUT"
grep -q 'default' <<<"$OUT" || fail "kubectl get pods -A: no namespace column in: $OUT"
pass "kubectl get pods -A lists the seeded pod"

expect_exit 0 k scale deployment web --replicas=3
grep -q 'scaled' <<<"$OUT" || fail "kubectl scale: unexpected output: $OUT"
pass "kubectl scale deployment web --replicas=3: $OUT"

expect_exit 0 k get deployment web -o 'jsonpath={.spec.replicas}'
[ "$OUT" = 3 ] || fail "spec.replicas after scale: got '$OUT', want 3"
pass "kubectl get deployment web -o jsonpath shows 3 replicas"

expect_exit 0 k get --raw /apis/autoscaling.sextant.dev/v1alpha1/namespaces/default/scalingpolicies/web
grep -q '"kind":"ScalingPolicy"' <<<"$OUT" || fail "get --raw ScalingPolicy: $OUT"
grep -q '"maxReplicas":10' <<<"$OUT" || fail "get --raw ScalingPolicy: no spec in $OUT"
pass "kubectl get --raw returns the ScalingPolicy"

expect_exit 0 k get sp
grep -q '^web ' <<<"$OUT" || fail "kubectl get sp (short name of scalingpolicies): $OUT"
pass "kubectl get sp lists the ScalingPolicy through discovery"

expect_exit 0 k logs web-5d9c7b8f6-abcde --tail=1
[ "$OUT" = serving ] || fail "kubectl logs --tail=1: got '$OUT'"
expect_exit 0 k logs web-5d9c7b8f6-abcde --previous
[ "$OUT" = crashed ] || fail "kubectl logs --previous: got '$OUT'"
pass "kubectl logs (tail, previous)"

# A wrong token is refused with a 401 that kubectl reports.
expect_exit 1 k --token=wrong get pods
grep -qi 'unauthorized\|must be logged in' <<<"$OUT" || fail "wrong token: unexpected output: $OUT"
pass "kubectl with a wrong token is refused"
