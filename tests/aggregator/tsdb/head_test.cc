#include "aggregator/tsdb/head.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "prom/value.h"

namespace sextant::tsdb {
namespace head_internal {
// Defined in head.cc: replaces the labels hash of the series map (null = Labels::Hash()).
extern std::atomic<uint64_t (*)(const prom::Labels&)> labels_hash_for_testing;
}  // namespace head_internal

namespace {

struct Sample {
  int64_t t;
  double v;
  friend bool operator==(const Sample& a, const Sample& b) {
    return a.t == b.t && std::bit_cast<uint64_t>(a.v) == std::bit_cast<uint64_t>(b.v);
  }
};

std::vector<Sample> Samples(const SeriesChunks& series, int64_t mint = kMinTime,
                            int64_t maxt = kMaxTime) {
  std::vector<Sample> out;
  SampleIterator it(series, mint, maxt);
  while (it.Next()) out.push_back({it.t(), it.v()});
  EXPECT_TRUE(it.status().ok()) << it.status();
  return out;
}

prom::Matcher M(prom::MatchType type, const std::string& name, const std::string& value) {
  auto m = prom::Matcher::Create(type, name, value);
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

SeriesRef MustCreate(Head& head, const prom::Labels& labels) {
  bool created = false;
  absl::StatusOr<SeriesRef> ref = head.GetOrCreate(labels, &created);
  EXPECT_TRUE(ref.ok()) << ref.status();
  return ref.ok() ? *ref : 0;
}

TEST(HeadTest, CreatesSeriesOncePerLabelSet) {
  Head head(HeadOptions{});
  const prom::Labels a{{"__name__", "up"}, {"job", "a"}};
  const prom::Labels b{{"__name__", "up"}, {"job", "b"}};
  bool created = false;
  ASSERT_EQ(*head.GetOrCreate(a, &created), 1u);
  EXPECT_TRUE(created);
  ASSERT_EQ(*head.GetOrCreate(b, &created), 2u);
  EXPECT_TRUE(created);
  ASSERT_EQ(*head.GetOrCreate(prom::Labels{{"job", "a"}, {"__name__", "up"}}, &created), 1u);
  EXPECT_FALSE(created);
  EXPECT_EQ(head.NumSeries(), 2);
  EXPECT_TRUE(head.HasSeries(1));
  EXPECT_FALSE(head.HasSeries(3));
  EXPECT_EQ(*head.SeriesLabels(2), b);
  EXPECT_EQ(head.SeriesLabels(3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(head.LabelNames({}), (std::vector<std::string>{"__name__", "job"}));
  EXPECT_EQ(head.LabelValues("job", {}), (std::vector<std::string>{"a", "b"}));
}

TEST(HeadTest, HashCollisionKeepsSeriesApart) {
  head_internal::labels_hash_for_testing = [](const prom::Labels&) -> uint64_t { return 42; };
  {
    Head head(HeadOptions{});
    std::vector<prom::Labels> sets;
    for (int i = 0; i < 5; ++i) sets.push_back(prom::Labels{{"i", std::to_string(i)}});
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(MustCreate(head, sets[i]), static_cast<SeriesRef>(i + 1));
    }
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(MustCreate(head, sets[i]), static_cast<SeriesRef>(i + 1));
      EXPECT_EQ(*head.SeriesLabels(i + 1), sets[i]);
    }
    EXPECT_EQ(head.NumSeries(), 5);
    // Series 1 (in the primary slot) and 3 (among the conflicts) lose their samples.
    for (SeriesRef ref = 1; ref <= 5; ++ref) {
      const int64_t t = (ref == 1 || ref == 3) ? 10 : 1000;
      EXPECT_EQ(head.Append(ref, t, 1), AppendOutcome::kOk);
    }
    head.Truncate(500);
    EXPECT_EQ(head.NumSeries(), 3);
    for (int i : {1, 3, 4}) {
      EXPECT_EQ(MustCreate(head, sets[i]), static_cast<SeriesRef>(i + 1));
    }
    bool created = false;
    EXPECT_EQ(*head.GetOrCreate(sets[0], &created), 6u);
    EXPECT_TRUE(created);
    EXPECT_EQ(*head.GetOrCreate(sets[2], &created), 7u);
    EXPECT_TRUE(created);
  }
  head_internal::labels_hash_for_testing = nullptr;
}

TEST(HeadTest, RejectsOutOfOrderSampleWithinSeries) {
  Head head(HeadOptions{});
  const SeriesRef ref = MustCreate(head, prom::Labels{{"a", "1"}});
  EXPECT_EQ(head.Append(ref, 100, 1), AppendOutcome::kOk);
  EXPECT_EQ(head.Append(ref, 99, 1), AppendOutcome::kOutOfOrder);
  EXPECT_EQ(head.Append(ref, 100, 2), AppendOutcome::kDuplicateDiffer);
  EXPECT_EQ(head.Append(ref, 101, 2), AppendOutcome::kOk);

  std::vector<PendingSample> batch = {{ref, 50, 1}, {ref, 101, 3}, {ref, 102, 3}, {ref, 103, 3}};
  RejectCounts rejected;
  head.Validate(batch, &rejected);
  EXPECT_EQ(rejected.out_of_order, 1);
  EXPECT_EQ(rejected.duplicate_differ, 1);
  EXPECT_EQ(rejected.total(), 2);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0].t, 102);
  EXPECT_EQ(batch[1].t, 103);
}

TEST(HeadTest, ValidateTreatsEarlierSamplesOfTheBatchAsNewest) {
  Head head(HeadOptions{});
  const SeriesRef a = MustCreate(head, prom::Labels{{"a", "1"}});
  const SeriesRef b = MustCreate(head, prom::Labels{{"a", "2"}});
  std::vector<PendingSample> batch = {{a, 10, 1}, {b, 5, 1},  {a, 10, 1}, {a, 9, 1},
                                      {a, 10, 2}, {a, 11, 1}, {b, 4, 1},  {99, 1, 1}};
  RejectCounts rejected;
  head.Validate(batch, &rejected);
  EXPECT_EQ(rejected.out_of_order, 2);
  EXPECT_EQ(rejected.duplicate_differ, 1);
  EXPECT_EQ(rejected.unknown_series, 1);
  ASSERT_EQ(batch.size(), 3u);
  head.Apply(batch);
  auto all = head.Select({}, kMinTime, kMaxTime);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(Samples(all[0]), (std::vector<Sample>{{10, 1}, {11, 1}}));
  EXPECT_EQ(Samples(all[1]), (std::vector<Sample>{{5, 1}}));
}

TEST(HeadTest, DuplicateSampleIsDroppedSilently) {
  Head head(HeadOptions{});
  const SeriesRef ref = MustCreate(head, prom::Labels{{"a", "1"}});
  EXPECT_EQ(head.Append(ref, 100, 1.5), AppendOutcome::kOk);
  EXPECT_EQ(head.Append(ref, 100, 1.5), AppendOutcome::kDuplicate);
  std::vector<PendingSample> batch = {{ref, 100, 1.5}};
  RejectCounts rejected;
  head.Validate(batch, &rejected);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(rejected.total(), 0);
  auto all = head.Select({}, kMinTime, kMaxTime);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(Samples(all[0]), (std::vector<Sample>{{100, 1.5}}));
}

TEST(HeadTest, RejectsUnknownSeriesAndSamplesBeforeMinValidTime) {
  Head head(HeadOptions{});
  EXPECT_EQ(head.Append(7, 1, 1), AppendOutcome::kUnknownSeries);
  const SeriesRef ref = MustCreate(head, prom::Labels{{"a", "1"}});
  EXPECT_EQ(head.Append(ref, 2000, 1), AppendOutcome::kOk);
  head.Truncate(1000);
  EXPECT_EQ(head.MinValidTime(), 1000);
  MustCreate(head, prom::Labels{{"a", "2"}});
  EXPECT_EQ(head.Append(2, 999, 1), AppendOutcome::kOutOfBounds);
  EXPECT_EQ(head.Append(2, 1000, 1), AppendOutcome::kOk);
  std::vector<PendingSample> batch = {{ref, 500, 1}};
  RejectCounts rejected;
  head.Validate(batch, &rejected);
  EXPECT_EQ(rejected.out_of_bounds, 1);
  EXPECT_TRUE(batch.empty());
}

TEST(HeadTest, StaleMarkerRoundTripsBitExact) {
  Head head(HeadOptions{});
  const SeriesRef ref = MustCreate(head, prom::Labels{{"a", "1"}});
  const double other_nan = std::bit_cast<double>(uint64_t{0x7ff8000000000001});
  EXPECT_EQ(head.Append(ref, 1, 1), AppendOutcome::kOk);
  EXPECT_EQ(head.Append(ref, 2, prom::StaleNaN()), AppendOutcome::kOk);
  EXPECT_EQ(head.Append(ref, 2, prom::StaleNaN()), AppendOutcome::kDuplicate);
  EXPECT_EQ(head.Append(ref, 2, other_nan), AppendOutcome::kDuplicateDiffer);
  EXPECT_EQ(head.Append(ref, 3, other_nan), AppendOutcome::kOk);
  EXPECT_EQ(head.Append(ref, 4, -0.0), AppendOutcome::kOk);
  auto all = head.Select({}, kMinTime, kMaxTime);
  ASSERT_EQ(all.size(), 1u);
  const auto got = Samples(all[0]);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_TRUE(prom::IsStaleNaN(got[1].v));
  EXPECT_EQ(std::bit_cast<uint64_t>(got[2].v), 0x7ff8000000000001u);
  EXPECT_TRUE(std::signbit(got[3].v));
}

TEST(HeadTest, CutsChunksAt120SamplesAndAtRangeBoundary) {
  Head head(HeadOptions{.chunk_range_ms = 1000});
  const SeriesRef a = MustCreate(head, prom::Labels{{"s", "a"}});
  // 250 samples 1 ms apart inside one range window: 120 + 120 + 10.
  for (int64_t t = 0; t < 250; ++t)
    ASSERT_EQ(head.Append(a, t, static_cast<double>(t)), AppendOutcome::kOk);
  EXPECT_EQ(head.NumChunks(), 3);
  // Negative times: -1500 and -1001 share the window [-2000, -1000), -1000 starts the next,
  // 999 a later one.
  const SeriesRef b = MustCreate(head, prom::Labels{{"s", "b"}});
  for (int64_t t : {-1500, -1001, -1000, -1, 999, 1000}) {
    ASSERT_EQ(head.Append(b, t, 1), AppendOutcome::kOk);
  }
  EXPECT_EQ(head.NumChunks(), 3 + 4);
  auto all = head.Select({}, kMinTime, kMaxTime);
  ASSERT_EQ(all.size(), 2u);
  ASSERT_EQ(all[0].chunks.size(), 3u);
  EXPECT_EQ(all[0].chunks[0].min_time, 0);
  EXPECT_EQ(all[0].chunks[0].max_time, 119);
  EXPECT_EQ(all[0].chunks[1].min_time, 120);
  EXPECT_EQ(all[0].chunks[2].max_time, 249);
  EXPECT_EQ(Samples(all[0]).size(), 250u);
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (const ChunkView& c : all[1].chunks) ranges.emplace_back(c.min_time, c.max_time);
  EXPECT_EQ(ranges, (std::vector<std::pair<int64_t, int64_t>>{
                        {-1500, -1001}, {-1000, -1}, {999, 999}, {1000, 1000}}));
  EXPECT_EQ(head.MinTime(), -1500);
  EXPECT_EQ(head.MaxTime(), 1000);
}

TEST(HeadTest, SelectReturnsSamplesInRange) {
  Head head(HeadOptions{});
  const SeriesRef a = MustCreate(head, prom::Labels{{"__name__", "m"}, {"s", "a"}});
  const SeriesRef b = MustCreate(head, prom::Labels{{"__name__", "m"}, {"s", "b"}});
  for (int64_t t = 0; t < 300; ++t) ASSERT_EQ(head.Append(a, t * 10, t * 0.5), AppendOutcome::kOk);
  ASSERT_EQ(head.Append(b, 5000, 1), AppendOutcome::kOk);
  auto got = head.Select({M(prom::MatchType::kEqual, "__name__", "m")}, 1000, 1500);
  ASSERT_EQ(got.size(), 1u);  // b has nothing in range
  EXPECT_EQ(got[0].labels.Get("s"), "a");
  const auto samples = Samples(got[0], 1000, 1500);
  ASSERT_EQ(samples.size(), 51u);
  EXPECT_EQ(samples.front(), (Sample{1000, 50}));
  EXPECT_EQ(samples.back(), (Sample{1500, 75}));
  // The open chunk handed out is a copy: later appends do not change it.
  auto before = head.Select({}, 4000, 6000);
  ASSERT_EQ(before.size(), 1u);
  ASSERT_EQ(head.Append(b, 5001, 2), AppendOutcome::kOk);
  EXPECT_EQ(Samples(before[0]).size(), 1u);
  EXPECT_EQ(Samples(head.Select({}, 4000, 6000)[0]).size(), 2u);
}

TEST(HeadTest, TruncateDropsOldChunksAndEmptySeries) {
  Head head(HeadOptions{.chunk_range_ms = 1000});
  const SeriesRef old_series = MustCreate(head, prom::Labels{{"s", "old"}, {"x", "1"}});
  const SeriesRef mixed = MustCreate(head, prom::Labels{{"s", "mixed"}});
  const SeriesRef never = MustCreate(head, prom::Labels{{"s", "never"}});
  ASSERT_EQ(head.Append(old_series, 100, 1), AppendOutcome::kOk);
  for (int64_t t : {100, 900, 1100, 2100}) ASSERT_EQ(head.Append(mixed, t, 1), AppendOutcome::kOk);
  EXPECT_EQ(head.NumChunks(), 4);
  EXPECT_EQ(head.MinTime(), 100);

  head.Truncate(1000);
  EXPECT_FALSE(head.HasSeries(old_series));
  EXPECT_TRUE(head.HasSeries(mixed));
  // A series that never had samples gets one more Truncate to receive them.
  EXPECT_TRUE(head.HasSeries(never));
  EXPECT_EQ(head.NumSeries(), 2);
  EXPECT_EQ(head.NumChunks(), 2);
  EXPECT_EQ(head.MinTime(), 1100);
  EXPECT_EQ(head.MaxTime(), 2100);
  EXPECT_EQ(head.LabelNames({}), (std::vector<std::string>{"s"}));
  EXPECT_EQ(head.LabelValues("s", {}), (std::vector<std::string>{"mixed", "never"}));
  EXPECT_TRUE(head.Select({M(prom::MatchType::kEqual, "s", "old")}, kMinTime, kMaxTime).empty());
  auto all = head.Select({}, kMinTime, kMaxTime);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(Samples(all[0]), (std::vector<Sample>{{1100, 1}, {2100, 1}}));

  head.Truncate(1000);
  EXPECT_FALSE(head.HasSeries(never));
  head.Truncate(3000);
  EXPECT_EQ(head.NumSeries(), 0);
  EXPECT_EQ(head.NumChunks(), 0);
  EXPECT_EQ(head.MinTime(), kMaxTime);
  EXPECT_EQ(head.MaxTime(), kMinTime);
  EXPECT_TRUE(head.LabelNames({}).empty());
  // Refs are never reused.
  EXPECT_EQ(MustCreate(head, prom::Labels{{"s", "old"}, {"x", "1"}}), 4u);
}

TEST(HeadTest, ActiveSeriesLimit) {
  Head head(HeadOptions{.max_active_series = 2});
  MustCreate(head, prom::Labels{{"a", "1"}});
  MustCreate(head, prom::Labels{{"a", "2"}});
  bool created = true;
  auto third = head.GetOrCreate(prom::Labels{{"a", "3"}}, &created);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(created);
  EXPECT_EQ(*head.GetOrCreate(prom::Labels{{"a", "2"}}, &created), 2u);  // existing is fine
  // WAL replay ignores the limit.
  EXPECT_EQ(head.CreateWithRef(10, prom::Labels{{"a", "3"}}), 10u);
  EXPECT_EQ(head.NumSeries(), 3);
}

TEST(HeadTest, CreateWithRefKeepsRefsAndLaterRefsGoAbove) {
  Head head(HeadOptions{});
  EXPECT_EQ(head.CreateWithRef(7, prom::Labels{{"a", "1"}}), 7u);
  EXPECT_EQ(head.CreateWithRef(3, prom::Labels{{"a", "2"}}), 3u);
  EXPECT_EQ(head.CreateWithRef(9, prom::Labels{{"a", "1"}}), 7u);  // same labels: existing ref
  EXPECT_EQ(head.CreateWithRef(3, prom::Labels{{"a", "3"}}), 8u);  // ref taken: a fresh one
  EXPECT_EQ(MustCreate(head, prom::Labels{{"a", "4"}}), 9u);
  EXPECT_EQ(head.Select({M(prom::MatchType::kEqual, "a", "2")}, 0, 0).size(), 0u);
  EXPECT_EQ(head.Append(3, 0, 1), AppendOutcome::kOk);
  auto got = head.Select({M(prom::MatchType::kEqual, "a", "2")}, 0, 0);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, (prom::Labels{{"a", "2"}}));
}

TEST(HeadTest, MatchersAgreeWithBruteForceOnRandomLabelSets) {
  std::mt19937 rng(12345);
  const std::vector<std::string> names = {"__name__", "a", "b", "c"};
  const std::vector<std::string> values = {"x", "y", "z", "xy"};
  Head head(HeadOptions{});
  std::map<SeriesRef, prom::Labels> live;
  for (int i = 0; i < 300; ++i) {
    std::vector<prom::Label> ls;
    for (const std::string& n : names) {
      if (rng() % 3 != 0) ls.push_back({n, values[rng() % values.size()]});
    }
    ls.push_back({"i", std::to_string(i % 150)});  // some label sets repeat
    const prom::Labels labels = *prom::Labels::FromUnsorted(ls);
    const SeriesRef ref = MustCreate(head, labels);
    if (live.count(ref) == 0) {
      live[ref] = labels;
      // Odd refs only have an old sample and go at the Truncate below.
      ASSERT_EQ(head.Append(ref, ref % 2 == 1 ? 10 : 100, 1), AppendOutcome::kOk);
    }
  }
  const std::vector<std::string> literal_values = {"", "x", "y", "xy", "nope"};
  const std::vector<std::string> regex_values = {"",    "x",     "x|y",  "x|",     ".*",  ".+",
                                                 "x.*", "(?i)X", "z|xy", "y|nope", "[xz]"};
  auto check_all = [&](const std::string& phase) {
    for (int q = 0; q < 400; ++q) {
      std::vector<prom::Matcher> ms;
      const int n = q == 0 ? 0 : 1 + static_cast<int>(rng() % 3);
      for (int j = 0; j < n; ++j) {
        const auto type = static_cast<prom::MatchType>(rng() % 4);
        const std::string name = j == 0 && rng() % 5 == 0 ? "d" : names[rng() % names.size()];
        const bool regex =
            type == prom::MatchType::kRegexMatch || type == prom::MatchType::kRegexNoMatch;
        const auto& pool = regex ? regex_values : literal_values;
        ms.push_back(M(type, name, pool[rng() % pool.size()]));
      }
      std::string desc = phase;
      for (const auto& m : ms) desc += " " + m.ToString();
      std::vector<prom::Labels> want;
      std::set<std::string> want_names;
      std::set<std::string> want_values;
      for (const auto& [ref, labels] : live) {
        if (!prom::MatchesAll(ms, labels)) continue;
        want.push_back(labels);
        for (const auto& l : labels) want_names.insert(l.name);
        if (labels.Has("a")) want_values.insert(std::string(labels.Get("a")));
      }
      std::sort(want.begin(), want.end());
      std::vector<prom::Labels> got;
      for (const auto& s : head.Select(ms, kMinTime, kMaxTime)) got.push_back(s.labels);
      ASSERT_EQ(got, want) << desc;
      EXPECT_EQ(head.LabelNames(ms), std::vector<std::string>(want_names.begin(), want_names.end()))
          << desc;
      EXPECT_EQ(head.LabelValues("a", ms),
                std::vector<std::string>(want_values.begin(), want_values.end()))
          << desc;
    }
  };
  check_all("before truncate:");
  head.Truncate(50);
  for (auto it = live.begin(); it != live.end();) {
    it = it->first % 2 == 1 ? live.erase(it) : std::next(it);
  }
  EXPECT_EQ(head.NumSeries(), static_cast<int64_t>(live.size()));
  check_all("after truncate:");
}

TEST(HeadTest, ConcurrentAppendAndQuery) {
  Head head(HeadOptions{.chunk_range_ms = 100000});
  constexpr int kWriters = 3;
  constexpr int kSeriesPerWriter = 20;
  constexpr int kBatches = 150;
  constexpr int kPerBatch = 2;  // samples per series per batch
  // Each writer's series, with a first sample so that the churn thread's Truncate keeps them.
  std::vector<std::vector<SeriesRef>> refs(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    for (int i = 0; i < kSeriesPerWriter; ++i) {
      refs[w].push_back(MustCreate(
          head,
          prom::Labels{{"__name__", "m"}, {"w", std::to_string(w)}, {"i", std::to_string(i)}}));
      ASSERT_EQ(head.Append(refs[w].back(), 1000, 1000), AppendOutcome::kOk);
    }
  }
  std::atomic<int> writers_left{kWriters};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      int64_t t = 1001;
      for (int b = 0; b < kBatches; ++b) {
        std::vector<PendingSample> batch;
        for (int k = 0; k < kPerBatch; ++k, ++t) {
          for (SeriesRef ref : refs[w]) batch.push_back({ref, t, static_cast<double>(t)});
        }
        RejectCounts rejected;
        head.Validate(batch, &rejected);
        EXPECT_EQ(rejected.total(), 0);
        head.Apply(batch);
      }
      writers_left.fetch_sub(1);
    });
  }
  // Creates and drops series meanwhile, and asks label questions.
  threads.emplace_back([&] {
    for (int i = 0; writers_left.load() > 0 || i < 10; ++i) {
      const SeriesRef ref =
          MustCreate(head, prom::Labels{{"__name__", "churn"}, {"n", std::to_string(i)}});
      EXPECT_NE(head.Append(ref, 10, 1), AppendOutcome::kUnknownSeries);
      head.Truncate(500);  // drops the churn series, never the writers' samples (t >= 1000)
      head.LabelValues("w", {M(prom::MatchType::kEqual, "__name__", "m")});
      head.LabelNames({});
      head.MemoryBytes();
    }
  });
  std::atomic<int> queries{0};
  for (int r = 0; r < 2; ++r) {
    threads.emplace_back([&] {
      std::map<std::string, size_t> last_count;
      for (int i = 0; writers_left.load() > 0 || i < 5; ++i) {
        auto got = head.Select({M(prom::MatchType::kEqual, "__name__", "m")}, kMinTime, kMaxTime);
        queries.fetch_add(1);
        for (const SeriesChunks& s : got) {
          const auto samples = Samples(s);
          for (size_t k = 1; k < samples.size(); ++k) {
            ASSERT_LT(samples[k - 1].t, samples[k].t) << s.labels.ToString();
          }
          for (const Sample& x : samples) ASSERT_EQ(x.v, static_cast<double>(x.t));
          size_t& last = last_count[s.labels.ToString()];
          ASSERT_GE(samples.size(), last) << s.labels.ToString();
          last = samples.size();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GT(queries.load(), 0);
  auto all = head.Select({M(prom::MatchType::kEqual, "__name__", "m")}, kMinTime, kMaxTime);
  ASSERT_EQ(all.size(), static_cast<size_t>(kWriters * kSeriesPerWriter));
  for (const auto& s : all)
    EXPECT_EQ(Samples(s).size(), static_cast<size_t>(1 + kBatches * kPerBatch));
  EXPECT_EQ(head.MaxTime(), 1000 + kBatches * kPerBatch);
}

// Labels of a kubelet container metric, 4 chunks of 120 samples of a counter every 15 s. Besides
// the encoded chunk bytes (about 1.4 bytes per sample here, as Prometheus reports for real
// data), a series costs well under 1 KiB.
TEST(HeadTest, MemoryPerSeriesStaysSmall) {
  Head head(HeadOptions{});
  const int64_t empty_bytes = head.MemoryBytes();
  constexpr int kSeries = 2000;
  for (int i = 0; i < kSeries; ++i) {
    const SeriesRef ref =
        MustCreate(head, prom::Labels{{"__name__", "container_cpu_usage_seconds_total"},
                                      {"namespace", "ns-" + std::to_string(i % 20)},
                                      {"pod", "pod-" + std::to_string(i)},
                                      {"container", "c-" + std::to_string(i % 3)},
                                      {"job", "kubelet"},
                                      {"node", "node-" + std::to_string(i % 50)}});
    for (int k = 0; k < 480; ++k) {
      ASSERT_EQ(head.Append(ref, k * 15000, 1000.0 + k), AppendOutcome::kOk);
    }
  }
  EXPECT_EQ(head.NumChunks(), 4 * kSeries);
  int64_t payload = 0;
  for (const SeriesChunks& s : head.Select({}, kMinTime, kMaxTime)) {
    for (const ChunkView& c : s.chunks) payload += static_cast<int64_t>(c.bytes.size());
  }
  const int64_t per_series = (head.MemoryBytes() - empty_bytes) / kSeries;
  const int64_t payload_per_series = payload / kSeries;
  EXPECT_GT(payload_per_series, 480);
  EXPECT_LT(payload_per_series, 480 * 2);
  EXPECT_GT(per_series, payload_per_series + 300);  // honest: labels, index, maps are not free
  EXPECT_LT(per_series, payload_per_series + 800);
  ::testing::Test::RecordProperty("bytes_per_series", static_cast<int>(per_series));
  ::testing::Test::RecordProperty("chunk_bytes_per_series", static_cast<int>(payload_per_series));
}

}  // namespace
}  // namespace sextant::tsdb
