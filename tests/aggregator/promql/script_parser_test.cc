#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "aggregator/promql/value.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/aggregator/promql/script/script.h"

namespace sextant::promql::script {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;

std::vector<SeriesValue> Values(absl::string_view line) {
  absl::StatusOr<SeriesLine> s = ParseSeriesLine(line, 1);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? s->values : std::vector<SeriesValue>{};
}

TEST(ScriptParserTest, ExpandsIncrementsCumulatively) {
  EXPECT_THAT(Values("m 1+2x3"), ElementsAre(1, 3, 5, 7));
  EXPECT_THAT(Values("m 10-2x2"), ElementsAre(10, 8, 6));
  EXPECT_THAT(Values("m -2-1x2"), ElementsAre(-2, -3, -4));
  EXPECT_THAT(Values("m 0+0.1x3"), ElementsAre(0, 0.1, 0.1 + 0.1, 0.1 + 0.1 + 0.1));
}

TEST(ScriptParserTest, RepeatsAndSeparatesItems) {
  EXPECT_THAT(Values("m 5x2"), ElementsAre(5, 5, 5));
  EXPECT_THAT(Values("m 1 -1x1 .5 1e3"), ElementsAre(1, -1, -1, 0.5, 1000));
}

TEST(ScriptParserTest, BlanksLeaveSteps) {
  EXPECT_THAT(Values("m _ 1 _x3 2"),
              ElementsAre(std::nullopt, 1, std::nullopt, std::nullopt, std::nullopt, 2));
}

TEST(ScriptParserTest, StaleNaNAndInf) {
  std::vector<SeriesValue> v = Values("m 1 stale NaN Inf -Inf +Inf");
  ASSERT_EQ(v.size(), 6u);
  EXPECT_TRUE(IsStaleNaN(*v[1]));
  EXPECT_TRUE(std::isnan(*v[2]));
  EXPECT_FALSE(IsStaleNaN(*v[2]));
  EXPECT_EQ(*v[3], std::numeric_limits<double>::infinity());
  EXPECT_EQ(*v[4], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(*v[5], std::numeric_limits<double>::infinity());
}

TEST(ScriptParserTest, RejectsBadValues) {
  EXPECT_FALSE(ParseSeriesLine("m 1+2", 1).ok());
  EXPECT_FALSE(ParseSeriesLine("m 1x", 1).ok());
  EXPECT_FALSE(ParseSeriesLine("m 1x2.5", 1).ok());
  EXPECT_FALSE(ParseSeriesLine("m foo", 1).ok());
  EXPECT_FALSE(ParseSeriesLine("m 1a", 1).ok());
}

TEST(ScriptParserTest, LabelsWithEscapesAndQuotes) {
  absl::StatusOr<SeriesLine> s =
      ParseSeriesLine(R"(m:x{a="q\"u\\o\nte", b='s', c=`r\n`, d="\u00e9",} 1)", 7);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->line, 7);
  EXPECT_EQ(s->labels, prom::Labels({{"__name__", "m:x"},
                                     {"a", "q\"u\\o\nte"},
                                     {"b", "s"},
                                     {"c", "r\\n"},
                                     {"d", "\xc3\xa9"}}));
  EXPECT_THAT(s->values, ElementsAre(1));
}

TEST(ScriptParserTest, LabelSetWithoutNameAndEmptySet) {
  absl::StatusOr<SeriesLine> s = ParseSeriesLine(R"({__name__="up", job="x"} 2)", 1);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->labels, prom::Labels({{"__name__", "up"}, {"job", "x"}}));
  absl::StatusOr<SeriesLine> empty = ParseSeriesLine("{} 3", 1);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->labels.empty());
  EXPECT_THAT(empty->values, ElementsAre(3));
}

TEST(ScriptParserTest, MarksNativeHistograms) {
  absl::StatusOr<SeriesLine> s =
      ParseSeriesLine("h {{schema:0 sum:5 count:4 buckets:[1 2 1]}}x2", 1);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->native_histogram);
}

TEST(ScriptParserTest, GoNumbers) {
  EXPECT_THAT(ParseGoNumber("42").value(), 42);
  EXPECT_THAT(ParseGoNumber("-1.5e3").value(), -1500);
  EXPECT_THAT(ParseGoNumber(".25").value(), 0.25);
  EXPECT_THAT(ParseGoNumber("0x10").value(), 16);
  EXPECT_THAT(ParseGoNumber("010").value(), 8);  // ParseInt base 0: octal
  EXPECT_THAT(ParseGoNumber("08").value(), 8);   // not octal: ParseFloat
  EXPECT_THAT(ParseGoNumber("1_000").value(), 1000);
  EXPECT_THAT(ParseGoNumber("-0x1p-2").value(), -0.25);
  EXPECT_EQ(ParseGoNumber("+Inf").value(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(ParseGoNumber("-infinity").value(), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(ParseGoNumber("NaN").value()));
  EXPECT_FALSE(ParseGoNumber("1e400").ok());  // overflow is an error in Go
  EXPECT_FALSE(ParseGoNumber("1_").ok());
  EXPECT_FALSE(ParseGoNumber("0x1.8").ok());  // hex float needs an exponent
  EXPECT_FALSE(ParseGoNumber("{} 1").ok());
  EXPECT_FALSE(ParseGoNumber("abc").ok());
}

TEST(ScriptParserTest, Durations) {
  EXPECT_EQ(ParseScriptDuration("5m").value(), 300000);
  EXPECT_EQ(ParseScriptDuration("5m30s").value(), 330000);
  EXPECT_EQ(ParseScriptDuration("1h2ms").value(), 3600002);
  EXPECT_EQ(ParseScriptDuration("0").value(), 0);
  EXPECT_EQ(ParseScriptDuration("1y").value(), int64_t{365} * 24 * 3600 * 1000);
  EXPECT_FALSE(ParseScriptDuration("").ok());
  EXPECT_FALSE(ParseScriptDuration("5x").ok());
  EXPECT_FALSE(ParseScriptDuration("30s5m").ok());
  EXPECT_FALSE(ParseScriptDuration("m").ok());
}

TEST(ScriptParserTest, AlmostEqual) {
  EXPECT_TRUE(AlmostEqual(1, 1 + 1e-9));
  EXPECT_FALSE(AlmostEqual(1, 1.00001));
  EXPECT_TRUE(AlmostEqual(std::nan(""), std::nan("")));
  EXPECT_FALSE(AlmostEqual(std::nan(""), 1));
  EXPECT_TRUE(AlmostEqual(std::numeric_limits<double>::infinity(),
                          std::numeric_limits<double>::infinity()));
  EXPECT_FALSE(AlmostEqual(std::numeric_limits<double>::infinity(), 1e308));
  EXPECT_FALSE(AlmostEqual(0, 1e-300));  // against zero: only subnormal differences pass
  EXPECT_TRUE(AlmostEqual(0, -0.0));
  EXPECT_FALSE(AlmostEqual(1, -1));
  EXPECT_TRUE(AlmostEqual(9.988465674311579e+307, 9.988465674311579e+307 * (1 + 1e-9)));
  EXPECT_FALSE(AlmostEqual(9.988465674311579e+307, 9.99845413998589e+307));
}

constexpr absl::string_view kScript = R"(# a comment
load 5m
  http_requests{job="api", instance="0"} 0+10x10
  other 1 2

eval instant at 50m http_requests
  http_requests{job="api", instance="0"} 100

eval_ordered instant at 10m sort(http_requests)
  {job="api", instance="0"} 20
  {} 1

eval_fail instant at 0m a +

eval instant at 1m scalar(other)
  2

clear
eval range from 0 to 10m step 5m other
  other 1 _ 2
)";

TEST(ScriptParserTest, ParsesCommands) {
  absl::StatusOr<Script> script = ParseScript("x.test", kScript);
  ASSERT_TRUE(script.ok()) << script.status();
  ASSERT_EQ(script->commands.size(), 7u);

  const Command& load = script->commands[0];
  EXPECT_EQ(load.line, 2);
  const auto& l = std::get<LoadCommand>(load.cmd);
  EXPECT_EQ(l.step_ms, 300000);
  ASSERT_EQ(l.series.size(), 2u);
  EXPECT_EQ(l.series[0].line, 3);
  EXPECT_EQ(l.series[0].values.size(), 11u);
  EXPECT_THAT(l.series[1].values, ElementsAre(1, 2));

  const auto& e1 = std::get<EvalCommand>(script->commands[1].cmd);
  EXPECT_EQ(script->commands[1].line, 6);
  EXPECT_FALSE(e1.range || e1.fail || e1.ordered);
  EXPECT_EQ(e1.at_ms, 3000000);
  EXPECT_EQ(e1.expr, "http_requests");
  ASSERT_EQ(e1.expected.size(), 1u);
  EXPECT_EQ(e1.expected[0].line, 7);
  EXPECT_THAT(e1.expected[0].values, ElementsAre(100));

  const auto& e2 = std::get<EvalCommand>(script->commands[2].cmd);
  EXPECT_TRUE(e2.ordered);
  EXPECT_EQ(e2.expr, "sort(http_requests)");
  ASSERT_EQ(e2.expected.size(), 2u);
  EXPECT_TRUE(e2.expected[1].labels.empty());

  const auto& e3 = std::get<EvalCommand>(script->commands[3].cmd);
  EXPECT_TRUE(e3.fail);
  EXPECT_EQ(e3.expr, "a +");
  EXPECT_TRUE(e3.expected.empty());
  EXPECT_EQ(script->commands[3].line, 13);

  const auto& e4 = std::get<EvalCommand>(script->commands[4].cmd);
  EXPECT_THAT(e4.expected_scalar, Optional(2.0));
  EXPECT_TRUE(e4.expected.empty());

  EXPECT_TRUE(std::holds_alternative<ClearCommand>(script->commands[5].cmd));

  const auto& e6 = std::get<EvalCommand>(script->commands[6].cmd);
  EXPECT_TRUE(e6.range);
  EXPECT_EQ(e6.start_ms, 0);
  EXPECT_EQ(e6.end_ms, 600000);
  EXPECT_EQ(e6.step_ms, 300000);
  ASSERT_EQ(e6.expected.size(), 1u);
  EXPECT_THAT(e6.expected[0].values, ElementsAre(1, std::nullopt, 2));
}

TEST(ScriptParserTest, ErrorsNameFileAndLine) {
  absl::StatusOr<Script> bad = ParseScript("f.test", "load 5m\n  a 1\n\nbogus command\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("f.test:4: invalid command"));

  bad = ParseScript("f.test", "load 5m\n  a 1+\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("f.test:2:"));

  bad = ParseScript("f.test", "eval instant at 5x a\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("f.test:1: invalid timestamp"));

  bad = ParseScript("f.test", "eval instant at 5m a\n  a 1 2\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("f.test:2: expecting multiple values"));
}

TEST(ScriptParserTest, MarksNativeHistogramEvals) {
  absl::StatusOr<Script> script =
      ParseScript("h.test", "eval instant at 5m h\n  h {{schema:0 count:1}}\n");
  ASSERT_TRUE(script.ok()) << script.status();
  EXPECT_TRUE(std::get<EvalCommand>(script->commands[0].cmd).native_histogram);
}

}  // namespace
}  // namespace sextant::promql::script
