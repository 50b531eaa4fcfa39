// The node sources: what node_exporter's cpu, stat, meminfo, loadavg, diskstats, filesystem,
// netdev, pressure and vmstat collectors export, with the names, labels, HELP texts and types of
// Debian's prometheus-node-exporter 1.5 and its default flags, read through a HostFilesystem.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "collector/host_fs.h"
#include "collector/source.h"

namespace sextant::collector {

struct NodeSourceOptions {
  // How long a statfs may take before its mount is reported with node_filesystem_device_error 1
  // and no size series (node_exporter's hidden --collector.filesystem.mount-timeout, default 5s).
  // While that statfs is still blocked, the mount is not statfs'ed again. One pass waits at most
  // this long in total for all its statfs calls.
  absl::Duration statfs_timeout = absl::Seconds(5);
  // Threads that run statfs calls concurrently, besides one per mount still stuck (node_exporter's
  // hidden --collector.filesystem.stat-workers, default 4).
  int statfs_workers = 4;
  // RE2 patterns (unanchored, as Go's MatchString) with upstream node_exporter 1.5's defaults,
  // which the node_exporter DaemonSets people replace run with. (Debian's package changes two:
  // it also excludes the /run, /mnt and /media mounts and the lo device.) An empty pattern
  // excludes nothing.
  std::string diskstats_device_exclude = R"(^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$)";
  std::string filesystem_mount_points_exclude =
      R"(^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/))";
  std::string filesystem_fs_types_exclude =
      R"(^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|)"
      R"(iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|)"
      R"(sysfs|tracefs)$)";
  std::string netdev_device_exclude;
  std::string vmstat_fields = "^(oom_kill|pgpg|pswp|pg.*fault).*";
  // Read /run/udev/data/b<major>:<minor> for node_disk_info's path, wwn, model, serial and
  // revision labels (node_exporter's --path.udev.data); when false or absent they are empty.
  bool read_udev = true;
};

// InvalidArgument naming the option whose pattern does not compile (or a timeout or worker count
// that is not positive). The sources themselves report the same error on every pass.
absl::Status ValidateNodeSourceOptions(const NodeSourceOptions& options);

// One Source per node_exporter collector, in this order and named: "cpu" (/proc/stat: the cpu
// and stat collectors' node_cpu_seconds_total, node_cpu_guest_seconds_total,
// node_boot_time_seconds, node_context_switches_total, node_forks_total, node_intr_total,
// node_procs_running, node_procs_blocked), "meminfo", "loadavg", "diskstats", "filesystem",
// "netdev", "pressure", "vmstat". `fs` must outlive the sources, and also any statfs call that is
// still blocked when they are destroyed (it finishes on its own thread). Constructing them does no
// I/O.
//
// Where they differ from node_exporter 1.5: a CPU that is offline has no series (node_exporter
// exports zeros for one below the highest online CPU); "cpu" keeps each CPU's counters from going
// backwards (node_exporter's rule, including its reset after idle drops by 3 s or more); netdev
// reads /proc/net/dev, so node_network_receive_nohandler_total, which node_exporter's default
// netlink mode adds, is absent; node_disk_filesystem_info, node_disk_device_mapper_info and
// node_disk_ata_* (udev properties beyond node_disk_info's) are not exported.
std::vector<std::unique_ptr<Source>> NewNodeSources(const HostFilesystem& fs,
                                                    const NodeSourceOptions& options);

}  // namespace sextant::collector
