#include "aggregator/promql/engine.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "aggregator/promql/parser.h"
#include "aggregator/tsdb/chunk.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prom/labels.h"

namespace sextant::promql {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr int64_t kSec = 1000;
constexpr int64_t kMin = 60 * kSec;
const double kStale = [] {
  double v;
  uint64_t bits = kStaleNaNBits;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}();

// Serves series from memory, encoded in XOR chunks of up to 120 samples as the TSDB stores them.
class MemQueryable : public Queryable {
 public:
  void Add(prom::Labels labels, const std::vector<std::pair<int64_t, double>>& samples) {
    tsdb::SeriesChunks series;
    series.labels = std::move(labels);
    for (size_t i = 0; i < samples.size(); i += tsdb::XorChunk::kTargetSamples) {
      tsdb::XorChunk chunk;
      for (size_t j = i; j < samples.size() && j < i + tsdb::XorChunk::kTargetSamples; ++j) {
        EXPECT_TRUE(chunk.Append(samples[j].first, samples[j].second).ok());
      }
      auto bytes = std::make_shared<std::string>(chunk.bytes());
      tsdb::ChunkView view;
      view.min_time = chunk.min_time();
      view.max_time = chunk.max_time();
      view.bytes = *bytes;
      view.owner = bytes;
      series.chunks.push_back(std::move(view));
    }
    series_.push_back(std::move(series));
    std::sort(series_.begin(), series_.end(),
              [](const auto& a, const auto& b) { return a.labels < b.labels; });
  }

  absl::StatusOr<std::vector<tsdb::SeriesChunks>> Select(const std::vector<prom::Matcher>& matchers,
                                                         int64_t mint,
                                                         int64_t maxt) const override {
    selects_.fetch_add(1);
    std::vector<tsdb::SeriesChunks> out;
    for (const tsdb::SeriesChunks& s : series_) {
      if (!prom::MatchesAll(matchers, s.labels)) continue;
      tsdb::SeriesChunks sel;
      sel.labels = s.labels;
      for (const tsdb::ChunkView& c : s.chunks) {
        if (c.max_time >= mint && c.min_time <= maxt) sel.chunks.push_back(c);
      }
      if (!sel.chunks.empty()) out.push_back(std::move(sel));
    }
    return out;
  }

  int selects() const { return selects_.load(); }

 private:
  std::vector<tsdb::SeriesChunks> series_;
  mutable std::atomic<int> selects_{0};
};

std::string Str(const prom::Labels& l) { return l.ToString(); }

class EngineTest : public ::testing::Test {
 protected:
  absl::StatusOr<QueryResult> Instant(const std::string& query, int64_t t) {
    absl::StatusOr<ExprPtr> expr = ParseExpr(query);
    if (!expr.ok()) return expr.status();
    Engine engine(storage_, options_);
    return engine.InstantQuery(*std::move(expr), t);
  }

  absl::StatusOr<QueryResult> Range(const std::string& query, int64_t start, int64_t end,
                                    int64_t step) {
    absl::StatusOr<ExprPtr> expr = ParseExpr(query);
    if (!expr.ok()) return expr.status();
    Engine engine(storage_, options_);
    return engine.RangeQuery(*std::move(expr), start, end, step);
  }

  // The instant vector result as (labels, value) pairs, in result order.
  std::vector<std::pair<std::string, double>> Vec(const std::string& query, int64_t t) {
    absl::StatusOr<QueryResult> r = Instant(query, t);
    EXPECT_TRUE(r.ok()) << query << ": " << r.status();
    std::vector<std::pair<std::string, double>> out;
    if (!r.ok()) return out;
    const Vector* v = std::get_if<Vector>(&r->value);
    EXPECT_NE(v, nullptr) << query;
    if (v == nullptr) return out;
    for (const Sample& s : *v) {
      EXPECT_EQ(s.t, t);
      out.emplace_back(Str(s.metric), s.v);
    }
    return out;
  }

  // The error of a query that must fail.
  absl::Status Err(const std::string& query, int64_t t) {
    absl::StatusOr<QueryResult> r = Instant(query, t);
    EXPECT_FALSE(r.ok()) << query;
    return r.status();
  }

  MemQueryable storage_;
  EngineOptions options_;
};

TEST_F(EngineTest, LookbackIsInclusiveAndStalenessEndsSeries) {
  storage_.Add({{"__name__", "metric"}, {"job", "a"}}, {{0, 1}, {kMin, 2}, {2 * kMin, kStale}});
  storage_.Add({{"__name__", "other"}, {"job", "b"}}, {{0, 5}});
  EXPECT_THAT(Vec("metric", 0), ElementsAre(Pair(R"({__name__="metric", job="a"})", 1)));
  EXPECT_THAT(Vec("metric", 30 * kSec), ElementsAre(Pair(R"({__name__="metric", job="a"})", 1)));
  EXPECT_THAT(Vec("metric", kMin), ElementsAre(Pair(R"({__name__="metric", job="a"})", 2)));
  EXPECT_THAT(Vec("metric", 2 * kMin - 1), ElementsAre(Pair(R"({__name__="metric", job="a"})", 2)));
  EXPECT_THAT(Vec("metric", 2 * kMin), ElementsAre());
  EXPECT_THAT(Vec("metric", 10 * kMin), ElementsAre());
  EXPECT_THAT(Vec("other", 5 * kMin), ElementsAre(Pair(R"({__name__="other", job="b"})", 5)));
  EXPECT_THAT(Vec("other", 5 * kMin + 1), ElementsAre());
  EXPECT_THAT(Vec("other", -1), ElementsAre());
  // A range selector drops staleness markers and keeps both ends of [t - range, t].
  absl::StatusOr<QueryResult> r = Instant("metric[2m]", 2 * kMin);
  ASSERT_TRUE(r.ok()) << r.status();
  const Matrix& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0].points.size(), 2u);
  EXPECT_EQ(m[0].points[0].t, 0);
  EXPECT_EQ(m[0].points[1].t, kMin);
}

TEST_F(EngineTest, OffsetShiftsTheReadTimeBothWays) {
  storage_.Add({{"__name__", "metric"}, {"job", "a"}}, {{0, 1}, {kMin, 2}, {2 * kMin, kStale}});
  storage_.Add({{"__name__", "other"}, {"job", "b"}}, {{0, 5}});
  EXPECT_THAT(Vec("other offset 1m", kMin), ElementsAre(Pair(R"({__name__="other", job="b"})", 5)));
  EXPECT_THAT(Vec("other offset 1m", 6 * kMin),
              ElementsAre(Pair(R"({__name__="other", job="b"})", 5)));
  EXPECT_THAT(Vec("other offset 1m", 6 * kMin + 1), ElementsAre());
  EXPECT_THAT(Vec("metric offset -1m", 0), ElementsAre(Pair(R"({__name__="metric", job="a"})", 2)));
  EXPECT_THAT(Vec("metric offset -1m", kMin), ElementsAre());
}

TEST_F(EngineTest, AtModifierPinsTheTime) {
  storage_.Add({{"__name__", "metric"}, {"job", "a"}}, {{0, 1}, {kMin, 2}, {2 * kMin, kStale}});
  EXPECT_THAT(Vec("metric @ 60", 100 * kMin),
              ElementsAre(Pair(R"({__name__="metric", job="a"})", 2)));
  EXPECT_THAT(Vec("metric @ 60 offset 1m", 100 * kMin),
              ElementsAre(Pair(R"({__name__="metric", job="a"})", 1)));
  EXPECT_THAT(Vec("scalar(sum(metric @ 0)) + metric", kMin), ElementsAre(Pair(R"({job="a"})", 3)));

  absl::StatusOr<QueryResult> r = Range("metric @ start()", kMin, 3 * kMin, kMin);
  ASSERT_TRUE(r.ok()) << r.status();
  const Matrix& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0].points.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(m[0].points[i].t, (i + 1) * kMin);
    EXPECT_EQ(m[0].points[i].v, 2);
  }
  r = Range("metric @ end()", 0, kMin, 30 * kSec);
  ASSERT_TRUE(r.ok()) << r.status();
  const Matrix& m2 = std::get<Matrix>(r->value);
  ASSERT_EQ(m2.size(), 1u);
  ASSERT_EQ(m2[0].points.size(), 3u);
  for (const Point& p : m2[0].points) EXPECT_EQ(p.v, 2);
}

// Time arithmetic near +-2^63 ms wraps as Go's int64 and time.Duration (nanosecond) arithmetic
// do. Answers checked against the real Prometheus 2.42 (instant queries over its HTTP API).
TEST_F(EngineTest, TimeArithmeticWrapsAsInPrometheus) {
  auto count = [&](const std::string& query, int64_t t) -> double {
    std::vector<std::pair<std::string, double>> v = Vec(query, t);
    EXPECT_EQ(v.size(), 1u) << query << " at " << t;
    return v.empty() ? -1 : v[0].second;
  };
  for (const int64_t t : {int64_t{1000} * kSec, int64_t{1700000000} * kSec}) {
    EXPECT_EQ(count("count_over_time(vector(1)[10s:7s] @ 9223372036854775)", t), 2) << t;
    EXPECT_EQ(count("count_over_time(vector(1)[10s:7ms] @ 9223372036854775.807)", t), 1429) << t;
    EXPECT_EQ(count("count_over_time(vector(1)[10s:7ms] @ -9223372036854775.807)", t), 1429) << t;
    EXPECT_EQ(count("count_over_time(vector(1)[10s:7ms] offset -292y @ 9223372036854775)", t), 1428)
        << t;
    EXPECT_EQ(count("count_over_time(vector(1)[292y:1y] @ -9223372036854775)", t), 293) << t;
  }
}

// Times the HTTP API cannot produce (its times wrap at +-2^63 ns) still evaluate, without
// overflow: step loops end where the next step would pass the largest int64.
TEST_F(EngineTest, ExtremeQueryTimesTerminate) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
  storage_.Add({{"__name__", "metric"}}, {{0, 1}, {kMin, 2}});
  absl::StatusOr<QueryResult> r = Range("vector(1)", kMax - 2500, kMax, 1000);
  ASSERT_TRUE(r.ok()) << r.status();
  const Matrix& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0].points.size(), 3u);
  EXPECT_EQ(m[0].points[2].t, kMax - 500);
  for (const char* q : {"count_over_time(vector(1)[1m:7s] offset -1m)",
                        "count_over_time(vector(1)[1m:7s] offset 1m)", "metric offset -1m",
                        "timestamp(metric @ 100 offset -1m)", "rate(metric[5m] offset 1m)",
                        "timestamp(vector(1))", "absent_over_time(metric[1m])"}) {
    for (const int64_t t : {kMax, kMinTime, kMax - 1, kMinTime + 1}) {
      EXPECT_TRUE(Instant(q, t).ok()) << q << " at " << t;
    }
  }
  for (const char* q : {"count_over_time(vector(1)[1m:7s])", "timestamp(metric offset 1m)",
                        "rate(metric[5m] offset -1m)", "metric @ 100 offset -1m"}) {
    r = Range(q, kMinTime, kMinTime + 2 * kMin, kMin);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status();
    r = Range(q, kMax - 2 * kMin, kMax, kMin);
    EXPECT_TRUE(r.ok()) << q << ": " << r.status();
  }
}

// timestamp() of a selector, with `@` and an offset: Prometheus reads at the @ time, from the
// samples selected up to the @ time less the offset (checked against Prometheus 2.42).
TEST_F(EngineTest, TimestampOfSelectorWithAtAndOffset) {
  storage_.Add({{"__name__", "metric"}, {"job", "1"}},
               {{0, 1}, {30 * kSec, 2}, {60 * kSec, 3}, {90 * kSec, 4}, {120 * kSec, 5}});
  EXPECT_THAT(Vec("timestamp(metric @ 100 offset 50s)", 1000 * kSec),
              ElementsAre(Pair(R"({job="1"})", 30)));
  EXPECT_THAT(Vec("timestamp(metric @ 100)", 1000 * kSec), ElementsAre(Pair(R"({job="1"})", 90)));
}

// timestamp() of a selector counts its samples per step as Prometheus 2.42 does (13 fails and
// 14 passes there for this query), and fails at the limit without first reading every step.
TEST_F(EngineTest, TimestampOfSelectorKeepsToTheSampleLimit) {
  storage_.Add({{"__name__", "metric"}, {"job", "1"}},
               {{0, 1}, {30 * kSec, 2}, {60 * kSec, 3}, {90 * kSec, 4}, {120 * kSec, 5}});
  options_.max_samples = 13;
  absl::StatusOr<QueryResult> r = Range("timestamp(metric)", 0, 120 * kSec, 10 * kSec);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  options_.max_samples = 14;
  r = Range("timestamp(metric)", 0, 120 * kSec, 10 * kSec);
  ASSERT_TRUE(r.ok()) << r.status();
  const Matrix& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0].points.size(), 13u);
  EXPECT_EQ(m[0].points[4].v, 30);
  // 10^12 steps: the limit stops it at the first steps.
  storage_.Add({{"__name__", "metric"}, {"job", "2"}}, {{0, 1}});
  options_.max_samples = 100;
  options_.lookback_delta = absl::Hours(24 * 365 * 100);
  r = Range("timestamp(metric)", 0, int64_t{1'000'000'000'000}, 1);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
}

// Answers checked against Prometheus 2.42 (promtool test rules).
TEST_F(EngineTest, MatchesPrometheusOnEdgeCases) {
  std::vector<std::pair<int64_t, double>> samples;
  for (int i = 0; i <= 20; ++i) samples.emplace_back(i * kMin, 10.0 * i);
  storage_.Add({{"__name__", "metric"}, {"job", "a"}}, samples);
  // timestamp() of a selector with `@` still honours the offset.
  EXPECT_THAT(Vec("timestamp(metric @ 300 offset 1m)", 10 * kMin),
              ElementsAre(Pair(R"({job="a"})", 240)));
  // A parenthesized range selector under `@` is repeated like an instant vector, and fails.
  absl::Status s = Err("(metric[5m] @ 300)", 10 * kMin);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "unexpected number of samples");
  // count_values formats values as Go's strconv.FormatFloat(v, 'f', -1, 64).
  EXPECT_THAT(Vec(R"(count_values("x", metric * 1e22))", 10 * kMin),
              ElementsAre(Pair(R"({x="1000000000000000000000000"})", 1)));
  EXPECT_THAT(Vec(R"(count_values("x", metric / 1e9))", 10 * kMin),
              ElementsAre(Pair(R"({x="0.0000001"})", 1)));
  EXPECT_THAT(Vec(R"(count_values("x", metric / 7))", 10 * kMin),
              ElementsAre(Pair(R"({x="14.285714285714286"})", 1)));
  // absent_over_time() keeps the labels of equality matchers used once; none for a subquery.
  EXPECT_THAT(Vec(R"(absent_over_time(nonexistent{job="a",job="b",x=~"y"}[5m]))", 10 * kMin),
              ElementsAre(Pair("{}", 1)));
  EXPECT_THAT(Vec(R"(absent_over_time(nonexistent{job="a"}[5m:1m]))", 10 * kMin),
              ElementsAre(Pair("{}", 1)));
  EXPECT_THAT(Vec("sum_over_time(metric[5m:1m] @ 300 offset 1m)", 10 * kMin),
              ElementsAre(Pair(R"({job="a"})", 100)));
}

class RampTest : public EngineTest {
 protected:
  void SetUp() override {
    // ramp = t / 10s at every 10s from 0 to 10m.
    std::vector<std::pair<int64_t, double>> samples;
    for (int64_t t = 0; t <= 10 * kMin; t += 10 * kSec) samples.emplace_back(t, t / (10 * kSec));
    storage_.Add({{"__name__", "ramp"}}, samples);
  }

  std::vector<std::pair<int64_t, double>> Points(const std::string& query, int64_t t) {
    absl::StatusOr<QueryResult> r = Instant(query, t);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<std::pair<int64_t, double>> out;
    if (!r.ok()) return out;
    const Matrix& m = std::get<Matrix>(r->value);
    EXPECT_EQ(m.size(), 1u);
    if (m.size() != 1) return out;
    EXPECT_EQ(Str(m[0].metric), R"({__name__="ramp"})");
    for (const Point& p : m[0].points) out.emplace_back(p.t, p.v);
    return out;
  }
};

TEST_F(RampTest, SubqueryStepsAreAlignedToMultiplesOfTheStep) {
  // First step: the first multiple of 20s at or after 70s - 1m = 10s.
  EXPECT_THAT(Points("ramp[1m:20s]", 70 * kSec),
              ElementsAre(Pair(20 * kSec, 2), Pair(40 * kSec, 4), Pair(60 * kSec, 6)));
  EXPECT_THAT(Points("ramp[1m:20s] offset 10s", 70 * kSec),
              ElementsAre(Pair(0, 0), Pair(20 * kSec, 2), Pair(40 * kSec, 4), Pair(60 * kSec, 6)));
  // Without a step, the engine's default (1m).
  EXPECT_THAT(Points("ramp[1m:]", 70 * kSec), ElementsAre(Pair(60 * kSec, 6)));
  EXPECT_THAT(Vec("max_over_time(ramp[1m:20s])", 70 * kSec), ElementsAre(Pair("{}", 6)));
  EXPECT_THAT(Vec("min_over_time(ramp[1m:20s] offset 10s)", 70 * kSec), ElementsAre(Pair("{}", 0)));
  // Nested: the outer subquery steps are 30s and 60s (the inner maxima there are 3 and 6).
  EXPECT_THAT(Vec("sum_over_time(max_over_time(ramp[20s:10s])[1m:30s])", 70 * kSec),
              ElementsAre(Pair("{}", 3 + 6)));
}

TEST_F(RampTest, RangeFunctionsKeepNameOnlyForLastOverTime) {
  EXPECT_THAT(Vec("last_over_time(ramp[1m])", 65 * kSec),
              ElementsAre(Pair(R"({__name__="ramp"})", 6)));
  EXPECT_THAT(Vec("count_over_time(ramp[1m])", 60 * kSec), ElementsAre(Pair("{}", 7)));
  EXPECT_THAT(Vec("absent_over_time(ramp[1m])", 60 * kSec), ElementsAre());
  EXPECT_THAT(Vec("absent_over_time(nope{job=\"x\"}[1m])", 60 * kSec),
              ElementsAre(Pair(R"({job="x"})", 1)));
}

class MatchingTest : public EngineTest {
 protected:
  void SetUp() override {
    storage_.Add({{"__name__", "a"}, {"i", "1"}, {"j", "x"}}, {{0, 10}});
    storage_.Add({{"__name__", "a"}, {"i", "2"}, {"j", "y"}}, {{0, 20}});
    storage_.Add({{"__name__", "b"}, {"i", "1"}, {"j", "x"}}, {{0, 2}});
    storage_.Add({{"__name__", "b"}, {"i", "2"}, {"j", "z"}}, {{0, 4}});
    storage_.Add({{"__name__", "c"}, {"i", "1"}}, {{0, 3}});
    storage_.Add({{"__name__", "c"}, {"i", "2"}}, {{0, 5}});
    storage_.Add({{"__name__", "d"}, {"i", "1"}, {"k", "kk"}}, {{0, 1}});
    storage_.Add({{"__name__", "e"}, {"i", "1"}, {"x", "p"}}, {{0, 1}});
    storage_.Add({{"__name__", "e"}, {"i", "1"}, {"x", "q"}}, {{0, 2}});
    storage_.Add({{"__name__", "g1"}, {"i", "1"}}, {{0, 1}});
    storage_.Add({{"__name__", "g2"}, {"i", "1"}}, {{0, 2}});
  }
};

TEST_F(MatchingTest, OneToOne) {
  EXPECT_THAT(Vec("a + b", 0), ElementsAre(Pair(R"({i="1", j="x"})", 12)));
  EXPECT_THAT(Vec("a + on(i) b", 0),
              UnorderedElementsAre(Pair(R"({i="1"})", 12), Pair(R"({i="2"})", 24)));
  EXPECT_THAT(Vec("a / ignoring(j) b", 0),
              UnorderedElementsAre(Pair(R"({i="1"})", 5), Pair(R"({i="2"})", 5)));
  // Comparisons keep the left value; `on` keeps only the matching labels.
  EXPECT_THAT(Vec("a > on(i) b", 0),
              UnorderedElementsAre(Pair(R"({i="1"})", 10), Pair(R"({i="2"})", 20)));
  EXPECT_THAT(Vec("a > bool on(i) b", 0),
              UnorderedElementsAre(Pair(R"({i="1"})", 1), Pair(R"({i="2"})", 1)));
  EXPECT_THAT(Vec("a == bool b", 0), ElementsAre(Pair(R"({i="1", j="x"})", 0)));
  EXPECT_THAT(Vec("a < b", 0), ElementsAre());
}

TEST_F(MatchingTest, GroupLeftAndRight) {
  EXPECT_THAT(Vec("a * on(i) group_left c", 0),
              UnorderedElementsAre(Pair(R"({i="1", j="x"})", 30), Pair(R"({i="2", j="y"})", 100)));
  EXPECT_THAT(Vec("c * on(i) group_right a", 0),
              UnorderedElementsAre(Pair(R"({i="1", j="x"})", 30), Pair(R"({i="2", j="y"})", 100)));
  EXPECT_THAT(Vec("a + on(i) group_left(k) d", 0),
              ElementsAre(Pair(R"({i="1", j="x", k="kk"})", 11)));
  // Comparison keeps the name of the many side.
  EXPECT_THAT(Vec("e > on(i) group_left c", 0), ElementsAre());
  EXPECT_THAT(Vec("e < on(i) group_left c", 0),
              UnorderedElementsAre(Pair(R"({__name__="e", i="1", x="p"})", 1),
                                   Pair(R"({__name__="e", i="1", x="q"})", 2)));
}

TEST_F(MatchingTest, MatchingErrorsCarryPrometheusMessages) {
  absl::Status s = Err("a + on(i) e", 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            R"(found duplicate series for the match group {i="1"} on the right hand-side of the )"
            R"(operation: [{__name__="e", i="1", x="q"}, {__name__="e", i="1", x="p"}];)"
            "many-to-many matching not allowed: matching labels must be unique on one side");
  s = Err("e + on(i) group_right a", 0);
  EXPECT_THAT(s.message(), HasSubstr("on the left hand-side of the operation"));
  s = Err("e + on(i) c", 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "multiple matches for labels: many-to-one matching must be explicit "
            "(group_left/group_right)");
  s = Err(R"({__name__=~"g.*"} * on(i) group_left c)", 0);
  EXPECT_EQ(s.message(), "multiple matches for labels: grouping labels must ensure unique matches");
  s = Err(R"(-{__name__=~"g.*"})", 0);
  EXPECT_EQ(s.message(), "vector cannot contain metrics with the same labelset");
}

TEST_F(MatchingTest, SetOperators) {
  EXPECT_THAT(Vec("a and b", 0), ElementsAre(Pair(R"({__name__="a", i="1", j="x"})", 10)));
  EXPECT_THAT(Vec("a and on(i) b", 0), ElementsAre(Pair(R"({__name__="a", i="1", j="x"})", 10),
                                                   Pair(R"({__name__="a", i="2", j="y"})", 20)));
  EXPECT_THAT(Vec("a or b", 0), ElementsAre(Pair(R"({__name__="a", i="1", j="x"})", 10),
                                            Pair(R"({__name__="a", i="2", j="y"})", 20),
                                            Pair(R"({__name__="b", i="2", j="z"})", 4)));
  EXPECT_THAT(Vec("a unless b", 0), ElementsAre(Pair(R"({__name__="a", i="2", j="y"})", 20)));
  EXPECT_THAT(Vec("a unless on(i) c", 0), ElementsAre());
  EXPECT_THAT(Vec("nope or c", 0), ElementsAre(Pair(R"({__name__="c", i="1"})", 3),
                                               Pair(R"({__name__="c", i="2"})", 5)));
}

TEST_F(MatchingTest, ScalarOperandsFollowGoFloatRules) {
  absl::StatusOr<QueryResult> r = Instant("-7 % 3", 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::get<Scalar>(r->value).v, -1);
  r = Instant("1 / 0", 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::get<Scalar>(r->value).t, 5);
  EXPECT_TRUE(std::isinf(std::get<Scalar>(r->value).v));
  r = Instant("0 / 0 == bool 0 / 0", 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::get<Scalar>(r->value).v, 0);
  r = Instant("2 ^ 10", 0);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::get<Scalar>(r->value).v, 1024);
  // Arithmetic drops the name, a filtering comparison keeps it, `bool` drops it.
  EXPECT_THAT(Vec("c * 2", 0), UnorderedElementsAre(Pair(R"({i="1"})", 6), Pair(R"({i="2"})", 10)));
  EXPECT_THAT(Vec("c > 4", 0), ElementsAre(Pair(R"({__name__="c", i="2"})", 5)));
  EXPECT_THAT(Vec("4 < c", 0), ElementsAre(Pair(R"({__name__="c", i="2"})", 5)));
  EXPECT_THAT(Vec("c >= bool 4", 0),
              UnorderedElementsAre(Pair(R"({i="1"})", 0), Pair(R"({i="2"})", 1)));
  EXPECT_THAT(Vec("c != NaN", 0), UnorderedElementsAre(Pair(R"({__name__="c", i="1"})", 3),
                                                       Pair(R"({__name__="c", i="2"})", 5)));
  EXPECT_THAT(Vec("c == NaN", 0), ElementsAre());
}

class AggregationTest : public EngineTest {
 protected:
  void SetUp() override {
    storage_.Add({{"__name__", "v"}, {"g", "a"}, {"i", "1"}}, {{0, 1}});
    storage_.Add({{"__name__", "v"}, {"g", "a"}, {"i", "2"}}, {{0, 3}});
    storage_.Add({{"__name__", "v"}, {"g", "a"}, {"i", "3"}}, {{0, 8}});
    storage_.Add({{"__name__", "v"}, {"g", "b"}, {"i", "4"}}, {{0, 10}});
    storage_.Add({{"__name__", "v"}, {"g", "b"}, {"i", "5"}}, {{0, 10}});
  }
};

TEST_F(AggregationTest, SimpleAggregations) {
  EXPECT_THAT(Vec("sum by (g) (v)", 0),
              ElementsAre(Pair(R"({g="a"})", 12), Pair(R"({g="b"})", 20)));
  EXPECT_THAT(Vec("sum without (i) (v)", 0),
              ElementsAre(Pair(R"({g="a"})", 12), Pair(R"({g="b"})", 20)));
  EXPECT_THAT(Vec("sum(v)", 0), ElementsAre(Pair("{}", 32)));
  EXPECT_THAT(Vec("avg by (g) (v)", 0),
              ElementsAre(Pair(R"({g="a"})", DoubleNear(4, 1e-12)), Pair(R"({g="b"})", 10)));
  EXPECT_THAT(Vec("count by (g) (v)", 0),
              ElementsAre(Pair(R"({g="a"})", 3), Pair(R"({g="b"})", 2)));
  EXPECT_THAT(Vec("min by (g) (v)", 0), ElementsAre(Pair(R"({g="a"})", 1), Pair(R"({g="b"})", 10)));
  EXPECT_THAT(Vec("max by (g) (v)", 0), ElementsAre(Pair(R"({g="a"})", 8), Pair(R"({g="b"})", 10)));
  EXPECT_THAT(Vec("group by (g) (v)", 0),
              ElementsAre(Pair(R"({g="a"})", 1), Pair(R"({g="b"})", 1)));
  auto var = Vec("stdvar by (g) (v)", 0);
  ASSERT_EQ(var.size(), 2u);
  EXPECT_NEAR(var[0].second, 26.0 / 3, 1e-12);
  EXPECT_EQ(var[1].second, 0);
  auto dev = Vec("stddev(v)", 0);
  ASSERT_EQ(dev.size(), 1u);
  // Values 1 3 8 10 10: mean 6.4, squared deviations sum 69.2.
  EXPECT_NEAR(dev[0].second, std::sqrt(69.2 / 5), 1e-12);
  // `by` may keep __name__; `without` always drops it.
  EXPECT_THAT(Vec("max by (__name__) (v)", 0), ElementsAre(Pair(R"({__name__="v"})", 10)));
  EXPECT_THAT(Vec("max without (g, i) (v)", 0), ElementsAre(Pair("{}", 10)));
}

TEST_F(AggregationTest, AvgKeepsInfinities) {
  storage_.Add({{"__name__", "w"}, {"i", "1"}}, {{0, std::numeric_limits<double>::infinity()}});
  storage_.Add({{"__name__", "w"}, {"i", "2"}}, {{0, 5}});
  storage_.Add({{"__name__", "w"}, {"i", "3"}}, {{0, std::numeric_limits<double>::infinity()}});
  auto r = Vec("avg(w)", 0);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(std::isinf(r[0].second) && r[0].second > 0);
}

TEST_F(AggregationTest, TopkAndBottomkKeepPrometheusOrder) {
  EXPECT_THAT(Vec("topk(3, v)", 0), ElementsAre(Pair(R"({__name__="v", g="b", i="4"})", 10),
                                                Pair(R"({__name__="v", g="b", i="5"})", 10),
                                                Pair(R"({__name__="v", g="a", i="3"})", 8)));
  EXPECT_THAT(Vec("bottomk(2, v)", 0), ElementsAre(Pair(R"({__name__="v", g="a", i="1"})", 1),
                                                   Pair(R"({__name__="v", g="a", i="2"})", 3)));
  EXPECT_THAT(Vec("topk by (g) (1, v)", 0),
              ElementsAre(Pair(R"({__name__="v", g="a", i="3"})", 8),
                          Pair(R"({__name__="v", g="b", i="4"})", 10)));
  EXPECT_THAT(Vec("topk(0, v)", 0), ElementsAre());
  // k is truncated; a tie does not displace the element already held.
  EXPECT_THAT(Vec("topk(1.9, v)", 0), ElementsAre(Pair(R"({__name__="v", g="b", i="4"})", 10)));
  absl::Status s = Err("topk(1e20, v)", 0);
  EXPECT_EQ(s.message(), "Scalar value 1e+20 overflows int64");
}

TEST_F(AggregationTest, CountValuesAndQuantile) {
  EXPECT_THAT(Vec(R"(count_values("val", v))", 0),
              ElementsAre(Pair(R"({val="1"})", 1), Pair(R"({val="3"})", 1), Pair(R"({val="8"})", 1),
                          Pair(R"({val="10"})", 2)));
  EXPECT_THAT(Vec(R"(count_values by (g) ("val", v))", 0),
              ElementsAre(Pair(R"({g="a", val="1"})", 1), Pair(R"({g="a", val="3"})", 1),
                          Pair(R"({g="a", val="8"})", 1), Pair(R"({g="b", val="10"})", 2)));
  EXPECT_THAT(Vec(R"(count_values without (i) ("val", v / 4))", 0),
              ElementsAre(Pair(R"({g="a", val="0.25"})", 1), Pair(R"({g="a", val="0.75"})", 1),
                          Pair(R"({g="a", val="2"})", 1), Pair(R"({g="b", val="2.5"})", 2)));
  absl::Status s = Err(R"(count_values("bad-label", v))", 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), R"(invalid label name "bad-label")");

  EXPECT_THAT(Vec("quantile(0.5, v)", 0), ElementsAre(Pair("{}", 8)));
  EXPECT_THAT(Vec("quantile by (g) (0.5, v)", 0),
              ElementsAre(Pair(R"({g="a"})", 3), Pair(R"({g="b"})", 10)));
  auto q = Vec("quantile(0.1, v)", 0);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_NEAR(q[0].second, 1.8, 1e-12);
  q = Vec("quantile(2, v)", 0);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_TRUE(std::isinf(q[0].second) && q[0].second > 0);
  q = Vec("quantile(-1, v)", 0);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_TRUE(std::isinf(q[0].second) && q[0].second < 0);
}

TEST_F(AggregationTest, SampleLimitFailsWithResourceExhausted) {
  options_.max_samples = 5;
  EXPECT_EQ(Vec("v", 0).size(), 5u);
  options_.max_samples = 4;
  absl::Status s = Err("v", 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "query processing would load too many samples into memory in query execution");
  options_.max_samples = 5;
  absl::StatusOr<QueryResult> r = Range("v", 0, 2 * kMin, kMin);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(AggregationTest, TimeoutFailsWithDeadlineExceeded) {
  options_.timeout = absl::ZeroDuration();
  absl::Status s = Err("sum(v)", 0);
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(s.message(), "query timed out in query execution");
}

class CounterTest : public EngineTest {
 protected:
  void SetUp() override {
    // counter grows by 10 every 15s for 30m; two series.
    for (const char* job : {"x", "y"}) {
      std::vector<std::pair<int64_t, double>> samples;
      for (int64_t t = 0; t <= 30 * kMin; t += 15 * kSec) {
        samples.emplace_back(t, (job[0] == 'x' ? 10.0 : 20.0) * (t / (15 * kSec)));
      }
      storage_.Add({{"__name__", "counter"}, {"job", job}}, samples);
    }
  }
};

TEST_F(CounterTest, RangeQueryMatchesInstantQueryAtEveryStep) {
  const std::string query = "rate(counter[2m])";
  absl::StatusOr<QueryResult> r = Range(query, 5 * kMin, 25 * kMin, kMin);
  ASSERT_TRUE(r.ok()) << r.status();
  const Matrix& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(Str(m[0].metric), R"({job="x"})");
  EXPECT_EQ(Str(m[1].metric), R"({job="y"})");
  for (const Series& s : m) {
    ASSERT_EQ(s.points.size(), 21u);
    for (const Point& p : s.points) {
      auto inst = Vec(query, p.t);
      ASSERT_EQ(inst.size(), 2u);
      const double expected = Str(s.metric) == R"({job="x"})" ? inst[0].second : inst[1].second;
      EXPECT_EQ(p.v, expected) << "at " << p.t;
      // 10 per 15s (x) and 20 per 15s (y), with aligned samples at both window ends.
      EXPECT_NEAR(p.v, Str(s.metric) == R"({job="x"})" ? 10.0 / 15 : 20.0 / 15, 1e-9);
    }
  }
}

TEST_F(CounterTest, RangeQueryResultsAreSortedAndStepInvariantPartsRepeat) {
  absl::StatusOr<QueryResult> r = Range("counter @ 300", 0, 10 * kMin, kMin);
  ASSERT_TRUE(r.ok()) << r.status();
  const Matrix& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(Str(m[0].metric), R"({__name__="counter", job="x"})");
  ASSERT_EQ(m[0].points.size(), 11u);
  for (const Point& p : m[0].points) EXPECT_EQ(p.v, 200);

  r = Range("time()", 0, 2 * kMin, kMin);
  ASSERT_TRUE(r.ok()) << r.status();
  const Matrix& t = std::get<Matrix>(r->value);
  ASSERT_EQ(t.size(), 1u);
  ASSERT_EQ(t[0].points.size(), 3u);
  EXPECT_EQ(t[0].points[2].v, 120);

  // A subquery inside a range query: each step reads its own window of the subquery's points.
  r = Range("max_over_time(counter{job=\"x\"}[1m:30s])", kMin, 3 * kMin, kMin);
  ASSERT_TRUE(r.ok()) << r.status();
  const Matrix& sq = std::get<Matrix>(r->value);
  ASSERT_EQ(sq.size(), 1u);
  ASSERT_EQ(sq[0].points.size(), 3u);
  EXPECT_EQ(sq[0].points[0].v, 40);
  EXPECT_EQ(sq[0].points[2].v, 120);
}

TEST_F(CounterTest, SelectsOncePerSelectorNotPerStep) {
  absl::StatusOr<QueryResult> r =
      Range("sum(rate(counter[2m])) + on() group_right counter", 5 * kMin, 30 * kMin, kSec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(storage_.selects(), 2);
  const Matrix& m = std::get<Matrix>(r->value);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].points.size(), 25u * 60 + 1);
}

TEST_F(CounterTest, OneEngineServesConcurrentQueries) {
  Engine engine(storage_, options_);
  auto run = [&engine] {
    absl::StatusOr<ExprPtr> expr = ParseExpr("sum by (job) (rate(counter[2m])) * 15");
    if (!expr.ok()) return std::vector<double>();
    absl::StatusOr<QueryResult> r = engine.RangeQuery(*std::move(expr), 5 * kMin, 25 * kMin, kMin);
    std::vector<double> values;
    if (!r.ok()) return values;
    for (const Series& s : std::get<Matrix>(r->value)) {
      for (const Point& p : s.points) values.push_back(p.v);
    }
    return values;
  };
  const std::vector<double> want = run();
  ASSERT_EQ(want.size(), 42u);
  EXPECT_NEAR(want[0], 10, 1e-9);
  EXPECT_NEAR(want[41], 20, 1e-9);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int& m : mismatches) {
    threads.emplace_back([&m, &run, &want] {
      for (int i = 0; i < 20; ++i) m += run() != want ? 1 : 0;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

TEST_F(CounterTest, RejectsWhatARangeQueryCannotEvaluate) {
  absl::StatusOr<QueryResult> r = Range("counter[5m]", 0, kMin, kSec);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "invalid expression type \"range vector\" for range query, must be Scalar or instant "
            "Vector");
  EXPECT_EQ(Range("counter", 0, kMin, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Range("counter", kMin, 0, kSec).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CounterTest, InstantResultsHaveTheExpressionsType) {
  absl::StatusOr<QueryResult> r = Instant("1 + 2", 7);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::get<Scalar>(r->value).t, 7);
  EXPECT_EQ(std::get<Scalar>(r->value).v, 3);
  r = Instant(R"("hello")", 7);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::get<String>(r->value).v, "hello");
  EXPECT_EQ(std::get<String>(r->value).t, 7);
  EXPECT_THAT(Vec("timestamp(counter{job=\"x\"})", 20 * kSec),
              ElementsAre(Pair(R"({job="x"})", 15)));
  EXPECT_THAT(Vec("timestamp(counter{job=\"x\"} @ 40)", 20 * kSec),
              ElementsAre(Pair(R"({job="x"})", 30)));
}

}  // namespace
}  // namespace sextant::promql
