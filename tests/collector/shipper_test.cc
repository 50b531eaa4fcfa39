#include "collector/shipper.h"

#include <bit>
#include <cmath>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "collector/metric_set.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "common/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prom/remote_write.h"
#include "prom/value.h"
#include "prometheus/registry.h"

namespace sextant::collector {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A remote_write receiver behind the HttpClient interface: answers from a script (then 200),
// and records each attempt decoded. Thread-safe.
class FakeReceiver : public HttpClient {
 public:
  struct Attempt {
    HttpHeaders headers;
    prom::RemoteWriteRequest request;
    bool delivered = false;  // answered 2xx
  };

  void Script(absl::StatusOr<HttpClientResponse> answer) {
    absl::MutexLock lock(&mu_);
    script_.push_back(std::move(answer));
  }
  // Every answer after the script runs out.
  void SetDefault(absl::StatusOr<HttpClientResponse> answer) {
    absl::MutexLock lock(&mu_);
    default_ = std::move(answer);
  }

  // Runs inside the next Send (once), before it answers: what happens while a request is in
  // flight.
  void DuringNextSend(std::function<void()> f) {
    absl::MutexLock lock(&mu_);
    during_send_ = std::move(f);
  }

  absl::StatusOr<HttpClientResponse> Send(const HttpClientRequest& request) override {
    std::function<void()> during;
    {
      absl::MutexLock lock(&mu_);
      during.swap(during_send_);
    }
    if (during) during();
    absl::StatusOr<prom::RemoteWriteRequest> decoded =
        prom::DecodeWriteRequest(request.body, 64 << 20);
    EXPECT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.retryable, false);
    absl::MutexLock lock(&mu_);
    absl::StatusOr<HttpClientResponse> answer = default_;
    if (!script_.empty()) {
      answer = std::move(script_.front());
      script_.pop_front();
    }
    Attempt a{request.headers, decoded.ok() ? *std::move(decoded) : prom::RemoteWriteRequest{},
              answer.ok() && answer->status / 100 == 2};
    attempts_.push_back(std::move(a));
    if (!first_.HasBeenNotified()) first_.Notify();
    return answer;
  }

  std::vector<Attempt> attempts() const {
    absl::MutexLock lock(&mu_);
    return attempts_;
  }
  // The requests answered 2xx, in order.
  std::vector<prom::RemoteWriteRequest> delivered() const {
    absl::MutexLock lock(&mu_);
    std::vector<prom::RemoteWriteRequest> out;
    for (const Attempt& a : attempts_) {
      if (a.delivered) out.push_back(a.request);
    }
    return out;
  }
  // Waits (wall time, at most 10 s) until `n` requests have been answered 2xx.
  bool WaitDelivered(size_t n) const {
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      size_t d = 0;
      for (const Attempt& a : attempts_) d += a.delivered ? 1 : 0;
      return d >= n;
    };
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
  }
  absl::Notification& first_attempt() { return first_; }

 private:
  mutable absl::Mutex mu_;
  std::deque<absl::StatusOr<HttpClientResponse>> script_ ABSL_GUARDED_BY(mu_);
  absl::StatusOr<HttpClientResponse> default_ ABSL_GUARDED_BY(mu_) = Answer(200);
  std::vector<Attempt> attempts_ ABSL_GUARDED_BY(mu_);
  std::function<void()> during_send_ ABSL_GUARDED_BY(mu_);
  absl::Notification first_;

 public:
  static HttpClientResponse Answer(int status, absl::string_view body = "",
                                   absl::string_view retry_after = "") {
    HttpClientResponse r;
    r.status = status;
    r.body = std::string(body);
    if (!retry_after.empty()) r.headers.Add("Retry-After", retry_after);
    r.attempts = 1;
    return r;
  }
};

// A pass with gauges `g{i="<n>"}` for each n in `ids`, value n * 10 + `shift`.
std::vector<prom::MetricFamily> Pass(const std::vector<int>& ids, double shift = 0) {
  MetricSet set;
  for (int id : ids) {
    const std::string i = absl::StrCat(id);
    set.Gauge("g", "A gauge.", {{"i", i}}, id * 10 + shift);
  }
  return set.TakeFamilies();
}

// "i" of every series in `requests`, in order, with the sample value; stale markers as "S".
std::vector<std::string> Flatten(const std::vector<prom::RemoteWriteRequest>& requests) {
  std::vector<std::string> out;
  for (const auto& r : requests) {
    for (const auto& s : r.series) {
      std::string i;
      for (const auto& l : s.labels) {
        if (l.name == "i") i = l.value;
      }
      for (const auto& sample : s.samples) {
        out.push_back(prom::IsStaleNaN(sample.value) ? absl::StrCat(i, "=S")
                                                     : absl::StrCat(i, "=", sample.value));
      }
    }
  }
  return out;
}

ShipperOptions Options() {
  ShipperOptions o;
  o.url = "http://receiver.test/api/v1/write";
  o.jitter = 0;
  return o;
}

// The value of the self-metric `name` with `labels`, or NaN when absent.
double MetricValue(prometheus::Registry& registry, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      std::map<std::string, std::string> got;
      for (const auto& l : m.label) got[l.name] = l.value;
      if (got != labels) continue;
      return family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return std::nan("");
}

class ShipperTest : public ::testing::Test {
 protected:
  std::unique_ptr<RemoteWriteShipper> Make(ShipperOptions o) {
    if (o.metrics == nullptr) o.metrics = &registry_;
    auto shipper = RemoteWriteShipper::Create(o, receiver_, clock_);
    EXPECT_TRUE(shipper.ok()) << shipper.status();
    return shipper.ok() ? *std::move(shipper) : nullptr;
  }
  double Counter(const std::string& name, std::map<std::string, std::string> labels = {}) {
    labels["url"] = "http://receiver.test/api/v1/write";
    return MetricValue(registry_, name, labels);
  }

  FakeReceiver receiver_;
  SimulatedClock clock_;
  prometheus::Registry registry_;
};

TEST_F(ShipperTest, SplitsPassIntoRequestsOfAtMostMaxSamples) {
  ShipperOptions o = Options();
  o.max_samples_per_request = 2;
  auto shipper = Make(o);
  const absl::Time ts = clock_.Now();
  shipper->Enqueue(Pass({1, 2, 3, 4, 5}), ts);
  EXPECT_EQ(shipper->stats().pending_requests, 3u);
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::ZeroDuration());

  std::vector<prom::RemoteWriteRequest> got = receiver_.delivered();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].series.size(), 2u);
  EXPECT_EQ(got[1].series.size(), 2u);
  EXPECT_EQ(got[2].series.size(), 1u);
  EXPECT_THAT(Flatten(got), ElementsAre("1=10", "2=20", "3=30", "4=40", "5=50"));
  for (const auto& r : got) {
    for (const auto& s : r.series) {
      ASSERT_EQ(s.samples.size(), 1u);
      EXPECT_EQ(s.samples[0].timestamp_ms, absl::ToUnixMillis(ts));
      EXPECT_TRUE(prom::ValidateSeriesLabels(s.labels).ok());
    }
  }
  // Metadata once, on the pass's first request.
  ASSERT_EQ(got[0].metadata.size(), 1u);
  EXPECT_EQ(got[0].metadata[0].metric_family_name, "g");
  EXPECT_EQ(got[0].metadata[0].type, prom::RemoteWriteMetadata::Type::kGauge);
  EXPECT_EQ(got[0].metadata[0].help, "A gauge.");
  EXPECT_TRUE(got[1].metadata.empty());

  const HttpHeaders h = receiver_.attempts()[0].headers;
  EXPECT_EQ(h.Get("Content-Encoding"), "snappy");
  EXPECT_EQ(h.Get("Content-Type"), "application/x-protobuf");
  EXPECT_EQ(h.Get("X-Prometheus-Remote-Write-Version"), "0.1.0");
  EXPECT_THAT(std::string(h.Get("User-Agent")), StartsWith("sextant/"));
  EXPECT_TRUE(prom::CheckRemoteWriteHeaders(h.Get("Content-Type"), h.Get("Content-Encoding"),
                                            h.Get("X-Prometheus-Remote-Write-Version"))
                  .ok());

  ShipperStats st = shipper->stats();
  EXPECT_EQ(st.samples_enqueued, 5u);
  EXPECT_EQ(st.samples_sent, 5u);
  EXPECT_EQ(st.requests, 3u);
  EXPECT_EQ(st.queue_bytes, 0);
  EXPECT_EQ(st.pending_requests, 0u);
  EXPECT_EQ(Counter("sextant_shipper_samples_sent_total"), 5);
  EXPECT_EQ(Counter("sextant_shipper_requests_total", {{"code", "200"}}), 3);
  EXPECT_EQ(Counter("sextant_shipper_queue_bytes"), 0);
  EXPECT_EQ(Counter("sextant_shipper_last_success_timestamp_seconds"),
            absl::ToDoubleSeconds(ts - absl::UnixEpoch()));
}

TEST_F(ShipperTest, SendsStaleMarkerExactlyOnceForSeriesThatDisappear) {
  auto shipper = Make(Options());
  const absl::Time t0 = clock_.Now();
  shipper->Enqueue(Pass({1, 2, 3}), t0);
  shipper->Enqueue(Pass({1, 3}, 1), t0 + absl::Seconds(5));  // 2 goes away
  shipper->Enqueue(Pass({1, 3}, 2), t0 + absl::Seconds(10));
  shipper->Enqueue(Pass({1, 2}, 3), t0 + absl::Seconds(15));  // 2 is back, 3 goes away
  shipper->Enqueue({}, t0 + absl::Seconds(20));               // everything goes away
  shipper->Enqueue({}, t0 + absl::Seconds(25));
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::ZeroDuration());

  std::vector<prom::RemoteWriteRequest> got = receiver_.delivered();
  ASSERT_EQ(got.size(), 5u);  // the last pass has nothing to send
  EXPECT_THAT(Flatten({got[0]}), ElementsAre("1=10", "2=20", "3=30"));
  EXPECT_THAT(Flatten({got[1]}), ElementsAre("1=11", "3=31", "2=S"));
  EXPECT_THAT(Flatten({got[2]}), ElementsAre("1=12", "3=32"));
  EXPECT_THAT(Flatten({got[3]}), ElementsAre("1=13", "2=23", "3=S"));
  EXPECT_THAT(Flatten({got[4]}), ElementsAre("1=S", "2=S"));
  EXPECT_EQ(got[1].series[2].samples[0].timestamp_ms, absl::ToUnixMillis(t0 + absl::Seconds(5)));
  // The marker keeps the series' labels, __name__ included.
  EXPECT_EQ(prom::ValidateSeriesLabels(got[1].series[2].labels)->ToString(),
            "{__name__=\"g\", i=\"2\"}");
  EXPECT_EQ(shipper->stats().samples_sent, 3u + 3 + 2 + 3 + 2);
}

TEST_F(ShipperTest, EncodesValuesLabelsAndMetadataExactly) {
  const std::vector<double> values = {0.1,          -0.0,  std::numeric_limits<double>::infinity(),
                                      std::nan(""), 1e308, -12345.678};
  const std::string long_value(300, 'x');  // a length that needs a two-byte varint
  MetricSet set;
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string id = absl::StrCat(i);
    set.Add("m", "Help with \"quotes\" and ünïcode.", prom::MetricType::kCounter,
            {{"i", id}, {"long", long_value}, {"Z_upper", "é"}}, values[i]);
  }
  std::vector<prom::MetricFamily> families = set.TakeFamilies();
  families.push_back({"info_metric", "", prom::MetricType::kInfo, "bytes", {}});
  auto shipper = Make(Options());
  // A time before 1970 gives a negative timestamp: a ten-byte varint.
  const absl::Time ts = absl::FromUnixMillis(-1234);
  shipper->Enqueue(families, ts);
  shipper->SendPending(clock_.Now());
  std::vector<prom::RemoteWriteRequest> got = receiver_.delivered();
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(got[0].series.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const prom::RemoteWriteSeries& s = got[0].series[i];
    EXPECT_EQ(s.labels, families[0].samples[i].labels.labels());
    ASSERT_EQ(s.samples.size(), 1u);
    EXPECT_EQ(std::bit_cast<uint64_t>(s.samples[0].value), std::bit_cast<uint64_t>(values[i]));
    EXPECT_EQ(s.samples[0].timestamp_ms, -1234);
  }
  ASSERT_EQ(got[0].metadata.size(), 2u);
  EXPECT_EQ(got[0].metadata[0].type, prom::RemoteWriteMetadata::Type::kCounter);
  EXPECT_EQ(got[0].metadata[0].help, "Help with \"quotes\" and ünïcode.");
  EXPECT_EQ(got[0].metadata[1].metric_family_name, "info_metric");
  EXPECT_EQ(got[0].metadata[1].type, prom::RemoteWriteMetadata::Type::kInfo);
  EXPECT_EQ(got[0].metadata[1].unit, "bytes");
}

TEST_F(ShipperTest, SendsRepeatedSeriesOfOnePassOnce) {
  auto shipper = Make(Options());
  std::vector<prom::MetricFamily> families = Pass({1, 2});
  families.push_back(families[0]);  // family g again, same series
  families.back().samples[0].value = 99;
  shipper->Enqueue(families, clock_.Now());
  shipper->SendPending(clock_.Now());
  EXPECT_THAT(Flatten(receiver_.delivered()), ElementsAre("1=10", "2=20"));
}

TEST_F(ShipperTest, SendsMetadataAtMostOncePerInterval) {
  ShipperOptions o = Options();
  o.metadata_interval = absl::Seconds(60);
  auto shipper = Make(o);
  const absl::Time t0 = clock_.Now();
  for (int i = 0; i < 14; ++i) shipper->Enqueue(Pass({1}), t0 + absl::Seconds(5 * i));
  shipper->SendPending(clock_.Now());
  std::vector<prom::RemoteWriteRequest> got = receiver_.delivered();
  ASSERT_EQ(got.size(), 14u);
  std::vector<int> with_metadata;
  for (int i = 0; i < 14; ++i) {
    if (!got[i].metadata.empty()) with_metadata.push_back(i);
  }
  EXPECT_THAT(with_metadata, ElementsAre(0, 12));
}

TEST_F(ShipperTest, FullQueueDropsOldestPassesAndCountsThem) {
  // Measure one pass's encoded size, then allow two and a half of them.
  int64_t one;
  {
    ShipperOptions o = Options();
    o.metrics = nullptr;
    o.metadata_interval = absl::InfiniteDuration();
    auto probe = RemoteWriteShipper::Create(o, receiver_, clock_);
    ASSERT_TRUE(probe.ok());
    (*probe)->Enqueue(Pass({1, 2, 3, 4}), clock_.Now());
    one = (*probe)->stats().queue_bytes;
    ASSERT_GT(one, 0);
  }
  ShipperOptions o = Options();
  o.metadata_interval = absl::InfiniteDuration();
  o.queue_bytes = one * 5 / 2;
  auto shipper = Make(o);
  const absl::Time t0 = clock_.Now();
  for (int i = 0; i < 5; ++i) {
    shipper->Enqueue(Pass({1, 2, 3, 4}, i), t0 + absl::Seconds(i));
    EXPECT_LE(shipper->stats().queue_bytes, o.queue_bytes);
  }
  ShipperStats st = shipper->stats();
  EXPECT_EQ(st.pending_requests, 2u);
  EXPECT_EQ(st.samples_dropped_queue_full, 12u);
  EXPECT_EQ(Counter("sextant_shipper_samples_dropped_total", {{"reason", "queue_full"}}), 12);
  EXPECT_EQ(Counter("sextant_shipper_queue_bytes"), static_cast<double>(st.queue_bytes));

  shipper->SendPending(clock_.Now());
  // The two newest passes arrive, in order.
  EXPECT_THAT(Flatten(receiver_.delivered()),
              ElementsAre("1=13", "2=23", "3=33", "4=43", "1=14", "2=24", "3=34", "4=44"));
  EXPECT_EQ(shipper->stats().samples_sent, 8u);
}

TEST_F(ShipperTest, PassLargerThanTheQueueIsDroppedWhole) {
  ShipperOptions o = Options();
  o.queue_bytes = 64;
  o.max_samples_per_request = 1;
  auto shipper = Make(o);
  shipper->Enqueue(Pass({1, 2, 3, 4, 5, 6, 7, 8}), clock_.Now());
  ShipperStats st = shipper->stats();
  EXPECT_EQ(st.pending_requests, 0u);
  EXPECT_EQ(st.queue_bytes, 0);
  EXPECT_EQ(st.samples_dropped_queue_full, 8u);
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::ZeroDuration());
  EXPECT_TRUE(receiver_.attempts().empty());
}

TEST_F(ShipperTest, RetriesServerErrorsWithGrowingBackoffAndDeliversOnceInOrder) {
  receiver_.Script(FakeReceiver::Answer(500, "boom"));
  receiver_.Script(FakeReceiver::Answer(503));
  auto shipper = Make(Options());
  shipper->Enqueue(Pass({1}), clock_.Now());
  shipper->Enqueue(Pass({1}, 1), clock_.Now() + absl::Seconds(5));

  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::Milliseconds(100));
  // Not due yet: nothing is sent.
  clock_.Advance(absl::Milliseconds(60));
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::Milliseconds(40));
  EXPECT_EQ(receiver_.attempts().size(), 1u);
  clock_.Advance(absl::Milliseconds(40));
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::Milliseconds(200));
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::ZeroDuration());

  EXPECT_THAT(Flatten(receiver_.delivered()), ElementsAre("1=10", "1=11"));
  EXPECT_EQ(receiver_.attempts().size(), 4u);
  EXPECT_EQ(Counter("sextant_shipper_requests_total", {{"code", "500"}}), 1);
  EXPECT_EQ(Counter("sextant_shipper_requests_total", {{"code", "503"}}), 1);
  EXPECT_EQ(Counter("sextant_shipper_requests_total", {{"code", "200"}}), 2);
  EXPECT_EQ(shipper->stats().samples_sent, 2u);
  EXPECT_EQ(shipper->stats().samples_failed, 0u);
}

TEST_F(ShipperTest, BackoffDoublesUpToMaxAndResetsAfterSuccess) {
  ShipperOptions o = Options();
  o.initial_backoff = absl::Milliseconds(100);
  o.max_backoff = absl::Milliseconds(500);
  receiver_.SetDefault(FakeReceiver::Answer(502));
  auto shipper = Make(o);
  shipper->Enqueue(Pass({1}), clock_.Now());
  std::vector<absl::Duration> waits;
  for (int i = 0; i < 5; ++i) {
    absl::Duration w = shipper->SendPending(clock_.Now());
    waits.push_back(w);
    clock_.Advance(w);
  }
  EXPECT_THAT(waits,
              ElementsAre(absl::Milliseconds(100), absl::Milliseconds(200), absl::Milliseconds(400),
                          absl::Milliseconds(500), absl::Milliseconds(500)));
  receiver_.SetDefault(FakeReceiver::Answer(200));
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::ZeroDuration());
  receiver_.SetDefault(FakeReceiver::Answer(502));
  shipper->Enqueue(Pass({1}), clock_.Now());
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::Milliseconds(100));
}

TEST_F(ShipperTest, JitterKeepsBackoffWithinItsBounds) {
  ShipperOptions o = Options();
  o.jitter = 0.5;
  o.initial_backoff = absl::Seconds(1);
  receiver_.SetDefault(FakeReceiver::Answer(500));
  auto shipper = Make(o);
  shipper->Enqueue(Pass({1}), clock_.Now());
  bool varied = false;
  absl::Duration first = absl::ZeroDuration();
  for (int i = 0; i < 20; ++i) {
    absl::Duration w = shipper->SendPending(clock_.Now());
    EXPECT_GE(w, absl::Milliseconds(500));
    EXPECT_LE(w, absl::Milliseconds(1500));
    if (i == 0) first = w;
    varied |= w != first;
    // A success resets the backoff so that every wait is a first one.
    receiver_.Script(FakeReceiver::Answer(200));
    clock_.Advance(w);
    shipper->SendPending(clock_.Now());
    shipper->Enqueue(Pass({1}), clock_.Now());
  }
  EXPECT_TRUE(varied);
}

TEST_F(ShipperTest, HonoursRetryAfterOn429) {
  receiver_.Script(FakeReceiver::Answer(429, "slow down", "7"));
  auto shipper = Make(Options());
  shipper->Enqueue(Pass({1}), clock_.Now());
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::Seconds(7));
  clock_.Advance(absl::Seconds(6));
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::Seconds(1));
  EXPECT_EQ(receiver_.attempts().size(), 1u);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::ZeroDuration());
  EXPECT_THAT(Flatten(receiver_.delivered()), ElementsAre("1=10"));
  EXPECT_EQ(Counter("sextant_shipper_requests_total", {{"code", "429"}}), 1);
}

TEST_F(ShipperTest, CapsRetryAfter) {
  ShipperOptions o = Options();
  o.max_retry_after = absl::Seconds(30);
  receiver_.Script(FakeReceiver::Answer(503, "", "3600"));
  auto shipper = Make(o);
  shipper->Enqueue(Pass({1}), clock_.Now());
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::Seconds(30));
}

TEST_F(ShipperTest, DropsRejectedRequestCountsItAsFailedAndLogsIt) {
  std::vector<std::string> lines;
  absl::Mutex lines_mu;
  SetLogSink([&](absl::string_view line) {
    absl::MutexLock lock(&lines_mu);
    lines.push_back(std::string(line));
  });
  receiver_.Script(FakeReceiver::Answer(400, "out of order sample\nsecond line"));
  auto shipper = Make(Options());
  shipper->Enqueue(Pass({1, 2}), clock_.Now());
  shipper->Enqueue(Pass({1, 2}, 1), clock_.Now() + absl::Seconds(5));
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::ZeroDuration());
  SetLogSink(nullptr);

  EXPECT_THAT(Flatten(receiver_.delivered()), ElementsAre("1=11", "2=21"));
  EXPECT_EQ(shipper->stats().samples_failed, 2u);
  EXPECT_EQ(shipper->stats().samples_sent, 2u);
  EXPECT_EQ(Counter("sextant_shipper_samples_failed_total"), 2);
  EXPECT_EQ(Counter("sextant_shipper_requests_total", {{"code", "400"}}), 1);
  absl::MutexLock lock(&lines_mu);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], HasSubstr("status=400"));
  EXPECT_THAT(lines[0], HasSubstr("out of order sample"));
  EXPECT_THAT(lines[0], Not(HasSubstr("second line")));
}

TEST_F(ShipperTest, RetriesConnectionErrorsAndTimeouts) {
  receiver_.Script(absl::UnavailableError("connection refused"));
  receiver_.Script(absl::DeadlineExceededError("timed out"));
  auto shipper = Make(Options());
  shipper->Enqueue(Pass({1}), clock_.Now());
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::Milliseconds(100));
  clock_.Advance(absl::Milliseconds(100));
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::Milliseconds(200));
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::ZeroDuration());
  EXPECT_THAT(Flatten(receiver_.delivered()), ElementsAre("1=10"));
  EXPECT_EQ(Counter("sextant_shipper_requests_total", {{"code", "unavailable"}}), 1);
  EXPECT_EQ(Counter("sextant_shipper_requests_total", {{"code", "deadline_exceeded"}}), 1);
}

TEST_F(ShipperTest, NewPassesQueueWhileRetryingAndOldestDropWhenFull) {
  receiver_.SetDefault(FakeReceiver::Answer(503));
  ShipperOptions o = Options();
  o.metadata_interval = absl::InfiniteDuration();
  auto shipper = Make(o);
  shipper->Enqueue(Pass({1, 2}), clock_.Now());
  const int64_t one = shipper->stats().queue_bytes;
  // Rebuild with room for two passes.
  o.queue_bytes = one * 2 + one / 2;
  shipper = Make(o);
  for (int i = 0; i < 4; ++i) {
    shipper->Enqueue(Pass({1, 2}, i), clock_.Now());
    clock_.Advance(shipper->SendPending(clock_.Now()));
  }
  EXPECT_EQ(shipper->stats().pending_requests, 2u);
  EXPECT_EQ(shipper->stats().samples_dropped_queue_full, 4u);
  receiver_.SetDefault(FakeReceiver::Answer(200));
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::ZeroDuration());
  EXPECT_THAT(Flatten(receiver_.delivered()), ElementsAre("1=12", "2=22", "1=13", "2=23"));
}

TEST_F(ShipperTest, RequestInFlightIsNotDroppedButGoesFirstIfItFails) {
  ShipperOptions o = Options();
  o.metadata_interval = absl::InfiniteDuration();
  auto probe = Make(o);
  probe->Enqueue(Pass({1, 2, 3}), clock_.Now());
  o.queue_bytes = probe->stats().queue_bytes * 3 / 2;  // room for one pass and a half
  probe.reset();

  // Sent while a pass is queued behind it: both get through.
  auto shipper = Make(o);
  shipper->Enqueue(Pass({1, 2, 3}), clock_.Now());
  receiver_.DuringNextSend([&] {
    shipper->Enqueue(Pass({1, 2, 3}, 1), clock_.Now());
    EXPECT_EQ(shipper->stats().pending_requests, 2u);
    EXPECT_EQ(shipper->stats().samples_dropped_queue_full, 0u);
  });
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::ZeroDuration());
  EXPECT_EQ(shipper->stats().samples_dropped_queue_full, 0u);
  EXPECT_EQ(shipper->stats().samples_sent, 6u);

  // The request in flight fails: it is the oldest, so it goes to make room.
  receiver_.Script(FakeReceiver::Answer(503));
  shipper->Enqueue(Pass({1, 2, 3}, 2), clock_.Now());
  receiver_.DuringNextSend([&] { shipper->Enqueue(Pass({1, 2, 3}, 3), clock_.Now()); });
  clock_.Advance(shipper->SendPending(clock_.Now()));
  EXPECT_EQ(shipper->stats().samples_dropped_queue_full, 3u);
  EXPECT_EQ(shipper->stats().pending_requests, 1u);
  EXPECT_LE(shipper->stats().queue_bytes, o.queue_bytes);
  EXPECT_EQ(shipper->SendPending(clock_.Now()), absl::ZeroDuration());
  EXPECT_THAT(Flatten(receiver_.delivered()),
              ElementsAre("1=10", "2=20", "3=30", "1=11", "2=21", "3=31", "1=13", "2=23", "3=33"));
}

TEST_F(ShipperTest, ThreadSendsEachPassAsItIsQueued) {
  auto shipper = Make(Options());
  ASSERT_TRUE(shipper->Start().ok());
  EXPECT_FALSE(shipper->Start().ok());
  for (int i = 0; i < 3; ++i) {
    shipper->Enqueue(Pass({1}, i), clock_.Now() + absl::Seconds(5 * i));
    ASSERT_TRUE(receiver_.WaitDelivered(i + 1));
  }
  shipper->Stop();
  EXPECT_THAT(Flatten(receiver_.delivered()), ElementsAre("1=10", "1=11", "1=12"));
  EXPECT_EQ(shipper->stats().samples_dropped_shutdown, 0u);
}

TEST_F(ShipperTest, StopMidBackoffReturnsPromptlyAndCountsWhatIsLeft) {
  receiver_.SetDefault(FakeReceiver::Answer(503));
  ShipperOptions o = Options();
  o.initial_backoff = absl::Minutes(10);
  o.max_backoff = absl::Minutes(10);
  o.metrics = &registry_;
  auto shipper = RemoteWriteShipper::Create(o, receiver_, RealClock::Get());
  ASSERT_TRUE(shipper.ok());
  ASSERT_TRUE((*shipper)->Start().ok());
  (*shipper)->Enqueue(Pass({1, 2, 3}), absl::Now());
  receiver_.first_attempt().WaitForNotification();
  const absl::Time start = absl::Now();
  (*shipper)->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  // The last attempt at stop was made, failed, and the samples are counted as dropped.
  EXPECT_EQ(receiver_.attempts().size(), 2u);
  EXPECT_EQ((*shipper)->stats().samples_dropped_shutdown, 3u);
  EXPECT_EQ(Counter("sextant_shipper_samples_dropped_total", {{"reason", "shutdown"}}), 3);
}

TEST_F(ShipperTest, StopFlushesWhatIsQueuedWhenTheReceiverRecovers) {
  receiver_.Script(FakeReceiver::Answer(503, "", "3600"));
  ShipperOptions o = Options();
  o.metrics = &registry_;
  auto shipper = RemoteWriteShipper::Create(o, receiver_, RealClock::Get());
  ASSERT_TRUE(shipper.ok());
  ASSERT_TRUE((*shipper)->Start().ok());
  (*shipper)->Enqueue(Pass({1}), absl::Now());
  receiver_.first_attempt().WaitForNotification();
  (*shipper)->Enqueue(Pass({1}, 1), absl::Now() + absl::Seconds(5));
  const absl::Time start = absl::Now();
  (*shipper)->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_THAT(Flatten(receiver_.delivered()), ElementsAre("1=10", "1=11"));
  EXPECT_EQ((*shipper)->stats().samples_dropped_shutdown, 0u);
}

TEST_F(ShipperTest, StopGivesUpAtTheFlushDeadline) {
  // Simulated time: the flush retries with backoff until the next wait would pass the deadline.
  receiver_.SetDefault(absl::UnavailableError("connection refused"));
  ShipperOptions o = Options();
  o.flush_timeout = absl::Seconds(2);
  auto shipper = Make(o);
  ASSERT_TRUE(shipper->Start().ok());
  shipper->Enqueue(Pass({1}), clock_.Now());
  receiver_.first_attempt().WaitForNotification();
  shipper->Stop();
  EXPECT_EQ(shipper->stats().samples_dropped_shutdown, 1u);
  EXPECT_EQ(shipper->stats().pending_requests, 0u);
}

TEST_F(ShipperTest, StopWithoutStartDropsTheQueue) {
  auto shipper = Make(Options());
  shipper->Enqueue(Pass({1, 2}), clock_.Now());
  shipper->Stop();
  shipper->Stop();
  EXPECT_EQ(shipper->stats().samples_dropped_shutdown, 2u);
  EXPECT_FALSE(shipper->Start().ok());
  shipper->Enqueue(Pass({1, 2}), clock_.Now());
  EXPECT_EQ(shipper->stats().samples_dropped_shutdown, 4u);
  EXPECT_EQ(shipper->stats().pending_requests, 0u);
}

TEST_F(ShipperTest, ShippersToDifferentUrlsShareARegistry) {
  auto a = Make(Options());
  ShipperOptions o = Options();
  o.url = "https://user:secret@other.test/write";
  auto b = Make(o);
  ASSERT_NE(b, nullptr);
  b->Enqueue(Pass({1}), clock_.Now());
  b->SendPending(clock_.Now());
  EXPECT_EQ(MetricValue(registry_, "sextant_shipper_samples_sent_total",
                        {{"url", "https://other.test/write"}}),
            1);
  EXPECT_EQ(Counter("sextant_shipper_samples_sent_total"), 0);
}

TEST(ShipperCreateTest, RejectsBadOptions) {
  FakeReceiver receiver;
  SimulatedClock clock;
  auto bad = [&](auto mutate) {
    ShipperOptions o = Options();
    mutate(o);
    absl::StatusOr<std::unique_ptr<RemoteWriteShipper>> s =
        RemoteWriteShipper::Create(o, receiver, clock);
    return !s.ok() && s.status().code() == absl::StatusCode::kInvalidArgument;
  };
  EXPECT_TRUE(bad([](ShipperOptions& o) { o.url = ""; }));
  EXPECT_TRUE(bad([](ShipperOptions& o) { o.url = "ftp://x/"; }));
  EXPECT_TRUE(bad([](ShipperOptions& o) { o.queue_bytes = 0; }));
  EXPECT_TRUE(bad([](ShipperOptions& o) { o.max_samples_per_request = 0; }));
  EXPECT_TRUE(bad([](ShipperOptions& o) { o.initial_backoff = absl::ZeroDuration(); }));
  EXPECT_TRUE(bad([](ShipperOptions& o) { o.max_backoff = absl::Milliseconds(1); }));
  EXPECT_TRUE(bad([](ShipperOptions& o) { o.timeout = absl::ZeroDuration(); }));
  EXPECT_TRUE(bad([](ShipperOptions& o) { o.jitter = 2; }));
  EXPECT_FALSE(bad([](ShipperOptions&) {}));
  // A metric name already taken with another type.
  prometheus::Registry registry;
  prometheus::BuildGauge().Name("sextant_shipper_samples_sent_total").Register(registry);
  EXPECT_TRUE(bad([&](ShipperOptions& o) { o.metrics = &registry; }));
}

}  // namespace
}  // namespace sextant::collector
