# Shell helpers shared by the side-by-side benchmarks (bench/*_vs_*.sh); sourced, not run.

# A free TCP port on 127.0.0.1 (a random high one when python3 is missing).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}
# Clock ticks per second, the unit of cpu_ticks.
TCK=$(getconf CLK_TCK)
# cpu_ticks PID: user + system CPU time the process has used, in ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# status_kb PID FIELD: a kB field of /proc/PID/status (VmRSS, VmHWM).
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
