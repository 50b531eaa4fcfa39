// The real Prometheus 2.42 (Debian's) scrapes itself and remote_writes everything to a real
// `sextant server`. Afterwards every series Prometheus's query API returns for one scrape must be
// in our store with the same labels and the same value, and nothing more.
#include <bit>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "aggregator/tsdb/db.h"
#include "common/http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prom/labels.h"
#include "prom/value.h"
#include "rapidjson/document.h"
#include "tests/util/subprocess.h"
#include "tests/util/test_util.h"

namespace sextant {
namespace {

absl::StatusOr<std::string> Get(HttpClient& client, const std::string& url) {
  HttpClientRequest req;
  req.url = url;
  absl::StatusOr<HttpClientResponse> resp = client.Send(req);
  if (!resp.ok()) return resp.status();
  if (resp->status != 200) {
    return absl::UnavailableError(absl::StrCat(url, ": ", resp->status, " ", resp->body));
  }
  return resp->body;
}

// The value of an unlabelled sample `name` in text exposition `text`, or -1.
double MetricValue(absl::string_view text, absl::string_view name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, absl::StrCat(name, " "))) {
      double v;
      if (absl::SimpleAtod(line.substr(name.size() + 1), &v)) return v;
    }
  }
  return -1;
}

bool SameValue(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

TEST(PrometheusToServerTest, SameValuesInPrometheusAndInOurStore) {
  testing::TempDir dir;
  auto client = CurlHttpClient::Create(HttpClientOptions{});
  ASSERT_TRUE(client.ok());

  absl::StatusOr<int> our_port = testing::PickFreePort();
  ASSERT_TRUE(our_port.ok());
  const std::string our_addr = absl::StrCat("127.0.0.1:", *our_port);
  absl::StatusOr<testing::Subprocess> ours =
      testing::Subprocess::Start({testing::BinaryPath("sextant"), "server", "--listen=" + our_addr,
                                  "--data-dir=" + dir.Path("ours")},
                                 dir.Path("server.log"));
  ASSERT_TRUE(ours.ok()) << ours.status();

  std::optional<testing::Subprocess> prometheus;
  std::string prom_addr;
  double appended = 0;
  for (int attempt = 0; attempt < 3 && appended <= 0; ++attempt) {
    absl::StatusOr<int> prom_port = testing::PickFreePort();
    ASSERT_TRUE(prom_port.ok());
    prom_addr = absl::StrCat("127.0.0.1:", *prom_port);
    // One shard, so each series' samples arrive in order and a later scrape implies the earlier.
    prometheus.reset();
    absl::StatusOr<testing::Subprocess> started = testing::StartSelfScrapingPrometheus(
        dir.path(), prom_addr, absl::StrCat("http://", our_addr, "/api/v1/write"));
    ASSERT_TRUE(started.ok()) << started.status();
    prometheus.emplace(std::move(*started));
    // Bounded wait for five scrapes' worth of samples in our store.
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    double first = 0;
    while (absl::Now() < deadline && prometheus->Running()) {
      absl::SleepFor(absl::Milliseconds(200));
      absl::StatusOr<std::string> m = Get(**client, absl::StrCat("http://", our_addr, "/metrics"));
      if (!m.ok()) continue;
      const double n = MetricValue(*m, "sextant_tsdb_head_samples_appended_total");
      if (n > 0 && first == 0) first = n;
      if (first > 0 && n >= 5 * first) {
        appended = n;
        break;
      }
    }
  }
  ASSERT_GT(appended, 0) << "nothing arrived; Prometheus log:\n"
                         << testing::ReadFileOrDie(dir.Path("prometheus.log")) << "\nour log:\n"
                         << testing::ReadFileOrDie(dir.Path("server.log"));
  absl::StatusOr<std::string> metrics =
      Get(**client, absl::StrCat("http://", our_addr, "/metrics"));
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(*metrics,
              ::testing::HasSubstr(
                  "sextant_remote_write_samples_rejected_total{reason=\"invalid_labels\"} 0"));
  EXPECT_EQ(ours->Stop(), 0) << testing::ReadFileOrDie(dir.Path("server.log"));

  // Our store, read in-process: every series with its samples.
  tsdb::DbOptions options;
  options.dir = dir.Path("ours");
  absl::StatusOr<std::unique_ptr<tsdb::Db>> db = tsdb::Db::Open(options);
  ASSERT_TRUE(db.ok()) << db.status();
  absl::StatusOr<std::vector<tsdb::SeriesChunks>> all =
      (*db)->Select({}, tsdb::kMinTime, tsdb::kMaxTime);
  ASSERT_TRUE(all.ok()) << all.status();
  std::set<int64_t> scrape_times;
  std::map<prom::Labels, std::map<int64_t, double>> stored;
  for (const tsdb::SeriesChunks& s : *all) {
    tsdb::SampleIterator it(s, tsdb::kMinTime, tsdb::kMaxTime);
    while (it.Next()) {
      stored[s.labels][it.t()] = it.v();
      if (s.labels.MetricName() == "up") scrape_times.insert(it.t());
    }
    ASSERT_TRUE(it.status().ok()) << it.status();
  }
  ASSERT_GE(scrape_times.size(), 3u);
  // The second scrape: complete in our store, since later ones arrived after it.
  const int64_t at = *std::next(scrape_times.begin());
  std::map<prom::Labels, double> ours_at;
  for (const auto& [labels, samples] : stored) {
    auto it = samples.find(at);
    if (it != samples.end() && !prom::IsStaleNaN(it->second)) ours_at[labels] = it->second;
  }

  // Prometheus: every series' raw samples in the 500 ms up to `at` (scrapes are 1 s apart).
  absl::StatusOr<std::string> body = Get(
      **client, absl::StrCat("http://", prom_addr,
                             "/api/v1/query?query=%7B__name__%3D~%22.%2B%22%7D%5B500ms%5D&time=",
                             at / 1000, ".", absl::StrFormat("%03d", at % 1000)));
  ASSERT_TRUE(body.ok()) << body.status();
  rapidjson::Document doc;
  doc.Parse(body->data(), body->size());
  ASSERT_FALSE(doc.HasParseError());
  std::map<prom::Labels, double> theirs;
  for (const rapidjson::Value& r : doc["data"]["result"].GetArray()) {
    std::vector<prom::Label> labels;
    for (const auto& m : r["metric"].GetObject()) {
      labels.push_back({m.name.GetString(), m.value.GetString()});
    }
    absl::StatusOr<prom::Labels> parsed = prom::Labels::FromUnsorted(std::move(labels));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    for (const rapidjson::Value& sample : r["values"].GetArray()) {
      if (std::llround(sample[0].GetDouble() * 1000) != at) continue;
      double v;
      ASSERT_TRUE(absl::SimpleAtod(sample[1].GetString(), &v)) << sample[1].GetString();
      theirs[*parsed] = v;
    }
  }
  ASSERT_GT(theirs.size(), 100u) << "Prometheus's own metrics: hundreds of series per scrape";
  for (const auto& [labels, v] : theirs) {
    auto it = ours_at.find(labels);
    ASSERT_NE(it, ours_at.end()) << "missing in our store at " << at << ": " << labels.ToString();
    EXPECT_TRUE(SameValue(it->second, v))
        << labels.ToString() << ": ours " << it->second << ", Prometheus " << v;
  }
  for (const auto& [labels, v] : ours_at) {
    EXPECT_TRUE(theirs.count(labels)) << "only in our store: " << labels.ToString();
  }
  // Prometheus's shutdown waits (up to a minute) to flush its remote_write queue to our
  // stopped server, so its exit status says nothing here; Subprocess ends it.
  prometheus->Stop(absl::Seconds(1));
}

}  // namespace
}  // namespace sextant
