#include "collector/kubelet/kubelet_source.h"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "collector/metric_set.h"
#include "common/clock.h"
#include "common/http_server.h"
#include "common/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/collector/kubelet/series_util.h"
#include "tests/util/test_util.h"

namespace sextant::collector {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string TlsPath(absl::string_view name) {
  return sextant::testing::SourcePath(absl::StrCat("tests/testdata/tls/", name));
}

std::string Fixture(absl::string_view name) {
  return sextant::testing::ReadFileOrDie(
      sextant::testing::SourcePath(absl::StrCat("tests/collector/testdata/kubelet/", name)));
}

constexpr absl::string_view kUp = R"({__name__="sextant_collector_kubelet_up"})";

// A stub kubelet on loopback: GET /pods answers with the status and body the test sets, and
// records the Authorization header of each request. With `token` set, requests without
// "Bearer <token>" get 401, as a kubelet with webhook authentication does.
class StubKubelet {
 public:
  explicit StubKubelet(bool tls) : tls_(tls) {
    HttpServerOptions options;
    if (tls) {
      options.tls_cert_file = TlsPath("server.pem");
      options.tls_key_file = TlsPath("server-key.pem");
    }
    auto server = HttpServer::Create(options);
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    server_->Handle("GET", "/pods", [this](const HttpRequest& r) { return Answer(r); });
    EXPECT_TRUE(server_->Start().ok());
  }
  ~StubKubelet() {
    release_.Notify();
    server_->Stop();
  }

  std::string url() const {
    return absl::StrCat(tls_ ? "https" : "http", "://127.0.0.1:", server_->port());
  }
  void Set(int status, std::string body) {
    absl::MutexLock lock(&mu_);
    status_ = status;
    body_ = std::move(body);
  }
  void RequireToken(std::string token) {
    absl::MutexLock lock(&mu_);
    token_ = std::move(token);
  }
  // Answers the next requests only once the stub is destroyed (or after 10 s).
  void Hang() {
    absl::MutexLock lock(&mu_);
    hang_ = true;
  }
  // Fails the next `n` requests with 503.
  void FailNext(int n) {
    absl::MutexLock lock(&mu_);
    fail_next_ = n;
  }
  std::vector<std::string> auth_seen() const {
    absl::MutexLock lock(&mu_);
    return auth_seen_;
  }

 private:
  HttpResponse Answer(const HttpRequest& r) {
    bool hang;
    {
      absl::MutexLock lock(&mu_);
      auth_seen_.emplace_back(r.headers.Get("authorization"));
      hang = hang_;
    }
    if (hang) release_.WaitForNotificationWithTimeout(absl::Seconds(10));
    absl::MutexLock lock(&mu_);
    if (fail_next_ > 0) {
      --fail_next_;
      return HttpResponse::Text(503, "busy");
    }
    if (!token_.empty() && r.headers.Get("authorization") != absl::StrCat("Bearer ", token_)) {
      return HttpResponse::Text(401, "Unauthorized");
    }
    return HttpResponse::Json(status_, body_);
  }

  const bool tls_;
  std::unique_ptr<HttpServer> server_;
  absl::Notification release_;
  mutable absl::Mutex mu_;
  int status_ ABSL_GUARDED_BY(mu_) = 200;
  std::string body_ ABSL_GUARDED_BY(mu_);
  std::string token_ ABSL_GUARDED_BY(mu_);
  bool hang_ ABSL_GUARDED_BY(mu_) = false;
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> auth_seen_ ABSL_GUARDED_BY(mu_);
};

class KubeletSourceTest : public ::testing::Test {
 protected:
  KubeletSourceTest() {
    token_file_ = dir_.WriteFile("token", "token-1\n");
    SetLogSink([this](absl::string_view line) {
      absl::MutexLock lock(&log_mu_);
      log_.emplace_back(line);
    });
  }
  ~KubeletSourceTest() override { SetLogSink(nullptr); }

  KubeletSourceOptions Options(const StubKubelet& kubelet) {
    KubeletSourceOptions o;
    o.url = kubelet.url();
    o.ca_file = TlsPath("ca.pem");
    o.token_file = token_file_;
    o.node_name = "node-a";
    o.max_attempts = 1;
    o.clock = &clock_;
    o.pod_index_grace_passes = 0;  // the grace period has its own test
    return o;
  }

  std::unique_ptr<KubeletSource> NewSource(const KubeletSourceOptions& options) {
    auto source = KubeletSource::Create(options);
    EXPECT_TRUE(source.ok()) << source.status();
    return source.ok() ? *std::move(source) : nullptr;
  }

  // One pass: its status and exported series.
  absl::Status Pass(KubeletSource& source, kubelet_test::SeriesMap* series) {
    MetricSet set;
    absl::Status st = source.Collect(PassContext{clock_.Now(), nullptr}, set);
    *series = kubelet_test::ExportedSeries(set);
    return st;
  }

  std::vector<std::string> log() {
    absl::MutexLock lock(&log_mu_);
    return log_;
  }

  // Checks what a failed pass leaves: up 0, no kube_ series, no pods.
  void ExpectDown(const KubeletSource& source, const kubelet_test::SeriesMap& series) {
    EXPECT_THAT(series, ::testing::Contains(::testing::Pair(std::string(kUp), 0)));
    EXPECT_THAT(kubelet_test::WithPrefix(series, "kube_"), IsEmpty());
    EXPECT_EQ(source.pods(), nullptr);
  }

  sextant::testing::TempDir dir_;
  std::string token_file_;
  SimulatedClock clock_;
  absl::Mutex log_mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(log_mu_);
};

TEST_F(KubeletSourceTest, ExportsFixturePodsOverTlsWithToken) {
  StubKubelet kubelet(/*tls=*/true);
  kubelet.Set(200, Fixture("pods.json"));
  kubelet.RequireToken("token-1");
  auto source = NewSource(Options(kubelet));
  ASSERT_NE(source, nullptr);
  EXPECT_EQ(source->name(), "kubelet");
  EXPECT_EQ(source->pods(), nullptr);  // before the first pass

  kubelet_test::SeriesMap series;
  ASSERT_TRUE(Pass(*source, &series).ok());
  EXPECT_EQ(
      kubelet_test::DiffSeries(kubelet_test::ParseSeries(Fixture("pods.expected.prom")), series),
      "");
  EXPECT_THAT(kubelet.auth_seen(), ::testing::ElementsAre("Bearer token-1"));
  std::shared_ptr<const PodIndex> pods = source->pods();
  ASSERT_NE(pods, nullptr);
  EXPECT_EQ(pods->size(), 6u);
  EXPECT_NE(pods->FindPod("0f5e2a4c-8b1d-4e6f-9a3b-7c2d1e0f4a5b"), nullptr);
}

TEST_F(KubeletSourceTest, RereadsRotatedTokenFile) {
  StubKubelet kubelet(/*tls=*/true);
  kubelet.Set(200, R"({"kind":"PodList","items":[]})");
  kubelet.RequireToken("token-1");
  KubeletSourceOptions options = Options(kubelet);
  auto source = NewSource(options);
  ASSERT_NE(source, nullptr);
  kubelet_test::SeriesMap series;
  ASSERT_TRUE(Pass(*source, &series).ok());

  // The token rotates: the kubelet refuses the old one, the client reads the file again.
  dir_.WriteFile("token", "token-2\n");
  kubelet.RequireToken("token-2");
  absl::Status st = Pass(*source, &series);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_THAT(kubelet.auth_seen(),
              ::testing::ElementsAre("Bearer token-1", "Bearer token-1", "Bearer token-2"));

  // With a reload interval of zero every request reads the file.
  options.token_reload = absl::ZeroDuration();
  auto eager = NewSource(options);
  ASSERT_NE(eager, nullptr);
  dir_.WriteFile("token", "token-3\n");
  kubelet.RequireToken("token-3");
  st = Pass(*eager, &series);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(kubelet.auth_seen().back(), "Bearer token-3");
}

TEST_F(KubeletSourceTest, RejectsUntrustedCertificateUnlessInsecure) {
  StubKubelet kubelet(/*tls=*/true);
  kubelet.Set(200, Fixture("pods.json"));
  KubeletSourceOptions options = Options(kubelet);
  options.ca_file = TlsPath("other-ca.pem");
  auto source = NewSource(options);
  ASSERT_NE(source, nullptr);
  kubelet_test::SeriesMap series;
  absl::Status st = Pass(*source, &series);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(st.message(), HasSubstr("certificate"));
  EXPECT_THAT(st.message(), HasSubstr(kubelet.url()));
  ExpectDown(*source, series);
  EXPECT_THAT(kubelet.auth_seen(), IsEmpty());  // the token never left

  options.insecure_tls = true;
  auto insecure = NewSource(options);
  ASSERT_NE(insecure, nullptr);
  st = Pass(*insecure, &series);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_THAT(series, ::testing::Contains(::testing::Pair(std::string(kUp), 1)));
  EXPECT_NE(insecure->pods(), nullptr);
}

TEST_F(KubeletSourceTest, SendsNoTokenOverPlainHttp) {
  StubKubelet kubelet(/*tls=*/false);
  kubelet.Set(200, Fixture("pods.json"));
  auto source = NewSource(Options(kubelet));
  ASSERT_NE(source, nullptr);
  kubelet_test::SeriesMap series;
  absl::Status st = Pass(*source, &series);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_THAT(kubelet.auth_seen(), ::testing::ElementsAre(""));
  EXPECT_THAT(kubelet_test::WithPrefix(series, "kube_pod_info"), SizeIs(6));
}

struct FailureCase {
  const char* name;
  int status;
  std::string body;
  absl::StatusCode code;
  const char* message;
};

TEST_F(KubeletSourceTest, FailedPassDropsPodsAndRecovers) {
  StubKubelet kubelet(/*tls=*/true);
  auto source = NewSource(Options(kubelet));
  ASSERT_NE(source, nullptr);
  const FailureCase cases[] = {
      {"401", 401, "Unauthorized", absl::StatusCode::kUnauthenticated, "HTTP 401"},
      {"403", 403,
       "Forbidden (user=system:serviceaccount:monitoring:sextant, verb=get, "
       "resource=nodes, subresource=proxy)",
       absl::StatusCode::kPermissionDenied, "get on nodes/proxy"},
      {"500", 500, "internal error\nsecond line", absl::StatusCode::kUnavailable,
       "HTTP 500: internal error second line"},
      {"404", 404, "404 page not found", absl::StatusCode::kUnavailable, "HTTP 404"},
      {"garbage", 200, "<html>hello</html>", absl::StatusCode::kInvalidArgument,
       "invalid JSON at offset 0"},
      {"not a PodList", 200, R"({"kind":"Status","status":"Failure"})",
       absl::StatusCode::kInvalidArgument, "not \"PodList\""},
  };
  for (const FailureCase& c : cases) {
    SCOPED_TRACE(c.name);
    kubelet.Set(200, Fixture("pods.json"));
    kubelet_test::SeriesMap series;
    ASSERT_TRUE(Pass(*source, &series).ok());
    ASSERT_NE(source->pods(), nullptr);
    ASSERT_THAT(kubelet_test::WithPrefix(series, "kube_pod_info"), SizeIs(6));

    kubelet.Set(c.status, c.body);
    absl::Status st = Pass(*source, &series);
    EXPECT_EQ(st.code(), c.code) << st;
    EXPECT_THAT(st.message(), HasSubstr(c.message));
    ExpectDown(*source, series);
  }
  // Recovery: the series and the index come back.
  kubelet.Set(200, Fixture("pods.json"));
  kubelet_test::SeriesMap series;
  ASSERT_TRUE(Pass(*source, &series).ok());
  EXPECT_THAT(series, ::testing::Contains(::testing::Pair(std::string(kUp), 1)));
  EXPECT_THAT(kubelet_test::WithPrefix(series, "kube_pod_info"), SizeIs(6));
  EXPECT_NE(source->pods(), nullptr);
}

TEST_F(KubeletSourceTest, TimesOut) {
  StubKubelet kubelet(/*tls=*/true);
  kubelet.Set(200, Fixture("pods.json"));
  kubelet.Hang();
  KubeletSourceOptions options = Options(kubelet);
  options.timeout = absl::Milliseconds(300);
  auto source = NewSource(options);
  ASSERT_NE(source, nullptr);
  kubelet_test::SeriesMap series;
  absl::Status st = Pass(*source, &series);
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  ExpectDown(*source, series);
}

TEST_F(KubeletSourceTest, RetriesOnceWithinAPass) {
  StubKubelet kubelet(/*tls=*/true);
  kubelet.Set(200, Fixture("pods.json"));
  kubelet.FailNext(1);
  KubeletSourceOptions options = Options(kubelet);
  options.max_attempts = 2;
  auto source = NewSource(options);
  ASSERT_NE(source, nullptr);
  kubelet_test::SeriesMap series;
  absl::Status st = Pass(*source, &series);
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(clock_.sleep_count(), 1);  // the backoff ran on the simulated clock
  EXPECT_THAT(kubelet.auth_seen(), SizeIs(2));
}

TEST_F(KubeletSourceTest, RefusesAnswerOverSizeLimit) {
  StubKubelet kubelet(/*tls=*/true);
  kubelet.Set(200, Fixture("pods.json"));
  KubeletSourceOptions options = Options(kubelet);
  options.max_response_bytes = 4096;
  auto source = NewSource(options);
  ASSERT_NE(source, nullptr);
  kubelet_test::SeriesMap series;
  absl::Status st = Pass(*source, &series);
  EXPECT_EQ(st.code(), absl::StatusCode::kResourceExhausted) << st;
  EXPECT_THAT(st.message(), HasSubstr("4096 bytes"));
  ExpectDown(*source, series);
}

TEST_F(KubeletSourceTest, LogsOnlyWhenReachabilityChanges) {
  StubKubelet kubelet(/*tls=*/true);
  kubelet.Set(200, Fixture("pods.json"));
  auto source = NewSource(Options(kubelet));
  ASSERT_NE(source, nullptr);
  kubelet_test::SeriesMap series;
  ASSERT_TRUE(Pass(*source, &series).ok());
  ASSERT_TRUE(Pass(*source, &series).ok());
  kubelet.Set(500, "down");
  EXPECT_FALSE(Pass(*source, &series).ok());
  EXPECT_FALSE(Pass(*source, &series).ok());
  EXPECT_FALSE(Pass(*source, &series).ok());
  kubelet.Set(200, Fixture("pods.json"));
  ASSERT_TRUE(Pass(*source, &series).ok());
  ASSERT_TRUE(Pass(*source, &series).ok());

  const std::vector<std::string> lines = log();
  ASSERT_THAT(lines, SizeIs(3)) << ::testing::PrintToString(lines);
  EXPECT_THAT(lines[0], HasSubstr("kubelet reachable"));
  EXPECT_THAT(lines[1], HasSubstr("kubelet unreachable"));
  EXPECT_THAT(lines[1], HasSubstr("HTTP 500"));
  EXPECT_THAT(lines[2], HasSubstr("kubelet reachable again"));
}

TEST_F(KubeletSourceTest, ReportsBadQuantityButKeepsTheRest) {
  StubKubelet kubelet(/*tls=*/true);
  kubelet.Set(200, R"({"kind":"PodList","items":[{"metadata":{"name":"p","namespace":"n",
      "uid":"u"},"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"1x",
      "memory":"1Ki"}}}]},"status":{"phase":"Running"}}]})");
  auto source = NewSource(Options(kubelet));
  ASSERT_NE(source, nullptr);
  kubelet_test::SeriesMap series;
  absl::Status st = Pass(*source, &series);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_THAT(st.message(), HasSubstr("1 resource quantities"));
  EXPECT_THAT(series, ::testing::Contains(::testing::Pair(std::string(kUp), 1)));
  EXPECT_THAT(kubelet_test::WithPrefix(series, "kube_pod_container_resource_requests"), SizeIs(1));
  EXPECT_NE(source->pods(), nullptr);
}

TEST(KubeletSourceCreateTest, ValidatesOptions) {
  KubeletSourceOptions options;
  EXPECT_EQ(KubeletSource::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.url = "10.0.0.5:10250";
  EXPECT_EQ(KubeletSource::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.url = "ftp://10.0.0.5";
  EXPECT_EQ(KubeletSource::Create(options).status().code(), absl::StatusCode::kInvalidArgument);

  // Missing files do not stop the collector: they fail (or change) the passes instead.
  options.url = "https://127.0.0.1:10250";
  options.ca_file = TlsPath("ca.pem");
  options.token_file = "/nonexistent/token";
  EXPECT_TRUE(KubeletSource::Create(options).ok());

  // Over plain http the token file is not used at all.
  options.url = "http://127.0.0.1:10255";
  EXPECT_TRUE(KubeletSource::Create(options).ok());

  options.url = "https://127.0.0.1:10250";
  options.token_file = "";
  options.max_attempts = 0;
  EXPECT_EQ(KubeletSource::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
  options.max_attempts = 1;
  EXPECT_TRUE(KubeletSource::Create(options).ok());
}

TEST_F(KubeletSourceTest, UnreadableCaFailsEachPassNotTheCollector) {
  StubKubelet kubelet(/*tls=*/true);
  kubelet.Set(200, Fixture("pods.json"));
  KubeletSourceOptions options = Options(kubelet);
  options.ca_file = dir_.Path("ca-not-yet-mounted.pem");
  auto source = NewSource(options);
  ASSERT_NE(source, nullptr);
  kubelet_test::SeriesMap series;
  absl::Status st = Pass(*source, &series);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_THAT(st.message(), HasSubstr("ca-not-yet-mounted.pem"));
  ExpectDown(*source, series);
  // The CA appears (a projected volume written late): the next pass works.
  std::filesystem::copy_file(TlsPath("ca.pem"), options.ca_file);
  ASSERT_TRUE(Pass(*source, &series).ok());
  EXPECT_THAT(kubelet_test::WithPrefix(series, "kube_pod_info"), SizeIs(6));
}

TEST_F(KubeletSourceTest, MissingTokenFileSendsNoToken) {
  StubKubelet kubelet(/*tls=*/true);
  kubelet.Set(200, Fixture("pods.json"));
  KubeletSourceOptions options = Options(kubelet);
  options.token_file = dir_.Path("no-token");
  auto source = NewSource(options);
  ASSERT_NE(source, nullptr);
  kubelet_test::SeriesMap series;
  ASSERT_TRUE(Pass(*source, &series).ok());
  ASSERT_THAT(kubelet.auth_seen(), SizeIs(1));
  EXPECT_EQ(kubelet.auth_seen()[0], "");
}

TEST_F(KubeletSourceTest, KeepsTheLastPodIndexForTheGracePasses) {
  StubKubelet kubelet(/*tls=*/true);
  kubelet.Set(200, Fixture("pods.json"));
  KubeletSourceOptions options = Options(kubelet);
  options.pod_index_grace_passes = 2;
  auto source = NewSource(options);
  ASSERT_NE(source, nullptr);
  kubelet_test::SeriesMap series;
  ASSERT_TRUE(Pass(*source, &series).ok());
  std::shared_ptr<const PodIndex> good = source->pods();
  ASSERT_NE(good, nullptr);
  kubelet.Set(503, "busy");
  for (int i = 0; i < 2; ++i) {
    EXPECT_FALSE(Pass(*source, &series).ok());
    EXPECT_THAT(kubelet_test::WithPrefix(series, "kube_"), IsEmpty());
    EXPECT_EQ(source->pods(), good) << "failed pass " << i + 1;
  }
  EXPECT_FALSE(Pass(*source, &series).ok());
  EXPECT_EQ(source->pods(), nullptr);
  // A success resets the count.
  kubelet.Set(200, Fixture("pods.json"));
  ASSERT_TRUE(Pass(*source, &series).ok());
  kubelet.Set(503, "busy");
  EXPECT_FALSE(Pass(*source, &series).ok());
  EXPECT_NE(source->pods(), nullptr);
}

TEST_F(KubeletSourceTest, APodWithABadFieldIsSkippedNotTheList) {
  StubKubelet kubelet(/*tls=*/true);
  kubelet.Set(200, R"({"kind":"PodList","items":[
      {"metadata":{"name":"good","namespace":"n","uid":"u1"},"status":{"phase":"Running"}},
      {"metadata":{"name":"bad","namespace":"n","uid":"u2"},
       "status":{"containerStatuses":[{"name":"c","restartCount":"seven"}]}}]})");
  auto source = NewSource(Options(kubelet));
  ASSERT_NE(source, nullptr);
  kubelet_test::SeriesMap series;
  absl::Status st = Pass(*source, &series);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  EXPECT_THAT(st.message(), HasSubstr("1 pods skipped"));
  EXPECT_THAT(st.message(), HasSubstr("items[1].status.containerStatuses[0].restartCount"));
  EXPECT_THAT(kubelet_test::WithPrefix(series, "kube_pod_info"), SizeIs(1));
  EXPECT_THAT(series, ::testing::Contains(::testing::Pair(std::string(kUp), 1)));
  ASSERT_NE(source->pods(), nullptr);
  EXPECT_NE(source->pods()->FindPod("u1"), nullptr);
  EXPECT_EQ(source->pods()->FindPod("u2"), nullptr);
}

}  // namespace
}  // namespace sextant::collector
