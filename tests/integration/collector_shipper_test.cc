// The collector's remote_write shipper, on its own thread with the real curl client, against a
// receiver built on our HttpServer and remote_write decoder that injects faults: 503s, a 429
// with Retry-After, a 400, a request that hangs past the shipper's timeout, and a receiver that
// goes away (connection refused) and comes back on the same port. Every sample of every pass
// must arrive exactly once, in order per series, except the rejected request's; the stale
// marker must arrive; the shipper's counters must agree with what the receiver saw.
#include <bit>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "collector/metric_set.h"
#include "collector/shipper.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prom/labels.h"
#include "prom/remote_write.h"
#include "prom/value.h"
#include "prometheus/registry.h"

namespace sextant::collector {
namespace {

// What the receiver does with one request.
struct Fault {
  int status = 200;
  std::string retry_after;
  bool hang = false;  // block until released, then answer 500
};
Fault Status(int status, std::string retry_after = "") { return {status, std::move(retry_after)}; }
Fault Hang() { return {200, "", true}; }

// One received sample with its series.
struct Received {
  prom::Labels labels;
  prom::Sample sample;
};

// The receiver's state, shared by the servers that come and go. Thread-safe.
class Receiver {
 public:
  void Script(Fault f) {
    absl::MutexLock lock(&mu_);
    faults_.push_back(std::move(f));
  }

  HttpResponse Handle(const HttpRequest& r) {
    absl::Status headers = prom::CheckRemoteWriteHeaders(
        r.headers.Get("Content-Type"), r.headers.Get("Content-Encoding"),
        r.headers.Get(prom::kRemoteWriteVersionHeader));
    absl::StatusOr<prom::RemoteWriteRequest> decoded = prom::DecodeWriteRequest(r.body, 32 << 20);
    std::vector<Received> samples;
    absl::Status labels_ok = absl::OkStatus();
    if (decoded.ok()) {
      for (auto& series : decoded->series) {
        absl::StatusOr<prom::Labels> labels = prom::ValidateSeriesLabels(std::move(series.labels));
        if (!labels.ok()) {
          labels_ok = labels.status();
          continue;
        }
        for (const prom::Sample& s : series.samples) samples.push_back({*labels, s});
      }
    }
    Fault fault;
    {
      absl::MutexLock lock(&mu_);
      ++requests_;
      if (!headers.ok()) errors_.push_back(absl::StrCat("headers: ", headers.message()));
      if (!decoded.ok()) errors_.push_back(absl::StrCat("decode: ", decoded.status().message()));
      if (!labels_ok.ok()) errors_.push_back(absl::StrCat("labels: ", labels_ok.message()));
      if (!absl::StartsWith(r.headers.Get("User-Agent"), "sextant/")) {
        errors_.push_back(absl::StrCat("user agent: ", r.headers.Get("User-Agent")));
      }
      if (!faults_.empty()) {
        fault = std::move(faults_.front());
        faults_.pop_front();
      }
      if (fault.hang) ++hung_;
    }
    if (fault.hang) {
      release_.WaitForNotificationWithTimeout(absl::Seconds(5));
      return HttpResponse::Text(500, "hung\n");
    }
    absl::MutexLock lock(&mu_);
    if (fault.status / 100 == 2) {
      for (Received& s : samples) accepted_.push_back(std::move(s));
    } else if (fault.status / 100 == 4 && fault.status != 429) {
      for (Received& s : samples) rejected_.push_back(std::move(s));
    }
    HttpResponse resp =
        HttpResponse::Text(fault.status, fault.status == 200 ? "" : "injected fault\nmore");
    if (!fault.retry_after.empty()) resp.headers.Add("Retry-After", fault.retry_after);
    return resp;
  }

  // Waits (at most 10 s) until `n` samples have been accepted or rejected.
  bool WaitForSamples(size_t n) {
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return accepted_.size() + rejected_.size() >= n;
    };
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
  }
  bool WaitForHang() {
    auto hung = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return hung_ > 0; };
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&hung), absl::Seconds(10));
  }
  void Release() { release_.Notify(); }

  std::vector<Received> accepted() const {
    absl::MutexLock lock(&mu_);
    return accepted_;
  }
  std::vector<Received> rejected() const {
    absl::MutexLock lock(&mu_);
    return rejected_;
  }
  std::vector<std::string> errors() const {
    absl::MutexLock lock(&mu_);
    return errors_;
  }
  int requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  mutable absl::Mutex mu_;
  std::deque<Fault> faults_ ABSL_GUARDED_BY(mu_);
  std::vector<Received> accepted_ ABSL_GUARDED_BY(mu_);
  std::vector<Received> rejected_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mu_);
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  int hung_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Notification release_;
};

absl::StatusOr<std::unique_ptr<HttpServer>> StartServer(Receiver& receiver, int port) {
  HttpServerOptions o;
  o.listen = absl::StrCat("127.0.0.1:", port);
  o.threads = 4;
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Create(o);
  if (!server.ok()) return server.status();
  (*server)->Handle("POST", "/api/v1/write",
                    [&receiver](const HttpRequest& r) { return receiver.Handle(r); });
  absl::Status started = (*server)->Start();
  if (!started.ok()) return started;
  return server;
}

// Pass k: g{i="0".."7"} = k * 100 + i, and, in passes 0-3 only, temp{} = k.
std::vector<prom::MetricFamily> Pass(int k) {
  MetricSet set;
  for (int i = 0; i < 8; ++i) {
    const std::string id = absl::StrCat(i);
    set.Gauge("g", "A gauge.", {{"i", id}}, k * 100 + i);
  }
  if (k < 4) set.Gauge("temp", "Goes away after pass 3.", {}, k);
  return set.TakeFamilies();
}

double MetricValue(prometheus::Registry& registry, const std::string& name,
                   std::map<std::string, std::string> labels) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      std::map<std::string, std::string> got;
      for (const auto& l : m.label) got[l.name] = l.value;
      if (got != labels) continue;
      return family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return 0;
}

TEST(CollectorShipperTest, DeliversEveryPassExactlyOnceThroughFaults) {
  Receiver receiver;
  auto server = StartServer(receiver, 0);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();

  HttpClientOptions client_options;
  client_options.retry.max_attempts = 1;  // the shipper owns the retries
  client_options.connect_timeout = absl::Milliseconds(500);
  auto client = CurlHttpClient::Create(client_options);
  ASSERT_TRUE(client.ok()) << client.status();

  prometheus::Registry registry;
  ShipperOptions o;
  o.url = absl::StrCat("http://127.0.0.1:", port, "/api/v1/write");
  o.initial_backoff = absl::Milliseconds(20);
  o.max_backoff = absl::Milliseconds(200);
  o.timeout = absl::Milliseconds(300);
  o.max_samples_per_request = 5;  // 9 samples a pass: two requests each
  o.metrics = &registry;
  auto shipper = RemoteWriteShipper::Create(o, **client, RealClock::Get());
  ASSERT_TRUE(shipper.ok()) << shipper.status();
  ASSERT_TRUE((*shipper)->Start().ok());

  const absl::Time t0 = absl::FromUnixSeconds(1'700'000'000);
  auto ts = [&](int k) { return t0 + absl::Seconds(5 * k); };

  // Passes 0-3 (two requests each) meet: 503, 503 (first request, retried), 429 with
  // Retry-After: 1 (second request, retried after a second), 400 (pass 1's first request,
  // dropped).
  receiver.Script(Status(503));
  receiver.Script(Status(503));
  receiver.Script(Status(200));
  receiver.Script(Status(429, "1"));
  receiver.Script(Status(200));
  receiver.Script(Status(400));
  const absl::Time phase1 = absl::Now();
  for (int k = 0; k < 4; ++k) (*shipper)->Enqueue(Pass(k), ts(k));
  ASSERT_TRUE(receiver.WaitForSamples(4 * 9));
  EXPECT_GE(absl::Now() - phase1, absl::Seconds(1)) << "Retry-After: 1 was not honoured";

  // Pass 4 (temp goes stale): its first request hangs past the shipper's timeout.
  receiver.Script(Hang());
  (*shipper)->Enqueue(Pass(4), ts(4));
  ASSERT_TRUE(receiver.WaitForHang());
  ASSERT_TRUE(receiver.WaitForSamples(5 * 9));
  receiver.Release();

  // Pass 5 while the receiver is down; it comes back on the same port.
  (*server)->Stop();
  const uint64_t before = (*shipper)->stats().requests;
  (*shipper)->Enqueue(Pass(5), ts(5));
  for (int i = 0; i < 1000 && (*shipper)->stats().requests < before + 2; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_GE((*shipper)->stats().requests, before + 2);
  EXPECT_EQ(receiver.accepted().size() + receiver.rejected().size(), 5u * 9);
  server = StartServer(receiver, port);
  for (int i = 0; i < 50 && !server.ok(); ++i) {  // the port may linger for a moment
    absl::SleepFor(absl::Milliseconds(20));
    server = StartServer(receiver, port);
  }
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE(receiver.WaitForSamples(5 * 9 + 8));  // pass 5 has no temp and no marker
  (*shipper)->Stop();
  (*server)->Stop();

  EXPECT_THAT(receiver.errors(), ::testing::IsEmpty());

  // The rejected request: pass 1's first five series.
  std::vector<Received> rejected = receiver.rejected();
  ASSERT_EQ(rejected.size(), 5u);
  for (const Received& r : rejected) EXPECT_EQ(r.sample.timestamp_ms, absl::ToUnixMillis(ts(1)));

  // Everything else exactly once, in order per series.
  std::map<prom::Labels, std::vector<prom::Sample>> by_series;
  for (const Received& r : receiver.accepted()) by_series[r.labels].push_back(r.sample);
  std::map<prom::Labels, std::vector<prom::Sample>> want;
  for (int k = 0; k < 6; ++k) {
    for (const prom::MetricFamily& f : Pass(k)) {
      for (const prom::ExpositionSample& s : f.samples) {
        want[s.labels].push_back({absl::ToUnixMillis(ts(k)), s.value});
      }
    }
  }
  want[prom::Labels{{"__name__", "temp"}}].push_back({absl::ToUnixMillis(ts(4)), prom::StaleNaN()});
  for (const Received& r : rejected) {
    auto& samples = want[r.labels];
    for (auto it = samples.begin(); it != samples.end(); ++it) {
      if (it->timestamp_ms == r.sample.timestamp_ms) {
        samples.erase(it);
        break;
      }
    }
  }
  ASSERT_EQ(by_series.size(), want.size());
  for (const auto& [labels, samples] : want) {
    SCOPED_TRACE(labels.ToString());
    const std::vector<prom::Sample>& got = by_series[labels];
    ASSERT_EQ(got.size(), samples.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].timestamp_ms, samples[i].timestamp_ms);
      EXPECT_EQ(std::bit_cast<uint64_t>(got[i].value), std::bit_cast<uint64_t>(samples[i].value));
    }
  }

  // The counters agree with the receiver.
  const ShipperStats st = (*shipper)->stats();
  const size_t accepted = receiver.accepted().size();
  EXPECT_EQ(st.samples_enqueued, 6u * 9 - 1);  // pass 4: 8 + a marker; pass 5: 8
  EXPECT_EQ(st.samples_sent, accepted);
  EXPECT_EQ(st.samples_failed, 5u);
  EXPECT_EQ(st.samples_dropped_queue_full + st.samples_dropped_shutdown, 0u);
  EXPECT_EQ(st.queue_bytes, 0);
  const std::map<std::string, std::string> url = {{"url", o.url}};
  auto with = [&](std::string k, std::string v) {
    auto l = url;
    l[k] = v;
    return l;
  };
  EXPECT_EQ(MetricValue(registry, "sextant_shipper_samples_sent_total", url), accepted);
  EXPECT_EQ(MetricValue(registry, "sextant_shipper_samples_failed_total", url), 5);
  EXPECT_EQ(MetricValue(registry, "sextant_shipper_requests_total", with("code", "503")), 2);
  EXPECT_EQ(MetricValue(registry, "sextant_shipper_requests_total", with("code", "429")), 1);
  EXPECT_EQ(MetricValue(registry, "sextant_shipper_requests_total", with("code", "400")), 1);
  EXPECT_GE(
      MetricValue(registry, "sextant_shipper_requests_total", with("code", "deadline_exceeded")),
      1);
  EXPECT_GE(MetricValue(registry, "sextant_shipper_requests_total", with("code", "unavailable")),
            2);
  EXPECT_EQ(MetricValue(registry, "sextant_shipper_queue_bytes", url), 0);
  EXPECT_GT(MetricValue(registry, "sextant_shipper_last_success_timestamp_seconds", url),
            absl::ToDoubleSeconds(phase1 - absl::UnixEpoch()));
}

TEST(CollectorShipperTest, StopReturnsPromptlyWhileTheReceiverHangs) {
  Receiver receiver;
  auto server = StartServer(receiver, 0);
  ASSERT_TRUE(server.ok()) << server.status();
  receiver.Script(Hang());
  HttpClientOptions client_options;
  client_options.retry.max_attempts = 1;
  auto client = CurlHttpClient::Create(client_options);
  ASSERT_TRUE(client.ok());
  ShipperOptions o;
  o.url = absl::StrCat("http://", (*server)->address(), "/api/v1/write");
  o.timeout = absl::Seconds(30);
  o.flush_timeout = absl::Milliseconds(500);
  auto shipper = RemoteWriteShipper::Create(o, **client, RealClock::Get());
  ASSERT_TRUE(shipper.ok());
  ASSERT_TRUE((*shipper)->Start().ok());
  (*shipper)->Enqueue(Pass(0), absl::Now());
  ASSERT_TRUE(receiver.WaitForHang());
  const absl::Time start = absl::Now();
  (*shipper)->Stop();
  // The request in flight (30 s timeout) is cancelled at the 0.5 s flush deadline; curl polls
  // the cancel callback about once a second.
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_EQ((*shipper)->stats().samples_dropped_shutdown, 9u);
  receiver.Release();
  (*server)->Stop();
}

}  // namespace
}  // namespace sextant::collector
