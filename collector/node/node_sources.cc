#include "collector/node/node_sources.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "collector/node/node_internal.h"
#include "collector/node/proc_parsers.h"
#include "common/status_macros.h"
#include "re2/re2.h"

namespace sextant::collector {
namespace node_internal {

CachedMatcher::CachedMatcher(absl::string_view option, const std::string& pattern) {
  if (pattern.empty()) return;
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, opts);
  if (!re->ok()) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat(option, ": bad pattern \"", pattern, "\": ", re->error()));
    return;
  }
  re_ = std::move(re);
}

CachedMatcher::~CachedMatcher() = default;

bool CachedMatcher::Matches(absl::string_view s) {
  if (re_ == nullptr) return false;
  auto it = cache_.find(s);
  if (it != cache_.end()) return it->second;
  // Names of vanished pods' mounts and devices accumulate; start over now and then.
  if (cache_.size() >= 4096) cache_.clear();
  bool match = RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *re_);
  cache_.emplace(s, match);
  return match;
}

}  // namespace node_internal

namespace {

using node_internal::CachedMatcher;
using prom::MetricType;

// Reads a file, annotating an error with its path.
absl::StatusOr<std::string> Read(const HostFilesystem& fs, absl::string_view path) {
  absl::StatusOr<std::string> text = fs.ReadFile(path);
  if (!text.ok()) return Annotate(text.status(), absl::StrCat("read ", path, ": "));
  return text;
}

absl::Status WithPath(const absl::Status& status, absl::string_view path) {
  return Annotate(status, absl::StrCat(path, ": "));
}

// ---- cpu: /proc/stat (node_exporter's cpu and stat collectors) ----

constexpr double kUserHz = 100;  // USER_HZ, as procfs assumes
// node_exporter resets a CPU's counters when idle goes back by this much (a hot-plugged CPU).
constexpr double kJumpBackSeconds = 3.0;
constexpr size_t kIdle = 3;
constexpr std::array<absl::string_view, 8> kCpuModes = {"user",   "nice", "system",  "idle",
                                                        "iowait", "irq",  "softirq", "steal"};

class CpuSource final : public Source {
 public:
  explicit CpuSource(const HostFilesystem& fs) : fs_(fs) {}
  absl::string_view name() const override { return "cpu"; }

  absl::Status Collect(const PassContext&, MetricSet& out) override {
    constexpr absl::string_view kPath = "/proc/stat";
    SEXTANT_ASSIGN_OR_RETURN(std::string text, Read(fs_, kPath));
    Parsed<ProcStat> parsed = ParseProcStat(text);
    const ProcStat& stat = parsed.value;

    // A counter never goes backwards: keep each CPU's largest value per mode (the kernel's idle
    // and iowait do go back), except after a jump back of idle that means the CPU was replaced.
    // CPUs missing from this pass are forgotten, so one that comes back starts afresh.
    next_.clear();
    for (const CpuTicks& cpu : stat.cpus) {
      std::array<double, 10> seconds;
      for (size_t i = 0; i < seconds.size(); ++i) seconds[i] = cpu.ticks[i] / kUserHz;
      auto prev = last_.find(cpu.cpu);
      if (prev != last_.end() && prev->second[kIdle] - seconds[kIdle] < kJumpBackSeconds) {
        for (size_t i = 0; i < seconds.size(); ++i) {
          seconds[i] = std::max(seconds[i], prev->second[i]);
        }
      }
      next_.emplace(cpu.cpu, seconds);
    }
    std::swap(last_, next_);

    for (const CpuTicks& cpu : stat.cpus) {
      const std::array<double, 10>& seconds = last_.at(cpu.cpu);
      std::string label = absl::StrCat(cpu.cpu);
      for (size_t i = 0; i < kCpuModes.size(); ++i) {
        out.Counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.",
                    {{"cpu", label}, {"mode", kCpuModes[i]}}, seconds[i]);
      }
      constexpr absl::string_view kGuestHelp =
          "Seconds the CPUs spent in guests (VMs) for each mode.";
      out.Counter("node_cpu_guest_seconds_total", kGuestHelp, {{"cpu", label}, {"mode", "user"}},
                  seconds[8]);
      out.Counter("node_cpu_guest_seconds_total", kGuestHelp, {{"cpu", label}, {"mode", "nice"}},
                  seconds[9]);
    }
    auto add = [&](const std::optional<uint64_t>& v, absl::string_view name, absl::string_view help,
                   MetricType type) {
      if (v.has_value()) out.Add(name, help, type, MetricSet::LabelList{}, static_cast<double>(*v));
    };
    add(stat.interrupts, "node_intr_total", "Total number of interrupts serviced.",
        MetricType::kCounter);
    add(stat.context_switches, "node_context_switches_total", "Total number of context switches.",
        MetricType::kCounter);
    add(stat.forks, "node_forks_total", "Total number of forks.", MetricType::kCounter);
    add(stat.boot_time, "node_boot_time_seconds", "Node boot time, in unixtime.",
        MetricType::kGauge);
    add(stat.procs_running, "node_procs_running", "Number of processes in runnable state.",
        MetricType::kGauge);
    add(stat.procs_blocked, "node_procs_blocked",
        "Number of processes blocked waiting for I/O to complete.", MetricType::kGauge);
    return WithPath(parsed.status, kPath);
  }

 private:
  const HostFilesystem& fs_;
  // CPU number -> the seconds exported last pass, per mode (kCpuModes, then guest, guest_nice).
  absl::flat_hash_map<int, std::array<double, 10>> last_;
  absl::flat_hash_map<int, std::array<double, 10>> next_;  // reused to spare allocations
};

// ---- meminfo ----

// Family names and HELP texts built once per field name.
struct NameAndHelp {
  std::string name;
  std::string help;
};

class MeminfoSource final : public Source {
 public:
  explicit MeminfoSource(const HostFilesystem& fs) : fs_(fs) {}
  absl::string_view name() const override { return "meminfo"; }

  absl::Status Collect(const PassContext&, MetricSet& out) override {
    constexpr absl::string_view kPath = "/proc/meminfo";
    SEXTANT_ASSIGN_OR_RETURN(std::string text, Read(fs_, kPath));
    Parsed<std::vector<MeminfoField>> parsed = ParseMeminfo(text);
    if (names_.size() > 1024) names_.clear();
    for (const MeminfoField& field : parsed.value) {
      auto [it, added] = names_.try_emplace(field.name);
      if (added) {
        it->second.name = absl::StrCat("node_memory_", field.name);
        it->second.help = absl::StrCat("Memory information field ", field.name, ".");
      }
      // node_exporter's rule: a field ending in _total is a counter.
      MetricType type =
          absl::EndsWith(field.name, "_total") ? MetricType::kCounter : MetricType::kGauge;
      out.Add(it->second.name, it->second.help, type, MetricSet::LabelList{}, field.value);
    }
    return WithPath(parsed.status, kPath);
  }

 private:
  const HostFilesystem& fs_;
  absl::flat_hash_map<std::string, NameAndHelp> names_;
};

// ---- loadavg ----

class LoadavgSource final : public Source {
 public:
  explicit LoadavgSource(const HostFilesystem& fs) : fs_(fs) {}
  absl::string_view name() const override { return "loadavg"; }

  absl::Status Collect(const PassContext&, MetricSet& out) override {
    constexpr absl::string_view kPath = "/proc/loadavg";
    SEXTANT_ASSIGN_OR_RETURN(std::string text, Read(fs_, kPath));
    Parsed<Loadavg> parsed = ParseLoadavg(text);
    const Loadavg& l = parsed.value;
    if (l.count > 0) out.Gauge("node_load1", "1m load average.", {}, l.load1);
    if (l.count > 1) out.Gauge("node_load5", "5m load average.", {}, l.load5);
    if (l.count > 2) out.Gauge("node_load15", "15m load average.", {}, l.load15);
    return WithPath(parsed.status, kPath);
  }

 private:
  const HostFilesystem& fs_;
};

// ---- diskstats ----

struct DiskFamily {
  absl::string_view name;
  absl::string_view help;
  MetricType type;
  double factor;  // 0: none
};

// In /proc/diskstats' order, as node_exporter 1.5 exports them.
constexpr double kSectorBytes = 512.0;
constexpr double kMs = .001;
constexpr std::array<DiskFamily, 17> kDiskFamilies = {{
    {"node_disk_reads_completed_total", "The total number of reads completed successfully.",
     MetricType::kCounter, 0},
    {"node_disk_reads_merged_total", "The total number of reads merged.", MetricType::kCounter, 0},
    {"node_disk_read_bytes_total", "The total number of bytes read successfully.",
     MetricType::kCounter, kSectorBytes},
    {"node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.",
     MetricType::kCounter, kMs},
    {"node_disk_writes_completed_total", "The total number of writes completed successfully.",
     MetricType::kCounter, 0},
    {"node_disk_writes_merged_total", "The number of writes merged.", MetricType::kCounter, 0},
    {"node_disk_written_bytes_total", "The total number of bytes written successfully.",
     MetricType::kCounter, kSectorBytes},
    {"node_disk_write_time_seconds_total",
     "This is the total number of seconds spent by all writes.", MetricType::kCounter, kMs},
    {"node_disk_io_now", "The number of I/Os currently in progress.", MetricType::kGauge, 0},
    {"node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", MetricType::kCounter,
     kMs},
    {"node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.",
     MetricType::kCounter, kMs},
    {"node_disk_discards_completed_total", "The total number of discards completed successfully.",
     MetricType::kCounter, 0},
    {"node_disk_discards_merged_total", "The total number of discards merged.",
     MetricType::kCounter, 0},
    {"node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.",
     MetricType::kCounter, 0},
    {"node_disk_discard_time_seconds_total",
     "This is the total number of seconds spent by all discards.", MetricType::kCounter, kMs},
    {"node_disk_flush_requests_total", "The total number of flush requests completed successfully",
     MetricType::kCounter, 0},
    {"node_disk_flush_requests_time_seconds_total",
     "This is the total number of seconds spent by all flush requests.", MetricType::kCounter, kMs},
}};

class DiskstatsSource final : public Source {
 public:
  DiskstatsSource(const HostFilesystem& fs, const NodeSourceOptions& options)
      : fs_(fs),
        exclude_("diskstats_device_exclude", options.diskstats_device_exclude),
        read_udev_(options.read_udev) {}
  absl::string_view name() const override { return "diskstats"; }

  absl::Status Collect(const PassContext&, MetricSet& out) override {
    SEXTANT_RETURN_IF_ERROR(exclude_.status());
    constexpr absl::string_view kPath = "/proc/diskstats";
    SEXTANT_ASSIGN_OR_RETURN(std::string text, Read(fs_, kPath));
    Parsed<std::vector<DiskStats>> parsed = ParseDiskstats(text);
    for (const DiskStats& disk : parsed.value) {
      if (exclude_.Matches(disk.device)) continue;
      UdevDiskProperties udev;
      if (read_udev_) {
        absl::StatusOr<std::string> data = fs_.ReadFile(
            absl::StrCat("/run/udev/data/b", disk.major, ":", disk.minor), size_t{1} << 16);
        if (data.ok()) udev = ParseUdevDiskProperties(*data);
      }
      std::string major = absl::StrCat(disk.major);
      std::string minor = absl::StrCat(disk.minor);
      out.Gauge("node_disk_info", "Info of /sys/block/<block_device>.",
                {{"device", disk.device},
                 {"major", major},
                 {"minor", minor},
                 {"path", udev.path},
                 {"wwn", udev.wwn},
                 {"model", udev.model},
                 {"serial", udev.serial},
                 {"revision", udev.revision}},
                1);
      for (int i = 0; i < disk.count && i < static_cast<int>(kDiskFamilies.size()); ++i) {
        const DiskFamily& family = kDiskFamilies[i];
        double value = static_cast<double>(disk.stats[i]);
        if (family.factor != 0) value *= family.factor;
        out.Add(family.name, family.help, family.type, {{"device", disk.device}}, value);
      }
    }
    return WithPath(parsed.status, kPath);
  }

 private:
  const HostFilesystem& fs_;
  CachedMatcher exclude_;
  bool read_udev_;
};

// ---- netdev ----

constexpr std::array<absl::string_view, 16> kNetDevColumns = {
    "receive_bytes",  "receive_packets",  "receive_errs",       "receive_drop",
    "receive_fifo",   "receive_frame",    "receive_compressed", "receive_multicast",
    "transmit_bytes", "transmit_packets", "transmit_errs",      "transmit_drop",
    "transmit_fifo",  "transmit_colls",   "transmit_carrier",   "transmit_compressed"};

class NetdevSource final : public Source {
 public:
  NetdevSource(const HostFilesystem& fs, const NodeSourceOptions& options)
      : fs_(fs), exclude_("netdev_device_exclude", options.netdev_device_exclude) {
    for (size_t i = 0; i < kNetDevColumns.size(); ++i) {
      families_[i].name = absl::StrCat("node_network_", kNetDevColumns[i], "_total");
      families_[i].help = absl::StrCat("Network device statistic ", kNetDevColumns[i], ".");
    }
  }
  absl::string_view name() const override { return "netdev"; }

  absl::Status Collect(const PassContext&, MetricSet& out) override {
    SEXTANT_RETURN_IF_ERROR(exclude_.status());
    constexpr absl::string_view kPath = "/proc/net/dev";
    SEXTANT_ASSIGN_OR_RETURN(std::string text, Read(fs_, kPath));
    Parsed<std::vector<NetDevStats>> parsed = ParseNetDev(text);
    for (const NetDevStats& dev : parsed.value) {
      if (exclude_.Matches(dev.device)) continue;
      for (size_t i = 0; i < families_.size(); ++i) {
        out.Counter(families_[i].name, families_[i].help, {{"device", dev.device}},
                    static_cast<double>(dev.values[i]));
      }
    }
    return WithPath(parsed.status, kPath);
  }

 private:
  const HostFilesystem& fs_;
  CachedMatcher exclude_;
  std::array<NameAndHelp, 16> families_;
};

// ---- pressure ----

class PressureSource final : public Source {
 public:
  explicit PressureSource(const HostFilesystem& fs) : fs_(fs) {}
  absl::string_view name() const override { return "pressure"; }

  // A kernel without PSI (no /proc/pressure) is not an error: the families are just absent.
  absl::Status Collect(const PassContext&, MetricSet& out) override {
    struct Resource {
      absl::string_view path;
      absl::string_view some_name;
      absl::string_view some_help;
      absl::string_view full_name;  // "" when node_exporter does not export "full"
      absl::string_view full_help;
    };
    static constexpr Resource kResources[] = {
        {"/proc/pressure/cpu", "node_pressure_cpu_waiting_seconds_total",
         "Total time in seconds that processes have waited for CPU time", "", ""},
        {"/proc/pressure/io", "node_pressure_io_waiting_seconds_total",
         "Total time in seconds that processes have waited due to IO congestion",
         "node_pressure_io_stalled_seconds_total",
         "Total time in seconds no process could make progress due to IO congestion"},
        {"/proc/pressure/memory", "node_pressure_memory_waiting_seconds_total",
         "Total time in seconds that processes have waited for memory",
         "node_pressure_memory_stalled_seconds_total",
         "Total time in seconds no process could make progress due to memory congestion"},
    };
    absl::Status status;
    for (const Resource& r : kResources) {
      absl::StatusOr<std::string> text = fs_.ReadFile(r.path);
      if (absl::IsNotFound(text.status())) continue;
      if (!text.ok()) {
        status.Update(Annotate(text.status(), absl::StrCat("read ", r.path, ": ")));
        continue;
      }
      Parsed<Pressure> parsed = ParsePressure(*text);
      // As node_exporter: microseconds / 1000 / 1000.
      if (parsed.value.some_total_us.has_value()) {
        out.Counter(r.some_name, r.some_help, {},
                    static_cast<double>(*parsed.value.some_total_us) / 1000.0 / 1000.0);
      }
      if (!r.full_name.empty() && parsed.value.full_total_us.has_value()) {
        out.Counter(r.full_name, r.full_help, {},
                    static_cast<double>(*parsed.value.full_total_us) / 1000.0 / 1000.0);
      }
      status.Update(WithPath(parsed.status, r.path));
    }
    return status;
  }

 private:
  const HostFilesystem& fs_;
};

// ---- vmstat ----

class VmstatSource final : public Source {
 public:
  VmstatSource(const HostFilesystem& fs, const NodeSourceOptions& options)
      : fs_(fs), fields_("vmstat_fields", options.vmstat_fields) {}
  absl::string_view name() const override { return "vmstat"; }

  absl::Status Collect(const PassContext&, MetricSet& out) override {
    SEXTANT_RETURN_IF_ERROR(fields_.status());
    constexpr absl::string_view kPath = "/proc/vmstat";
    SEXTANT_ASSIGN_OR_RETURN(std::string text, Read(fs_, kPath));
    Parsed<std::vector<VmstatField>> parsed = ParseVmstat(text);
    if (names_.size() > 1024) names_.clear();
    for (const VmstatField& field : parsed.value) {
      if (!fields_.Matches(field.name)) continue;
      auto [it, added] = names_.try_emplace(field.name);
      if (added) {
        it->second.name = absl::StrCat("node_vmstat_", field.name);
        it->second.help = absl::StrCat("/proc/vmstat information field ", field.name, ".");
      }
      out.Add(it->second.name, it->second.help, MetricType::kUntyped, MetricSet::LabelList{},
              field.value);
    }
    return WithPath(parsed.status, kPath);
  }

 private:
  const HostFilesystem& fs_;
  CachedMatcher fields_;
  absl::flat_hash_map<std::string, NameAndHelp> names_;
};

}  // namespace

absl::Status ValidateNodeSourceOptions(const NodeSourceOptions& options) {
  if (options.statfs_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("statfs_timeout: must be positive");
  }
  if (options.statfs_workers < 1) {
    return absl::InvalidArgumentError("statfs_workers: must be at least 1");
  }
  const std::pair<absl::string_view, const std::string*> patterns[] = {
      {"diskstats_device_exclude", &options.diskstats_device_exclude},
      {"filesystem_mount_points_exclude", &options.filesystem_mount_points_exclude},
      {"filesystem_fs_types_exclude", &options.filesystem_fs_types_exclude},
      {"netdev_device_exclude", &options.netdev_device_exclude},
      {"vmstat_fields", &options.vmstat_fields},
  };
  for (const auto& [option, pattern] : patterns) {
    SEXTANT_RETURN_IF_ERROR(CachedMatcher(option, *pattern).status());
  }
  return absl::OkStatus();
}

std::vector<std::unique_ptr<Source>> NewNodeSources(const HostFilesystem& fs,
                                                    const NodeSourceOptions& options) {
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<CpuSource>(fs));
  sources.push_back(std::make_unique<MeminfoSource>(fs));
  sources.push_back(std::make_unique<LoadavgSource>(fs));
  sources.push_back(std::make_unique<DiskstatsSource>(fs, options));
  sources.push_back(node_internal::NewFilesystemSource(fs, options));
  sources.push_back(std::make_unique<NetdevSource>(fs, options));
  sources.push_back(std::make_unique<PressureSource>(fs));
  sources.push_back(std::make_unique<VmstatSource>(fs, options));
  return sources;
}

}  // namespace sextant::collector
