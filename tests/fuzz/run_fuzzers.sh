#!/usr/bin/env bash
# Runs every built fuzz target in DIR for $FUZZ_SECONDS (default 30) from its seed corpus in
# tests/fuzz/corpus/<name>/ (name = target without _fuzz). New inputs go to a temporary
# directory, so the committed corpus stays as it is. Exits non-zero when a target finds a crash;
# the crashing input is left in the working directory as crash-*.
set -euo pipefail
dir=$1
seconds=${FUZZ_SECONDS:-30}
src=$(cd "$(dirname "$0")" && pwd)
status=0
for target in "$dir"/*_fuzz; do
  [ -x "$target" ] || continue
  name=$(basename "$target" _fuzz)
  work=$(mktemp -d)
  echo "fuzz: $name for ${seconds}s"
  if ! "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      "$work" "$src/corpus/$name" 2>"$work.log"; then
    echo "fuzz: $name FAILED"; tail -40 "$work.log"; status=1
  else
    grep -E "stat::number_of_executed_units|Done" "$work.log" | tail -2 || true
  fi
  rm -rf "$work" "$work.log"
done
exit $status
