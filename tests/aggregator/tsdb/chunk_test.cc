#include "aggregator/tsdb/chunk.h"

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "prom/value.h"

namespace sextant::tsdb {
namespace {

struct S {
  int64_t t;
  double v;
};

std::vector<S> Encode(const std::vector<S>& in, std::string* bytes) {
  XorChunk chunk;
  for (const S& s : in) EXPECT_TRUE(chunk.Append(s.t, s.v).ok());
  *bytes = std::string(chunk.bytes());
  std::vector<S> out;
  XorIterator it(*bytes);
  while (it.Next()) out.push_back({it.t(), it.v()});
  EXPECT_TRUE(it.status().ok()) << it.status();
  EXPECT_EQ(it.num_samples(), static_cast<int>(in.size()));
  return out;
}

void ExpectRoundTrip(const std::vector<S>& in) {
  std::string bytes;
  std::vector<S> out = Encode(in, &bytes);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].t, in[i].t) << "sample " << i;
    EXPECT_EQ(std::bit_cast<uint64_t>(out[i].v), std::bit_cast<uint64_t>(in[i].v))
        << "sample " << i << ": " << in[i].v << " came back as " << out[i].v;
  }
}

// The layout pinned byte for byte (worked out by hand from Prometheus's xor.go rules):
// header 3 samples; t=1000 as zig-zag varint, 1.0 raw; delta 1000 as uvarint, value repeat '0';
// delta-of-delta 0 '0', then 2.0: '1' '1' leading=1 (5 bits) sigbits=11 (6 bits) 11 ones.
TEST(XorChunkTest, MatchesPrometheusLayout) {
  XorChunk chunk;
  ASSERT_TRUE(chunk.Append(1000, 1.0).ok());
  ASSERT_TRUE(chunk.Append(2000, 1.0).ok());
  ASSERT_TRUE(chunk.Append(3000, 2.0).ok());
  EXPECT_EQ(absl::BytesToHexString(chunk.bytes()), "0003d00f3ff0000000000000e8073097ffc0");
}

TEST(XorChunkTest, EmptyChunkIsJustAHeader) {
  XorChunk chunk;
  EXPECT_EQ(chunk.bytes().size(), 2u);
  XorIterator it(chunk.bytes());
  EXPECT_FALSE(it.Next());
  EXPECT_TRUE(it.status().ok());
}

TEST(XorChunkTest, EveryFloatBitPatternRoundTrips) {
  const double nan_payload = std::bit_cast<double>(uint64_t{0x7ff8000000000123});
  const double negative_nan = std::bit_cast<double>(uint64_t{0xfff8000000000000});
  ExpectRoundTrip({{1, 0.0},
                   {2, -0.0},
                   {3, prom::StaleNaN()},
                   {4, std::numeric_limits<double>::quiet_NaN()},
                   {5, nan_payload},
                   {6, negative_nan},
                   {7, std::numeric_limits<double>::infinity()},
                   {8, -std::numeric_limits<double>::infinity()},
                   {9, std::numeric_limits<double>::denorm_min()},
                   {10, std::numeric_limits<double>::max()},
                   {11, std::numeric_limits<double>::lowest()},
                   {12, 1e-300},
                   {13, 0.1},
                   {14, prom::StaleNaN()},
                   {15, 0.0}});
}

TEST(XorChunkTest, TimestampBucketsAndLargeGapsRoundTrip) {
  // Delta-of-deltas at each bucket's edges, both signs, and far beyond.
  std::vector<int64_t> dods = {0,
                               1,
                               -1,
                               8192,
                               -8191,
                               8193,
                               -8192,
                               65536,
                               -65535,
                               65537,
                               -65536,
                               524288,
                               -524287,
                               524289,
                               -524288,
                               int64_t{1} << 40,
                               -(int64_t{1} << 40)};
  std::vector<S> in = {{1'700'000'000'000, 1}, {1'700'000'015'000, 2}};
  int64_t delta = 15'000;
  for (int64_t dod : dods) {
    delta += dod;
    in.push_back({in.back().t + delta, static_cast<double>(in.size())});
  }
  ExpectRoundTrip(in);
  // Negative and extreme timestamps, differences that overflow int64 included.
  ExpectRoundTrip({{-5, 1},
                   {std::numeric_limits<int64_t>::min() / 4, 2},
                   {0, 3},
                   {std::numeric_limits<int64_t>::max() / 4, 4}});
  ExpectRoundTrip({{std::numeric_limits<int64_t>::max(), 1},
                   {std::numeric_limits<int64_t>::min(), 2},
                   {std::numeric_limits<int64_t>::max(), 3},
                   {0, 4}});
}

TEST(XorChunkTest, RandomSeriesRoundTrip) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<S> in;
    int64_t t = static_cast<int64_t>(rng() % 2'000'000'000'000);
    const int n = 1 + static_cast<int>(rng() % XorChunk::kMaxSamples);
    double v = 0;
    for (int i = 0; i < n; ++i) {
      switch (rng() % 6) {
        case 0:
          break;  // repeat
        case 1:
          v += 1;
          break;  // counter
        case 2:
          v = std::bit_cast<double>(rng());
          break;  // any bits at all
        case 3:
          v = static_cast<double>(rng() % 1000) / 7;
          break;  // gauge
        case 4:
          v = prom::StaleNaN();
          break;
        default:
          v = std::ldexp(static_cast<double>(rng() % 100), static_cast<int>(rng() % 200) - 100);
      }
      t += static_cast<int64_t>(rng() % 3 == 0 ? rng() % 100'000'000 : 15'000 + rng() % 50);
      in.push_back({t, v});
    }
    ExpectRoundTrip(in);
  }
}

TEST(XorChunkTest, RefusesMoreThanMaxSamples) {
  XorChunk chunk;
  for (int i = 0; i < XorChunk::kMaxSamples; ++i) ASSERT_TRUE(chunk.Append(i * 1000, i).ok());
  EXPECT_TRUE(chunk.full());
  EXPECT_EQ(chunk.Append(1'000'000, 1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(chunk.num_samples(), XorChunk::kMaxSamples);
  EXPECT_EQ(chunk.min_time(), 0);
  EXPECT_EQ(chunk.max_time(), (XorChunk::kMaxSamples - 1) * 1000);
}

// Node-exporter-like data: a 15 s scrape with a little jitter, counters that grow by small
// amounts and gauges that wander; Gorilla's paper reports 1.37 bytes per sample.
TEST(XorChunkTest, RegularNodeLikeDataTakesUnderOnePointFourBytesPerSample) {
  std::mt19937_64 rng(11);
  size_t bytes = 0, samples = 0;
  for (int series = 0; series < 100; ++series) {
    XorChunk chunk;
    int64_t t = 1'700'000'000'000;
    double v = series % 2 == 0 ? 1e6 : 42;
    for (int i = 0; i < XorChunk::kTargetSamples; ++i) {
      t += 15'000 + (rng() % 10 == 0 ? static_cast<int64_t>(rng() % 5) - 2 : 0);
      if (series % 2 == 0) v += static_cast<double>(rng() % 3);                        // counter
      if (series % 2 == 1 && rng() % 4 == 0) v = 40 + static_cast<double>(rng() % 5);  // gauge
      ASSERT_TRUE(chunk.Append(t, v).ok());
    }
    bytes += chunk.bytes().size();
    samples += static_cast<size_t>(chunk.num_samples());
  }
  const double per_sample = static_cast<double>(bytes) / static_cast<double>(samples);
  RecordProperty("bytes_per_sample", std::to_string(per_sample));
  EXPECT_LT(per_sample, 1.4);  // the target for node_exporter-like data
}

TEST(XorIteratorTest, TruncatedOrCorruptChunksEndWithAnErrorNotACrash) {
  XorChunk chunk;
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(chunk.Append(i * 15'000 + (i % 3), i * 0.5).ok());
  const std::string good(chunk.bytes());
  // Every truncation.
  for (size_t len = 0; len < good.size(); ++len) {
    XorIterator it(absl::string_view(good.data(), len));
    int n = 0;
    while (it.Next()) ++n;
    EXPECT_LT(n, 50) << len;
    EXPECT_FALSE(it.status().ok()) << "truncated to " << len << " bytes";
  }
  // Every single-bit flip: decodes to something or fails cleanly, never reads outside.
  for (size_t bit = 0; bit < good.size() * 8; ++bit) {
    std::string bad = good;
    bad[bit / 8] = static_cast<char>(bad[bit / 8] ^ (0x80 >> (bit % 8)));
    XorIterator it(bad);
    int n = 0;
    while (it.Next()) ++n;
    EXPECT_LE(n, it.num_samples());
  }
  // A header claiming more samples than the data holds.
  std::string more = good;
  more[0] = '\x7f';
  XorIterator it(more);
  while (it.Next()) {
  }
  EXPECT_EQ(it.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sextant::tsdb
