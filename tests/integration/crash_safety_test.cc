// Crash safety of the server's storage: a child `sextant server` ingesting from a writer is killed
// with SIGKILL at random moments, many times, and restarted on the same data directory each time.
// Every sample it acknowledged (HTTP 204) must be found afterwards, with its exact value bits.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <bit>
#include <cstdint>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "aggregator/tsdb/db.h"
#include "common/http_client.h"
#include "gtest/gtest.h"
#include "prom/remote_write.h"
#include "prom/value.h"
#include "tests/util/subprocess.h"
#include "tests/util/test_util.h"

namespace sextant {
namespace {

constexpr int kSeries = 40;
constexpr int kCycles = 25;

struct Acked {
  int series;
  int64_t t;
  uint64_t bits;
};

std::string SeriesName(int i) { return absl::StrCat("crash_metric_", i % 4); }

prom::RemoteWriteRequest MakeRequest(int64_t t, std::mt19937_64& rng, std::vector<Acked>* samples) {
  prom::RemoteWriteRequest req;
  for (int i = 0; i < kSeries; ++i) {
    prom::RemoteWriteSeries s;
    s.labels = {
        {"__name__", SeriesName(i)}, {"instance", absl::StrCat("node-", i)}, {"job", "crash"}};
    double v;
    switch (rng() % 8) {
      case 0:
        v = prom::StaleNaN();
        break;
      case 1:
        v = std::bit_cast<double>(rng());  // any bit pattern, NaN payloads included
        break;
      default:
        v = static_cast<double>(rng() % 100000) / 100;
    }
    s.samples.push_back({t, v});
    samples->push_back({i, t, std::bit_cast<uint64_t>(v)});
    req.series.push_back(std::move(s));
  }
  return req;
}

absl::Status WaitReady(HttpClient& client, const std::string& addr, testing::Subprocess& child) {
  for (int i = 0; i < 1000; ++i) {
    if (!child.Running()) return absl::UnavailableError("server exited during start");
    HttpClientRequest req;
    req.url = absl::StrCat("http://", addr, "/-/ready");
    absl::StatusOr<HttpClientResponse> resp = client.Send(req);
    if (resp.ok() && resp->status == 200) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(10));  // a real child process: bounded polling
  }
  return absl::DeadlineExceededError("server not ready after 10 s");
}

TEST(CrashSafetyTest, AcknowledgedSamplesSurviveRepeatedSigkill) {
  testing::TempDir dir;
  const std::string data = dir.Path("data");
  HttpClientOptions client_options;
  client_options.retry.max_attempts = 1;
  client_options.timeout = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<HttpClient>> client = CurlHttpClient::Create(client_options);
  ASSERT_TRUE(client.ok()) << client.status();

  std::mt19937_64 rng(20261128);
  std::vector<Acked> acked;
  int64_t next_t = 1'700'000'000'000;
  int kills = 0;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    absl::StatusOr<int> port = testing::PickFreePort();
    ASSERT_TRUE(port.ok());
    const std::string addr = absl::StrCat("127.0.0.1:", *port);
    absl::StatusOr<testing::Subprocess> child = testing::Subprocess::Start(
        {testing::BinaryPath("sextant"), "server", absl::StrCat("--listen=", addr),
         absl::StrCat("--data-dir=", data)},
        dir.Path("server.log"));
    ASSERT_TRUE(child.ok()) << child.status();
    absl::Status ready = WaitReady(**client, addr, *child);
    ASSERT_TRUE(ready.ok()) << ready << "\n" << testing::ReadFileOrDie(dir.Path("server.log"));

    // The writer sends requests back to back; the killer waits for a random number of
    // acknowledgements and then a random fraction of a request's time, and kills.
    std::atomic<int> acks{0};
    std::atomic<bool> stop{false};
    absl::Mutex mu;
    std::vector<Acked> cycle_acked;
    std::vector<std::pair<int64_t, std::string>> bodies;
    std::vector<std::vector<Acked>> contents;
    for (int i = 0; i < 60; ++i) {
      contents.emplace_back();
      absl::StatusOr<std::string> body =
          prom::EncodeWriteRequest(MakeRequest(next_t, rng, &contents.back()));
      ASSERT_TRUE(body.ok());
      bodies.emplace_back(next_t, std::move(*body));
      next_t += 1000;
    }
    std::thread writer([&] {
      for (size_t i = 0; i < bodies.size() && !stop.load(); ++i) {
        HttpClientRequest req;
        req.method = "POST";
        req.url = absl::StrCat("http://", addr, "/api/v1/write");
        req.headers.Add("Content-Type", "application/x-protobuf");
        req.headers.Add("Content-Encoding", "snappy");
        req.headers.Add("X-Prometheus-Remote-Write-Version", "0.1.0");
        req.body = bodies[i].second;
        absl::StatusOr<HttpClientResponse> resp = (*client)->Send(req);
        if (!resp.ok()) return;  // the server is gone
        if (resp->status != 204) {
          ADD_FAILURE() << "status " << resp->status << ": " << resp->body;
          return;
        }
        absl::MutexLock l(&mu);
        cycle_acked.insert(cycle_acked.end(), contents[i].begin(), contents[i].end());
        acks.fetch_add(1);
      }
    });
    const int kill_after = static_cast<int>(rng() % 40);
    while (acks.load() < kill_after && child->Running()) absl::SleepFor(absl::Microseconds(200));
    absl::SleepFor(absl::Microseconds(static_cast<int64_t>(rng() % 3000)));
    ASSERT_EQ(::kill(child->pid(), SIGKILL), 0);
    ++kills;
    writer.join();
    stop = true;
    child->Stop(absl::Seconds(5));  // reaps
    absl::MutexLock l(&mu);
    acked.insert(acked.end(), cycle_acked.begin(), cycle_acked.end());
  }
  ASSERT_EQ(kills, kCycles);
  ASSERT_FALSE(acked.empty());

  // Read everything back in-process (the last server is dead; the WAL is replayed).
  tsdb::DbOptions options;
  options.dir = data;
  absl::StatusOr<std::unique_ptr<tsdb::Db>> db = tsdb::Db::Open(options);
  ASSERT_TRUE(db.ok()) << db.status();
  absl::StatusOr<std::vector<tsdb::SeriesChunks>> all =
      (*db)->Select({}, tsdb::kMinTime, tsdb::kMaxTime);
  ASSERT_TRUE(all.ok()) << all.status();
  std::map<std::string, std::map<int64_t, uint64_t>> stored;  // instance -> t -> bits
  for (const tsdb::SeriesChunks& s : *all) {
    tsdb::SampleIterator it(s, tsdb::kMinTime, tsdb::kMaxTime);
    auto& m = stored[std::string(s.labels.Get("instance"))];
    while (it.Next()) m[it.t()] = std::bit_cast<uint64_t>(it.v());
    ASSERT_TRUE(it.status().ok()) << it.status();
  }
  int missing = 0;
  for (const Acked& a : acked) {
    auto& m = stored[absl::StrCat("node-", a.series)];
    auto it = m.find(a.t);
    if (it == m.end() || it->second != a.bits) {
      if (++missing <= 5) {
        ADD_FAILURE() << "acknowledged sample lost: node-" << a.series << " t=" << a.t;
      }
    }
  }
  std::cout << "acknowledged " << acked.size() << " samples, " << kills << " SIGKILLs\n";
  EXPECT_EQ(missing, 0) << "of " << acked.size() << " acknowledged samples after " << kills
                        << " SIGKILLs";
  RecordProperty("acknowledged_samples", static_cast<int>(acked.size()));
}

}  // namespace
}  // namespace sextant
