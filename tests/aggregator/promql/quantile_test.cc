// The quantile helper the quantile aggregation and quantile_over_time share, and histogram_quantile
// reading `le` as Go's strconv.ParseFloat does. Expected values are Prometheus 2.42's answers.
#include <any>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "aggregator/promql/ast.h"
#include "aggregator/promql/functions.h"
#include "aggregator/promql/value.h"
#include "gtest/gtest.h"
#include "prom/labels.h"

namespace sextant::promql::internal {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(QuantileTest, InterpolatesBetweenClosestRanks) {
  EXPECT_EQ(Quantile(0.5, {4, 1, 3, 2}), 2.5);
  EXPECT_EQ(Quantile(0, {4, 1, 3, 2}), 1);
  EXPECT_EQ(Quantile(1, {4, 1, 3, 2}), 4);
  EXPECT_EQ(Quantile(0.25, {10}), 10);
}

TEST(QuantileTest, OutOfRangeAndNaNParameters) {
  EXPECT_TRUE(std::isnan(Quantile(0.5, {})));
  EXPECT_TRUE(std::isnan(Quantile(kNaN, {1, 2})));
  EXPECT_EQ(Quantile(-0.5, {1, 2}), -kInf);
  EXPECT_EQ(Quantile(1.5, {1, 2}), kInf);
}

TEST(QuantileTest, NaNSortsFirst) {
  EXPECT_TRUE(std::isnan(Quantile(0, {1, kNaN, 2})));
  EXPECT_EQ(Quantile(0.5, {1, kNaN, 2}), 1);
  EXPECT_EQ(Quantile(1, {2, kNaN, 1}), 2);
}

TEST(QuantileTest, KeepsTheInputOrderOfEqualValues) {
  // quantile(1, ...) over the values 0, -0 gives -0 in Prometheus; over -0, 0 it gives 0.
  EXPECT_TRUE(std::signbit(Quantile(1, {0.0, -0.0})));
  EXPECT_FALSE(std::signbit(Quantile(1, {-0.0, 0.0})));
}

TEST(HistogramQuantileTest, ReadsLeAsGoParseFloatDoes) {
  // promtool: h_bucket{le="1_0"} 5, {le="0x_1p5"} 10, {le="+Inf"} 10 -> 0.5 quantile 10.
  auto bucket = [](const char* le, double v) {
    return Sample{*prom::Labels::FromUnsorted({{"__name__", "h_bucket"}, {"le", le}}), 0, v};
  };
  const Vector in{bucket("1_0", 5), bucket("0x_1p5", 10), bucket("+Inf", 10), bucket("1__0", 100),
                  bucket("0x1", 100)};  // the last two are skipped
  Function fn;
  fn.name = "histogram_quantile";
  Call call;
  call.func = &fn;
  std::any state;
  Vector out;
  FunctionContext ctx{call, 0, 0, 0, state, out};
  FunctionArg q;
  q.scalar = 0.5;
  FunctionArg buckets;
  buckets.vector = &in;
  const FunctionImpl impl = FindFunctionImpl("histogram_quantile");
  ASSERT_NE(impl, nullptr);
  ASSERT_TRUE(impl({q, buckets}, ctx).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].metric, prom::Labels());
  EXPECT_EQ(out[0].v, 10);
}

}  // namespace
}  // namespace sextant::promql::internal
