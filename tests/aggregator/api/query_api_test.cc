// The query API against Prometheus 2.42's answers: parameters, messages, envelope and JSON. The
// expected texts were taken from Debian's Prometheus 2.42 answering the same requests.
#include "aggregator/api/query_api.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/api/prom_json.h"
#include "common/build_info.h"
#include "common/http_client.h"
#include "common/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"
#include "tests/util/test_util.h"

namespace sextant::api {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kT = 1'700'000'000'000;  // ms; the first sample of every series

// ---------------------------------------------------------------------------------------------
// Parameters.

TEST(ParseApiTimeTest, FloatSecondsRoundToTheMillisecond) {
  EXPECT_EQ(ParseApiTime("4")->EngineMillis(), 4000);
  EXPECT_EQ(ParseApiTime("1.5")->EngineMillis(), 1500);
  EXPECT_EQ(ParseApiTime("-1.5")->EngineMillis(), -1500);
  EXPECT_EQ(ParseApiTime("-1.5")->Millis(), -1500);
  EXPECT_EQ(ParseApiTime("1.0004")->EngineMillis(), 1000);
  EXPECT_EQ(ParseApiTime("1.0005")->EngineMillis(), 1000);  // 0.0005 is 0.000499999... in binary
  EXPECT_EQ(ParseApiTime("1.0006")->EngineMillis(), 1001);
  EXPECT_EQ(ParseApiTime("1e9")->EngineMillis(), 1'000'000'000'000);
  EXPECT_EQ(ParseApiTime("1e-7")->EngineMillis(), 0);
  EXPECT_EQ(ParseApiTime("1_0")->EngineMillis(), 10'000);
}

TEST(ParseApiTimeTest, OutOfRangeFloatsWrapAsPrometheusDoes) {
  // Prometheus 2.42 answers [-9223372036.854,"1"] for time=Inf and [-5670419503.466,"1"] for
  // time=123456789012.5 (UnixNano overflows).
  EXPECT_EQ(ParseApiTime("Inf")->EngineMillis(), -9'223'372'036'854);
  EXPECT_EQ(ParseApiTime("NaN")->EngineMillis(), -9'223'372'036'854);
  EXPECT_EQ(ParseApiTime("123456789012.5")->EngineMillis(), -5'670'419'503'466);
  EXPECT_EQ(ParseApiTime("123456789012.5")->Millis(), 123'456'789'012'500);
}

TEST(ParseApiTimeTest, Rfc3339) {
  EXPECT_EQ(ParseApiTime("2015-07-01T20:10:51.781Z")->EngineMillis(), 1'435'781'451'781);
  EXPECT_EQ(ParseApiTime("2015-07-01T20:10:51Z")->EngineMillis(), 1'435'781'451'000);
  EXPECT_EQ(ParseApiTime("2015-07-01T20:10:51+02:00")->EngineMillis(), 1'435'774'251'000);
  EXPECT_EQ(ParseApiTime("2015-07-01T20:10:51-01:30")->EngineMillis(), 1'435'786'851'000);
  EXPECT_EQ(ParseApiTime("2015-07-01T20:10:51.7811111Z")->EngineMillis(), 1'435'781'451'781);
  EXPECT_EQ(ParseApiTime("2015-07-01T20:10:51,5Z")->EngineMillis(), 1'435'781'451'500);
  EXPECT_EQ(ParseApiTime("2015-07-01T2:10:51Z")->EngineMillis(), 1'435'716'651'000);
  EXPECT_EQ(ParseApiTime("2016-02-29T00:00:00Z")->EngineMillis(), 1'456'704'000'000);
  EXPECT_EQ(ParseApiTime("1969-12-31T23:59:58.5005Z")->EngineMillis(), -1499);
  EXPECT_EQ(ParseApiTime("1969-12-31T23:59:58.5005Z")->Millis(), -1500);
  for (absl::string_view bad :
       {"2015-07-01t20:10:51Z", "2015-07-01T20:10:51z", "2015-02-29T00:00:00Z",
        "2015-13-01T00:00:00Z", "2015-07-01T24:00:00Z", "2015-07-01T20:60:00Z",
        "2015-07-01T20:10:51", "2015-07-01T20:10:51.Z", "2015-07-01T20:10:51.1234567891Z",
        "2015-07-01", "15-07-01T20:10:51Z", "2015-07-01T20:10:51+0200"}) {
    EXPECT_FALSE(ParseApiTime(bad).ok()) << bad;
  }
}

TEST(ParseApiTimeTest, MinAndMaxSentinels) {
  absl::StatusOr<ApiTime> min = ParseApiTime("-292273086-05-16T16:47:06Z");
  ASSERT_TRUE(min.ok());
  EXPECT_EQ(min->Millis(), -9'223'309'901'257'974'000);
  EXPECT_EQ(min->Millis(), ApiTime::Min().Millis());
  absl::StatusOr<ApiTime> max = ParseApiTime("292277025-08-18T07:12:54.999999999Z");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->Millis(), 9'223'309'901'257'974'999);
  EXPECT_EQ(max->Millis(), ApiTime::Max().Millis());
}

TEST(ParseApiTimeTest, ErrorQuotesTheInputAsGo) {
  EXPECT_EQ(ParseApiTime("x").status().message(), "cannot parse \"x\" to a valid timestamp");
  EXPECT_EQ(ParseApiTime(" 1").status().message(), "cannot parse \" 1\" to a valid timestamp");
  EXPECT_EQ(ParseApiTime("").status().message(), "cannot parse \"\" to a valid timestamp");
  EXPECT_EQ(ParseApiTime("a\"\n").status().message(),
            "cannot parse \"a\\\"\\n\" to a valid timestamp");
}

TEST(ParseApiDurationTest, FloatSecondsAndPrometheusDurations) {
  EXPECT_EQ(*ParseApiDuration("1"), 1'000'000'000);
  EXPECT_EQ(*ParseApiDuration("1.5"), 1'500'000'000);
  EXPECT_EQ(*ParseApiDuration("0.0001"), 100'000);
  EXPECT_EQ(*ParseApiDuration("-1"), -1'000'000'000);
  EXPECT_EQ(*ParseApiDuration("15s"), 15'000'000'000);
  EXPECT_EQ(*ParseApiDuration("5m"), 300'000'000'000);
  EXPECT_EQ(*ParseApiDuration("1h30m"), 5'400'000'000'000);
  EXPECT_EQ(*ParseApiDuration("NaN"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(ParseApiDuration("x").status().message(), "cannot parse \"x\" to a valid duration");
  EXPECT_EQ(ParseApiDuration("").status().message(), "cannot parse \"\" to a valid duration");
  EXPECT_EQ(ParseApiDuration("5x").status().message(), "cannot parse \"5x\" to a valid duration");
  EXPECT_EQ(ParseApiDuration("1ns").status().message(), "cannot parse \"1ns\" to a valid duration");
  EXPECT_EQ(ParseApiDuration("1e300").status().message(),
            "cannot parse \"1e300\" to a valid duration. It overflows int64");
}

// ---------------------------------------------------------------------------------------------
// JSON.

std::string SampleTimestamp(int64_t ms) {
  std::string s;
  AppendSampleTimestamp(&s, ms);
  return s;
}
std::string SampleValue(double v) {
  std::string s;
  AppendSampleValue(&s, v);
  return s;
}
std::string FloatTimestamp(int64_t ms) {
  std::string s;
  AppendFloatTimestamp(&s, ms);
  return s;
}
std::string JsonString(absl::string_view v) {
  std::string s;
  AppendJsonString(&s, v);
  return s;
}

TEST(PromJsonTest, SampleTimestampsKeepThreeFractionDigits) {
  EXPECT_EQ(SampleTimestamp(4000), "4");
  EXPECT_EQ(SampleTimestamp(1500), "1.500");
  EXPECT_EQ(SampleTimestamp(1050), "1.050");
  EXPECT_EQ(SampleTimestamp(5), "0.005");
  EXPECT_EQ(SampleTimestamp(0), "0");
  EXPECT_EQ(SampleTimestamp(-500), "-0.500");
  EXPECT_EQ(SampleTimestamp(-1005), "-1.005");
  EXPECT_EQ(SampleTimestamp(1'435'781'451'781), "1435781451.781");
  EXPECT_EQ(SampleTimestamp(std::numeric_limits<int64_t>::min()), "-9223372036854775.808");
}

TEST(PromJsonTest, SampleValuesAsPrometheusFormatsThem) {
  EXPECT_EQ(SampleValue(1), "\"1\"");
  EXPECT_EQ(SampleValue(0), "\"0\"");
  EXPECT_EQ(SampleValue(-0.0), "\"-0\"");
  EXPECT_EQ(SampleValue(0.1), "\"0.1\"");
  EXPECT_EQ(SampleValue(123456789.123456789), "\"123456789.12345679\"");
  EXPECT_EQ(SampleValue(1e-7), "\"1e-07\"");
  EXPECT_EQ(SampleValue(-1e-7), "\"-1e-07\"");
  EXPECT_EQ(SampleValue(1e-6), "\"0.000001\"");
  EXPECT_EQ(SampleValue(1e20), "\"100000000000000000000\"");
  EXPECT_EQ(SampleValue(1e21), "\"1e+21\"");
  EXPECT_EQ(SampleValue(1.5e300), "\"1.5e+300\"");
  EXPECT_EQ(SampleValue(std::numeric_limits<double>::infinity()), "\"+Inf\"");
  EXPECT_EQ(SampleValue(-std::numeric_limits<double>::infinity()), "\"-Inf\"");
  EXPECT_EQ(SampleValue(std::nan("")), "\"NaN\"");
}

TEST(PromJsonTest, ScalarValuesAndTimestampsArePlainFloats) {
  EXPECT_EQ(FormatFloatPlain(1e-7), "0.0000001");
  EXPECT_EQ(FormatFloatPlain(1e21), "1000000000000000000000");
  EXPECT_EQ(FormatFloatPlain(2), "2");
  EXPECT_EQ(FormatFloatPlain(-0.0), "-0");
  EXPECT_EQ(FormatFloatPlain(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FloatTimestamp(4000), "4");
  EXPECT_EQ(FloatTimestamp(1500), "1.5");
  EXPECT_EQ(FloatTimestamp(-1005), "-1.005");
  EXPECT_EQ(FloatTimestamp(0), "0");
  EXPECT_EQ(FloatTimestamp(1'435'781'451'781), "1435781451.781");
}

TEST(PromJsonTest, StringsEscapedAsGoEncodingJson) {
  EXPECT_EQ(JsonString("plain"), "\"plain\"");
  EXPECT_EQ(JsonString("a<b>&c\xE2\x80\xA8"), R"("a\u003cb\u003e\u0026c\u2028")");
  EXPECT_EQ(JsonString("x\x01\x7f\xE2\x80\xA9\xC3\xA9"), "\"x\\u0001\x7f\\u2029\xC3\xA9\"");
  EXPECT_EQ(JsonString("\"\\\n\r\t\b\f"), R"("\"\\\n\r\t\u0008\u000c")");
  EXPECT_EQ(JsonString("a\xFF"
                       "b\xC3"),
            R"("a\ufffdb\ufffd")");
  EXPECT_EQ(JsonString(std::string("\0", 1)), R"("\u0000")");
}

TEST(PromJsonTest, QueryDataOfEachType) {
  EXPECT_EQ(EncodeQueryData(promql::Scalar{4000, 2}),
            R"({"resultType":"scalar","result":[4,"2"]})");
  EXPECT_EQ(EncodeQueryData(promql::Scalar{1500, 1e-7}),
            R"({"resultType":"scalar","result":[1.5,"0.0000001"]})");
  EXPECT_EQ(EncodeQueryData(promql::String{-1005, "x<"}),
            R"({"resultType":"string","result":[-1.005,"x\u003c"]})");
  EXPECT_EQ(EncodeQueryData(promql::Vector{}), R"({"resultType":"vector","result":[]})");
  EXPECT_EQ(EncodeQueryData(promql::Matrix{}), R"({"resultType":"matrix","result":[]})");
  promql::Vector v;
  v.push_back({prom::Labels{{"__name__", "up"}, {"job", "a&b"}}, 1500, 1});
  v.push_back({prom::Labels{}, 2000, std::nan("")});
  EXPECT_EQ(EncodeQueryData(v),
            R"({"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a\u0026b"},)"
            R"("value":[1.500,"1"]},{"metric":{},"value":[2,"NaN"]}]})");
  promql::Matrix m;
  m.push_back({prom::Labels{{"a", "1"}}, {{1000, 1}, {16000, 1e21}}});
  m.push_back({prom::Labels{{"a", "2"}}, {}});
  EXPECT_EQ(EncodeQueryData(m),
            R"({"resultType":"matrix","result":[{"metric":{"a":"1"},"values":[[1,"1"],)"
            R"([16,"1e+21"]]},{"metric":{"a":"2"},"values":[]}]})");
}

TEST(PromJsonTest, Envelopes) {
  EXPECT_EQ(SuccessEnvelope("[]"), R"({"status":"success","data":[]})");
  EXPECT_EQ(SuccessEnvelope("{}", {"w1", "<w2>"}),
            R"({"status":"success","data":{},"warnings":["w1","\u003cw2\u003e"]})");
  EXPECT_EQ(
      ErrorEnvelope("bad_data", "invalid label name: \"a\\\"<\""),
      R"({"status":"error","errorType":"bad_data","error":"invalid label name: \"a\\\"\u003c\""})");
}

// ---------------------------------------------------------------------------------------------
// Endpoints, called directly.

class QueryApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tsdb::DbOptions o;
    o.dir = dir_.Path("data");
    o.fsync = FsyncPolicy::kNever;
    absl::StatusOr<std::unique_ptr<tsdb::Db>> db = tsdb::Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    tsdb::Appender app = db_->NewAppender();
    // 41 samples 15 s apart from kT: up is 1 for api, 0 for db; the counter grows by 10.
    Add(app, {{"__name__", "up"}, {"instance", "a:1"}, {"job", "api"}}, [](int) { return 1.0; });
    Add(app, {{"__name__", "up"}, {"instance", "b:2"}, {"job", "db"}}, [](int) { return 0.0; });
    Add(app, {{"__name__", "http_requests_total"}, {"code", "200"}, {"job", "api"}},
        [](int i) { return 10.0 * i; });
    Add(app, {{"__name__", "weird"}, {"label", "<&>\"\n"}}, [](int) { return 1e-7; });
    app.AddMetadata({"up", 2, "", "1 if the target is up."});  // name, type, unit, help
    app.AddMetadata({"http_requests_total", 1, "", "Requests served."});
    app.AddMetadata({"latency_seconds", 3, "seconds", "Latency <ms>."});
    app.AddMetadata({"odd", 42, "", ""});
    absl::StatusOr<tsdb::CommitResult> c = app.Commit();
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_EQ(c->appended, 4 * 41);
    QueryApiOptions options;
    options.clock = &clock_;
    api_ = std::make_unique<QueryApi>(*db_, options, registry_);
  }

  static void Add(tsdb::Appender& app, prom::Labels labels, double (*value)(int)) {
    absl::StatusOr<tsdb::SeriesRef> ref = app.GetOrCreate(labels);
    ASSERT_TRUE(ref.ok()) << ref.status();
    for (int i = 0; i <= 40; ++i) app.Add(*ref, kT + i * 15'000, value(i));
  }

  static HttpRequest Req(std::vector<std::pair<std::string, std::string>> params) {
    HttpRequest r;
    r.method = "GET";
    for (auto& [k, v] : params) r.params.Add(std::move(k), std::move(v));
    return r;
  }

  testing::TempDir dir_;
  SimulatedClock clock_{absl::FromUnixMillis(kT + 60'000)};
  prometheus::Registry registry_;
  std::unique_ptr<tsdb::Db> db_;
  std::unique_ptr<QueryApi> api_;
};

// An answer's status and body as one string, for readable failures.
std::string Answer(const HttpResponse& r) { return absl::StrCat(r.status, " ", r.body); }

std::string BadData(absl::string_view message_json) {
  return absl::StrCat(R"(400 {"status":"error","errorType":"bad_data","error":")", message_json,
                      "\"}");
}

TEST_F(QueryApiTest, GrafanaHealthCheck) {
  HttpResponse r = api_->Query(Req({{"query", "1+1"}, {"time", "4"}}));
  EXPECT_EQ(Answer(r),
            R"(200 {"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})");
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/json");
}

TEST_F(QueryApiTest, InstantQueryResultTypes) {
  EXPECT_EQ(
      Answer(api_->Query(Req({{"query", "up"}, {"time", "1700000060"}}))),
      R"(200 {"status":"success","data":{"resultType":"vector","result":[)"
      R"({"metric":{"__name__":"up","instance":"a:1","job":"api"},"value":[1700000060,"1"]},)"
      R"({"metric":{"__name__":"up","instance":"b:2","job":"db"},"value":[1700000060,"0"]}]}})");
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "up{job=\"api\"}[30s]"}, {"time", "1700000030.5"}}))),
            R"(200 {"status":"success","data":{"resultType":"matrix","result":[)"
            R"({"metric":{"__name__":"up","instance":"a:1","job":"api"},"values":[)"
            R"([1700000015,"1"],[1700000030,"1"]]}]}})");
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "\"a<b\""}, {"time", "1.5"}}))),
            R"(200 {"status":"success","data":{"resultType":"string","result":[1.5,"a\u003cb"]}})");
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "weird"}, {"time", "1700000000.25"}}))),
            R"(200 {"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{"__name__":"weird","label":"\u003c\u0026\u003e\"\n"},)"
            R"("value":[1700000000.250,"1e-07"]}]}})");
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "nothing"}, {"time", "1"}}))),
            R"(200 {"status":"success","data":{"resultType":"vector","result":[]}})");
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "1/0"}, {"time", "1"}}))),
            R"(200 {"status":"success","data":{"resultType":"scalar","result":[1,"+Inf"]}})");
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "1e-7"}, {"time", "1"}}))),
            R"(200 {"status":"success","data":{"resultType":"scalar","result":[1,"0.0000001"]}})");
}

TEST_F(QueryApiTest, InstantQueryWithoutTimeUsesTheClock) {
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "sum(up)"}}))),
            R"(200 {"status":"success","data":{"resultType":"vector","result":[)"
            R"({"metric":{},"value":[1700000060,"1"]}]}})");
}

TEST_F(QueryApiTest, InstantQueryParameterErrors) {
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "1"}, {"time", "x"}}))),
            BadData(R"(invalid parameter \"time\": Invalid time value for 'time': cannot parse )"
                    R"(\"x\" to a valid timestamp)"));
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "1"}, {"timeout", "x"}}))),
            BadData(R"(invalid parameter \"timeout\": cannot parse \"x\" to a valid duration)"));
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "1"}, {"timeout", "1e300"}}))),
            BadData(R"(invalid parameter \"timeout\": cannot parse \"1e300\" to a valid )"
                    R"(duration. It overflows int64)"));
  EXPECT_EQ(
      Answer(api_->Query(Req({}))),
      BadData(R"(invalid parameter \"query\": 1:1: parse error: no expression found in input)"));
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "1+"}}))),
            BadData(R"(invalid parameter \"query\": 1:3: parse error: unexpected end of input)"));
  // The time is checked before the query.
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "1+"}, {"time", "x"}}))),
            BadData(R"(invalid parameter \"time\": Invalid time value for 'time': cannot parse )"
                    R"(\"x\" to a valid timestamp)"));
}

TEST_F(QueryApiTest, ExpiredTimeoutIsA503Timeout) {
  for (absl::string_view t : {"0", "-1"}) {
    EXPECT_EQ(
        Answer(api_->Query(Req({{"query", "1"}, {"timeout", std::string(t)}}))),
        R"(503 {"status":"error","errorType":"timeout","error":"query timed out in query execution"})");
  }
  EXPECT_EQ(Answer(api_->Query(Req({{"query", "1"}, {"time", "1"}, {"timeout", "10s"}}))),
            R"(200 {"status":"success","data":{"resultType":"scalar","result":[1,"1"]}})");
}

TEST_F(QueryApiTest, RangeQuery) {
  EXPECT_EQ(Answer(api_->QueryRange(Req({{"query", "up{job=\"api\"}"},
                                         {"start", "1700000000"},
                                         {"end", "1700000030"},
                                         {"step", "15"}}))),
            R"(200 {"status":"success","data":{"resultType":"matrix","result":[)"
            R"({"metric":{"__name__":"up","instance":"a:1","job":"api"},"values":[)"
            R"([1700000000,"1"],[1700000015,"1"],[1700000030,"1"]]}]}})");
  // RFC 3339 times and a duration step; a scalar becomes a matrix without labels.
  EXPECT_EQ(Answer(api_->QueryRange(Req({{"query", "2"},
                                         {"start", "2015-07-01T20:10:51Z"},
                                         {"end", "2015-07-01T20:10:53.5Z"},
                                         {"step", "1s"}}))),
            R"(200 {"status":"success","data":{"resultType":"matrix","result":[{"metric":{},)"
            R"("values":[[1435781451,"2"],[1435781452,"2"],[1435781453,"2"]]}]}})");
  EXPECT_EQ(Answer(api_->QueryRange(
                Req({{"query", "nothing"}, {"start", "1"}, {"end", "2"}, {"step", "1"}}))),
            R"(200 {"status":"success","data":{"resultType":"matrix","result":[]}})");
}

TEST_F(QueryApiTest, RangeQueryParameterErrors) {
  auto range = [this](std::string start, std::string end, std::string step,
                      std::string query = "1") {
    std::vector<std::pair<std::string, std::string>> p = {{"query", query}};
    if (!start.empty()) p.emplace_back("start", start);
    if (!end.empty()) p.emplace_back("end", end);
    if (!step.empty()) p.emplace_back("step", step);
    return Answer(api_->QueryRange(Req(p)));
  };
  EXPECT_EQ(range("x", "2", "1"),
            BadData(R"(invalid parameter \"start\": cannot parse \"x\" to a valid timestamp)"));
  EXPECT_EQ(range("", "2", "1"),
            BadData(R"(invalid parameter \"start\": cannot parse \"\" to a valid timestamp)"));
  EXPECT_EQ(range("1", "x", "1"),
            BadData(R"(invalid parameter \"end\": cannot parse \"x\" to a valid timestamp)"));
  EXPECT_EQ(range("3", "2", "1"),
            BadData(R"(invalid parameter \"end\": end timestamp must not be before start time)"));
  EXPECT_EQ(range("1", "2", ""),
            BadData(R"(invalid parameter \"step\": cannot parse \"\" to a valid duration)"));
  EXPECT_EQ(range("1", "2", "5x"),
            BadData(R"(invalid parameter \"step\": cannot parse \"5x\" to a valid duration)"));
  for (const char* step : {"0", "-1", "NaN"}) {
    EXPECT_EQ(range("1", "2", step),
              BadData(R"(invalid parameter \"step\": zero or negative query resolution step )"
                      R"(widths are not accepted. Try a positive integer)"))
        << step;
  }
  EXPECT_EQ(range("1", "2", "1e300"),
            BadData(R"(invalid parameter \"step\": cannot parse \"1e300\" to a valid duration. )"
                    R"(It overflows int64)"));
  EXPECT_EQ(range("0", "11001", "1"),
            BadData("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing "
                    "the query resolution (?step=XX)"));
  EXPECT_THAT(range("0", "11000", "1"), ::testing::StartsWith("200 "));
  EXPECT_EQ(range("1", "2", "1", ""), BadData("1:1: parse error: no expression found in input"));
  EXPECT_EQ(range("1", "2", "1", "1+"), BadData("1:3: parse error: unexpected end of input"));
  EXPECT_EQ(range("1", "2", "1", "up[5m]"),
            BadData(R"(invalid expression type \"range vector\" for range query, must be Scalar )"
                    R"(or instant Vector)"));
  EXPECT_EQ(range("1", "2", "1", "\"s\""),
            BadData(R"(invalid expression type \"string\" for range query, must be Scalar or )"
                    R"(instant Vector)"));
  EXPECT_EQ(range("0", "1", "0.0001"),
            R"(422 {"status":"error","errorType":"execution","error":"unexpected error: runtime )"
            R"(error: integer divide by zero"})");
}

TEST_F(QueryApiTest, Series) {
  EXPECT_EQ(Answer(api_->Series(Req(
                {{"match[]", "up"}, {"match[]", "{job=\"api\"}"}, {"match[]", "up{job=\"db\"}"}}))),
            R"(200 {"status":"success","data":[)"
            R"({"__name__":"http_requests_total","code":"200","job":"api"},)"
            R"({"__name__":"up","instance":"a:1","job":"api"},)"
            R"({"__name__":"up","instance":"b:2","job":"db"}]})");
  EXPECT_EQ(
      Answer(api_->Series(Req({{"match[]", "weird"}}))),
      R"(200 {"status":"success","data":[{"__name__":"weird","label":"\u003c\u0026\u003e\"\n"}]})");
  // Time range: nothing before the first sample; start after end is empty, not an error.
  EXPECT_EQ(Answer(api_->Series(Req({{"match[]", "up"}, {"end", "1699999999"}}))),
            R"(200 {"status":"success","data":[]})");
  EXPECT_EQ(Answer(api_->Series(Req({{"match[]", "up"}, {"start", "5"}, {"end", "1"}}))),
            R"(200 {"status":"success","data":[]})");
  EXPECT_EQ(Answer(api_->Series(Req({{"match[]", "up"},
                                     {"start", "-292273086-05-16T16:47:06Z"},
                                     {"end", "292277025-08-18T07:12:54.999999999Z"},
                                     {"limit", "1"}}))),
            R"(200 {"status":"success","data":[{"__name__":"up","instance":"a:1","job":"api"}],)"
            R"("warnings":["results truncated due to limit"]})");
  // 2.42 has no limit: anything but a positive number is ignored.
  EXPECT_THAT(Answer(api_->Series(Req({{"match[]", "up"}, {"limit", "x"}}))), HasSubstr("b:2"));
}

TEST_F(QueryApiTest, SeriesErrors) {
  EXPECT_EQ(Answer(api_->Series(Req({}))), BadData("no match[] parameter provided"));
  EXPECT_EQ(Answer(api_->Series(Req({{"match[]", ""}}))),
            BadData(R"(invalid parameter \"match[]\": 1:1: parse error: unexpected end of input)"));
  EXPECT_EQ(Answer(api_->Series(Req({{"match[]", "up{"}}))),
            BadData(R"(invalid parameter \"match[]\": 1:4: parse error: unexpected end of input )"
                    R"(inside braces)"));
  EXPECT_EQ(Answer(api_->Series(Req({{"match[]", "1"}}))),
            BadData(R"(invalid parameter \"match[]\": 1:1: parse error: unexpected number \"1\")"));
  EXPECT_EQ(Answer(api_->Series(Req({{"match[]", "{a=\"\"}"}}))),
            BadData(R"(invalid parameter \"match[]\": match[] must contain at least one )"
                    R"(non-empty matcher)"));
  EXPECT_EQ(Answer(api_->Series(Req({{"match[]", "up"}, {"start", "x"}}))),
            BadData(R"(invalid parameter \"start\": Invalid time value for 'start': cannot )"
                    R"(parse \"x\" to a valid timestamp)"));
  EXPECT_EQ(Answer(api_->Series(Req({{"match[]", "up"}, {"end", "x"}}))),
            BadData(R"(invalid parameter \"end\": Invalid time value for 'end': cannot parse )"
                    R"(\"x\" to a valid timestamp)"));
}

TEST_F(QueryApiTest, LabelNames) {
  EXPECT_EQ(Answer(api_->LabelNames(Req({}))),
            R"(200 {"status":"success","data":["__name__","code","instance","job","label"]})");
  EXPECT_EQ(Answer(api_->LabelNames(Req({{"match[]", "up"}, {"match[]", "weird"}}))),
            R"(200 {"status":"success","data":["__name__","instance","job","label"]})");
  EXPECT_EQ(Answer(api_->LabelNames(Req({{"match[]", "nothing"}}))),
            R"(200 {"status":"success","data":[]})");
  EXPECT_EQ(Answer(api_->LabelNames(Req({{"limit", "2"}}))),
            R"(200 {"status":"success","data":["__name__","code"],)"
            R"("warnings":["results truncated due to limit"]})");
  // Errors: match[] ones are not wrapped in "invalid parameter" here (as in Prometheus).
  EXPECT_EQ(Answer(api_->LabelNames(Req({{"match[]", "up{"}}))),
            BadData("1:4: parse error: unexpected end of input inside braces"));
  EXPECT_EQ(Answer(api_->LabelNames(Req({{"match[]", ""}}))),
            BadData("1:1: parse error: unexpected end of input"));
  EXPECT_EQ(Answer(api_->LabelNames(Req({{"match[]", "{a=\"\"}"}}))),
            BadData("match[] must contain at least one non-empty matcher"));
  EXPECT_EQ(Answer(api_->LabelNames(Req({{"start", "x"}}))),
            BadData(R"(invalid parameter \"start\": Invalid time value for 'start': cannot )"
                    R"(parse \"x\" to a valid timestamp)"));
}

TEST_F(QueryApiTest, LabelValues) {
  auto values = [this](std::string name, std::vector<std::pair<std::string, std::string>> p) {
    HttpRequest r = Req(std::move(p));
    r.path_params["name"] = std::move(name);
    return Answer(api_->LabelValues(r));
  };
  EXPECT_EQ(values("__name__", {}),
            R"(200 {"status":"success","data":["http_requests_total","up","weird"]})");
  EXPECT_EQ(values("job", {{"match[]", "up"}}), R"(200 {"status":"success","data":["api","db"]})");
  EXPECT_EQ(values("job", {{"match[]", "http_requests_total"}, {"match[]", "up{job=\"db\"}"}}),
            R"(200 {"status":"success","data":["api","db"]})");
  EXPECT_EQ(values("foo", {}), R"(200 {"status":"success","data":[]})");
  EXPECT_EQ(values("label", {}), R"(200 {"status":"success","data":["\u003c\u0026\u003e\"\n"]})");
  EXPECT_EQ(values("1a", {}), BadData(R"(invalid label name: \"1a\")"));
  EXPECT_EQ(values("a-b", {}), BadData(R"(invalid label name: \"a-b\")"));
  EXPECT_EQ(values("\xC3\xA9", {}), BadData("invalid label name: \\\"\xC3\xA9\\\""));
  EXPECT_EQ(values("a\"<", {}), BadData(R"(invalid label name: \"a\\\"\u003c\")"));
  EXPECT_EQ(values("job", {{"match[]", "up{"}}),
            BadData("1:4: parse error: unexpected end of input inside braces"));
  EXPECT_EQ(values("job", {{"end", "x"}}),
            BadData(R"(invalid parameter \"end\": Invalid time value for 'end': cannot parse )"
                    R"(\"x\" to a valid timestamp)"));
}

TEST_F(QueryApiTest, Metadata) {
  EXPECT_EQ(
      Answer(api_->Metadata(Req({}))),
      R"(200 {"status":"success","data":{)"
      R"("http_requests_total":[{"type":"counter","help":"Requests served.","unit":""}],)"
      R"("latency_seconds":[{"type":"histogram","help":"Latency \u003cms\u003e.","unit":"seconds"}],)"
      R"("odd":[{"type":"unknown","help":"","unit":""}],)"
      R"("up":[{"type":"gauge","help":"1 if the target is up.","unit":""}]}})");
  EXPECT_EQ(Answer(api_->Metadata(Req({{"metric", "up"}}))),
            R"(200 {"status":"success","data":{)"
            R"("up":[{"type":"gauge","help":"1 if the target is up.","unit":""}]}})");
  EXPECT_EQ(Answer(api_->Metadata(Req({{"metric", "nothing"}}))),
            R"(200 {"status":"success","data":{}})");
  EXPECT_EQ(Answer(api_->Metadata(Req({{"limit", "0"}}))), R"(200 {"status":"success","data":{}})");
  EXPECT_EQ(Answer(api_->Metadata(Req({{"limit", "1"}}))),
            R"(200 {"status":"success","data":{)"
            R"("http_requests_total":[{"type":"counter","help":"Requests served.","unit":""}]}})");
  EXPECT_THAT(Answer(api_->Metadata(Req({{"limit", "-1"}}))), HasSubstr("\"up\""));
  EXPECT_EQ(Answer(api_->Metadata(Req({{"limit", "x"}}))), BadData("limit must be a number"));
}

TEST_F(QueryApiTest, BuildInfoWithoutFeatures) {
  HttpResponse r = api_->BuildInfo(Req({}));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(ValidateJson(r.body).ok()) << r.body;
  EXPECT_THAT(r.body, ::testing::StartsWith(absl::StrCat(
                          R"({"status":"success","data":{"version":")", SEXTANT_VERSION,
                          R"(","revision":")", SEXTANT_REVISION, R"(","branch":)")));
  for (const char* field : {"\"buildUser\":", "\"buildDate\":", "\"goVersion\":"}) {
    EXPECT_THAT(r.body, HasSubstr(field));
  }
  EXPECT_THAT(r.body, Not(HasSubstr("features")));
}

TEST_F(QueryApiTest, ExemplarsRulesAlerts) {
  EXPECT_EQ(Answer(api_->QueryExemplars(Req({{"query", "up"}}))),
            R"(200 {"status":"success","data":[]})");
  HttpResponse none = api_->QueryExemplars(Req({{"query", "1"}}));
  EXPECT_EQ(none.status, 204);
  EXPECT_EQ(none.body, "");
  EXPECT_EQ(Answer(api_->QueryExemplars(Req({{"query", "up{"}}))),
            BadData("1:4: parse error: unexpected end of input inside braces"));
  EXPECT_EQ(Answer(api_->QueryExemplars(Req({{"query", "up"}, {"start", "5"}, {"end", "1"}}))),
            BadData("end timestamp must not be before start timestamp"));
  EXPECT_EQ(Answer(api_->QueryExemplars(Req({{"query", "up"}, {"start", "x"}}))),
            BadData(R"(invalid parameter \"start\": Invalid time value for 'start': cannot )"
                    R"(parse \"x\" to a valid timestamp)"));
  EXPECT_EQ(Answer(api_->Rules(Req({}))), R"(200 {"status":"success","data":{"groups":[]}})");
  EXPECT_EQ(Answer(api_->Rules(Req({{"type", "ALERT"}}))),
            R"(200 {"status":"success","data":{"groups":[]}})");
  EXPECT_EQ(Answer(api_->Rules(Req({{"type", "x"}}))),
            BadData(R"(invalid parameter \"type\": not supported value \"x\")"));
  EXPECT_EQ(Answer(api_->Alerts(Req({}))), R"(200 {"status":"success","data":{"alerts":[]}})");
}

TEST_F(QueryApiTest, FormatQuery) {
  EXPECT_EQ(Answer(api_->FormatQuery(Req({{"query", "sum(x)"}}))),
            R"j(200 {"status":"success","data":"sum(x)"})j");
  EXPECT_EQ(Answer(api_->FormatQuery(Req({{"query", "sum  by(job)(rate(x{a=\"<\"}[5m]))"}}))),
            R"j(200 {"status":"success","data":"sum by (job) (rate(x{a=\"\u003c\"}[5m]))"})j");
  EXPECT_EQ(Answer(api_->FormatQuery(Req({{"query", "sum(x"}}))),
            BadData(R"(invalid parameter \"query\": 1:6: parse error: unclosed left parenthesis)"));
  EXPECT_EQ(
      Answer(api_->FormatQuery(Req({}))),
      BadData(R"(invalid parameter \"query\": 1:1: parse error: no expression found in input)"));
}

// ---------------------------------------------------------------------------------------------
// Through a real server: routing, form POST, OPTIONS and CORS, self-metrics.

class QueryApiServerTest : public QueryApiTest {
 protected:
  void SetUp() override {
    QueryApiTest::SetUp();
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Create(HttpServerOptions{});
    ASSERT_TRUE(server.ok());
    server_ = *std::move(server);
    api_->Register(*server_);
    ASSERT_TRUE(server_->Start().ok());
    absl::StatusOr<std::unique_ptr<CurlHttpClient>> client =
        CurlHttpClient::Create(HttpClientOptions{});
    ASSERT_TRUE(client.ok());
    client_ = *std::move(client);
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
  }

  HttpClientResponse Send(std::string method, std::string path_and_query, std::string form = "",
                          std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpClientRequest req;
    req.method = std::move(method);
    req.url = absl::StrCat("http://", server_->address(), path_and_query);
    if (!form.empty() || req.method == "POST") {
      req.headers.Add("Content-Type", "application/x-www-form-urlencoded");
      req.body = std::move(form);
    }
    for (auto& [k, v] : headers) req.headers.Add(k, v);
    absl::StatusOr<HttpClientResponse> resp = client_->Send(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    return resp.ok() ? *std::move(resp) : HttpClientResponse{};
  }

  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<CurlHttpClient> client_;
};

std::string Answer(const HttpClientResponse& r) { return absl::StrCat(r.status, " ", r.body); }

TEST_F(QueryApiServerTest, GetAndFormPostGiveTheSameAnswers) {
  const std::string want =
      R"(200 {"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})";
  EXPECT_EQ(Answer(Send("GET", "/api/v1/query?query=1%2B1&time=4")), want);
  EXPECT_EQ(Answer(Send("POST", "/api/v1/query", "query=1%2B1&time=4")), want);
  // The body's value wins over the URL's, as Go's r.FormValue.
  EXPECT_EQ(Answer(Send("POST", "/api/v1/query?query=3&time=5", "query=1%2B1&time=4")), want);
  EXPECT_EQ(Answer(Send("POST", "/api/v1/query?query=1%2B1&time=4")), want);
  EXPECT_EQ(Answer(Send("POST", "/api/v1/series", "match%5B%5D=up&match%5B%5D=weird")),
            Answer(Send("GET", "/api/v1/series?match[]=up&match[]=weird")));
  EXPECT_EQ(Answer(Send("POST", "/api/v1/labels", "match[]=up")),
            R"(200 {"status":"success","data":["__name__","instance","job"]})");
  EXPECT_EQ(
      Answer(Send("POST", "/api/v1/query_range", "query=1&start=0&end=1&step=1")),
      R"(200 {"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[0,"1"],[1,"1"]]}]}})");
  EXPECT_EQ(Answer(Send("POST", "/api/v1/format_query", "query=sum(x)")),
            R"j(200 {"status":"success","data":"sum(x)"})j");
  EXPECT_EQ(Answer(Send("GET", "/api/v1/label/job/values")),
            R"(200 {"status":"success","data":["api","db"]})");
}

TEST_F(QueryApiServerTest, MethodsAsPrometheusRoutesThem) {
  EXPECT_EQ(Send("POST", "/api/v1/label/job/values").status, 405);
  EXPECT_EQ(Send("POST", "/api/v1/metadata").status, 405);
  EXPECT_EQ(Send("POST", "/api/v1/status/buildinfo").status, 405);
  EXPECT_EQ(Send("PUT", "/api/v1/query?query=1").status, 405);
  HttpClientResponse options = Send("OPTIONS", "/api/v1/query");
  EXPECT_EQ(options.status, 204);
  EXPECT_EQ(options.body, "");
  EXPECT_EQ(Send("GET", "/api/v1/nope").status, 404);
}

TEST_F(QueryApiServerTest, CorsHeadersWhenAnOriginIsSent) {
  HttpClientResponse r =
      Send("GET", "/api/v1/query?query=1&time=1", "", {{"Origin", "http://grafana.example"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(r.headers.Get("Access-Control-Allow-Methods"), "GET, POST, OPTIONS");
  EXPECT_EQ(r.headers.Get("Access-Control-Allow-Headers"),
            "Accept, Authorization, Content-Type, Origin");
  EXPECT_EQ(r.headers.Get("Access-Control-Expose-Headers"), "Date");
  HttpClientResponse plain = Send("GET", "/api/v1/query?query=1&time=1");
  EXPECT_FALSE(plain.headers.Has("Access-Control-Allow-Origin"));
  HttpClientResponse preflight =
      Send("OPTIONS", "/api/v1/query_range", "", {{"Origin", "http://grafana.example"}});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.headers.Get("Access-Control-Allow-Origin"), "*");
}

TEST_F(QueryApiServerTest, CountsRequestsByEndpoint) {
  Send("GET", "/api/v1/query?query=1");
  Send("GET", "/api/v1/query?query=1");
  Send("GET", "/api/v1/labels");
  const std::string text = prometheus::TextSerializer().Serialize(registry_.Collect());
  EXPECT_THAT(text, HasSubstr("sextant_query_requests_total{endpoint=\"query\"} 2"));
  EXPECT_THAT(text, HasSubstr("sextant_query_requests_total{endpoint=\"labels\"} 1"));
  EXPECT_THAT(text, HasSubstr("sextant_query_duration_seconds_count{endpoint=\"query\"} 2"));
}

}  // namespace
}  // namespace sextant::api
