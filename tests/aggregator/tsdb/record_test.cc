#include "aggregator/tsdb/record.h"

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::tsdb {
namespace {

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

TEST(RecordTest, SamplesRoundTripExactBits) {
  std::mt19937_64 rng(42);
  std::vector<RefSample> samples;
  const double specials[] = {std::bit_cast<double>(uint64_t{0x7ff0000000000002}),  // stale
                             std::numeric_limits<double>::quiet_NaN(),
                             std::bit_cast<double>(uint64_t{0xfff8000000000123}),
                             std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             -0.0,
                             0.0,
                             std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::max()};
  for (double v : specials) samples.push_back({rng() % 1000 + 1, static_cast<int64_t>(rng()), v});
  for (int i = 0; i < 2000; ++i) {
    RefSample s;
    // Refs and times far apart in both directions, including the extremes.
    s.ref = (i % 7 == 0) ? rng() : 1000 + rng() % 100;
    s.t = (i % 11 == 0) ? static_cast<int64_t>(rng()) : 1700000000000 + (i * 15000);
    if (i == 3) s.t = std::numeric_limits<int64_t>::min();
    if (i == 4) s.t = std::numeric_limits<int64_t>::max();
    if (i == 5) s.ref = std::numeric_limits<uint64_t>::max();
    s.v = std::bit_cast<double>(rng());
    samples.push_back(s);
  }
  std::string rec;
  EncodeSamples(samples, &rec);
  ASSERT_EQ(*PeekRecordType(rec), RecordType::kSamples);
  std::vector<RefSample> got;
  ASSERT_TRUE(DecodeSamples(rec, &got).ok());
  ASSERT_EQ(got.size(), samples.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].ref, samples[i].ref) << i;
    EXPECT_EQ(got[i].t, samples[i].t) << i;
    EXPECT_EQ(Bits(got[i].v), Bits(samples[i].v)) << i;
  }
}

TEST(RecordTest, SamplesLayoutMatchesPrometheus) {
  // Prometheus's record.Encoder.Samples for {ref 5, t 1000, v 1} and {ref 4, t 1010, v -0}.
  std::string rec;
  EncodeSamples({{5, 1000, 1.0}, {4, 1010, -0.0}}, &rec);
  const std::string want = std::string("\x02", 1) +                           // type
                           std::string("\0\0\0\0\0\0\0\x05", 8) +             // base ref
                           std::string("\0\0\0\0\0\0\x03\xe8", 8) +           // base t
                           std::string("\x00\x00\x3f\xf0\0\0\0\0\0\0", 10) +  // 0, 0, 1.0
                           std::string("\x01\x14\x80\0\0\0\0\0\0\0", 10);     // -1, +10, -0
  EXPECT_EQ(rec, want);
}

TEST(RecordTest, EmptyRecordsRoundTrip) {
  std::string rec;
  EncodeSamples({}, &rec);
  EXPECT_EQ(rec.size(), 1u);
  std::vector<RefSample> samples = {{1, 2, 3}};
  ASSERT_TRUE(DecodeSamples(rec, &samples).ok());
  EXPECT_TRUE(samples.empty());
  rec.clear();
  EncodeSeries({}, &rec);
  std::vector<RefSeries> series;
  ASSERT_TRUE(DecodeSeries(rec, &series).ok());
  EXPECT_TRUE(series.empty());
}

TEST(RecordTest, SeriesRoundTripWithManyLabels) {
  std::vector<RefSeries> series;
  for (int i = 0; i < 50; ++i) {
    std::vector<prom::Label> labels;
    labels.push_back({"__name__", "metric_" + std::to_string(i)});
    for (int j = 0; j < i * 3; ++j) {
      char name[16];
      snprintf(name, sizeof(name), "l%04d", j);
      labels.push_back({name, std::string(static_cast<size_t>(j % 200 + 1), 'v') + "\xc3\xa9"});
    }
    series.push_back(
        {static_cast<SeriesRef>(i * 1000003 + 1), *prom::Labels::FromUnsorted(std::move(labels))});
  }
  std::string rec;
  EncodeSeries(series, &rec);
  EXPECT_EQ(*PeekRecordType(rec), RecordType::kSeries);
  std::vector<RefSeries> got;
  ASSERT_TRUE(DecodeSeries(rec, &got).ok());
  ASSERT_EQ(got.size(), series.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].ref, series[i].ref);
    EXPECT_EQ(got[i].labels, series[i].labels) << got[i].labels.ToString();
  }
}

// Builds a series record by hand with labels in the given order.
std::string RawSeries(const std::vector<std::pair<std::string, std::string>>& labels) {
  std::string rec("\x01\0\0\0\0\0\0\0\x07", 9);
  rec.push_back(static_cast<char>(labels.size()));
  for (const auto& [n, v] : labels) {
    rec.push_back(static_cast<char>(n.size()));
    rec += n;
    rec.push_back(static_cast<char>(v.size()));
    rec += v;
  }
  return rec;
}

TEST(RecordTest, UnsortedLabelsAreSortedAndDuplicatesRejected) {
  std::vector<RefSeries> got;
  ASSERT_TRUE(DecodeSeries(RawSeries({{"b", "2"}, {"a", "1"}, {"c", ""}}), &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].ref, 7u);
  EXPECT_EQ(got[0].labels, prom::Labels({{"a", "1"}, {"b", "2"}}));
  absl::Status s = DecodeSeries(RawSeries({{"a", "1"}, {"a", "2"}}), &got);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("duplicate"));
  EXPECT_TRUE(got.empty());
}

TEST(RecordTest, MetadataRoundTrip) {
  std::vector<RefMetadata> md = {{"http_requests_total", 1, "", "Requests served."},
                                 {"temp_celsius", 2, "celsius", std::string(300, 'h')},
                                 {"", 0, "", ""}};
  std::string rec;
  EncodeMetadata(md, &rec);
  EXPECT_EQ(*PeekRecordType(rec), RecordType::kMetadata);
  std::vector<RefMetadata> got;
  ASSERT_TRUE(DecodeMetadata(rec, &got).ok());
  ASSERT_EQ(got.size(), md.size());
  for (size_t i = 0; i < md.size(); ++i) {
    EXPECT_EQ(got[i].metric_family_name, md[i].metric_family_name);
    EXPECT_EQ(got[i].type, md[i].type);
    EXPECT_EQ(got[i].unit, md[i].unit);
    EXPECT_EQ(got[i].help, md[i].help);
  }
}

TEST(RecordTest, EveryTruncationFailsCleanly) {
  std::string series, samples, metadata;
  EncodeSeries({{3, prom::Labels({{"__name__", "up"}, {"job", "node"}})},
                {300000, prom::Labels({{"__name__", "x"}})}},
               &series);
  EncodeSamples({{3, 1000, 1.5}, {300000, -5000, 2.5}}, &samples);
  EncodeMetadata({{"up", 3, "seconds", "help text"}}, &metadata);
  std::vector<RefSeries> s;
  std::vector<RefSample> x;
  std::vector<RefMetadata> m;
  // Cutting anywhere but at an entry boundary must fail (never reading past the cut).
  std::string first_series;
  EncodeSeries({{3, prom::Labels({{"__name__", "up"}, {"job", "node"}})}}, &first_series);
  const size_t boundary = first_series.size();
  for (size_t n = 0; n < series.size(); ++n) {
    const std::string cut = series.substr(0, n);
    absl::Status st = DecodeSeries(cut, &s);
    if (n == 1) {
      EXPECT_TRUE(st.ok());
      continue;
    }
    if (n == boundary) continue;  // the first entry's end (checked below)
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << n;
  }
  ASSERT_TRUE(DecodeSeries(series.substr(0, boundary), &s).ok());
  EXPECT_EQ(s.size(), 1u);
  for (size_t n = 0; n < samples.size(); ++n) {
    absl::Status st = DecodeSamples(samples.substr(0, n), &x);
    if (n == 1 || n == 27) {
      EXPECT_TRUE(st.ok()) << n;  // no samples; the first sample
      continue;
    }
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << n;
  }
  for (size_t n = 0; n < metadata.size(); ++n) {
    absl::Status st = DecodeMetadata(metadata.substr(0, n), &m);
    if (n == 1) continue;
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << n;
  }
}

TEST(RecordTest, TrailingGarbageAndWrongTypeRejected) {
  std::string samples;
  EncodeSamples({{3, 1000, 1.5}}, &samples);
  std::vector<RefSample> x;
  EXPECT_EQ(DecodeSamples(samples + "\x01", &x).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeSamples(samples + std::string(9, '\0'), &x).code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<RefSeries> s;
  EXPECT_EQ(DecodeSeries(samples, &s).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PeekRecordType("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PeekRecordType("\x09").status().code(), absl::StatusCode::kInvalidArgument);
  // A label count that claims more labels than bytes left, and an 11-byte varint.
  std::string huge("\x01\0\0\0\0\0\0\0\x01\xff\xff\xff\xff\x0f", 14);
  EXPECT_EQ(DecodeSeries(huge, &s).code(), absl::StatusCode::kInvalidArgument);
  std::string overlong = samples.substr(0, 17) + std::string(10, '\x80') + "\x01";
  EXPECT_EQ(DecodeSamples(overlong, &x).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sextant::tsdb
