#include "common/http_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <dlfcn.h>
#include <link.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/http_client.h"
#include "common/json.h"
#include "common/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/util/test_util.h"

namespace sextant {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A raw loopback connection, for requests a normal client would not send.
class RawConnection {
 public:
  explicit RawConnection(int port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    timeval tv{10, 0};  // a safety net against hangs, never reached when the server is right
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ADD_FAILURE() << "connect failed";
    }
  }
  ~RawConnection() { close(fd_); }

  void Send(absl::string_view data) {
    size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
  }

  // Reads until `marker` has arrived (returning everything up to and including it) or, with an
  // empty marker, until the server closes the connection.
  std::string Read(absl::string_view marker = "") {
    char buf[4096];
    while (marker.empty() || !absl::StrContains(pending_, marker)) {
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      pending_.append(buf, static_cast<size_t>(n));
    }
    const size_t end =
        marker.empty() ? std::string::npos : absl::string_view(pending_).find(marker);
    const size_t take = end == std::string::npos ? pending_.size() : end + marker.size();
    std::string out = pending_.substr(0, take);
    pending_.erase(0, take);
    return out;
  }

 private:
  const int fd_;
  std::string pending_;
};

// Sends `request` on a fresh connection and returns all the server sends until it closes the
// connection (requests should say "Connection: close").
std::string RawExchange(int port, absl::string_view request) {
  RawConnection c(port);
  c.Send(request);
  return c.Read();
}

std::string Gunzip(absl::string_view in) {
  z_stream zs{};
  inflateInit2(&zs, 15 + 16);
  std::string out;
  char buf[4096];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&zs);
  return out;
}

class HttpServerTest : public ::testing::Test {
 protected:
  // Creates and starts the server with the routes added by `routes`.
  void StartServer(const std::function<void(HttpServer&)>& routes, HttpServerOptions options = {}) {
    auto server = HttpServer::Create(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    routes(*server_);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_GT(server_->port(), 0);
    HttpClientOptions copts;
    copts.retry.max_attempts = 1;
    auto client = CurlHttpClient::Create(copts);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  std::string Url(absl::string_view path) const {
    return absl::StrCat("http://127.0.0.1:", server_->port(), path);
  }

  HttpClientResponse Fetch(absl::string_view method, absl::string_view path, std::string body = "",
                           absl::string_view content_type = "") {
    HttpClientRequest req;
    req.method = std::string(method);
    req.url = Url(path);
    req.body = std::move(body);
    if (!content_type.empty()) req.headers.Add("Content-Type", content_type);
    auto resp = client_->Send(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    return resp.ok() ? *std::move(resp) : HttpClientResponse{};
  }

  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<CurlHttpClient> client_;
};

HttpHandler Echo(absl::string_view tag) {
  return [tag = std::string(tag)](const HttpRequest& r) {
    std::string out = tag;
    for (const auto& [k, v] : r.path_params) absl::StrAppend(&out, " ", k, "=", v);
    return HttpResponse::Text(200, out);
  };
}

TEST(HttpParamsTest, ParsesUrlEncodedKeepingRepeatsInOrder) {
  auto p = ParseUrlEncoded("match[]=up&query=a+b%3D1&match[]=%7Bjob%3D%22x%22%7D&empty&=v");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->GetAll("match[]"), ElementsAre("up", "{job=\"x\"}"));
  EXPECT_EQ(p->Get("query"), "a b=1");
  EXPECT_TRUE(p->Has("empty"));
  EXPECT_EQ(p->Get("empty"), "");
  EXPECT_EQ(p->Get(""), "v");
  EXPECT_FALSE(p->Has("missing"));
  EXPECT_EQ(p->Get("missing"), "");
}

TEST(HttpParamsTest, RejectsBadEscapes) {
  EXPECT_EQ(ParseUrlEncoded("a=%zz").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseUrlEncoded("a=%4").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(UrlDecode("100%", false).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(HttpParamsTest, UrlEncodeRoundTrips) {
  const std::string raw = "a b/c?d=e&f~g_h.i-j\xc3\xa9";
  EXPECT_EQ(UrlEncode(raw), "a%20b%2Fc%3Fd%3De%26f~g_h.i-j%C3%A9");
  EXPECT_EQ(*UrlDecode(UrlEncode(raw), false), raw);
  EXPECT_EQ(*UrlDecode("a+b", false), "a+b");
  EXPECT_EQ(*UrlDecode("a+b", true), "a b");
}

TEST(HttpHeadersTest, LookupIgnoresCase) {
  HttpHeaders h;
  h.Add("Content-Type", "text/plain");
  h.Add("X-Multi", "1");
  h.Add("x-multi", "2");
  EXPECT_EQ(h.Get("content-type"), "text/plain");
  EXPECT_EQ(h.Get("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(h.Get("x-MULTI"), "1");
  EXPECT_FALSE(h.Has("accept"));
  EXPECT_EQ(h.all().size(), 3u);
}

TEST(HttpResponseTest, JsonErrorIsPrometheusEnvelope) {
  HttpResponse r = HttpResponse::JsonError(400, "bad_data", "parse error: \"x\"");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers.Get("content-type"), "application/json");
  EXPECT_EQ(r.body, R"({"status":"error","errorType":"bad_data","error":"parse error: \"x\""})");
  EXPECT_TRUE(ValidateJson(r.body).ok());
}

TEST(HttpServerCreateTest, RejectsIpv6WithClearError) {
  HttpServerOptions options;
  options.listen = "[::1]:0";
  auto server = HttpServer::Create(options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(server.status().message(), HasSubstr("IPv6"));
}

TEST(HttpServerCreateTest, RejectsBadListenAddress) {
  for (const char* listen : {"nonsense", "127.0.0.1:99999", "127.0.0.1:x"}) {
    HttpServerOptions options;
    options.listen = listen;
    EXPECT_EQ(HttpServer::Create(options).status().code(), absl::StatusCode::kInvalidArgument)
        << listen;
  }
}

TEST(HttpServerCreateTest, StartTwiceFailsAndBusyPortIsUnavailable) {
  auto first = HttpServer::Create({});
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Start().ok());
  EXPECT_EQ((*first)->Start().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*first)->address(), absl::StrCat("127.0.0.1:", (*first)->port()));

  const std::string taken = absl::StrCat("127.0.0.1:", (*first)->port());
  HttpServerOptions options;
  options.listen = taken;
  auto second = HttpServer::Create(options);
  ASSERT_TRUE(second.ok());
  absl::Status s = (*second)->Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr(taken));
  (*first)->Stop();
  (*first)->Stop();  // idempotent
}

TEST_F(HttpServerTest, RoutesByMethodAndPathWithParams) {
  StartServer([](HttpServer& s) {
    s.Handle("GET", "/api/v1/label/<name>/values", Echo("values"));
    s.Handle("GET", "/api/v1/<what>", Echo("param"));
    s.Handle("GET", "/api/v1/query", Echo("exact"));
    s.Handle("POST", "/api/v1/write", Echo("write"));
    s.Handle("GET", "/static/<rest...>", Echo("static"));
    s.Handle("*", "/any", Echo("any"));
    s.Handle("GET", "/", Echo("root"));
  });
  EXPECT_EQ(Fetch("GET", "/api/v1/label/job/values").body, "values name=job");
  // An escaped '/' stays inside its segment.
  EXPECT_EQ(Fetch("GET", "/api/v1/label/a%2Fb/values").body, "values name=a/b");
  EXPECT_EQ(Fetch("GET", "/api/v1/query").body, "exact");
  EXPECT_EQ(Fetch("GET", "/api/v1/series").body, "param what=series");
  // A parameter route of the right method beats an exact route of another.
  EXPECT_EQ(Fetch("GET", "/api/v1/write").body, "param what=write");
  EXPECT_EQ(Fetch("POST", "/api/v1/write", "x").body, "write");
  EXPECT_EQ(Fetch("GET", "/static/css/site.css").body, "static rest=css/site.css");
  EXPECT_EQ(Fetch("DELETE", "/any").body, "any");
  EXPECT_EQ(Fetch("GET", "/").body, "root");
  HttpClientResponse head = Fetch("HEAD", "/api/v1/query");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers.Get("content-length"), "5");
  EXPECT_EQ(head.body, "");
}

TEST_F(HttpServerTest, FirstRouteWinsAmongEquals) {
  StartServer([](HttpServer& s) {
    s.Handle("GET", "/x/<a>", Echo("first"));
    s.Handle("GET", "/x/<b>", Echo("second"));
  });
  EXPECT_EQ(Fetch("GET", "/x/1").body, "first a=1");
}

TEST_F(HttpServerTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  StartServer([](HttpServer& s) {
    s.Handle("GET", "/api/v1/query", Echo("q"));
    s.Handle("POST", "/api/v1/query", Echo("q"));
    s.Handle("PUT", "/thing/<id>", Echo("t"));
  });
  HttpClientResponse missing = Fetch("GET", "/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.headers.Get("content-type"), "application/json");
  EXPECT_THAT(missing.body, HasSubstr(R"("status":"error","errorType":"not_found")"));
  EXPECT_TRUE(ValidateJson(missing.body).ok());

  HttpClientResponse wrong = Fetch("DELETE", "/api/v1/query");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.headers.Get("allow"), "GET, HEAD, POST");
  EXPECT_THAT(wrong.body, HasSubstr(R"("status":"error")"));
  EXPECT_EQ(Fetch("GET", "/thing/7").headers.Get("allow"), "PUT");
}

TEST_F(HttpServerTest, MergesQueryAndFormKeepingRepeatedMatchers) {
  std::vector<std::string> seen;
  std::string query;
  absl::Mutex mu;
  StartServer([&](HttpServer& s) {
    s.Handle("*", "/api/v1/series", [&](const HttpRequest& r) {
      absl::MutexLock lock(&mu);
      seen = r.params.GetAll("match[]");
      query = std::string(r.params.Get("query"));
      return HttpResponse::Json(200, R"({"status":"success"})");
    });
  });
  Fetch("GET", "/api/v1/series?match[]=up&match[]=%7Bjob%3D%22a%22%7D");
  {
    absl::MutexLock lock(&mu);
    EXPECT_THAT(seen, ElementsAre("up", "{job=\"a\"}"));
  }
  // Form values come first, as in Go's Request.Form, so they win in Get().
  Fetch("POST", "/api/v1/series?match[]=from_query&query=q1",
        "match[]=a&match[]=b%7Bc%3D%22d%22%7D&query=q2",
        "application/x-www-form-urlencoded; charset=utf-8");
  {
    absl::MutexLock lock(&mu);
    EXPECT_THAT(seen, ElementsAre("a", "b{c=\"d\"}", "from_query"));
    EXPECT_EQ(query, "q2");
  }
  // A body of another type is not parsed as a form.
  Fetch("POST", "/api/v1/series?match[]=q", "match[]=ignored", "text/plain");
  {
    absl::MutexLock lock(&mu);
    EXPECT_THAT(seen, ElementsAre("q"));
  }
  EXPECT_EQ(Fetch("GET", "/api/v1/series?match[]=%zz").status, 400);
  EXPECT_EQ(
      Fetch("POST", "/api/v1/series", "match[]=%", "application/x-www-form-urlencoded").status,
      400);
}

TEST_F(HttpServerTest, BodyOverLimitByContentLengthIs413WithoutReadingIt) {
  std::atomic<int> calls{0};
  HttpServerOptions options;
  options.max_body_bytes = 1024;
  StartServer(
      [&](HttpServer& s) {
        s.Handle("POST", "/api/v1/write", [&](const HttpRequest& r) {
          ++calls;
          return HttpResponse::Text(204, std::to_string(r.body.size()));
        });
      },
      options);
  // Only the head is sent: the answer must come without the server waiting for the body.
  const std::string answer =
      RawExchange(server_->port(),
                  "POST /api/v1/write HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n");
  EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 413 ")) << answer;
  EXPECT_THAT(answer, HasSubstr("Connection: close"));
  EXPECT_THAT(answer, HasSubstr(R"("errorType":"bad_data")"));
  EXPECT_EQ(calls.load(), 0);
  // At the limit is fine.
  EXPECT_EQ(Fetch("POST", "/api/v1/write", std::string(1024, 'x')).status, 204);
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(HttpServerTest, AnswersExpectContinueBeforeTheBody) {
  StartServer([](HttpServer& s) {
    s.Handle("PUT", "/blob", [](const HttpRequest& r) { return HttpResponse::Text(200, r.body); });
  });
  RawConnection c(server_->port());
  c.Send(
      "PUT /blob HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
      "Connection: close\r\n\r\n");
  EXPECT_EQ(c.Read("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  c.Send("hello");
  const std::string answer = c.Read();
  EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.1 200 OK\r\n")) << answer;
  EXPECT_TRUE(absl::EndsWith(answer, "\r\n\r\nhello")) << answer;
}

TEST_F(HttpServerTest, ChunkedBodyOverLimitIs413) {
  std::atomic<int> calls{0};
  std::atomic<size_t> size{0};
  HttpServerOptions options;
  options.max_body_bytes = 1000;
  StartServer(
      [&](HttpServer& s) {
        s.Handle("POST", "/upload", [&](const HttpRequest& r) {
          ++calls;
          size = r.body.size();
          return HttpResponse::Text(200, "ok");
        });
      },
      options);
  auto chunked = [](int chunks) {
    std::string req =
        "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n";
    for (int i = 0; i < chunks; ++i)
      absl::StrAppend(&req, "100\r\n", std::string(256, 'a'), "\r\n");
    return req + "0\r\n\r\n";
  };
  const std::string small = RawExchange(server_->port(), chunked(3));
  EXPECT_TRUE(absl::StartsWith(small, "HTTP/1.1 200 ")) << small;
  EXPECT_EQ(size.load(), 768u);
  const std::string big = RawExchange(server_->port(), chunked(8));
  EXPECT_TRUE(absl::StartsWith(big, "HTTP/1.1 413 ")) << big;
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(HttpServerTest, StreamsChunks) {
  StartServer([](HttpServer& s) {
    s.Handle("GET", "/watch", [](const HttpRequest&) {
      HttpResponse r = HttpResponse::Text(200, "", "application/json");
      r.stream = [](HttpStreamWriter& w) {
        for (int i = 0; i < 3; ++i) {
          if (!w.Write(absl::StrCat("{\"n\":", i, "}\n"))) return;
        }
      };
      return r;
    });
  });
  std::vector<std::string> chunks;
  HttpClientRequest req;
  req.url = Url("/watch");
  req.on_body = [&](absl::string_view c) {
    chunks.emplace_back(c);
    return true;
  };
  auto resp = client_->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(resp->headers.Get("transfer-encoding"), "chunked");
  std::string all;
  for (const auto& c : chunks) all += c;
  EXPECT_EQ(all, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");

  const std::string raw =
      RawExchange(server_->port(), "GET /watch HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(raw, HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_TRUE(absl::EndsWith(raw, "8\r\n{\"n\":2}\n\r\n0\r\n\r\n")) << raw;
}

TEST_F(HttpServerTest, GzipsLargeBodiesForClientsThatAcceptIt) {
  const std::string big(5000, 'z');
  StartServer([&](HttpServer& s) {
    s.Handle("GET", "/big", [&](const HttpRequest&) { return HttpResponse::Text(200, big); });
    s.Handle("GET", "/small", [](const HttpRequest&) { return HttpResponse::Text(200, "tiny"); });
  });
  const std::string gz = RawExchange(
      server_->port(),
      "GET /big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, gzip\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(gz, HasSubstr("Content-Encoding: gzip\r\n"));
  EXPECT_THAT(gz, HasSubstr("Vary: Accept-Encoding\r\n"));
  const size_t body_at = gz.find("\r\n\r\n");
  ASSERT_NE(body_at, std::string::npos);
  EXPECT_LT(gz.size() - body_at, 200u);
  EXPECT_EQ(Gunzip(gz.substr(body_at + 4)), big);

  const std::string refused = RawExchange(
      server_->port(),
      "GET /big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip;q=0\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(refused, ::testing::Not(HasSubstr("Content-Encoding")));
  EXPECT_TRUE(absl::EndsWith(refused, big));
  EXPECT_THAT(refused, HasSubstr("Vary: Accept-Encoding\r\n"));
  const std::string small = RawExchange(
      server_->port(),
      "GET /small HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(small, ::testing::Not(HasSubstr("Content-Encoding")));
  EXPECT_THAT(small, ::testing::Not(HasSubstr("Vary")));
  // The client decodes transparently.
  HttpClientResponse decoded = Fetch("GET", "/big");
  EXPECT_EQ(decoded.headers.Get("content-encoding"), "gzip");
  EXPECT_EQ(decoded.body, big);
}

// The header block of a raw answer, up to the blank line.
std::string HeadOf(absl::string_view answer) {
  return std::string(answer.substr(0, answer.find("\r\n\r\n") + 2));
}

TEST_F(HttpServerTest, VaryIsSentOnEveryCompressibleAnswerAndHeadMatchesGet) {
  const std::string big(5000, 'z');
  StartServer([&](HttpServer& s) {
    s.Handle("GET", "/big", [&](const HttpRequest&) { return HttpResponse::Text(200, big); });
  });
  // Without Accept-Encoding the body goes as is, but a cache must still know it could differ.
  const std::string plain =
      RawExchange(server_->port(), "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(plain, HasSubstr("Vary: Accept-Encoding\r\n"));
  EXPECT_THAT(plain, ::testing::Not(HasSubstr("Content-Encoding")));
  EXPECT_TRUE(absl::EndsWith(plain, big));

  // HEAD announces what GET would send: the same encoding and length, and no body.
  for (const char* accept : {"", "Accept-Encoding: gzip\r\n"}) {
    const std::string get = RawExchange(
        server_->port(),
        absl::StrCat("GET /big HTTP/1.1\r\nHost: x\r\n", accept, "Connection: close\r\n\r\n"));
    const std::string head = RawExchange(
        server_->port(),
        absl::StrCat("HEAD /big HTTP/1.1\r\nHost: x\r\n", accept, "Connection: close\r\n\r\n"));
    const std::string get_head = HeadOf(get);
    EXPECT_TRUE(absl::EndsWith(head, "\r\n\r\n")) << head;  // nothing after the headers
    // Equal but for the Date line, which may tick between the two.
    auto without_date = [](std::string h) {
      const size_t at = h.find("Date: ");
      return at == std::string::npos ? h : h.erase(at, h.find("\r\n", at) + 2 - at);
    };
    EXPECT_EQ(without_date(HeadOf(head)), without_date(get_head)) << accept;
    EXPECT_EQ(absl::StrContains(get_head, "Content-Encoding: gzip"), accept[0] != '\0');
  }
}

TEST_F(HttpServerTest, LongQueryStringsFitTheDefaultHeaderLimit) {
  std::atomic<size_t> got{0};
  StartServer([&](HttpServer& s) {
    s.Handle("GET", "/api/v1/query", [&](const HttpRequest& r) {
      got = r.params.Get("query").size();
      return HttpResponse::Json(200, R"({"status":"success"})");
    });
  });
  // A PromQL query of about 200 KB, as dashboards with long regex matchers produce.
  const std::string query = absl::StrCat("up{job=~\"", std::string(200'000, 'a'), "\"}");
  HttpClientResponse resp = Fetch("GET", absl::StrCat("/api/v1/query?query=", UrlEncode(query)));
  EXPECT_EQ(resp.status, 200) << resp.body.substr(0, 200);
  EXPECT_EQ(got.load(), query.size());
}

TEST_F(HttpServerTest, RequestHeadOverMaxHeaderBytesIsRefusedByCivetweb) {
  std::atomic<int> calls{0};
  HttpServerOptions options;
  options.max_header_bytes = 4096;
  StartServer(
      [&](HttpServer& s) {
        s.Handle("GET", "/q", [&](const HttpRequest&) {
          ++calls;
          return HttpResponse::Text(200, "ok");
        });
      },
      options);
  EXPECT_EQ(Fetch("GET", absl::StrCat("/q?x=", std::string(2000, 'a'))).status, 200);
  // civetweb answers before any route is found: its own plain-text 400.
  HttpClientResponse big = Fetch("GET", absl::StrCat("/q?x=", std::string(8000, 'a')));
  EXPECT_EQ(big.status, 400);
  EXPECT_EQ(big.headers.Get("connection"), "close");
  EXPECT_EQ(calls.load(), 1);

  options.max_header_bytes = 100;
  EXPECT_EQ(HttpServer::Create(options).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(HttpServerTest, UnfinishedRequestHeadIsDisconnectedAfterRequestTimeout) {
  std::atomic<int> calls{0};
  HttpServerOptions options;
  options.request_timeout = absl::Milliseconds(300);
  StartServer(
      [&](HttpServer& s) {
        s.Handle("GET", "/", [&](const HttpRequest&) {
          ++calls;
          return HttpResponse::Text(200, "ok");
        });
      },
      options);
  // The head never ends; the server must give up on it rather than wait for the rest. Read()
  // blocks until the server closes the connection (RawConnection's 10 s receive timeout is a
  // safety net only: then nothing would have been read).
  RawConnection c(server_->port());
  c.Send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  const std::string answer = c.Read();
  EXPECT_TRUE(absl::StartsWith(answer, "HTTP/1.0 400 Bad Request\r\n")) << answer;
  EXPECT_THAT(answer, HasSubstr("Connection: close\r\n"));
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(HttpServerTest, RoutesAddedAfterStartAreIgnored) {
  StartServer([](HttpServer& s) { s.Handle("GET", "/before", Echo("before")); });
  server_->Handle("GET", "/after", Echo("after"));
  EXPECT_EQ(Fetch("GET", "/before").body, "before");
  EXPECT_EQ(Fetch("GET", "/after").status, 404);
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndServerKeepsServing) {
  StartServer([](HttpServer& s) {
    s.Handle("GET", "/boom",
             [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaboom"); });
    s.Handle("GET", "/ok", Echo("ok"));
  });
  HttpClientResponse boom = Fetch("GET", "/boom");
  EXPECT_EQ(boom.status, 500);
  EXPECT_EQ(boom.body,
            R"({"status":"error","errorType":"internal","error":"internal server error"})");
  EXPECT_EQ(Fetch("GET", "/ok").body, "ok");
}

TEST_F(HttpServerTest, StopLetsRequestInFlightFinishAndTellsStreamsToStop) {
  absl::Notification entered, release, streaming;
  StartServer([&](HttpServer& s) {
    s.Handle("GET", "/slow", [&](const HttpRequest&) {
      entered.Notify();
      release.WaitForNotification();
      return HttpResponse::Text(200, "finished");
    });
    s.Handle("GET", "/stream", [&](const HttpRequest&) {
      HttpResponse r;
      r.stream = [&](HttpStreamWriter& w) {
        w.Write("first\n");
        streaming.Notify();
        EXPECT_TRUE(w.WaitForStop(absl::Seconds(60)));  // ends at once when Stop() begins
        EXPECT_TRUE(w.Stopping());
        EXPECT_FALSE(w.Write("after stop\n"));
      };
      return r;
    });
  });
  const int port = server_->port();
  HttpClientResponse slow, stream;
  std::thread slow_client([&] { slow = Fetch("GET", "/slow"); });
  std::thread stream_client([&] { stream = Fetch("GET", "/stream"); });
  entered.WaitForNotification();
  streaming.WaitForNotification();

  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    server_->Stop();
    stopped = true;
  });
  // Stop cannot finish while /slow is still running; /stream ends because Stopping() turned true.
  stream_client.join();
  EXPECT_EQ(stream.status, 200);
  EXPECT_EQ(stream.body, "first\n");
  EXPECT_FALSE(stopped.load());
  release.Notify();
  slow_client.join();
  stopper.join();
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(slow.body, "finished");
  EXPECT_TRUE(stopped.load());

  // Nothing listens any more.
  HttpClientRequest req;
  req.url = absl::StrCat("http://127.0.0.1:", port, "/slow");
  EXPECT_EQ(client_->Send(req).status().code(), absl::StatusCode::kUnavailable);
}

double MetricValue(prometheus::Registry& registry, absl::string_view family,
                   const std::map<std::string, std::string>& labels) {
  for (const auto& f : registry.Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      std::map<std::string, std::string> got;
      for (const auto& l : m.label) got[l.name] = l.value;
      bool match = true;
      for (const auto& [k, v] : labels) match = match && got[k] == v;
      if (!match) continue;
      if (f.type == prometheus::MetricType::Counter) return m.counter.value;
      if (f.type == prometheus::MetricType::Histogram) {
        return static_cast<double>(m.histogram.sample_count);
      }
    }
  }
  return -1;
}

TEST_F(HttpServerTest, RecordsRequestMetrics) {
  prometheus::Registry registry;
  HttpServerOptions options;
  options.metrics = &registry;
  StartServer([](HttpServer& s) { s.Handle("GET", "/api/v1/label/<name>/values", Echo("v")); },
              options);
  Fetch("GET", "/api/v1/label/a/values");
  Fetch("GET", "/api/v1/label/b/values");
  Fetch("GET", "/missing");
  client_.reset();  // closes its kept-alive connection, so that Stop need not wait for it
  server_->Stop();  // every request is recorded once Stop returns
  EXPECT_EQ(
      MetricValue(registry, "sextant_http_requests_total",
                  {{"handler", "/api/v1/label/<name>/values"}, {"method", "GET"}, {"code", "200"}}),
      2);
  EXPECT_EQ(MetricValue(registry, "sextant_http_requests_total",
                        {{"handler", "other"}, {"method", "GET"}, {"code", "404"}}),
            1);
  EXPECT_EQ(MetricValue(registry, "sextant_http_request_duration_seconds",
                        {{"handler", "/api/v1/label/<name>/values"}}),
            2);
}

TEST_F(HttpServerTest, ServesTlsWithSeparateKeyFile) {
  HttpServerOptions options;
  options.tls_cert_file = testing::SourcePath("tests/testdata/tls/server.pem");
  options.tls_key_file = testing::SourcePath("tests/testdata/tls/server-key.pem");
  StartServer([](HttpServer& s) { s.Handle("GET", "/hello", Echo("hello")); }, options);

  HttpClientOptions copts;
  copts.ca_file = testing::SourcePath("tests/testdata/tls/ca.pem");
  copts.retry.max_attempts = 1;
  auto tls_client = CurlHttpClient::Create(copts);
  ASSERT_TRUE(tls_client.ok()) << tls_client.status();
  HttpClientRequest req;
  req.url = absl::StrCat("https://127.0.0.1:", server_->port(), "/hello");
  auto resp = (*tls_client)->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->body, "hello");
  req.url = absl::StrCat("https://localhost:", server_->port(), "/hello");
  resp = (*tls_client)->Send(req);
  ASSERT_TRUE(resp.ok()) << resp.status();

  // Plain http to the TLS port gets no HTTP answer: the server drops the connection.
  req.url = absl::StrCat("http://127.0.0.1:", server_->port(), "/hello");
  auto plain = client_->Send(req);
  ASSERT_FALSE(plain.ok()) << plain->status;
  EXPECT_EQ(plain.status().code(), absl::StatusCode::kUnavailable) << plain.status();
}

// Collects log lines while alive (the log sink is process-wide).
class LogCapture {
 public:
  LogCapture() {
    SetLogSink([this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { SetLogSink(nullptr); }
  std::vector<std::string> Take() {
    absl::MutexLock lock(&mu_);
    return std::exchange(lines_, {});
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

TEST_F(HttpServerTest, CivetwebErrorsNameTheirServerAndStopIsQuiet) {
  HttpServerOptions options;
  options.tls_cert_file = testing::SourcePath("tests/testdata/tls/server.pem");
  options.tls_key_file = testing::SourcePath("tests/testdata/tls/server-key.pem");
  StartServer([](HttpServer& s) { s.Handle("GET", "/hello", Echo("hello")); }, options);
  LogCapture logs;
  // Plain http to the TLS port: civetweb logs the failed handshake before it hangs up.
  HttpClientRequest req;
  req.url = Url("/hello");
  ASSERT_FALSE(client_->Send(req).ok());
  const std::vector<std::string> lines = logs.Take();
  ASSERT_EQ(lines.size(), 1u) << absl::StrJoin(lines, "\n");
  EXPECT_THAT(lines[0], HasSubstr("civetweb error"));
  EXPECT_THAT(lines[0], HasSubstr(absl::StrCat("addr=", server_->address())));
  // Stopping wakes civetweb with connections it complains about; those are not worth a line.
  server_->Stop();
  EXPECT_THAT(logs.Take(), ::testing::Each(::testing::Not(HasSubstr("civetweb error"))));
}

// Whether any of libcivetweb's import slots for dlsym points into this executable, i.e. at the
// server's replacement that TLS set-up installs (RedirectCivetwebDlsym in http_server.cc).
bool CivetwebDlsymRedirected() {
  Dl_info info, self;
  link_map* map = nullptr;
  if (dladdr1(reinterpret_cast<void*>(&mg_start2), &info, reinterpret_cast<void**>(&map),
              RTLD_DL_LINKMAP) == 0 ||
      map == nullptr || dladdr(reinterpret_cast<void*>(&CivetwebDlsymRedirected), &self) == 0) {
    ADD_FAILURE() << "cannot locate libcivetweb or this executable";
    return false;
  }
  const ElfW(Addr) base = map->l_addr;
  auto at = [base](ElfW(Addr) p) { return p < base ? p + base : p; };
  const ElfW(Sym)* symtab = nullptr;
  const char* strtab = nullptr;
  ElfW(Addr) tables[2] = {0, 0};
  size_t sizes[2] = {0, 0};
  for (const ElfW(Dyn)* d = map->l_ld; d->d_tag != DT_NULL; ++d) {
    if (d->d_tag == DT_SYMTAB) symtab = reinterpret_cast<const ElfW(Sym)*>(at(d->d_un.d_ptr));
    if (d->d_tag == DT_STRTAB) strtab = reinterpret_cast<const char*>(at(d->d_un.d_ptr));
    if (d->d_tag == DT_JMPREL) tables[0] = at(d->d_un.d_ptr);
    if (d->d_tag == DT_PLTRELSZ) sizes[0] = d->d_un.d_val;
    if (d->d_tag == DT_RELA) tables[1] = at(d->d_un.d_ptr);
    if (d->d_tag == DT_RELASZ) sizes[1] = d->d_un.d_val;
  }
  for (int t = 0; t < 2 && symtab != nullptr && strtab != nullptr; ++t) {
    const auto* relocs = reinterpret_cast<const ElfW(Rela)*>(tables[t]);
    for (size_t i = 0; tables[t] != 0 && i < sizes[t] / sizeof(ElfW(Rela)); ++i) {
      const size_t sym = ELF64_R_SYM(relocs[i].r_info);
      if (sym == 0 || std::strcmp(strtab + symtab[sym].st_name, "dlsym") != 0) continue;
      void* target = *reinterpret_cast<void**>(base + relocs[i].r_offset);
      Dl_info where;
      if (dladdr(target, &where) != 0 && where.dli_fbase == self.dli_fbase) return true;
    }
  }
  return false;
}

// In a fresh process (a death test re-runs this binary), so that no earlier TLS server counts.
TEST(HttpServerTlsTest, OnlyTlsServersPatchCivetwebDlsym) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        int code = 0;
        {
          auto plain = HttpServer::Create({});
          if (!plain.ok() || !(*plain)->Start().ok()) code = 1;
          if (code == 0 && CivetwebDlsymRedirected()) code = 2;  // plain HTTP left it alone
          HttpServerOptions options;
          options.tls_cert_file = testing::SourcePath("tests/testdata/tls/server.pem");
          options.tls_key_file = testing::SourcePath("tests/testdata/tls/server-key.pem");
          auto tls = HttpServer::Create(options);
          if (code == 0 && (!tls.ok() || !(*tls)->Start().ok())) code = 3;
          if (code == 0 && !CivetwebDlsymRedirected()) code = 4;  // the check itself works
        }
        std::_Exit(code);
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(HttpServerTlsTest, MissingCertificateFileFailsStart) {
  HttpServerOptions options;
  options.tls_cert_file = "/nonexistent/server.pem";
  options.tls_key_file = "/nonexistent/server-key.pem";
  auto server = HttpServer::Create(options);
  ASSERT_TRUE(server.ok());
  absl::Status s = (*server)->Start();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent/server.pem"));
}

}  // namespace
}  // namespace sextant
