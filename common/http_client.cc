#include "common/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <mutex>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/build_info.h"
#include "common/logging.h"

namespace sextant {
namespace {

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

absl::StatusOr<std::string> ReadOptionFile(absl::string_view option, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, ": cannot read ", path, ": ", std::strerror(errno)));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat(option, ": cannot read ", path));
  }
  return ss.str();
}

absl::Status CheckPem(absl::string_view option, absl::string_view where, absl::string_view pem,
                      absl::string_view kind) {
  if (!absl::StrContains(pem, "-----BEGIN ") || !absl::StrContains(pem, kind)) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, ": ", where, " holds no PEM ", kind, " block"));
  }
  return absl::OkStatus();
}

bool DefaultRetryable(absl::string_view method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS";
}

// 429 and every 5xx but 501 (Not Implemented) and 505 (HTTP Version Not Supported), which the
// same request will meet again (as Prometheus's remote_write retries 5xx).
bool RetryableStatus(int status) {
  return status == 429 || (status >= 500 && status <= 599 && status != 501 && status != 505);
}

// The URL's scheme, lowercased: "http" or "https". InvalidArgument for any other scheme and for a
// URL without one (curl would guess one, plain http for most hosts).
absl::StatusOr<std::string> UrlScheme(absl::string_view url) {
  const size_t sep = url.find("://");
  const std::string scheme =
      sep == absl::string_view::npos ? "" : absl::AsciiStrToLower(url.substr(0, sep));
  if (scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError("the URL must start with http:// or https://");
  }
  return scheme;
}

// What one attempt gave.
struct Attempt {
  absl::Status status;  // transport outcome; OK when an answer (any status) came back
  HttpClientResponse response;
  bool streamed = false;   // on_body received data
  bool aborted = false;    // on_body asked to stop
  bool cancelled = false;  // the request's cancelled() said so
  bool retryable_error = false;
  bool sent_nothing = false;  // failed before the request could reach the server
};

// State shared with libcurl's callbacks during one transfer.
struct Transfer {
  const HttpClientRequest* request;
  Attempt* attempt;
  // Why a callback ended the transfer (an exception escaped on_body, or memory ran out); empty
  // when none did. A fixed buffer: the callbacks run inside curl (C frames), so recording the
  // failure must not allocate or throw.
  char callback_error[256] = {0};
};

void NoteCallbackError(Transfer* t, const char* what) noexcept {
  std::snprintf(t->callback_error, sizeof(t->callback_error), "%s",
                what != nullptr && what[0] != '\0' ? what : "unknown error");
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t total = size * count;
  try {
    absl::string_view line = absl::StripAsciiWhitespace(absl::string_view(data, total));
    HttpClientResponse& r = t->attempt->response;
    if (absl::StartsWith(line, "HTTP/")) {
      // A new header block (after a 100 Continue, for instance) replaces the previous one.
      r.headers = HttpHeaders();
      r.status = 0;
      const size_t sp = line.find(' ');
      if (sp != absl::string_view::npos) {
        int status = 0;
        if (absl::SimpleAtoi(line.substr(sp + 1, 3), &status)) r.status = status;
      }
    } else if (!line.empty()) {
      const size_t colon = line.find(':');
      if (colon != absl::string_view::npos) {
        r.headers.Add(absl::StripAsciiWhitespace(line.substr(0, colon)),
                      absl::StripAsciiWhitespace(line.substr(colon + 1)));
      }
    }
  } catch (const std::exception& e) {  // std::bad_alloc: end the transfer
    NoteCallbackError(t, e.what());
    return 0;
  } catch (...) {
    NoteCallbackError(t, "unknown exception");
    return 0;
  }
  return total;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t total = size * count;
  Attempt& a = *t->attempt;
  if (t->request->on_body && a.response.status >= 200 && a.response.status < 300) {
    if (total == 0) return 0;
    a.streamed = true;
    try {
      if (!t->request->on_body(absl::string_view(data, total))) {
        a.aborted = true;
        return 0;
      }
    } catch (const std::exception& e) {
      NoteCallbackError(t, e.what());
      return 0;
    } catch (...) {
      NoteCallbackError(t, "unknown exception");
      return 0;
    }
    return total;
  }
  try {
    a.response.body.append(data, total);
  } catch (const std::exception& e) {  // std::bad_alloc: end the transfer
    NoteCallbackError(t, e.what());
    return 0;
  } catch (...) {
    NoteCallbackError(t, "unknown exception");
    return 0;
  }
  return total;
}

// curl's progress callback, installed when the request can be cancelled: a non-zero answer ends
// the transfer (CURLE_ABORTED_BY_CALLBACK).
int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  try {
    if (t->request->cancelled && t->request->cancelled()) {
      t->attempt->cancelled = true;
      return 1;
    }
  } catch (...) {
    NoteCallbackError(t, "cancelled() threw");
    return 1;
  }
  return 0;
}

// Maps a failed transfer to a status; sets whether it is worth retrying.
void MapCurlError(CURLcode code, absl::string_view what, Attempt* a) {
  const std::string message = absl::StrCat(what, ": ", curl_easy_strerror(code));
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      // Connect timeouts come as this code too; the caller tells them apart (sent_nothing).
      a->status = absl::DeadlineExceededError(message);
      a->retryable_error = true;
      return;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CIPHER:
      a->status = absl::InvalidArgumentError(message);
      return;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      // The server's certificate is not trusted: trying again will not change that.
      a->status = absl::UnavailableError(message);
      return;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
      a->status = absl::UnavailableError(message);
      a->retryable_error = true;
      a->sent_nothing = true;
      return;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
      a->status = absl::UnavailableError(message);
      a->retryable_error = true;
      return;
    default:
      a->status = absl::InternalError(message);
      return;
  }
}

absl::Duration Jittered(const HttpRetryPolicy& policy, int retry) {
  thread_local absl::BitGen gen;
  return HttpRetryBackoff(policy, retry,
                          absl::Uniform<double>(absl::IntervalClosed, gen, -1.0, 1.0));
}

// Sends `request` once on `h`, a handle with default options, and says what came of it.
Attempt PerformOnce(CURL* h, const HttpClientOptions& options, const HttpClientRequest& request,
                    const std::string& token, const std::string& what) {
  Attempt a;
  Transfer transfer{&request, &a};
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  // Send() has checked the scheme; these keep curl to it whatever the URL says.
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_DEFAULT_PROTOCOL, "https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl can decode
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  const std::string user_agent =
      options.user_agent.empty() ? absl::StrCat("sextant/", SEXTANT_VERSION) : options.user_agent;
  curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(
      h, CURLOPT_CONNECTTIMEOUT_MS,
      static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(options.connect_timeout))));
  const absl::Duration timeout = request.timeout.value_or(options.timeout);
  curl_easy_setopt(
      h, CURLOPT_TIMEOUT_MS,
      timeout == absl::InfiniteDuration()
          ? 0L
          : static_cast<long>(std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout))));

  const bool send_body = !request.body.empty() || request.method == "POST" ||
                         request.method == "PUT" || request.method == "PATCH";
  if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (send_body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    if (request.method != "POST")
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers.all()) {
    headers = curl_slist_append(headers, absl::StrCat(name, ": ", value).c_str());
  }
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  if (send_body && !request.headers.Has("content-type")) {
    headers = curl_slist_append(headers, "Content-Type:");  // not curl's form default
  }
  if (!token.empty()) {
    headers = curl_slist_append(headers, absl::StrCat("Authorization: Bearer ", token).c_str());
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

  if (options.insecure_skip_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_blob ca_blob{const_cast<char*>(options.ca_pem.data()), options.ca_pem.size(),
                    CURL_BLOB_NOCOPY};
  if (!options.ca_file.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
  } else if (!options.ca_pem.empty()) {
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca_blob);
    curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
  }
  curl_blob cert_blob{const_cast<char*>(options.client_cert_pem.data()),
                      options.client_cert_pem.size(), CURL_BLOB_NOCOPY};
  curl_blob key_blob{const_cast<char*>(options.client_key_pem.data()),
                     options.client_key_pem.size(), CURL_BLOB_NOCOPY};
  if (!options.client_cert_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, options.client_cert_file.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, options.client_key_file.c_str());
  } else if (!options.client_cert_pem.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert_blob);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key_blob);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }

  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  if (request.cancelled) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &OnProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
  }

  const CURLcode code = curl_easy_perform(h);
  // Zero until the request is about to be sent: a failure before that reached no server.
  curl_off_t pretransfer_us = 0;
  if (curl_easy_getinfo(h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us) != CURLE_OK) {
    pretransfer_us = -1;  // unknown: assume it was sent
  }
  // The handle keeps pointers to these until its next reset; drop them before it is pooled.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 1L);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, nullptr);
  curl_slist_free_all(headers);

  if (code != CURLE_OK && !a.aborted) {
    if (a.cancelled) {
      a.status = absl::CancelledError(absl::StrCat(what, ": cancelled"));
    } else if (transfer.callback_error[0] != '\0') {
      a.status = absl::InternalError(
          absl::StrCat(what, ": response callback failed: ", transfer.callback_error));
    } else {
      MapCurlError(code, error_buffer[0] != '\0' ? absl::StrCat(what, ": ", error_buffer) : what,
                   &a);
      if (code == CURLE_OPERATION_TIMEDOUT && pretransfer_us == 0) a.sent_nothing = true;
    }
  }
  return a;
}

}  // namespace

absl::Duration HttpRetryBackoff(const HttpRetryPolicy& policy, int retry, double u) {
  const double base = absl::ToDoubleSeconds(policy.initial_backoff) *
                      std::pow(policy.multiplier, std::max(0, retry - 1));
  const double max = absl::ToDoubleSeconds(policy.max_backoff);
  const double delay = std::min(max, std::min(base, max) * (1 + policy.jitter * u));
  return absl::Microseconds(std::llround(std::max(0.0, delay) * 1e6));
}

std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now,
                                              absl::Duration max) {
  value = absl::StripAsciiWhitespace(value);
  if (value.empty()) return std::nullopt;
  absl::Duration delay;
  int64_t seconds;
  if (std::all_of(value.begin(), value.end(), [](char c) { return absl::ascii_isdigit(c); })) {
    if (!absl::SimpleAtoi(value, &seconds)) seconds = INT64_MAX;  // too many digits: huge
    delay = absl::Seconds(seconds);
  } else {
    // HTTP-date: IMF-fixdate, or the obsolete RFC 850 and asctime forms.
    static constexpr const char* kFormats[] = {"%a, %d %b %Y %H:%M:%S GMT",
                                               "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
    bool parsed = false;
    for (const char* format : kFormats) {
      absl::Time when;
      if (absl::ParseTime(format, std::string(value), absl::UTCTimeZone(), &when, nullptr)) {
        delay = when - now;
        parsed = true;
        break;
      }
    }
    if (!parsed) return std::nullopt;
  }
  return std::clamp(delay, absl::ZeroDuration(), std::max(absl::ZeroDuration(), max));
}

// The pool of idle easy handles.
struct CurlHttpClient::Impl {
  explicit Impl(int max) : max_idle(max) {}
  ~Impl() {
    for (CURL* h : idle) curl_easy_cleanup(h);
  }

  // A handle with default options (kept connections and caches survive the reset).
  CURL* Acquire() {
    {
      absl::MutexLock lock(&mu);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        curl_easy_reset(h);
        return h;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* h) {
    {
      absl::MutexLock lock(&mu);
      if (static_cast<int>(idle.size()) < max_idle) {
        idle.push_back(h);
        return;
      }
    }
    curl_easy_cleanup(h);
  }

  const int max_idle;
  absl::Mutex mu;
  std::vector<CURL*> idle ABSL_GUARDED_BY(mu);
};

CurlHttpClient::CurlHttpClient(const HttpClientOptions& options, Clock& clock)
    : options_(options), clock_(clock), impl_(std::make_unique<Impl>(options.max_idle_handles)) {}

CurlHttpClient::~CurlHttpClient() = default;

absl::StatusOr<std::unique_ptr<CurlHttpClient>> CurlHttpClient::Create(
    const HttpClientOptions& options, Clock& clock) {
  InitCurlOnce();
  const HttpRetryPolicy& r = options.retry;
  if (r.max_attempts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("retry.max_attempts must be at least 1, got ", r.max_attempts));
  }
  if (r.multiplier < 1 || !std::isfinite(r.multiplier)) {
    return absl::InvalidArgumentError("retry.multiplier must be at least 1");
  }
  if (!(r.jitter >= 0 && r.jitter < 1)) {
    return absl::InvalidArgumentError("retry.jitter must be in [0, 1)");
  }
  if (r.initial_backoff < absl::ZeroDuration() || r.max_backoff < absl::ZeroDuration() ||
      r.max_retry_after < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("retry durations must not be negative");
  }
  if (options.timeout <= absl::ZeroDuration() || options.connect_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeout and connect_timeout must be positive");
  }
  if (!options.ca_file.empty() && !options.ca_pem.empty()) {
    return absl::InvalidArgumentError("ca_file and ca_pem are exclusive");
  }
  if (!options.ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadOptionFile("ca_file", options.ca_file);
    if (!ca.ok()) return ca.status();
    absl::Status pem = CheckPem("ca_file", options.ca_file, *ca, "CERTIFICATE");
    if (!pem.ok()) return pem;
  }
  if (!options.ca_pem.empty()) {
    absl::Status pem = CheckPem("ca_pem", "the text", options.ca_pem, "CERTIFICATE");
    if (!pem.ok()) return pem;
  }
  const bool cert_files = !options.client_cert_file.empty() || !options.client_key_file.empty();
  const bool cert_pems = !options.client_cert_pem.empty() || !options.client_key_pem.empty();
  if (cert_files && cert_pems) {
    return absl::InvalidArgumentError(
        "client certificate given both as files and as PEM text; choose one");
  }
  if (cert_files) {
    if (options.client_cert_file.empty() || options.client_key_file.empty()) {
      return absl::InvalidArgumentError("client_cert_file and client_key_file go together");
    }
    absl::StatusOr<std::string> cert = ReadOptionFile("client_cert_file", options.client_cert_file);
    if (!cert.ok()) return cert.status();
    absl::Status pem = CheckPem("client_cert_file", options.client_cert_file, *cert, "CERTIFICATE");
    if (!pem.ok()) return pem;
    absl::StatusOr<std::string> key = ReadOptionFile("client_key_file", options.client_key_file);
    if (!key.ok()) return key.status();
    pem = CheckPem("client_key_file", options.client_key_file, *key, "PRIVATE KEY");
    if (!pem.ok()) return pem;
  }
  if (cert_pems) {
    if (options.client_cert_pem.empty() || options.client_key_pem.empty()) {
      return absl::InvalidArgumentError("client_cert_pem and client_key_pem go together");
    }
    absl::Status pem =
        CheckPem("client_cert_pem", "the text", options.client_cert_pem, "CERTIFICATE");
    if (!pem.ok()) return pem;
    pem = CheckPem("client_key_pem", "the text", options.client_key_pem, "PRIVATE KEY");
    if (!pem.ok()) return pem;
  }
  if (!options.bearer_token.empty() && !options.bearer_token_file.empty()) {
    return absl::InvalidArgumentError("bearer_token and bearer_token_file are exclusive");
  }
  std::string token = options.bearer_token;
  if (!options.bearer_token_file.empty()) {
    absl::StatusOr<std::string> file =
        ReadOptionFile("bearer_token_file", options.bearer_token_file);
    if (!file.ok()) return file.status();
    token = std::string(absl::StripAsciiWhitespace(*file));
    if (token.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("bearer_token_file: ", options.bearer_token_file, " is empty"));
    }
  }
  if (options.insecure_skip_verify) {
    LogWarn(
        "http client: TLS certificate verification is DISABLED (insecure_skip_verify); any "
        "server can impersonate the real one",
        {{"option", "insecure_skip_verify"}});
  }

  auto client = std::unique_ptr<CurlHttpClient>(new CurlHttpClient(options, clock));
  {
    absl::MutexLock lock(&client->token_mu_);
    client->token_ = std::move(token);
    client->token_loaded_ = clock.Now();
  }
  return client;
}

std::string CurlHttpClient::CurrentToken(bool force) {
  {
    absl::MutexLock lock(&token_mu_);
    if (options_.bearer_token_file.empty() ||
        (!force && clock_.Now() - token_loaded_ < options_.token_reload)) {
      return token_;
    }
  }
  // Read outside the lock; a concurrent reader may do the same, which is harmless.
  absl::StatusOr<std::string> file =
      ReadOptionFile("bearer_token_file", options_.bearer_token_file);
  std::string fresh = file.ok() ? std::string(absl::StripAsciiWhitespace(*file)) : "";
  absl::MutexLock lock(&token_mu_);
  if (!file.ok() || fresh.empty()) {
    LogWarn("http client: cannot re-read the bearer token; keeping the previous one",
            {{"file", options_.bearer_token_file},
             {"err", file.ok() ? absl::InvalidArgumentError("file is empty") : file.status()}});
  } else {
    if (fresh != token_) {
      LogInfo("http client: bearer token reloaded", {{"file", options_.bearer_token_file}});
    }
    token_ = std::move(fresh);
  }
  token_loaded_ = clock_.Now();
  return token_;
}

absl::StatusOr<HttpClientResponse> CurlHttpClient::Send(const HttpClientRequest& request) {
  const bool own_auth = request.headers.Has("authorization");
  const bool retryable = request.retryable.value_or(DefaultRetryable(request.method));
  const HttpRetryPolicy& policy = options_.retry;
  const std::string what = absl::StrCat(request.method, " ", request.url);
  absl::StatusOr<std::string> scheme = UrlScheme(request.url);
  if (!scheme.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", scheme.status().message()));
  }

  int sends = 0;    // every send, for the response
  int attempt = 0;  // sends that count against policy.max_attempts
  bool auth_retried = false;
  while (true) {
    ++sends;
    ++attempt;
    const std::string token = own_auth ? "" : CurrentToken(/*force=*/false);
    if (!token.empty() && *scheme != "https" && !options_.allow_token_over_http) {
      return absl::FailedPreconditionError(
          absl::StrCat(what,
                       ": refusing to send a bearer token over plain http (use https, or set "
                       "allow_token_over_http)"));
    }

    if (request.cancelled && request.cancelled()) {
      return absl::CancelledError(absl::StrCat(what, ": cancelled"));
    }
    Attempt a;
    if (CURL* h = impl_->Acquire(); h == nullptr) {
      a.status = absl::InternalError(absl::StrCat(what, ": curl_easy_init failed"));
    } else {
      a = PerformOnce(h, options_, request, token, what);
      impl_->Release(h);
    }
    if (a.aborted) {  // the caller's on_body asked to stop
      a.response.attempts = sends;
      return std::move(a.response);
    }

    if (a.status.ok()) {
      HttpClientResponse& resp = a.response;
      if (resp.status == 401 && !own_auth && !options_.bearer_token_file.empty() && !auth_retried &&
          !a.streamed) {
        // The token may have rotated since it was read: read it again, and resend if it did.
        auth_retried = true;
        if (CurrentToken(/*force=*/true) != token) {
          --attempt;
          continue;
        }
      }
      if (RetryableStatus(resp.status) && retryable && !a.streamed &&
          attempt < policy.max_attempts) {
        std::optional<absl::Duration> delay =
            ParseRetryAfter(resp.headers.Get("retry-after"), clock_.Now(), policy.max_retry_after);
        const absl::Duration wait = delay.value_or(Jittered(policy, attempt));
        LogDebug(
            "http client: retrying",
            {{"request", what}, {"status", resp.status}, {"attempt", attempt}, {"wait", wait}});
        clock_.SleepFor(wait);
        continue;
      }
      resp.attempts = sends;
      return std::move(resp);
    }
    if (a.retryable_error && !a.streamed && (retryable || a.sent_nothing) &&
        attempt < policy.max_attempts) {
      const absl::Duration wait = Jittered(policy, attempt);
      LogDebug("http client: retrying",
               {{"request", what}, {"err", a.status}, {"attempt", attempt}, {"wait", wait}});
      clock_.SleepFor(wait);
      continue;
    }
    if (sends > 1) {
      return absl::Status(a.status.code(),
                          absl::StrCat(a.status.message(), " (after ", sends, " attempts)"));
    }
    return a.status;
  }
}

}  // namespace sextant
