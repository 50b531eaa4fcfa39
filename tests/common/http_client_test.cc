#include "common/http_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/build_info.h"
#include "common/clock.h"
#include "common/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sextant {
namespace {

using ::testing::HasSubstr;

std::string TlsPath(absl::string_view name) {
  return testing::SourcePath(absl::StrCat("tests/testdata/tls/", name));
}

// A loopback server on port 0 whose routes the test adds, plus a simulated clock for clients.
class HttpClientTest : public ::testing::Test {
 protected:
  void StartServer(const std::function<void(HttpServer&)>& routes, HttpServerOptions options = {}) {
    auto server = HttpServer::Create(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    routes(*server_);
    ASSERT_TRUE(server_->Start().ok());
  }

  std::unique_ptr<CurlHttpClient> NewClient(HttpClientOptions options = {}) {
    auto client = CurlHttpClient::Create(options, clock_);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  std::string Url(absl::string_view path, absl::string_view scheme = "http") const {
    return absl::StrCat(scheme, "://127.0.0.1:", server_->port(), path);
  }

  static HttpClientRequest Get(std::string url) {
    HttpClientRequest req;
    req.url = std::move(url);
    return req;
  }

  SimulatedClock clock_;
  std::unique_ptr<HttpServer> server_;
};

// Answers with a description of the request it got.
HttpResponse Describe(const HttpRequest& r) {
  return HttpResponse::Text(
      200, absl::StrCat(r.method, " ", r.path, "?", r.raw_query, " body=", r.body,
                        " ua=", r.headers.Get("user-agent"), " x=", r.headers.Get("x-test"), " ct=",
                        r.headers.Get("content-type"), " auth=", r.headers.Get("authorization")));
}

TEST_F(HttpClientTest, SendsMethodsBodiesAndHeaders) {
  StartServer([](HttpServer& s) {
    s.Handle("*", "/echo", [](const HttpRequest& r) {
      HttpResponse resp = Describe(r);
      resp.headers.Add("X-Reply", "yes");
      return resp;
    });
  });
  auto client = NewClient();
  HttpClientRequest req = Get(Url("/echo?a=1"));
  req.headers.Add("X-Test", "hello");
  auto resp = client->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->attempts, 1);
  EXPECT_EQ(resp->headers.Get("x-reply"), "yes");
  EXPECT_EQ(resp->body,
            absl::StrCat("GET /echo?a=1 body= ua=sextant/", SEXTANT_VERSION, " x=hello ct= auth="));

  req = Get(Url("/echo"));
  req.method = "POST";
  req.body = "payload";
  req.headers.Add("Content-Type", "application/x-protobuf");
  resp = client->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_THAT(resp->body, HasSubstr("POST /echo? body=payload"));
  EXPECT_THAT(resp->body, HasSubstr("ct=application/x-protobuf"));

  // Without a Content-Type none is invented; PUT, PATCH and DELETE keep their names.
  for (const char* method : {"PUT", "PATCH", "DELETE"}) {
    req = Get(Url("/echo"));
    req.method = method;
    req.body = method == std::string("DELETE") ? "" : "b";
    resp = client->Send(req);
    ASSERT_TRUE(resp.ok()) << resp.status();
    EXPECT_THAT(resp->body, HasSubstr(absl::StrCat(method, " /echo?")));
    EXPECT_THAT(resp->body, HasSubstr(" ct= "));
  }
}

TEST_F(HttpClientTest, NonSuccessAnswersAreResponsesNotErrors) {
  StartServer([](HttpServer& s) {
    s.Handle("GET", "/missing",
             [](const HttpRequest&) { return HttpResponse::JsonError(404, "not_found", "nope"); });
  });
  auto resp = NewClient()->Send(Get(Url("/missing")));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 404);
  EXPECT_THAT(resp->body, HasSubstr("nope"));
}

TEST_F(HttpClientTest, TimeoutIsDeadlineExceededAndRetriedOnlyWhenRetryable) {
  // The handler holds every request until the client has given up on all of them, so each
  // attempt surely times out; it is released before anything can fail or wait on the server.
  absl::Notification release;
  std::atomic<int> calls{0};
  StartServer([&](HttpServer& s) {
    s.Handle("*", "/slow", [&](const HttpRequest&) {
      ++calls;
      release.WaitForNotification();
      return HttpResponse::Text(200, "late");
    });
  });
  HttpClientOptions options;
  options.retry.max_attempts = 2;
  auto client = NewClient(options);
  HttpClientRequest get = Get(Url("/slow"));
  get.timeout = absl::Milliseconds(200);
  auto get_resp = client->Send(get);
  HttpClientRequest post = get;
  post.method = "POST";
  auto post_resp = client->Send(post);
  release.Notify();

  ASSERT_FALSE(get_resp.ok());
  EXPECT_EQ(get_resp.status().code(), absl::StatusCode::kDeadlineExceeded) << get_resp.status();
  EXPECT_THAT(get_resp.status().message(), HasSubstr("after 2 attempts"));
  // A POST that reached the server is not sent again: it may have taken effect.
  ASSERT_FALSE(post_resp.ok());
  EXPECT_EQ(post_resp.status().code(), absl::StatusCode::kDeadlineExceeded) << post_resp.status();
  EXPECT_THAT(post_resp.status().message(), ::testing::Not(HasSubstr("attempts")));
  EXPECT_EQ(clock_.sleep_count(), 1);
  EXPECT_LE(calls.load(), 3);
}

TEST_F(HttpClientTest, ConnectTimeoutIsRetriedEvenForPost) {
  // A listener with a full accept queue: the kernel drops further SYNs, so connecting to it
  // hangs until the client's connect timeout. Nothing is sent, so even a POST may be retried.
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(listener, 0), 0);
  socklen_t len = sizeof(addr);
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  // For a listener, TCP_INFO gives the accept queue's length (unacked) and limit (sacked).
  auto queue_full = [listener] {
    tcp_info info{};
    socklen_t size = sizeof(info);
    getsockopt(listener, IPPROTO_TCP, TCP_INFO, &info, &size);
    return info.tcpi_unacked > info.tcpi_sacked;
  };
  std::vector<int> fillers;
  for (int i = 0; i < 4 && !queue_full(); ++i) {
    fillers.push_back(socket(AF_INET, SOCK_STREAM, 0));
    timeval bound{2, 0};  // a connect that hangs means the queue has filled meanwhile
    setsockopt(fillers.back(), SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof(bound));
    connect(fillers.back(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  }
  ASSERT_TRUE(queue_full());

  HttpClientOptions options;
  options.retry.max_attempts = 3;
  options.connect_timeout = absl::Milliseconds(100);
  auto client = NewClient(options);
  HttpClientRequest post = Get(absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/"));
  post.method = "POST";
  post.body = "x";
  auto resp = client->Send(post);
  for (int fd : fillers) close(fd);
  close(listener);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kDeadlineExceeded) << resp.status();
  EXPECT_THAT(resp.status().message(), HasSubstr("after 3 attempts"));
  EXPECT_EQ(clock_.sleep_count(), 2);
}

TEST_F(HttpClientTest, ConnectionRefusedIsUnavailableAfterConfiguredAttempts) {
  // A bound socket that does not listen: connecting to it is refused, and no one else can take
  // the port meanwhile.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);

  HttpClientOptions options;
  options.retry.max_attempts = 3;
  auto client = NewClient(options);
  auto resp = client->Send(Get(absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/")));
  close(fd);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(resp.status().message(), HasSubstr("after 3 attempts"));
  EXPECT_EQ(clock_.sleep_count(), 2);
  // Even a POST is retried when the connection was never made.
  HttpClientRequest post = Get(absl::StrCat("http://127.0.0.1:", ntohs(addr.sin_port), "/"));
  post.method = "POST";
  EXPECT_EQ(client->Send(post).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(clock_.sleep_count(), 4);
}

TEST_F(HttpClientTest, CreateValidatesOptions) {
  HttpClientOptions missing_ca;
  missing_ca.ca_file = "/nonexistent/ca.pem";
  auto c = CurlHttpClient::Create(missing_ca, clock_);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("/nonexistent/ca.pem"));

  HttpClientOptions not_pem;
  not_pem.ca_pem = "hello";
  EXPECT_EQ(CurlHttpClient::Create(not_pem, clock_).status().code(),
            absl::StatusCode::kInvalidArgument);

  HttpClientOptions cert_only;
  cert_only.client_cert_file = TlsPath("client.pem");
  EXPECT_THAT(CurlHttpClient::Create(cert_only, clock_).status().message(),
              HasSubstr("go together"));

  HttpClientOptions both_tokens;
  both_tokens.bearer_token = "a";
  both_tokens.bearer_token_file = TlsPath("ca.pem");
  EXPECT_FALSE(CurlHttpClient::Create(both_tokens, clock_).ok());

  HttpClientOptions missing_token;
  missing_token.bearer_token_file = "/nonexistent/token";
  EXPECT_THAT(CurlHttpClient::Create(missing_token, clock_).status().message(),
              HasSubstr("/nonexistent/token"));

  HttpClientOptions bad_retry;
  bad_retry.retry.max_attempts = 0;
  EXPECT_FALSE(CurlHttpClient::Create(bad_retry, clock_).ok());
}

class HttpClientTlsTest : public HttpClientTest {
 protected:
  void StartTlsServer(bool require_client_cert) {
    HttpServerOptions options;
    options.tls_cert_file = TlsPath("server.pem");
    options.tls_key_file = TlsPath("server-key.pem");
    if (require_client_cert) options.tls_client_ca_file = TlsPath("ca.pem");
    StartServer([](HttpServer& s) { s.Handle("GET", "/hello", Describe); }, options);
  }

  absl::StatusOr<HttpClientResponse> Hello(HttpClientOptions options) {
    options.retry.max_attempts = 1;
    auto client = CurlHttpClient::Create(options, clock_);
    if (!client.ok()) return client.status();
    return (*client)->Send(Get(Url("/hello", "https")));
  }
};

TEST_F(HttpClientTlsTest, VerifiesServerWithCaFileOrPem) {
  StartTlsServer(/*require_client_cert=*/false);
  HttpClientOptions from_file;
  from_file.ca_file = TlsPath("ca.pem");
  auto resp = Hello(from_file);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);

  HttpClientOptions from_pem;
  from_pem.ca_pem = testing::ReadFileOrDie(TlsPath("ca.pem"));
  resp = Hello(from_pem);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
}

TEST_F(HttpClientTlsTest, RejectsServerSignedByAnotherCa) {
  StartTlsServer(/*require_client_cert=*/false);
  HttpClientOptions wrong;
  wrong.ca_file = TlsPath("other-ca.pem");
  wrong.retry.max_attempts = 3;
  auto client = NewClient(wrong);
  auto resp = client->Send(Get(Url("/hello", "https")));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(resp.status().message(), HasSubstr("certificate"));
  EXPECT_EQ(clock_.sleep_count(), 0);  // an untrusted certificate does not heal by retrying

  // Unless verification is off.
  HttpClientOptions insecure;
  insecure.insecure_skip_verify = true;
  auto ok = Hello(insecure);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpClientTlsTest, PresentsClientCertificateFromFileOrPem) {
  StartTlsServer(/*require_client_cert=*/true);
  HttpClientOptions none;
  none.ca_file = TlsPath("ca.pem");
  auto refused = Hello(none);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();

  HttpClientOptions files = none;
  files.client_cert_file = TlsPath("client.pem");
  files.client_key_file = TlsPath("client-key.pem");
  auto resp = Hello(files);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);

  HttpClientOptions pems = none;
  pems.client_cert_pem = testing::ReadFileOrDie(TlsPath("client.pem"));
  pems.client_key_pem = testing::ReadFileOrDie(TlsPath("client-key.pem"));
  resp = Hello(pems);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
}

TEST_F(HttpClientTlsTest, SendsBearerTokenOverTls) {
  StartTlsServer(/*require_client_cert=*/false);
  HttpClientOptions options;
  options.ca_file = TlsPath("ca.pem");
  options.bearer_token = "secret";
  auto resp = Hello(options);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_THAT(resp->body, HasSubstr("auth=Bearer secret"));
}

TEST_F(HttpClientTest, SendsTokenOnlyOverHttpsAndNeedsAnHttpScheme) {
  std::atomic<int> calls{0};
  StartServer([&](HttpServer& s) {
    s.Handle("GET", "/echo", [&](const HttpRequest& r) {
      ++calls;
      return Describe(r);
    });
  });
  HttpClientOptions options;
  options.bearer_token = "secret";
  auto resp = NewClient(options)->Send(Get(Url("/echo")));
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kFailedPrecondition);
  // The scheme is case-insensitive.
  resp = NewClient(options)->Send(Get(Url("/echo", "HTTP")));
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kFailedPrecondition) << resp.status();
  // Without a scheme curl would guess plain http: refused, with or without a token, as is any
  // scheme but http and https.
  const std::string hostport = absl::StrCat("127.0.0.1:", server_->port());
  for (const std::string& url :
       {absl::StrCat(hostport, "/echo"), absl::StrCat("//", hostport, "/echo"),
        absl::StrCat(" http://", hostport, "/echo"), absl::StrCat("ftp://", hostport, "/echo"),
        absl::StrCat("file:///etc/hostname")}) {
    for (const bool token : {true, false}) {
      HttpClientOptions o;
      if (token) o.bearer_token = "secret";
      resp = NewClient(o)->Send(Get(url));
      ASSERT_FALSE(resp.ok()) << url;
      EXPECT_EQ(resp.status().code(), absl::StatusCode::kInvalidArgument) << url;
      EXPECT_THAT(resp.status().message(), HasSubstr("http:// or https://")) << url;
    }
  }
  EXPECT_EQ(calls.load(), 0);

  options.allow_token_over_http = true;
  resp = NewClient(options)->Send(Get(Url("/echo")));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_THAT(resp->body, HasSubstr("auth=Bearer secret"));
}

TEST_F(HttpClientTest, RereadsTokenFileWhenStaleAndAfter401) {
  absl::Mutex mu;
  std::string accepted = "token-1";
  std::vector<std::string> seen;
  StartServer([&](HttpServer& s) {
    s.Handle("GET", "/api", [&](const HttpRequest& r) {
      absl::MutexLock lock(&mu);
      seen.emplace_back(r.headers.Get("authorization"));
      if (r.headers.Get("authorization") != absl::StrCat("Bearer ", accepted)) {
        return HttpResponse::Text(401, "unauthorized");
      }
      return HttpResponse::Text(200, "ok");
    });
  });
  testing::TempDir dir;
  const std::string token_file = dir.WriteFile("token", "token-1\n");
  HttpClientOptions options;
  options.bearer_token_file = token_file;
  options.allow_token_over_http = true;
  options.token_reload = absl::Minutes(1);
  auto client = NewClient(options);

  auto resp = client->Send(Get(Url("/api")));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);

  // The file changes; within token_reload the copy in memory is still used.
  dir.WriteFile("token", "token-2");
  clock_.Advance(absl::Seconds(30));
  resp = client->Send(Get(Url("/api")));
  ASSERT_TRUE(resp.ok());
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(seen.back(), "Bearer token-1");
    accepted = "token-2";
  }
  // Once stale it is read again.
  clock_.Advance(absl::Seconds(31));
  resp = client->Send(Get(Url("/api")));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 200);
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(seen.back(), "Bearer token-2");
    accepted = "token-3";
  }

  // A rotation the client has not seen yet: the 401 makes it re-read at once and resend.
  dir.WriteFile("token", "token-3");
  resp = client->Send(Get(Url("/api")));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->attempts, 2);
  {
    absl::MutexLock lock(&mu);
    ASSERT_GE(seen.size(), 2u);
    EXPECT_EQ(seen[seen.size() - 2], "Bearer token-2");
    EXPECT_EQ(seen.back(), "Bearer token-3");
    accepted = "token-4";
  }
  // An unchanged token is not resent: the 401 is the answer.
  resp = client->Send(Get(Url("/api")));
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 401);
  EXPECT_EQ(resp->attempts, 1);
  EXPECT_EQ(clock_.sleep_count(), 0);
}

TEST_F(HttpClientTest, DecodesGzipBodies) {
  const std::string big(10000, 'q');
  StartServer([&](HttpServer& s) {
    s.Handle("GET", "/big", [&](const HttpRequest& r) {
      EXPECT_THAT(std::string(r.headers.Get("accept-encoding")), HasSubstr("gzip"));
      return HttpResponse::Text(200, big);
    });
  });
  auto resp = NewClient()->Send(Get(Url("/big")));
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->headers.Get("content-encoding"), "gzip");
  EXPECT_EQ(resp->body, big);
}

TEST_F(HttpClientTest, StreamsBodyToCallbackAndStopsWhenAsked) {
  StartServer([](HttpServer& s) {
    s.Handle("GET", "/watch", [](const HttpRequest&) {
      HttpResponse r;
      r.stream = [](HttpStreamWriter& w) {
        for (int i = 0; i < 1000 && w.Write(absl::StrCat("event ", i, "\n")); ++i) {
        }
      };
      return r;
    });
    s.Handle("GET", "/denied",
             [](const HttpRequest&) { return HttpResponse::Text(403, "forbidden"); });
  });
  auto client = NewClient();
  std::string got;
  HttpClientRequest req = Get(Url("/watch"));
  req.timeout = absl::InfiniteDuration();
  req.on_body = [&](absl::string_view chunk) {
    got.append(chunk.data(), chunk.size());
    return true;
  };
  auto resp = client->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->body, "");
  EXPECT_THAT(got, HasSubstr("event 0\n"));
  EXPECT_THAT(got, HasSubstr("event 999\n"));

  // Returning false ends the transfer; that is not an error.
  int calls = 0;
  req.on_body = [&](absl::string_view) { return ++calls < 2; };
  resp = client->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(calls, 2);

  // An error answer is collected, not streamed.
  calls = 0;
  req.url = Url("/denied");
  resp = client->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 403);
  EXPECT_EQ(resp->body, "forbidden");
  EXPECT_EQ(calls, 0);
}

TEST_F(HttpClientTest, ThrowingBodyCallbackEndsTransferAsInternal) {
  StartServer([](HttpServer& s) {
    s.Handle("GET", "/data", [](const HttpRequest&) { return HttpResponse::Text(200, "data"); });
  });
  HttpClientRequest req = Get(Url("/data"));
  req.on_body = [](absl::string_view) -> bool { throw std::runtime_error("consumer broke"); };
  auto resp = NewClient()->Send(req);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kInternal) << resp.status();
  EXPECT_THAT(resp.status().message(), HasSubstr("consumer broke"));
  EXPECT_EQ(clock_.sleep_count(), 0);
}

TEST(HttpRetryTest, RetryAfterParsesSecondsAndDatesWithCap) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  const absl::Duration cap = absl::Seconds(60);
  EXPECT_EQ(ParseRetryAfter("2", now, cap), absl::Seconds(2));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now, cap), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("3600", now, cap), cap);
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999", now, cap), cap);
  const std::string in_30s =
      absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", now + absl::Seconds(30), absl::UTCTimeZone());
  EXPECT_EQ(ParseRetryAfter(in_30s, now, cap), absl::Seconds(30));
  const std::string past =
      absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", now - absl::Seconds(30), absl::UTCTimeZone());
  EXPECT_EQ(ParseRetryAfter(past, now, cap), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("soon", now, cap), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now, cap), std::nullopt);
}

TEST(HttpRetryTest, BackoffIsCappedExponentialWithJitter) {
  HttpRetryPolicy p;  // 100 ms, x2, max 10 s, jitter 0.2
  EXPECT_EQ(HttpRetryBackoff(p, 1, 0), absl::Milliseconds(100));
  EXPECT_EQ(HttpRetryBackoff(p, 2, 0), absl::Milliseconds(200));
  EXPECT_EQ(HttpRetryBackoff(p, 4, 0), absl::Milliseconds(800));
  EXPECT_EQ(HttpRetryBackoff(p, 3, -1), absl::Milliseconds(320));
  EXPECT_EQ(HttpRetryBackoff(p, 3, 1), absl::Milliseconds(480));
  EXPECT_EQ(HttpRetryBackoff(p, 20, 0), absl::Seconds(10));
  EXPECT_EQ(HttpRetryBackoff(p, 20, 1), absl::Seconds(10));
  EXPECT_EQ(HttpRetryBackoff(p, 20, -1), absl::Seconds(8));
}

}  // namespace
}  // namespace sextant

namespace sextant {
namespace {

TEST(HttpClientCancelTest, CancelledEndsAStreamInFlightAndIsNotRetried) {
  auto server = HttpServer::Create(HttpServerOptions{});
  ASSERT_TRUE(server.ok());
  std::atomic<int> requests{0};
  (*server)->Handle("GET", "/watch", [&requests](const HttpRequest&) {
    ++requests;
    HttpResponse r;
    r.stream = [](HttpStreamWriter& w) {
      w.Write("{\"type\":\"ADDED\"}\n");
      // Idle until the server stops or the client goes away.
      while (!w.WaitForStop(absl::Milliseconds(50))) {
      }
    };
    return r;
  });
  ASSERT_TRUE((*server)->Start().ok());
  auto client = CurlHttpClient::Create(HttpClientOptions{});
  ASSERT_TRUE(client.ok());
  std::atomic<bool> cancel{false};
  HttpClientRequest req;
  req.url = "http://" + (*server)->address() + "/watch";
  req.timeout = absl::InfiniteDuration();
  req.on_body = [&cancel](absl::string_view) {
    cancel = true;  // got the first event: ask to stop while the stream then idles
    return true;
  };
  req.cancelled = [&cancel] { return cancel.load(); };
  const absl::Time start = absl::Now();
  absl::StatusOr<HttpClientResponse> resp = (*client)->Send(req);
  EXPECT_EQ(resp.status().code(), absl::StatusCode::kCancelled) << resp.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_EQ(requests.load(), 1);
  // Cancelled before it starts: nothing is sent.
  HttpClientRequest never;
  never.url = req.url;
  never.cancelled = [] { return true; };
  EXPECT_EQ((*client)->Send(never).status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(requests.load(), 1);
  (*server)->Stop();
}

}  // namespace
}  // namespace sextant
