#!/usr/bin/env bash
# PromQL query latency on this machine: `sextant server` vs Prometheus (Debian's 2.42), both
# holding the same data in the same run: a copy of one block written by bench/promql_datagen
# (bench/promql_data.h, BenchSeries: TARGETS targets x 50 series = 10,000 series by default,
# HOURS hours at a 15 s interval, including a 10-bucket latency histogram and an info metric).
#
# Typical dashboard range queries over the whole range at a 15 s step, each run WARMUP times
# untimed and then RUNS times per peer, the peers alternating; the table gives the median
# latency (curl's time_total, on loopback) of each peer, the ratio ours / Prometheus's (the
# target is <= 0.5), the CPU time each process spent per run (steadier than latency on a shared
# machine), the series each answered (they should be equal), and each peer's peak
# resident memory (VmRSS sampled every 50 ms) while that query ran. Below it, each peer's peak
# VmRSS over all the queries, its VmRSS before them, and VmHWM (peak since start).
#
# usage: bench/promql_vs_prometheus.sh SEXTANT_BINARY
# env:   TARGETS (200), HOURS (6), RUNS (5), WARMUP (1), PEERS ("prometheus sextant"),
#        DATAGEN (default: bench/promql_datagen next to the sextant binary's build tree, else
#        build/bench/promql_datagen), PROMETHEUS (prometheus), KEEP=1 keeps the work directory.
set -euo pipefail
SEXTANT=${1:-}
PEERS=${PEERS:-prometheus sextant}
TARGETS=${TARGETS:-200}
HOURS=${HOURS:-6}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
PROMETHEUS=${PROMETHEUS:-prometheus}
STEP=15

if [[ " $PEERS " == *" sextant "* ]]; then
  [ -n "$SEXTANT" ] || { echo "usage: $0 SEXTANT_BINARY (or PEERS=prometheus $0)" >&2; exit 2; }
  [ -x "$SEXTANT" ] || { echo "not an executable: $SEXTANT" >&2; exit 2; }
fi
if [ -z "${DATAGEN:-}" ]; then
  for c in ${SEXTANT:+"$(dirname "$SEXTANT")/bench/promql_datagen"} \
           "$(dirname "$0")/../build/bench/promql_datagen"; do
    [ -x "$c" ] && { DATAGEN=$c; break; }
  done
fi
[ -x "${DATAGEN:-}" ] || { echo "promql_datagen not found: set DATAGEN" >&2; exit 2; }

QUERIES=(
  'sum by (job) (rate(http_requests_total[5m]))'
  'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))'
  'topk(10, rate(http_requests_total[5m]))'
  'sum by (team) (rate(http_requests_total[5m]) * on (job, instance) group_left (team) service_info)'
)

WORK=$(mktemp -d)
PIDS=()
SAMPLER=""
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port, TCK, cpu_ticks, status_kb
source "$(dirname "$0")/lib.sh"

# wait_ready PID BASE LOG NAME: until BASE answers the query `1` with 200; fails with the log's
# tail if the process exits or 60 s pass.
wait_ready() {
  local pid=$1 base=$2 log=$3
  for _ in $(seq 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "FAILED: $4 exited before it was ready; last log lines:" >&2
      tail -20 "$log" >&2
      return 1
    fi
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/v1/query?query=1" || true)" = 200 ] &&
      return 0
    sleep 0.1
  done
  echo "FAILED: $4 does not answer $base/api/v1/query after 60 s; last log lines:" >&2
  tail -20 "$log" >&2
  return 1
}

echo "== generating $TARGETS targets x 50 series, ${HOURS}h at ${STEP}s" >&2
gen=$("$DATAGEN" --profile=bench --targets="$TARGETS" --hours="$HOURS" --out="$WORK/data")
echo "$gen" >&2
START_MS=$(sed -nE 's/.*start_ms=([0-9]+).*/\1/p' <<<"$gen")
END_MS=$(sed -nE 's/.*end_ms=([0-9]+).*/\1/p' <<<"$gen")
SERIES=$(sed -nE 's/^series=([0-9]+).*/\1/p' <<<"$gen")
START=$((START_MS / 1000))
END=$((END_MS / 1000 - STEP))

declare -A BASE PID
for peer in $PEERS; do
  port=$(free_port)
  BASE[$peer]="http://127.0.0.1:$port"
  cp -r "$WORK/data" "$WORK/$peer-data"
  case $peer in
    prometheus)
      printf 'global:\n  scrape_interval: 15s\n' >"$WORK/prometheus.yml"
      "$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/$peer-data" \
        --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" \
        >"$WORK/$peer.log" 2>&1 &
      ;;
    sextant)
      "$SEXTANT" server --listen="127.0.0.1:$port" --data-dir="$WORK/$peer-data" \
        >"$WORK/$peer.log" 2>&1 &
      ;;
    *) echo "unknown peer $peer" >&2; exit 2 ;;
  esac
  PID[$peer]=$!
  PIDS+=("$!")
done
for peer in $PEERS; do
  wait_ready "${PID[$peer]}" "${BASE[$peer]}" "$WORK/$peer.log" "$peer"
  # Both must hold all of the data.
  n=$(curl -s --get --data-urlencode 'query=count({__name__=~".+"})' \
    --data-urlencode "time=$END" "${BASE[$peer]}/api/v1/query" | sed -nE 's/.*,"([0-9]+)"\].*/\1/p')
  [ "$n" = "$SERIES" ] || echo "WARNING: $peer counts ${n:-no} series at the end, generated $SERIES" >&2
done
sleep 1
declare -A RSS0
for peer in $PEERS; do RSS0[$peer]=$(status_kb "${PID[$peer]}" VmRSS); done

# Each peer's VmRSS every 50 ms while the queries run, one line each in $WORK/rss-PEER.
for peer in $PEERS; do : >"$WORK/rss-$peer"; done
(
  while true; do
    for peer in $PEERS; do
      status_kb "${PID[$peer]}" VmRSS >>"$WORK/rss-$peer" 2>/dev/null || true
    done
    sleep 0.05
  done
) &
SAMPLER=$!
# peak_since PEER LINE: the largest VmRSS (kB) sampled since line LINE of $WORK/rss-PEER.
peak_since() { tail -n "+$(($2 + 1))" "$WORK/rss-$1" | sort -n | tail -1; }

# run QUERY PEER: prints "seconds series" for one range query; fails on a non-200 answer.
run() {
  local out code
  out=$(curl -s -o "$WORK/answer" -w '%{http_code} %{time_total}' --get \
    --data-urlencode "query=$1" --data-urlencode "start=$START" --data-urlencode "end=$END" \
    --data-urlencode "step=$STEP" "${BASE[$2]}/api/v1/query_range")
  code=${out%% *}
  if [ "$code" != 200 ]; then
    echo "FAILED: $2 answered HTTP $code to $1: $(head -c 300 "$WORK/answer")" >&2
    return 1
  fi
  echo "${out#* } $(grep -o '"metric":' "$WORK/answer" | wc -l)"
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

status=0
: >"$WORK/results"
for i in "${!QUERIES[@]}"; do
  q=${QUERIES[$i]}
  echo "== Q$((i + 1)): $q" >&2
  declare -A from cpu0
  for peer in $PEERS; do
    from[$peer]=$(wc -l <"$WORK/rss-$peer")
    for _ in $(seq "$WARMUP"); do run "$q" "$peer" >/dev/null || status=1; done
    : >"$WORK/times-$peer"
    cpu0[$peer]=$(cpu_ticks "${PID[$peer]}")
  done
  for _ in $(seq "$RUNS"); do
    for peer in $PEERS; do
      if r=$(run "$q" "$peer"); then
        echo "${r% *}" >>"$WORK/times-$peer"
        echo "${r#* }" >"$WORK/series-$peer"
      else
        status=1
      fi
    done
  done
  line="Q$((i + 1))"
  for peer in $PEERS; do
    peak=$(peak_since "$peer" "${from[$peer]}")
    cpu=$(awk -v d=$(($(cpu_ticks "${PID[$peer]}") - cpu0[$peer])) -v t="$TCK" -v n="$RUNS" \
      'BEGIN {printf "%.3f", d / t / n}')
    if [ -s "$WORK/times-$peer" ]; then
      line="$line $peer=$(median <"$WORK/times-$peer"):$(cat "$WORK/series-$peer"):${peak:-0}:$cpu"
    else
      line="$line $peer=error:-:${peak:-0}:$cpu"
    fi
  done
  echo "$line" >>"$WORK/results"
done
kill "$SAMPLER" 2>/dev/null || true
wait "$SAMPLER" 2>/dev/null || true
SAMPLER=""

echo
printf '%s series, %sh, step %ss, median of %s runs after %s warm-up; latency in ms\n' \
  "$SERIES" "$HOURS" "$STEP" "$RUNS" "$WARMUP"
printf '%-4s %9s %10s %6s %9s %10s %6s %9s %11s %11s  %s\n' "" "prom_ms" "sextant_ms" \
  "ratio" "prom_cpu" "sextant_cpu" "ratio" "series" "prom_RSS" "sextant_RSS" "query"
while read -r id rest; do
  p=""; s=""; pn="-"; sn="-"; pm=""; sm=""; pc=""; sc=""
  for kv in $rest; do
    peer=${kv%%=*}; v=${kv#*=}
    IFS=: read -r t n m c <<<"$v"
    case $peer in
      prometheus) p=$t; pn=$n; pm=$m; pc=$c ;;
      sextant) s=$t; sn=$n; sm=$m; sc=$c ;;
    esac
  done
  idx=${id#Q}
  awk -v id="$id" -v q="${QUERIES[$((idx - 1))]}" -v p="$p" -v s="$s" -v pn="$pn" -v sn="$sn" \
    -v pm="$pm" -v sm="$sm" -v pc="$pc" -v sc="$sc" 'BEGIN {
    ps = (p == "" || p == "error") ? "-" : sprintf("%.1f", p * 1000)
    ss = (s == "" || s == "error") ? "-" : sprintf("%.1f", s * 1000)
    r = (ps != "-" && ss != "-" && p > 0) ? sprintf("%.2f", s / p) : "-"
    pcs = pc == "" ? "-" : sprintf("%.1f", pc * 1000)
    scs = sc == "" ? "-" : sprintf("%.1f", sc * 1000)
    rc = (pc != "" && sc != "" && pc > 0) ? sprintf("%.2f", sc / pc) : "-"
    pr = pm == "" ? "-" : sprintf("%.0f MB", pm / 1024)
    sr = sm == "" ? "-" : sprintf("%.0f MB", sm / 1024)
    printf "%-4s %9s %10s %6s %9s %10s %6s %9s %11s %11s  %s\n", id, ps, ss, r, pcs, scs, rc, \
      pn "/" sn, pr, sr, q
  }'
done <"$WORK/results"
echo "(ms: median latency; cpu: the process's CPU ms per run, mean; RSS: each peer's peak VmRSS"
echo " while that query ran, warm-up included)"
echo
printf '%-11s %16s %16s %12s\n' "peer" "peak_RSS_MB" "RSS_before_MB" "VmHWM_MB"
for peer in $PEERS; do
  peak=$(sort -n "$WORK/rss-$peer" | tail -1)
  hwm=$(status_kb "${PID[$peer]}" VmHWM)
  awk -v n="$peer" -v a="$peak" -v b="${RSS0[$peer]}" -v c="$hwm" \
    'BEGIN {printf "%-11s %16.1f %16.1f %12.1f\n", n, a / 1024, b / 1024, c / 1024}'
done
exit $status
