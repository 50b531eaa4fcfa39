// Node_exporter-like series for storage benchmarks: a fleet of nodes, each with the label sets
// and value behaviour of a node_exporter 1.x target scraped by Prometheus (cpu, memory, disk,
// network, filesystem, system, the exporter's own process/Go metrics and the scrape's own
// series). Shared by bench/chunk_bench.cc and bench/remote_write_loadgen.cc so both see the same
// data.
//
// Values are made the way the kernel and node_exporter make them: an integer count of some unit
// (USER_HZ ticks, kB, 512-byte sectors, ms, ns) that is scaled on output (ticks / 100.0,
// kB * 1024), so counters rise by whole units and gauges move by whole units. Everything is
// deterministic: a series' values depend only on its fleet position and the interval.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "prom/labels.h"

namespace sextant::bench {

// SplitMix64: small, fast and good enough for synthetic data.
class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform integer in [-n, n].
  int64_t Symmetric(int64_t n) {
    if (n <= 0) return 0;
    return static_cast<int64_t>(Next() % static_cast<uint64_t>(2 * n + 1)) - n;
  }

 private:
  uint64_t state_;
};

// How one series' values evolve, in integer units; the sample value is
// units * multiplier / divisor (node_exporter's own arithmetic, e.g. ticks / 100.0).
struct NodeValueModel {
  enum class Kind {
    kConstant,  // never changes (totals, info metrics, error counters that stay 0)
    kCounter,   // rises by a random whole number of units per step
    kGauge,     // wanders: each step it changes with probability 1 - hold, by up to `step`
    kNoise,     // a fresh value each step, uniform in initial +- step (durations, frequencies)
  };
  Kind kind = Kind::kConstant;
  double multiplier = 1;
  double divisor = 1;
  int64_t initial = 0;
  // kCounter: mean increase in units per second; the increase varies uniformly by +-spread of
  // its mean and is 0 with probability `hold`.
  double rate = 0;
  double spread = 0;
  // kCounter, kGauge: probability that a step leaves the value unchanged.
  double hold = 0;
  // kGauge: largest change per step; kNoise: half-width.
  int64_t step = 0;
  // kGauge: clamp.
  int64_t min = 0;
  int64_t max = std::numeric_limits<int64_t>::max();

  double Value(int64_t units) const { return static_cast<double>(units) * multiplier / divisor; }
};

// One series of the fleet.
struct NodeSeries {
  std::vector<prom::Label> labels;  // sorted by name, __name__ included
  NodeValueModel model;
  const char* group = "";  // "cpu", "memory", "disk", "network", "filesystem", "system", ...
};

// Produces one series' values, one per step of `interval_ms`. The first call returns the
// initial value. Thread-compatible.
class NodeValueStream {
 public:
  NodeValueStream(const NodeValueModel& model, uint64_t seed, int64_t interval_ms)
      : model_(&model),
        rng_(seed),
        units_(model.initial),
        step_mean_(model.rate * static_cast<double>(interval_ms) / 1000.0) {}

  double Next() {
    if (first_) {
      first_ = false;
      return model_->Value(units_);
    }
    const NodeValueModel& m = *model_;
    switch (m.kind) {
      case NodeValueModel::Kind::kConstant:
        break;
      case NodeValueModel::Kind::kCounter:
        if (rng_.Uniform() >= m.hold) {
          // Stochastic rounding keeps the mean right for increases under one unit.
          double inc = step_mean_ * (1 + m.spread * (2 * rng_.Uniform() - 1));
          units_ += static_cast<int64_t>(std::floor(std::max(0.0, inc) + rng_.Uniform()));
        }
        break;
      case NodeValueModel::Kind::kGauge:
        if (rng_.Uniform() >= m.hold) {
          units_ = std::clamp(units_ + rng_.Symmetric(m.step), m.min, m.max);
        }
        break;
      case NodeValueModel::Kind::kNoise:
        units_ = m.initial + rng_.Symmetric(m.step);
        break;
    }
    return m.Value(units_);
  }

 private:
  const NodeValueModel* model_;
  SplitMix rng_;
  int64_t units_;
  double step_mean_;
  bool first_ = true;
};

namespace node_data_internal {

using Kind = NodeValueModel::Kind;

// Collects one node's series.
class NodeBuilder {
 public:
  NodeBuilder(int node, int64_t start_ms, std::vector<NodeSeries>& out)
      : start_ms_(start_ms),
        rng_(0x5e87a47ULL * (node + 1)),
        instance_(absl::StrFormat("node-%05d.example.net:9100", node)),
        uptime_s_(100'000 + static_cast<int64_t>(rng_.Uniform() * 5'000'000)),
        out_(out) {}

  int64_t uptime_s() const { return uptime_s_; }
  int64_t start_ms() const { return start_ms_; }
  SplitMix& rng() { return rng_; }

  void Add(const char* group, absl::string_view name,
           std::vector<std::pair<std::string, std::string>> extra, NodeValueModel m) {
    NodeSeries s;
    s.group = group;
    s.labels.push_back({std::string(prom::kMetricNameLabel), std::string(name)});
    s.labels.push_back({"instance", instance_});
    s.labels.push_back({"job", "node"});
    for (auto& [k, v] : extra) s.labels.push_back({std::move(k), std::move(v)});
    std::sort(s.labels.begin(), s.labels.end(),
              [](const prom::Label& a, const prom::Label& b) { return a.name < b.name; });
    s.model = m;
    out_.push_back(std::move(s));
  }

  // A constant (kept exact: multiplier = value).
  static NodeValueModel Const(double value) {
    NodeValueModel m;
    m.kind = Kind::kConstant;
    m.initial = 1;
    m.multiplier = value;
    return m;
  }
  // A counter of `rate` units per second that has run for the node's uptime.
  NodeValueModel Counter(double rate, double spread, double hold = 0, double multiplier = 1,
                         double divisor = 1) {
    NodeValueModel m;
    m.kind = Kind::kCounter;
    m.rate = rate;
    m.spread = spread;
    m.hold = hold;
    m.multiplier = multiplier;
    m.divisor = divisor;
    m.initial = static_cast<int64_t>(rate * (1 - hold) * static_cast<double>(uptime_s_) *
                                     (0.8 + 0.4 * rng_.Uniform()));
    return m;
  }
  // A gauge starting near `level` (+-20%) that moves by up to `step` units with probability
  // 1 - hold per step, within [min, max].
  NodeValueModel Gauge(int64_t level, int64_t step, double hold, double multiplier = 1,
                       double divisor = 1, int64_t min = 0,
                       int64_t max = std::numeric_limits<int64_t>::max()) {
    NodeValueModel m;
    m.kind = Kind::kGauge;
    m.initial = std::clamp(
        level + static_cast<int64_t>(static_cast<double>(level) * 0.2 * (2 * rng_.Uniform() - 1)),
        min, max);
    m.step = step;
    m.hold = hold;
    m.multiplier = multiplier;
    m.divisor = divisor;
    m.min = min;
    m.max = max;
    return m;
  }
  static NodeValueModel Noise(int64_t center, int64_t half_width, double multiplier = 1,
                              double divisor = 1) {
    NodeValueModel m;
    m.kind = Kind::kNoise;
    m.initial = center;
    m.step = half_width;
    m.multiplier = multiplier;
    m.divisor = divisor;
    return m;
  }

 private:
  int64_t start_ms_;
  SplitMix rng_;
  std::string instance_;
  int64_t uptime_s_;
  std::vector<NodeSeries>& out_;
};

inline void AddCpu(NodeBuilder& b) {
  constexpr int kCpus = 8;
  // USER_HZ ticks per second per cpu (100 in all), how much they vary, how often they stall.
  struct Mode {
    const char* name;
    double rate, spread, hold;
  };
  static constexpr Mode kModes[] = {
      {"idle", 82, 0.15, 0},   {"user", 10, 0.8, 0},     {"system", 4, 0.7, 0},
      {"iowait", 1.5, 1, 0.3}, {"softirq", 0.6, 1, 0.2}, {"irq", 0, 0, 1},
      {"nice", 0.05, 1, 0.9},  {"steal", 0.2, 1, 0.5},
  };
  for (int c = 0; c < kCpus; ++c) {
    std::string cpu = absl::StrCat(c);
    for (const Mode& mode : kModes) {
      b.Add("cpu", "node_cpu_seconds_total", {{"cpu", cpu}, {"mode", mode.name}},
            b.Counter(mode.rate, mode.spread, mode.hold, 1, 100));
    }
    for (const char* mode : {"nice", "user"}) {
      b.Add("cpu", "node_cpu_guest_seconds_total", {{"cpu", cpu}, {"mode", mode}}, b.Const(0));
    }
    // intel_pstate reports arbitrary kHz values.
    b.Add("cpu", "node_cpu_scaling_frequency_hertz", {{"cpu", cpu}},
          b.Noise(2'400'000, 1'000'000, 1000));
    b.Add("cpu", "node_schedstat_running_seconds_total", {{"cpu", cpu}},
          b.Counter(0.18e9, 0.6, 0, 1, 1e9));
    b.Add("cpu", "node_schedstat_waiting_seconds_total", {{"cpu", cpu}},
          b.Counter(0.01e9, 1, 0, 1, 1e9));
    b.Add("cpu", "node_schedstat_timeslices_total", {{"cpu", cpu}}, b.Counter(400, 0.6));
    b.Add("cpu", "node_softnet_processed_total", {{"cpu", cpu}}, b.Counter(300, 0.8));
    b.Add("cpu", "node_softnet_dropped_total", {{"cpu", cpu}}, b.Const(0));
    b.Add("cpu", "node_softnet_times_squeezed_total", {{"cpu", cpu}}, b.Counter(0.01, 0, 0.97));
  }
}

inline void AddMemory(NodeBuilder& b) {
  const double kKiB = 1024;
  struct Constant {
    const char* name;
    double kb;
  };
  static constexpr Constant kConstants[] = {
      {"MemTotal", 65'842'124},
      {"SwapTotal", 0},
      {"SwapFree", 0},
      {"SwapCached", 0},
      {"Unevictable", 18'432},
      {"Mlocked", 18'432},
      {"NFS_Unstable", 0},
      {"Bounce", 0},
      {"WritebackTmp", 0},
      {"CommitLimit", 32'921'060},
      {"VmallocTotal", 34'359'738'367},
      {"VmallocChunk", 0},
      {"HardwareCorrupted", 0},
      {"Hugepagesize", 2048},
      {"Hugetlb", 0},
      {"DirectMap4k", 1'043'544},
      {"DirectMap2M", 30'326'784},
      {"DirectMap1G", 35'651'584},
      {"ShmemHugePages", 0},
      {"ShmemPmdMapped", 0},
      {"FileHugePages", 0},
      {"FilePmdMapped", 0},
      {"Percpu", 41'472},
  };
  for (const Constant& c : kConstants) {
    b.Add("memory", absl::StrCat("node_memory_", c.name, "_bytes"), {}, b.Const(c.kb * kKiB));
  }
  for (const char* name :
       {"HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp"}) {
    b.Add("memory", absl::StrCat("node_memory_", name), {}, b.Const(0));
  }
  // kB level, kB step, hold probability.
  struct Wander {
    const char* name;
    int64_t level, step;
    double hold;
  };
  static constexpr Wander kGauges[] = {
      {"MemFree", 8'000'000, 50'000, 0.05},
      {"MemAvailable", 40'000'000, 50'000, 0.05},
      {"Buffers", 900'000, 200, 0.3},
      {"Cached", 30'000'000, 20'000, 0.1},
      {"Active", 20'000'000, 20'000, 0.1},
      {"Inactive", 25'000'000, 20'000, 0.1},
      {"Active_anon", 15'000'000, 10'000, 0.1},
      {"Inactive_anon", 500'000, 1'000, 0.5},
      {"Active_file", 6'000'000, 10'000, 0.1},
      {"Inactive_file", 24'000'000, 10'000, 0.1},
      {"Dirty", 20'000, 5'000, 0.05},
      {"Writeback", 100, 100, 0.8},
      {"AnonPages", 15'000'000, 10'000, 0.1},
      {"Mapped", 1'500'000, 2'000, 0.4},
      {"Shmem", 300'000, 200, 0.7},
      {"KReclaimable", 1'200'000, 500, 0.4},
      {"Slab", 2'000'000, 1'000, 0.2},
      {"SReclaimable", 1'200'000, 500, 0.4},
      {"SUnreclaim", 800'000, 500, 0.3},
      {"KernelStack", 30'000, 100, 0.3},
      {"PageTables", 100'000, 500, 0.2},
      {"Committed_AS", 40'000'000, 10'000, 0.2},
      {"VmallocUsed", 150'000, 100, 0.7},
      {"AnonHugePages", 2'000'000, 2'048, 0.7},
  };
  for (const Wander& g : kGauges) {
    b.Add("memory", absl::StrCat("node_memory_", g.name, "_bytes"), {},
          b.Gauge(g.level, g.step, g.hold, kKiB));
  }
}

inline void AddDisks(NodeBuilder& b) {
  struct Device {
    const char* name;
    const char* major;
    const char* minor;
    double load;  // activity relative to a busy data disk
  };
  static constexpr Device kDevices[] = {{"sda", "8", "0", 0.3},
                                        {"sdb", "8", "16", 0.05},
                                        {"nvme0n1", "259", "0", 1},
                                        {"dm-0", "253", "0", 0.3}};
  for (const Device& d : kDevices) {
    auto add = [&](const char* name, NodeValueModel m) {
      b.Add("disk", name, {{"device", d.name}}, m);
    };
    double l = d.load;
    add("node_disk_reads_completed_total", b.Counter(20 * l, 1, 0.1));
    add("node_disk_reads_merged_total", b.Counter(2 * l, 1, 0.5));
    add("node_disk_read_bytes_total", b.Counter(640 * l, 1, 0.1, 512));
    add("node_disk_read_time_seconds_total", b.Counter(10 * l, 1, 0.1, 1, 1000));
    add("node_disk_writes_completed_total", b.Counter(50 * l, 0.8, 0.05));
    add("node_disk_writes_merged_total", b.Counter(15 * l, 1, 0.2));
    add("node_disk_written_bytes_total", b.Counter(1600 * l, 0.8, 0.05, 512));
    add("node_disk_write_time_seconds_total", b.Counter(40 * l, 1, 0.05, 1, 1000));
    add("node_disk_io_now", b.Gauge(1, 2, 0.7, 1, 1, 0, 8));
    add("node_disk_io_time_seconds_total", b.Counter(30 * l, 0.5, 0.05, 1, 1000));
    add("node_disk_io_time_weighted_seconds_total", b.Counter(50 * l, 1, 0.05, 1, 1000));
    add("node_disk_discards_completed_total", b.Counter(0.02, 0, 0.9));
    add("node_disk_discards_merged_total", b.Const(0));
    add("node_disk_discarded_sectors_total", b.Counter(100, 1, 0.9));
    add("node_disk_discard_time_seconds_total", b.Counter(0.1, 1, 0.9, 1, 1000));
    add("node_disk_flush_requests_total", b.Counter(2 * l, 1, 0.2));
    add("node_disk_flush_requests_time_seconds_total", b.Counter(1 * l, 1, 0.3, 1, 1000));
    b.Add("disk", "node_disk_info", {{"device", d.name}, {"major", d.major}, {"minor", d.minor}},
          b.Const(1));
  }
}

inline void AddNetwork(NodeBuilder& b) {
  struct Device {
    const char* name;
    double load;  // bytes per second received
    double mtu, speed;
  };
  static constexpr Device kDevices[] = {
      {"eth0", 2e6, 1500, 1.25e9}, {"eth1", 5e4, 1500, 1.25e9}, {"lo", 3e5, 65536, 0}};
  for (const Device& d : kDevices) {
    auto add = [&](const char* name, NodeValueModel m) {
      b.Add("network", name, {{"device", d.name}}, m);
    };
    double l = d.load;
    add("node_network_receive_bytes_total", b.Counter(l, 0.8));
    add("node_network_receive_packets_total", b.Counter(l / 1000, 0.8));
    add("node_network_receive_errs_total", b.Const(0));
    add("node_network_receive_drop_total", b.Counter(0.01, 0, 0.95));
    add("node_network_receive_fifo_total", b.Const(0));
    add("node_network_receive_frame_total", b.Const(0));
    add("node_network_receive_compressed_total", b.Const(0));
    add("node_network_receive_multicast_total", b.Counter(0.5, 1, 0.5));
    add("node_network_receive_nohandler_total", b.Const(0));
    add("node_network_transmit_bytes_total", b.Counter(l / 2, 0.8));
    add("node_network_transmit_packets_total", b.Counter(l / 1300, 0.8));
    add("node_network_transmit_errs_total", b.Const(0));
    add("node_network_transmit_drop_total", b.Const(0));
    add("node_network_transmit_fifo_total", b.Const(0));
    add("node_network_transmit_colls_total", b.Const(0));
    add("node_network_transmit_carrier_total", b.Const(0));
    add("node_network_transmit_compressed_total", b.Const(0));
    add("node_network_up", b.Const(1));
    add("node_network_mtu_bytes", b.Const(d.mtu));
    add("node_network_speed_bytes", b.Const(d.speed));
    add("node_network_carrier", b.Const(1));
    add("node_network_carrier_changes_total", b.Const(2));
    add("node_network_iface_id", b.Const(2));
    add("node_network_transmit_queue_length", b.Const(1000));
    add("node_network_flags", b.Const(4099));
    add("node_network_dormant", b.Const(0));
    add("node_network_protocol_type", b.Const(1));
    b.Add("network", "node_network_info",
          {{"device", d.name}, {"address", "02:42:ac:11:00:02"}, {"operstate", "up"}}, b.Const(1));
  }
}

inline void AddFilesystems(NodeBuilder& b) {
  struct Mount {
    const char* device;
    const char* fstype;
    const char* mountpoint;
    int64_t blocks;      // 4 KiB blocks
    int64_t avail_step;  // blocks per step
    double hold;
  };
  static constexpr Mount kMounts[] = {
      {"/dev/sda1", "ext4", "/", 25'000'000, 500, 0.3},
      {"/dev/sda2", "vfat", "/boot/efi", 130'000, 0, 1},
      {"/dev/nvme0n1p1", "xfs", "/var/lib/docker", 240'000'000, 5'000, 0.2},
      {"tmpfs", "tmpfs", "/run", 1'600'000, 10, 0.6},
      {"tmpfs", "tmpfs", "/dev/shm", 8'000'000, 0, 1}};
  for (const Mount& m : kMounts) {
    auto add = [&](const char* name, NodeValueModel model) {
      b.Add("filesystem", name,
            {{"device", m.device}, {"fstype", m.fstype}, {"mountpoint", m.mountpoint}}, model);
    };
    add("node_filesystem_size_bytes", b.Const(static_cast<double>(m.blocks) * 4096));
    add("node_filesystem_avail_bytes", b.Gauge(m.blocks / 2, m.avail_step, m.hold, 4096));
    add("node_filesystem_free_bytes", b.Gauge(m.blocks * 11 / 20, m.avail_step, m.hold, 4096));
    add("node_filesystem_files", b.Const(static_cast<double>(m.blocks / 4)));
    add("node_filesystem_files_free", b.Gauge(m.blocks / 5, 50, m.hold));
    add("node_filesystem_readonly", b.Const(0));
    add("node_filesystem_device_error", b.Const(0));
  }
}

inline void AddSystem(NodeBuilder& b) {
  auto add = [&](absl::string_view name, NodeValueModel m) { b.Add("system", name, {}, m); };
  add("node_load1", b.Gauge(150, 40, 0.05, 1, 100, 0, 1600));
  add("node_load5", b.Gauge(150, 15, 0.1, 1, 100, 0, 1600));
  add("node_load15", b.Gauge(150, 5, 0.2, 1, 100, 0, 1600));
  add("node_context_switches_total", b.Counter(20'000, 0.3));
  add("node_intr_total", b.Counter(15'000, 0.3));
  add("node_forks_total", b.Counter(10, 1));
  add("node_procs_running", b.Gauge(3, 3, 0.2, 1, 1, 1, 20));
  add("node_procs_blocked", b.Gauge(0, 1, 0.7, 1, 1, 0, 5));
  add("node_boot_time_seconds", b.Const(static_cast<double>(b.start_ms() / 1000 - b.uptime_s())));
  // Wall clock with nanoseconds: a fresh 52-bit mantissa every step.
  NodeValueModel time = b.Counter(1e9, 1e-4, 0, 1, 1e9);
  time.initial = b.start_ms() * 1'000'000 + static_cast<int64_t>(b.rng().Uniform() * 1e7);
  add("node_time_seconds", time);
  add("node_entropy_available_bits", b.Const(256));
  add("node_entropy_pool_size_bits", b.Const(256));
  add("node_filefd_allocated", b.Gauge(12'000, 30, 0.2));
  add("node_filefd_maximum", b.Const(9.223372036854776e18));
  add("node_vmstat_pgfault", b.Counter(5'000, 0.5));
  add("node_vmstat_pgmajfault", b.Counter(0.5, 1, 0.6));
  add("node_vmstat_pgpgin", b.Counter(300, 1, 0.2));
  add("node_vmstat_pgpgout", b.Counter(800, 0.8));
  add("node_vmstat_pswpin", b.Const(0));
  add("node_vmstat_pswpout", b.Const(0));
  add("node_vmstat_oom_kill", b.Const(0));
  add("node_netstat_Tcp_ActiveOpens", b.Counter(3, 1, 0.1));
  add("node_netstat_Tcp_PassiveOpens", b.Counter(5, 1, 0.1));
  add("node_netstat_Tcp_CurrEstab", b.Gauge(150, 5, 0.3));
  add("node_netstat_Tcp_InSegs", b.Counter(1'500, 0.5));
  add("node_netstat_Tcp_OutSegs", b.Counter(1'400, 0.5));
  add("node_netstat_Tcp_RetransSegs", b.Counter(0.5, 1, 0.5));
  add("node_netstat_Udp_InDatagrams", b.Counter(20, 0.5));
  add("node_netstat_Udp_OutDatagrams", b.Counter(20, 0.5));
  add("node_netstat_Udp_InErrors", b.Const(0));
  add("node_netstat_Ip_Forwarding", b.Const(1));
  add("node_netstat_TcpExt_ListenDrops", b.Const(0));
  add("node_netstat_TcpExt_ListenOverflows", b.Const(0));
  add("node_netstat_TcpExt_SyncookiesSent", b.Const(0));
  add("node_netstat_Icmp_InMsgs", b.Counter(0.1, 1, 0.8));
  add("node_sockstat_sockets_used", b.Gauge(800, 10, 0.2));
  add("node_sockstat_TCP_inuse", b.Gauge(60, 3, 0.4));
  add("node_sockstat_TCP_tw", b.Gauge(40, 8, 0.1));
  add("node_sockstat_TCP_alloc", b.Gauge(70, 3, 0.4));
  add("node_sockstat_TCP_mem_bytes", b.Gauge(40, 5, 0.3, 4096));
  add("node_sockstat_UDP_inuse", b.Gauge(8, 1, 0.9));
  // PSI totals are microseconds.
  add("node_pressure_cpu_waiting_seconds_total", b.Counter(20'000, 1, 0, 1, 1e6));
  add("node_pressure_io_waiting_seconds_total", b.Counter(5'000, 1, 0.1, 1, 1e6));
  add("node_pressure_io_stalled_seconds_total", b.Counter(3'000, 1, 0.1, 1, 1e6));
  add("node_pressure_memory_waiting_seconds_total", b.Counter(10, 1, 0.9, 1, 1e6));
  add("node_pressure_memory_stalled_seconds_total", b.Counter(5, 1, 0.9, 1, 1e6));
  b.Add("system", "node_uname_info",
        {{"machine", "x86_64"},
         {"nodename", "node"},
         {"release", "6.1.0-13-amd64"},
         {"sysname", "Linux"}},
        b.Const(1));
  b.Add("system", "node_os_info", {{"id", "debian"}, {"version_id", "12"}}, b.Const(1));
}

// node_exporter's own metrics and the series Prometheus adds for each scrape.
inline void AddExporter(NodeBuilder& b, int series_per_node) {
  auto add = [&](absl::string_view name, NodeValueModel m) { b.Add("exporter", name, {}, m); };
  add("process_cpu_seconds_total", b.Counter(1, 1, 0, 1, 100));
  add("process_resident_memory_bytes", b.Gauge(5'000, 500, 0.1, 4096));
  add("process_virtual_memory_bytes", b.Gauge(180'000, 100, 0.7, 4096));
  add("process_open_fds", b.Gauge(10, 1, 0.7, 1, 1, 5, 50));
  add("process_max_fds", b.Const(524'288));
  add("process_start_time_seconds", b.Const(1'699'000'000.37));
  add("go_goroutines", b.Gauge(8, 1, 0.7, 1, 1, 6, 20));
  add("go_threads", b.Gauge(10, 1, 0.95));
  add("go_memstats_alloc_bytes", b.Noise(3'000'000, 2'000'000));
  add("go_memstats_alloc_bytes_total", b.Counter(200'000, 0.5));
  add("go_memstats_heap_inuse_bytes", b.Gauge(600, 50, 0.1, 8192));
  for (const char* q : {"0", "0.25", "0.5", "0.75", "1"}) {
    b.Add("exporter", "go_gc_duration_seconds", {{"quantile", q}},
          b.Gauge(40'000, 20'000, 0.7, 1, 1e9, 5'000));
  }
  add("go_gc_duration_seconds_sum", b.Counter(4'000, 1, 0.7, 1, 1e9));
  add("go_gc_duration_seconds_count", b.Counter(0.1, 0, 0.7));
  b.Add("exporter", "promhttp_metric_handler_requests_total", {{"code", "200"}},
        b.Counter(1.0 / 15, 0));
  b.Add("scrape", "up", {}, b.Const(1));
  b.Add("scrape", "scrape_duration_seconds", {}, b.Noise(30'000'000, 20'000'000, 1, 1e9));
  b.Add("scrape", "scrape_samples_scraped", {}, b.Const(series_per_node - 5));
  b.Add("scrape", "scrape_samples_post_metric_relabeling", {}, b.Const(series_per_node - 5));
  b.Add("scrape", "scrape_series_added", {}, b.Const(0));
}

inline void AddNode(int node, int64_t start_ms, std::vector<NodeSeries>& out, int series_per_node) {
  NodeBuilder b(node, start_ms, out);
  AddCpu(b);
  AddMemory(b);
  AddDisks(b);
  AddNetwork(b);
  AddFilesystems(b);
  AddSystem(b);
  AddExporter(b, series_per_node);
}

}  // namespace node_data_internal

// Series per node in MakeNodeFleet.
inline int NodeSeriesPerNode() {
  static const int n = [] {
    std::vector<NodeSeries> one;
    node_data_internal::AddNode(0, 0, one, 0);
    return static_cast<int>(one.size());
  }();
  return n;
}

// The first `num_series` series of a fleet of nodes node-00000, node-00001, ... (the last node
// may be partial). Series i's values come from NodeValueStream(fleet[i].model, NodeSeed(i), ...).
// `start_ms` is the first sample's time, which node_time_seconds and node_boot_time_seconds
// follow.
inline std::vector<NodeSeries> MakeNodeFleet(int num_series, int64_t start_ms = 1'700'000'000'000) {
  std::vector<NodeSeries> out;
  out.reserve(num_series + NodeSeriesPerNode());
  for (int node = 0; static_cast<int>(out.size()) < num_series; ++node) {
    node_data_internal::AddNode(node, start_ms, out, NodeSeriesPerNode());
  }
  out.resize(num_series);
  return out;
}

// The value stream seed of fleet series `i`.
inline uint64_t NodeSeed(int i) { return 0xc0ffee00ULL + static_cast<uint64_t>(i) * 7919; }

}  // namespace sextant::bench
