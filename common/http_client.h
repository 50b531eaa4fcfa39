// HTTP client: the HttpClient interface (an edge, faked in tests) and CurlHttpClient, its libcurl
// implementation with retries, TLS, bearer tokens and streaming bodies.
//
//   HttpClientOptions opts;
//   opts.ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
//   opts.bearer_token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
//   SEXTANT_ASSIGN_OR_RETURN(auto client, CurlHttpClient::Create(opts));
//   HttpClientRequest req;
//   req.url = "https://kubernetes.default.svc/api/v1/pods";
//   SEXTANT_ASSIGN_OR_RETURN(HttpClientResponse resp, client->Send(req));
//   if (resp.status != 200) ...
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/http_types.h"

namespace sextant {

// One request to send. A value type; not thread-safe (concurrent const use is fine, and Send
// only reads it).
struct HttpClientRequest {
  std::string method = "GET";
  // "http://..." or "https://..."; other schemes, and URLs without one, are InvalidArgument.
  std::string url;
  HttpHeaders headers;  // sent as given; Authorization here wins over the client's bearer token
  std::string body;     // sent when non-empty, and always for POST, PUT and PATCH
  // Limit for each attempt, connecting included. Unset: HttpClientOptions::timeout.
  // absl::InfiniteDuration() removes the limit (long watches).
  std::optional<absl::Duration> timeout;
  // Whether the request may be sent again after a connection error, a timeout, or a 429 or 5xx
  // answer (but 501 and 505). Unset: true for GET, HEAD, PUT, DELETE and OPTIONS, false for the
  // others (POST, PATCH). A request that never reached the server (connection refused, connect
  // or TLS handshake timed out) is sent again either way.
  std::optional<bool> retryable;
  // When set, the body of a 2xx answer is passed here piece by piece as it arrives (decoded)
  // instead of being collected in HttpClientResponse::body. Returning false ends the transfer;
  // Send then returns the response so far with OK. Once a piece has been passed, the request is
  // never retried. Other answers (errors) are collected in the body as usual.
  std::function<bool(absl::string_view chunk)> on_body;
  // When set, polled while the request is in flight (by curl's progress callback, at least about
  // once a second even when no bytes move) and before each retry: once it returns true the
  // transfer ends and Send returns Cancelled. Lets a long watch stop promptly. Default unset.
  std::function<bool()> cancelled;
};

// An answer. A value type; not thread-safe (concurrent const use is fine).
struct HttpClientResponse {
  int status = 0;
  HttpHeaders headers;
  std::string body;  // empty when the body went to HttpClientRequest::on_body
  int attempts = 0;  // how many times the request was sent
};

// Sends HTTP requests. Implementations are thread-safe.
class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends `request` and returns the answer, whatever its status: a non-2xx answer is not an
  // error at this layer (after retries run out, the last answer is returned as is). Errors:
  // Unavailable for connection, DNS and TLS failures (the message says which), DeadlineExceeded
  // for timeouts, InvalidArgument for a bad URL (one without an http:// or https:// scheme
  // included) or client certificate, FailedPrecondition for a bearer token that would go
  // anywhere but https, Internal when a response callback throws or memory runs out. Redirects
  // are not followed (3xx answers are returned).
  virtual absl::StatusOr<HttpClientResponse> Send(const HttpClientRequest& request) = 0;
};

// How failed attempts are retried: capped exponential backoff with jitter, or the server's
// Retry-After when it gives one. A value type; not thread-safe (concurrent const use is fine).
struct HttpRetryPolicy {
  // Attempts in all, the first included; 1 disables retries. Default 4.
  int max_attempts = 4;
  // Backoff before the first retry. Default 100 ms.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  // Upper bound of the exponential term and of any backoff. Default 10 s.
  absl::Duration max_backoff = absl::Seconds(10);
  // Growth of the backoff per retry. Default 2.
  double multiplier = 2.0;
  // Each backoff is scaled by a random factor in [1 - jitter, 1 + jitter], then capped at
  // max_backoff again. Default 0.2.
  double jitter = 0.2;
  // Upper bound on a server's Retry-After (seconds or HTTP-date). Default 60 s.
  absl::Duration max_retry_after = absl::Seconds(60);
};

// CurlHttpClient's settings. A value type; not thread-safe (concurrent const use is fine).
struct HttpClientOptions {
  // Limit for one attempt (connect, send, receive), unless the request sets its own. Default 30 s.
  absl::Duration timeout = absl::Seconds(30);
  // Limit for connecting (TCP and TLS handshake). Default 5 s.
  absl::Duration connect_timeout = absl::Seconds(5);
  // Default: see HttpRetryPolicy.
  HttpRetryPolicy retry;

  // CA certificates (PEM) that server certificates must chain to, as a file or as PEM text.
  // When either is set, only these CAs are trusted. Default: the system's CAs.
  std::string ca_file;
  std::string ca_pem;
  // Client certificate and key (PEM), as files or as PEM text; certificate and key go together.
  // Default none.
  std::string client_cert_file;
  std::string client_key_file;
  std::string client_cert_pem;
  std::string client_key_pem;
  // Skips server certificate verification (logs a warning). Default false.
  bool insecure_skip_verify = false;

  // Bearer token, given directly or read from a file. The file is re-read when the copy in
  // memory is older than token_reload, and again right after a 401 answer (the request is then
  // sent again if the token changed). Default none; token_reload default 1 min.
  std::string bearer_token;
  std::string bearer_token_file;
  absl::Duration token_reload = absl::Minutes(1);
  // Lets a bearer token go over plain http; without it a token goes only to https:// URLs
  // (kubectl refuses too). Default false.
  bool allow_token_over_http = false;

  // User-Agent header unless a request sets its own. Default "sextant/<version>".
  std::string user_agent;
  // Idle libcurl handles (and so their kept-alive connections) kept for reuse. Default 8.
  int max_idle_handles = 8;
};

// HttpClient on libcurl. Each call takes an easy handle from a small pool (connections are
// reused); retries sleep through the Clock. Owned by its creator; `clock` must outlive it.
// Thread-safe.
class CurlHttpClient final : public HttpClient {
 public:
  // Validates `options` (files readable, certificate and key paired); InvalidArgument naming the
  // option and file otherwise.
  static absl::StatusOr<std::unique_ptr<CurlHttpClient>> Create(const HttpClientOptions& options,
                                                                Clock& clock = RealClock::Get());
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  absl::StatusOr<HttpClientResponse> Send(const HttpClientRequest& request) override;

 private:
  struct Impl;
  CurlHttpClient(const HttpClientOptions& options, Clock& clock);

  // The token to send now ("" for none), re-reading the file when stale or when `force`.
  std::string CurrentToken(bool force);

  const HttpClientOptions options_;
  Clock& clock_;
  std::unique_ptr<Impl> impl_;  // libcurl state: the handle pool

  absl::Mutex token_mu_;
  std::string token_ ABSL_GUARDED_BY(token_mu_);
  absl::Time token_loaded_ ABSL_GUARDED_BY(token_mu_) = absl::InfinitePast();
};

// The delay before retry number `retry` (1 for the first) under `policy`, for a random `u` in
// [-1, 1]: b * (1 + jitter * u) capped at max_backoff, where b = min(max_backoff,
// initial_backoff * multiplier^(retry-1)); rounded to the microsecond.
absl::Duration HttpRetryBackoff(const HttpRetryPolicy& policy, int retry, double u);

// The delay a Retry-After value asks for (delta-seconds or an HTTP-date, relative to `now`),
// capped at `max`; nullopt when the value is neither.
std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now,
                                              absl::Duration max);

}  // namespace sextant
