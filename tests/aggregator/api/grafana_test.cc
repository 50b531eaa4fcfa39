// Replays what Grafana's stock Prometheus data source sends (its backend client in
// pkg/promlib: form-encoded POST for queries, GET for label values, metadata and build info)
// when the data source is added ("Save & test": the 1+1 health check, then build info to tell
// Prometheus from Mimir) and when a dashboard and its query editor are opened (metric browser,
// variables, panels), against a real server on loopback holding data written through the
// Appender. Each answer is checked as Grafana reads it.
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/api/query_api.h"
#include "aggregator/tsdb/db.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/util/test_util.h"

namespace sextant::api {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kStart = 1'700'000'000;  // seconds; the first sample
constexpr int kSamples = 241;              // one hour every 15 s
// The dashboard's time range: the last 50 minutes of the data, Grafana's "now" at its end.
constexpr int64_t kFrom = kStart + 600;
constexpr int64_t kTo = kStart + 3600;

class GrafanaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tsdb::DbOptions o;
    o.dir = dir_.Path("data");
    o.fsync = FsyncPolicy::kNever;
    absl::StatusOr<std::unique_ptr<tsdb::Db>> db = tsdb::Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    WriteData();

    QueryApiOptions options;
    options.clock = &clock_;
    api_ = std::make_unique<QueryApi>(*db_, options, registry_);
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Create(HttpServerOptions{});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    api_->Register(*server_);
    ASSERT_TRUE(server_->Start().ok());
    absl::StatusOr<std::unique_ptr<CurlHttpClient>> client =
        CurlHttpClient::Create(HttpClientOptions{});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
  }

  // node_exporter CPU counters (idle grows 1/s, user 0.1/s, per CPU), up, a classic histogram,
  // and the metadata remote_write carries.
  void WriteData() {
    tsdb::Appender app = db_->NewAppender();
    for (const char* cpu : {"0", "1"}) {
      Series(app,
             {{"__name__", "node_cpu_seconds_total"},
              {"cpu", cpu},
              {"instance", "n1:9100"},
              {"job", "node"},
              {"mode", "idle"}},
             [](int i) { return 15.0 * i; });
      Series(app,
             {{"__name__", "node_cpu_seconds_total"},
              {"cpu", cpu},
              {"instance", "n1:9100"},
              {"job", "node"},
              {"mode", "user"}},
             [](int i) { return 1.5 * i; });
    }
    Series(app, {{"__name__", "up"}, {"instance", "n1:9100"}, {"job", "node"}},
           [](int) { return 1.0; });
    Series(app, {{"__name__", "up"}, {"instance", "web:8080"}, {"job", "web"}},
           [](int) { return 0.0; });
    Series(app, Bucket("0.1"), [](int i) { return 5.0 * i; });
    Series(app, Bucket("0.5"), [](int i) { return 9.0 * i; });
    Series(app, Bucket("+Inf"), [](int i) { return 10.0 * i; });
    app.AddMetadata({"node_cpu_seconds_total", 1, "", "Seconds the CPUs spent in each mode."});
    app.AddMetadata({"up", 2, "", ""});
    app.AddMetadata({"http_request_duration_seconds", 3, "seconds", "Request latency."});
    absl::StatusOr<tsdb::CommitResult> c = app.Commit();
    ASSERT_TRUE(c.ok()) << c.status();
    ASSERT_EQ(c->appended, 9 * kSamples);
  }

  static prom::Labels Bucket(const char* le) {
    return prom::Labels{
        {"__name__", "http_request_duration_seconds_bucket"}, {"job", "web"}, {"le", le}};
  }

  static void Series(tsdb::Appender& app, prom::Labels labels, double (*value)(int)) {
    absl::StatusOr<tsdb::SeriesRef> ref = app.GetOrCreate(labels);
    ASSERT_TRUE(ref.ok()) << ref.status();
    for (int i = 0; i < kSamples; ++i) app.Add(*ref, (kStart + 15 * i) * 1000, value(i));
  }

  // Sends one request with the headers Grafana's backend sets. `form` non-empty (or method POST)
  // means a form-encoded body, as Grafana's client builds it (keys sorted, url.Values.Encode).
  HttpClientResponse Send(const std::string& method, const std::string& path_and_query,
                          const std::string& form = "") {
    HttpClientRequest req;
    req.method = method;
    req.url = absl::StrCat("http://", server_->address(), path_and_query);
    req.headers.Add("User-Agent", "Grafana/11.2.0");
    req.headers.Add("X-Grafana-Org-Id", "1");
    req.headers.Add("X-Dashboard-Uid", "node-overview");
    req.headers.Add("X-Panel-Id", "2");
    if (method == "POST") {
      req.headers.Add("Content-Type", "application/x-www-form-urlencoded");
      req.body = form;
    }
    absl::StatusOr<HttpClientResponse> resp = client_->Send(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    if (!resp.ok()) return HttpClientResponse{};
    EXPECT_EQ(resp->headers.Get("Content-Type"), "application/json") << path_and_query;
    return *std::move(resp);
  }

  // The `data` of a successful answer, parsed (fails the test otherwise).
  static rapidjson::Document Data(const HttpClientResponse& r) {
    rapidjson::Document doc;
    doc.Parse(r.body.c_str());
    EXPECT_FALSE(doc.HasParseError()) << r.body;
    EXPECT_EQ(r.status, 200) << r.body;
    if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("status")) {
      ADD_FAILURE() << "not an envelope: " << r.body;
      return rapidjson::Document();
    }
    EXPECT_STREQ(doc["status"].GetString(), "success") << r.body;
    EXPECT_FALSE(doc.HasMember("warnings")) << r.body;
    rapidjson::Document data;
    data.CopyFrom(doc["data"], data.GetAllocator());
    return data;
  }

  static std::vector<std::string> Strings(const rapidjson::Value& array) {
    std::vector<std::string> out;
    if (!array.IsArray()) return out;
    for (const rapidjson::Value& v : array.GetArray()) out.emplace_back(v.GetString());
    return out;
  }

  testing::TempDir dir_;
  SimulatedClock clock_{absl::FromUnixSeconds(kTo)};
  prometheus::Registry registry_;
  std::unique_ptr<tsdb::Db> db_;
  std::unique_ptr<QueryApi> api_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<CurlHttpClient> client_;
};

const std::string kRange = absl::StrCat("start=", kFrom, "&end=", kTo);

TEST_F(GrafanaTest, SaveAndTestHealthCheckAndBuildInfo) {
  // The health check: 1+1 as an instant query at time 4, form-encoded POST (Grafana's default
  // method); also GET, for data sources set to GET.
  const std::string want =
      R"({"status":"success","data":{"resultType":"scalar","result":[4,"2"]}})";
  HttpClientResponse post = Send("POST", "/api/v1/query", "query=1%2B1&time=4");
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.body, want);
  HttpClientResponse get = Send("GET", "/api/v1/query?query=1%2B1&time=4");
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, want);

  // Build info: Grafana calls a server without "features" Prometheus (not Mimir).
  HttpClientResponse info = Send("GET", "/api/v1/status/buildinfo");
  rapidjson::Document data = Data(info);
  ASSERT_TRUE(data.IsObject()) << info.body;
  for (const char* field :
       {"version", "revision", "branch", "buildUser", "buildDate", "goVersion"}) {
    ASSERT_TRUE(data.HasMember(field)) << field;
    EXPECT_TRUE(data[field].IsString()) << field;
  }
  EXPECT_FALSE(data.HasMember("features"));
  EXPECT_NE(std::string(data["version"].GetString()), "");
}

TEST_F(GrafanaTest, MetricBrowserAndQueryEditor) {
  // Label names, then metric names, for the dashboard's range (POST, as the data source's
  // resource calls go; label values are GET only).
  EXPECT_THAT(Strings(Data(Send("POST", "/api/v1/labels", kRange))),
              ElementsAre("__name__", "cpu", "instance", "job", "le", "mode"));
  EXPECT_THAT(Strings(Data(Send("GET", absl::StrCat("/api/v1/labels?", kRange)))),
              ElementsAre("__name__", "cpu", "instance", "job", "le", "mode"));
  EXPECT_THAT(Strings(Data(Send("GET", absl::StrCat("/api/v1/label/__name__/values?", kRange)))),
              ElementsAre("http_request_duration_seconds_bucket", "node_cpu_seconds_total", "up"));

  // Metadata for the metric picker's help texts.
  rapidjson::Document metadata = Data(Send("GET", "/api/v1/metadata"));
  ASSERT_TRUE(metadata.IsObject());
  ASSERT_TRUE(metadata.HasMember("node_cpu_seconds_total"));
  const rapidjson::Value& cpu = metadata["node_cpu_seconds_total"][0];
  EXPECT_STREQ(cpu["type"].GetString(), "counter");
  EXPECT_STREQ(cpu["help"].GetString(), "Seconds the CPUs spent in each mode.");
  EXPECT_STREQ(cpu["unit"].GetString(), "");
  EXPECT_STREQ(metadata["http_request_duration_seconds"][0]["type"].GetString(), "histogram");
  EXPECT_EQ(Send("GET", "/api/v1/metadata?metric=up").body,
            R"({"status":"success","data":{"up":[{"type":"gauge","help":"","unit":""}]}})");

  // Picking a metric: its series and label names, then one label's values under a filter.
  HttpClientResponse series =
      Send("POST", "/api/v1/series",
           absl::StrCat("end=", kTo, "&match%5B%5D=%7B__name__%3D%22up%22%7D&start=", kFrom));
  EXPECT_EQ(series.body,
            R"({"status":"success","data":[{"__name__":"up","instance":"n1:9100","job":"node"},)"
            R"({"__name__":"up","instance":"web:8080","job":"web"}]})");
  EXPECT_EQ(Send("GET", absl::StrCat("/api/v1/series?match%5B%5D=up&", kRange)).body, series.body);
  EXPECT_THAT(Strings(Data(Send("GET", absl::StrCat("/api/v1/labels?match%5B%5D="
                                                    "node_cpu_seconds_total&",
                                                    kRange)))),
              ElementsAre("__name__", "cpu", "instance", "job", "mode"));
  EXPECT_EQ(Send("GET", absl::StrCat("/api/v1/label/mode/values?match%5B%5D="
                                     "node_cpu_seconds_total%7Bcpu%3D%220%22%7D&",
                                     kRange))
                .body,
            R"({"status":"success","data":["idle","user"]})");

  // Dashboard variables: label_values(job) and label_values(up, instance).
  EXPECT_EQ(Send("GET", absl::StrCat("/api/v1/label/job/values?", kRange)).body,
            R"({"status":"success","data":["node","web"]})");
  EXPECT_EQ(Send("GET", absl::StrCat("/api/v1/label/instance/values?match%5B%5D=up&", kRange)).body,
            R"({"status":"success","data":["n1:9100","web:8080"]})");

  // A typo in the editor: Prometheus's parse error, which Grafana shows under the query.
  HttpClientResponse bad =
      Send("POST", "/api/v1/query_range",
           absl::StrCat("end=", kTo, "&query=sum%28&start=", kFrom, "&step=60"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(
      bad.body,
      R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unclosed left parenthesis"})");
}

TEST_F(GrafanaTest, DashboardPanels) {
  // A time series panel: sum by (mode) (rate(...[5m])), step 60, the range as Grafana formats
  // it (seconds, strconv.FormatFloat 'f' -1).
  HttpClientResponse cpu =
      Send("POST", "/api/v1/query_range",
           absl::StrCat("end=", kTo,
                        "&query=sum+by+%28mode%29+%28rate%28node_cpu_seconds_total%7Bjob%3D%22node"
                        "%22%7D%5B5m%5D%29%29&start=",
                        kFrom, "&step=60"));
  rapidjson::Document data = Data(cpu);
  ASSERT_TRUE(data.IsObject()) << cpu.body;
  EXPECT_STREQ(data["resultType"].GetString(), "matrix");
  const rapidjson::Value& result = data["result"];
  ASSERT_EQ(result.Size(), 2u) << cpu.body;
  const char* modes[] = {"idle", "user"};
  const char* values[] = {"2", "0.2"};
  for (rapidjson::SizeType s = 0; s < 2; ++s) {
    EXPECT_STREQ(result[s]["metric"]["mode"].GetString(), modes[s]);
    EXPECT_EQ(result[s]["metric"].MemberCount(), 1u);
    const rapidjson::Value& points = result[s]["values"];
    ASSERT_EQ(points.Size(), 51u);  // (3600 - 600) / 60 + 1
    for (rapidjson::SizeType i = 0; i < points.Size(); ++i) {
      EXPECT_EQ(points[i][0].GetInt64(), kFrom + 60 * static_cast<int64_t>(i));
      EXPECT_STREQ(points[i][1].GetString(), values[s]) << "point " << i;
    }
  }

  // A latency panel: histogram_quantile over bucket rates, at a fractional start and step.
  HttpClientResponse p99 = Send(
      "POST", "/api/v1/query_range",
      absl::StrCat("end=", kTo,
                   "&query=histogram_quantile%280.99%2C+sum+by+%28le%29+%28rate%28http_request_"
                   "duration_seconds_bucket%5B5m%5D%29%29%29&start=",
                   kFrom, ".5&step=0.5"));
  rapidjson::Document latency = Data(p99);
  ASSERT_TRUE(latency.IsObject()) << p99.body.substr(0, 300);
  ASSERT_EQ(latency["result"].Size(), 1u);
  const rapidjson::Value& lp = latency["result"][0]["values"];
  ASSERT_EQ(lp.Size(), 6000u);  // (3600 - 600.5) / 0.5 + 1
  EXPECT_DOUBLE_EQ(lp[0][0].GetDouble(), kFrom + 0.5);
  EXPECT_THAT(p99.body, HasSubstr(absl::StrCat("[", kFrom, ".500,\"0.5\"]")));
  EXPECT_THAT(p99.body, HasSubstr(absl::StrCat("[", kFrom + 1, ",\"0.5\"]")));

  // A table panel: an instant query at the range's end; a stat panel's scalar.
  EXPECT_EQ(
      Send("POST", "/api/v1/query", absl::StrCat("query=up&time=", kTo)).body,
      absl::StrCat(R"({"status":"success","data":{"resultType":"vector","result":[)",
                   R"({"metric":{"__name__":"up","instance":"n1:9100","job":"node"},"value":[)",
                   kTo, R"(,"1"]},{"metric":{"__name__":"up","instance":"web:8080","job":"web"},)",
                   R"("value":[)", kTo, R"(,"0"]}]}})"));
  EXPECT_EQ(
      Send("POST", "/api/v1/query", absl::StrCat("query=scalar%28sum%28up%29%29&time=", kTo)).body,
      absl::StrCat(R"({"status":"success","data":{"resultType":"scalar","result":[)", kTo,
                   R"(,"1"]}})"));

  // Exemplars, which Grafana asks for alongside range queries when enabled: none stored.
  EXPECT_EQ(
      Send("POST", "/api/v1/query_exemplars", absl::StrCat("end=", kTo, "&query=up&start=", kFrom))
          .body,
      R"({"status":"success","data":[]})");

  // The query inspector's "format query".
  EXPECT_EQ(Send("POST", "/api/v1/format_query", "query=sum%28rate%28x%5B5m%5D%29%29").body,
            R"j({"status":"success","data":"sum(rate(x[5m]))"})j");
  // Alerting's rule list when the data source manages alerts: empty until alerting exists.
  EXPECT_EQ(Send("GET", "/api/v1/rules").body, R"({"status":"success","data":{"groups":[]}})");
  EXPECT_EQ(Send("GET", "/api/v1/alerts").body, R"({"status":"success","data":{"alerts":[]}})");
}

TEST_F(GrafanaTest, PostOfAGetOnlyEndpointIs405SoGrafanaRetriesWithGet) {
  // Grafana's resource client retries with GET after a 405 (or 400) to a POST.
  HttpClientResponse post = Send("POST", "/api/v1/label/job/values", kRange);
  EXPECT_EQ(post.status, 405);
  EXPECT_THAT(post.body, Not(HasSubstr("\"success\"")));
}

}  // namespace
}  // namespace sextant::api
