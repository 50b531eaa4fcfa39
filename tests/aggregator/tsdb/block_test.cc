#include "aggregator/tsdb/block.h"

#include <bit>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sextant::tsdb {
namespace {

constexpr int64_t kHour = 3600 * 1000;

struct Sample {
  int64_t t;
  double v;
  friend bool operator==(const Sample& a, const Sample& b) {
    return a.t == b.t && std::bit_cast<uint64_t>(a.v) == std::bit_cast<uint64_t>(b.v);
  }
};

// Test input: series with their samples, and the same as chunks (owning their bytes).
struct Data {
  std::map<prom::Labels, std::vector<Sample>> samples;
  std::vector<SeriesChunks> series;
};

// Cuts `samples` into XOR chunks of up to `per_chunk` samples.
std::vector<ChunkView> ToChunks(const std::vector<Sample>& samples, int per_chunk) {
  std::vector<ChunkView> out;
  for (size_t i = 0; i < samples.size(); i += per_chunk) {
    XorChunk c;
    for (size_t k = i; k < samples.size() && k < i + per_chunk; ++k) {
      EXPECT_TRUE(c.Append(samples[k].t, samples[k].v).ok());
    }
    auto bytes = std::make_shared<std::string>(c.bytes());
    out.push_back({c.min_time(), c.max_time(), *bytes, bytes});
  }
  return out;
}

Data RandomData(std::mt19937_64& rng, int n, int64_t mint, int64_t maxt) {
  Data d;
  while (static_cast<int>(d.samples.size()) < n) {
    std::vector<prom::Label> ls{{"__name__", absl::StrCat("m", rng() % 4)}};
    if (rng() % 3) ls.push_back({"job", absl::StrCat("job", rng() % 3)});
    if (rng() % 2) ls.push_back({"instance", absl::StrCat("host-", rng() % 10)});
    if (rng() % 4 == 0) ls.push_back({"le", absl::StrCat(rng() % 5, ".5")});
    prom::Labels labels = *prom::Labels::FromUnsorted(std::move(ls));
    if (d.samples.count(labels)) continue;
    std::vector<Sample> s;
    const int64_t step = 1000 + static_cast<int64_t>(rng() % 30000);
    double v = static_cast<double>(rng() % 100);
    for (int64_t t = mint + static_cast<int64_t>(rng() % 5000); t < maxt; t += step) {
      if (rng() % 5 == 0) v += static_cast<double>(rng() % 10) / 4;
      s.push_back({t, v});
    }
    d.series.push_back({labels, ToChunks(s, 20 + static_cast<int>(rng() % 120))});
    d.samples[labels] = std::move(s);
  }
  return d;
}

std::vector<Sample> Read(const SeriesChunks& s, int64_t mint, int64_t maxt) {
  std::vector<Sample> out;
  SampleIterator it(s, mint, maxt);
  while (it.Next()) out.push_back({it.t(), it.v()});
  EXPECT_TRUE(it.status().ok()) << it.status();
  return out;
}

prom::Matcher M(prom::MatchType type, std::string name, std::string value) {
  return *prom::Matcher::Create(type, std::move(name), std::move(value));
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class BlockTest : public ::testing::Test {
 protected:
  std::unique_ptr<Block> WriteAndOpen(const Data& d, int64_t mint, int64_t maxt) {
    absl::StatusOr<BlockMeta> meta = WriteBlock(tmp_.path(), mint, maxt, d.series, 1, {}, now_++);
    EXPECT_TRUE(meta.ok()) << meta.status();
    if (!meta.ok()) return nullptr;
    absl::StatusOr<std::unique_ptr<Block>> b = Block::Open(tmp_.Path(meta->ulid));
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *std::move(b) : nullptr;
  }
  testing::TempDir tmp_;
  int64_t now_ = 1700000000000;
};

TEST_F(BlockTest, SelectWithRandomMatchersEqualsBruteForce) {
  std::mt19937_64 rng(42);
  Data d = RandomData(rng, 150, 0, 2 * kHour);
  std::unique_ptr<Block> b = WriteAndOpen(d, 0, 2 * kHour);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->meta().num_series, 150);
  int64_t samples = 0, chunks = 0;
  for (const auto& [l, s] : d.samples) samples += static_cast<int64_t>(s.size());
  for (const auto& s : d.series) chunks += static_cast<int64_t>(s.chunks.size());
  EXPECT_EQ(b->meta().num_samples, samples);
  EXPECT_EQ(b->meta().num_chunks, chunks);

  const std::vector<prom::Matcher> pool = {
      M(prom::MatchType::kEqual, "__name__", "m1"),
      M(prom::MatchType::kEqual, "job", "job2"),
      M(prom::MatchType::kEqual, "job", ""),
      M(prom::MatchType::kNotEqual, "job", "job1"),
      M(prom::MatchType::kNotEqual, "instance", ""),
      M(prom::MatchType::kRegexMatch, "instance", "host-[1-4]"),
      M(prom::MatchType::kRegexMatch, "le", ".*"),
      M(prom::MatchType::kRegexMatch, "le", ".+"),
      M(prom::MatchType::kRegexMatch, "job", "job0|"),
      M(prom::MatchType::kRegexNoMatch, "__name__", "m[02]"),
      M(prom::MatchType::kRegexNoMatch, "instance", ".*"),
      M(prom::MatchType::kEqual, "nolabel", "x"),
      M(prom::MatchType::kNotEqual, "nolabel", "x"),
  };
  for (int round = 0; round < 300; ++round) {
    std::vector<prom::Matcher> ms;
    const int n = static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) ms.push_back(pool[rng() % pool.size()]);
    int64_t mint = static_cast<int64_t>(rng() % (3 * kHour)) - kHour / 2;
    int64_t maxt = mint + static_cast<int64_t>(rng() % (2 * kHour));
    if (round % 5 == 0) mint = kMinTime, maxt = kMaxTime;
    absl::StatusOr<std::vector<SeriesChunks>> got = b->Select(ms, mint, maxt);
    ASSERT_TRUE(got.ok()) << got.status();
    std::vector<std::pair<prom::Labels, std::vector<Sample>>> want;
    for (const SeriesChunks& s : d.series) {  // brute force: chunks overlapping the range
      if (!prom::MatchesAll(ms, s.labels)) continue;
      bool overlaps = false;
      for (const ChunkView& c : s.chunks) overlaps |= c.max_time >= mint && c.min_time <= maxt;
      if (overlaps) want.emplace_back(s.labels, Read(s, mint, maxt));
    }
    std::sort(want.begin(), want.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    ASSERT_EQ(got->size(), want.size()) << "round " << round;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ((*got)[i].labels, want[i].first);
      EXPECT_EQ(Read((*got)[i], mint, maxt), want[i].second) << want[i].first.ToString();
    }
    // Label names and values of the matched series (over all time).
    std::set<std::string> names, jobs;
    for (const auto& [labels, s] : d.samples) {
      if (!prom::MatchesAll(ms, labels)) continue;
      for (const prom::Label& l : labels) names.insert(l.name);
      if (labels.Has("job")) jobs.insert(std::string(labels.Get("job")));
    }
    absl::StatusOr<std::vector<std::string>> got_names = b->LabelNames(ms);
    ASSERT_TRUE(got_names.ok());
    EXPECT_EQ(*got_names, std::vector<std::string>(names.begin(), names.end()));
    absl::StatusOr<std::vector<std::string>> got_jobs = b->LabelValues("job", ms);
    ASSERT_TRUE(got_jobs.ok());
    EXPECT_EQ(*got_jobs, std::vector<std::string>(jobs.begin(), jobs.end()));
  }
}

TEST_F(BlockTest, WritesPrometheusLayoutAndLeavesNoTemporaryDirectory) {
  std::mt19937_64 rng(1);
  Data d = RandomData(rng, 10, 0, kHour);
  d.series.push_back({prom::Labels{{"__name__", "empty"}}, {}});  // skipped
  absl::StatusOr<BlockMeta> meta = WriteBlock(tmp_.path(), 0, 2 * kHour, d.series, 1, {}, now_);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->ulid.size(), 26u);
  EXPECT_EQ(meta->sources, std::vector<std::string>{meta->ulid});
  EXPECT_EQ(meta->num_series, 10);
  EXPECT_EQ(Entries(tmp_.path()), std::vector<std::string>{meta->ulid});
  EXPECT_EQ(Entries(tmp_.Path(meta->ulid)),
            (std::vector<std::string>{"chunks", "index", "meta.json"}));
  EXPECT_EQ(Entries(tmp_.Path(meta->ulid + "/chunks")), std::vector<std::string>{"000001"});
  const std::string json = testing::ReadFileOrDie(tmp_.Path(meta->ulid + "/meta.json"));
  EXPECT_TRUE(absl::StrContains(json, absl::StrCat("\"ulid\":\"", meta->ulid, "\""))) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"maxTime\":7200000")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"version\":1")) << json;
  absl::StatusOr<std::unique_ptr<Block>> b = Block::Open(tmp_.Path(meta->ulid));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ((*b)->meta().ulid, meta->ulid);
  EXPECT_EQ((*b)->meta().min_time, 0);
  EXPECT_EQ((*b)->meta().max_time, 2 * kHour);
  EXPECT_EQ((*b)->meta().num_samples, meta->num_samples);
  EXPECT_EQ((*b)->meta().sources, meta->sources);
  EXPECT_GT((*b)->size_bytes(), 0);
  absl::StatusOr<std::vector<std::string>> values = (*b)->LabelValues("__name__", {});
  ASSERT_TRUE(values.ok());
  EXPECT_EQ(std::count(values->begin(), values->end(), "empty"), 0);
}

TEST_F(BlockTest, FailedWriteRemovesTheTemporaryDirectory) {
  prom::Labels a{{"__name__", "dup"}};
  std::vector<SeriesChunks> series = {{a, ToChunks({{1, 1}}, 10)}, {a, ToChunks({{2, 2}}, 10)}};
  absl::StatusOr<BlockMeta> meta = WriteBlock(tmp_.path(), 0, 10, series, 1, {}, now_);
  EXPECT_FALSE(meta.ok());
  EXPECT_TRUE(Entries(tmp_.path()).empty());
  // A missing database directory: an error, nothing created.
  meta = WriteBlock(tmp_.Path("missing"), 0, 10, {{a, ToChunks({{1, 1}}, 10)}}, 1, {}, now_);
  EXPECT_EQ(meta.status().code(), absl::StatusCode::kInternal);
  EXPECT_TRUE(Entries(tmp_.path()).empty());
}

TEST_F(BlockTest, OpenRejectsNonBlocksAndDamagedMeta) {
  EXPECT_EQ(Block::Open(tmp_.path()).status().code(), absl::StatusCode::kNotFound);
  std::mt19937_64 rng(2);
  std::unique_ptr<Block> b = WriteAndOpen(RandomData(rng, 3, 0, kHour), 0, kHour);
  ASSERT_NE(b, nullptr);
  const std::string dir = b->dir();
  tmp_.WriteFile(b->meta().ulid + "/meta.json", "{\"ulid\": 5");
  absl::Status s = Block::Open(dir).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(absl::StrContains(s.message(), "meta.json")) << s;
  std::filesystem::remove(dir + "/meta.json");
  EXPECT_EQ(Block::Open(dir).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(BlockTest, ChunkByteFlipsAreDataLoss) {
  std::mt19937_64 rng(5);
  Data d = RandomData(rng, 5, 0, kHour);
  std::unique_ptr<Block> b = WriteAndOpen(d, 0, kHour);
  ASSERT_NE(b, nullptr);
  const std::string dir = b->dir();
  b.reset();
  const std::string seg = dir + "/chunks/000001";
  const std::string good = testing::ReadFileOrDie(seg);
  for (size_t i = 0; i < good.size(); i = i < 4 ? i + 1 : i < 8 ? 8 : i + 7) {  // not padding
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    std::ofstream(seg, std::ios::binary | std::ios::trunc) << bad;
    absl::StatusOr<std::unique_ptr<Block>> opened = Block::Open(dir);
    absl::Status s = opened.status();
    if (opened.ok()) s = (*opened)->Select({}, kMinTime, kMaxTime).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "flip at " << i;
    EXPECT_TRUE(absl::StrContains(s.message(), "000001")) << s;
  }
  // Truncated to the header: every chunk reference is out of range.
  std::ofstream(seg, std::ios::binary | std::ios::trunc) << good.substr(0, 8);
  absl::StatusOr<std::unique_ptr<Block>> opened = Block::Open(dir);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ((*opened)->Select({}, kMinTime, kMaxTime).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(BlockTest, IndexByteFlipsAreDataLossOrHarmless) {
  std::mt19937_64 rng(6);
  Data d = RandomData(rng, 6, 0, kHour);
  std::unique_ptr<Block> b = WriteAndOpen(d, 0, kHour);
  ASSERT_NE(b, nullptr);
  const std::string dir = b->dir();
  auto dump = [](const Block& blk) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::vector<SeriesChunks>> all = blk.Select({}, kMinTime, kMaxTime);
    if (!all.ok()) return all.status();
    std::string out;
    for (const auto& s : *all) {
      absl::StrAppend(&out, s.labels.ToString());
      for (const Sample& x : Read(s, kMinTime, kMaxTime)) absl::StrAppend(&out, " ", x.t, "=", x.v);
    }
    return out;
  };
  const std::string want = *dump(*b);
  b.reset();
  const std::string path = dir + "/index";
  const std::string good = testing::ReadFileOrDie(path);
  int detected = 0;
  for (size_t i = 0; i < good.size(); i += 3) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x04);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    absl::StatusOr<std::unique_ptr<Block>> opened = Block::Open(dir);
    absl::Status s = opened.status();
    if (opened.ok()) {
      absl::StatusOr<std::string> got = dump(**opened);
      if (got.ok()) {
        EXPECT_EQ(*got, want) << "flip at " << i;
        continue;
      }
      s = got.status();
    }
    ++detected;
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "flip at " << i << ": " << s;
    EXPECT_TRUE(absl::StrContains(s.message(), path)) << s;
  }
  EXPECT_GT(detected, 0);
}

TEST_F(BlockTest, ChunksStayReadableAfterTheBlockIsClosedAndDeleted) {
  std::mt19937_64 rng(8);
  Data d = RandomData(rng, 20, 0, kHour);
  std::unique_ptr<Block> b = WriteAndOpen(d, 0, kHour);
  ASSERT_NE(b, nullptr);
  absl::StatusOr<std::vector<SeriesChunks>> got = b->Select({}, kMinTime, kMaxTime);
  ASSERT_TRUE(got.ok());
  const std::string dir = b->dir();
  b.reset();
  std::filesystem::remove_all(dir);
  ASSERT_EQ(got->size(), d.samples.size());
  for (const SeriesChunks& s : *got) {
    EXPECT_EQ(Read(s, kMinTime, kMaxTime), d.samples.at(s.labels)) << s.labels.ToString();
  }
}

TEST_F(BlockTest, CompactsThreeAdjacentBlocksIntoOne) {
  std::mt19937_64 rng(9);
  std::map<prom::Labels, std::vector<Sample>> all;
  std::vector<std::unique_ptr<Block>> blocks;
  for (int i = 0; i < 3; ++i) {
    Data d = RandomData(rng, 40, i * 2 * kHour, (i + 1) * 2 * kHour);
    for (auto& [l, s] : d.samples) all[l].insert(all[l].end(), s.begin(), s.end());
    blocks.push_back(WriteAndOpen(d, i * 2 * kHour, (i + 1) * 2 * kHour));
    ASSERT_NE(blocks.back(), nullptr);
  }
  std::vector<const Block*> inputs = {blocks[0].get(), blocks[1].get(), blocks[2].get()};
  absl::StatusOr<BlockMeta> meta = CompactBlocks(tmp_.path(), inputs, now_);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->compaction_level, 2);
  EXPECT_EQ(meta->min_time, 0);
  EXPECT_EQ(meta->max_time, 6 * kHour);
  std::vector<std::string> sources;
  for (const auto& b : blocks) sources.push_back(b->meta().ulid);
  std::sort(sources.begin(), sources.end());
  EXPECT_EQ(meta->sources, sources);
  absl::StatusOr<std::unique_ptr<Block>> c = Block::Open(tmp_.Path(meta->ulid));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)->meta().num_series, static_cast<int64_t>(all.size()));
  int64_t total = 0;
  for (const auto& [l, s] : all) total += static_cast<int64_t>(s.size());
  EXPECT_EQ((*c)->meta().num_samples, total);
  absl::StatusOr<std::vector<SeriesChunks>> got = (*c)->Select({}, kMinTime, kMaxTime);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), all.size());
  for (const SeriesChunks& s : *got) {
    EXPECT_EQ(Read(s, kMinTime, kMaxTime), all.at(s.labels)) << s.labels.ToString();
  }
}

// 1000 node-exporter-like series over 2h at a 15 s interval (one scrape in ten off by a few ms),
// in chunks of 120 samples: a third counters growing by random integers, a third mostly
// constant gauges, a third gauges with two decimals moving at random. Prints the block's
// bytes per sample and the XOR chunks' share of it.
TEST_F(BlockTest, RealisticDataBytesPerSample) {
  std::mt19937_64 rng(10);
  std::vector<SeriesChunks> series;
  int64_t samples = 0, chunk_bytes = 0;
  for (int s = 0; s < 1000; ++s) {
    prom::Labels labels{{"__name__", absl::StrCat("node_metric_", s % 50)},
                        {"instance", absl::StrCat("10.0.", s / 250, ".", s % 250, ":9100")},
                        {"job", "node"}};
    std::vector<Sample> xs;
    double v = static_cast<double>(rng() % 1000);
    for (int i = 0; i < 480; ++i) {
      const int64_t t = i * 15000 + (rng() % 10 == 0 ? static_cast<int64_t>(rng() % 5) : 0);
      if (s % 3 == 0) v += static_cast<double>(rng() % 1000);
      if (s % 3 == 1 && rng() % 40 == 0) v = static_cast<double>(rng() % 100);
      if (s % 3 == 2) v = std::round(v * 100 + static_cast<double>(rng() % 21) - 10) / 100;
      xs.push_back({t, v});
    }
    samples += static_cast<int64_t>(xs.size());
    series.push_back({labels, ToChunks(xs, XorChunk::kTargetSamples)});
    for (const ChunkView& c : series.back().chunks) chunk_bytes += c.bytes.size();
  }
  std::sort(series.begin(), series.end(),
            [](const auto& a, const auto& b) { return a.labels < b.labels; });
  absl::StatusOr<BlockMeta> meta = WriteBlock(tmp_.path(), 0, 2 * kHour, series, 1, {}, now_);
  ASSERT_TRUE(meta.ok());
  absl::StatusOr<std::unique_ptr<Block>> b = Block::Open(tmp_.Path(meta->ulid));
  ASSERT_TRUE(b.ok());
  const double per_sample = static_cast<double>((*b)->size_bytes()) / static_cast<double>(samples);
  std::cout << "block of " << samples << " samples: " << (*b)->size_bytes() << " bytes, "
            << per_sample << " bytes/sample, XOR chunk data "
            << static_cast<double>(chunk_bytes) / static_cast<double>(samples) << " bytes/sample\n";
  EXPECT_LT(per_sample, 4.0);
}

TEST_F(BlockTest, CompactsOverlappingBlocksIntoNonOverlappingChunks) {
  prom::Labels x{{"__name__", "x"}};
  std::vector<Sample> a, b, all;
  for (int i = 0; i < 300; ++i) {
    const Sample s{i * 15000, i * 1.5};
    if (i < 200) a.push_back(s);
    if (i >= 100) b.push_back(s);
    all.push_back(s);
  }
  Data da, db;
  da.series.push_back({x, ToChunks(a, 120)});
  db.series.push_back({x, ToChunks(b, 120)});
  std::unique_ptr<Block> ba = WriteAndOpen(da, 0, 200 * 15000);
  std::unique_ptr<Block> bb = WriteAndOpen(db, 100 * 15000, 300 * 15000);
  ASSERT_TRUE(ba && bb);
  absl::StatusOr<BlockMeta> meta = CompactBlocks(tmp_.path(), {ba.get(), bb.get()}, now_);
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->num_samples, 300);
  absl::StatusOr<std::unique_ptr<Block>> c = Block::Open(tmp_.Path(meta->ulid));
  ASSERT_TRUE(c.ok());
  absl::StatusOr<std::vector<SeriesChunks>> got = (*c)->Select({}, kMinTime, kMaxTime);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  const auto& chunks = (*got)[0].chunks;
  for (size_t i = 1; i < chunks.size(); ++i) EXPECT_GT(chunks[i].min_time, chunks[i - 1].max_time);
  EXPECT_EQ(Read((*got)[0], kMinTime, kMaxTime), all);
}

BlockMeta Meta(int64_t mint_h, int64_t maxt_h) {
  BlockMeta m;
  m.min_time = mint_h * kHour;
  m.max_time = maxt_h * kHour;
  return m;
}

TEST(PlanCompactionTest, PicksFullAlignedWindowsAndNeverTheNewestBlock) {
  const std::vector<int64_t> ranges = {2 * kHour, 6 * kHour, 18 * kHour, 54 * kHour};
  using V = std::vector<size_t>;
  EXPECT_EQ(PlanCompaction({}, ranges), V{});
  EXPECT_EQ(PlanCompaction({Meta(0, 2)}, ranges), V{});
  // Three 2h blocks fill [0, 6h); the newest (6h-8h) stays out.
  EXPECT_EQ(PlanCompaction({Meta(0, 2), Meta(2, 4), Meta(4, 6), Meta(6, 8)}, ranges), (V{0, 1, 2}));
  // Only three blocks: the newest is excluded and the other two do not fill their window.
  EXPECT_EQ(PlanCompaction({Meta(0, 2), Meta(2, 4), Meta(4, 6)}, ranges), V{});
  // A window with a gap, wholly before a later block: compacted.
  EXPECT_EQ(PlanCompaction({Meta(0, 2), Meta(2, 4), Meta(6, 8), Meta(8, 10)}, ranges), (V{0, 1}));
  // Three 6h blocks fill [0, 18h).
  EXPECT_EQ(PlanCompaction({Meta(0, 6), Meta(6, 12), Meta(12, 18), Meta(18, 20)}, ranges),
            (V{0, 1, 2}));
  // A lone block per window: nothing to do.
  EXPECT_EQ(PlanCompaction({Meta(0, 6), Meta(6, 8), Meta(8, 10)}, ranges), V{});
  // A block spanning two 6h windows is never grouped in them.
  EXPECT_EQ(PlanCompaction({Meta(4, 8), Meta(8, 10), Meta(10, 12)}, ranges), V{});
  // Unsorted input: indexes refer to the input order.
  EXPECT_EQ(PlanCompaction({Meta(6, 8), Meta(2, 4), Meta(0, 2), Meta(4, 6)}, ranges), (V{2, 1, 3}));
  // Overlapping blocks go first, together, the newest included.
  EXPECT_EQ(PlanCompaction({Meta(0, 2), Meta(1, 3), Meta(4, 6), Meta(6, 8)}, ranges), (V{0, 1}));
  EXPECT_EQ(PlanCompaction({Meta(0, 2), Meta(2, 4), Meta(3, 5)}, ranges), (V{1, 2}));
  // One range only: no compaction.
  EXPECT_EQ(PlanCompaction({Meta(0, 2), Meta(2, 4), Meta(4, 6), Meta(6, 8)}, {2 * kHour}), V{});
}

TEST(RetentionTest, ByTimeAndBySize) {
  using V = std::vector<size_t>;
  std::vector<BlockMeta> metas = {Meta(0, 2), Meta(2, 4), Meta(4, 6), Meta(6, 8)};
  std::vector<int64_t> sizes = {10, 10, 10, 10};
  EXPECT_EQ(BlocksBeyondRetention(metas, sizes, 0, 0, 0), V{});
  EXPECT_EQ(BlocksBeyondRetention(metas, sizes, 4 * kHour, 0, 0), (V{0, 1}));
  EXPECT_EQ(BlocksBeyondRetention(metas, sizes, 5 * kHour, 0, 0), (V{0}));
  EXPECT_EQ(BlocksBeyondRetention(metas, sizes, 0, 25, 0), (V{0, 1}));
  EXPECT_EQ(BlocksBeyondRetention(metas, sizes, 0, 40, 0), V{});
  EXPECT_EQ(BlocksBeyondRetention(metas, sizes, 0, 25, 10), (V{0, 1, 2}));
  EXPECT_EQ(BlocksBeyondRetention(metas, sizes, 0, 5, 0), (V{0, 1, 2, 3}));
  EXPECT_EQ(BlocksBeyondRetention(metas, sizes, 7 * kHour, 35, 0), (V{0}));
}

TEST(UlidTest, CrockfordBase32OrderedByTime) {
  const std::string a = NewUlid(1700000000000), b = NewUlid(1700000000001);
  ASSERT_EQ(a.size(), 26u);
  EXPECT_LT(a, b);
  EXPECT_NE(NewUlid(5), NewUlid(5));
  for (char c : a)
    EXPECT_NE(std::string("0123456789ABCDEFGHJKMNPQRSTVWXYZ").find(c), std::string::npos);
  EXPECT_LE(a[0], '7');
  // The timestamp is the first 10 characters: 48 bits.
  EXPECT_EQ(NewUlid(0).substr(0, 10), "0000000000");
  EXPECT_EQ(NewUlid(1).substr(0, 10), "0000000001");
  EXPECT_EQ(NewUlid(32).substr(0, 10), "0000000010");
}

}  // namespace
}  // namespace sextant::tsdb
