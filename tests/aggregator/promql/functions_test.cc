#include "aggregator/promql/functions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <any>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "aggregator/promql/ast.h"
#include "aggregator/promql/value.h"
#include "prom/labels.h"
#include "prom/matcher.h"

namespace sextant::promql::internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// One call node plus what a FunctionContext refers to; the state persists across Run()s, as
// across the steps of one evaluation.
class Harness {
 public:
  explicit Harness(std::string name) : name_(std::move(name)) {
    impl_ = FindFunctionImpl(name_);
    fn_.name = name_;
    call_.func = &fn_;
  }

  Call& call() { return call_; }

  absl::StatusOr<Vector> Run(std::vector<FunctionArg> args, int64_t ts, int64_t range_start = 0,
                             int64_t range_end = 0) {
    EXPECT_NE(impl_, nullptr) << name_;
    if (impl_ == nullptr) return absl::NotFoundError(name_);
    Vector out;
    FunctionContext ctx{call_, ts, range_start, range_end, state_, out};
    absl::Status s = impl_(args, ctx);
    if (!s.ok()) return s;
    return out;
  }

 private:
  std::string name_;
  FunctionImpl impl_ = nullptr;
  Function fn_;
  Call call_;
  std::any state_;
};

FunctionArg VecArg(const Vector& v) {
  FunctionArg a;
  a.vector = &v;
  return a;
}
FunctionArg SeriesArg(const Series& s) {
  FunctionArg a;
  a.points = s.points;
  return a;
}
FunctionArg ScalarArg(double v) {
  FunctionArg a;
  a.scalar = v;
  return a;
}
FunctionArg StringArg(absl::string_view s) {
  FunctionArg a;
  a.string = s;
  return a;
}

Series MakeSeries(std::vector<Point> points) { return Series{prom::Labels(), std::move(points)}; }

// The single value a range-vector function produced.
double One(const absl::StatusOr<Vector>& r) {
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return -12345;
  EXPECT_EQ(r->size(), 1u);
  if (r->size() != 1) return -12345;
  return (*r)[0].v;
}

// Runs a range-vector function over one series, with the window [start, end] (ms).
absl::StatusOr<Vector> RunRange(absl::string_view name, std::vector<Point> points, int64_t start,
                                int64_t end) {
  Harness h{std::string(name)};
  Series s = MakeSeries(std::move(points));
  return h.Run({SeriesArg(s)}, end, start, end);
}

// Points every `step_s` seconds from `start_s`, with the given values.
std::vector<Point> Every(int64_t start_s, int64_t step_s, std::vector<double> values) {
  std::vector<Point> p;
  for (size_t i = 0; i < values.size(); ++i) {
    p.push_back(Point{(start_s + static_cast<int64_t>(i) * step_s) * 1000, values[i]});
  }
  return p;
}

// parser_test checks that the table holds exactly Prometheus 2.42's functions.
TEST(FunctionsTest, EveryPrometheus242FunctionHasAnImplementation) {
  for (const Function* f : AllFunctions()) {
    EXPECT_NE(FindFunctionImpl(f->name), nullptr) << f->name;
  }
  EXPECT_EQ(FindFunctionImpl("xrate"), nullptr);
  EXPECT_EQ(FindFunctionImpl(""), nullptr);
}

// ---------------------------------------------------------------------------------------------
// rate(), increase(), delta().

TEST(FunctionsTest, RateCorrectsCounterResetsInTheMiddle) {
  // 0 10 20 30 40 0 10 20 30 40 50 every 5m; rate(x[50m]) at 50m: (50 + 40) / 3000s.
  auto r = RunRange("rate", Every(0, 300, {0, 10, 20, 30, 40, 0, 10, 20, 30, 40, 50}), 0, 3000000);
  EXPECT_DOUBLE_EQ(One(r), 0.03);
}

TEST(FunctionsTest, IncreaseTreatsADropAsAResetToZero) {
  // 0 1 2 3 2 3 4: 4 - 0 + 3 (the reset) = 7.
  auto r = RunRange("increase", Every(0, 300, {0, 1, 2, 3, 2, 3, 4}), 0, 1800000);
  EXPECT_DOUBLE_EQ(One(r), 7);
}

TEST(FunctionsTest, RateUsesTheWindowOfTheOffset) {
  // rate(x[10m] offset 5m) at 50m: window [35m, 45m], points 70 80 90: 20 / 600s.
  auto r = RunRange("rate", Every(2100, 300, {70, 80, 90}), 2100000, 2700000);
  EXPECT_DOUBLE_EQ(One(r), 20.0 / 600);
}

TEST(FunctionsTest, RateExtrapolatesToTheCounterZeroPoint) {
  // Window [-600s, 600s], points at 0, 240, 480s: 60 300 540. Sampled 480s, average 240s,
  // threshold 264s. The zero point is 480 * 60/480 = 60s before the first point (< 600s and
  // below the threshold): extrapolate 60s back; the end gap 120s < 264s: extrapolate fully.
  // 480 * (480 + 60 + 120) / 480 / 1200s = 0.55.
  auto r = RunRange("rate", Every(0, 240, {60, 300, 540}), -600000, 600000);
  EXPECT_DOUBLE_EQ(One(r), 0.55);
}

TEST(FunctionsTest, RateAppliesTheZeroPointBeforeTheThresholdAs242Does) {
  // As above with 240 480 720: the zero point is 240s back, under the 264s threshold, so 2.42
  // extrapolates the full 240s (later versions cap it at half an interval, 120s):
  // 480 * (480 + 240 + 120) / 480 / 1200 = 0.7.
  auto r = RunRange("rate", Every(0, 240, {240, 480, 720}), -600000, 600000);
  EXPECT_DOUBLE_EQ(One(r), 0.7);
  // With 300 540 780 the zero point (300s) is past the threshold: half an interval, 120s.
  r = RunRange("rate", Every(0, 240, {300, 540, 780}), -600000, 600000);
  EXPECT_DOUBLE_EQ(One(r), 0.6);
}

TEST(FunctionsTest, DeltaExtrapolatesHalfAnIntervalPastTheThreshold) {
  // Window [0, 60s], points at 15, 25, 35s: 10 20 30. Sampled 20s, average 10s, threshold 11s.
  // The start gap (15s) and end gap (25s) both exceed it: 5s each way. 20 * 30 / 20 = 30.
  auto pts = std::vector<Point>{{15000, 10}, {25000, 20}, {35000, 30}};
  EXPECT_DOUBLE_EQ(One(RunRange("delta", pts, 0, 60000)), 30);
  // As a counter, the zero point is 20 * 10/20 = 10s back, under the threshold:
  // 20 * (20 + 10 + 5) / 20 = 35, and per second over the 60s range.
  EXPECT_DOUBLE_EQ(One(RunRange("increase", pts, 0, 60000)), 35);
  EXPECT_DOUBLE_EQ(One(RunRange("rate", pts, 0, 60000)), 35.0 / 60);
}

TEST(FunctionsTest, DeltaIsNotACounterAndGoesNegative) {
  auto r = RunRange("delta", Every(0, 300, {200, 150, 100, 50, 0}), 0, 1200000);
  EXPECT_DOUBLE_EQ(One(r), -200);
}

TEST(FunctionsTest, RateNeedsTwoPoints) {
  auto r = RunRange("rate", Every(0, 300, {5}), 0, 300000);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  r = RunRange("delta", {}, 0, 300000);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(FunctionsTest, IrateAndIdeltaUseTheLastTwoPoints) {
  auto pts = Every(0, 60, {0, 10, 20, 5});
  // A drop is a reset: irate takes the last value as the increase, 5 / 60s.
  EXPECT_DOUBLE_EQ(One(RunRange("irate", pts, 0, 180000)), 5.0 / 60);
  EXPECT_DOUBLE_EQ(One(RunRange("idelta", pts, 0, 180000)), -15);
  EXPECT_DOUBLE_EQ(One(RunRange("irate", Every(0, 300, {0, 10, 20}), 0, 600000)), 10.0 / 300);
  auto r = RunRange("irate", Every(0, 60, {3}), 0, 60000);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

// ---------------------------------------------------------------------------------------------
// deriv(), predict_linear(), holt_winters().

// 0 10 20 30 40 0 10 20 30 40 50 every 5m. The regression (Prometheus's functions.test):
// slope 0.010606060606060607/s, intercept 6.818181818181818 at t=0.
std::vector<Point> ResetMiddle() {
  return Every(0, 300, {0, 10, 20, 30, 40, 0, 10, 20, 30, 40, 50});
}

TEST(FunctionsTest, DerivIsTheRegressionSlope) {
  EXPECT_NEAR(One(RunRange("deriv", ResetMiddle(), -3000000, 3000000)), 0.010606060606060607,
              1e-12);
  // A line: exactly its slope.
  EXPECT_DOUBLE_EQ(One(RunRange("deriv", Every(0, 300, {0, 80, 160, 240}), 0, 900000)), 80.0 / 300);
  // A constant: zero.
  EXPECT_EQ(One(RunRange("deriv", Every(0, 10, {1.5, 1.5, 1.5}), 0, 20000)), 0);
}

TEST(FunctionsTest, PredictLinearExtrapolatesFromTheEvaluationTime) {
  Harness h("predict_linear");
  Series s = MakeSeries(ResetMiddle());
  // At t=3000s: intercept 38.636..., plus 3600s of slope: 76.8181...
  EXPECT_NEAR(One(h.Run({SeriesArg(s), ScalarArg(3600)}, 3000000, -3000000, 3000000)),
              76.81818181818181, 1e-9);
  // Evaluated at 600s with the same points (`@ 3000`): 6.818 + 0.0106 * (600 + 3600).
  EXPECT_NEAR(One(h.Run({SeriesArg(s), ScalarArg(3600)}, 600000, -3000000, 3000000)),
              51.36363636363637, 1e-9);
}

TEST(FunctionsTest, HoltWintersSmoothsWithTrend) {
  // 1 3 4, sf = tf = 0.5: s=1, b=2; then s = 0.5*3 + 0.5*(1+2) = 3;
  // b = 0.5*(3-1) + 0.5*2 = 2, s = 0.5*4 + 0.5*(3+2) = 4.5.
  Harness h("holt_winters");
  Series s = MakeSeries(Every(0, 10, {1, 3, 4}));
  EXPECT_DOUBLE_EQ(One(h.Run({SeriesArg(s), ScalarArg(0.5), ScalarArg(0.5)}, 20000)), 4.5);
  // A line is followed exactly.
  Series line = MakeSeries(Every(0, 10, {0, 10, 20, 30, 40, 50, 60}));
  EXPECT_NEAR(One(h.Run({SeriesArg(line), ScalarArg(0.01), ScalarArg(0.1)}, 60000)), 60, 1e-9);
  // One point: nothing.
  Series one = MakeSeries(Every(0, 10, {1}));
  auto r = h.Run({SeriesArg(one), ScalarArg(0.5), ScalarArg(0.5)}, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(FunctionsTest, HoltWintersRejectsFactorsOutsideTheOpenUnitInterval) {
  Harness h("holt_winters");
  Series s = MakeSeries(Every(0, 10, {1, 3, 4}));
  auto r = h.Run({SeriesArg(s), ScalarArg(0), ScalarArg(0.5)}, 20000);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "invalid smoothing factor. Expected: 0 < sf < 1, got: 0.000000");
  r = h.Run({SeriesArg(s), ScalarArg(0.5), ScalarArg(1)}, 20000);
  EXPECT_EQ(r.status().message(), "invalid trend factor. Expected: 0 < tf < 1, got: 1.000000");
  r = h.Run({SeriesArg(s), ScalarArg(-kInf), ScalarArg(0.5)}, 20000);
  EXPECT_EQ(r.status().message(), "invalid smoothing factor. Expected: 0 < sf < 1, got: -Inf");
  // NaN passes the check (and smooths to NaN).
  EXPECT_TRUE(std::isnan(One(h.Run({SeriesArg(s), ScalarArg(kNaN), ScalarArg(0.5)}, 20000))));
  // Checked even when there are too few points to smooth.
  Series one = MakeSeries(Every(0, 10, {1}));
  EXPECT_FALSE(h.Run({SeriesArg(one), ScalarArg(1.5), ScalarArg(0.5)}, 0).ok());
}

// ---------------------------------------------------------------------------------------------
// *_over_time.

TEST(FunctionsTest, AggregationsOverTime) {
  auto pts = Every(0, 10, {0, 8, 8, 2, 3});
  EXPECT_DOUBLE_EQ(One(RunRange("sum_over_time", pts, 0, 40000)), 21);
  EXPECT_DOUBLE_EQ(One(RunRange("avg_over_time", pts, 0, 40000)), 4.2);
  EXPECT_DOUBLE_EQ(One(RunRange("count_over_time", pts, 0, 40000)), 5);
  EXPECT_DOUBLE_EQ(One(RunRange("min_over_time", pts, 0, 40000)), 0);
  EXPECT_DOUBLE_EQ(One(RunRange("max_over_time", pts, 0, 40000)), 8);
  EXPECT_DOUBLE_EQ(One(RunRange("last_over_time", pts, 0, 40000)), 3);
  EXPECT_DOUBLE_EQ(One(RunRange("present_over_time", pts, 0, 40000)), 1);
  // Mean 4.2; squared deviations 17.64 + 14.44 + 14.44 + 4.84 + 1.44 = 52.8, over 5.
  EXPECT_NEAR(One(RunRange("stdvar_over_time", pts, 0, 40000)), 10.56, 1e-12);
  EXPECT_NEAR(One(RunRange("stddev_over_time", pts, 0, 40000)), std::sqrt(10.56), 1e-12);
  EXPECT_DOUBLE_EQ(One(RunRange("changes", pts, 0, 40000)), 3);
  EXPECT_DOUBLE_EQ(One(RunRange("resets", pts, 0, 40000)), 1);
}

TEST(FunctionsTest, SumOverTimeIsCompensated) {
  // Prometheus 2.42 (Kahan-Neumaier): 1e100 + 1 - 1e100 is 1, not 0.
  EXPECT_EQ(One(RunRange("sum_over_time", Every(0, 10, {1e100, 1, -1e100}), 0, 20000)), 1);
  // The mean and variance are compensated too; these values are Prometheus 2.42's (promtool),
  // where plain sums give 1250000000000000.75 and 0.012500000000000011.
  EXPECT_EQ(One(RunRange("avg_over_time", Every(0, 60, {1e16, 1, 1, 1, 1, 1, 1, 1}), 0, 420000)),
            1250000000000000.5);
  EXPECT_NEAR(
      One(RunRange("stdvar_over_time",
                   Every(0, 60, {100000000.1, 100000000.2, 100000000.3, 100000000.4}), 0, 180000)),
      0.0125 + 1.1175870888446848e-9, 1e-17);
  // A constant has no spread even when its mean is inexact.
  auto c = Every(0, 10, {1.5990505637277868, 1.5990505637277868, 1.5990505637277868});
  EXPECT_EQ(One(RunRange("stdvar_over_time", c, 0, 20000)), 0);
}

TEST(FunctionsTest, AvgOverTimeHandlesInfinitiesAndHugeValues) {
  auto avg = [](std::vector<double> v) {
    return One(RunRange("avg_over_time", Every(0, 10, std::move(v)), 0, 100000));
  };
  EXPECT_EQ(avg({1, 2, 3, 4, kInf}), kInf);
  EXPECT_EQ(avg({1, 2, 3, 4, -kInf}), -kInf);
  EXPECT_TRUE(std::isnan(avg({1, 2, 3, kInf, -kInf})));
  EXPECT_EQ(avg({kInf, 0, kInf}), kInf);
  EXPECT_TRUE(std::isnan(avg({kInf, kInf, kInf, -kInf})));
  EXPECT_EQ(avg({-kInf, 0, -kInf}), -kInf);
  // No overflow where the plain sum would overflow.
  EXPECT_DOUBLE_EQ(avg({9.988465674311579e+307, 9.988465674311579e+307}), 9.988465674311579e+307);
  EXPECT_DOUBLE_EQ(avg({-9.988465674311579e+307, 9.988465674311579e+307}), 0);
}

TEST(FunctionsTest, MinMaxOverTimeIgnoreNaNUnlessAllNaN) {
  auto run = [](absl::string_view f, std::vector<double> v) {
    return One(RunRange(f, Every(0, 10, std::move(v)), 0, 20000));
  };
  EXPECT_EQ(run("min_over_time", {2, 0, kNaN}), 0);
  EXPECT_EQ(run("min_over_time", {2, kNaN, 1}), 1);
  EXPECT_EQ(run("min_over_time", {kNaN, 0, 1}), 0);
  EXPECT_TRUE(std::isnan(run("min_over_time", {kNaN, kNaN, kNaN})));
  EXPECT_EQ(run("max_over_time", {2, 0, kNaN}), 2);
  EXPECT_EQ(run("max_over_time", {kNaN, 0, 1}), 1);
  EXPECT_TRUE(std::isnan(run("max_over_time", {kNaN, kNaN, kNaN})));
  EXPECT_TRUE(std::isnan(run("last_over_time", {2, 0, kNaN})));
}

TEST(FunctionsTest, ChangesCountsNaNToNumberButNotNaNToNaN) {
  EXPECT_EQ(One(RunRange("changes", Every(0, 300, {kNaN, kNaN, kNaN}), 0, 900000)), 0);
  EXPECT_EQ(One(RunRange("changes", Every(0, 300, {0, kNaN, 0}), 0, 900000)), 2);
  EXPECT_EQ(One(RunRange("resets", Every(0, 300, {5, kNaN, 1}), 0, 900000)), 0);
}

TEST(FunctionsTest, QuantileOverTimeInterpolatesBetweenRanks) {
  auto q = [](double phi, std::vector<double> v) {
    Harness h("quantile_over_time");
    Series s = MakeSeries(Every(0, 10, std::move(v)));
    return One(h.Run({ScalarArg(phi), SeriesArg(s)}, 60000, 0, 60000));
  };
  EXPECT_EQ(q(0, {0, 1}), 0);
  EXPECT_EQ(q(0.5, {0, 1}), 0.5);
  EXPECT_EQ(q(0.75, {0, 1, 2}), 1.5);
  EXPECT_DOUBLE_EQ(q(0.8, {4, 0, 1}), 2.8);  // sorted 0 1 4: rank 1.6
  EXPECT_EQ(q(1, {0, 1, 4}), 4);
  EXPECT_EQ(q(-1, {0, 1}), -kInf);
  EXPECT_EQ(q(2, {0, 1}), kInf);
  EXPECT_TRUE(std::isnan(q(kNaN, {0, 1})));
  // NaN sorts first.
  EXPECT_TRUE(std::isnan(q(0, {1, kNaN, 2})));
  EXPECT_EQ(q(0.5, {1, kNaN, 2}), 1);
  EXPECT_EQ(q(1, {1, kNaN, 2}), 2);
}

// ---------------------------------------------------------------------------------------------
// histogram_quantile().

Sample Bucket(absl::string_view name, absl::string_view le, double v,
              std::vector<std::pair<std::string, std::string>> extra = {}) {
  std::vector<prom::Label> l{{"__name__", std::string(name)}};
  if (!le.empty()) l.push_back({"le", std::string(le)});
  for (auto& [n, val] : extra) l.push_back({n, val});
  return Sample{*prom::Labels::FromUnsorted(std::move(l)), 0, v};
}

absl::StatusOr<Vector> Quantile(double q, const Vector& in) {
  Harness h("histogram_quantile");
  return h.Run({ScalarArg(q), VecArg(in)}, 0);
}

double QuantileOf(double q, const Vector& in) { return One(Quantile(q, in)); }

TEST(FunctionsTest, HistogramQuantileInterpolatesWithinTheBucket) {
  // Cumulative 50 70 110 120 at 0.1 0.2 1 +Inf (le spelled several ways).
  Vector v{Bucket("h_bucket", "0.1", 50), Bucket("h_bucket", ".2", 70),
           Bucket("h_bucket", "1e0", 110), Bucket("h_bucket", "+Inf", 120)};
  EXPECT_DOUBLE_EQ(QuantileOf(0.2, v), 0.048);  // rank 24 of 50 in [0, 0.1]
  EXPECT_DOUBLE_EQ(QuantileOf(0.5, v), 0.15);   // rank 10 of 20 in [0.1, 0.2]
  EXPECT_DOUBLE_EQ(QuantileOf(0.8, v), 0.72);   // rank 26 of 40 in [0.2, 1]
  EXPECT_DOUBLE_EQ(QuantileOf(0, v), 0);
  // In the +Inf bucket: the highest finite bound.
  EXPECT_DOUBLE_EQ(QuantileOf(0.99, v), 1);
  EXPECT_DOUBLE_EQ(QuantileOf(1, v), 1);
  EXPECT_EQ(QuantileOf(-0.1, v), -kInf);
  EXPECT_EQ(QuantileOf(1.01, v), kInf);
  EXPECT_TRUE(std::isnan(QuantileOf(kNaN, v)));
}

TEST(FunctionsTest, HistogramQuantileInANonPositiveLowestBucketIsItsBound) {
  Vector v{Bucket("h_bucket", "-.2", 10), Bucket("h_bucket", "-0.1", 20),
           Bucket("h_bucket", "0.3", 20), Bucket("h_bucket", "+Inf", 30)};
  EXPECT_DOUBLE_EQ(QuantileOf(0, v), -0.2);
  EXPECT_DOUBLE_EQ(QuantileOf(0.2, v), -0.2);
  EXPECT_DOUBLE_EQ(QuantileOf(0.5, v), -0.15);
  EXPECT_DOUBLE_EQ(QuantileOf(0.8, v), 0.3);
}

TEST(FunctionsTest, HistogramQuantileMakesCountsMonotonic) {
  // 20 10 50 40 90 80 read as 20 20 50 50 90 90.
  Vector v{Bucket("m", "0.1", 20), Bucket("m", "1", 10),    Bucket("m", "10", 50),
           Bucket("m", "100", 40), Bucket("m", "1000", 90), Bucket("m", "+Inf", 80)};
  EXPECT_DOUBLE_EQ(QuantileOf(0.01, v), 0.0045);
  EXPECT_DOUBLE_EQ(QuantileOf(0.5, v), 8.5);
  EXPECT_DOUBLE_EQ(QuantileOf(0.99, v), 979.75);
}

TEST(FunctionsTest, HistogramQuantileMergesEqualBounds) {
  // 0.2 written three ways: 1 + 1 + 1 = 3 at 0.2; 1 at 0.1, 4 at +Inf.
  Vector v{Bucket("m", "0.1", 1), Bucket("m", "0.2", 1), Bucket("m", "2e-1", 1),
           Bucket("m", "2.0e-1", 1), Bucket("m", "+Inf", 4)};
  EXPECT_DOUBLE_EQ(QuantileOf(0.5, v), 0.15);  // rank 2: 1 of 2 in [0.1, 0.2]
  EXPECT_DOUBLE_EQ(QuantileOf(0.75, v), 0.2);
}

TEST(FunctionsTest, HistogramQuantileDegenerateHistogramsAreNaN) {
  // No +Inf bucket.
  EXPECT_TRUE(std::isnan(QuantileOf(0.5, {Bucket("m", "1", 1), Bucket("m", "2", 2)})));
  // Only the +Inf bucket (two spellings merge into one).
  EXPECT_TRUE(std::isnan(QuantileOf(0.5, {Bucket("m", "+inf", 0), Bucket("m", "+Inf", 0)})));
  // No observations.
  EXPECT_TRUE(std::isnan(QuantileOf(0.2, {Bucket("m", "0.1", 0), Bucket("m", "+Inf", 0)})));
}

TEST(FunctionsTest, HistogramQuantileGroupsByLabelsOtherThanLe) {
  Vector v{
      Bucket("a_bucket", "1", 1, {{"job", "x"}}), Bucket("a_bucket", "+Inf", 2, {{"job", "x"}}),
      Bucket("a_bucket", "1", 2, {{"job", "y"}}), Bucket("a_bucket", "+Inf", 2, {{"job", "y"}}),
      // Without `le`, or with a malformed one: ignored.
      Bucket("a_bucket", "", 5, {{"job", "z"}}), Bucket("a_bucket", "abc", 5, {{"job", "w"}})};
  auto r = Quantile(0.5, v);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  // The name goes: {job="x"} rank 1 of 1 in [0, 1]; {job="y"} rank 1 of 2.
  std::vector<std::pair<std::string, double>> got;
  for (const Sample& s : *r) got.emplace_back(s.metric.ToString(), s.v);
  EXPECT_THAT(got, ::testing::UnorderedElementsAre(std::make_pair("{job=\"x\"}", 1.0),
                                                   std::make_pair("{job=\"y\"}", 0.5)));
  // Histograms that differ only in their name stay apart (and collide once named alike: the
  // engine reports that).
  Vector two{Bucket("a_bucket", "1", 1), Bucket("a_bucket", "+Inf", 2), Bucket("b_bucket", "1", 1),
             Bucket("b_bucket", "+Inf", 2)};
  r = Quantile(0.5, two);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_TRUE((*r)[0].metric.empty());
  EXPECT_TRUE((*r)[1].metric.empty());
}

TEST(FunctionsTest, NativeHistogramFunctionsIgnoreFloats) {
  Vector v{Bucket("m", "1", 1)};
  for (const char* name : {"histogram_count", "histogram_sum"}) {
    Harness h(name);
    auto r = h.Run({VecArg(v)}, 0);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->empty()) << name;
  }
  Harness h("histogram_fraction");
  auto r = h.Run({ScalarArg(0), ScalarArg(1), VecArg(v)}, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

// ---------------------------------------------------------------------------------------------
// label_replace(), label_join().

Sample Metric(std::vector<prom::Label> labels, double v) {
  return Sample{*prom::Labels::FromUnsorted(std::move(labels)), 0, v};
}

absl::StatusOr<Vector> LabelReplace(const Vector& in, absl::string_view dst, absl::string_view repl,
                                    absl::string_view src, absl::string_view re) {
  Harness h("label_replace");
  return h.Run({VecArg(in), StringArg(dst), StringArg(repl), StringArg(src), StringArg(re)}, 0);
}

std::string Labels(const absl::StatusOr<Vector>& r, size_t i = 0) {
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok() || r->size() <= i) return "<none>";
  return (*r)[i].metric.ToString();
}

TEST(FunctionsTest, LabelReplaceMatchesTheWholeValue) {
  Vector in{Metric({{"__name__", "m"}, {"src", "source-value-10"}, {"dst", "orig"}}, 7)};
  auto r = LabelReplace(in, "dst", "destination-value-$1", "src", "source-value-(.*)");
  EXPECT_EQ(Labels(r), "{__name__=\"m\", dst=\"destination-value-10\", src=\"source-value-10\"}");
  EXPECT_EQ((*r)[0].v, 7);
  // Not a substring match: no change.
  r = LabelReplace(in, "dst", "destination-value-$1", "src", "value-(.*)");
  EXPECT_EQ(Labels(r), "{__name__=\"m\", dst=\"orig\", src=\"source-value-10\"}");
  r = LabelReplace(in, "dst", "$1-value-$2", "src", "(.*)-value-(.*)");
  EXPECT_EQ(Labels(r), "{__name__=\"m\", dst=\"source-value-10\", src=\"source-value-10\"}");
  // A missing source reads as "" and can match.
  r = LabelReplace(in, "dst", "value-$1", "nonexistent-src", "(.*)");
  EXPECT_EQ(Labels(r), "{__name__=\"m\", dst=\"value-\", src=\"source-value-10\"}");
  // An empty result removes the label.
  r = LabelReplace(in, "dst", "", "dst", ".*");
  EXPECT_EQ(Labels(r), "{__name__=\"m\", src=\"source-value-10\"}");
  // The name may be rewritten too.
  r = LabelReplace(in, "__name__", "new_$1", "src", "source-value-(.*)");
  EXPECT_EQ(Labels(r), "{__name__=\"new_10\", dst=\"orig\", src=\"source-value-10\"}");
}

TEST(FunctionsTest, LabelReplaceExpandsTemplatesAsGo) {
  Vector in{Metric({{"src", "ab"}}, 1)};
  auto expand = [&](absl::string_view repl, absl::string_view re = "(?P<first>a)(b)") {
    auto r = LabelReplace(in, "dst", repl, "src", re);
    EXPECT_TRUE(r.ok());
    return r.ok() && !r->empty() ? std::string((*r)[0].metric.Get("dst")) : "<error>";
  };
  EXPECT_EQ(expand("$1-$2"), "a-b");
  EXPECT_EQ(expand("${1}x"), "ax");
  EXPECT_EQ(expand("$1x"), "");  // the group named "1x" does not exist
  EXPECT_EQ(expand("$first/${first}"), "a/a");
  EXPECT_EQ(expand("$0"), "ab");
  EXPECT_EQ(expand("$$1"), "$1");
  EXPECT_EQ(expand("a$"), "a$");
  EXPECT_EQ(expand("${1"), "${1");
  EXPECT_EQ(expand("$9"), "");
  EXPECT_EQ(expand("$01"), "");  // a leading zero makes it a name
  // An optional group that did not take part is empty.
  EXPECT_EQ(expand("[$1]", "(x)?ab"), "[]");
}

TEST(FunctionsTest, LabelReplaceErrors) {
  Vector in{Metric({{"src", "a"}}, 1)};
  auto r = LabelReplace(in, "dst", "value-$1", "src", "(.*");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "invalid regular expression in label_replace(): (.*");
  r = LabelReplace(in, "invalid-label-name", "", "src", "(.*)");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(),
            "invalid destination label name in label_replace(): invalid-label-name");
  // Go's regexp has no \C.
  EXPECT_FALSE(LabelReplace(in, "dst", "", "src", "a\\C").ok());
  // Errors come even for an empty vector.
  EXPECT_FALSE(LabelReplace(Vector{}, "dst", "", "src", "(").ok());
}

TEST(FunctionsTest, LabelReplaceReusesItsRegexAcrossSteps) {
  Harness h("label_replace");
  Vector in{Metric({{"src", "a"}}, 1)};
  std::vector<FunctionArg> args{VecArg(in), StringArg("dst"), StringArg("<$1>"), StringArg("src"),
                                StringArg("(.)")};
  EXPECT_EQ(Labels(h.Run(args, 0)), "{dst=\"<a>\", src=\"a\"}");
  EXPECT_EQ(Labels(h.Run(args, 1000)), "{dst=\"<a>\", src=\"a\"}");
}

absl::StatusOr<Vector> LabelJoin(const Vector& in, std::vector<absl::string_view> strings) {
  Harness h("label_join");
  std::vector<FunctionArg> args{VecArg(in)};
  for (absl::string_view s : strings) args.push_back(StringArg(s));
  return h.Run(args, 0);
}

TEST(FunctionsTest, LabelJoinJoinsSourcesInOrder) {
  Vector in{
      Metric({{"__name__", "t"}, {"src", "a"}, {"src1", "b"}, {"src2", "c"}, {"dst", "o"}}, 0)};
  EXPECT_EQ(Labels(LabelJoin(in, {"dst", "-", "src", "src1", "src2"})),
            "{__name__=\"t\", dst=\"a-b-c\", src=\"a\", src1=\"b\", src2=\"c\"}");
  // Missing sources are empty strings.
  EXPECT_EQ(Labels(LabelJoin(in, {"dst", "-", "src", "src3", "src1"})),
            "{__name__=\"t\", dst=\"a--b\", src=\"a\", src1=\"b\", src2=\"c\"}");
  // An empty result, or no sources at all, removes the destination.
  EXPECT_EQ(Labels(LabelJoin(in, {"dst", "", "e1", "e2"})),
            "{__name__=\"t\", src=\"a\", src1=\"b\", src2=\"c\"}");
  EXPECT_EQ(Labels(LabelJoin(in, {"dst", ", "})),
            "{__name__=\"t\", src=\"a\", src1=\"b\", src2=\"c\"}");
}

TEST(FunctionsTest, LabelJoinRejectsInvalidNames) {
  Vector in{Metric({{"src", "a"}}, 0)};
  auto r = LabelJoin(in, {"dst", "-", "src", "bad-src"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.status().message(), "invalid source label name in label_join(): bad-src");
  r = LabelJoin(in, {"bad-dst", "-", "src"});
  EXPECT_EQ(r.status().message(), "invalid destination label name in label_join(): bad-dst");
  // Sources are checked before the destination.
  r = LabelJoin(in, {"bad-dst", "-", ""});
  EXPECT_EQ(r.status().message(), "invalid source label name in label_join(): ");
}

// ---------------------------------------------------------------------------------------------
// Date and time functions.

double DateOf(absl::string_view f, double unix_seconds) {
  Harness h{std::string(f)};
  Vector in{Metric({{"__name__", "m"}, {"a", "b"}}, unix_seconds)};
  auto r = h.Run({VecArg(in)}, 0);
  EXPECT_EQ(Labels(r), "{a=\"b\"}");  // the name is dropped
  return One(r);
}

TEST(FunctionsTest, DateFunctionsReadUnixSeconds) {
  // 1136239445 is Monday 2006-01-02 22:04:05 UTC.
  EXPECT_EQ(DateOf("year", 1136239445), 2006);
  EXPECT_EQ(DateOf("month", 1136239445), 1);
  EXPECT_EQ(DateOf("day_of_month", 1136239445), 2);
  EXPECT_EQ(DateOf("day_of_year", 1136239445), 2);
  EXPECT_EQ(DateOf("day_of_week", 1136239445), 1);
  EXPECT_EQ(DateOf("hour", 1136239445), 22);
  EXPECT_EQ(DateOf("minute", 1136239445), 4);
  EXPECT_EQ(DateOf("days_in_month", 1136239445), 31);
  // New year's eve 2008 23:59:59, then 2009.
  EXPECT_EQ(DateOf("year", 1230767999), 2008);
  EXPECT_EQ(DateOf("year", 1230768000), 2009);
}

TEST(FunctionsTest, DateFunctionsKnowLeapYears) {
  // 2016-02-29 23:59:59, then 2016-03-01 00:00:00.
  EXPECT_EQ(DateOf("month", 1456790399), 2);
  EXPECT_EQ(DateOf("day_of_month", 1456790399), 29);
  EXPECT_EQ(DateOf("month", 1456790400), 3);
  EXPECT_EQ(DateOf("day_of_month", 1456790400), 1);
  EXPECT_EQ(DateOf("day_of_year", 1456790400), 61);
  // 2016-02-01 and 2017-02-01.
  EXPECT_EQ(DateOf("days_in_month", 1454284800), 29);
  EXPECT_EQ(DateOf("days_in_month", 1485907200), 28);
  // 2016-12-31 and 2022-12-31.
  EXPECT_EQ(DateOf("day_of_year", 1483191420), 366);
  EXPECT_EQ(DateOf("day_of_year", 1672493820), 365);
  // 2000 is a leap year, 1900 is not: 2000-02-15 and 1900-02-15.
  EXPECT_EQ(DateOf("days_in_month", 950572800), 29);
  EXPECT_EQ(DateOf("days_in_month", -2205100800), 28);
}

TEST(FunctionsTest, DateFunctionsBeforeTheEpochAndOddValues) {
  // 1969-12-31 23:59:59, a Wednesday.
  EXPECT_EQ(DateOf("year", -1), 1969);
  EXPECT_EQ(DateOf("month", -1), 12);
  EXPECT_EQ(DateOf("day_of_month", -1), 31);
  EXPECT_EQ(DateOf("day_of_week", -1), 3);
  EXPECT_EQ(DateOf("hour", -1), 23);
  EXPECT_EQ(DateOf("minute", -1), 59);
  // Fractions truncate towards zero: -0.5 is 1970-01-01 00:00:00, a Thursday.
  EXPECT_EQ(DateOf("year", -0.5), 1970);
  EXPECT_EQ(DateOf("day_of_week", 1.9), 4);
  // NaN becomes Go's smallest int64: Prometheus 2.42 answers these (checked with promtool).
  EXPECT_EQ(DateOf("year", kNaN), 292277026596);
  EXPECT_EQ(DateOf("day_of_week", kNaN), 0);
}

TEST(FunctionsTest, DateFunctionsWithoutArgumentUseTheEvaluationTime) {
  Harness h("year");
  auto r = h.Run({}, 0);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_TRUE((*r)[0].metric.empty());
  EXPECT_EQ((*r)[0].v, 1970);
  Harness dow("day_of_week");
  EXPECT_EQ(One(dow.Run({}, 1136239445000)), 1);
  // -1.5s truncates to -1s: 1969.
  EXPECT_EQ(One(h.Run({}, -1500)), 1969);
}

TEST(FunctionsTest, TimeVectorScalarPiTimestamp) {
  Harness time("time");
  EXPECT_EQ(One(time.Run({}, 1)), 0.001);
  EXPECT_EQ(One(time.Run({}, 3000000)), 3000);
  Harness pi("pi");
  EXPECT_DOUBLE_EQ(One(pi.Run({}, 0)), 3.141592653589793);

  Harness vec("vector");
  auto r = vec.Run({ScalarArg(5)}, 0);
  EXPECT_EQ(Labels(r), "{}");
  EXPECT_EQ(One(r), 5);

  Harness scalar("scalar");
  Vector one{Metric({{"__name__", "m"}}, 4)};
  Vector two{Metric({{"a", "1"}}, 1), Metric({{"a", "2"}}, 2)};
  EXPECT_EQ(One(scalar.Run({VecArg(one)}, 0)), 4);
  EXPECT_TRUE(std::isnan(One(scalar.Run({VecArg(two)}, 0))));
  Vector none;
  EXPECT_TRUE(std::isnan(One(scalar.Run({VecArg(none)}, 0))));

  Harness ts("timestamp");
  Vector at{Sample{*prom::Labels::FromUnsorted({{"__name__", "m"}, {"a", "b"}}), 5000, 1}};
  r = ts.Run({VecArg(at)}, 10000);
  EXPECT_EQ(Labels(r), "{a=\"b\"}");
  EXPECT_EQ(One(r), 5);
}

// ---------------------------------------------------------------------------------------------
// Instant-vector math, clamp, round, sort.

absl::StatusOr<Vector> Apply(absl::string_view f, const Vector& in,
                             std::vector<double> scalars = {}) {
  Harness h{std::string(f)};
  std::vector<FunctionArg> args{VecArg(in)};
  for (double s : scalars) args.push_back(ScalarArg(s));
  return h.Run(args, 0);
}

std::vector<double> Values(const absl::StatusOr<Vector>& r) {
  EXPECT_TRUE(r.ok()) << r.status();
  std::vector<double> v;
  if (r.ok()) {
    for (const Sample& s : *r) v.push_back(s.v);
  }
  return v;
}

Vector Numbers(std::vector<double> values) {
  Vector v;
  for (size_t i = 0; i < values.size(); ++i) {
    v.push_back(Metric({{"__name__", "m"}, {"i", std::to_string(i)}}, values[i]));
  }
  return v;
}

TEST(FunctionsTest, MathFunctionsDropTheName) {
  Vector in{Metric({{"__name__", "m"}, {"a", "b"}}, -2.5)};
  for (const char* f : {"abs",  "ceil",  "floor", "exp",   "sqrt", "ln",   "log2", "log10",
                        "sin",  "cos",   "tan",   "asin",  "acos", "atan", "sinh", "cosh",
                        "tanh", "asinh", "acosh", "atanh", "rad",  "deg",  "sgn",  "round"}) {
    EXPECT_EQ(Labels(Apply(f, in)), "{a=\"b\"}") << f;
  }
  EXPECT_EQ(Labels(Apply("clamp", in, {0, 1})), "{a=\"b\"}");
  EXPECT_EQ(Labels(Apply("clamp_min", in, {0})), "{a=\"b\"}");
  EXPECT_EQ(Labels(Apply("clamp_max", in, {0})), "{a=\"b\"}");
  // These keep it.
  EXPECT_EQ(Labels(Apply("sort", in)), "{__name__=\"m\", a=\"b\"}");
  EXPECT_EQ(Labels(Apply("sort_desc", in)), "{__name__=\"m\", a=\"b\"}");
}

TEST(FunctionsTest, MathFunctionValues) {
  EXPECT_THAT(Values(Apply("abs", Numbers({-2.5, 3}))), ::testing::ElementsAre(2.5, 3));
  EXPECT_THAT(Values(Apply("ceil", Numbers({-2.5, 2.1}))), ::testing::ElementsAre(-2, 3));
  EXPECT_THAT(Values(Apply("floor", Numbers({-2.5, 2.9}))), ::testing::ElementsAre(-3, 2));
  EXPECT_THAT(Values(Apply("sqrt", Numbers({16}))), ::testing::ElementsAre(4));
  EXPECT_THAT(Values(Apply("log2", Numbers({8}))), ::testing::ElementsAre(3));
  EXPECT_THAT(Values(Apply("log10", Numbers({1000}))),
              ::testing::ElementsAre(::testing::DoubleEq(3)));
  EXPECT_THAT(Values(Apply("ln", Numbers({1}))), ::testing::ElementsAre(0));
  EXPECT_THAT(Values(Apply("exp", Numbers({0}))), ::testing::ElementsAre(1));
  EXPECT_THAT(Values(Apply("deg", Numbers({3.141592653589793}))),
              ::testing::ElementsAre(::testing::DoubleEq(180)));
  EXPECT_THAT(Values(Apply("rad", Numbers({180}))),
              ::testing::ElementsAre(::testing::DoubleEq(3.141592653589793)));
  auto sgn = Values(Apply("sgn", Numbers({-kInf, kInf, kNaN, -50, 0, 100})));
  ASSERT_EQ(sgn.size(), 6u);
  EXPECT_EQ(sgn[0], -1);
  EXPECT_EQ(sgn[1], 1);
  EXPECT_TRUE(std::isnan(sgn[2]));
  EXPECT_EQ(sgn[3], -1);
  EXPECT_EQ(sgn[4], 0);
  EXPECT_EQ(sgn[5], 1);
  auto ln = Values(Apply("ln", Numbers({-1, 0})));
  EXPECT_TRUE(std::isnan(ln[0]));
  EXPECT_EQ(ln[1], -kInf);
}

TEST(FunctionsTest, ClampBoundsAndNaN) {
  Vector in = Numbers({-50, 0, 100});
  EXPECT_THAT(Values(Apply("clamp_max", in, {75})), ::testing::ElementsAre(-50, 0, 75));
  EXPECT_THAT(Values(Apply("clamp_min", in, {-25})), ::testing::ElementsAre(-25, 0, 100));
  EXPECT_THAT(Values(Apply("clamp", in, {-25, 75})), ::testing::ElementsAre(-25, 0, 75));
  for (double v : Values(Apply("clamp", in, {0, kNaN}))) EXPECT_TRUE(std::isnan(v));
  for (double v : Values(Apply("clamp", in, {kNaN, 0}))) EXPECT_TRUE(std::isnan(v));
  // min > max: nothing.
  auto r = Apply("clamp", in, {5, -5});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  // As Go's math.Min/Max: an infinity beats NaN.
  auto inf = Values(Apply("clamp_max", Numbers({kNaN}), {-kInf}));
  EXPECT_THAT(inf, ::testing::ElementsAre(-kInf));
}

TEST(FunctionsTest, RoundTiesUpToTheNearestMultiple) {
  EXPECT_THAT(Values(Apply("round", Numbers({2.5, -2.5, 1.4, -1.6}))),
              ::testing::ElementsAre(3, -2, 1, -2));
  EXPECT_THAT(Values(Apply("round", Numbers({1.234, 7, 12.5}), {0.1})),
              ::testing::ElementsAre(1.2, 7, 12.5));
  EXPECT_THAT(Values(Apply("round", Numbers({7, 12.5}), {5})), ::testing::ElementsAre(5, 15));
}

TEST(FunctionsTest, SortPutsNaNLast) {
  Vector in = Numbers({300, kNaN, 100, 200});
  auto asc = Values(Apply("sort", in));
  ASSERT_EQ(asc.size(), 4u);
  EXPECT_EQ(asc[0], 100);
  EXPECT_EQ(asc[1], 200);
  EXPECT_EQ(asc[2], 300);
  EXPECT_TRUE(std::isnan(asc[3]));
  auto desc = Values(Apply("sort_desc", in));
  ASSERT_EQ(desc.size(), 4u);
  EXPECT_EQ(desc[0], 300);
  EXPECT_EQ(desc[1], 200);
  EXPECT_EQ(desc[2], 100);
  EXPECT_TRUE(std::isnan(desc[3]));
}

// ---------------------------------------------------------------------------------------------
// absent(), absent_over_time().

std::unique_ptr<VectorSelector> Selector(
    std::vector<std::tuple<prom::MatchType, std::string, std::string>> matchers) {
  auto vs = std::make_unique<VectorSelector>();
  for (auto& [type, name, value] : matchers) {
    vs->matchers.push_back(*prom::Matcher::Create(type, name, value));
  }
  return vs;
}

std::string AbsentLabels(
    std::vector<std::tuple<prom::MatchType, std::string, std::string>> matchers) {
  Harness h("absent");
  h.call().args.push_back(Selector(std::move(matchers)));
  Vector empty;
  auto r = h.Run({VecArg(empty)}, 0);
  EXPECT_EQ(One(r), 1);
  return Labels(r);
}

TEST(FunctionsTest, AbsentLabelsComeFromEqualityMatchers) {
  using prom::MatchType;
  EXPECT_EQ(AbsentLabels({{MatchType::kEqual, "__name__", "nonexistent"}}), "{}");
  EXPECT_EQ(AbsentLabels({{MatchType::kEqual, "__name__", "nonexistent"},
                          {MatchType::kEqual, "job", "testjob"},
                          {MatchType::kEqual, "instance", "testinstance"},
                          {MatchType::kRegexMatch, "method", ".x"}}),
            "{instance=\"testinstance\", job=\"testjob\"}");
  // A label matched twice is dropped.
  EXPECT_EQ(AbsentLabels({{MatchType::kEqual, "job", "testjob"},
                          {MatchType::kEqual, "job", "testjob2"},
                          {MatchType::kEqual, "foo", "bar"}}),
            "{foo=\"bar\"}");
  EXPECT_EQ(AbsentLabels({{MatchType::kEqual, "job", "testjob"},
                          {MatchType::kEqual, "job", "testjob2"},
                          {MatchType::kEqual, "job", "three"},
                          {MatchType::kEqual, "foo", "bar"}}),
            "{foo=\"bar\"}");
  EXPECT_EQ(AbsentLabels({{MatchType::kEqual, "job", "testjob"},
                          {MatchType::kRegexMatch, "job", "testjob2"},
                          {MatchType::kEqual, "foo", "bar"}}),
            "{foo=\"bar\"}");
  // A later equality matcher sets a label an earlier other matcher removed (as 2.42 does).
  EXPECT_EQ(AbsentLabels({{MatchType::kRegexMatch, "job", "a"}, {MatchType::kEqual, "job", "b"}}),
            "{job=\"b\"}");
  // An empty value is no label.
  EXPECT_EQ(AbsentLabels({{MatchType::kEqual, "job", ""}}), "{}");
}

TEST(FunctionsTest, AbsentIsEmptyWhenTheVectorIsNot) {
  Harness h("absent");
  h.call().args.push_back(Selector({{prom::MatchType::kEqual, "job", "x"}}));
  Vector in{Metric({{"job", "x"}}, 1)};
  auto r = h.Run({VecArg(in)}, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(FunctionsTest, AbsentOfAnExpressionHasNoLabels) {
  Harness h("absent");
  auto agg = std::make_unique<AggregateExpr>();
  agg->expr = Selector({{prom::MatchType::kEqual, "job", "x"}});
  h.call().args.push_back(std::move(agg));
  Vector empty;
  EXPECT_EQ(Labels(h.Run({VecArg(empty)}, 0)), "{}");
}

TEST(FunctionsTest, AbsentOverTimeLabelsFromTheMatrixSelector) {
  Harness h("absent_over_time");
  auto ms = std::make_unique<MatrixSelector>();
  ms->vector_selector = Selector({{prom::MatchType::kEqual, "__name__", "http_requests"},
                                  {prom::MatchType::kEqual, "handler", "/foo"},
                                  {prom::MatchType::kNotEqual, "instance", "a"}});
  ms->range_ms = 300000;
  h.call().args.push_back(std::move(ms));
  // No series in the window.
  FunctionArg none;
  auto r = h.Run({none}, 60000, -240000, 60000);
  EXPECT_EQ(Labels(r), "{handler=\"/foo\"}");
  EXPECT_EQ(One(r), 1);
  // A series with points: 1, as Prometheus's function (the engine inverts it per step).
  Series s = MakeSeries(Every(0, 60, {1}));
  EXPECT_EQ(One(h.Run({SeriesArg(s)}, 60000, -240000, 60000)), 1);
}

}  // namespace
}  // namespace sextant::promql::internal
