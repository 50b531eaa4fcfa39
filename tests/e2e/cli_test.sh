# The command line: help on every level, version, the role not built yet, usage errors.
source "$(dirname "$0")/lib.sh"

expect_exit 0 "$SEXTANT" --help
top_help=$OUT
for cmd in collector server local replay version; do
  echo "$top_help" | grep "^  $cmd " >/dev/null || fail "top help lacks $cmd"
  expect_exit 0 "$SEXTANT" "$cmd" --help
  echo "$OUT" | grep "Usage: sextant $cmd" >/dev/null || fail "$cmd --help: $OUT"
done
expect_exit 0 "$SEXTANT" collector --help
echo "$OUT" | grep -- "--remote-write-url=VALUE (repeatable)" >/dev/null || fail "collector help: $OUT"
pass "help on every level"

expect_exit 0 "$SEXTANT" version
echo "$OUT" | grep -qE '^sextant, version [0-9]+\.[0-9]+\.[0-9]+ \(revision: ' || fail "version: $OUT"
pass "version"

expect_exit 2 "$SEXTANT" replay
echo "$OUT" | grep -q -- "--policy is required" || fail "replay: $OUT"
pass "replay without its files is a usage error"

expect_exit 2 "$SEXTANT"
expect_exit 2 "$SEXTANT" frobnicate
echo "$OUT" | grep 'unknown command "frobnicate"' >/dev/null || fail "unknown command: $OUT"
expect_exit 2 "$SEXTANT" local --data-dri=x
echo "$OUT" | grep "unknown flag --data-dri for 'sextant local'" >/dev/null || fail "unknown flag: $OUT"
expect_exit 2 "$SEXTANT" local --log-level=loud
echo "$OUT" | grep 'unknown log level "loud"' >/dev/null || fail "bad log level: $OUT"
printf 'server:\n  listen: ":0"\n  retension: {time: 1d}\n' >"$WORK/bad.yaml"
expect_exit 2 "$SEXTANT" local --config="$WORK/bad.yaml"
echo "$OUT" | grep -q "bad.yaml:3:3: server.retension: unknown key (did you mean \"retention\"?)" \
  || fail "config typo: $OUT"
pass "usage errors name what is wrong"

# A port already taken is a clear runtime failure (exit 1), not a crash.
start_local
expect_exit 1 "$SEXTANT" local --listen="$SERVER" --collector-listen=127.0.0.1:0
echo "$OUT" | grep "cannot start" >/dev/null || fail "busy port: $OUT"
pass "busy port reported"

# A kubeconfig that cannot be used stops the start with a clear message.
expect_exit 1 "$SEXTANT" local --listen=127.0.0.1:0 --collector-listen=127.0.0.1:0 --kubeconfig="$WORK/none"
echo "$OUT" | grep "kubeconfig: cannot read $WORK/none" >/dev/null || fail "missing kubeconfig: $OUT"
pass "unusable kubeconfig reported"
