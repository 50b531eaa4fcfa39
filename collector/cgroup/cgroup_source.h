// The "cgroup" source: container and pod metrics from the kubepods cgroup hierarchy, v1 or v2,
// under the names and labels of cAdvisor as the kubelet serves it (/metrics/cadvisor), so that
// dashboards built on those keep working.
//
// What it exports, per cgroup (the kubepods and QoS-class cgroups with `id` only, pod cgroups
// with namespace/pod, container cgroups with namespace/pod/container; `id` is the cgroup's path
// in its hierarchy, "/kubepods.slice/..."). Families, all named container_*, and their files:
// clang-format off
//   family                         v2 file: key                   v1 file: key
//   cpu_usage_seconds_total{cpu="total"}  cpu.stat: usage_usec    cpuacct.usage (ns)
//   cpu_user_seconds_total         cpu.stat: user_usec            cpuacct.stat: user (USER_HZ)
//   cpu_system_seconds_total       cpu.stat: system_usec          cpuacct.stat: system (USER_HZ)
//   cpu_cfs_periods_total          cpu.stat: nr_periods           cpu.stat: nr_periods
//   cpu_cfs_throttled_periods_total  cpu.stat: nr_throttled       cpu.stat: nr_throttled
//   cpu_cfs_throttled_seconds_total  cpu.stat: throttled_usec     cpu.stat: throttled_time (ns)
//   memory_usage_bytes             memory.current                 memory.usage_in_bytes
//   memory_working_set_bytes       usage - inactive_file (memory.stat)  usage - total_inactive_file
//   memory_rss                     memory.stat: anon              memory.stat: total_rss
//   memory_cache                   memory.stat: file              memory.stat: total_cache
//   memory_mapped_file             memory.stat: file_mapped       memory.stat: total_mapped_file
//   memory_swap                    memory.swap.current            memory.stat: total_swap
//   spec_memory_limit_bytes        memory.max                     memory.limit_in_bytes
//   memory_failcnt                 -                              memory.failcnt
//   oom_events_total               memory.events: oom_kill        memory.oom_control: oom_kill
//   fs_reads_bytes_total{device}   io.stat: rbytes  blkio.throttle.io_service_bytes: Read
//   fs_writes_bytes_total{device}  io.stat: wbytes  blkio.throttle.io_service_bytes: Write
//   fs_reads_total{device}         io.stat: rios  blkio.throttle.io_serviced: Read
//   fs_writes_total{device}        io.stat: wios  blkio.throttle.io_serviced: Write
//   pressure_{cpu,memory,io}_waiting_seconds_total  {cpu,memory,io}.pressure: some total=   -
//   pressure_{cpu,memory,io}_stalled_seconds_total  {cpu,memory,io}.pressure: full total=   -
//   threads                        pids.current                   pids.current
//   threads_max                    pids.max                       pids.max
// clang-format on
// Details: the CFS families only when nr_periods > 0 (the cgroup has a CPU quota; cAdvisor
// exports them only for containers with one). The working set is floored at 0. A limit of "max"
// (or v1's PAGE_COUNTER_MAX, anything from 2^62 up) is 0, as cAdvisor exports it. v1 blkio reads
// the *_recursive files, or the plain ones on kernels without them. `device` is "/dev/<name>" from
// /proc/diskstats (cAdvisor's naming), else "MAJ:MIN". A file that does not exist (a controller
// not enabled, PSI off, v1 without pids) leaves its families out of that cgroup's series.
#pragma once

#include <memory>
#include <string>

#include "collector/host_fs.h"
#include "collector/source.h"

namespace sextant::collector {

struct CgroupSourceOptions {
  std::string cgroup_root = "/sys/fs/cgroup";  // host path of the cgroup mount(s)
  // How deep below the root (v2) or a controller's root (v1) the kubepods cgroup is looked for
  // (1: only directly below). Default 3 ("/kubelet.slice/kubelet-kubepods.slice" is at 2).
  int kubepods_search_depth = 3;
  // Also export the kubepods- and QoS-class-level cgroups (with `id` only), as cAdvisor does.
  // Default true.
  bool export_hierarchy_cgroups = true;
  // Where the block device names for the `device` label come from. Default "/proc/diskstats".
  std::string diskstats_path = "/proc/diskstats";
};

// The Source named "cgroup" (see the table above). Detects v1 or v2 and finds the kubepods
// cgroup on its first pass, remembers both, and looks again when the remembered kubepods
// directory is gone. When there is none (not a Kubernetes node, or the kubelet has not made it
// yet), Collect returns NotFound, and the search is repeated every 12th pass. Pods and containers
// are named from ctx.pods; without it (or for unknown pods) the series carry only `id`; containers
// the index does not know (pause/sandbox, just started) carry namespace and pod but no container.
// Cgroups that vanish during the walk are skipped silently; garbled files lose only their bad
// values and make Collect return InvalidArgument counting them. `fs` must outlive the source.
std::unique_ptr<Source> NewCgroupSource(const HostFilesystem& fs,
                                        const CgroupSourceOptions& options);

}  // namespace sextant::collector
