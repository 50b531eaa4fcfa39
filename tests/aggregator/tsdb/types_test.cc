#include "aggregator/tsdb/types.h"

#include <memory>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::tsdb {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

ChunkView Chunk(std::vector<std::pair<int64_t, double>> samples) {
  auto c = std::make_shared<XorChunk>();
  for (auto [t, v] : samples) EXPECT_TRUE(c->Append(t, v).ok());
  return ChunkView{c->min_time(), c->max_time(), c->bytes(), c};
}

std::vector<std::pair<int64_t, double>> Read(const SeriesChunks& s, int64_t mint, int64_t maxt) {
  std::vector<std::pair<int64_t, double>> out;
  SampleIterator it(s, mint, maxt);
  while (it.Next()) out.emplace_back(it.t(), it.v());
  EXPECT_TRUE(it.status().ok()) << it.status();
  return out;
}

TEST(SampleIteratorTest, StreamsChunksInOrderWithinTheRange) {
  SeriesChunks s{prom::Labels({{"__name__", "m"}}),
                 {Chunk({{0, 1}, {10, 2}}), Chunk({{20, 3}, {30, 4}})}};
  EXPECT_THAT(Read(s, kMinTime, kMaxTime),
              ElementsAre(Pair(0, 1), Pair(10, 2), Pair(20, 3), Pair(30, 4)));
  EXPECT_THAT(Read(s, 10, 20), ElementsAre(Pair(10, 2), Pair(20, 3)));
}

TEST(SampleIteratorTest, MergesOverlappingChunksSampleBySample) {
  // A block's chunk and a head chunk covering the same time, as during a head cut, or two
  // overlapping blocks: every timestamp once, the earlier chunk in the list winning a tie.
  SeriesChunks s{prom::Labels({{"__name__", "m"}}),
                 {Chunk({{0, 1}, {20, 3}, {40, 5}}), Chunk({{10, 2}, {20, 99}, {30, 4}})}};
  EXPECT_THAT(Read(s, kMinTime, kMaxTime),
              ElementsAre(Pair(0, 1), Pair(10, 2), Pair(20, 3), Pair(30, 4), Pair(40, 5)));
  EXPECT_THAT(Read(s, 15, 35), ElementsAre(Pair(20, 3), Pair(30, 4)));
}

TEST(SampleIteratorTest, CorruptChunkEndsWithDataLoss) {
  SeriesChunks s{prom::Labels({{"__name__", "m"}}), {Chunk({{0, 1}, {10, 2}})}};
  std::string bad(s.chunks[0].bytes.substr(0, 3));
  s.chunks[0].bytes = bad;
  SampleIterator it(s, kMinTime, kMaxTime);
  while (it.Next()) {
  }
  EXPECT_TRUE(absl::IsDataLoss(it.status())) << it.status();
}

TEST(MergeSeriesTest, JoinsEqualLabelSetsAcrossSources) {
  const prom::Labels a({{"__name__", "a"}});
  const prom::Labels b({{"__name__", "b"}});
  std::vector<std::vector<SeriesChunks>> parts;
  parts.push_back({SeriesChunks{a, {Chunk({{0, 1}})}}, SeriesChunks{b, {Chunk({{0, 1}})}}});
  parts.push_back({SeriesChunks{a, {Chunk({{10, 2}})}}});
  std::vector<SeriesChunks> merged = MergeSeries(std::move(parts));
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].labels, a);
  EXPECT_THAT(Read(merged[0], kMinTime, kMaxTime), ElementsAre(Pair(0, 1), Pair(10, 2)));
  EXPECT_EQ(merged[1].labels, b);
}

}  // namespace
}  // namespace sextant::tsdb
