#include "aggregator/tsdb/block_index.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sextant::tsdb {
namespace {

struct Input {
  std::vector<prom::Labels> labels;
  std::vector<IndexSeries> series;
};

// Random series (sorted, unique) with random chunk metas, some overlapping or going backwards.
Input RandomInput(std::mt19937_64& rng, int n) {
  std::set<prom::Labels> sets;
  const char* names[] = {"job", "instance", "le", "zone", "a_much_longer_label_name"};
  while (static_cast<int>(sets.size()) < n) {
    std::vector<prom::Label> ls;
    ls.push_back({"__name__", absl::StrCat("metric_", rng() % 5)});
    for (const char* name : names) {
      if (rng() % 2) ls.push_back({name, absl::StrCat("v", rng() % 7)});
    }
    sets.insert(*prom::Labels::FromUnsorted(std::move(ls)));
  }
  Input in;
  in.labels.assign(sets.begin(), sets.end());
  for (const prom::Labels& l : in.labels) {
    IndexSeries s;
    s.labels = &l;
    const int chunks = static_cast<int>(rng() % 4);
    int64_t t = static_cast<int64_t>(rng() % 100000) - 50000;
    for (int c = 0; c < chunks; ++c) {
      const int64_t mint = t + static_cast<int64_t>(rng() % 1000) - (c == 2 ? 5000 : 0);
      const int64_t maxt = mint + static_cast<int64_t>(rng() % 10000);
      s.chunks.push_back({mint, maxt, (uint64_t{rng() % 3} << 32) | (rng() % 1000000 + 8)});
      t = maxt;
    }
    in.series.push_back(std::move(s));
  }
  return in;
}

// Everything a reader can say about an index, as text, or the first error.
absl::StatusOr<std::string> Dump(const IndexReader& r) {
  std::string out;
  for (const std::string& name : r.LabelNames()) {
    for (const std::string& value : r.LabelValues(name)) {
      absl::StatusOr<std::vector<uint32_t>> p = r.Postings(name, value);
      if (!p.ok()) return p.status();
      absl::StrAppend(&out, name, "=", value, ":", p->size(), "\n");
    }
  }
  absl::StatusOr<std::vector<uint32_t>> all = r.Postings("", "");
  if (!all.ok()) return all.status();
  for (uint32_t ref : *all) {
    prom::Labels labels;
    std::vector<IndexChunkMeta> chunks;
    if (absl::Status s = r.Series(ref, &labels, &chunks); !s.ok()) return s;
    absl::StrAppend(&out, labels.ToString());
    for (const auto& c : chunks)
      absl::StrAppend(&out, " ", c.min_time, "/", c.max_time, "/", c.ref);
    out += "\n";
  }
  return out;
}

TEST(BlockIndexTest, RoundTripsSeriesPostingsAndLabelValues) {
  std::mt19937_64 rng(7);
  Input in = RandomInput(rng, 300);
  absl::StatusOr<std::string> bytes = EncodeIndex(in.series);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<std::unique_ptr<IndexReader>> r = IndexReader::FromBytes(*bytes, "test");
  ASSERT_TRUE(r.ok()) << r.status();

  std::map<std::string, std::set<std::string>> values;
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> postings;
  for (size_t i = 0; i < in.labels.size(); ++i) {
    for (const prom::Label& l : in.labels[i]) {
      values[l.name].insert(l.value);
      postings[{l.name, l.value}].push_back(i);
    }
  }
  std::vector<std::string> names;
  for (const auto& [name, v] : values) names.push_back(name);
  EXPECT_EQ((*r)->LabelNames(), names);
  for (const auto& [name, v] : values) {
    EXPECT_EQ((*r)->LabelValues(name), std::vector<std::string>(v.begin(), v.end()));
  }
  EXPECT_TRUE((*r)->LabelValues("nope").empty());

  absl::StatusOr<std::vector<uint32_t>> all = (*r)->Postings("", "");
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), in.series.size());
  for (size_t i = 0; i < all->size(); ++i) {
    prom::Labels labels;
    std::vector<IndexChunkMeta> chunks;
    ASSERT_TRUE((*r)->Series((*all)[i], &labels, &chunks).ok());
    EXPECT_EQ(labels, in.labels[i]);
    EXPECT_EQ(chunks, in.series[i].chunks) << labels.ToString();
  }
  for (const auto& [pair, idx] : postings) {
    absl::StatusOr<std::vector<uint32_t>> p = (*r)->Postings(pair.first, pair.second);
    ASSERT_TRUE(p.ok());
    ASSERT_EQ(p->size(), idx.size());
    for (size_t k = 0; k < idx.size(); ++k) EXPECT_EQ((*p)[k], (*all)[idx[k]]);
  }
  absl::StatusOr<std::vector<uint32_t>> none = (*r)->Postings("job", "nope");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(BlockIndexTest, LaysOutHeaderSymbolsAndSeriesAsPrometheus) {
  prom::Labels a{{"__name__", "up"}, {"job", "x"}};
  absl::StatusOr<std::string> bytes = EncodeIndex({{&a, {{1000, 2000, 8}, {3000, 4000, 30}}}});
  ASSERT_TRUE(bytes.ok());
  const std::string& b = *bytes;
  // Magic and version 2.
  EXPECT_EQ(b.substr(0, 5), std::string("\xBA\xAA\xD7\x00\x02", 5));
  // Symbol table at 5: len, count 4 ("__name__", "job", "up", "x" sorted), strings.
  const std::string body =
      std::string("\x00\x00\x00\x04", 4) + "\x08__name__" + "\x03job" + "\x02up" + "\x01x";
  EXPECT_EQ(b.substr(5, 4), std::string("\x00\x00\x00", 3) + static_cast<char>(body.size()));
  EXPECT_EQ(b.substr(9, body.size()), body);
  // The first series at the next 16-byte boundary: labels as symbol refs (0,2) (1,3), then the
  // chunk metas: mint varint 1000, maxt-mint 1000, ref 8; then 1000, 1000, ref delta +22.
  const size_t series_at = (9 + body.size() + 4 + 15) / 16 * 16;
  const std::string series = std::string("\x02\x00\x02\x01\x03\x02", 6) + "\xD0\x0F" + "\xE8\x07" +
                             "\x08" + "\xE8\x07" + "\xE8\x07" + "\x2C";
  EXPECT_EQ(b[series_at], static_cast<char>(series.size()));
  EXPECT_EQ(b.substr(series_at + 1, series.size()), series);
}

TEST(BlockIndexTest, RejectsUnsortedOrDuplicateSeries) {
  prom::Labels a{{"a", "1"}}, b{{"a", "2"}};
  EXPECT_EQ(EncodeIndex({{&b, {}}, {&a, {}}}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeIndex({{&a, {}}, {&a, {}}}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BlockIndexTest, EmptyIndexReadsBackEmpty) {
  absl::StatusOr<std::string> bytes = EncodeIndex({});
  ASSERT_TRUE(bytes.ok());
  absl::StatusOr<std::unique_ptr<IndexReader>> r = IndexReader::FromBytes(*bytes, "empty");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)->LabelNames().empty());
  absl::StatusOr<std::vector<uint32_t>> all = (*r)->Postings("", "");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

// Every single-byte flip either changes nothing a reader sees (padding, the unused label
// indices) or gives DataLoss naming the file: never a crash, never silently different data.
TEST(BlockIndexTest, EveryByteFlipIsDataLossOrHarmless) {
  std::mt19937_64 rng(11);
  Input in = RandomInput(rng, 12);
  absl::StatusOr<std::string> bytes = EncodeIndex(in.series);
  ASSERT_TRUE(bytes.ok());
  absl::StatusOr<std::unique_ptr<IndexReader>> good = IndexReader::FromBytes(*bytes, "good");
  ASSERT_TRUE(good.ok());
  absl::StatusOr<std::string> want = Dump(**good);
  ASSERT_TRUE(want.ok());
  int detected = 0;
  for (size_t i = 0; i < bytes->size(); ++i) {
    std::string damaged = *bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ (1 << (i % 8)));
    absl::StatusOr<std::unique_ptr<IndexReader>> r = IndexReader::FromBytes(damaged, "idx");
    absl::Status s = r.status();
    if (r.ok()) {
      absl::StatusOr<std::string> got = Dump(**r);
      if (got.ok()) {
        EXPECT_EQ(*got, *want) << "flip at " << i;
        continue;
      }
      s = got.status();
    }
    ++detected;
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << "flip at " << i << ": " << s;
    EXPECT_NE(s.message().find("index idx"), absl::string_view::npos) << s;
  }
  EXPECT_GT(detected, static_cast<int>(bytes->size()) / 2);
}

TEST(BlockIndexTest, TruncatedIndexIsDataLoss) {
  std::mt19937_64 rng(3);
  Input in = RandomInput(rng, 5);
  absl::StatusOr<std::string> bytes = EncodeIndex(in.series);
  ASSERT_TRUE(bytes.ok());
  for (size_t n = 0; n < bytes->size(); ++n) {
    absl::StatusOr<std::unique_ptr<IndexReader>> r =
        IndexReader::FromBytes(absl::string_view(*bytes).substr(0, n), "idx");
    if (r.ok()) {
      EXPECT_FALSE(Dump(**r).ok()) << n;
    } else {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss) << n;
    }
  }
}

TEST(BlockIndexTest, ChunkSegmentsRoundTripAcrossCuts) {
  testing::TempDir tmp;
  const std::string& dir = tmp.path();
  std::vector<std::string> chunks;
  std::vector<uint64_t> refs;
  {
    ChunkSegmentWriter w(dir, 200);  // a few chunks per segment
    for (int i = 0; i < 40; ++i) {
      chunks.push_back(std::string(static_cast<size_t>(2 + i * 3), static_cast<char>('a' + i)));
      absl::StatusOr<uint64_t> ref = w.Write(chunks.back());
      ASSERT_TRUE(ref.ok()) << ref.status();
      refs.push_back(*ref);
    }
    ASSERT_TRUE(w.Finish().ok());
  }
  absl::StatusOr<std::unique_ptr<ChunkSegmentReader>> r = ChunkSegmentReader::Open(dir);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(refs.back() >> 32, 3u);
  for (size_t i = 0; i < chunks.size(); ++i) {
    absl::string_view got;
    std::shared_ptr<const void> owner;
    ASSERT_TRUE((*r)->Chunk(refs[i], &got, &owner).ok()) << i;
    EXPECT_EQ(got, chunks[i]);
    EXPECT_NE(owner, nullptr);
  }
  absl::string_view got;
  std::shared_ptr<const void> owner;
  EXPECT_EQ((*r)->Chunk(uint64_t{99} << 32, &got, &owner).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ((*r)->Chunk(refs[0] + 1, &got, &owner).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace sextant::tsdb
