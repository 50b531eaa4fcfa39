// A loopback server for the kube tests that answers like the API server would, through a
// handler each test sets, and records every request. For checks of the exact requests a client
// sends; behaviour against a faithful server is tested with tests/fakes/FakeApiServer.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/http_server.h"
#include "common/json.h"
#include "gtest/gtest.h"

namespace sextant::kube {

// Owned by the test; handlers run on the server's threads. Thread-safe.
class StubApiServer {
 public:
  StubApiServer() {
    HttpServerOptions opts;
    opts.listen = "127.0.0.1:0";
    opts.threads = 4;
    server_ = *HttpServer::Create(opts);
    server_->Handle("*", "/<rest...>", [this](const HttpRequest& r) {
      std::function<HttpResponse(const HttpRequest&)> h;
      {
        absl::MutexLock lock(&mu_);
        requests_.push_back(r);
        h = handler_;
      }
      return h ? h(r) : NotFound();
    });
    EXPECT_TRUE(server_->Start().ok());
  }
  ~StubApiServer() { server_->Stop(); }
  void Stop() { server_->Stop(); }

  void SetHandler(std::function<HttpResponse(const HttpRequest&)> h) {
    absl::MutexLock lock(&mu_);
    handler_ = std::move(h);
  }
  std::vector<HttpRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  HttpRequest last() {
    absl::MutexLock lock(&mu_);
    return requests_.empty() ? HttpRequest{} : requests_.back();
  }
  std::string url() const { return absl::StrCat("http://", server_->address()); }

  // A metav1.Status failure answer.
  static HttpResponse Status(int code, absl::string_view reason, absl::string_view message) {
    return HttpResponse::Json(
        code,
        absl::StrCat(R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":)",
                     JsonQuote(message), R"(,"reason":")", reason, R"(","code":)", code, "}"));
  }
  static HttpResponse NotFound() { return Status(404, "NotFound", "not found"); }

 private:
  std::unique_ptr<HttpServer> server_;
  absl::Mutex mu_;
  std::function<HttpResponse(const HttpRequest&)> handler_ ABSL_GUARDED_BY(mu_);
  std::vector<HttpRequest> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sextant::kube
