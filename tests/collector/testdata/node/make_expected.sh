#!/bin/bash
# Regenerates expected.prom and statfs.txt: what Debian's prometheus-node-exporter 1.5 exports for
# this fixture tree, given upstream node_exporter's default excludes (Debian changes two). Needs root (it mounts tmpfs filesystems of fixed sizes, so that statfs gives
# numbers the test can replay through a fake HostFilesystem) and the prometheus-node-exporter
# package. Run from anywhere: bash tests/collector/testdata/node/make_expected.sh
# node_exporter 1.5 reads proc/1/mounts where we read proc/1/mountinfo: keep the two listing the
# same mounts (mounts was made from mountinfo with awk: source, mount point, fstype, options).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d /tmp/node-oracle-root.XXXXXX)
empty=$(mktemp -d /tmp/node-oracle-empty.XXXXXX)
port=${PORT:-19187}
cleanup() {
  [[ -n "${pid:-}" ]] && kill "$pid" 2>/dev/null || true
  for m in "/var/lib/kubelet/pods/0d3c-11/volumes/kubernetes.io~projected/kube-api-access-x" \
           /srv/archive /tmp "/home/my data" /boot ""; do
    umount "$root$m" 2>/dev/null || true
  done
  rmdir "$root" "$empty" 2>/dev/null || true
}
trap cleanup EXIT

# The mounts statfs can reach. /data/nfs stays absent: its statfs fails (node_filesystem_device_error 1).
mount -t tmpfs -o size=64m,nr_inodes=1000 tmpfs "$root"
mkdir -p "$root/run" "$root/mnt/usb" "$root/boot" "$root/home/my data" "$root/tmp" "$root/srv/archive" "$root/srv/bind" \
  "$root/var/lib/kubelet/pods/0d3c-11/volumes/kubernetes.io~projected/kube-api-access-x"
mount -t tmpfs -o size=8m,nr_inodes=100 tmpfs "$root/boot"
mount -t tmpfs -o size=16m,nr_inodes=200 tmpfs "$root/home/my data"
head -c 3000000 /dev/zero > "$root/home/my data/file"
mount -t tmpfs -o size=4m,nr_inodes=50 tmpfs "$root/tmp"
mount -t tmpfs -o size=2m,nr_inodes=30,ro tmpfs "$root/srv/archive"
mount -t tmpfs -o size=1m,nr_inodes=10 tmpfs \
  "$root/var/lib/kubelet/pods/0d3c-11/volumes/kubernetes.io~projected/kube-api-access-x"
head -c 100000 /dev/zero > "$root/file"

prometheus-node-exporter --web.listen-address=127.0.0.1:$port --web.disable-exporter-metrics \
  --path.procfs="$here/proc" --path.sysfs="$empty" --path.rootfs="$root" \
  --path.udev.data="$here/run/udev/data" --no-collector.netdev.netlink \
  --collector.disable-defaults --collector.cpu --collector.stat --collector.meminfo \
  --collector.loadavg --collector.diskstats --collector.filesystem --collector.netdev \
  --collector.pressure --collector.vmstat \
  "--collector.filesystem.mount-points-exclude=^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)(\$|/)" \
  --collector.netdev.device-exclude= >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf "127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
# Only the families the node sources produce (not node_scrape_*, node_exporter_build_info).
curl -sf "127.0.0.1:$port/metrics" | grep -E '^(# (HELP|TYPE) )?node_' |
  grep -vE '^(# (HELP|TYPE) )?node_(scrape_collector|exporter_build_info)' > "$here/expected.prom"

# statfs(2) of each mount as node_exporter saw it: mountpoint, then f_bsize f_blocks f_bfree
# f_bavail f_files f_ffree (the test's fake HostFilesystem returns these).
: > "$here/statfs.txt"
for m in / /run /mnt/usb /boot "/home/my data" /tmp /srv/archive /srv/bind \
         "/var/lib/kubelet/pods/0d3c-11/volumes/kubernetes.io~projected/kube-api-access-x"; do
  printf '%s\t%s\n' "$m" "$(stat -f -c '%S %b %f %a %c %d' "$root$m")" >> "$here/statfs.txt"
done
