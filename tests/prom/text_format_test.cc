#include "prom/text_format.h"

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/self_metrics.h"  // kTextFormatContentType
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prom/value.h"
#include "tests/util/test_util.h"

namespace sextant::prom {
namespace {

using ::testing::HasSubstr;

constexpr ExpositionFormat kText = ExpositionFormat::kText004;
constexpr ExpositionFormat kOM = ExpositionFormat::kOpenMetrics;

// The error message of parsing `in`, or "OK".
std::string ErrorOf(absl::string_view in, ExpositionFormat format) {
  auto r = ParseTextFormat(in, format);
  if (r.ok()) return "OK";
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  return std::string(r.status().message());
}

std::vector<MetricFamily> MustParse(absl::string_view in, ExpositionFormat format) {
  auto r = ParseTextFormat(in, format);
  EXPECT_TRUE(r.ok()) << r.status() << "\ninput:\n" << in;
  return r.ok() ? *std::move(r) : std::vector<MetricFamily>{};
}

bool SameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void ExpectSameFamilies(const std::vector<MetricFamily>& a, const std::vector<MetricFamily>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(a[i].name);
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].help, b[i].help);
    EXPECT_EQ(a[i].type, b[i].type);
    EXPECT_EQ(a[i].unit, b[i].unit);
    ASSERT_EQ(a[i].samples.size(), b[i].samples.size());
    for (size_t k = 0; k < a[i].samples.size(); ++k) {
      const ExpositionSample& x = a[i].samples[k];
      const ExpositionSample& y = b[i].samples[k];
      EXPECT_EQ(x.labels, y.labels) << x.labels.ToString() << " vs " << y.labels.ToString();
      EXPECT_TRUE(SameValue(x.value, y.value)) << x.value << " vs " << y.value;
      EXPECT_EQ(x.timestamp_ms, y.timestamp_ms);
    }
  }
}

ExpositionSample S(Labels labels, double value, std::optional<int64_t> ts = std::nullopt) {
  return ExpositionSample{std::move(labels), value, ts};
}

// ----- FormatPromFloat.

TEST(FormatPromFloatTest, MatchesGoShortestG) {
  struct Case {
    double v;
    const char* want;
  };
  const Case cases[] = {
      {0.1, "0.1"},
      {1e-05, "1e-05"},
      {0.0001, "0.0001"},
      {0.000123, "0.000123"},
      {2.5e-05, "2.5e-05"},
      {1e21, "1e+21"},
      {1e20, "1e+20"},
      {1234567, "1.234567e+06"},
      {123456, "123456"},
      {100000, "100000"},
      {999999, "999999"},
      {1e6, "1e+06"},
      {12345678.9, "1.23456789e+07"},
      {9007199254740992.0, "9.007199254740992e+15"},
      {123.456, "123.456"},
      {-1.5, "-1.5"},
      {1, "1"},
      {-1, "-1"},
      {0, "0"},
      {-0.0, "0"},  // client_golang writes both zeros as "0"
      {5e-324, "5e-324"},
      {2.2250738585072014e-308, "2.2250738585072014e-308"},
      {std::numeric_limits<double>::max(), "1.7976931348623157e+308"},
      {-std::numeric_limits<double>::max(), "-1.7976931348623157e+308"},
      {1e100, "1e+100"},
      {0.3, "0.3"},
      {0.1 + 0.2, "0.30000000000000004"},
      {std::numeric_limits<double>::infinity(), "+Inf"},
      {-std::numeric_limits<double>::infinity(), "-Inf"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {StaleNaN(), "NaN"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatPromFloat(c.v), c.want) << "value " << c.v;
  }
}

TEST(FormatPromFloatTest, ReadsBackToTheSameDouble) {
  std::mt19937_64 rng(42);
  for (int i = 0; i < 20000; ++i) {
    double v = std::bit_cast<double>(rng());
    if (std::isnan(v)) continue;
    std::string s = FormatPromFloat(v);
    auto fams = MustParse(absl::StrCat("m ", s, "\n"), kText);
    ASSERT_EQ(fams.size(), 1u) << s;
    double back = fams[0].samples[0].value;
    if (v == 0) {
      EXPECT_EQ(back, 0) << s;
    } else {
      EXPECT_EQ(std::bit_cast<uint64_t>(back), std::bit_cast<uint64_t>(v)) << s;
    }
  }
}

// ----- Writer.

TEST(WriteTextFormatTest, WritesClientGolangLayout) {
  std::vector<MetricFamily> fams;
  fams.push_back(
      MetricFamily{"http_requests_total",
                   "Requests served.\nBy code; a \\ backslash and \"quotes\".",
                   MetricType::kCounter,
                   "",
                   {S({{"__name__", "http_requests_total"}, {"code", "200"}}, 1027),
                    S({{"__name__", "http_requests_total"}, {"code", "500"}}, 3, 1686547200123)}});
  fams.push_back(
      MetricFamily{"temperature_celsius",
                   "",
                   MetricType::kGauge,
                   "",
                   {S({{"__name__", "temperature_celsius"}, {"room", "a \"b\"\\c\nd"}}, -0.035)}});
  fams.push_back(MetricFamily{
      "latency_seconds",
      "Latency.",
      MetricType::kHistogram,
      "",
      {S({{"__name__", "latency_seconds_bucket"}, {"le", "0.5"}, {"a", "x"}, {"z", "y"}}, 1),
       S({{"__name__", "latency_seconds_bucket"}, {"le", "+Inf"}, {"a", "x"}, {"z", "y"}}, 2),
       S({{"__name__", "latency_seconds_sum"}, {"a", "x"}, {"z", "y"}}, 0.7),
       S({{"__name__", "latency_seconds_count"}, {"a", "x"}, {"z", "y"}}, 2)}});
  fams.push_back(
      MetricFamily{"rpc_seconds",
                   "RPC latency.",
                   MetricType::kSummary,
                   "",
                   {S({{"__name__", "rpc_seconds"}, {"quantile", "0.99"}, {"x", "1"}}, 1234567),
                    S({{"__name__", "rpc_seconds_sum"}, {"x", "1"}}, 1e21),
                    S({{"__name__", "rpc_seconds_count"}, {"x", "1"}}, 100000)}});
  fams.push_back(MetricFamily{
      "mystery", "  ", MetricType::kUntyped, "", {S({{"__name__", "mystery"}}, StaleNaN())}});
  const char* want =
      "# HELP http_requests_total Requests served.\\nBy code; a \\\\ backslash and \"quotes\".\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{code=\"200\"} 1027\n"
      "http_requests_total{code=\"500\"} 3 1686547200123\n"
      "# TYPE temperature_celsius gauge\n"
      "temperature_celsius{room=\"a \\\"b\\\"\\\\c\\nd\"} -0.035\n"
      "# HELP latency_seconds Latency.\n"
      "# TYPE latency_seconds histogram\n"
      "latency_seconds_bucket{a=\"x\",z=\"y\",le=\"0.5\"} 1\n"
      "latency_seconds_bucket{a=\"x\",z=\"y\",le=\"+Inf\"} 2\n"
      "latency_seconds_sum{a=\"x\",z=\"y\"} 0.7\n"
      "latency_seconds_count{a=\"x\",z=\"y\"} 2\n"
      "# HELP rpc_seconds RPC latency.\n"
      "# TYPE rpc_seconds summary\n"
      "rpc_seconds{x=\"1\",quantile=\"0.99\"} 1.234567e+06\n"
      "rpc_seconds_sum{x=\"1\"} 1e+21\n"
      "rpc_seconds_count{x=\"1\"} 100000\n"
      "# TYPE mystery untyped\n"
      "mystery NaN\n";
  EXPECT_EQ(WriteTextFormat(fams), want);
}

TEST(WriteTextFormatTest, WritesFamilyWithoutSamplesAsMetadataOnly) {
  std::vector<MetricFamily> fams{MetricFamily{"up", "Up.", MetricType::kGauge, "", {}}};
  EXPECT_EQ(WriteTextFormat(fams), "# HELP up Up.\n# TYPE up gauge\n");
  EXPECT_EQ(WriteTextFormat({}), "");
}

TEST(WriteTextFormatTest, MapsOpenMetricsFamiliesToText004) {
  auto fams = MustParse(
      "# HELP jobs Jobs run.\n"
      "# TYPE jobs counter\n"
      "jobs_total{q=\"a\"} 5\n"
      "jobs_created{q=\"a\"} 1.6e+09\n"
      "jobs_total{q=\"b\"} 6\n"
      "jobs_created{q=\"b\"} 1.6e+09\n"
      "# TYPE build info\n"
      "build_info{version=\"1\"} 1\n"
      "# TYPE state stateset\n"
      "state{state=\"on\"} 1\n"
      "# TYPE wait_seconds gaugehistogram\n"
      "wait_seconds_bucket{le=\"+Inf\"} 5\n"
      "wait_seconds_gcount 5\n"
      "wait_seconds_gsum 2\n"
      "# TYPE lat_seconds histogram\n"
      "lat_seconds_bucket{le=\"+Inf\"} 1\n"
      "lat_seconds_created 1.6e+09\n"
      "# TYPE thing unknown\n"
      "thing 1\n"
      "# EOF\n",
      kOM);
  EXPECT_EQ(WriteTextFormat(fams),
            "# HELP jobs_total Jobs run.\n"
            "# TYPE jobs_total counter\n"
            "jobs_total{q=\"a\"} 5\n"
            "jobs_total{q=\"b\"} 6\n"
            "# HELP jobs_created Jobs run.\n"
            "# TYPE jobs_created gauge\n"
            "jobs_created{q=\"a\"} 1.6e+09\n"
            "jobs_created{q=\"b\"} 1.6e+09\n"
            "# TYPE build_info gauge\n"
            "build_info{version=\"1\"} 1\n"
            "# TYPE state gauge\n"
            "state{state=\"on\"} 1\n"
            "# TYPE wait_seconds_bucket gauge\n"
            "wait_seconds_bucket{le=\"+Inf\"} 5\n"
            "# TYPE wait_seconds_gcount gauge\n"
            "wait_seconds_gcount 5\n"
            "# TYPE wait_seconds_gsum gauge\n"
            "wait_seconds_gsum 2\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"+Inf\"} 1\n"
            "# TYPE lat_seconds_created gauge\n"
            "lat_seconds_created 1.6e+09\n"
            "# TYPE thing untyped\n"
            "thing 1\n");
}

// ----- Text 0.0.4 parsing.

TEST(ParseTextFormatTest, GroupsHistogramAndSummarySamplesIntoFamilies) {
  auto fams = MustParse(
      "# HELP rpc_seconds RPC latency.\n"
      "# TYPE rpc_seconds summary\n"
      "rpc_seconds{quantile=\"0.5\"} 0.01\n"
      "rpc_seconds_sum 12.5\n"
      "rpc_seconds_count 100\n"
      "# TYPE lat_seconds histogram\n"
      "lat_seconds_bucket{le=\"1\"} 3\n"
      "lat_seconds_bucket{le=\"+Inf\"} 4\n"
      "lat_seconds_sum 2\n"
      "lat_seconds_count 4\n"
      "loose 1\n"
      "loose_sum 2\n",
      kText);
  ASSERT_EQ(fams.size(), 4u);
  EXPECT_EQ(fams[0].name, "rpc_seconds");
  EXPECT_EQ(fams[0].type, MetricType::kSummary);
  EXPECT_EQ(fams[0].help, "RPC latency.");
  ASSERT_EQ(fams[0].samples.size(), 3u);
  EXPECT_EQ(fams[0].samples[0].labels, (Labels{{"__name__", "rpc_seconds"}, {"quantile", "0.5"}}));
  EXPECT_EQ(fams[0].samples[2].labels.MetricName(), "rpc_seconds_count");
  EXPECT_EQ(fams[1].name, "lat_seconds");
  EXPECT_EQ(fams[1].type, MetricType::kHistogram);
  EXPECT_EQ(fams[1].samples.size(), 4u);
  EXPECT_EQ(fams[1].samples[1].labels.Get("le"), "+Inf");
  // Without TYPE each name is an untyped family of its own.
  EXPECT_EQ(fams[2].name, "loose");
  EXPECT_EQ(fams[2].type, MetricType::kUntyped);
  EXPECT_EQ(fams[3].name, "loose_sum");
  EXPECT_EQ(fams[3].type, MetricType::kUntyped);
}

TEST(ParseTextFormatTest, MergesNonAdjacentSamplesOfOneName) {
  auto fams = MustParse("a 1\nb 2\na{x=\"y\"} 3\n", kText);
  ASSERT_EQ(fams.size(), 2u);
  EXPECT_EQ(fams[0].name, "a");
  ASSERT_EQ(fams[0].samples.size(), 2u);
  EXPECT_EQ(fams[0].samples[1].value, 3);
}

TEST(ParseTextFormatTest, AcceptsPrometheusLexicalFreedoms) {
  // Blanks around tokens, trailing comma, blank lines, comments, no final newline, a label
  // without a comma before it (Prometheus's lexer allows it).
  auto fams = MustParse(
      "\n"
      "# just a comment\n"
      "#nospace comment\n"
      "# HELPX not metadata\n"
      "   \t\n"
      "  foo \t{ a = \"1\" ,b=\"2\", } \t 7 \t 123 \t\n"
      "bar{a=\"1\" b=\"2\"} 8\n"
      "baz 9",
      kText);
  ASSERT_EQ(fams.size(), 3u);
  EXPECT_EQ(fams[0].samples[0].labels, (Labels{{"__name__", "foo"}, {"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(fams[0].samples[0].value, 7);
  EXPECT_EQ(fams[0].samples[0].timestamp_ms, 123);
  EXPECT_EQ(fams[1].samples[0].labels, (Labels{{"__name__", "bar"}, {"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(fams[2].samples[0].value, 9);
  EXPECT_FALSE(fams[2].samples[0].timestamp_ms.has_value());
}

TEST(ParseTextFormatTest, UnescapesLabelValuesAndHelpLikePrometheus) {
  auto fams = MustParse(
      "# HELP foo a\\\\b\\nc \\\"q\\\" \\t\n"
      "foo{a=\"x\\\\y\\\"z\\nw\",b=\"keep\\t\",c=\"raw\nnewline\",d=\"\"} 1\n",
      kText);
  ASSERT_EQ(fams.size(), 1u);
  // HELP knows \\ and \n only; label values also \".
  EXPECT_EQ(fams[0].help, "a\\b\nc \\\"q\\\" \\t");
  const Labels& l = fams[0].samples[0].labels;
  EXPECT_EQ(l.Get("a"), "x\\y\"z\nw");
  EXPECT_EQ(l.Get("b"), "keep\\t");
  EXPECT_EQ(l.Get("c"), "raw\nnewline");
  EXPECT_FALSE(l.Has("d"));  // an empty value is no label
  EXPECT_EQ(l.size(), 4u);
}

TEST(ParseTextFormatTest, ReadsHelpTextAfterOneBlank) {
  auto fams = MustParse(
      "# HELP a\n# HELP b   \n# HELP c  two blanks\n# HELP d\tx  \n# TYPE  e gauge\n", kText);
  ASSERT_EQ(fams.size(), 5u);
  EXPECT_EQ(fams[0].help, "");
  EXPECT_EQ(fams[1].help, "");
  EXPECT_EQ(fams[2].help, " two blanks");
  EXPECT_EQ(fams[3].help, "x  ");
  EXPECT_EQ(fams[4].type, MetricType::kGauge);
}

TEST(ParseTextFormatTest, ParsesGoFloatSyntax) {
  struct Case {
    const char* text;
    double want;
  };
  const Case ok[] = {
      {"1", 1},
      {"-2.5", -2.5},
      {"+3", 3},
      {"1e3", 1000},
      {"1E-2", 0.01},
      {".5", 0.5},
      {"5.", 5},
      {"007", 7},
      {"1e-400", 0},
      {"-0", 0},
      {"1.5e+2", 150},
      {"0.000", 0},
      {"+Inf", INFINITY},
      {"-Inf", -INFINITY},
      {"inf", INFINITY},
      {"Infinity", INFINITY},
      {"-infinity", -INFINITY},
  };
  for (const Case& c : ok) {
    auto fams = MustParse(absl::StrCat("m ", c.text, "\n"), kText);
    ASSERT_EQ(fams.size(), 1u) << c.text;
    EXPECT_EQ(fams[0].samples[0].value, c.want) << c.text;
  }
  for (const char* nan : {"NaN", "nan", "NAN"}) {
    auto fams = MustParse(absl::StrCat("m ", nan, "\n"), kText);
    ASSERT_EQ(fams.size(), 1u);
    double v = fams[0].samples[0].value;
    EXPECT_EQ(std::bit_cast<uint64_t>(v), 0x7ff8000000000001ULL) << "Prometheus's normal NaN";
    EXPECT_FALSE(IsStaleNaN(v));
  }
  // Prometheus refuses hex floats and underscores; Go refuses the rest.
  for (const char* bad : {"0x1p-2", "0x10", "1_000", "+nan", "-NaN", "1e", "1e+", ".", "-", "infin",
                          "1.2.3", "e5", "0x", "1,5", "١"}) {
    EXPECT_THAT(ErrorOf(absl::StrCat("m ", bad, "\n"), kText), HasSubstr("invalid value")) << bad;
  }
  EXPECT_EQ(ErrorOf("m 1e400\n", kText),
            "line 1 col 3: value \"1e400\" is out of the float64 range");
  EXPECT_EQ(ErrorOf("m -1e400\n", kText),
            "line 1 col 3: value \"-1e400\" is out of the float64 range");
}

TEST(ParseTextFormatTest, ParsesTimestamps) {
  auto fams = MustParse("a 1 1686547200123\nb 1 -1500\nc 1 0\n", kText);
  ASSERT_EQ(fams.size(), 3u);
  EXPECT_EQ(fams[0].samples[0].timestamp_ms, 1686547200123);
  EXPECT_EQ(fams[1].samples[0].timestamp_ms, -1500);  // client_golang's parser takes it
  EXPECT_EQ(fams[2].samples[0].timestamp_ms, 0);
}

struct ErrorCase {
  const char* input;
  const char* want;
};

TEST(ParseTextFormatTest, ReportsErrorsWithLineAndColumn) {
  const ErrorCase cases[] = {
      {"# HELP foo x\n# TYPE foo gauge\nfoo{ab=\"1\",1a=\"b\"} 1\n",
       "line 3 col 12: invalid label name \"1a\""},
      {"1abc 1\n", "line 1 col 1: invalid metric name \"1abc\""},
      {"ok 1\n{a=\"b\"} 1\n", "line 2 col 1: expected metric name, found \"{\""},
      {"foo{a-b=\"c\"} 1\n", "line 1 col 5: invalid label name \"a-b\""},
      {"foo{a=\"1\",b=\"2\",a=\"3\"} 1\n", "line 1 col 17: duplicate label name \"a\""},
      {"foo{a=\"\",a=\"3\"} 1\n", "line 1 col 10: duplicate label name \"a\""},
      {"foo{__name__=\"bar\"} 1\n", "line 1 col 5: duplicate label name \"__name__\""},
      {"foo{a=\"\xff\"} 1\n", "line 1 col 8: value of label \"a\" is not valid UTF-8"},
      {"# HELP foo \xc3\x28\n", "line 1 col 12: help text of \"foo\" is not valid UTF-8"},
      {"foo{a=\"bar} 1\n", "line 1 col 7: unterminated quoted value of label \"a\""},
      {"foo{a=\"bar\\",
       "line 1 col 11: invalid escape at the end of a line in the value of "
       "label \"a\""},
      {"foo{a=\"1\"\n", "line 1 col 10: expected ',' or '}' after label value, found end of line"},
      {"foo{a \"b\"} 1\n", "line 1 col 7: expected '=' after label name \"a\", found \"\\\"\""},
      {"foo{a=b} 1\n",
       "line 1 col 7: expected '\"' to start the value of label \"a\", found "
       "\"b\""},
      {"foo{a=\"b\" 1\n", "line 1 col 11: expected ',' or '}' after label value, found \"1\""},
      {"foo{,} 1\n", "line 1 col 5: expected label name or '}', found \",\""},
      {"foo{a=\"b\",,} 1\n", "line 1 col 11: expected label name or '}', found \",\""},
      {"foo 1.2.3\n", "line 1 col 5: invalid value \"1.2.3\""},
      {"foo 0x1p-2\n", "line 1 col 5: invalid value \"0x1p-2\""},
      {"foo 1\r\n", "line 1 col 5: invalid value \"1\\r\""},
      {"foo\n", "line 1 col 4: expected value after the metric, found end of line"},
      {"foo{a=\"b\"}{c=\"d\"} 1\n", "line 1 col 11: invalid value \"{c=\\\"d\\\"}\""},
      {"foo 1 12.5\n", "line 1 col 7: invalid timestamp \"12.5\": expected integer milliseconds"},
      {"foo 1 +5\n", "line 1 col 7: invalid timestamp \"+5\": expected integer milliseconds"},
      {"foo 1 99999999999999999999\n",
       "line 1 col 7: timestamp \"99999999999999999999\" is out of range"},
      {"foo 1 2 3\n", "line 1 col 9: expected end of line after timestamp, found \"3\""},
      {"# HELP foo a\n# HELP foo b\n", "line 2 col 8: second HELP line for metric name \"foo\""},
      {"# TYPE foo gauge\n# TYPE foo gauge\n",
       "line 2 col 8: second TYPE line for metric name \"foo\""},
      {"foo 1\n# TYPE foo gauge\n",
       "line 2 col 8: TYPE line for metric name \"foo\" after its samples"},
      {"# TYPE foo info\n", "line 1 col 12: invalid metric type \"info\""},
      {"# TYPE foo counter \n", "line 1 col 12: invalid metric type \"counter \""},
      {"# TYPE foo\n", "line 1 col 11: invalid metric type \"\""},
      {"# HELP 1x y\n", "line 1 col 8: invalid metric name \"1x\""},
      {"# HELP \n", "line 1 col 8: expected metric name after HELP, found end of line"},
      {"# HELP foo{x} y\n", "line 1 col 8: invalid metric name \"foo{x}\""},
      {"# TYPE foo histogram\nfoo 1\n",
       "line 2 col 1: sample \"foo\" does not fit histogram \"foo\": expected foo_bucket, foo_sum "
       "or foo_count"},
      {"# TYPE foo histogram\nfoo_bucket{le=\"x\"} 1\n",
       "line 2 col 12: invalid \"le\" value \"x\" in histogram bucket \"foo_bucket\": expected a "
       "float"},
      {"# TYPE foo histogram\nfoo_bucket{le=\"\"} 1\n",
       "line 2 col 12: invalid \"le\" value \"\" in histogram bucket \"foo_bucket\": expected a "
       "float"},
      {"# TYPE foo histogram\nfoo_bucket 1\n",
       "line 2 col 1: histogram bucket \"foo_bucket\" has no \"le\" label"},
      {"# TYPE foo summary\nfoo{quantile=\"high\"} 1\n",
       "line 2 col 5: invalid \"quantile\" value \"high\" in summary quantile \"foo\": expected a "
       "float"},
      {"# TYPE foo summary\nfoo 1\n",
       "line 2 col 1: summary quantile \"foo\" has no \"quantile\" label"},
  };
  for (const ErrorCase& c : cases) {
    EXPECT_EQ(ErrorOf(c.input, kText), c.want) << "input: " << c.input;
  }
  // NUL bytes, which the table's C strings cannot hold.
  EXPECT_EQ(ErrorOf(absl::string_view("foo\0 1\n", 7), kText),
            "line 1 col 4: invalid value \"\\x00\"");
  EXPECT_EQ(ErrorOf(absl::string_view("\0", 1), kText),
            "line 1 col 1: invalid metric name \"\\x00\"");
}

TEST(ParseTextFormatTest, AllowsNulInLabelValuesAndComments) {
  auto fams = MustParse(absl::string_view("# a\0comment\nfoo{a=\"x\0y\"} 1\n", 26), kText);
  ASSERT_EQ(fams.size(), 1u);
  EXPECT_EQ(fams[0].samples[0].labels.Get("a"), absl::string_view("x\0y", 3));
}

// ----- OpenMetrics parsing.

TEST(ParseTextFormatTest, ParsesOpenMetricsFixture) {
  std::string in =
      testing::ReadFileOrDie(testing::SourcePath("tests/testdata/exposition/openmetrics.txt"));
  auto fams = MustParse(in, kOM);
  ASSERT_EQ(fams.size(), 9u);

  const MetricFamily& req = fams[0];
  EXPECT_EQ(req.name, "http_requests");
  EXPECT_EQ(req.type, MetricType::kCounter);
  EXPECT_EQ(req.help, "Requests handled, by status code.");
  ASSERT_EQ(req.samples.size(), 4u);
  EXPECT_EQ(req.samples[0].labels, (Labels{{"__name__", "http_requests_total"}, {"code", "200"}}));
  EXPECT_EQ(req.samples[0].timestamp_ms, 1686547200500);  // seconds -> milliseconds
  EXPECT_EQ(req.samples[1].labels.MetricName(), "http_requests_created");
  EXPECT_EQ(req.samples[1].value, 1686500000.0);
  EXPECT_EQ(req.samples[2].value, 3);  // the exemplar is dropped

  const MetricFamily& dur = fams[1];
  EXPECT_EQ(dur.type, MetricType::kHistogram);
  EXPECT_EQ(dur.unit, "seconds");
  ASSERT_EQ(dur.samples.size(), 6u);
  EXPECT_EQ(dur.samples[1].labels.Get("le"), "1.0");  // label values stay as written
  EXPECT_EQ(dur.samples[5].labels.MetricName(), "request_duration_seconds_created");

  EXPECT_EQ(fams[2].type, MetricType::kSummary);
  EXPECT_EQ(fams[2].samples.size(), 4u);
  EXPECT_EQ(fams[3].type, MetricType::kGaugeHistogram);
  EXPECT_EQ(fams[3].samples.size(), 4u);
  EXPECT_EQ(fams[4].name, "build");
  EXPECT_EQ(fams[4].type, MetricType::kInfo);
  EXPECT_EQ(fams[4].samples[0].labels.MetricName(), "build_info");
  EXPECT_EQ(fams[5].type, MetricType::kStateSet);
  EXPECT_EQ(fams[5].samples.size(), 2u);
  EXPECT_EQ(fams[6].unit, "celsius");
  EXPECT_EQ(fams[6].samples[0].labels.Get("room"), "a \"b\" \\ c");
  EXPECT_EQ(fams[6].samples[0].value, -0.035);
  EXPECT_EQ(fams[7].name, "mystery");
  EXPECT_EQ(fams[7].type, MetricType::kUntyped);
  EXPECT_EQ(fams[7].help, "An untyped \"thing\" with\nnewline.");  // OpenMetrics unescapes \"
  EXPECT_EQ(fams[8].name, "empty_family");
  EXPECT_TRUE(fams[8].samples.empty());

  // And in 0.0.4 the same data reads back to the same text.
  std::string text = WriteTextFormat(fams);
  auto again = MustParse(text, kText);
  EXPECT_EQ(WriteTextFormat(again), text);
}

TEST(ParseTextFormatTest, OpenMetricsEofRules) {
  EXPECT_EQ(ErrorOf("# EOF", kOM), "OK");
  EXPECT_EQ(ErrorOf("a 1\n# EOF\n", kOM), "OK");
  EXPECT_EQ(ErrorOf("", kOM),
            "line 1 col 1: unexpected end of input: OpenMetrics input must end with a \"# EOF\" "
            "line");
  EXPECT_EQ(ErrorOf("foo 1\n", kOM),
            "line 2 col 1: unexpected end of input: OpenMetrics input must end with a \"# EOF\" "
            "line");
  EXPECT_EQ(ErrorOf("foo 1", kOM),
            "line 1 col 6: unexpected end of input: OpenMetrics input must end with a \"# EOF\" "
            "line");
  EXPECT_EQ(ErrorOf("# EOF\nfoo 1\n", kOM), "line 2 col 1: unexpected data after \"# EOF\"");
  EXPECT_EQ(ErrorOf("# EOF\n\n", kOM), "line 2 col 1: unexpected data after \"# EOF\"");
  EXPECT_EQ(ErrorOf("# EOF \n", kOM), "line 1 col 6: unexpected data after \"# EOF\"");
  // In 0.0.4 "# EOF" is an ordinary comment.
  EXPECT_EQ(ErrorOf("# EOF\nfoo 1\n", kText), "OK");
}

TEST(ParseTextFormatTest, ReportsOpenMetricsErrors) {
  const ErrorCase cases[] = {
      {"# TYPE foo counter\nfoo 1\n# EOF\n",
       "line 2 col 1: sample \"foo\" does not fit counter \"foo\": expected foo_total or "
       "foo_created"},
      {"# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n# EOF\n",
       "line 5 col 1: sample \"a\" of family \"a\" after another family: families must not be "
       "interleaved"},
      {"# TYPE a gauge\n# TYPE b gauge\n# HELP a x\n# EOF\n",
       "line 3 col 8: # HELP for \"a\" after another family: families must not be interleaved"},
      {"# TYPE foo counter\n# TYPE foo_total gauge\n# EOF\n",
       "line 2 col 8: name \"foo_total\" clashes with family \"foo\""},
      {"# TYPE foo_created gauge\n# TYPE foo counter\n# EOF\n",
       "line 2 col 8: name \"foo_created\" clashes with family \"foo_created\""},
      {"# TYPE foo gauge\nfoo 1\n# HELP foo x\n# EOF\n",
       "line 3 col 8: # HELP for \"foo\" after its samples"},
      {"# TYPE foo gauge\n# TYPE foo gauge\n# EOF\n", "line 2 col 8: second # TYPE for \"foo\""},
      {"# UNIT foo_seconds seconds\n# UNIT foo_seconds seconds\n# EOF\n",
       "line 2 col 8: second # UNIT for \"foo_seconds\""},
      {"# UNIT foo seconds\n# EOF\n",
       "line 1 col 12: unit \"seconds\" is not a suffix of metric name \"foo\""},
      {"# TYPE foo untyped\n# EOF\n", "line 1 col 12: invalid metric type \"untyped\""},
      {"\n# EOF\n", "line 1 col 1: empty line: OpenMetrics has no blank lines"},
      {"# hello\n# EOF\n",
       "line 1 col 1: expected \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\": OpenMetrics has no "
       "other comments"},
      {"# HELP foo\n# EOF\n",
       "line 1 col 11: expected ' ' and text after the metric name in HELP, found end of line"},
      {" foo 1\n# EOF\n", "line 1 col 1: expected metric name, found \" \""},
      {"foo  1\n# EOF\n", "line 1 col 5: expected value after the metric, found \" \""},
      {"foo 1 \n# EOF\n", "line 1 col 7: expected timestamp or exemplar, found end of line"},
      {"foo {a=\"b\"} 1\n# EOF\n", "line 1 col 5: invalid value \"{a=\\\"b\\\"}\""},
      {"foo{a=\"b\", c=\"d\"} 1\n# EOF\n",
       "line 1 col 11: expected label name or '}', found \" \""},
      {"foo{a=\"b\nc\"} 1\n# EOF\n", "line 1 col 7: unterminated quoted value of label \"a\""},
      {"foo 1 NaN\n# EOF\n", "line 1 col 7: invalid timestamp \"NaN\""},
      {"foo 1 1e300\n# EOF\n", "line 1 col 7: timestamp \"1e300\" is out of range"},
      {"foo 1 # {a=\"b\"} 1\n# EOF\n",
       "line 1 col 7: metric name \"foo\" does not support exemplars (only _total and _bucket)"},
      {"a_total 1 # {a=\"b\",a=\"c\"} 1\n# EOF\n", "line 1 col 20: duplicate label name \"a\""},
      {"a_total 1 # {a=\"b\"}\n# EOF\n",
       "line 1 col 20: expected ' ' and a value after the exemplar labels, found end of line"},
      {"a_total 1 # {a=\"b\"} x\n# EOF\n", "line 1 col 21: invalid exemplar value \"x\""},
      {"a_total 1 # {a=\"b\"} 1 Inf\n# EOF\n", "line 1 col 23: invalid timestamp \"Inf\""},
      {"a_total 1 1 # {} 1 2 3\n# EOF\n",
       "line 1 col 21: expected end of line after the exemplar, found \" \""},
      {"# TYPE s stateset\ns 1\n# EOF\n",
       "line 2 col 1: stateset sample \"s\" has no label named after its family"},
      {"# TYPE g gaugehistogram\ng_bucket 1\n# EOF\n",
       "line 2 col 1: histogram bucket \"g_bucket\" has no \"le\" label"},
      {"# TYPE i info\ni 1\n# EOF\n",
       "line 2 col 1: sample \"i\" does not fit info \"i\": expected i_info"},
  };
  for (const ErrorCase& c : cases) {
    EXPECT_EQ(ErrorOf(c.input, kOM), c.want) << "input: " << c.input;
  }
}

TEST(ParseTextFormatTest, OpenMetricsTimestampsAreTruncatedToMilliseconds) {
  auto fams = MustParse("a 1 1.5\nb 1 -2.25\nc 1 1e3\n# EOF\n", kOM);
  ASSERT_EQ(fams.size(), 3u);
  EXPECT_EQ(fams[0].samples[0].timestamp_ms, 1500);
  EXPECT_EQ(fams[1].samples[0].timestamp_ms, -2250);
  EXPECT_EQ(fams[2].samples[0].timestamp_ms, 1000000);
}

TEST(FormatFromContentTypeTest, RecognisesOpenMetrics) {
  EXPECT_EQ(FormatFromContentType("application/openmetrics-text; version=1.0.0; charset=utf-8"),
            ExpositionFormat::kOpenMetrics);
  EXPECT_EQ(FormatFromContentType(" Application/OpenMetrics-Text "),
            ExpositionFormat::kOpenMetrics);
  EXPECT_EQ(FormatFromContentType("text/plain; version=0.0.4"), ExpositionFormat::kText004);
  EXPECT_EQ(FormatFromContentType(""), ExpositionFormat::kText004);
  EXPECT_EQ(FormatFromContentType("application/json"), ExpositionFormat::kText004);
  EXPECT_EQ(FormatFromContentType(kTextFormatContentType), ExpositionFormat::kText004);
}

// ----- Round trips and real data.

TEST(TextFormatRoundTripTest, NodeExporterFixtureReadsAndWritesBackByteForByte) {
  std::string in =
      testing::ReadFileOrDie(testing::SourcePath("tests/testdata/exposition/node_exporter.txt"));
  auto fams = MustParse(in, kText);
  ASSERT_EQ(fams.size(), 21u);
  EXPECT_EQ(fams[0].name, "go_gc_duration_seconds");
  EXPECT_EQ(fams[0].type, MetricType::kSummary);
  EXPECT_EQ(fams[0].samples.size(), 7u);
  const MetricFamily* cpu = nullptr;
  const MetricFamily* hist = nullptr;
  for (const MetricFamily& f : fams) {
    if (f.name == "node_cpu_seconds_total") cpu = &f;
    if (f.name == "promhttp_metric_handler_request_duration_seconds") hist = &f;
  }
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->type, MetricType::kCounter);
  ASSERT_EQ(cpu->samples.size(), 16u);
  EXPECT_EQ(cpu->samples[0].labels,
            (Labels{{"__name__", "node_cpu_seconds_total"}, {"cpu", "0"}, {"mode", "idle"}}));
  EXPECT_EQ(cpu->samples[0].value, 342781.52);
  ASSERT_NE(hist, nullptr);
  EXPECT_EQ(hist->type, MetricType::kHistogram);
  EXPECT_EQ(hist->help, "Histogram of latencies for serving metrics.\nOne observation per scrape.");
  EXPECT_EQ(hist->samples.size(), 8u);

  EXPECT_EQ(WriteTextFormat(fams), in);
}

TEST(TextFormatRoundTripTest, ParsedTextReadsBackToTheSameFamilies) {
  std::string in =
      testing::ReadFileOrDie(testing::SourcePath("tests/testdata/exposition/node_exporter.txt"));
  auto fams = MustParse(in, kText);
  auto again = MustParse(WriteTextFormat(fams), kText);
  ExpectSameFamilies(fams, again);
}

// Random families with awkward label values and values: written then parsed, they come back.
TEST(TextFormatRoundTripTest, RandomFamiliesSurviveWriteAndParse) {
  std::mt19937_64 rng(7);
  const std::vector<std::string> values = {
      "plain",   "with space", "quote\"d", "back\\slash", "new\nline", "tab\there", "\\n literal",
      "ünïcødé", "{braces},=", "# hash",   "\\",          "\"",        "x\\\"y"};
  const MetricType types[] = {MetricType::kCounter, MetricType::kGauge, MetricType::kUntyped,
                              MetricType::kHistogram, MetricType::kSummary};
  std::vector<MetricFamily> fams;
  for (int f = 0; f < 60; ++f) {
    MetricFamily fam;
    fam.type = types[rng() % 5];
    fam.name = absl::StrCat("fam_", f, fam.type == MetricType::kCounter ? "_total" : "");
    if (rng() % 2) fam.help = values[rng() % values.size()];
    int n = static_cast<int>(rng() % 6);
    for (int i = 0; i < n; ++i) {
      std::string sample_name = fam.name;
      std::vector<std::pair<std::string, std::string>> extra;
      if (fam.type == MetricType::kHistogram) {
        const char* suffixes[] = {"_bucket", "_sum", "_count"};
        sample_name += suffixes[i % 3];
        if (i % 3 == 0) extra.push_back({"le", FormatPromFloat(static_cast<double>(i) / 4)});
      } else if (fam.type == MetricType::kSummary) {
        const char* suffixes[] = {"", "_sum", "_count"};
        sample_name += suffixes[i % 3];
        if (i % 3 == 0) extra.push_back({"quantile", "0.5"});
      }
      std::vector<Label> labels = {
          {"__name__", sample_name}, {"id", absl::StrCat(i)}, {"v", values[rng() % values.size()]}};
      for (auto& [k, v] : extra) labels.push_back({k, v});
      auto built = Labels::FromUnsorted(labels);
      ASSERT_TRUE(built.ok()) << built.status();
      double value;
      switch (rng() % 4) {
        case 0:
          value = std::bit_cast<double>(rng());
          break;
        case 1:
          value = static_cast<double>(static_cast<int64_t>(rng() % 2000000) - 1000000);
          break;
        case 2:
          value = static_cast<double>(rng() % 1000) / 1000;
          break;
        default:
          value = std::numeric_limits<double>::infinity();
          break;
      }
      std::optional<int64_t> ts;
      if (rng() % 2) ts = static_cast<int64_t>(rng() % 4000000000000) - 1000000000000;
      fam.samples.push_back(S(*std::move(built), value, ts));
    }
    fams.push_back(std::move(fam));
  }
  std::string text = WriteTextFormat(fams);
  auto back = MustParse(text, kText);
  ExpectSameFamilies(fams, back);
  EXPECT_EQ(WriteTextFormat(back), text);
}

// ----- Pathological inputs: these finish quickly only when parsing is linear.

TEST(ParseTextFormatTest, HandlesVeryLongLinesAndManyLabels) {
  std::string big(4 << 20, 'x');
  auto fams = MustParse(absl::StrCat("foo{a=\"", big, "\"} 1\n"), kText);
  ASSERT_EQ(fams.size(), 1u);
  EXPECT_EQ(fams[0].samples[0].labels.Get("a").size(), big.size());

  std::string many = "foo{";
  for (int i = 0; i < 50000; ++i) absl::StrAppend(&many, "l", i, "=\"v\",");
  std::string ok = absl::StrCat(many, "} 1\n");
  fams = MustParse(ok, kText);
  ASSERT_EQ(fams.size(), 1u);
  EXPECT_EQ(fams[0].samples[0].labels.size(), 50001u);
  std::string dup = absl::StrCat(many, "l7=\"w\"} 1\n");
  EXPECT_EQ(ErrorOf(dup, kText),
            absl::StrCat("line 1 col ", many.size() + 1, ": duplicate label name \"l7\""));

  std::string lines;
  for (int i = 0; i < 100000; ++i) absl::StrAppend(&lines, "m{i=\"", i, "\"} ", i, "\n");
  fams = MustParse(lines, kText);
  ASSERT_EQ(fams.size(), 1u);
  EXPECT_EQ(fams[0].samples.size(), 100000u);
  EXPECT_EQ(ErrorOf(absl::StrCat(lines, "m 1 x\n"), kText),
            "line 100001 col 5: invalid timestamp \"x\": expected integer milliseconds");

  EXPECT_EQ(ErrorOf(absl::StrCat("foo{a=\"", big), kText),
            "line 1 col 7: unterminated quoted value of label \"a\"");
  // Error messages quote at most 64 bytes of input.
  EXPECT_EQ(ErrorOf(absl::StrCat("foo ", big, "\n"), kText),
            absl::StrCat("line 1 col 5: invalid value \"", std::string(64, 'x'), "...\""));
}

}  // namespace
}  // namespace sextant::prom
