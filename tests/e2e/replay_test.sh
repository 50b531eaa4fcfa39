# `sextant replay`: the scenarios of tests/testdata/autoscaler give exactly their expected lines
# (worked out by hand in that folder's README); bad input is a clear message and exit 1, a
# usage error exit 2, and nothing on stdout either way.
source "$(dirname "$0")/lib.sh"
DATA=$(cd "$(dirname "$0")/../testdata/autoscaler" && pwd)

# replay CODE ARGS...: runs `sextant replay ARGS`, fails unless it exits with CODE; stdout is in
# $WORK/stdout, stderr in $ERR.
replay() {
  local want=$1; shift
  set +e
  "$SEXTANT" replay "$@" >"$WORK/stdout" 2>"$WORK/stderr"
  local got=$?
  set -e
  ERR=$(cat "$WORK/stderr")
  [ "$got" -eq "$want" ] || fail "replay $* exited $got, want $want; stderr: $ERR"
}

# expect_error CODE MESSAGE ARGS...: exit CODE, stderr exactly "sextant replay: MESSAGE", no
# stdout.
expect_error() {
  local code=$1 message=$2; shift 2
  replay "$code" "$@"
  [ "$ERR" = "sextant replay: $message" ] || fail "replay $*: stderr '$ERR', want 'sextant replay: $message'"
  [ ! -s "$WORK/stdout" ] || fail "replay $*: printed on an error: $(cat "$WORK/stdout")"
}

for scenario in cpu_scale_up_down:cpu external_value:external pods_tolerance:pods \
  default_cpu_failed_first:default; do
  name=${scenario%%:*} policy=${scenario##*:}
  replay 0 --policy="$DATA/${policy}_policy.yaml" --scenario="$DATA/$name.json"
  [ -z "$ERR" ] || fail "$name: stderr: $ERR"
  diff -u "$DATA/$name.expected.jsonl" "$WORK/stdout" >&2 || fail "$name: output differs (- expected, + got)"
  pass "$name gives its expected lines"
done

# The flags as separate words work the same.
replay 0 --policy "$DATA/cpu_policy.yaml" --scenario "$DATA/cpu_scale_up_down.json"
cmp -s "$DATA/cpu_scale_up_down.expected.jsonl" "$WORK/stdout" || fail "flags as separate words"
pass "flags as separate words"

# Usage errors: exit 2.
expect_error 2 "--policy is required (see 'sextant replay --help')" --scenario="$DATA/external_value.json"
expect_error 2 "--scenario (or --from) is required (see 'sextant replay --help')" --policy="$DATA/external_policy.yaml"
expect_error 2 "--policy is required (see 'sextant replay --help')"
expect_error 2 "--from: want how long ago, e.g. -24h, not \"yesterday\" (see 'sextant replay --help')" \
  --policy="$DATA/external_policy.yaml" --from=yesterday
replay 2 --policy="$DATA/external_policy.yaml" --scenario
grep -q "flag --scenario needs a value" <<<"$ERR" || fail "flag without value: $ERR"
pass "usage errors exit 2"

# Stored history (--from): a step every syncSeconds (15 s) over the range, here over an empty
# data directory (no pods, so the target reads as scaled to zero); a missing directory is an
# error naming it.
mkdir "$WORK/data"
replay 0 --policy="$DATA/external_policy.yaml" --from=-5m --data-dir="$WORK/data"
[ "$(wc -l <"$WORK/stdout")" -eq 21 ] || fail "--from=-5m: want 21 lines, got $(cat "$WORK/stdout")"
grep -q '^{"at":300,"currentReplicas":0,' "$WORK/stdout" || fail "--from=-5m: $(tail -1 "$WORK/stdout")"
expect_error 1 "--from: no data directory $WORK/none (see --data-dir)" \
  --policy="$DATA/external_policy.yaml" --from=-1h --data-dir="$WORK/none"
pass "--from replays stored history"

# Unreadable files: exit 1, naming the file.
expect_error 1 "read policy file $WORK/none.yaml: No such file or directory" \
  --policy="$WORK/none.yaml" --scenario="$DATA/external_value.json"
expect_error 1 "read scenario file $WORK/none.json: No such file or directory" \
  --policy="$DATA/external_policy.yaml" --scenario="$WORK/none.json"
expect_error 1 "read scenario file $WORK: not a regular file" \
  --policy="$DATA/external_policy.yaml" --scenario="$WORK"
pass "unreadable files exit 1"

# Bad scenarios: exit 1, naming the file, the step and the field.
bad() {  # bad NAME JSON: writes $WORK/NAME.json
  printf '%s\n' "$2" >"$WORK/$1.json"
}
bad quantity '{"steps":[{"at":0,"scale":{"specReplicas":1},"pods":[{"name":"a","usage":{"cpu":"x"}}]}]}'
expect_error 1 "$WORK/quantity.json: steps[0].pods[0].usage.cpu: not a quantity: \"x\"" \
  --policy="$DATA/cpu_policy.yaml" --scenario="$WORK/quantity.json"
bad option '{"options":{"tolerence":0.2},"steps":[{"at":0,"scale":{"specReplicas":1}}]}'
expect_error 1 "$WORK/option.json: options.tolerence: unknown option (known: tolerance, downscaleStabilizationSeconds, cpuInitializationSeconds, initialReadinessDelaySeconds, metricWindowSeconds, syncSeconds)" \
  --policy="$DATA/cpu_policy.yaml" --scenario="$WORK/option.json"
bad order '{"steps":[{"at":10,"scale":{"specReplicas":1}},{"at":10}]}'
expect_error 1 "$WORK/order.json: steps[1].at: must be after the previous step's (10)" \
  --policy="$DATA/cpu_policy.yaml" --scenario="$WORK/order.json"
bad noscale '{"steps":[{"at":0}]}'
expect_error 1 "$WORK/noscale.json: steps[0].scale: required in the first step (the starting size)" \
  --policy="$DATA/cpu_policy.yaml" --scenario="$WORK/noscale.json"
bad syntax '{"steps":[{"at":0,}]}'
expect_error 1 "$WORK/syntax.json: invalid JSON at offset 18: Missing a name for object member." \
  --policy="$DATA/cpu_policy.yaml" --scenario="$WORK/syntax.json"
bad metric '{"steps":[{"at":0,"scale":{"specReplicas":1},"metrics":{"qeueu":5}}]}'
expect_error 1 "$WORK/metric.json: steps[0].metrics.qeueu: the policy has no External metric named \"qeueu\"" \
  --policy="$DATA/external_policy.yaml" --scenario="$WORK/metric.json"
pass "bad scenarios exit 1 and name the field"

# Bad policy files: exit 1.
{ cat "$DATA/cpu_policy.yaml"; echo "---"; cat "$DATA/external_policy.yaml"; } >"$WORK/two.yaml"
expect_error 1 "$WORK/two.yaml: 2 ScalingPolicy documents found; replay runs exactly one" \
  --policy="$WORK/two.yaml" --scenario="$DATA/cpu_scale_up_down.json"
sed 's/maxReplicas: 10/maxReplicas: 0/' "$DATA/cpu_policy.yaml" >"$WORK/invalid.yaml"
replay 1 --policy="$WORK/invalid.yaml" --scenario="$DATA/cpu_scale_up_down.json"
grep -q "^sextant replay: $WORK/invalid.yaml: .*maxReplicas" <<<"$ERR" || fail "invalid policy: $ERR"
[ ! -s "$WORK/stdout" ] || fail "invalid policy printed lines"
sed 's/kind: Deployment/kind: Rollout/' "$DATA/default_policy.yaml" >"$WORK/rollout.yaml"
expect_error 1 "$WORK/rollout.yaml: spec.scaleTargetRef.apiVersion: required for kind Rollout" \
  --policy="$WORK/rollout.yaml" --scenario="$DATA/cpu_scale_up_down.json"
printf 'kind: ScalingPolicy\n' >"$WORK/shape.yaml"
replay 1 --policy="$WORK/shape.yaml" --scenario="$DATA/cpu_scale_up_down.json"
grep -q "^sextant replay: $WORK/shape.yaml" <<<"$ERR" || fail "policy without apiVersion: $ERR"
pass "bad policies exit 1"
