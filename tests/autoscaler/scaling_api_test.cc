// GET /api/v1/scaling: the JSON of the controller's reports, and the route on a loopback server.
#include "autoscaler/scaling_api.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"

namespace sextant::autoscaler {
namespace {

using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);  // 2023-11-14T22:13:20Z

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return doc;
}

PolicyReport WebReport() {
  PolicyReport r;
  r.namespace_name = "default";
  r.name = "web";
  r.source = "api";
  r.target = {"apps/v1", "Deployment", "default", "web"};
  r.min_replicas = 1;
  r.max_replicas = 10;
  r.current_replicas = 2;
  r.desired_replicas = 3;
  r.last_decision_time = kNow + absl::Microseconds(250'000);
  r.last_reason = "cpu resource utilization (percentage of request) above target";
  r.last_code = "scale_up";
  r.last_scale_time = kNow;
  MetricSpec cpu;
  cpu.type = MetricSpec::Type::kResource;
  cpu.name = "m0";
  cpu.resource = "cpu";
  cpu.target.type = MetricTarget::Type::kUtilization;
  cpu.target.average_utilization = 70;
  MetricSpec rps;
  rps.type = MetricSpec::Type::kPods;
  rps.name = "rps";
  rps.query = R"(rate(http_requests_total{app="web"}[1m]))";
  rps.target.type = MetricTarget::Type::kAverageValue;
  rps.target.average_value_milli = 100'500;
  MetricSpec queue;
  queue.type = MetricSpec::Type::kExternal;
  queue.name = "queue";
  queue.query = "sum(queue_depth)";
  queue.target.type = MetricTarget::Type::kValue;
  queue.target.value_milli = 30'000;
  r.metric_specs = {cpu, rps, queue};
  MetricStatus cpu_now;
  cpu_now.name = "m0";
  cpu_now.type = MetricSpec::Type::kResource;
  cpu_now.resource = "cpu";
  cpu_now.average_utilization = 85;
  cpu_now.average_value_milli = 425;
  MetricStatus rps_now;
  rps_now.name = "rps";
  rps_now.type = MetricSpec::Type::kPods;
  rps_now.average_value_milli = 250;
  r.metrics = {cpu_now, rps_now};  // the queue could not be read
  r.conditions = {{"AbleToScale", "True", "SucceededRescale",
                   "the HPA controller was able to update the target scale to 3", kNow},
                  {"ScalingActive", "True", "ValidMetricFound", "the HPA was able to ...",
                   kNow - absl::Minutes(5)}};
  return r;
}

TEST(ScalingReportJsonTest, EmptyListInThePrometheusEnvelope) {
  EXPECT_EQ(ScalingReportJson({}), R"({"status":"success","data":{"policies":[]}})");
}

TEST(ScalingReportJsonTest, WritesEveryFieldOfAPolicy) {
  rapidjson::Document doc = Parse(ScalingReportJson({WebReport()}));
  ASSERT_TRUE(doc.IsObject());
  EXPECT_STREQ(doc["status"].GetString(), "success");
  const rapidjson::Value& policies = doc["data"]["policies"];
  ASSERT_TRUE(policies.IsArray());
  ASSERT_EQ(policies.Size(), 1u);
  const rapidjson::Value& p = policies[0];
  EXPECT_STREQ(p["namespace"].GetString(), "default");
  EXPECT_STREQ(p["name"].GetString(), "web");
  EXPECT_STREQ(p["source"].GetString(), "api");
  EXPECT_STREQ(p["target"]["apiVersion"].GetString(), "apps/v1");
  EXPECT_STREQ(p["target"]["kind"].GetString(), "Deployment");
  EXPECT_STREQ(p["target"]["name"].GetString(), "web");
  EXPECT_EQ(p["minReplicas"].GetInt(), 1);
  EXPECT_EQ(p["maxReplicas"].GetInt(), 10);
  EXPECT_FALSE(p["paused"].GetBool());
  EXPECT_EQ(p["currentReplicas"].GetInt(), 2);
  EXPECT_EQ(p["desiredReplicas"].GetInt(), 3);
  EXPECT_STREQ(p["lastDecision"]["time"].GetString(), "2023-11-14T22:13:20.250000Z");
  EXPECT_STREQ(p["lastDecision"]["reason"].GetString(),
               "cpu resource utilization (percentage of request) above target");
  EXPECT_STREQ(p["lastDecision"]["code"].GetString(), "scale_up");
  EXPECT_STREQ(p["lastScaleTime"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_STREQ(p["error"].GetString(), "");

  const rapidjson::Value& m = p["metrics"];
  ASSERT_TRUE(m.IsArray());
  ASSERT_EQ(m.Size(), 3u);
  EXPECT_STREQ(m[0]["name"].GetString(), "m0");
  EXPECT_STREQ(m[0]["type"].GetString(), "Resource");
  EXPECT_STREQ(m[0]["resource"].GetString(), "cpu");
  EXPECT_FALSE(m[0].HasMember("query"));
  EXPECT_STREQ(m[0]["target"].GetString(), "70%");
  EXPECT_STREQ(m[0]["current"].GetString(), "85%");
  EXPECT_STREQ(m[1]["type"].GetString(), "Pods");
  EXPECT_STREQ(m[1]["query"].GetString(), R"(rate(http_requests_total{app="web"}[1m]))");
  EXPECT_FALSE(m[1].HasMember("resource"));
  EXPECT_STREQ(m[1]["target"].GetString(), "100500m");
  EXPECT_STREQ(m[1]["current"].GetString(), "250m");
  EXPECT_STREQ(m[2]["type"].GetString(), "External");
  EXPECT_STREQ(m[2]["target"].GetString(), "30");
  EXPECT_TRUE(m[2]["current"].IsNull());

  const rapidjson::Value& c = p["conditions"];
  ASSERT_TRUE(c.IsArray());
  ASSERT_EQ(c.Size(), 2u);
  EXPECT_STREQ(c[0]["type"].GetString(), "AbleToScale");
  EXPECT_STREQ(c[0]["status"].GetString(), "True");
  EXPECT_STREQ(c[0]["reason"].GetString(), "SucceededRescale");
  EXPECT_STREQ(c[0]["message"].GetString(),
               "the HPA controller was able to update the target scale to 3");
  EXPECT_STREQ(c[0]["lastTransitionTime"].GetString(), "2023-11-14T22:13:20Z");
  EXPECT_STREQ(c[1]["lastTransitionTime"].GetString(), "2023-11-14T22:08:20Z");
}

TEST(ScalingReportJsonTest, PolicyNeverDecidedHasNullTimesAndItsError) {
  PolicyReport r;
  r.namespace_name = "ops";
  r.name = "bad \"one\"";
  r.source = "/etc/sextant/policies/bad.yaml";
  r.paused = true;
  r.error = "invalid policy: spec.maxReplicas: must be >= 1";
  rapidjson::Document doc = Parse(ScalingReportJson({WebReport(), r}));
  const rapidjson::Value& policies = doc["data"]["policies"];
  ASSERT_EQ(policies.Size(), 2u);
  const rapidjson::Value& p = policies[1];
  EXPECT_STREQ(p["name"].GetString(), "bad \"one\"");
  EXPECT_STREQ(p["source"].GetString(), "/etc/sextant/policies/bad.yaml");
  EXPECT_TRUE(p["paused"].GetBool());
  EXPECT_TRUE(p["lastDecision"].IsNull());
  EXPECT_TRUE(p["lastScaleTime"].IsNull());
  EXPECT_STREQ(p["error"].GetString(), "invalid policy: spec.maxReplicas: must be >= 1");
  EXPECT_EQ(p["metrics"].Size(), 0u);
  EXPECT_EQ(p["conditions"].Size(), 0u);
}

class ScalingApiTest : public ::testing::Test {
 protected:
  void Serve(std::function<std::vector<PolicyReport>()> report) {
    HttpServerOptions opts;
    opts.listen = "127.0.0.1:0";
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Create(opts);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    RegisterScalingApi(*server_, std::move(report));
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
  }
  HttpClientResponse Get(const std::string& path) {
    HttpClientOptions opts;
    opts.retry.max_attempts = 1;
    absl::StatusOr<std::unique_ptr<CurlHttpClient>> http = CurlHttpClient::Create(opts);
    EXPECT_TRUE(http.ok()) << http.status();
    HttpClientRequest request;
    request.url = absl::StrCat("http://127.0.0.1:", server_->port(), path);
    absl::StatusOr<HttpClientResponse> response = (*http)->Send(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : HttpClientResponse{};
  }

  std::unique_ptr<HttpServer> server_;
};

TEST_F(ScalingApiTest, ServesTheCurrentReportAsJson) {
  std::atomic<int> calls{0};
  Serve([&calls] {
    ++calls;
    return std::vector<PolicyReport>{WebReport()};
  });
  HttpClientResponse r = Get("/api/v1/scaling");
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(std::string(r.headers.Get("content-type")), HasSubstr("application/json"));
  EXPECT_EQ(r.body, ScalingReportJson({WebReport()}));
  Get("/api/v1/scaling");
  EXPECT_EQ(calls.load(), 2);  // asked afresh each time
}

TEST_F(ScalingApiTest, WithoutAControllerTheListIsEmpty) {
  Serve(nullptr);
  HttpClientResponse r = Get("/api/v1/scaling");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"success","data":{"policies":[]}})");
}

}  // namespace
}  // namespace sextant::autoscaler
