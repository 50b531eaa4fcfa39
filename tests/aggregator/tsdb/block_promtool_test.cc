// Our blocks against the real peer: Prometheus 2.42's promtool reads the blocks we write, and we
// read the blocks it writes. promtool comes with the prometheus package scripts/bootstrap installs.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aggregator/tsdb/block.h"
#include "gtest/gtest.h"
#include "tests/util/subprocess.h"
#include "tests/util/test_util.h"

namespace sextant::tsdb {
namespace {

// 2023-11-14T22:00:00Z, the start of a 2h-aligned window.
constexpr int64_t kWindowStart = 1699999200000;

bool HavePromtool() {
  std::string out;
  return testing::RunShell("command -v promtool", "", &out) == 0;
}

// Sample lines as promtool tsdb dump prints them: `{labels} value timestamp`.
using Dump = std::set<std::string>;

TEST(BlockPromtoolTest, PromtoolListsAndDumpsOurBlock) {
  ASSERT_TRUE(HavePromtool())
      << "promtool is not installed (scripts/bootstrap installs prometheus)";
  testing::TempDir tmp;
  Dump want;
  std::vector<SeriesChunks> series;
  int64_t samples = 0;
  for (int s = 0; s < 5; ++s) {
    prom::Labels labels{{"__name__", s < 3 ? "node_cpu" : "up"},
                        {"instance", absl::StrCat("host-", s)},
                        {"job", "node"}};
    SeriesChunks sc{labels, {}};
    for (int c = 0; c < 3; ++c) {  // three chunks of 50 samples, 15 s apart
      XorChunk chunk;
      for (int i = 0; i < 50; ++i) {
        const int64_t t = kWindowStart + ((c * 50 + i) * 15000) + s;
        const double v = (s + 1) * 0.5 * (c * 50 + i);
        ASSERT_TRUE(chunk.Append(t, v).ok());
        want.insert(absl::StrCat(labels.ToString(), " ", v, " ", t));
        ++samples;
      }
      auto bytes = std::make_shared<std::string>(chunk.bytes());
      sc.chunks.push_back({chunk.min_time(), chunk.max_time(), *bytes, bytes});
    }
    series.push_back(std::move(sc));
  }
  std::sort(series.begin(), series.end(),
            [](const auto& a, const auto& b) { return a.labels < b.labels; });
  absl::StatusOr<BlockMeta> meta =
      WriteBlock(tmp.path(), kWindowStart, kWindowStart + 7200000, series, 1, {}, kWindowStart);
  ASSERT_TRUE(meta.ok()) << meta.status();

  std::string out;
  ASSERT_EQ(testing::RunShell("promtool tsdb list " + tmp.path(), "", &out), 0) << out;
  EXPECT_TRUE(absl::StrContains(out, meta->ulid)) << out;
  EXPECT_TRUE(absl::StrContains(out, absl::StrCat(" ", samples, " "))) << out;

  // dump also replays the data directory's WAL, which must exist (empty here).
  std::filesystem::create_directory(tmp.Path("wal"));
  ASSERT_EQ(testing::RunShell("promtool tsdb dump " + tmp.path(), "", &out), 0) << out;
  Dump got;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    got.emplace(line);
  }
  EXPECT_EQ(got, want) << out.substr(0, 2000);

  ASSERT_EQ(testing::RunShell("promtool tsdb analyze " + tmp.path() + " " + meta->ulid, "", &out),
            0)
      << out;
  EXPECT_TRUE(absl::StrContains(out, "\nSeries: 5\n")) << out;
  EXPECT_TRUE(absl::StrContains(out, "Postings (unique label pairs): 8\n")) << out;
}

TEST(BlockPromtoolTest, WeReadABlockPromtoolWrote) {
  ASSERT_TRUE(HavePromtool())
      << "promtool is not installed (scripts/bootstrap installs prometheus)";
  testing::TempDir tmp;
  // OpenMetrics timestamps are seconds; all within one 2h window.
  std::string om = "# TYPE temperature gauge\n";
  std::map<std::string, std::vector<std::pair<int64_t, double>>> want;
  for (int s = 0; s < 4; ++s) {
    const std::string labels = absl::StrCat("{__name__=\"temperature\", room=\"r", s, "\"}");
    for (int i = 0; i < 200; ++i) {
      const int64_t t = kWindowStart + 60000 + i * 30000;
      const double v = 20 + s + (i % 7) * 0.25;
      absl::StrAppend(&om, "temperature{room=\"r", s, "\"} ", v, " ", t / 1000, "\n");
      want[labels].emplace_back(t, v);
    }
  }
  om += "# EOF\n";
  const std::string input = tmp.WriteFile("in.om", om);
  const std::string out_dir = tmp.Path("out");
  std::string out;
  ASSERT_EQ(testing::RunShell(
                absl::StrCat("promtool tsdb create-blocks-from openmetrics ", input, " ", out_dir),
                "", &out),
            0)
      << out;
  std::vector<std::string> blocks;
  for (const auto& e : std::filesystem::directory_iterator(out_dir)) {
    if (e.path().filename().string().size() == 26) blocks.push_back(e.path().string());
  }
  ASSERT_EQ(blocks.size(), 1u) << out;
  absl::StatusOr<std::unique_ptr<Block>> b = Block::Open(blocks[0]);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->meta().num_series, 4);
  EXPECT_EQ((*b)->meta().num_samples, 800);
  absl::StatusOr<std::vector<std::string>> rooms = (*b)->LabelValues("room", {});
  ASSERT_TRUE(rooms.ok());
  EXPECT_EQ(*rooms, (std::vector<std::string>{"r0", "r1", "r2", "r3"}));
  absl::StatusOr<std::vector<SeriesChunks>> got = (*b)->Select({}, kMinTime, kMaxTime);
  ASSERT_TRUE(got.ok()) << got.status();
  std::map<std::string, std::vector<std::pair<int64_t, double>>> have;
  for (const SeriesChunks& s : *got) {
    SampleIterator it(s, kMinTime, kMaxTime);
    auto& samples = have[s.labels.ToString()];
    while (it.Next()) samples.emplace_back(it.t(), it.v());
    EXPECT_TRUE(it.status().ok()) << it.status();
  }
  EXPECT_EQ(have, want);
  absl::StatusOr<std::vector<SeriesChunks>> r2 = (*b)->Select(
      {*prom::Matcher::Create(prom::MatchType::kRegexMatch, "room", "r2|r9")}, kMinTime, kMaxTime);
  ASSERT_TRUE(r2.ok());
  ASSERT_EQ(r2->size(), 1u);
  EXPECT_EQ((*r2)[0].labels.Get("room"), "r2");
}

}  // namespace
}  // namespace sextant::tsdb
