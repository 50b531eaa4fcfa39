// Our query API next to Debian's Prometheus 2.42: the same remote_write data goes into both
// (labels with characters JSON must escape, values that need the exponent form), then the same
// requests go to both and the answers must be equal byte for byte: status codes, error types
// and messages, number and timestamp formats, escapes. Requests cover the parameter errors of
// every endpoint and answers that do not depend on the engine's breadth (selectors, constants).
// Bounded in time: Prometheus gets 30 s to become ready.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/api/query_api.h"
#include "aggregator/api/write_handler.h"
#include "aggregator/tsdb/db.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "gtest/gtest.h"
#include "prom/remote_write.h"
#include "tests/util/subprocess.h"
#include "tests/util/test_util.h"

namespace sextant {
namespace {

constexpr int64_t kT = 1'700'000'000'000;  // ms of the first sample

// One request to send to both: method, path with query string, form body.
struct Probe {
  std::string method;
  std::string target;
  std::string form;
};

prom::RemoteWriteRequest TestData() {
  prom::RemoteWriteRequest req;
  auto series = [&req](std::vector<prom::Label> labels, std::vector<double> values) {
    prom::RemoteWriteSeries s;
    s.labels = std::move(labels);
    for (size_t i = 0; i < values.size(); ++i) {
      s.samples.push_back({kT + static_cast<int64_t>(i) * 15'000, values[i]});
    }
    req.series.push_back(std::move(s));
  };
  series({{"__name__", "probe_value"}, {"kind", "small"}}, {1e-7, 2e-7, 3e-7, 4e-7, 5e-7});
  series({{"__name__", "probe_value"}, {"kind", "large"}}, {1e21, 1.5e300, -1e22, 1e20, 1});
  series({{"__name__", "probe_value"}, {"kind", "plain"}},
         {0.1, 123456789.123456789, -2.5, 1e-6, 0});
  series({{"__name__", "probe_escape"},
          {"amp", "<a href=\"x\">&amp;</a>"},
          {"ctl", "tab\there\nnew\x01line\x7f"},
          {"uni",
           "\xC3\xBCnic\xC3\xB6"
           "de \xE2\x80\xA8 \xE2\x80\xA9 \xF0\x9F\x98\x80"}},
         {1, 2, 3, 4, 5});
  series({{"__name__", "probe_counter"}, {"job", "a"}}, {0, 10, 20, 30, 40});
  return req;
}

std::vector<Probe> Probes() {
  const std::string t1 = "1700000000";
  const std::string t2 = "1700000060";
  std::vector<Probe> p;
  auto get = [&p](std::string target) { p.push_back({"GET", std::move(target), ""}); };
  auto post = [&p](std::string target, std::string form) {
    p.push_back({"POST", std::move(target), std::move(form)});
  };
  // query: parameters and formats.
  get("/api/v1/query?query=1%2B1&time=4");
  post("/api/v1/query", "query=1%2B1&time=4");
  post("/api/v1/query?query=3&time=5", "query=2&time=4");
  get("/api/v1/query?query=1&time=x");
  get("/api/v1/query?query=1&time=%201");
  get("/api/v1/query?query=1&time=0x10");
  get("/api/v1/query?query=1&time=1.5");
  get("/api/v1/query?query=1&time=-1.5");
  get("/api/v1/query?query=1&time=1.0005");
  get("/api/v1/query?query=1&time=1e9");
  get("/api/v1/query?query=1&time=1_0");
  get("/api/v1/query?query=1&time=Inf");
  get("/api/v1/query?query=1&time=123456789012.5");
  get("/api/v1/query?query=1&time=2015-07-01T20:10:51.781Z");
  get("/api/v1/query?query=1&time=2015-07-01T20:10:51%2B02:00");
  get("/api/v1/query?query=1&time=2015-07-01T20:10:51.7811111Z");
  get("/api/v1/query?query=1&time=2015-02-29T00:00:00Z");
  get("/api/v1/query?query=1&timeout=x");
  get("/api/v1/query?query=1&timeout=1e300");
  get("/api/v1/query?query=1&time=1&timeout=30s");
  get("/api/v1/query?query=");
  get("/api/v1/query");
  get("/api/v1/query?query=1%2B&time=1");
  get("/api/v1/query?query=sum(&time=1");
  get("/api/v1/query?query=1e-7&time=1");
  get("/api/v1/query?query=1e21&time=1");
  get("/api/v1/query?query=-0&time=1");
  get("/api/v1/query?query=1/0&time=1");
  get("/api/v1/query?query=-1/0&time=1");
  get("/api/v1/query?query=0/0&time=1");
  get("/api/v1/query?query=%22a%3Cb%3E%26c%5Cu2028%22&time=-1.005");
  get("/api/v1/query?query=vector(1)&time=1.5");
  get("/api/v1/query?query=vector(1e-7)&time=-0.5");
  get("/api/v1/query?query=vector(1.5e300)&time=1");
  get("/api/v1/query?query=probe_value&time=" + t2);
  get("/api/v1/query?query=probe_escape&time=" + t2);
  get("/api/v1/query?query=probe_value%5B1m%5D&time=" + t2 + ".5");
  get("/api/v1/query?query=probe_escape%5B30s%5D&time=" + t2);
  get("/api/v1/query?query=nothing&time=" + t2);
  // query_range.
  get("/api/v1/query_range?query=1&start=x&end=2&step=1");
  get("/api/v1/query_range?query=1&start=1&end=x&step=1");
  get("/api/v1/query_range?query=1&start=3&end=2&step=1");
  get("/api/v1/query_range?query=1&start=1&end=2&step=0");
  get("/api/v1/query_range?query=1&start=1&end=2&step=-1");
  get("/api/v1/query_range?query=1&start=1&end=2&step=NaN");
  get("/api/v1/query_range?query=1&start=1&end=2&step=x");
  get("/api/v1/query_range?query=1&start=1&end=2&step=1e300");
  get("/api/v1/query_range?query=1&start=0&end=11001&step=1");
  get("/api/v1/query_range?query=1&start=1&end=2");
  get("/api/v1/query_range?query=1&end=2&step=1");
  get("/api/v1/query_range?start=1&end=2&step=1");
  get("/api/v1/query_range?query=1%2B&start=1&end=2&step=1");
  get("/api/v1/query_range?query=up%5B5m%5D&start=1&end=2&step=1");
  get("/api/v1/query_range?query=%22s%22&start=1&end=2&step=1");
  get("/api/v1/query_range?query=1&start=0&end=1&step=0.0001");
  get("/api/v1/query_range?query=1&start=0&end=1&step=1m");
  get("/api/v1/query_range?query=2&start=2015-07-01T20:10:51Z&end=2015-07-01T20:10:53.5Z&step=1");
  get("/api/v1/query_range?query=probe_value&start=" + t1 + "&end=" + t2 + "&step=15");
  get("/api/v1/query_range?query=probe_escape&start=" + t1 + ".25&end=" + t2 + "&step=7.5");
  post("/api/v1/query_range", "query=probe_counter&start=" + t1 + "&end=" + t2 + "&step=10");
  // series, labels, label values.
  get("/api/v1/series");
  get("/api/v1/series?match[]=");
  get("/api/v1/series?match[]=%7Ba%3D%22%22%7D");
  get("/api/v1/series?match[]=up%7B");
  get("/api/v1/series?match[]=1");
  get("/api/v1/series?match[]=up&start=x");
  get("/api/v1/series?match[]=up&end=x");
  get("/api/v1/series?match[]=probe_value&start=5&end=1");
  get("/api/v1/series?match[]=probe_value&match[]=probe_escape&match[]=probe_value");
  get("/api/v1/series?match[]=probe_value&start=-292273086-05-16T16:47:06Z&end=292277025-08-18T07:"
      "12:54.999999999Z");
  post("/api/v1/series", "match%5B%5D=probe_counter");
  get("/api/v1/labels");
  get("/api/v1/labels?match[]=probe_escape");
  get("/api/v1/labels?match[]=up%7B");
  get("/api/v1/labels?match[]=");
  get("/api/v1/labels?match[]=%7Ba%3D%22%22%7D");
  get("/api/v1/labels?start=x");
  post("/api/v1/labels", "match[]=probe_value");
  get("/api/v1/label/__name__/values");
  // Time ranges before the data, and inverted ones.
  get("/api/v1/labels?start=1&end=2");
  get("/api/v1/labels?start=5&end=1");
  get("/api/v1/labels?match[]=probe_value&start=1&end=2");
  get("/api/v1/label/__name__/values?start=1&end=2");
  get("/api/v1/label/__name__/values?start=5&end=1");
  get("/api/v1/label/kind/values?match[]=probe_value&start=1&end=2");
  get("/api/v1/series?match[]=probe_value&start=1&end=2");
  get("/api/v1/series?match[]=probe_value&start=" + t2 + ".001");
  get("/api/v1/labels?start=" + t2 + ".001");
  get("/api/v1/label/kind/values?match[]=probe_value");
  get("/api/v1/label/amp/values");
  get("/api/v1/label/ctl/values");
  get("/api/v1/label/uni/values");
  get("/api/v1/label/foo/values");
  get("/api/v1/label/1a/values");
  get("/api/v1/label/a-b/values");
  get("/api/v1/label/%C3%A9/values");
  get("/api/v1/label/a%22%3C/values");
  get("/api/v1/label/job/values?match[]=up%7B");
  get("/api/v1/label/job/values?match[]=%7Ba%3D%22%22%7D");
  get("/api/v1/label/job/values?start=x");
  // metadata (nothing scraped on either side), exemplars, rules, alerts, format_query.
  get("/api/v1/metadata?limit=x");
  get("/api/v1/metadata?metric=nothing");
  get("/api/v1/query_exemplars?query=probe_value");
  get("/api/v1/query_exemplars?query=up%7B");
  get("/api/v1/query_exemplars?query=1");
  get("/api/v1/query_exemplars?query=up&start=x");
  get("/api/v1/query_exemplars?query=up&start=5&end=1");
  get("/api/v1/rules");
  get("/api/v1/rules?type=x");
  get("/api/v1/rules?type=ALERT");
  get("/api/v1/alerts");
  get("/api/v1/format_query?query=sum(x");
  get("/api/v1/format_query");
  get("/api/v1/format_query?query=sum%20by(job)(rate(x%7Ba%3D%22%3C%22%7D%5B5m%5D))");
  post("/api/v1/format_query", "query=a%2Bb*c");
  return p;
}

class QueryApiVsPrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<CurlHttpClient>> client =
        CurlHttpClient::Create(HttpClientOptions{});
    ASSERT_TRUE(client.ok());
    client_ = *std::move(client);

    // Ours: a Db with remote_write and the query API on a loopback server.
    tsdb::DbOptions o;
    o.dir = dir_.Path("ours");
    o.fsync = FsyncPolicy::kNever;
    absl::StatusOr<std::unique_ptr<tsdb::Db>> db = tsdb::Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    write_ = std::make_unique<api::WriteHandler>(*db_, api::WriteHandlerOptions{}, registry_);
    query_ = std::make_unique<api::QueryApi>(*db_, api::QueryApiOptions{}, registry_);
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Create(HttpServerOptions{});
    ASSERT_TRUE(server.ok());
    server_ = *std::move(server);
    write_->Register(*server_);
    query_->Register(*server_);
    ASSERT_TRUE(server_->Start().ok());

    // Prometheus: nothing scraped, the remote_write receiver on.
    absl::StatusOr<int> port = testing::PickFreePort();
    ASSERT_TRUE(port.ok());
    prom_addr_ = absl::StrCat("127.0.0.1:", *port);
    const std::string config = dir_.WriteFile("prometheus.yml", "global:\n  scrape_interval: 1m\n");
    absl::StatusOr<testing::Subprocess> prom = testing::Subprocess::Start(
        {"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir_.Path("prom-data"),
         "--web.listen-address=" + prom_addr_, "--web.enable-remote-write-receiver",
         "--log.level=warn"},
        dir_.Path("prometheus.log"));
    ASSERT_TRUE(prom.ok()) << prom.status();
    prometheus_.emplace(*std::move(prom));
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    bool ready = false;
    while (!ready && absl::Now() < deadline && prometheus_->Running()) {
      HttpClientRequest req;
      req.url = absl::StrCat("http://", prom_addr_, "/-/ready");
      req.retryable = false;
      absl::StatusOr<HttpClientResponse> r = client_->Send(req);
      ready = r.ok() && r->status == 200;
      if (!ready) absl::SleepFor(absl::Milliseconds(100));  // polling a real peer's start-up
    }
    ASSERT_TRUE(ready) << testing::ReadFileOrDie(dir_.Path("prometheus.log"));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Stop();
  }

  absl::StatusOr<HttpClientResponse> Send(const std::string& addr, const Probe& probe,
                                          std::string body = "", std::string content_type = "") {
    HttpClientRequest req;
    req.method = probe.method;
    req.url = absl::StrCat("http://", addr, probe.target);
    req.retryable = false;
    if (probe.method == "POST") {
      req.body = body.empty() ? probe.form : std::move(body);
      req.headers.Add("Content-Type",
                      content_type.empty() ? "application/x-www-form-urlencoded" : content_type);
    }
    if (!content_type.empty()) {
      req.headers.Add("Content-Encoding", "snappy");
      req.headers.Add(prom::kRemoteWriteVersionHeader, "0.1.0");
    }
    return client_->Send(req);
  }

  testing::TempDir dir_;
  prometheus::Registry registry_;
  std::unique_ptr<tsdb::Db> db_;
  std::unique_ptr<api::WriteHandler> write_;
  std::unique_ptr<api::QueryApi> query_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<CurlHttpClient> client_;
  std::string prom_addr_;
  std::optional<testing::Subprocess> prometheus_;
};

TEST_F(QueryApiVsPrometheusTest, SameAnswersAsPrometheus) {
  absl::StatusOr<std::string> body = prom::EncodeWriteRequest(TestData());
  ASSERT_TRUE(body.ok());
  for (const std::string& addr : {server_->address(), prom_addr_}) {
    absl::StatusOr<HttpClientResponse> r =
        Send(addr, Probe{"POST", "/api/v1/write", ""}, *body, "application/x-protobuf");
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->status, 204) << addr << ": " << r->body;
  }

  int compared = 0;
  int with_data = 0;
  for (const Probe& probe : Probes()) {
    SCOPED_TRACE(absl::StrCat(probe.method, " ", probe.target, " ", probe.form));
    absl::StatusOr<HttpClientResponse> ours = Send(server_->address(), probe);
    absl::StatusOr<HttpClientResponse> theirs = Send(prom_addr_, probe);
    ASSERT_TRUE(ours.ok()) << ours.status();
    ASSERT_TRUE(theirs.ok()) << theirs.status();
    EXPECT_EQ(ours->status, theirs->status);
    EXPECT_EQ(ours->body, theirs->body);
    if (theirs->status != 204) {
      EXPECT_EQ(ours->headers.Get("Content-Type"), theirs->headers.Get("Content-Type"));
    }
    ++compared;
    if (theirs->status == 200 && theirs->body.find("probe_") != std::string::npos) ++with_data;
  }
  EXPECT_GE(compared, 100);
  EXPECT_GE(with_data, 10);  // the data arrived on both sides, so data answers were compared
}

}  // namespace
}  // namespace sextant
