// An embedded HTTP/1.1 server (civetweb underneath, not visible here) with routing by method and
// path, path parameters, query and form parsing, body limits and graceful stop.
//
//   HttpServerOptions opts;
//   opts.listen = "127.0.0.1:0";
//   auto server = HttpServer::Create(opts);
//   (*server)->Handle("GET", "/api/v1/label/<name>/values", [](const HttpRequest& r) {
//     return HttpResponse::Text(200, std::string(r.PathParam("name")));
//   });
//   SEXTANT_RETURN_IF_ERROR((*server)->Start());
//   int port = (*server)->port();
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/http_types.h"
#include "prometheus/registry.h"

namespace sextant {

// One request as a handler sees it, fully read (body included). Built by the server for one
// handler call; not thread-safe (concurrent const use is fine).
struct HttpRequest {
  std::string method;     // "GET", "POST", ...
  std::string path;       // decoded path, without the query string
  std::string raw_query;  // the query string as sent, without '?'
  HttpHeaders headers;
  std::string body;         // read fully before the handler runs (bounded by max_body_bytes)
  std::string remote_addr;  // "127.0.0.1:53412"
  // Form parameters (for POST, PUT and PATCH with a form content type), then query-string
  // parameters, merged in that order, as Go's r.Form that Prometheus reads: Get() prefers the
  // body's value.
  HttpParams params;
  // Values of <name> segments of the matched route.
  std::map<std::string, std::string, std::less<>> path_params;

  absl::string_view PathParam(absl::string_view name) const;
};

// Writes a streamed (chunked) response body. Used by handlers that stream, such as watches. The
// server owns it and hands it to the response's `stream` function for one response; use it only
// from that function's thread (not thread-safe).
class HttpStreamWriter {
 public:
  virtual ~HttpStreamWriter() = default;
  // Sends `data` to the client at once. Returns false when the client has gone or the server is
  // stopping; the handler should then return.
  virtual bool Write(absl::string_view data) = 0;
  // True once the server is stopping; long streams check it between writes.
  virtual bool Stopping() const = 0;
  // Blocks until the server is stopping or `timeout` has passed, and returns Stopping(). For
  // streams that wait between writes (a watch's heartbeat) yet must end promptly on Stop().
  virtual bool WaitForStop(absl::Duration timeout) = 0;
};

// A handler's answer. A value type; not thread-safe (concurrent const use is fine).
struct HttpResponse {
  int status = 200;
  HttpHeaders headers;  // Content-Type goes here
  std::string body;
  // When set, the body is produced by this function with chunked encoding instead of `body`.
  std::function<void(HttpStreamWriter&)> stream;

  static HttpResponse Text(int status, std::string body,
                           absl::string_view content_type = "text/plain; charset=utf-8");
  static HttpResponse Json(int status, std::string body);
  // Prometheus's API error envelope: {"status":"error","errorType":TYPE,"error":MESSAGE}.
  static HttpResponse JsonError(int status, absl::string_view error_type,
                                absl::string_view message);
};

// Answers one request. Called on the server's threads, possibly many at once.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// HttpServer's settings. A value type; not thread-safe (concurrent const use is fine).
struct HttpServerOptions {
  // "HOST:PORT"; an empty host means every IPv4 address. Port 0 picks a free port (see port()).
  // Default: 127.0.0.1:0.
  std::string listen = "127.0.0.1:0";
  // Worker threads, i.e. requests served at once. Default 16.
  int threads = 16;
  // Bodies larger than this get 413 without the handler running. Default 32 MiB.
  int64_t max_body_bytes = 32 << 20;
  // Limits on a slow or stalled client, as civetweb enforces them. Default 60 s. A new
  // connection must send its first byte within this time, and then the whole request line and
  // headers within this time of that byte; else it is closed (after a plain-text 400 once
  // something was received). After the head, this is a stall limit, not a deadline: each read of
  // the body and each write of the answer may block this long. A kept-alive connection is closed
  // when no next request starts within civetweb's keep-alive timeout (500 ms).
  absl::Duration request_timeout = absl::Seconds(60);
  // Largest request line plus headers, in bytes, at least 1024; a larger head is refused by
  // civetweb with a plain-text 400 and the connection closed, before any handler runs. The
  // default leaves room for long PromQL queries and many match[] in a GET. Each of civetweb's
  // threads allocates a buffer of this size (pages are used only as far as heads fill them).
  // Default 1 MiB (as Go's net/http).
  int max_header_bytes = 1 << 20;
  // TLS: when cert_file is set the server speaks HTTPS only. key_file defaults to cert_file.
  std::string tls_cert_file;
  std::string tls_key_file;
  // When set, clients must present a certificate signed by this CA.
  std::string tls_client_ca_file;
  // Serve gzip-compressed bodies to clients that accept gzip, for bodies of at least this many
  // bytes (such answers carry Vary: Accept-Encoding whatever the client accepts, and HEAD
  // decides as GET). Streamed bodies are never compressed. 0 disables. Default 1 KiB.
  int64_t gzip_min_bytes = 1024;
  // When set, each request is counted in sextant_http_requests_total{handler,method,code} and
  // timed in sextant_http_request_duration_seconds{handler} (handler = the route pattern, or
  // "other" when no route matched). Not owned; must outlive the server. Default none.
  prometheus::Registry* metrics = nullptr;
};

// The server. Create() does no I/O; Start() binds and starts the workers; Stop() stops accepting,
// lets requests in flight finish, and joins the workers. Routes must be added before Start().
// Owned by the caller of Create(). Handlers run on the worker threads and must be thread-safe.
// Thread-safe: every method may be called from any thread.
class HttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpServer>> Create(const HttpServerOptions& options);
  virtual ~HttpServer() = default;

  // Routes `method` (or "*" for any) and `pattern` to `handler`. A pattern is a path whose
  // segments may be "<name>" (one segment, bound into path_params) and whose last segment may be
  // "<name...>" (the rest of the path). Exact segments win over parameters; the first route
  // added wins among equals. A path that matches a route of another method gets 405 with Allow.
  // A route added once Start() has been called is ignored (and logged as an error).
  virtual void Handle(absl::string_view method, absl::string_view pattern, HttpHandler handler) = 0;

  // Binds and starts serving. FailedPrecondition when already started, or when TLS is configured
  // but civetweb's TLS support cannot be set up; InvalidArgument when a TLS file cannot be read;
  // Unavailable when the address cannot be bound (the message names it).
  virtual absl::Status Start() = 0;
  // Stops accepting, waits for requests in flight (streams are told to stop), and joins.
  // Idempotent.
  virtual void Stop() = 0;

  // The bound port (useful with port 0); 0 before Start().
  virtual int port() const = 0;
  // "host:port" as bound, e.g. "127.0.0.1:41873".
  virtual std::string address() const = 0;
};

}  // namespace sextant
