#include "cmd/sextant/autoscaler.h"

#include "aggregator/tsdb/db.h"
#include "common/http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sextant::cmd {
namespace {

TEST(ControllerOptionsFromConfigTest, MapsTheAutoscalerSection) {
  AutoscalerConfig config;
  config.sync_interval = absl::Seconds(2);
  config.dry_run = true;
  config.watch_namespaces = {"a", "b"};
  autoscaler::ControllerOptions o = ControllerOptionsFromConfig(config);
  EXPECT_EQ(o.sync_interval, absl::Seconds(2));
  EXPECT_TRUE(o.dry_run);
  EXPECT_EQ(o.watch_namespaces, (std::vector<std::string>{"a", "b"}));
  // The HPA's controller-wide defaults.
  EXPECT_EQ(o.hpa.tolerance, 0.1);
  EXPECT_EQ(o.hpa.downscale_stabilization, absl::Minutes(5));
  // The cpu rate window: 30 s over the collector's data, 2 m over a remote Prometheus.
  EXPECT_EQ(o.metrics.metric_window, absl::Seconds(30));
  config.query_url = "http://prometheus:9090";
  EXPECT_EQ(ControllerOptionsFromConfig(config).metrics.metric_window, absl::Minutes(2));
}

TEST(AutoscalerPieceTest, RefusesAQueryUrlWithoutScheme) {
  testing::TempDir dir;
  tsdb::DbOptions db_options;
  db_options.dir = dir.path() + "/data";
  absl::StatusOr<std::unique_ptr<tsdb::Db>> db = tsdb::Db::Open(db_options);
  ASSERT_TRUE(db.ok()) << db.status();
  SelfMetrics metrics("server");
  Config config;
  config.autoscaler.query_url = "prometheus:9090";
  kube::ClusterConfig cluster;
  cluster.server = "https://127.0.0.1:1";
  absl::StatusOr<std::unique_ptr<AutoscalerPiece>> piece =
      AutoscalerPiece::Create(config, cluster, **db, metrics);
  EXPECT_EQ(piece.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(piece.status().message(), ::testing::HasSubstr("autoscaler.queryURL"));
}

// Without a cluster the autoscaler has nothing to act on, yet /api/v1/scaling answers.
TEST(AutoscalerPieceTest, IdleWithoutAClusterAndServesAnEmptyList) {
  testing::TempDir dir;
  tsdb::DbOptions db_options;
  db_options.dir = dir.path() + "/data";
  absl::StatusOr<std::unique_ptr<tsdb::Db>> db = tsdb::Db::Open(db_options);
  ASSERT_TRUE(db.ok()) << db.status();
  SelfMetrics metrics("server");
  Config config;
  config.autoscaler.policy_files = {dir.path() + "/missing.yaml"};
  absl::StatusOr<std::unique_ptr<AutoscalerPiece>> piece =
      AutoscalerPiece::Create(config, std::nullopt, **db, metrics);
  ASSERT_TRUE(piece.ok()) << piece.status();
  EXPECT_EQ((*piece)->controller(), nullptr);

  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Create(HttpServerOptions{});
  ASSERT_TRUE(server.ok());
  (*piece)->Register(**server);
  ASSERT_TRUE((*server)->Start().ok());
  (*piece)->Start();
  auto client = CurlHttpClient::Create(HttpClientOptions{});
  ASSERT_TRUE(client.ok());
  HttpClientRequest request;
  request.url = "http://" + (*server)->address() + "/api/v1/scaling";
  absl::StatusOr<HttpClientResponse> r = (*client)->Send(request);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"status":"success","data":{"policies":[]}})");
  (*piece)->Stop();
  (*server)->Stop();
}

}  // namespace
}  // namespace sextant::cmd
