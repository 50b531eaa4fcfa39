// Tests for Expr::String() and Prettify(). The Prettify table holds Prometheus 2.42's own output
// (its format_query endpoint, Debian's 2.42.0).
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "aggregator/promql/ast.h"
#include "aggregator/promql/parser.h"
#include "gtest/gtest.h"

namespace sextant::promql {
namespace {

struct Case {
  const char* query;
  const char* want;
};

// Queries longer than 100 columns and Prometheus 2.42's Prettify of each.
const Case kPretty[] = {
    {"sum by (job, instance, very_long_label_name_number_one) "
     "(rate(http_requests_total{job=\"api-server\",handler=\"/api/v1/query\"}[5m]))",
     "sum by (job, instance, very_long_label_name_number_one) (\n  "
     "rate(http_requests_total{handler=\"/api/v1/query\",job=\"api-server\"}[5m])\n)"},
    {"sum without (job, instance, very_long_label_name_number_one) "
     "(rate(http_requests_total{job=\"api-server\",handler=\"/api/v1/query\"}[5m]))",
     "sum without (job, instance, very_long_label_name_number_one) (\n  "
     "rate(http_requests_total{handler=\"/api/v1/query\",job=\"api-server\"}[5m])\n)"},
    {"topk(10, sum by (job, instance, very_long_label_name_number_one) "
     "(rate(http_requests_total{job=\"api-server\",handler=\"/api/v1/query\"}[5m])))",
     "topk(\n  10,\n  sum by (job, instance, very_long_label_name_number_one) (\n    "
     "rate(http_requests_total{handler=\"/api/v1/query\",job=\"api-server\"}[5m])\n  )\n)"},
    {"histogram_quantile(0.99, sum by (le, job) "
     "(rate(http_request_duration_seconds_bucket{job=\"api-server\",handler=\"/api/v1/"
     "query\"}[5m])))",
     "histogram_quantile(\n  0.99,\n  sum by (le, job) (\n    "
     "rate(http_request_duration_seconds_bucket{handler=\"/api/v1/"
     "query\",job=\"api-server\"}[5m])\n  )\n)"},
    {"a_very_long_metric_name_for_testing_purposes_number_one + "
     "a_very_long_metric_name_for_testing_purposes_number_two",
     "  a_very_long_metric_name_for_testing_purposes_number_one\n+\n  "
     "a_very_long_metric_name_for_testing_purposes_number_two"},
    {"a_very_long_metric_name_for_testing_purposes_number_one + on (instance, job) group_left "
     "(foo) a_very_long_metric_name_for_testing_purposes_number_two",
     "  a_very_long_metric_name_for_testing_purposes_number_one\n+ on (instance, job) group_left "
     "(foo)\n  a_very_long_metric_name_for_testing_purposes_number_two"},
    {"a_very_long_metric_name_for_testing_purposes_number_one > bool "
     "a_very_long_metric_name_for_testing_purposes_number_two",
     "  a_very_long_metric_name_for_testing_purposes_number_one\n> bool\n  "
     "a_very_long_metric_name_for_testing_purposes_number_two"},
    {"a_very_long_metric_name_for_testing_purposes_number_one + "
     "a_very_long_metric_name_for_testing_purposes_number_two + "
     "a_very_long_metric_name_for_testing_purposes_number_three",
     "    a_very_long_metric_name_for_testing_purposes_number_one\n  +\n    "
     "a_very_long_metric_name_for_testing_purposes_number_two\n+\n  "
     "a_very_long_metric_name_for_testing_purposes_number_three"},
    {"(a_very_long_metric_name_for_testing_purposes_number_one + "
     "a_very_long_metric_name_for_testing_purposes_number_two) * 100",
     "  (\n      a_very_long_metric_name_for_testing_purposes_number_one\n    +\n      "
     "a_very_long_metric_name_for_testing_purposes_number_two\n  )\n*\n  100"},
    {"-(a_very_long_metric_name_for_testing_purposes_number_one + "
     "a_very_long_metric_name_for_testing_purposes_number_two)",
     "-(\n    a_very_long_metric_name_for_testing_purposes_number_one\n  +\n    "
     "a_very_long_metric_name_for_testing_purposes_number_two\n)"},
    {"-sum(a_very_long_metric_name_for_testing_purposes_number_one + "
     "a_very_long_metric_name_for_testing_purposes_number_two)",
     "-sum(\n    a_very_long_metric_name_for_testing_purposes_number_one\n  +\n    "
     "a_very_long_metric_name_for_testing_purposes_number_two\n)"},
    {"max_over_time(sum by (job) "
     "(rate(a_very_long_metric_name_for_testing_purposes_number_one{job=\"a\"}[5m] offset "
     "1h))[1h:5m])",
     "max_over_time(\n  sum by (job) "
     "(rate(a_very_long_metric_name_for_testing_purposes_number_one{job=\"a\"}[5m] offset "
     "1h))[1h:5m]\n)"},
    {"max_over_time((a_very_long_metric_name_for_testing_purposes_number_one + "
     "a_very_long_metric_name_for_testing_purposes_number_two)[1h:5m] @ 100)",
     "max_over_time(\n  (\n      a_very_long_metric_name_for_testing_purposes_number_one\n    +\n  "
     "    a_very_long_metric_name_for_testing_purposes_number_two\n  )[1h:5m] @ 100.000\n)"},
    {"rate(a_very_long_metric_name_for_testing_purposes_number_one{job=\"a\",instance=\"b\",label_"
     "three=\"cccccccccccc\"}[5m])",
     "rate(\n  "
     "a_very_long_metric_name_for_testing_purposes_number_one{instance=\"b\",job=\"a\",label_three="
     "\"cccccccccccc\"}[5m]\n)"},
    {"label_replace(a_very_long_metric_name_for_testing_purposes_number_one, \"dst\", \"$1\", "
     "\"src\", \"(.*)long_regex_here\")",
     "label_replace(\n  a_very_long_metric_name_for_testing_purposes_number_one,\n  \"dst\",\n  "
     "\"$1\",\n  \"src\",\n  \"(.*)long_regex_here\"\n)"},
    {"1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12 + 13 + 14 + 15 + 16 + 17 + 18 + 19 + 20 + "
     "21 + 22 + 23 + 24 + 25 + 26",
     "        1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12 + 13 + 14 + 15 + 16 + 17 + 18 + 19 "
     "+ 20 + 21 + 22\n      +\n        23\n    +\n      24\n  +\n    25\n+\n  26"},
    {"count_values(\"a_very_long_label_name_for_the_values\", "
     "a_very_long_metric_name_for_testing_purposes_number_one)",
     "count_values(\n  \"a_very_long_label_name_for_the_values\",\n  "
     "a_very_long_metric_name_for_testing_purposes_number_one\n)"},
    {"quantile(0.9, a_very_long_metric_name_for_testing_purposes_number_one * "
     "a_very_long_metric_name_for_testing_purposes_number_two)",
     "quantile(\n  0.9,\n    a_very_long_metric_name_for_testing_purposes_number_one\n  *\n    "
     "a_very_long_metric_name_for_testing_purposes_number_two\n)"},
    {"vector(1) + vector(2) + vector(3) + vector(4) + vector(5) + vector(6) + vector(7) + "
     "vector(8) + vector(9) + vector(10)",
     "    vector(1) + vector(2) + vector(3) + vector(4) + vector(5) + vector(6) + vector(7) + "
     "vector(8)\n  +\n    vector(9)\n+\n  vector(10)"},
    {"sum(rate(a_very_long_metric_name_for_testing_purposes_number_one[5m])) / "
     "sum(rate(a_very_long_metric_name_for_testing_purposes_number_two[5m])) > 0.5",
     "    sum(rate(a_very_long_metric_name_for_testing_purposes_number_one[5m]))\n  /\n    "
     "sum(rate(a_very_long_metric_name_for_testing_purposes_number_two[5m]))\n>\n  0.5"},
    {"((a_very_long_metric_name_for_testing_purposes_number_one)) + "
     "((a_very_long_metric_name_for_testing_purposes_number_two))",
     "  ((a_very_long_metric_name_for_testing_purposes_number_one))\n+\n  "
     "((a_very_long_metric_name_for_testing_purposes_number_two))"},
    {"a_very_long_metric_name_for_testing_purposes_number_one and "
     "a_very_long_metric_name_for_testing_purposes_number_two or bla",
     "    a_very_long_metric_name_for_testing_purposes_number_one\n  and\n    "
     "a_very_long_metric_name_for_testing_purposes_number_two\nor\n  bla"},
    {"time() - "
     "timestamp(a_very_long_metric_name_for_testing_purposes_number_one{job="
     "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}) > 3600",
     "    time()\n  -\n    timestamp(\n      "
     "a_very_long_metric_name_for_testing_purposes_number_one{job=\"aaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}"
     "\n    )\n>\n  3600"},
};

TEST(PrettifyTest, SplitsLongQueriesAsPrometheus) {
  for (const Case& c : kPretty) {
    SCOPED_TRACE(c.query);
    absl::StatusOr<ExprPtr> e = ParseExpr(c.query);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ(Prettify(**e), c.want);
    // The split form parses back to the same expression.
    absl::StatusOr<ExprPtr> again = ParseExpr(c.want);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ((*again)->String(), (*e)->String());
  }
}

TEST(PrettifyTest, ShortQueriesAreTheirString) {
  for (const char* q : {"sum by (job) (rate(foo[5m]))", "a + on (x) group_left (y) b", "x[1h:5m]",
                        "-foo @ 100.000 offset 5m", "\"str\"", "1"}) {
    absl::StatusOr<ExprPtr> e = ParseExpr(q);
    ASSERT_TRUE(e.ok()) << q;
    EXPECT_EQ(Prettify(**e), (*e)->String());
    EXPECT_EQ(Prettify(**e), q);
  }
}

std::string NumberString(double v) {
  NumberLiteral n;
  n.value = v;
  return n.String();
}

TEST(PrinterTest, NumbersPrintAsGoFormatFloatG) {
  EXPECT_EQ(NumberString(1), "1");
  EXPECT_EQ(NumberString(-2.5), "-2.5");
  EXPECT_EQ(NumberString(0.1), "0.1");
  EXPECT_EQ(NumberString(100000), "100000");
  EXPECT_EQ(NumberString(1e6), "1e+06");
  EXPECT_EQ(NumberString(123456789.123), "1.23456789123e+08");
  EXPECT_EQ(NumberString(0.0001), "0.0001");
  EXPECT_EQ(NumberString(0.00001), "1e-05");
  EXPECT_EQ(NumberString(1.5e300), "1.5e+300");
  EXPECT_EQ(NumberString(5e-324), "5e-324");
  EXPECT_EQ(NumberString(-0.0), "-0");
  EXPECT_EQ(NumberString(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(NumberString(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(NumberString(std::nan("")), "NaN");
}

TEST(PrinterTest, SelectorsSortMatchersAndHideTheNameMatcher) {
  absl::StatusOr<ExprPtr> e = ParseExpr(R"(foo{z="1", a=~"x", b!="\n"})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->String(), R"(foo{a=~"x",b!="\n",z="1"})");
  e = ParseExpr(R"({__name__="foo", a="b"})");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->String(), R"({__name__="foo",a="b"})");
}

TEST(PrinterTest, PrintsTheWrittenOffsetNotTheEvaluationOne) {
  absl::StatusOr<ExprPtr> e = ParseExpr("foo offset 5m @ 10");
  ASSERT_TRUE(e.ok());
  auto& vs = static_cast<VectorSelector&>(**e);
  vs.offset_ms = 123456;  // as the engine sets it
  EXPECT_EQ((*e)->String(), "foo @ 10.000 offset 5m");
}

TEST(PrinterTest, StepInvariantPrintsItsChild) {
  absl::StatusOr<ExprPtr> e = ParseExpr("sum(rate(foo[5m] @ end()))");
  ASSERT_TRUE(e.ok());
  auto wrapper = std::make_unique<StepInvariantExpr>();
  wrapper->expr = *std::move(e);
  EXPECT_EQ(wrapper->String(), "sum(rate(foo[5m] @ end()))");
  EXPECT_EQ(Prettify(*wrapper), "sum(rate(foo[5m] @ end()))");
}

TEST(PrinterTest, PrintsEveryNodeKind) {
  const Case kCases[] = {
      {"sum without(a)(rate(foo{x=\"y\"}[5m] offset -1m @ 1.5))",
       "sum without (a) (rate(foo{x=\"y\"}[5m] @ 1.500 offset -1m))"},
      {"topk(3, x) by (a,b)", "topk by (a, b) (3, x)"},
      {"count_values('v', x)", "count_values(\"v\", x)"},
      {"sum by () (x)", "sum(x)"},
      {"sum without () (x)", "sum without () (x)"},
      {"a > bool ignoring(b) group_right c", "a > bool ignoring (b) group_right () c"},
      {"a and on() b", "a and on () b"},
      {"1 + on() 2 > bool 3", "1 + 2 > bool 3"},  // matching dropped between scalars
      {"x[1h:5m] offset 1w @ start()", "x[1h:5m] @ start() offset 1w"},
      {"x[90m:]", "x[1h30m:]"},
      {"-(a)", "-(a)"},
      {"+a", "+a"},
      {"\"a\\tb\"", "\"a\\tb\""},
      {"time()", "time()"},
      {"label_join(x, 'd', ',', 'a', 'b')", "label_join(x, \"d\", \",\", \"a\", \"b\")"},
  };
  for (const Case& c : kCases) {
    absl::StatusOr<ExprPtr> e = ParseExpr(c.query);
    ASSERT_TRUE(e.ok()) << c.query << ": " << e.status();
    EXPECT_EQ((*e)->String(), c.want) << c.query;
  }
}

}  // namespace
}  // namespace sextant::promql
