#include "common/self_metrics.h"

#include <filesystem>

#include "common/http_client.h"
#include "common/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "tests/util/test_util.h"

namespace sextant {
namespace {

using ::testing::HasSubstr;

const prometheus::MetricFamily* Find(const std::vector<prometheus::MetricFamily>& fams,
                                     const std::string& name) {
  for (const auto& f : fams) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(ProcessCollectorTest, ReadsStatFromProcRoot) {
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Path("self/fd"));
  for (const char* fd : {"0", "1", "2"}) dir.WriteFile(std::string("self/fd/") + fd, "");
  // pid (comm with ') ' inside) state ppid ... : utime=300 stime=100 ticks, starttime=1000
  // ticks, vsize=4096000, rss=250 pages.
  dir.WriteFile("self/stat",
                "42 (we) ird) S 1 42 42 0 -1 4194560 100 0 0 0 300 100 0 0 20 0 4 0 1000 "
                "4096000 250 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n");
  dir.WriteFile("stat", "cpu  1 2 3\nbtime 1700000000\nprocesses 5\n");
  auto fams = NewProcessCollector(dir.path())->Collect();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  ASSERT_NE(Find(fams, "process_cpu_seconds_total"), nullptr);
  EXPECT_DOUBLE_EQ(Find(fams, "process_cpu_seconds_total")->metric[0].counter.value, 400 / ticks);
  EXPECT_DOUBLE_EQ(Find(fams, "process_virtual_memory_bytes")->metric[0].gauge.value, 4096000);
  EXPECT_DOUBLE_EQ(Find(fams, "process_resident_memory_bytes")->metric[0].gauge.value,
                   250.0 * static_cast<double>(sysconf(_SC_PAGESIZE)));
  EXPECT_DOUBLE_EQ(Find(fams, "process_start_time_seconds")->metric[0].gauge.value,
                   1700000000 + 1000 / ticks);
  EXPECT_DOUBLE_EQ(Find(fams, "process_open_fds")->metric[0].gauge.value, 3);
  EXPECT_NE(Find(fams, "process_max_fds"), nullptr);
}

TEST(ProcessCollectorTest, MissingProcFilesGiveNoFamiliesNotACrash) {
  testing::TempDir dir;
  auto fams = NewProcessCollector(dir.path())->Collect();
  EXPECT_EQ(Find(fams, "process_cpu_seconds_total"), nullptr);
  EXPECT_EQ(Find(fams, "process_open_fds"), nullptr);
}

TEST(SelfMetricsTest, RendersBuildInfoProcessAndRegisteredMetrics) {
  SelfMetrics metrics("server");
  auto& c = prometheus::BuildCounter()
                .Name("sextant_test_events_total")
                .Help("Events seen by the test.")
                .Register(metrics.registry())
                .Add({{"kind", "a"}});
  c.Increment(3);
  std::string text = metrics.RenderText();
  EXPECT_THAT(text, HasSubstr("# TYPE sextant_build_info gauge"));
  EXPECT_THAT(text, HasSubstr("role=\"server\""));
  EXPECT_THAT(text, HasSubstr("sextant_test_events_total{kind=\"a\"} 3"));
  EXPECT_THAT(text, HasSubstr("# TYPE process_cpu_seconds_total counter"));
  EXPECT_THAT(text, HasSubstr("process_resident_memory_bytes "));
}

TEST(SelfMetricsTest, AddedCollectablesAreServedWhileAlive) {
  SelfMetrics metrics("local");
  auto extra = std::make_shared<prometheus::Registry>();
  prometheus::BuildGauge().Name("sextant_extra").Help("x").Register(*extra).Add({}).Set(7);
  metrics.AddCollectable(extra);
  EXPECT_THAT(metrics.RenderText(), HasSubstr("sextant_extra 7"));
  extra.reset();
  EXPECT_THAT(metrics.RenderText(), ::testing::Not(HasSubstr("sextant_extra")));
}

TEST(SelfMetricsTest, ACollectableWithItsOwnTextIsRenderedByIt) {
  SelfMetrics metrics("collector");
  auto extra = std::make_shared<prometheus::Registry>();
  prometheus::BuildGauge().Name("sextant_extra").Help("x").Register(*extra).Add({}).Set(7);
  int renders = 0;
  metrics.AddCollectable(extra, [&renders] {
    ++renders;
    return std::string("# HELP sextant_extra x\n# TYPE sextant_extra gauge\nsextant_extra 7\n");
  });
  const std::string text = metrics.RenderText();
  EXPECT_EQ(renders, 1);
  EXPECT_THAT(text, HasSubstr("\nsextant_extra 7\n"));
  EXPECT_EQ(text.find("# HELP sextant_extra"), text.rfind("# HELP sextant_extra"));  // once
  EXPECT_THAT(text, HasSubstr("process_resident_memory_bytes "));
  // Collect() still has the collectable's families.
  bool found = false;
  for (const auto& f : metrics.Collect()) found = found || f.name == "sextant_extra";
  EXPECT_TRUE(found);
  extra.reset();
  EXPECT_THAT(metrics.RenderText(), ::testing::Not(HasSubstr("sextant_extra")));
  EXPECT_EQ(renders, 1);
}

}  // namespace
}  // namespace sextant

namespace sextant {
namespace {

TEST(AdminRoutesTest, ReadyFollowsReadinessHealthyAlwaysAndHeadWorks) {
  SelfMetrics metrics("server");
  Readiness readiness;
  auto server = HttpServer::Create(HttpServerOptions{});
  ASSERT_TRUE(server.ok());
  AddAdminRoutes(**server, metrics, readiness);
  ASSERT_TRUE((*server)->Start().ok());
  auto client = CurlHttpClient::Create(HttpClientOptions{});
  ASSERT_TRUE(client.ok());
  auto send = [&](const char* method, const char* path) {
    HttpClientRequest req;
    req.method = method;
    req.url = "http://" + (*server)->address() + path;
    absl::StatusOr<HttpClientResponse> r = (*client)->Send(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->status : -1;
  };
  EXPECT_EQ(send("GET", "/-/ready"), 503);
  EXPECT_EQ(send("GET", "/-/healthy"), 200);
  readiness.Set(true);
  EXPECT_EQ(send("GET", "/-/ready"), 200);
  EXPECT_EQ(send("HEAD", "/-/ready"), 200);
  EXPECT_EQ(send("HEAD", "/-/healthy"), 200);
  EXPECT_EQ(send("GET", "/metrics"), 200);
  EXPECT_EQ(send("POST", "/metrics"), 405);
  readiness.Set(false);
  EXPECT_EQ(send("GET", "/-/ready"), 503);
  (*server)->Stop();
}

}  // namespace
}  // namespace sextant
