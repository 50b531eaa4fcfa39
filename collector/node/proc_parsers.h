// Parsers of the /proc files the node sources read: /proc/stat, meminfo, loadavg, diskstats,
// mountinfo, net/dev, pressure/* and vmstat, with node_exporter 1.5's reading of each.
//
// Every parser is lenient: it keeps what it can parse, skips a line it cannot, and says so in
// Parsed::status. None allocates per line beyond the values it returns, none uses regexes, and none
// crashes or reads out of bounds on any input (tests/fuzz/proc_fuzz.cc).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sextant::collector {

// What a parser made of a file: the values of the lines it could parse, and `status`, OK when
// every line parsed, else InvalidArgument "line N: <what> (...)" naming the first bad line
// (1-based) and how many more there were. The caller prepends the file's path.
template <typename T>
struct Parsed {
  T value;
  absl::Status status;
};

// One "cpuN" line of /proc/stat.
struct CpuTicks {
  int cpu = 0;  // N
  // In USER_HZ ticks, in the kernel's order: user nice system idle iowait irq softirq steal guest
  // guest_nice. Fields an older kernel does not print are 0 (at least user..idle are present).
  std::array<uint64_t, 10> ticks{};
};

// /proc/stat. Absent lines leave their field empty; the aggregate "cpu" line and the lines
// node_exporter does not export by default (softirq) are skipped.
struct ProcStat {
  std::vector<CpuTicks> cpus;  // in file order; a CPU number given twice keeps the first line
  std::optional<uint64_t> boot_time;         // btime, seconds since the epoch
  std::optional<uint64_t> context_switches;  // ctxt
  std::optional<uint64_t> forks;             // processes
  std::optional<uint64_t> interrupts;        // intr (its first number, the total)
  std::optional<uint64_t> procs_running;
  std::optional<uint64_t> procs_blocked;
};
Parsed<ProcStat> ParseProcStat(absl::string_view text);

// One /proc/meminfo line under node_exporter's name: `name` is the field with "(x)" turned into
// "_x" and "_bytes" appended when the line has a unit ("Active(anon): 1 kB" -> "Active_anon_bytes",
// value 1024; "HugePages_Total: 0" -> "HugePages_Total"). The metric is node_memory_<name>.
struct MeminfoField {
  std::string name;
  double value = 0;
};
Parsed<std::vector<MeminfoField>> ParseMeminfo(absl::string_view text);

// /proc/loadavg: the 1, 5 and 15 minute load averages; only the first `count` parsed.
struct Loadavg {
  double load1 = 0;
  double load5 = 0;
  double load15 = 0;
  int count = 0;
};
Parsed<Loadavg> ParseLoadavg(absl::string_view text);

// One /proc/diskstats line (kernels print 14, 18 or 20 fields: 11, 15 or 17 counters).
struct DiskStats {
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string device;
  // The counters in the kernel's order (reads completed, reads merged, sectors read, ms reading,
  // writes ..., I/Os in progress, ms doing I/O, weighted ms, discards ..., flushes, ms flushing);
  // only the first `count` are given.
  std::array<uint64_t, 17> stats{};
  int count = 0;
};
Parsed<std::vector<DiskStats>> ParseDiskstats(absl::string_view text);

// One /proc/<pid>/mountinfo line, as node_exporter 1.5 labels its filesystems.
struct MountInfo {
  std::string device;       // the mount source ("/dev/sda1", "tmpfs", "server:/export")
  std::string mount_point;  // with the kernel's octal escapes (\040 \011 \012 \134) decoded
  std::string fstype;
  bool read_only = false;  // "ro" among the per-mount options (what /proc/mounts shows)
};
Parsed<std::vector<MountInfo>> ParseMountinfo(absl::string_view text);

// One interface of /proc/net/dev: the 8 receive then 8 transmit columns (bytes packets errs drop
// fifo frame compressed multicast | bytes packets errs drop fifo colls carrier compressed).
struct NetDevStats {
  std::string device;
  std::array<uint64_t, 16> values{};
};
Parsed<std::vector<NetDevStats>> ParseNetDev(absl::string_view text);

// A /proc/pressure/{cpu,io,memory} file: the `total=` stall times in microseconds.
struct Pressure {
  std::optional<uint64_t> some_total_us;
  std::optional<uint64_t> full_total_us;
};
Parsed<Pressure> ParsePressure(absl::string_view text);

// One /proc/vmstat line. `name` points into the parsed text.
struct VmstatField {
  absl::string_view name;
  double value = 0;
};
Parsed<std::vector<VmstatField>> ParseVmstat(absl::string_view text);

// A udev database entry (/run/udev/data/b<major>:<minor>): the "E:KEY=value" properties that
// node_disk_info uses. Unknown lines are ignored; never fails.
struct UdevDiskProperties {
  std::string path;      // ID_PATH
  std::string wwn;       // ID_WWN
  std::string model;     // ID_MODEL
  std::string serial;    // ID_SERIAL_SHORT (node_exporter 1.5 ignores SCSI_IDENT_SERIAL)
  std::string revision;  // ID_REVISION
};
UdevDiskProperties ParseUdevDiskProperties(absl::string_view text);

}  // namespace sextant::collector
