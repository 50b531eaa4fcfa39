// The collector's pass cost: the node sources over this machine's /proc, the cgroup source over
// a synthetic cgroup v2 tree of 200 pods x 3 containers (the 600-container target: under
// 20 ms), and a whole pass including rendering the exposition text. CPU time is what counts
// (MeasureProcessCPUTime); the side-by-side with node_exporter is
// bench/collector_vs_node_exporter.sh.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "collector/cgroup/cgroup_source.h"
#include "collector/collection.h"
#include "collector/host_fs.h"
#include "collector/node/node_sources.h"
#include "common/clock.h"
#include "prom/text_format.h"

namespace sextant::collector {
namespace {

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

std::string Hex64(std::mt19937_64& rng) {
  return absl::StrFormat("%016x%016x%016x%016x", rng(), rng(), rng(), rng());
}

std::string Uid(std::mt19937_64& rng) {
  uint64_t a = rng(), b = rng();
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", a >> 32, (a >> 16) & 0xffff, a & 0xffff,
                         b >> 48, b & 0xffffffffffff);
}

// Files a cgroup v2 leaf has on a 6.x kernel, with plausible values.
void WriteCgroup(const std::string& dir, uint64_t seed) {
  Write(dir + "/cpu.stat",
        absl::StrCat("usage_usec ", 1000000 + seed, "\nuser_usec ", 600000 + seed,
                     "\nsystem_usec 400000\ncore_sched.force_idle_usec 0\nnr_periods 5000\n"
                     "nr_throttled 12\nthrottled_usec 34567\nnr_bursts 0\nburst_usec 0\n"));
  Write(dir + "/cpu.max", "200000 100000\n");
  Write(dir + "/memory.current", absl::StrCat(50000000 + seed * 4096, "\n"));
  Write(dir + "/memory.max", "268435456\n");
  Write(dir + "/memory.swap.current", "0\n");
  Write(dir + "/memory.stat",
        "anon 30000000\nfile 20000000\nkernel 1000000\nkernel_stack 100000\npagetables 200000\n"
        "sec_pagetables 0\npercpu 1000\nsock 0\nvmalloc 0\nshmem 0\nzswap 0\nzswapped 0\n"
        "file_mapped 5000000\nfile_dirty 0\nfile_writeback 0\nswapcached 0\nanon_thp 0\n"
        "file_thp 0\nshmem_thp 0\ninactive_anon 29000000\nactive_anon 1000000\n"
        "inactive_file 15000000\nactive_file 5000000\nunevictable 0\nslab_reclaimable 300000\n"
        "slab_unreclaimable 200000\nslab 500000\nworkingset_refault_anon 0\n"
        "workingset_refault_file 0\nworkingset_activate_anon 0\nworkingset_activate_file 0\n"
        "workingset_restore_anon 0\nworkingset_restore_file 0\nworkingset_nodereclaim 0\n"
        "pgscan 0\npgsteal 0\npgscan_kswapd 0\npgscan_direct 0\npgsteal_kswapd 0\n"
        "pgsteal_direct 0\npgfault 123456\npgmajfault 12\npgrefill 0\npgactivate 0\n"
        "pgdeactivate 0\npglazyfree 0\npglazyfreed 0\nthp_fault_alloc 0\nthp_collapse_alloc 0\n");
  Write(dir + "/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n");
  Write(dir + "/io.stat",
        "259:0 rbytes=1204224 wbytes=4096 rios=60 wios=1 dbytes=0 dios=0\n"
        "8:0 rbytes=40960 wbytes=0 rios=10 wios=0 dbytes=0 dios=0\n");
  Write(dir + "/pids.current", "12\n");
  Write(dir + "/pids.max", "max\n");
  for (const char* p : {"cpu.pressure", "memory.pressure", "io.pressure"}) {
    Write(dir + "/" + p,
          "some avg10=0.00 avg60=0.00 avg300=0.00 total=12345\n"
          "full avg10=0.00 avg60=0.00 avg300=0.00 total=2345\n");
  }
}

// A kubelet-style v2 tree (systemd driver, containerd) under `root`/sys/fs/cgroup, with pods
// spread over the three QoS classes; fills `index` as the kubelet would.
void MakeTree(const std::string& root, int pods, int containers, PodIndex& index) {
  std::mt19937_64 rng(42);
  const std::string base = root + "/sys/fs/cgroup";
  Write(base + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
  for (int p = 0; p < pods; ++p) {
    const std::string uid = Uid(rng);
    std::string uid_ = uid;
    std::replace(uid_.begin(), uid_.end(), '-', '_');
    std::string pod_dir;
    switch (p % 3) {
      case 0:
        pod_dir = absl::StrCat(base, "/kubepods.slice/kubepods-pod", uid_, ".slice");
        break;
      case 1:
        pod_dir = absl::StrCat(base, "/kubepods.slice/kubepods-burstable.slice/",
                               "kubepods-burstable-pod", uid_, ".slice");
        break;
      default:
        pod_dir = absl::StrCat(base, "/kubepods.slice/kubepods-besteffort.slice/",
                               "kubepods-besteffort-pod", uid_, ".slice");
        break;
    }
    WriteCgroup(pod_dir, p);
    PodMeta meta{uid, "bench", absl::StrCat("pod-", p), {}};
    for (int c = 0; c < containers; ++c) {
      const std::string id = Hex64(rng);
      WriteCgroup(absl::StrCat(pod_dir, "/cri-containerd-", id, ".scope"), p * 10 + c);
      meta.containers.push_back({absl::StrCat("c", c), id});
    }
    index.Add(std::move(meta));
  }
}

class CgroupTree {
 public:
  CgroupTree() {
    // tmpfs when there is one: like cgroupfs, it is in memory, so the pass is not timed on
    // disk-filesystem lookups a real node never does.
    const std::string base = std::filesystem::is_directory("/dev/shm")
                                 ? std::string("/dev/shm")
                                 : std::filesystem::temp_directory_path().string();
    root_ = absl::StrCat(base, "/sextant-bench-", getpid());
    auto index = std::make_shared<PodIndex>();
    MakeTree(root_, 200, 3, *index);
    index_ = index;
  }
  ~CgroupTree() { std::filesystem::remove_all(root_); }
  const std::string& root() const { return root_; }
  std::shared_ptr<const PodIndex> index() const { return index_; }

 private:
  std::string root_;
  std::shared_ptr<const PodIndex> index_;
};

void BM_CgroupPass600Containers(benchmark::State& state) {
  CgroupTree tree;
  RootedFilesystem fs(tree.root());
  std::unique_ptr<Source> source = NewCgroupSource(fs, CgroupSourceOptions{});
  PassContext ctx{absl::Now(), tree.index()};
  size_t samples = 0;
  for (auto _ : state) {
    MetricSet set;
    absl::Status s = source->Collect(ctx, set);
    if (!s.ok()) state.SkipWithError(std::string(s.message()).c_str());
    samples = set.sample_count();
    benchmark::DoNotOptimize(set);
  }
  state.counters["samples"] = static_cast<double>(samples);
}
BENCHMARK(BM_CgroupPass600Containers)->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);

void BM_NodeSourcesThisMachine(benchmark::State& state) {
  RootedFilesystem fs("/");
  std::vector<std::unique_ptr<Source>> sources = NewNodeSources(fs, NodeSourceOptions{});
  PassContext ctx{absl::Now(), nullptr};
  size_t samples = 0;
  for (auto _ : state) {
    MetricSet set;
    for (auto& s : sources) s->Collect(ctx, set).IgnoreError();
    samples = set.sample_count();
    benchmark::DoNotOptimize(set);
  }
  state.counters["samples"] = static_cast<double>(samples);
}
BENCHMARK(BM_NodeSourcesThisMachine)->MeasureProcessCPUTime()->Unit(benchmark::kMicrosecond);

// A whole pass as the collector runs it (node sources on this machine, cgroup over the
// synthetic tree, the self series) plus rendering the exposition text once, as a scrape would.
void BM_WholePassAndRender600Containers(benchmark::State& state) {
  CgroupTree tree;
  RootedFilesystem host("/");
  RootedFilesystem cgroups(tree.root());
  std::vector<std::unique_ptr<Source>> sources = NewNodeSources(host, NodeSourceOptions{});
  sources.push_back(NewCgroupSource(cgroups, CgroupSourceOptions{}));
  CollectionOptions options;
  std::shared_ptr<const PodIndex> index = tree.index();
  options.pods = [index] { return index; };
  Collection collection(options, RealClock::Get(), std::move(sources));
  size_t bytes = 0;
  for (auto _ : state) {
    std::shared_ptr<const Snapshot> snap = collection.RunPass(absl::Now());
    bytes = prom::WriteTextFormat(snap->families).size();
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_MB"] = static_cast<double>(usage.ru_maxrss) / 1024;
}
BENCHMARK(BM_WholePassAndRender600Containers)
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sextant::collector

BENCHMARK_MAIN();
