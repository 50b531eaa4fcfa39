#!/usr/bin/env bash
# Side-by-side cost of a collection on this machine: node_exporter (Debian's 1.5) per scrape vs
# `sextant collector` per pass, measured in the same run from /proc/PID/stat (CPU) and
# /proc/PID/status (VmHWM = peak RSS). Both run on loopback; each is scraped N times.
#
# node_exporter is measured twice: with its default collectors (what people deploy) and with
# only the collectors Sextant's node sources replace (cpu, stat, meminfo, loadavg, diskstats,
# filesystem, netdev, pressure, vmstat). Sextant runs its whole pass (node + cgroup + self) every
# 100 ms and is scraped once per pass, so its figure includes serving /metrics.
#
# usage: bench/collector_vs_node_exporter.sh path/to/sextant [N]
set -euo pipefail
SEXTANT=${1:?usage: $0 path/to/sextant [N]}
N=${2:-200}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
TCK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
peak_rss_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }

wait_http() {
  for _ in $(seq 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "no answer from $1" >&2; return 1
}

# measure_exporter LABEL ARGS...: prints "LABEL cpu_ms_per_scrape peak_rss_mb bytes"
measure_exporter() {
  local label=$1; shift
  local port; port=$(free_port)
  prometheus-node-exporter --web.listen-address=127.0.0.1:$port "$@" >"$WORK/ne.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_http "http://127.0.0.1:$port/metrics"
  curl -sf "http://127.0.0.1:$port/metrics" >/dev/null  # warm up
  local t0; t0=$(cpu_ticks $pid)
  for _ in $(seq "$N"); do curl -sf "http://127.0.0.1:$port/metrics" >"$WORK/ne.out"; done
  local t1; t1=$(cpu_ticks $pid)
  local rss; rss=$(peak_rss_kb $pid)
  kill $pid; wait $pid 2>/dev/null || true
  awk -v l="$label" -v d=$((t1 - t0)) -v n="$N" -v tck="$TCK" -v rss="$rss" -v b="$(wc -c <"$WORK/ne.out")" \
    'BEGIN {printf "%-34s %8.3f ms CPU/scrape  %6.1f MB peak RSS  %7d bytes\n", l, d*1000/tck/n, rss/1024, b}'
}

ne_upstream=("--collector.filesystem.mount-points-exclude=^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)" "--collector.netdev.device-exclude=")
measure_exporter "node_exporter (default collectors)" "${ne_upstream[@]}"
measure_exporter "node_exporter (same collectors)" "${ne_upstream[@]}" --collector.disable-defaults \
  --collector.cpu --collector.stat --collector.meminfo --collector.loadavg --collector.diskstats \
  --collector.filesystem --collector.netdev --collector.pressure --collector.vmstat

# Sextant: passes every 100 ms; scrape once per pass; CPU over the passes it ran.
printf 'collector:\n  remoteWrite: []\n' >"$WORK/config.yaml"
"$SEXTANT" collector --config="$WORK/config.yaml" --listen=127.0.0.1:0 --interval=100ms \
  >"$WORK/sextant.log" 2>&1 &
pid=$!
PIDS+=("$pid")
addr=""
for _ in $(seq 100); do
  addr=$(sed -nE 's/.*msg=listening role=collector addr=([^ ]+).*/\1/p' "$WORK/sextant.log" | head -1)
  [ -n "$addr" ] && break; sleep 0.05
done
[ -n "$addr" ] || { echo "sextant did not listen"; cat "$WORK/sextant.log"; exit 1; }
wait_http "http://$addr/-/ready"
passes() { curl -sf "http://$addr/metrics" | awk '/^sextant_collector_passes_total/ {print $2}'; }
p0=$(passes); t0=$(cpu_ticks $pid)
for _ in $(seq "$N"); do curl -sf "http://$addr/metrics" >"$WORK/sx.out"; sleep 0.1; done
p1=$(passes); t1=$(cpu_ticks $pid)
rss=$(peak_rss_kb $pid)
awk -v d=$((t1 - t0)) -v n=$((p1 - p0)) -v tck="$TCK" -v rss="$rss" -v b="$(wc -c <"$WORK/sx.out")" \
  'BEGIN {printf "%-34s %8.3f ms CPU/pass    %6.1f MB peak RSS  %7d bytes  (%d passes)\n", "sextant collector (pass+scrape)", d*1000/tck/n, rss/1024, b, n}'
grep -E 'sextant_collector_(pass_duration|source_duration)_seconds' "$WORK/sx.out" | sed 's/^/  /'
