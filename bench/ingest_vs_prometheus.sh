#!/usr/bin/env bash
# remote_write ingest on this machine: `sextant server` vs Prometheus (Debian's 2.42 with
# --web.enable-remote-write-receiver), fed the same node_exporter-like data by
# remote_write_loadgen (bench/node_data.h), one peer at a time, on loopback.
#
# Per peer: samples/s as the loadgen measured it (all rounds; and later/s, the rounds after
# the first, which creates the series); the peer's CPU time per sample during ingest (steadier
# than samples/s on a shared machine, where the loadgen runs on the same cores); resident memory
# (VmRSS) after ingest minus the idle process's, per active series; data directory bytes per
# sample (WAL etc.); and what the peer's /metrics tells: head series, head chunks, and for
# Sextant the encoded bytes of its head chunks per appended sample (Prometheus 2.42 does not
# export chunk bytes). Each peer's samples_appended_total is checked against what was sent.
#
# usage: bench/ingest_vs_prometheus.sh SEXTANT_BINARY
# env:   SERIES (100000), SAMPLES (30 per series), SENDERS (4), BATCH (2000),
#        PEERS ("prometheus sextant"), LOADGEN (default: bench/remote_write_loadgen next to
#        the sextant binary's build tree, else build/bench/remote_write_loadgen),
#        PROMETHEUS (prometheus), TIME_LIMIT (0: none), KEEP=1 keeps the work directory.
set -euo pipefail
SEXTANT=${1:-}
PEERS=${PEERS:-prometheus sextant}
SERIES=${SERIES:-100000}
SAMPLES=${SAMPLES:-30}
SENDERS=${SENDERS:-4}
BATCH=${BATCH:-2000}
TIME_LIMIT=${TIME_LIMIT:-0}
PROMETHEUS=${PROMETHEUS:-prometheus}

if [[ " $PEERS " == *" sextant "* ]]; then
  [ -n "$SEXTANT" ] || { echo "usage: $0 SEXTANT_BINARY (or PEERS=prometheus $0)" >&2; exit 2; }
  [ -x "$SEXTANT" ] || { echo "not an executable: $SEXTANT" >&2; exit 2; }
fi
if [ -z "${LOADGEN:-}" ]; then
  for c in ${SEXTANT:+"$(dirname "$SEXTANT")/bench/remote_write_loadgen"} \
           "$(dirname "$0")/../build/bench/remote_write_loadgen"; do
    [ -x "$c" ] && { LOADGEN=$c; break; }
  done
fi
[ -x "${LOADGEN:-}" ] || { echo "remote_write_loadgen not found: set LOADGEN" >&2; exit 2; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port, TCK, cpu_ticks, status_kb
source "$(dirname "$0")/lib.sh"
# metric URL NAME: the sum of NAME's samples (no labels or any), "" when absent.
metric() {
  curl -sf "$1/metrics" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 {s += $NF; f = 1}
    END {if (f) printf "%.0f", s}'
}
http_code() { curl -s -o /dev/null -w '%{http_code}' "$1" || true; }

# wait_ready PID BASE LOG: until /-/ready answers 200 (or, where it is 404, /metrics does);
# fails with the log's tail if the process exits or 60 s pass.
wait_ready() {
  local pid=$1 base=$2 log=$3
  for _ in $(seq 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "FAILED: $4 exited before it was ready; last log lines:" >&2
      tail -20 "$log" >&2
      return 1
    fi
    case $(http_code "$base/-/ready") in
      200) return 0 ;;
      404) [ "$(http_code "$base/metrics")" = 200 ] && return 0 ;;
    esac
    sleep 0.1
  done
  echo "FAILED: $4 not ready at $base/-/ready after 60 s; last log lines:" >&2
  tail -20 "$log" >&2
  return 1
}

# run_peer NAME: starts the peer, measures it, stops it; appends a row to $WORK/results.
run_peer() {
  local name=$1 port; port=$(free_port)
  local base="http://127.0.0.1:$port" data="$WORK/$name-data" log="$WORK/$name.log"
  mkdir -p "$data"
  case $name in
    prometheus)
      printf 'global:\n  scrape_interval: 15s\n' >"$WORK/prometheus.yml"
      "$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$data" \
        --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver \
        >"$log" 2>&1 &
      ;;
    sextant)
      "$SEXTANT" server --listen="127.0.0.1:$port" --data-dir="$data" >"$log" 2>&1 &
      ;;
    *) echo "unknown peer $name" >&2; return 2 ;;
  esac
  local pid=$!
  PIDS+=("$pid")
  wait_ready "$pid" "$base" "$log" "$name" || return 1
  sleep 2  # let start-up work settle before the idle baseline
  local rss0 cpu0; rss0=$(status_kb "$pid" VmRSS); cpu0=$(cpu_ticks "$pid")

  echo "== $name (pid $pid, $base): loadgen $SERIES series x $SAMPLES samples" >&2
  local out
  if ! out=$("$LOADGEN" --url="$base/api/v1/write" --series="$SERIES" \
      --samples-per-series="$SAMPLES" --senders="$SENDERS" --batch-series="$BATCH" \
      --time-limit-s="$TIME_LIMIT" 2>"$WORK/$name-loadgen.err"); then
    echo "FAILED: loadgen against $name: $out" >&2
    cat "$WORK/$name-loadgen.err" >&2
    return 1
  fi
  echo "$out" >&2
  kill -0 "$pid" 2>/dev/null || { echo "FAILED: $name died during ingest" >&2; tail -20 "$log" >&2; return 1; }
  local rss1 cpu1; rss1=$(status_kb "$pid" VmRSS); cpu1=$(cpu_ticks "$pid")
  local sps later samples
  sps=$(sed -nE 's/.* samples_per_second=([0-9.]+).*/\1/p' <<<"$out")
  later=$(sed -nE 's/.*later_rounds_samples_per_second=([0-9.]+).*/\1/p' <<<"$out")
  samples=$(sed -nE 's/^samples=([0-9]+).*/\1/p' <<<"$out")

  local series chunks chunk_bytes appended
  case $name in
    prometheus)
      series=$(metric "$base" prometheus_tsdb_head_series)
      chunks=$(metric "$base" prometheus_tsdb_head_chunks)
      appended=$(metric "$base" prometheus_tsdb_head_samples_appended_total)
      chunk_bytes=""
      ;;
    sextant)
      series=$(metric "$base" sextant_tsdb_head_series)
      chunks=$(metric "$base" sextant_tsdb_head_chunks)
      appended=$(metric "$base" sextant_tsdb_head_samples_appended_total)
      chunk_bytes=$(metric "$base" sextant_tsdb_head_chunk_bytes)
      ;;
  esac
  if [ -z "$series" ]; then
    echo "WARNING: $name's /metrics has no head series gauge; memory per series uses the" \
      "loadgen's series count" >&2
    grep -q 'truncated=0' <<<"$out" && series=$SERIES
  fi
  if [ -n "$appended" ] && [ "$appended" != "$samples" ]; then
    echo "WARNING: $name reports $appended samples appended, the loadgen sent $samples" >&2
  fi
  local disk; disk=$(du -sb "$data" | cut -f1)
  echo "$name sps=$sps later=$later samples=$samples cpu_s=$(awk -v d=$((cpu1 - cpu0)) -v t="$TCK" 'BEGIN {printf "%.2f", d / t}') rss0=$rss0 rss1=$rss1 series=${series:-?} chunks=${chunks:-?} chunk_bytes=${chunk_bytes:-?} appended=${appended:-?} disk=$disk" >>"$WORK/results"

  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

: >"$WORK/results"
status=0
for peer in $PEERS; do
  run_peer "$peer" || status=1
done

echo
awk '
function kv(k,   i, a) { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) return a[2] } return "?" }
function num(x) { return x != "?" && x != "" }
BEGIN {
  printf "%-11s %10s %10s %11s %9s %9s %9s %9s %14s %13s %12s\n", "peer", "samples/s", \
    "later/s", "cpu_us/smpl", "series", \
    "chunks", "RSS0_MB", "dRSS_MB", "dRSS_B/series", "chunk_B/smpl", "disk_B/smpl"
}
{
  name = $1; sps[name] = kv("sps"); series = kv("series"); d = kv("rss1") - kv("rss0")
  per[name] = (num(series) && series > 0) ? d * 1024 / series : "?"
  cb = kv("chunk_bytes"); ap = kv("appended"); sm = kv("samples")
  bps = (num(cb) && num(ap) && ap > 0) ? sprintf("%.2f", cb / ap) : "n/a"
  disk = (num(sm) && sm > 0) ? sprintf("%.2f", kv("disk") / sm) : "?"
  cpu = (num(sm) && sm > 0) ? sprintf("%.2f", kv("cpu_s") * 1e6 / sm) : "?"
  printf "%-11s %10.0f %10.0f %11s %9s %9s %9.1f %9.1f %14s %13s %12s\n", name, sps[name], \
    kv("later"), cpu, series, \
    kv("chunks"), kv("rss0") / 1024, d / 1024, \
    (per[name] == "?" ? "?" : sprintf("%.0f", per[name])), bps, disk
}
END {
  if (("sextant" in sps) && ("prometheus" in sps)) {
    printf "sextant/prometheus: samples/s %.2f", sps["sextant"] / sps["prometheus"]
    if (per["sextant"] != "?" && per["prometheus"] != "?" && per["prometheus"] > 0)
      printf ", memory per series %.2f", per["sextant"] / per["prometheus"]
    printf "\n"
  }
}' "$WORK/results"
exit $status
