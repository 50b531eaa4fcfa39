// CurlHttpClient's retry policy against a real local HttpServer that answers 503 and 429 before
// succeeding: attempts, backoff sleeps (on a simulated clock) and Retry-After.
#include <atomic>
#include <deque>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant {
namespace {

using ::testing::ElementsAre;

// A simulated clock that also remembers each sleep.
class RecordingClock final : public Clock {
 public:
  absl::Time Now() override { return clock_.Now(); }
  void SleepFor(absl::Duration d) override {
    {
      absl::MutexLock lock(&mu_);
      sleeps_.push_back(d);
    }
    clock_.SleepFor(d);
  }
  bool WaitFor(absl::Notification& stop, absl::Duration d) override {
    return clock_.WaitFor(stop, d);
  }
  std::vector<absl::Duration> sleeps() {
    absl::MutexLock lock(&mu_);
    return sleeps_;
  }

 private:
  SimulatedClock clock_;
  absl::Mutex mu_;
  std::vector<absl::Duration> sleeps_ ABSL_GUARDED_BY(mu_);
};

// One scripted answer: a status and an optional Retry-After value.
struct Scripted {
  int status;
  std::string retry_after;
};

class HttpClientRetryTest : public ::testing::Test {
 protected:
  // Starts a server whose /flaky answers the script in order, then 200 "done" forever.
  void Serve(std::vector<Scripted> script) {
    {
      absl::MutexLock lock(&mu_);
      script_.assign(script.begin(), script.end());
    }
    auto server = HttpServer::Create({});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    server_->Handle("*", "/flaky", [this](const HttpRequest&) {
      absl::MutexLock lock(&mu_);
      ++requests_;
      if (script_.empty()) return HttpResponse::Text(200, "done");
      Scripted next = script_.front();
      script_.pop_front();
      HttpResponse r = HttpResponse::Text(next.status, absl::StrCat("answer ", requests_));
      if (!next.retry_after.empty()) r.headers.Add("Retry-After", next.retry_after);
      return r;
    });
    ASSERT_TRUE(server_->Start().ok());
  }

  std::unique_ptr<CurlHttpClient> Client(HttpRetryPolicy policy) {
    HttpClientOptions options;
    options.retry = policy;
    auto client = CurlHttpClient::Create(options, clock_);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  HttpClientRequest Request(absl::string_view method = "GET") const {
    HttpClientRequest req;
    req.method = std::string(method);
    req.url = absl::StrCat("http://127.0.0.1:", server_->port(), "/flaky");
    return req;
  }

  int requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

  RecordingClock clock_;
  absl::Mutex mu_;
  std::deque<Scripted> script_ ABSL_GUARDED_BY(mu_);
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  std::unique_ptr<HttpServer> server_;
};

// Whether `d` is a valid jittered backoff for retry number `retry` under `p`.
void ExpectBackoff(const HttpRetryPolicy& p, int retry, absl::Duration d) {
  EXPECT_GE(d, HttpRetryBackoff(p, retry, -1)) << "retry " << retry;
  EXPECT_LE(d, HttpRetryBackoff(p, retry, 1)) << "retry " << retry;
}

TEST_F(HttpClientRetryTest, RetriesThrough503And429HonouringRetryAfter) {
  Serve({{503, ""}, {429, "2"}, {503, ""}, {429, "2"}});
  HttpRetryPolicy policy;
  policy.max_attempts = 5;
  policy.initial_backoff = absl::Milliseconds(100);
  policy.multiplier = 2;
  policy.jitter = 0.2;
  auto resp = Client(policy)->Send(Request());
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "done");
  EXPECT_EQ(resp->attempts, 5);
  EXPECT_EQ(requests(), 5);

  const std::vector<absl::Duration> sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 4u);
  ExpectBackoff(policy, 1, sleeps[0]);     // 100 ms +-20%
  EXPECT_EQ(sleeps[1], absl::Seconds(2));  // Retry-After
  ExpectBackoff(policy, 3, sleeps[2]);     // 400 ms +-20%
  EXPECT_EQ(sleeps[3], absl::Seconds(2));  // Retry-After
  EXPECT_GE(sleeps[0], absl::Milliseconds(80));
  EXPECT_LE(sleeps[2], absl::Milliseconds(480));
}

TEST_F(HttpClientRetryTest, GivesUpAfterMaxAttemptsReturningLast503) {
  Serve({{503, ""}, {503, ""}, {503, ""}, {503, ""}, {503, ""}});
  HttpRetryPolicy policy;  // 4 attempts
  auto resp = Client(policy)->Send(Request());
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 503);
  EXPECT_EQ(resp->body, "answer 4");
  EXPECT_EQ(resp->attempts, 4);
  EXPECT_EQ(requests(), 4);
  const std::vector<absl::Duration> sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 3u);
  for (int i = 0; i < 3; ++i) ExpectBackoff(policy, i + 1, sleeps[i]);
}

TEST_F(HttpClientRetryTest, BackoffIsCappedAndRetryAfterToo) {
  Serve({{500, ""}, {502, ""}, {504, ""}, {503, "3600"}, {503, ""}});
  HttpRetryPolicy policy;
  policy.max_attempts = 6;
  policy.initial_backoff = absl::Seconds(1);
  policy.multiplier = 10;
  policy.max_backoff = absl::Seconds(5);
  policy.max_retry_after = absl::Seconds(30);
  auto resp = Client(policy)->Send(Request());
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  const std::vector<absl::Duration> sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 5u);
  ExpectBackoff(policy, 1, sleeps[0]);  // 1 s +-20%
  for (int i : {1, 2, 4}) {
    EXPECT_GE(sleeps[i], absl::Seconds(4));  // 5 s cap, jittered down by up to 20%
    EXPECT_LE(sleeps[i], absl::Seconds(5));
  }
  EXPECT_EQ(sleeps[3], absl::Seconds(30));  // Retry-After capped at max_retry_after
}

TEST_F(HttpClientRetryTest, RetriesEvery5xxButNotImplementedAndVersionNotSupported) {
  // 507, 599 and 520 are retried; 501 and 505 would come again, so they are the answer.
  Serve({{507, ""}, {599, ""}, {520, ""}, {501, ""}, {505, ""}});
  HttpRetryPolicy policy;
  policy.max_attempts = 10;
  auto client = Client(policy);
  auto resp = client->Send(Request());
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 501);
  EXPECT_EQ(resp->attempts, 4);
  resp = client->Send(Request());
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 505);
  EXPECT_EQ(resp->attempts, 1);
  EXPECT_EQ(clock_.sleeps().size(), 3u);
  EXPECT_EQ(requests(), 5);
}

TEST_F(HttpClientRetryTest, RetryAfterDateIsRelativeToTheClock) {
  const std::string in_7s = absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT",
                                             clock_.Now() + absl::Seconds(7), absl::UTCTimeZone());
  Serve({{429, in_7s}});
  auto resp = Client({})->Send(Request());
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_THAT(clock_.sleeps(), ElementsAre(absl::Seconds(7)));
}

TEST_F(HttpClientRetryTest, PostIsRetriedOnlyWhenMarkedRetryable) {
  Serve({{503, ""}, {503, ""}});
  auto client = Client({});
  auto resp = client->Send(Request("POST"));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 503);
  EXPECT_EQ(resp->attempts, 1);
  EXPECT_TRUE(clock_.sleeps().empty());

  HttpClientRequest retryable = Request("POST");
  retryable.retryable = true;
  resp = client->Send(retryable);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->attempts, 2);
  EXPECT_EQ(clock_.sleeps().size(), 1u);
}

TEST_F(HttpClientRetryTest, NoRetryOnceAStreamedBodyHasBegun) {
  // A watch that breaks off after its first event (the connection closes mid-body).
  auto server = HttpServer::Create({});
  ASSERT_TRUE(server.ok());
  std::atomic<int> calls{0};
  (*server)->Handle("GET", "/watch", [&](const HttpRequest&) {
    ++calls;
    HttpResponse r;
    r.stream = [](HttpStreamWriter& w) {
      w.Write("event 1\n");
      throw std::runtime_error("torn down");
    };
    return r;
  });
  ASSERT_TRUE((*server)->Start().ok());
  auto client = Client({});
  HttpClientRequest req;
  req.url = absl::StrCat("http://127.0.0.1:", (*server)->port(), "/watch");

  // Collected, the broken body is a connection error like any other, and retried.
  auto collected = client->Send(req);
  EXPECT_EQ(collected.status().code(), absl::StatusCode::kUnavailable) << collected.status();
  EXPECT_EQ(calls.load(), 4);
  EXPECT_EQ(clock_.sleeps().size(), 3u);

  // Streamed, the caller has seen part of it: the error is returned at once.
  std::string got;
  req.on_body = [&](absl::string_view chunk) {
    got.append(chunk.data(), chunk.size());
    return true;
  };
  auto streamed = client->Send(req);
  EXPECT_EQ(streamed.status().code(), absl::StatusCode::kUnavailable) << streamed.status();
  EXPECT_EQ(got, "event 1\n");
  EXPECT_EQ(calls.load(), 5);
  EXPECT_EQ(clock_.sleeps().size(), 3u);
}

}  // namespace
}  // namespace sextant
