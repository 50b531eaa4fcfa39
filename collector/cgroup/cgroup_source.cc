#include "collector/cgroup/cgroup_source.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "collector/cgroup/cgroup_parse.h"
#include "common/status_macros.h"

namespace sextant::collector {
namespace {

using prom::MetricType;

constexpr size_t kMaxFileBytes = size_t{1} << 20;
constexpr double kUserHz = 100;  // USER_HZ, the unit of cpuacct.stat on every Linux ABI

// One exported family.
struct Family {
  absl::string_view name;
  absl::string_view help;
  MetricType type;
};

constexpr MetricType kCounter = MetricType::kCounter;
constexpr MetricType kGauge = MetricType::kGauge;

constexpr Family kCpuUsage{"container_cpu_usage_seconds_total",
                           "Cumulative cpu time consumed in seconds.", kCounter};
constexpr Family kCpuUser{"container_cpu_user_seconds_total",
                          "Cumulative user cpu time consumed in seconds.", kCounter};
constexpr Family kCpuSystem{"container_cpu_system_seconds_total",
                            "Cumulative system cpu time consumed in seconds.", kCounter};
constexpr Family kCfsPeriods{"container_cpu_cfs_periods_total",
                             "Number of elapsed enforcement period intervals.", kCounter};
constexpr Family kCfsThrottledPeriods{"container_cpu_cfs_throttled_periods_total",
                                      "Number of throttled period intervals.", kCounter};
constexpr Family kCfsThrottledSeconds{"container_cpu_cfs_throttled_seconds_total",
                                      "Total time duration the container has been throttled.",
                                      kCounter};
constexpr Family kMemUsage{
    "container_memory_usage_bytes",
    "Current memory usage in bytes, including all memory regardless of when it was accessed",
    kGauge};
constexpr Family kMemWorkingSet{"container_memory_working_set_bytes",
                                "Current working set in bytes.", kGauge};
constexpr Family kMemRss{"container_memory_rss", "Size of RSS in bytes.", kGauge};
constexpr Family kMemCache{"container_memory_cache", "Number of bytes of page cache memory.",
                           kGauge};
constexpr Family kMemMapped{"container_memory_mapped_file", "Size of memory mapped files in bytes.",
                            kGauge};
constexpr Family kMemSwap{"container_memory_swap", "Container swap usage in bytes.", kGauge};
constexpr Family kMemLimit{"container_spec_memory_limit_bytes", "Memory limit for the container.",
                           kGauge};
constexpr Family kMemFailcnt{"container_memory_failcnt", "Number of memory usage hits limits",
                             kCounter};
constexpr Family kOomEvents{"container_oom_events_total",
                            "Count of out of memory events observed for the container", kCounter};
constexpr Family kFsReadBytes{"container_fs_reads_bytes_total", "Cumulative count of bytes read",
                              kCounter};
constexpr Family kFsWriteBytes{"container_fs_writes_bytes_total",
                               "Cumulative count of bytes written", kCounter};
constexpr Family kFsReads{"container_fs_reads_total", "Cumulative count of reads completed",
                          kCounter};
constexpr Family kFsWrites{"container_fs_writes_total", "Cumulative count of writes completed",
                           kCounter};
constexpr Family kThreads{"container_threads", "Number of threads running inside the container",
                          kGauge};
constexpr Family kThreadsMax{
    "container_threads_max",
    "Maximum number of threads allowed inside the container, infinity if value is zero", kGauge};

// The PSI families of one resource.
struct PressureFamilies {
  Family waiting;
  Family stalled;
};
constexpr PressureFamilies kCpuPressure{
    {"container_pressure_cpu_waiting_seconds_total",
     "Total time duration tasks in the container have waited due to CPU congestion.", kCounter},
    {"container_pressure_cpu_stalled_seconds_total",
     "Total time duration no tasks in the container could make progress due to CPU congestion.",
     kCounter}};
constexpr PressureFamilies kMemoryPressure{
    {"container_pressure_memory_waiting_seconds_total",
     "Total time duration tasks in the container have waited due to memory congestion.", kCounter},
    {"container_pressure_memory_stalled_seconds_total",
     "Total time duration no tasks in the container could make progress due to memory "
     "congestion.",
     kCounter}};
constexpr PressureFamilies kIoPressure{
    {"container_pressure_io_waiting_seconds_total",
     "Total time duration tasks in the container have waited due to IO congestion.", kCounter},
    {"container_pressure_io_stalled_seconds_total",
     "Total time duration no tasks in the container could make progress due to IO congestion.",
     kCounter}};

// Bits for the v2 files of controllers or features that may be off (swap accounting, io, pids,
// PSI). Absent from the kubepods cgroup means absent from every cgroup below it (a controller's
// files appear only where the parent enables it), so they are not tried there. 0 for the others.
uint32_t OptionalFileBit(absl::string_view file) {
  static constexpr absl::string_view kFiles[] = {
      "memory.swap.current", "io.stat",      "cpu.pressure", "memory.pressure",
      "io.pressure",         "pids.current", "pids.max"};
  for (size_t i = 0; i < std::size(kFiles); ++i) {
    if (file == kFiles[i]) return uint32_t{1} << i;
  }
  return 0;
}

enum class Version { kNone, kV1, kV2 };

// Where the hierarchies are: host paths without a trailing slash ("" for an absent v1
// controller).
struct Layout {
  Version version = Version::kNone;
  std::string walk_root;  // the hierarchy walked for directories (v2: the root)
  // v1 controller roots (v2: all equal to the root).
  std::string cpu, cpuacct, memory, blkio, pids;
  std::string kubepods;  // the kubepods cgroup relative to the hierarchy root, "/kubepods.slice"
};

// The identifying labels of one cgroup's series.
struct CgroupLabels {
  absl::string_view namespace_name;
  absl::string_view pod;
  absl::string_view container;
  absl::string_view id;
};

CgroupLabels IdOnly(absl::string_view id) {
  CgroupLabels labels;
  labels.id = id;
  return labels;
}

// Everything read from one cgroup, before it is exported.
struct CgroupStats {
  std::optional<double> cpu_usage_s, cpu_user_s, cpu_system_s;
  std::optional<uint64_t> cfs_periods, cfs_throttled_periods;
  std::optional<double> cfs_throttled_s;
  std::optional<uint64_t> mem_usage, inactive_file, rss, cache, mapped_file, swap, limit;
  std::optional<uint64_t> failcnt, oom_kills;
  std::optional<uint64_t> threads, threads_max;
  PressureTotals cpu_pressure, memory_pressure, io_pressure;
  std::vector<IoDeviceStat> io;  // reused across cgroups
};

// The source NewCgroupSource returns: remembers the layout between passes and keeps per-pass
// buffers. Owned by the collection pass; thread-compatible (one Collect at a time).
class CgroupSource final : public Source {
 public:
  CgroupSource(const HostFilesystem& fs, CgroupSourceOptions options)
      : fs_(fs), options_(std::move(options)) {
    while (options_.cgroup_root.size() > 1 && options_.cgroup_root.back() == '/') {
      options_.cgroup_root.pop_back();
    }
    if (options_.cgroup_root == "/") options_.cgroup_root.clear();
  }

  absl::string_view name() const override { return "cgroup"; }
  absl::Status Collect(const PassContext& ctx, MetricSet& out) override;

 private:
  enum class ReadResult { kOk, kMissing, kError };

  absl::Status Detect();
  static constexpr int kDetectEveryPasses = 12;  // a minute at the default 5 s interval
  absl::Status last_detect_;                     // the last Detect()'s answer, annotated
  int passes_since_detect_ = 0;
  std::optional<std::string> FindKubepods(const std::string& root) const;
  absl::StatusOr<std::vector<DirEntry>> ListSubdirs(absl::string_view path) const;

  void VisitPod(absl::string_view rel, absl::string_view raw_uid);
  // Reads and exports one cgroup; false when it has vanished.
  bool CollectCgroup(absl::string_view rel, const CgroupLabels& labels);
  bool ReadV2(absl::string_view rel);
  bool ReadV1(absl::string_view rel);
  void Export(const CgroupLabels& labels);

  // Reads `dir`/`file` into content_. kMissing when it does not exist; kError (recorded) for
  // other failures.
  ReadResult Read(absl::string_view dir, absl::string_view rel, absl::string_view file);
  // Records that the file last read (path_) was garbled.
  void Garbled();
  // Reads a single-value file; nullopt when missing or garbled (recorded). "max" is accepted only
  // in limit files (memory.max, pids.max); `exists` (optional) says whether the file exists.
  std::optional<uint64_t> ReadSingle(absl::string_view dir, absl::string_view rel,
                                     absl::string_view file, bool* exists = nullptr);
  void ReadPressure(absl::string_view rel, absl::string_view file, PressureTotals& out);
  absl::string_view DeviceName(uint32_t major, uint32_t minor);

  const HostFilesystem& fs_;
  CgroupSourceOptions options_;
  Layout layout_;

  // State of the current pass.
  const PodIndex* pods_ = nullptr;
  MetricSet* out_ = nullptr;
  std::string path_;     // the path of the file last read
  std::string content_;  // its content
  CgroupStats stats_;
  bool devices_loaded_ = false;
  bool probing_ = false;  // reading the kubepods cgroup: note which optional files are absent
  uint32_t absent_ = 0;   // OptionalFileBit()s of the files absent from the kubepods cgroup
  absl::flat_hash_map<uint64_t, std::string> devices_;  // (major << 32 | minor) -> label
  int garbled_files_ = 0;
  std::string first_garbled_;
  int failed_reads_ = 0;
  absl::Status first_failed_read_;
};

absl::StatusOr<std::vector<DirEntry>> CgroupSource::ListSubdirs(absl::string_view path) const {
  absl::StatusOr<std::vector<DirEntry>> entries = fs_.ListDir(path);
  if (!entries.ok()) return entries;
  entries->erase(
      std::remove_if(entries->begin(), entries->end(), [](const DirEntry& e) { return !e.is_dir; }),
      entries->end());
  std::sort(entries->begin(), entries->end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return entries;
}

// Breadth first, so the shallowest kubepods wins.
std::optional<std::string> CgroupSource::FindKubepods(const std::string& root) const {
  std::deque<std::pair<std::string, int>> queue;  // relative path, its depth
  queue.emplace_back("", 0);
  while (!queue.empty()) {
    auto [rel, depth] = std::move(queue.front());
    queue.pop_front();
    absl::StatusOr<std::vector<DirEntry>> entries = ListSubdirs(absl::StrCat(root, rel));
    if (!entries.ok()) continue;
    for (const DirEntry& e : *entries) {
      if (ClassifyKubeCgroup(e.name) == KubeCgroupKind::kKubepods) {
        return absl::StrCat(rel, "/", e.name);
      }
    }
    if (depth + 1 >= options_.kubepods_search_depth) continue;
    for (const DirEntry& e : *entries) {
      queue.emplace_back(absl::StrCat(rel, "/", e.name), depth + 1);
    }
  }
  return std::nullopt;
}

absl::Status CgroupSource::Detect() {
  layout_ = Layout();
  const std::string& root = options_.cgroup_root;
  if (fs_.ReadFile(absl::StrCat(root, "/cgroup.controllers"), kMaxFileBytes).ok()) {
    layout_.version = Version::kV2;
    layout_.walk_root = layout_.cpu = layout_.cpuacct = layout_.memory = layout_.blkio =
        layout_.pids = root;
  } else {
    auto find = [&](std::initializer_list<absl::string_view> names) -> std::string {
      for (absl::string_view n : names) {
        std::string dir = absl::StrCat(root, "/", n);
        if (fs_.ListDir(dir).ok()) return dir;
      }
      return "";
    };
    layout_.cpu = find({"cpu,cpuacct", "cpu", "cpuacct,cpu"});
    layout_.cpuacct = find({"cpu,cpuacct", "cpuacct", "cpuacct,cpu"});
    layout_.memory = find({"memory"});
    layout_.blkio = find({"blkio"});
    layout_.pids = find({"pids"});
    for (const std::string* c :
         {&layout_.memory, &layout_.cpuacct, &layout_.cpu, &layout_.pids, &layout_.blkio}) {
      if (!c->empty()) {
        layout_.walk_root = *c;
        break;
      }
    }
    if (layout_.walk_root.empty()) {
      return absl::NotFoundError(absl::StrCat("no cgroup v2 (", root,
                                              "/cgroup.controllers) or v1 hierarchy under ", root));
    }
    layout_.version = Version::kV1;
  }
  std::optional<std::string> kubepods = FindKubepods(layout_.walk_root);
  if (!kubepods) {
    Version v = layout_.version;
    std::string walk_root = layout_.walk_root;
    layout_ = Layout();
    return absl::NotFoundError(
        absl::StrCat("no kubepods cgroup within ", options_.kubepods_search_depth, " levels of ",
                     walk_root, " (cgroup ", v == Version::kV2 ? "v2" : "v1", ")"));
  }
  layout_.kubepods = std::move(*kubepods);
  return absl::OkStatus();
}

CgroupSource::ReadResult CgroupSource::Read(absl::string_view dir, absl::string_view rel,
                                            absl::string_view file) {
  if (dir.empty()) return ReadResult::kMissing;  // v1 controller not mounted
  const uint32_t bit = layout_.version == Version::kV2 ? OptionalFileBit(file) : 0;
  if ((absent_ & bit) != 0) return ReadResult::kMissing;
  path_.assign(dir.data(), dir.size());
  path_.append(rel.data(), rel.size());
  path_.push_back('/');
  path_.append(file.data(), file.size());
  absl::StatusOr<std::string> content = fs_.ReadFile(path_, kMaxFileBytes);
  if (content.ok()) {
    content_ = std::move(*content);
    return ReadResult::kOk;
  }
  if (absl::IsNotFound(content.status())) {
    if (probing_) absent_ |= bit;
    return ReadResult::kMissing;
  }
  if (failed_reads_++ == 0) first_failed_read_ = content.status();
  return ReadResult::kError;
}

void CgroupSource::Garbled() {
  if (garbled_files_++ == 0) first_garbled_ = path_;
}

std::optional<uint64_t> CgroupSource::ReadSingle(absl::string_view dir, absl::string_view rel,
                                                 absl::string_view file, bool* exists) {
  ReadResult r = Read(dir, rel, file);
  if (exists != nullptr) *exists = r != ReadResult::kMissing;
  if (r != ReadResult::kOk) return std::nullopt;
  std::optional<uint64_t> v = ParseSingleValue(content_);
  if (v == kCgroupUnlimited && !absl::EndsWith(file, ".max")) v.reset();
  if (!v) Garbled();
  return v;
}

void CgroupSource::ReadPressure(absl::string_view rel, absl::string_view file,
                                PressureTotals& out) {
  if (Read(layout_.walk_root, rel, file) != ReadResult::kOk) return;
  if (!ParsePressure(content_, out)) Garbled();
}

bool CgroupSource::ReadV2(absl::string_view rel) {
  const std::string& root = layout_.walk_root;
  CgroupStats& s = stats_;
  // cpu.stat exists in every v2 cgroup: when it is gone, so is the cgroup.
  ReadResult r = Read(root, rel, "cpu.stat");
  if (r == ReadResult::kMissing) return false;
  if (r == ReadResult::kOk) {
    bool ok = ParseFlatKeyed(content_, [&](absl::string_view key, uint64_t v) {
      if (key == "usage_usec") {
        s.cpu_usage_s = static_cast<double>(v) / 1e6;
      } else if (key == "user_usec") {
        s.cpu_user_s = static_cast<double>(v) / 1e6;
      } else if (key == "system_usec") {
        s.cpu_system_s = static_cast<double>(v) / 1e6;
      } else if (key == "nr_periods") {
        s.cfs_periods = v;
      } else if (key == "nr_throttled") {
        s.cfs_throttled_periods = v;
      } else if (key == "throttled_usec") {
        s.cfs_throttled_s = static_cast<double>(v) / 1e6;
      }
    });
    if (!ok) Garbled();
  }
  s.mem_usage = ReadSingle(root, rel, "memory.current");
  if (Read(root, rel, "memory.stat") == ReadResult::kOk) {
    bool ok = ParseFlatKeyed(content_, [&](absl::string_view key, uint64_t v) {
      if (key == "anon") {
        s.rss = v;
      } else if (key == "file") {
        s.cache = v;
      } else if (key == "file_mapped") {
        s.mapped_file = v;
      } else if (key == "inactive_file") {
        s.inactive_file = v;
      }
    });
    if (!ok) Garbled();
  }
  s.swap = ReadSingle(root, rel, "memory.swap.current");
  s.limit = ReadSingle(root, rel, "memory.max");
  if (Read(root, rel, "memory.events") == ReadResult::kOk) {
    bool ok = ParseFlatKeyed(content_, [&](absl::string_view key, uint64_t v) {
      if (key == "oom_kill") s.oom_kills = v;
    });
    if (!ok) Garbled();
  }
  if (Read(root, rel, "io.stat") == ReadResult::kOk && !ParseIoStatV2(content_, s.io)) Garbled();
  ReadPressure(rel, "cpu.pressure", s.cpu_pressure);
  ReadPressure(rel, "memory.pressure", s.memory_pressure);
  ReadPressure(rel, "io.pressure", s.io_pressure);
  s.threads = ReadSingle(root, rel, "pids.current");
  s.threads_max = ReadSingle(root, rel, "pids.max");
  return true;
}

bool CgroupSource::ReadV1(absl::string_view rel) {
  CgroupStats& s = stats_;
  // The cgroup is gone when its directory is gone from the hierarchy we walk; each controller's
  // directory is checked by its first file.
  bool exists = false;
  bool any = false;
  if (std::optional<uint64_t> ns = ReadSingle(layout_.cpuacct, rel, "cpuacct.usage", &exists)) {
    s.cpu_usage_s = static_cast<double>(*ns) / 1e9;
  }
  any |= exists;
  if (exists && Read(layout_.cpuacct, rel, "cpuacct.stat") == ReadResult::kOk) {
    bool ok = ParseFlatKeyed(content_, [&](absl::string_view key, uint64_t v) {
      if (key == "user") {
        s.cpu_user_s = static_cast<double>(v) / kUserHz;
      } else if (key == "system") {
        s.cpu_system_s = static_cast<double>(v) / kUserHz;
      }
    });
    if (!ok) Garbled();
  }
  ReadResult r = Read(layout_.cpu, rel, "cpu.stat");
  any |= r != ReadResult::kMissing;
  if (r == ReadResult::kOk) {
    bool ok = ParseFlatKeyed(content_, [&](absl::string_view key, uint64_t v) {
      if (key == "nr_periods") {
        s.cfs_periods = v;
      } else if (key == "nr_throttled") {
        s.cfs_throttled_periods = v;
      } else if (key == "throttled_time") {
        s.cfs_throttled_s = static_cast<double>(v) / 1e9;
      }
    });
    if (!ok) Garbled();
  }
  s.mem_usage = ReadSingle(layout_.memory, rel, "memory.usage_in_bytes", &exists);
  any |= exists;
  if (exists) {
    if (Read(layout_.memory, rel, "memory.stat") == ReadResult::kOk) {
      bool ok = ParseFlatKeyed(content_, [&](absl::string_view key, uint64_t v) {
        if (key == "total_rss") {
          s.rss = v;
        } else if (key == "total_cache") {
          s.cache = v;
        } else if (key == "total_mapped_file") {
          s.mapped_file = v;
        } else if (key == "total_inactive_file") {
          s.inactive_file = v;
        } else if (key == "total_swap") {
          s.swap = v;
        }
      });
      if (!ok) Garbled();
    }
    s.limit = ReadSingle(layout_.memory, rel, "memory.limit_in_bytes");
    s.failcnt = ReadSingle(layout_.memory, rel, "memory.failcnt");
    if (Read(layout_.memory, rel, "memory.oom_control") == ReadResult::kOk) {
      bool ok = ParseFlatKeyed(content_, [&](absl::string_view key, uint64_t v) {
        if (key == "oom_kill") s.oom_kills = v;
      });
      if (!ok) Garbled();
    }
  }
  s.io.clear();
  r = Read(layout_.blkio, rel, "blkio.throttle.io_service_bytes_recursive");
  if (r == ReadResult::kMissing) r = Read(layout_.blkio, rel, "blkio.throttle.io_service_bytes");
  any |= r != ReadResult::kMissing;
  if (r == ReadResult::kOk) {
    if (!ParseBlkioV1(content_, BlkioKind::kBytes, s.io)) Garbled();
    r = Read(layout_.blkio, rel, "blkio.throttle.io_serviced_recursive");
    if (r == ReadResult::kMissing) r = Read(layout_.blkio, rel, "blkio.throttle.io_serviced");
    if (r == ReadResult::kOk && !ParseBlkioV1(content_, BlkioKind::kServiced, s.io)) Garbled();
  }
  s.threads = ReadSingle(layout_.pids, rel, "pids.current", &exists);
  any |= exists;
  if (exists) s.threads_max = ReadSingle(layout_.pids, rel, "pids.max");
  return any;
}

absl::string_view CgroupSource::DeviceName(uint32_t major, uint32_t minor) {
  if (!devices_loaded_) {
    devices_loaded_ = true;
    devices_.clear();
    // /proc/diskstats: "MAJ MIN NAME counters..." per line. A missing or odd file only costs
    // the names.
    absl::StatusOr<std::string> content = fs_.ReadFile(options_.diskstats_path, kMaxFileBytes);
    if (content.ok()) {
      absl::string_view rest = *content;
      while (!rest.empty()) {
        size_t nl = rest.find('\n');
        absl::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl == absl::string_view::npos ? rest.size() : nl + 1);
        absl::string_view f[3];
        size_t n = 0;
        for (size_t i = 0; n < 3 && i < line.size();) {
          while (i < line.size() && line[i] == ' ') ++i;
          size_t j = i;
          while (j < line.size() && line[j] != ' ') ++j;
          if (j > i) f[n++] = line.substr(i, j - i);
          i = j;
        }
        uint32_t ma, mi;
        if (n == 3 && absl::SimpleAtoi(f[0], &ma) && absl::SimpleAtoi(f[1], &mi)) {
          devices_.try_emplace(uint64_t{ma} << 32 | mi, absl::StrCat("/dev/", f[2]));
        }
      }
    }
  }
  const uint64_t key = uint64_t{major} << 32 | minor;
  auto it = devices_.find(key);
  if (it == devices_.end()) {
    it = devices_.try_emplace(key, absl::StrCat(major, ":", minor)).first;
  }
  return it->second;
}

void CgroupSource::Export(const CgroupLabels& l) {
  MetricSet& out = *out_;
  const CgroupStats& s = stats_;
  auto emit = [&](const Family& f, double v) {
    out.Add(
        f.name, f.help, f.type,
        {{"container", l.container}, {"id", l.id}, {"namespace", l.namespace_name}, {"pod", l.pod}},
        v);
  };
  auto emit_opt = [&](const Family& f, const auto& v) {
    if (v.has_value()) emit(f, static_cast<double>(*v));
  };
  if (s.cpu_usage_s) {
    out.Add(kCpuUsage.name, kCpuUsage.help, kCpuUsage.type,
            {{"container", l.container},
             {"cpu", "total"},
             {"id", l.id},
             {"namespace", l.namespace_name},
             {"pod", l.pod}},
            *s.cpu_usage_s);
  }
  emit_opt(kCpuUser, s.cpu_user_s);
  emit_opt(kCpuSystem, s.cpu_system_s);
  if (s.cfs_periods.value_or(0) > 0) {
    emit_opt(kCfsPeriods, s.cfs_periods);
    emit_opt(kCfsThrottledPeriods, s.cfs_throttled_periods);
    emit_opt(kCfsThrottledSeconds, s.cfs_throttled_s);
  }
  if (s.mem_usage) {
    emit(kMemUsage, static_cast<double>(*s.mem_usage));
    uint64_t inactive = s.inactive_file.value_or(0);
    emit(kMemWorkingSet,
         static_cast<double>(*s.mem_usage > inactive ? *s.mem_usage - inactive : 0));
  }
  emit_opt(kMemRss, s.rss);
  emit_opt(kMemCache, s.cache);
  emit_opt(kMemMapped, s.mapped_file);
  emit_opt(kMemSwap, s.swap);
  if (s.limit) emit(kMemLimit, IsUnlimited(*s.limit) ? 0 : static_cast<double>(*s.limit));
  emit_opt(kMemFailcnt, s.failcnt);
  emit_opt(kOomEvents, s.oom_kills);
  for (const IoDeviceStat& d : s.io) {
    absl::string_view device = DeviceName(d.major, d.minor);
    auto emit_io = [&](const Family& f, uint64_t v) {
      out.Add(f.name, f.help, f.type,
              {{"container", l.container},
               {"device", device},
               {"id", l.id},
               {"namespace", l.namespace_name},
               {"pod", l.pod}},
              static_cast<double>(v));
    };
    emit_io(kFsReadBytes, d.read_bytes);
    emit_io(kFsWriteBytes, d.write_bytes);
    emit_io(kFsReads, d.reads);
    emit_io(kFsWrites, d.writes);
  }
  for (const auto& [totals, families] :
       {std::pair{&s.cpu_pressure, &kCpuPressure}, std::pair{&s.memory_pressure, &kMemoryPressure},
        std::pair{&s.io_pressure, &kIoPressure}}) {
    if (totals->some_us) emit(families->waiting, static_cast<double>(*totals->some_us) / 1e6);
    if (totals->full_us) emit(families->stalled, static_cast<double>(*totals->full_us) / 1e6);
  }
  emit_opt(kThreads, s.threads);
  if (s.threads_max) {
    emit(kThreadsMax, *s.threads_max == kCgroupUnlimited ? 0 : static_cast<double>(*s.threads_max));
  }
}

bool CgroupSource::CollectCgroup(absl::string_view rel, const CgroupLabels& labels) {
  std::vector<IoDeviceStat> io = std::move(stats_.io);
  stats_ = CgroupStats();
  io.clear();
  stats_.io = std::move(io);
  bool exists = layout_.version == Version::kV2 ? ReadV2(rel) : ReadV1(rel);
  if (exists) Export(labels);
  return exists;
}

void CgroupSource::VisitPod(absl::string_view rel, absl::string_view raw_uid) {
  const PodMeta* pod = pods_ != nullptr ? pods_->FindPod(raw_uid) : nullptr;
  CgroupLabels labels;
  labels.id = rel;
  if (pod != nullptr) {
    labels.namespace_name = pod->namespace_name;
    labels.pod = pod->name;
  }
  if (!CollectCgroup(rel, labels)) return;
  absl::StatusOr<std::vector<DirEntry>> entries = ListSubdirs(absl::StrCat(layout_.walk_root, rel));
  if (!entries.ok()) return;  // vanished since
  std::string child;
  for (const DirEntry& e : *entries) {
    std::optional<ContainerScope> scope = ParseContainerScope(e.name);
    if (!scope) continue;
    child = absl::StrCat(rel, "/", e.name);
    labels.id = child;
    labels.container = {};
    if (pod != nullptr) {
      const ContainerMeta* c = pods_->FindContainer(scope->id).second;
      if (c != nullptr) labels.container = c->name;
    }
    CollectCgroup(child, labels);
  }
}

absl::Status CgroupSource::Collect(const PassContext& ctx, MetricSet& out) {
  pods_ = ctx.pods.get();
  out_ = &out;
  devices_loaded_ = false;
  absent_ = 0;
  garbled_files_ = 0;
  first_garbled_.clear();
  failed_reads_ = 0;
  first_failed_read_ = absl::OkStatus();

  absl::StatusOr<std::vector<DirEntry>> top;
  if (layout_.version != Version::kNone) {
    top = ListSubdirs(absl::StrCat(layout_.walk_root, layout_.kubepods));
  }
  if (layout_.version == Version::kNone || absl::IsNotFound(top.status())) {
    // Searching the hierarchy costs more than a pass over a small node: after a search that
    // found no kubepods (a machine that is not a Kubernetes node), search again only every
    // kDetectEveryPasses passes and report the last answer in between.
    if (!last_detect_.ok() && ++passes_since_detect_ < kDetectEveryPasses) {
      return last_detect_;
    }
    passes_since_detect_ = 0;
    absl::Status detected = Detect();
    last_detect_ = detected.ok() ? detected : Annotate(detected, "cgroup: ");
    if (!detected.ok()) return last_detect_;
    top = ListSubdirs(absl::StrCat(layout_.walk_root, layout_.kubepods));
  }
  if (!top.ok()) return Annotate(top.status(), "cgroup: list kubepods: ");

  const std::string kubepods = layout_.kubepods;
  if (options_.export_hierarchy_cgroups) {
    probing_ = true;
    CollectCgroup(kubepods, IdOnly(kubepods));
    probing_ = false;
  }
  std::string rel;
  for (const DirEntry& e : *top) {
    rel = absl::StrCat(kubepods, "/", e.name);
    switch (ClassifyKubeCgroup(e.name)) {
      case KubeCgroupKind::kPod:
        VisitPod(rel, ParsePodCgroupName(e.name));
        break;
      case KubeCgroupKind::kQos: {
        if (options_.export_hierarchy_cgroups) CollectCgroup(rel, IdOnly(rel));
        absl::StatusOr<std::vector<DirEntry>> pods =
            ListSubdirs(absl::StrCat(layout_.walk_root, rel));
        if (!pods.ok()) break;
        for (const DirEntry& p : *pods) {
          absl::string_view uid = ParsePodCgroupName(p.name);
          if (!uid.empty()) VisitPod(absl::StrCat(rel, "/", p.name), uid);
        }
        break;
      }
      default:
        break;
    }
  }
  pods_ = nullptr;
  out_ = nullptr;

  if (garbled_files_ == 0 && failed_reads_ == 0) return absl::OkStatus();
  std::string message = "cgroup:";
  if (garbled_files_ > 0) {
    absl::StrAppend(&message, " ", garbled_files_, " garbled file(s) (first: ", first_garbled_,
                    ")");
  }
  if (failed_reads_ > 0) {
    absl::StrAppend(&message, garbled_files_ > 0 ? ";" : "", " ", failed_reads_,
                    " unreadable file(s) (first: ", first_failed_read_.message(), ")");
  }
  return absl::Status(
      garbled_files_ > 0 ? absl::StatusCode::kInvalidArgument : first_failed_read_.code(), message);
}

}  // namespace

std::unique_ptr<Source> NewCgroupSource(const HostFilesystem& fs,
                                        const CgroupSourceOptions& options) {
  return std::make_unique<CgroupSource>(fs, options);
}

}  // namespace sextant::collector
