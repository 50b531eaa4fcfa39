// `sextant collector --once` beside Debian's prometheus-node-exporter on this machine: the node
// series both export agree (same series, values within a small tolerance for what moves between
// the two reads), and `promtool check metrics` finds nothing in our output that it does not also
// find in node_exporter's for the same names.
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/http_client.h"
#include "gtest/gtest.h"
#include "prom/text_format.h"
#include "tests/util/subprocess.h"
#include "tests/util/test_util.h"

namespace sextant {
namespace {

using Series = std::map<std::string, double>;  // labels without __name__ -> value, per family

// Upstream node_exporter 1.5's defaults, which Debian's package changes (it also drops /run,
// /mnt, /media mounts and the lo device); Sextant follows upstream, so give them explicitly.
const std::vector<std::string> kUpstreamDefaults = {
    "--collector.filesystem.mount-points-exclude=^/(dev|proc|run/credentials/.+|sys|var/lib/"
    "docker/.+|var/lib/containers/storage/.+)($|/)",
    "--collector.netdev.device-exclude=",
    // We read /proc/net/dev, as node_exporter does without netlink (its 1.5 default reads
    // rtnetlink, which adds receive_nohandler and counts drop and frame errors more narrowly).
    "--no-collector.netdev.netlink",
};

std::map<std::string, Series> Index(const std::vector<prom::MetricFamily>& families) {
  std::map<std::string, Series> out;
  for (const prom::MetricFamily& f : families) {
    for (const prom::ExpositionSample& s : f.samples) {
      out[std::string(s.labels.MetricName())][s.labels.Without({"__name__"}).ToString()] = s.value;
    }
  }
  return out;
}

std::map<std::string, Series> MustParse(const std::string& text, const std::string& who) {
  absl::StatusOr<std::vector<prom::MetricFamily>> families =
      prom::ParseTextFormat(text, prom::ExpositionFormat::kText004);
  EXPECT_TRUE(families.ok()) << who << ": " << families.status();
  return families.ok() ? Index(*families) : std::map<std::string, Series>{};
}

// `promtool check metrics` findings as "name: problem" lines.
std::set<std::string> LintFindings(const std::string& text) {
  std::string output;
  testing::RunShell("promtool check metrics", text, &output);
  std::set<std::string> out;
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipEmpty())) {
    out.insert(std::string(line));
  }
  return out;
}

class NodeExporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int attempt = 0; attempt < 3 && !exporter_; ++attempt) {
      absl::StatusOr<int> port = testing::PickFreePort();
      ASSERT_TRUE(port.ok());
      addr_ = absl::StrCat("127.0.0.1:", *port);
      std::vector<std::string> argv = {"prometheus-node-exporter",
                                       "--web.listen-address=" + addr_,
                                       "--collector.disable-defaults",
                                       "--collector.cpu",
                                       "--collector.stat",
                                       "--collector.meminfo",
                                       "--collector.loadavg",
                                       "--collector.filesystem",
                                       "--collector.netdev",
                                       "--collector.diskstats",
                                       "--collector.vmstat",
                                       "--collector.pressure"};
      argv.insert(argv.end(), kUpstreamDefaults.begin(), kUpstreamDefaults.end());
      absl::StatusOr<testing::Subprocess> started =
          testing::Subprocess::Start(argv, dir_.Path("node_exporter.log"));
      ASSERT_TRUE(started.ok()) << started.status();
      auto client = CurlHttpClient::Create(HttpClientOptions{});
      ASSERT_TRUE(client.ok());
      client_ = std::move(*client);
      for (int i = 0; i < 100; ++i) {
        if (Scrape().has_value()) {
          exporter_.emplace(std::move(*started));
          break;
        }
        if (!started->Running()) break;
        absl::SleepFor(absl::Milliseconds(50));
      }
    }
    ASSERT_TRUE(exporter_.has_value()) << "node_exporter did not start:\n"
                                       << testing::ReadFileOrDie(dir_.Path("node_exporter.log"));
  }

  std::optional<std::string> Scrape() {
    HttpClientRequest req;
    req.url = absl::StrCat("http://", addr_, "/metrics");
    req.retryable = false;
    absl::StatusOr<HttpClientResponse> resp = client_->Send(req);
    if (!resp.ok() || resp->status != 200) return std::nullopt;
    return resp->body;
  }

  std::string RunOnce() {
    std::string output;
    int status = testing::RunShell(
        absl::StrCat(testing::BinaryPath("sextant"), " collector --once --log-level=error 2>",
                     dir_.Path("once.err")),
        "", &output);
    EXPECT_EQ(status, 0) << output << testing::ReadFileOrDie(dir_.Path("once.err"));
    return output;
  }

  testing::TempDir dir_;
  std::string addr_;
  std::unique_ptr<HttpClient> client_;
  std::optional<testing::Subprocess> exporter_;
};

// Checks that family `name` has the same series in `ours` as in `before` (node_exporter) and each
// value lies within [min(before, after) - slack, max(before, after) + slack].
void ExpectSameSeries(const std::map<std::string, Series>& before,
                      const std::map<std::string, Series>& ours,
                      const std::map<std::string, Series>& after, const std::string& name,
                      double abs_slack, double rel_slack) {
  SCOPED_TRACE(name);
  auto b = before.find(name);
  auto o = ours.find(name);
  auto a = after.find(name);
  ASSERT_NE(b, before.end()) << "node_exporter has no " << name;
  ASSERT_NE(o, ours.end()) << "we have no " << name;
  std::set<std::string> theirs_keys, our_keys;
  for (const auto& [k, v] : b->second) theirs_keys.insert(k);
  for (const auto& [k, v] : o->second) our_keys.insert(k);
  EXPECT_EQ(our_keys, theirs_keys);
  for (const auto& [key, ours_value] : o->second) {
    auto bv = b->second.find(key);
    if (bv == b->second.end()) continue;
    double lo = bv->second, hi = bv->second;
    if (a != after.end()) {
      if (auto av = a->second.find(key); av != a->second.end()) {
        lo = std::min(lo, av->second);
        hi = std::max(hi, av->second);
      }
    }
    const double slack = abs_slack + rel_slack * std::max(std::abs(lo), std::abs(hi));
    EXPECT_GE(ours_value, lo - slack) << name << key;
    EXPECT_LE(ours_value, hi + slack) << name << key;
  }
}

TEST_F(NodeExporterTest, SharedNodeSeriesAgree) {
  std::optional<std::string> before_text = Scrape();
  ASSERT_TRUE(before_text.has_value());
  const std::string ours_text = RunOnce();
  std::optional<std::string> after_text = Scrape();
  ASSERT_TRUE(after_text.has_value());
  auto before = MustParse(*before_text, "node_exporter");
  auto after = MustParse(*after_text, "node_exporter");
  auto ours = MustParse(ours_text, "sextant");

  // Counters that move between the reads: within the two node_exporter reads, plus a little.
  ExpectSameSeries(before, ours, after, "node_cpu_seconds_total", 0.5, 0);
  ExpectSameSeries(before, ours, after, "node_network_receive_bytes_total", 1 << 20, 0);
  ExpectSameSeries(before, ours, after, "node_network_transmit_bytes_total", 1 << 20, 0);
  ExpectSameSeries(before, ours, after, "node_context_switches_total", 0, 0.05);
  ExpectSameSeries(before, ours, after, "node_boot_time_seconds", 1, 0);
  // Memory: totals are fixed, the rest moves with what runs now.
  ExpectSameSeries(before, ours, after, "node_memory_MemTotal_bytes", 0, 0);
  ExpectSameSeries(before, ours, after, "node_memory_MemAvailable_bytes", 64 << 20, 0.02);
  ExpectSameSeries(before, ours, after, "node_memory_MemFree_bytes", 64 << 20, 0.02);
  // Load averages move slowly.
  ExpectSameSeries(before, ours, after, "node_load1", 0.5, 0.2);
  ExpectSameSeries(before, ours, after, "node_load15", 0.5, 0.2);
  // Filesystems: the same mounts, the same sizes; free space moves a little.
  ExpectSameSeries(before, ours, after, "node_filesystem_size_bytes", 0, 0);
  ExpectSameSeries(before, ours, after, "node_filesystem_files", 0, 0);
  ExpectSameSeries(before, ours, after, "node_filesystem_avail_bytes", 256 << 20, 0.01);
  ExpectSameSeries(before, ours, after, "node_filesystem_readonly", 0, 0);
  ExpectSameSeries(before, ours, after, "node_filesystem_device_error", 0, 0);

  // Every node_* family node_exporter has for these collectors, we have too (the scrape_* and
  // exporter-only families aside).
  std::vector<std::string> missing;
  for (const auto& [name, series] : before) {
    if (!absl::StartsWith(name, "node_") || absl::StartsWith(name, "node_scrape_") ||
        absl::StartsWith(name, "node_exporter_") || name == "node_textfile_scrape_error" ||
        name == "node_disk_info" || name == "node_cpu_guest_seconds_total") {
      continue;
    }
    if (!ours.contains(name)) missing.push_back(name);
  }
  EXPECT_TRUE(missing.empty()) << "families node_exporter has and we lack: "
                               << ::testing::PrintToString(missing);
}

TEST_F(NodeExporterTest, PromtoolFindsNothingNodeExporterDoesNotAlsoGet) {
  std::optional<std::string> theirs = Scrape();
  ASSERT_TRUE(theirs.has_value());
  const std::string ours = RunOnce();
  ASSERT_FALSE(ours.empty());
  std::set<std::string> their_findings = LintFindings(*theirs);
  std::vector<std::string> extra;
  for (const std::string& finding : LintFindings(ours)) {
    if (!their_findings.contains(finding)) extra.push_back(finding);
  }
  EXPECT_TRUE(extra.empty()) << "promtool findings on our output only:\n"
                             << absl::StrJoin(extra, "\n");
  // And promtool parses it: a parse error would be one "error while linting" line.
  for (const std::string& finding : LintFindings(ours)) {
    EXPECT_FALSE(absl::StrContains(finding, "error while linting")) << finding;
  }
}

}  // namespace
}  // namespace sextant
