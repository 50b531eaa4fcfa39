#include "cmd/sextant/local.h"

#include "common/http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sextant::cmd {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<HttpClientResponse> Get(HttpClient& client, const std::string& addr,
                                       const std::string& path) {
  HttpClientRequest req;
  req.url = "http://" + addr + path;
  return client.Send(req);
}

TEST(LoopbackIfNoHostTest, EmptyHostBecomesLoopback) {
  EXPECT_EQ(LoopbackIfNoHost(":9190"), "127.0.0.1:9190");
  EXPECT_EQ(LoopbackIfNoHost("0.0.0.0:9190"), "0.0.0.0:9190");
  EXPECT_EQ(LoopbackIfNoHost("127.0.0.1:0"), "127.0.0.1:0");
}

TEST(LocalRoleTest, ServesHealthReadinessAndMetricsOnBothListeners) {
  testing::TempDir dir;
  Config config;
  config.server.data_dir = dir.path() + "/data";
  config.server.listen = "127.0.0.1:0";
  config.collector.listen = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<LocalRole>> role = LocalRole::Create(config);
  ASSERT_TRUE(role.ok()) << role.status();
  ASSERT_TRUE((*role)->Start().ok());
  auto client = CurlHttpClient::Create(HttpClientOptions{});
  ASSERT_TRUE(client.ok());
  for (const std::string& addr : {(*role)->server_address(), (*role)->collector_address()}) {
    absl::StatusOr<HttpClientResponse> ready = Get(**client, addr, "/-/ready");
    ASSERT_TRUE(ready.ok()) << ready.status();
    EXPECT_EQ(ready->status, 200);
    EXPECT_EQ(ready->body, "Sextant is Ready.\n");
    absl::StatusOr<HttpClientResponse> healthy = Get(**client, addr, "/-/healthy");
    ASSERT_TRUE(healthy.ok());
    EXPECT_EQ(healthy->status, 200);
    absl::StatusOr<HttpClientResponse> metrics = Get(**client, addr, "/metrics");
    ASSERT_TRUE(metrics.ok());
    EXPECT_EQ(metrics->status, 200);
    EXPECT_EQ(metrics->headers.Get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_THAT(metrics->body, HasSubstr("role=\"local\""));
  }
  // The server listener counts its requests per route.
  absl::StatusOr<HttpClientResponse> metrics = Get(**client, (*role)->server_address(), "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(metrics->body, HasSubstr("handler=\"/-/ready\""));
  (*role)->Stop();
  EXPECT_FALSE(Get(**client, (*role)->server_address(), "/-/ready").ok());
}

TEST(LocalRoleTest, BusyPortFailsStartWithTheAddress) {
  testing::TempDir dir;
  Config config;
  config.server.data_dir = dir.path() + "/data";
  config.server.listen = "127.0.0.1:0";
  config.collector.listen = "127.0.0.1:0";
  auto first = LocalRole::Create(config);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Start().ok());
  Config clash = config;
  clash.server.data_dir = dir.path() + "/data2";
  clash.collector.listen = (*first)->server_address();
  auto second = LocalRole::Create(clash);
  ASSERT_TRUE(second.ok());
  absl::Status s = (*second)->Start();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("collector listener: "));
  EXPECT_THAT(s.message(), HasSubstr((*first)->server_address()));
  (*first)->Stop();
}

}  // namespace
}  // namespace sextant::cmd
