// The node sources against node_exporter: tests/collector/testdata/node/expected.prom is what
// Debian's prometheus-node-exporter 1.5 exported for the fixture tree beside it (regenerate with
// make_expected.sh there); our output for the same files must match it series by series.
#include "collector/node/node_sources.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "collector/metric_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prom/text_format.h"
#include "tests/collector/node/fake_host_fs.h"
#include "tests/util/test_util.h"

namespace sextant::collector {
namespace {

using ::sextant::collector::testing::FakeHostFs;
using ::sextant::testing::ReadFileOrDie;
using ::sextant::testing::SourcePath;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string FixtureRoot() { return SourcePath("tests/collector/testdata/node"); }

// A fake over the fixture tree whose statfs answers are the ones node_exporter saw.
std::unique_ptr<FakeHostFs> FixtureFs() {
  auto fs = std::make_unique<FakeHostFs>(FixtureRoot());
  fs->LoadStatfsTable(ReadFileOrDie(FixtureRoot() + "/statfs.txt"));
  return fs;
}

struct Collected {
  std::vector<prom::MetricFamily> families;
  std::map<std::string, absl::Status> status;  // by source name
};

Collected CollectAll(std::vector<std::unique_ptr<Source>>& sources) {
  MetricSet set;
  Collected c;
  PassContext ctx{absl::Now(), nullptr};
  for (auto& source : sources) c.status[std::string(source->name())] = source->Collect(ctx, set);
  EXPECT_EQ(set.duplicates(), 0u);
  // Through the text format, as a scrape sees it.
  auto parsed = prom::ParseTextFormat(prom::WriteTextFormat(set.families()),
                                      prom::ExpositionFormat::kText004);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (parsed.ok()) c.families = *std::move(parsed);
  return c;
}

// The series of `families` keyed by their labels (with __name__), and each family's HELP/TYPE.
struct Index {
  std::map<std::string, double> series;
  std::map<std::string, std::string> meta;
};
Index IndexOf(const std::vector<prom::MetricFamily>& families) {
  Index index;
  for (const prom::MetricFamily& f : families) {
    index.meta[f.name] = absl::StrCat("help=\"", f.help, "\" type=", prom::MetricTypeName(f.type));
    for (const prom::ExpositionSample& s : f.samples) index.series[s.labels.ToString()] = s.value;
  }
  return index;
}

// Every difference between `got` and `want`, one line each.
std::vector<std::string> Diff(const std::vector<prom::MetricFamily>& got,
                              const std::vector<prom::MetricFamily>& want) {
  Index g = IndexOf(got);
  Index w = IndexOf(want);
  std::vector<std::string> diffs;
  for (const auto& [name, meta] : w.meta) {
    auto it = g.meta.find(name);
    if (it == g.meta.end()) {
      diffs.push_back(absl::StrCat("missing family ", name));
    } else if (it->second != meta) {
      diffs.push_back(absl::StrCat(name, ": got ", it->second, ", want ", meta));
    }
  }
  for (const auto& [name, meta] : g.meta) {
    if (!w.meta.contains(name)) diffs.push_back(absl::StrCat("extra family ", name));
  }
  for (const auto& [labels, value] : w.series) {
    auto it = g.series.find(labels);
    if (it == g.series.end()) {
      diffs.push_back(absl::StrCat("missing ", labels));
    } else if (it->second != value) {
      diffs.push_back(absl::StrCat(labels, ": got ", prom::FormatPromFloat(it->second), ", want ",
                                   prom::FormatPromFloat(value)));
    }
  }
  for (const auto& [labels, value] : g.series) {
    if (!w.series.contains(labels)) diffs.push_back(absl::StrCat("extra ", labels));
  }
  return diffs;
}

std::vector<prom::MetricFamily> Expected() {
  auto parsed = prom::ParseTextFormat(ReadFileOrDie(FixtureRoot() + "/expected.prom"),
                                      prom::ExpositionFormat::kText004);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : std::vector<prom::MetricFamily>{};
}

// The families of `all` whose names start with one of `prefixes`.
std::vector<prom::MetricFamily> Only(const std::vector<prom::MetricFamily>& all,
                                     std::vector<std::string> prefixes) {
  std::vector<prom::MetricFamily> out;
  for (const prom::MetricFamily& f : all) {
    for (const std::string& p : prefixes) {
      if (absl::StartsWith(f.name, p)) {
        out.push_back(f);
        break;
      }
    }
  }
  return out;
}

TEST(NodeSourcesTest, SourcesComeInNodeExporterCollectorOrder) {
  FakeHostFs fs;
  auto sources = NewNodeSources(fs, NodeSourceOptions{});
  std::vector<std::string> names;
  for (auto& s : sources) names.emplace_back(s->name());
  EXPECT_EQ(absl::StrJoin(names, ","),
            "cpu,meminfo,loadavg,diskstats,filesystem,netdev,pressure,vmstat");
}

TEST(NodeSourcesTest, FixtureOutputEqualsNodeExporterSeriesBySeries) {
  auto fs = FixtureFs();
  auto sources = NewNodeSources(*fs, NodeSourceOptions{});
  Collected got = CollectAll(sources);
  for (const auto& [name, status] : got.status) EXPECT_TRUE(status.ok()) << name << ": " << status;
  EXPECT_THAT(Diff(got.families, Expected()), IsEmpty());
}

// The same comparison per family group, so a failure says which source is off.
class PerSourceTest : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(PerSourceTest, MatchesNodeExporter) {
  auto fs = FixtureFs();
  auto sources = NewNodeSources(*fs, NodeSourceOptions{});
  Collected got = CollectAll(sources);
  std::vector<prom::MetricFamily> want = Only(Expected(), GetParam());
  EXPECT_FALSE(want.empty());
  EXPECT_THAT(Diff(Only(got.families, GetParam()), want), IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    Families, PerSourceTest,
    ::testing::Values(std::vector<std::string>{"node_cpu_"},
                      std::vector<std::string>{"node_boot_time", "node_context_switches",
                                               "node_forks", "node_intr", "node_procs_"},
                      std::vector<std::string>{"node_memory_"},
                      std::vector<std::string>{"node_load"}, std::vector<std::string>{"node_disk_"},
                      std::vector<std::string>{"node_filesystem_"},
                      std::vector<std::string>{"node_network_"},
                      std::vector<std::string>{"node_pressure_"},
                      std::vector<std::string>{"node_vmstat_"}));

TEST(NodeSourcesTest, WithoutUdevDataDiskInfoHasOnlyDeviceAndNumbers) {
  auto fs = FixtureFs();
  NodeSourceOptions options;
  options.read_udev = false;
  auto sources = NewNodeSources(*fs, options);
  Collected got = CollectAll(sources);
  Index index = IndexOf(Only(got.families, {"node_disk_info"}));
  EXPECT_TRUE(
      index.series.contains(R"({__name__="node_disk_info", device="sda", major="8", minor="0"})"));
}

// Exported values of node_cpu_seconds_total, keyed "cpu/mode".
std::map<std::string, double> CpuSeconds(const std::vector<prom::MetricFamily>& families) {
  std::map<std::string, double> out;
  for (const prom::MetricFamily& f : families) {
    if (f.name != "node_cpu_seconds_total") continue;
    for (const auto& s : f.samples) {
      out[absl::StrCat(s.labels.Get("cpu"), "/", s.labels.Get("mode"))] = s.value;
    }
  }
  return out;
}

std::map<std::string, double> CollectCpu(Source& cpu) {
  MetricSet set;
  EXPECT_TRUE(cpu.Collect(PassContext{absl::Now(), nullptr}, set).ok());
  return CpuSeconds(set.families());
}

TEST(CpuSourceTest, CounterThatGoesBackwardKeepsItsLastValue) {
  FakeHostFs fs;
  auto sources = NewNodeSources(fs, NodeSourceOptions{});
  Source& cpu = *sources[0];
  fs.SetFile("/proc/stat", "cpu0 100 0 50 1000 40 0 0 0 0 0\n");
  auto first = CollectCpu(cpu);
  EXPECT_EQ(first["0/idle"], 10);
  EXPECT_EQ(first["0/iowait"], 0.4);
  // The kernel's iowait and idle can go back a little (less than kJumpBackSeconds).
  fs.SetFile("/proc/stat", "cpu0 150 0 50 990 30 0 0 0 0 0\n");
  auto second = CollectCpu(cpu);
  EXPECT_EQ(second["0/idle"], 10);
  EXPECT_EQ(second["0/iowait"], 0.4);
  EXPECT_EQ(second["0/user"], 1.5);
  // And once they pass the old value again, they move on.
  fs.SetFile("/proc/stat", "cpu0 150 0 50 1100 45 0 0 0 0 0\n");
  auto third = CollectCpu(cpu);
  EXPECT_EQ(third["0/idle"], 11);
  EXPECT_EQ(third["0/iowait"], 0.45);
}

TEST(CpuSourceTest, OfflineCpuIsDroppedAndStartsAfreshWhenBack) {
  FakeHostFs fs;
  auto sources = NewNodeSources(fs, NodeSourceOptions{});
  Source& cpu = *sources[0];
  fs.SetFile("/proc/stat",
             "cpu 0 0 0 0\ncpu0 100 0 0 1000 50 0 0 0 0 0\ncpu1 200 0 0 2000 60 0 0 0 0 0\n");
  auto both = CollectCpu(cpu);
  EXPECT_EQ(both["1/iowait"], 0.6);
  // cpu1 goes offline: its series go.
  fs.SetFile("/proc/stat", "cpu 0 0 0 0\ncpu0 110 0 0 1010 50 0 0 0 0 0\n");
  auto one = CollectCpu(cpu);
  EXPECT_FALSE(one.contains("1/user"));
  EXPECT_EQ(one["0/user"], 1.1);
  // cpu1 comes back with smaller counters: they are taken as they are, not held at the old ones.
  fs.SetFile("/proc/stat",
             "cpu 0 0 0 0\ncpu0 120 0 0 1020 50 0 0 0 0 0\ncpu1 5 0 0 1990 7 0 0 0 0 0\n");
  auto back = CollectCpu(cpu);
  EXPECT_EQ(back["1/user"], 0.05);
  EXPECT_EQ(back["1/iowait"], 0.07);
}

TEST(CpuSourceTest, IdleJumpingBackMoreThanThreeSecondsResetsTheCpu) {
  FakeHostFs fs;
  auto sources = NewNodeSources(fs, NodeSourceOptions{});
  Source& cpu = *sources[0];
  fs.SetFile("/proc/stat", "cpu0 1000 0 0 100000 50 0 0 0 0 0\n");
  CollectCpu(cpu);
  // A replaced CPU (node_exporter's hot-plug rule): idle went back by 990 s.
  fs.SetFile("/proc/stat", "cpu0 10 0 0 1000 5 0 0 0 0 0\n");
  auto after = CollectCpu(cpu);
  EXPECT_EQ(after["0/idle"], 10);
  EXPECT_EQ(after["0/user"], 0.1);
}

TEST(NodeSourcesTest, MissingPressureIsNotAnError) {
  auto fs = FixtureFs();
  fs->RemoveFile("/proc/pressure/cpu");
  fs->RemoveFile("/proc/pressure/io");
  fs->RemoveFile("/proc/pressure/memory");
  auto sources = NewNodeSources(*fs, NodeSourceOptions{});
  MetricSet set;
  EXPECT_TRUE(sources[6]->Collect(PassContext{absl::Now(), nullptr}, set).ok());
  EXPECT_EQ(set.sample_count(), 0u);
}

TEST(NodeSourcesTest, MissingFilesAreNotFoundNamingThePath) {
  FakeHostFs fs;  // no files at all
  auto sources = NewNodeSources(fs, NodeSourceOptions{});
  for (auto& source : sources) {
    MetricSet set;
    absl::Status status = source->Collect(PassContext{absl::Now(), nullptr}, set);
    if (source->name() == "pressure") {
      EXPECT_TRUE(status.ok()) << status;
      continue;
    }
    EXPECT_TRUE(absl::IsNotFound(status)) << source->name() << ": " << status;
    EXPECT_THAT(status.message(), HasSubstr("/proc/")) << source->name();
    EXPECT_EQ(set.sample_count(), 0u) << source->name();
  }
}

TEST(NodeSourcesTest, GarbledLineIsSkippedAndNamedWithItsFile) {
  auto fs = FixtureFs();
  fs->SetFile("/proc/meminfo", "MemTotal: 100 kB\nMemFree: lots kB\nBuffers: 2 kB\n");
  auto sources = NewNodeSources(*fs, NodeSourceOptions{});
  MetricSet set;
  absl::Status status = sources[1]->Collect(PassContext{absl::Now(), nullptr}, set);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("/proc/meminfo: line 2"));
  EXPECT_EQ(set.sample_count(), 2u);
}

TEST(NodeSourcesTest, FilesystemFallsBackToSelfMountinfo) {
  auto fs = FixtureFs();
  fs->RemoveFile("/proc/1/mountinfo");
  fs->SetFile("/proc/self/mountinfo", "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n");
  auto sources = NewNodeSources(*fs, NodeSourceOptions{});
  MetricSet set;
  EXPECT_TRUE(sources[4]->Collect(PassContext{absl::Now(), nullptr}, set).ok());
  Index index = IndexOf(set.families());
  EXPECT_EQ(index.series[R"({__name__="node_filesystem_size_bytes", device="/dev/vda", )"
                         R"(fstype="ext4", mountpoint="/"})"],
            16384.0 * 4096);
}

TEST(NodeSourcesTest, BadExcludePatternIsReportedByValidateAndCollect) {
  NodeSourceOptions options;
  options.diskstats_device_exclude = "(";
  absl::Status status = ValidateNodeSourceOptions(options);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("diskstats_device_exclude"));
  EXPECT_TRUE(ValidateNodeSourceOptions(NodeSourceOptions{}).ok());
  auto fs = FixtureFs();
  auto sources = NewNodeSources(*fs, options);
  MetricSet set;
  EXPECT_TRUE(absl::IsInvalidArgument(sources[3]->Collect(PassContext{absl::Now(), nullptr}, set)));
}

TEST(NodeSourcesTest, EmptyExcludePatternExcludesNothing) {
  auto fs = FixtureFs();
  NodeSourceOptions options;
  options.netdev_device_exclude = "";
  auto sources = NewNodeSources(*fs, options);
  MetricSet set;
  ASSERT_TRUE(sources[5]->Collect(PassContext{absl::Now(), nullptr}, set).ok());
  Index index = IndexOf(set.families());
  EXPECT_TRUE(
      index.series.contains(R"({__name__="node_network_receive_bytes_total", device="lo"})"));
}

}  // namespace
}  // namespace sextant::collector
