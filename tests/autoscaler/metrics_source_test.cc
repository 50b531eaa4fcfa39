// MetricsSource over an in-memory QueryClient and over the embedded engine; ParseQueryResponse;
// HttpQueryClient against a loopback server answering as Prometheus does.
#include "autoscaler/metrics_source.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/promql/engine.h"
#include "aggregator/tsdb/chunk.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prom/labels.h"
#include "prom/matcher.h"

namespace sextant::autoscaler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::SizeIs;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

prom::Labels L(std::vector<prom::Label> labels) {
  absl::StatusOr<prom::Labels> l = prom::Labels::FromUnsorted(std::move(labels));
  EXPECT_TRUE(l.ok()) << l.status();
  return l.ok() ? *l : prom::Labels();
}

// Answers from a table; counts the queries it ran.
class TableQueryClient : public QueryClient {
 public:
  absl::StatusOr<std::vector<QuerySample>> Query(const std::string& query,
                                                 absl::Time time) override {
    absl::MutexLock lock(&mu_);
    asked_.emplace_back(query, time);
    auto it = answers_.find(query);
    if (it == answers_.end()) return std::vector<QuerySample>{};
    return it->second;
  }
  void Set(const std::string& query, absl::StatusOr<std::vector<QuerySample>> answer) {
    absl::MutexLock lock(&mu_);
    answers_[query] = std::move(answer);
  }
  std::vector<std::pair<std::string, absl::Time>> asked() const {
    absl::MutexLock lock(&mu_);
    return asked_;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, absl::StatusOr<std::vector<QuerySample>>> answers_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, absl::Time>> asked_ ABSL_GUARDED_BY(mu_);
};

hpa::PodInfo PodNamed(const std::string& name) {
  hpa::PodInfo p;
  p.name = name;
  p.phase = "Running";
  p.ready = true;
  return p;
}

MetricSpec PodsMetric(const std::string& name, const std::string& query) {
  MetricSpec m;
  m.type = MetricSpec::Type::kPods;
  m.name = name;
  m.query = query;
  m.target.type = MetricTarget::Type::kAverageValue;
  m.target.average_value_milli = 100'000;
  return m;
}

MetricSpec ExternalMetric(const std::string& name, const std::string& query) {
  MetricSpec m;
  m.type = MetricSpec::Type::kExternal;
  m.name = name;
  m.query = query;
  m.target.type = MetricTarget::Type::kValue;
  m.target.value_milli = 30'000;
  return m;
}

MetricSpec CpuMetric(const std::string& name, const std::string& container = "") {
  MetricSpec m;
  m.type = MetricSpec::Type::kResource;
  m.name = name;
  m.resource = "cpu";
  m.container = container;
  m.target.type = MetricTarget::Type::kUtilization;
  m.target.average_utilization = 70;
  return m;
}

ScalingPolicySpec SpecWith(std::vector<MetricSpec> metrics) {
  ScalingPolicySpec spec;
  spec.max_replicas = 10;
  spec.metrics = std::move(metrics);
  return spec;
}

// --- ParseQueryResponse ---

TEST(ParseQueryResponseTest, ReadsAVectorWithLabelsAndSpecialValues) {
  absl::StatusOr<std::vector<QuerySample>> r = ParseQueryResponse(R"({"status":"success","data":{
      "resultType":"vector","result":[
        {"metric":{"pod":"web-0","namespace":"default"},"value":[1700000000,"12.5"]},
        {"metric":{"pod":"web-1","namespace":"default"},"value":[1700000000.5,"NaN"]},
        {"metric":{},"value":[1700000000,"+Inf"]}]}})");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(*r, SizeIs(3));
  EXPECT_EQ((*r)[0].labels.Get("pod"), "web-0");
  EXPECT_EQ((*r)[0].labels.Get("namespace"), "default");
  EXPECT_EQ((*r)[0].value, 12.5);
  EXPECT_TRUE(std::isnan((*r)[1].value));
  EXPECT_TRUE(std::isinf((*r)[2].value));
  EXPECT_TRUE((*r)[2].labels.empty());
}

TEST(ParseQueryResponseTest, ReadsAScalarAsOneSampleWithoutLabels) {
  absl::StatusOr<std::vector<QuerySample>> r = ParseQueryResponse(
      R"({"status":"success","data":{"resultType":"scalar","result":[1700000000,"42"]}})");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(*r, SizeIs(1));
  EXPECT_TRUE((*r)[0].labels.empty());
  EXPECT_EQ((*r)[0].value, 42);
}

TEST(ParseQueryResponseTest, AnEmptyVectorIsNoSamples) {
  absl::StatusOr<std::vector<QuerySample>> r =
      ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(*r, IsEmpty());
}

TEST(ParseQueryResponseTest, ErrorEnvelopesKeepTheirMessage) {
  absl::StatusOr<std::vector<QuerySample>> bad = ParseQueryResponse(
      R"({"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected"})");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("parse error: unexpected"));
  absl::StatusOr<std::vector<QuerySample>> exec = ParseQueryResponse(
      R"({"status":"error","errorType":"execution","error":"query processing would load too many samples"})");
  EXPECT_EQ(exec.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(exec.status().message(), HasSubstr("too many samples"));
}

TEST(ParseQueryResponseTest, RejectsOtherResultTypesAndMalformedAnswers) {
  EXPECT_EQ(ParseQueryResponse(R"({"status":"success","data":{"resultType":"matrix","result":[]}})")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParseQueryResponse(R"({"status":"success","data":{"resultType":"string","result":[1,"x"]}})")
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  for (
      const char* body : {
          "not json",
          "[]",
          R"({"status":"success"})",
          R"({"status":"success","data":{"result":[]}})",
          R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"2"]}]}})",
          R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}})",
          R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"abc"]}]}})",
          R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"2"]}]}})",
      }) {
    EXPECT_EQ(ParseQueryResponse(body).status().code(), absl::StatusCode::kInternal) << body;
  }
}

// --- MetricsSource ---

TEST(MetricsSourceTest, PodsMetricKeepsTheTargetsPodsInItsNamespace) {
  TableQueryClient client;
  client.Set("rps", std::vector<QuerySample>{
                        {L({{"namespace", "web"}, {"pod", "web-0"}}), 150},
                        {L({{"namespace", "web"}, {"pod", "web-1"}}), 0.25},
                        {L({{"namespace", "web"}, {"pod", "other-0"}}), 999},  // not a target pod
                        {L({{"namespace", "db"}, {"pod", "web-0"}}), 777},     // other namespace
                        {L({{"namespace", "web"}}), 5},                        // no pod label
                    });
  MetricsSource source(client, {});
  source.BeginSync(kNow);
  std::vector<hpa::MetricInput> in = source.Read(SpecWith({PodsMetric("m0", "rps")}), "web",
                                                 {PodNamed("web-0"), PodNamed("web-1")});
  ASSERT_THAT(in, SizeIs(1));
  ASSERT_TRUE(in[0].status.ok()) << in[0].status;
  ASSERT_THAT(in[0].pods, SizeIs(2));
  EXPECT_EQ(in[0].pods.at("web-0").value_milli, 150'000);
  EXPECT_EQ(in[0].pods.at("web-0").timestamp, kNow);
  EXPECT_EQ(in[0].pods.at("web-0").window, absl::ZeroDuration());
  EXPECT_EQ(in[0].pods.at("web-1").value_milli, 250);
  ASSERT_THAT(client.asked(), SizeIs(1));
  EXPECT_EQ(client.asked()[0].second, kNow);
}

TEST(MetricsSourceTest, PodsMetricWithoutANamespaceLabelCountsForEveryNamespace) {
  TableQueryClient client;
  client.Set("rps", std::vector<QuerySample>{{L({{"pod", "web-0"}}), 3}});
  MetricsSource source(client, {});
  source.BeginSync(kNow);
  std::vector<hpa::MetricInput> in =
      source.Read(SpecWith({PodsMetric("m0", "rps")}), "web", {PodNamed("web-0")});
  ASSERT_TRUE(in[0].status.ok()) << in[0].status;
  EXPECT_EQ(in[0].pods.at("web-0").value_milli, 3000);
}

TEST(MetricsSourceTest, PodsMetricErrors) {
  TableQueryClient client;
  client.Set("dup", std::vector<QuerySample>{{L({{"pod", "web-0"}, {"code", "200"}}), 1},
                                             {L({{"pod", "web-0"}, {"code", "500"}}), 2}});
  client.Set("failing", absl::UnavailableError("store down"));
  client.Set("nan", std::vector<QuerySample>{{L({{"pod", "web-0"}}), std::nan("")}});
  MetricsSource source(client, {});
  source.BeginSync(kNow);
  std::vector<hpa::MetricInput> in =
      source.Read(SpecWith({PodsMetric("dup", "dup"), PodsMetric("none", "absent"),
                            PodsMetric("failing", "failing"), PodsMetric("nan", "nan")}),
                  "web", {PodNamed("web-0")});
  ASSERT_THAT(in, SizeIs(4));
  EXPECT_EQ(in[0].status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(in[0].status.message(), HasSubstr("more than one series for pod web-0"));
  EXPECT_THAT(in[0].pods, IsEmpty());
  // No series: an OK read without samples; the arithmetic says "no metrics returned".
  EXPECT_TRUE(in[1].status.ok());
  EXPECT_THAT(in[1].pods, IsEmpty());
  EXPECT_EQ(in[2].status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(in[2].status.message(), HasSubstr("store down"));
  EXPECT_TRUE(in[3].status.ok());  // NaN is no sample
  EXPECT_THAT(in[3].pods, IsEmpty());
}

TEST(MetricsSourceTest, OtherPodsDuplicateSeriesDoNotFailTheMetric) {
  TableQueryClient client;
  client.Set("rps", std::vector<QuerySample>{
                        {L({{"pod", "web-0"}}), 1},
                        {L({{"pod", "batch-0"}, {"path", "/a"}}), 2},
                        {L({{"pod", "batch-0"}, {"path", "/b"}}), 3},
                    });
  MetricsSource source(client, {});
  source.BeginSync(kNow);
  std::vector<hpa::MetricInput> in =
      source.Read(SpecWith({PodsMetric("m0", "rps")}), "web", {PodNamed("web-0")});
  ASSERT_TRUE(in[0].status.ok()) << in[0].status;
  ASSERT_THAT(in[0].pods, SizeIs(1));
  EXPECT_EQ(in[0].pods.at("web-0").value_milli, 1000);
}

TEST(MetricsSourceTest, ExternalMetricSumsEverySeries) {
  TableQueryClient client;
  client.Set("queue",
             std::vector<QuerySample>{{L({{"queue", "a"}}), 10}, {L({{"queue", "b"}}), 2.5}});
  client.Set("scalar", std::vector<QuerySample>{{prom::Labels(), 7}});
  client.Set("inf", std::vector<QuerySample>{{prom::Labels(), INFINITY}});
  MetricsSource source(client, {});
  source.BeginSync(kNow);
  std::vector<hpa::MetricInput> in =
      source.Read(SpecWith({ExternalMetric("q", "queue"), ExternalMetric("s", "scalar"),
                            ExternalMetric("e", "empty"), ExternalMetric("i", "inf")}),
                  "web", {});
  ASSERT_THAT(in, SizeIs(4));
  ASSERT_TRUE(in[0].status.ok()) << in[0].status;
  EXPECT_EQ(in[0].value_milli, 12'500);
  ASSERT_TRUE(in[1].status.ok()) << in[1].status;
  EXPECT_EQ(in[1].value_milli, 7'000);
  EXPECT_EQ(in[2].status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(in[2].status.message(), HasSubstr("returned no data"));
  EXPECT_EQ(in[3].status.code(), absl::StatusCode::kInvalidArgument);
}

TEST(MetricsSourceTest, ResourceQueryNamesTheCadvisorSeriesAndWindow) {
  TableQueryClient client;
  MetricsSourceOptions options;
  options.metric_window = absl::Seconds(60);
  MetricsSource source(client, options);
  EXPECT_EQ(source.ResourceQuery(CpuMetric("cpu")),
            "sum by (namespace, pod) (rate(container_cpu_usage_seconds_total"
            "{container!=\"\",container!=\"POD\"}[60s]))");
  EXPECT_EQ(source.ResourceQuery(CpuMetric("cpu", "app")),
            "sum by (namespace, pod) (rate(container_cpu_usage_seconds_total"
            "{container!=\"\",container!=\"POD\",container=\"app\"}[60s]))");
  MetricSpec memory = CpuMetric("mem");
  memory.resource = "memory";
  EXPECT_EQ(source.ResourceQuery(memory),
            "sum by (namespace, pod) (container_memory_working_set_bytes"
            "{container!=\"\",container!=\"POD\"})");
}

TEST(MetricsSourceTest, ResourceQueryRunsOncePerSyncForEveryPolicy) {
  TableQueryClient client;
  MetricsSource source(client, {});
  const std::string query = source.ResourceQuery(CpuMetric("cpu"));
  client.Set(query, std::vector<QuerySample>{
                        {L({{"namespace", "web"}, {"pod", "web-0"}}), 0.25},
                        {L({{"namespace", "api"}, {"pod", "api-0"}}), 0.5},
                    });
  source.BeginSync(kNow);
  std::vector<hpa::MetricInput> web =
      source.Read(SpecWith({CpuMetric("cpu")}), "web", {PodNamed("web-0")});
  std::vector<hpa::MetricInput> api =
      source.Read(SpecWith({CpuMetric("cpu")}), "api", {PodNamed("api-0")});
  ASSERT_TRUE(web[0].status.ok()) << web[0].status;
  ASSERT_TRUE(api[0].status.ok()) << api[0].status;
  EXPECT_THAT(web[0].pods, SizeIs(1));
  EXPECT_EQ(web[0].pods.at("web-0").value_milli, 250);
  EXPECT_EQ(web[0].pods.at("web-0").window, absl::Seconds(30));
  EXPECT_EQ(api[0].pods.at("api-0").value_milli, 500);
  EXPECT_THAT(client.asked(), SizeIs(1));
  // A new sync asks again, at its own time.
  source.BeginSync(kNow + absl::Seconds(15));
  source.Read(SpecWith({CpuMetric("cpu")}), "web", {PodNamed("web-0")});
  ASSERT_THAT(client.asked(), SizeIs(2));
  EXPECT_EQ(client.asked()[1].second, kNow + absl::Seconds(15));
  // No series in the namespace: an OK read without samples (the arithmetic's "no metrics
  // returned from resource metrics API").
  std::vector<hpa::MetricInput> none =
      source.Read(SpecWith({CpuMetric("cpu")}), "db", {PodNamed("db-0")});
  EXPECT_TRUE(none[0].status.ok());
  EXPECT_THAT(none[0].pods, IsEmpty());
}

// --- EngineQueryClient ---

// Serves series from memory in XOR chunks, as the TSDB would.
class MemQueryable : public promql::Queryable {
 public:
  void Add(prom::Labels labels, const std::vector<std::pair<int64_t, double>>& samples) {
    tsdb::SeriesChunks series;
    series.labels = std::move(labels);
    tsdb::XorChunk chunk;
    for (const auto& [t, v] : samples) EXPECT_TRUE(chunk.Append(t, v).ok());
    auto bytes = std::make_shared<std::string>(chunk.bytes());
    tsdb::ChunkView view;
    view.min_time = chunk.min_time();
    view.max_time = chunk.max_time();
    view.bytes = *bytes;
    view.owner = bytes;
    series.chunks.push_back(std::move(view));
    series_.push_back(std::move(series));
    std::sort(series_.begin(), series_.end(),
              [](const auto& a, const auto& b) { return a.labels < b.labels; });
  }
  absl::StatusOr<std::vector<tsdb::SeriesChunks>> Select(const std::vector<prom::Matcher>& matchers,
                                                         int64_t mint,
                                                         int64_t maxt) const override {
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

 private:
  std::vector<tsdb::SeriesChunks> series_;
};

class EngineQueryClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Two pods' CPU counters growing 0.25 and 0.5 core-seconds per second, every 5 s for 2 min;
    // the pause container's series, which the Resource query leaves out.
    const int64_t end = absl::ToUnixMillis(kNow);
    for (const auto& [pod, rate] : {std::pair<std::string, double>{"web-0", 0.25},
                                    std::pair<std::string, double>{"web-1", 0.5}}) {
      std::vector<std::pair<int64_t, double>> samples;
      for (int64_t t = end - 120'000; t <= end; t += 5'000) {
        samples.emplace_back(t, rate * static_cast<double>(t - (end - 120'000)) / 1000);
      }
      storage_.Add(L({{"__name__", "container_cpu_usage_seconds_total"},
                      {"namespace", "web"},
                      {"pod", pod},
                      {"container", "app"}}),
                   samples);
      storage_.Add(L({{"__name__", "container_cpu_usage_seconds_total"},
                      {"namespace", "web"},
                      {"pod", pod},
                      {"container", "POD"}}),
                   samples);
    }
    storage_.Add(L({{"__name__", "queue_depth"}, {"queue", "jobs"}}), {{end - 10'000, 42}});
  }

  MemQueryable storage_;
  promql::Engine engine_{storage_, promql::EngineOptions{}};
  EngineQueryClient client_{engine_};
};

TEST_F(EngineQueryClientTest, AnswersVectorsAndScalars) {
  absl::StatusOr<std::vector<QuerySample>> v = client_.Query("queue_depth", kNow);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_THAT(*v, SizeIs(1));
  EXPECT_EQ(v->at(0).value, 42);
  EXPECT_EQ(v->at(0).labels.Get("queue"), "jobs");
  absl::StatusOr<std::vector<QuerySample>> s = client_.Query("scalar(queue_depth) * 2", kNow);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_THAT(*s, SizeIs(1));
  EXPECT_EQ(s->at(0).value, 84);
  EXPECT_TRUE(s->at(0).labels.empty());
  // Before the sample, nothing.
  absl::StatusOr<std::vector<QuerySample>> early =
      client_.Query("queue_depth", kNow - absl::Minutes(10));
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_THAT(*early, IsEmpty());
}

TEST_F(EngineQueryClientTest, RejectsBadQueriesAndStringAnswers) {
  EXPECT_EQ(client_.Query("sum(", kNow).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_.Query(R"("text")", kNow).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_.Query("queue_depth[5m]", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(EngineQueryClientTest, ResourceMetricReadsTheContainerCpuRates) {
  MetricsSource source(client_, {});
  source.BeginSync(kNow);
  std::vector<hpa::MetricInput> in =
      source.Read(SpecWith({CpuMetric("cpu")}), "web", {PodNamed("web-0"), PodNamed("web-1")});
  ASSERT_THAT(in, SizeIs(1));
  ASSERT_TRUE(in[0].status.ok()) << in[0].status;
  ASSERT_THAT(in[0].pods, SizeIs(2));
  EXPECT_EQ(in[0].pods.at("web-0").value_milli, 250);
  EXPECT_EQ(in[0].pods.at("web-1").value_milli, 500);
}

// --- HttpQueryClient ---

class HttpQueryClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions opts;
    opts.listen = "127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Create(opts);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    server_->Handle("GET", "/prom/api/v1/query", [this](const HttpRequest& r) {
      absl::MutexLock lock(&mu_);
      queries_.emplace_back(r.params.Get("query"), r.params.Get("time"));
      return HttpResponse::Json(status_, body_);
    });
    ASSERT_TRUE(server_->Start().ok());
    HttpClientOptions http_opts;
    http_opts.retry.max_attempts = 1;
    absl::StatusOr<std::unique_ptr<CurlHttpClient>> http = CurlHttpClient::Create(http_opts);
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = *std::move(http);
    client_ = std::make_unique<HttpQueryClient>(
        *http_, absl::StrCat("http://127.0.0.1:", server_->port(), "/prom/"));
  }
  void TearDown() override { server_->Stop(); }

  void Answer(int status, std::string body) {
    absl::MutexLock lock(&mu_);
    status_ = status;
    body_ = std::move(body);
  }

  absl::Mutex mu_;
  int status_ ABSL_GUARDED_BY(mu_) = 200;
  std::string body_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, std::string>> queries_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<HttpQueryClient> client_;
};

TEST_F(HttpQueryClientTest, SendsTheQueryAndTimeAndParsesTheVector) {
  Answer(200, R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"__name__":"rps","pod":"web-0"},"value":[1700000000.5,"3.5"]}]}})");
  const std::string query =
      R"(sum by (pod) (rate(http_requests_total{app="web",code=~"5.."}[1m])))";
  absl::StatusOr<std::vector<QuerySample>> r =
      client_->Query(query, kNow + absl::Milliseconds(500));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_THAT(*r, SizeIs(1));
  EXPECT_EQ(r->at(0).labels.Get("pod"), "web-0");
  EXPECT_EQ(r->at(0).labels.MetricName(), "rps");
  EXPECT_EQ(r->at(0).value, 3.5);
  absl::MutexLock lock(&mu_);
  EXPECT_THAT(queries_, ElementsAre(Pair(query, "1700000000.5")));
}

TEST_F(HttpQueryClientTest, MapsErrorAnswers) {
  Answer(400, R"({"status":"error","errorType":"bad_data","error":"parse error"})");
  absl::StatusOr<std::vector<QuerySample>> bad = client_->Query("sum(", kNow);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("parse error"));

  Answer(422, R"({"status":"error","errorType":"execution","error":"too many samples"})");
  EXPECT_EQ(client_->Query("up", kNow).status().code(), absl::StatusCode::kFailedPrecondition);

  Answer(503, R"({"status":"error","errorType":"timeout","error":"query timed out"})");
  absl::StatusOr<std::vector<QuerySample>> busy = client_->Query("up", kNow);
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(busy.status().message(), HasSubstr("HTTP 503"));
  EXPECT_THAT(busy.status().message(), HasSubstr("query timed out"));

  Answer(429, "slow down");
  EXPECT_EQ(client_->Query("up", kNow).status().code(), absl::StatusCode::kUnavailable);

  // Something that is not Prometheus: the message says what answered.
  Answer(404, "404 page not found");
  absl::StatusOr<std::vector<QuerySample>> missing = client_->Query("up", kNow);
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("HTTP 404"));
}

TEST_F(HttpQueryClientTest, UnreachableStoreIsUnavailable) {
  const int port = server_->port();
  server_->Stop();
  HttpQueryClient client(*http_, absl::StrCat("http://127.0.0.1:", port));
  absl::StatusOr<std::vector<QuerySample>> r = client.Query("up", kNow);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("query http://127.0.0.1:"));
}

}  // namespace
}  // namespace sextant::autoscaler
