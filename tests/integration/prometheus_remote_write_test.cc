// The real Prometheus 2.42 (Debian's) scrapes itself and remote_writes to a receiver built on our
// HttpServer and remote_write codec. What we decode must equal what Prometheus's own query API
// answers for the same metric at the same timestamp: same series (label sets, __name__
// included), same values to the bit.
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prom/labels.h"
#include "prom/remote_write.h"
#include "rapidjson/document.h"
#include "tests/util/subprocess.h"
#include "tests/util/test_util.h"

namespace sextant {
namespace {

constexpr char kMetric[] = "prometheus_http_requests_total";  // several series per scrape

// Everything the receiver decoded: series -> (timestamp ms -> value).
class Received {
 public:
  void Add(const prom::Labels& labels, const prom::Sample& s) {
    absl::MutexLock lock(&mu_);
    series_[labels][s.timestamp_ms] = s.value;
  }
  void AddRequest(absl::string_view user_agent, absl::Status header_check) {
    absl::MutexLock lock(&mu_);
    ++requests_;
    user_agent_ = std::string(user_agent);
    if (!header_check.ok()) header_errors_.push_back(std::string(header_check.message()));
  }
  std::map<prom::Labels, std::map<int64_t, double>> series() const {
    absl::MutexLock lock(&mu_);
    return series_;
  }
  int requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::string user_agent() const {
    absl::MutexLock lock(&mu_);
    return user_agent_;
  }
  std::vector<std::string> header_errors() const {
    absl::MutexLock lock(&mu_);
    return header_errors_;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<prom::Labels, std::map<int64_t, double>> series_ ABSL_GUARDED_BY(mu_);
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  std::string user_agent_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> header_errors_ ABSL_GUARDED_BY(mu_);
};

// The timestamps (ms) at which `metric` was received, ascending.
std::vector<int64_t> TimestampsOf(const Received& received, absl::string_view metric) {
  std::set<int64_t> ts;
  for (const auto& [labels, samples] : received.series()) {
    if (labels.MetricName() != metric) continue;
    for (const auto& [t, v] : samples) ts.insert(t);
  }
  return {ts.begin(), ts.end()};
}

TEST(PrometheusRemoteWriteTest, DecodedSamplesMatchPrometheusQueryApi) {
  testing::TempDir dir;
  Received received;

  HttpServerOptions server_opts;
  server_opts.listen = "127.0.0.1:0";
  auto server = HttpServer::Create(server_opts);
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->Handle("POST", "/api/v1/write", [&received](const HttpRequest& r) {
    received.AddRequest(r.headers.Get("User-Agent"),
                        prom::CheckRemoteWriteHeaders(
                            r.headers.Get("Content-Type"), r.headers.Get("Content-Encoding"),
                            r.headers.Get(prom::kRemoteWriteVersionHeader)));
    absl::StatusOr<prom::RemoteWriteRequest> req = prom::DecodeWriteRequest(r.body, 64 << 20);
    if (!req.ok()) return HttpResponse::Text(400, std::string(req.status().message()));
    for (prom::RemoteWriteSeries& s : req->series) {
      absl::StatusOr<prom::Labels> labels = prom::ValidateSeriesLabels(std::move(s.labels));
      if (!labels.ok()) return HttpResponse::Text(400, std::string(labels.status().message()));
      for (const prom::Sample& sample : s.samples) received.Add(*labels, sample);
    }
    return HttpResponse::Text(204, "");
  });
  ASSERT_TRUE((*server)->Start().ok());

  // Prometheus cannot report a port it picked itself, so pick a free one; should another process
  // take it before Prometheus binds, start again on a new one.
  std::optional<testing::Subprocess> prometheus;
  std::string prom_addr;
  std::vector<int64_t> ts;
  for (int attempt = 0; attempt < 3 && ts.size() < 4; ++attempt) {
    absl::StatusOr<int> prom_port = testing::PickFreePort();
    ASSERT_TRUE(prom_port.ok());
    prom_addr = absl::StrCat("127.0.0.1:", *prom_port);
    // One shard, so a series' samples arrive in order and a later scrape implies earlier ones.
    prometheus.reset();
    absl::StatusOr<testing::Subprocess> started = testing::StartSelfScrapingPrometheus(
        dir.path(), prom_addr, absl::StrCat("http://", (*server)->address(), "/api/v1/write"));
    ASSERT_TRUE(started.ok()) << started.status();
    prometheus.emplace(std::move(*started));
    // Wait (bounded) until four scrapes of the metric have arrived; the second one is then
    // complete, since with one shard each series' samples are sent in order.
    absl::Time deadline = absl::Now() + absl::Seconds(60);
    while ((ts = TimestampsOf(received, kMetric)).size() < 4 && absl::Now() < deadline &&
           prometheus->Running()) {
      absl::SleepFor(absl::Milliseconds(100));
    }
  }
  ASSERT_GE(ts.size(), 4u) << "Prometheus did not deliver; log:\n"
                           << testing::ReadFileOrDie(dir.Path("prometheus.log"));
  EXPECT_TRUE(received.header_errors().empty()) << received.header_errors()[0];
  EXPECT_THAT(received.user_agent(), ::testing::StartsWith("Prometheus/2."));

  const int64_t at = ts[1];
  std::map<prom::Labels, double> ours;
  for (const auto& [labels, samples] : received.series()) {
    if (labels.MetricName() != kMetric) continue;
    if (auto it = samples.find(at); it != samples.end()) ours[labels] = it->second;
  }
  ASSERT_FALSE(ours.empty());

  auto client = CurlHttpClient::Create(HttpClientOptions{});
  ASSERT_TRUE(client.ok());
  HttpClientRequest query;
  // A range selector over the last 500 ms returns the raw samples with their own timestamps:
  // exactly the scrape at `at` (scrapes are 1 s apart).
  query.url = absl::StrCat("http://", prom_addr, "/api/v1/query?query=", kMetric, "%5B500ms%5D",
                           "&time=", at / 1000, ".", absl::StrFormat("%03d", at % 1000));
  absl::StatusOr<HttpClientResponse> resp = (*client)->Send(query);
  ASSERT_TRUE(resp.ok()) << resp.status();
  ASSERT_EQ(resp->status, 200) << resp->body;

  rapidjson::Document doc;
  doc.Parse(resp->body.data(), resp->body.size());
  ASSERT_FALSE(doc.HasParseError());
  ASSERT_STREQ(doc["data"]["resultType"].GetString(), "matrix");
  const rapidjson::Value& result = doc["data"]["result"];
  std::map<prom::Labels, double> theirs;
  for (const rapidjson::Value& r : result.GetArray()) {
    std::vector<prom::Label> labels;
    for (const auto& m : r["metric"].GetObject()) {
      labels.push_back({m.name.GetString(), m.value.GetString()});
    }
    const rapidjson::Value& values = r["values"];
    ASSERT_EQ(values.Size(), 1u) << labels.size();
    // Prometheus renders sample times as seconds with millisecond decimals.
    EXPECT_EQ(std::llround(values[0][0].GetDouble() * 1000), at);
    double v;
    ASSERT_TRUE(absl::SimpleAtod(values[0][1].GetString(), &v));
    absl::StatusOr<prom::Labels> parsed = prom::Labels::FromUnsorted(std::move(labels));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    theirs[*parsed] = v;
  }
  EXPECT_EQ(ours.size(), theirs.size());
  for (const auto& [labels, v] : theirs) {
    auto it = ours.find(labels);
    ASSERT_NE(it, ours.end()) << "Prometheus has " << labels.ToString() << ", we did not decode it";
    EXPECT_EQ(it->second, v) << labels.ToString();
  }
  EXPECT_GT(received.requests(), 0);
  EXPECT_EQ(prometheus->Stop(), 0) << testing::ReadFileOrDie(dir.Path("prometheus.log"));
  (*server)->Stop();
}

}  // namespace
}  // namespace sextant
