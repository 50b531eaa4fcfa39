#include "collector/kubelet/kubelet_source.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/utf8.h"

namespace sextant::collector {
namespace {

constexpr size_t kBodyExcerptBytes = 256;

// The start of an error answer's body, on one line, for a status message.
std::string Excerpt(absl::string_view body) {
  std::string out = SanitizeUtf8(body.substr(0, kBodyExcerptBytes));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (body.size() > kBodyExcerptBytes) out += "...";
  return out;
}

// The HTTP client for `options`: TLS settings and the token for https only.
absl::StatusOr<std::unique_ptr<HttpClient>> MakeClient(const KubeletSourceOptions& options) {
  const bool https = absl::StartsWith(options.url, "https://");
  if (https && !options.insecure_tls && !options.ca_file.empty() &&
      ::access(options.ca_file.c_str(), R_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "kubelet client: cannot read the CA file ", options.ca_file, ": ", std::strerror(errno),
        " (mount the service account, set collector.kubelet.insecureTLS, or use http://)"));
  }
  HttpClientOptions http;
  http.timeout = options.timeout;
  http.connect_timeout = std::min(options.timeout, absl::Seconds(5));
  http.retry.max_attempts = options.max_attempts;
  http.retry.max_backoff = absl::Seconds(1);
  http.max_idle_handles = 1;
  if (https) {
    // The token goes only where the connection is encrypted; over http the kubelet's read-only
    // port needs none, and the client would refuse to send it anyway. Outside a pod (a kubelet
    // URL given by hand) there may be no token: send none rather than fail; the kubelet then
    // answers 401, which the pass reports.
    if (!options.token_file.empty() && ::access(options.token_file.c_str(), F_OK) != 0) {
      LogWarn("kubelet: no service-account token, sending requests without one",
              {{"token_file", options.token_file}});
    } else {
      http.bearer_token_file = options.token_file;
    }
    http.token_reload = options.token_reload;
    if (options.insecure_tls) {
      http.insecure_skip_verify = true;
    } else {
      http.ca_file = options.ca_file;
    }
  }
  Clock& clock = options.clock != nullptr ? *options.clock : RealClock::Get();
  absl::StatusOr<std::unique_ptr<CurlHttpClient>> client = CurlHttpClient::Create(http, clock);
  if (!client.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("kubelet client: ", client.status().message()));
  }
  return std::unique_ptr<HttpClient>(std::move(*client));
}

}  // namespace

absl::StatusOr<std::unique_ptr<KubeletSource>> KubeletSource::Create(
    const KubeletSourceOptions& options, std::unique_ptr<HttpClient> client) {
  const bool https = absl::StartsWith(options.url, "https://");
  if (!https && !absl::StartsWith(options.url, "http://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kubelet URL \"", options.url, "\": want http://HOST:PORT or https://HOST:PORT"));
  }
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError("kubelet max_attempts must be at least 1");
  }
  return std::unique_ptr<KubeletSource>(new KubeletSource(options, std::move(client)));
}

KubeletSource::KubeletSource(const KubeletSourceOptions& options,
                             std::unique_ptr<HttpClient> client)
    : options_(options),
      pods_url_(absl::StrCat(absl::StripSuffix(options.url, "/"), "/pods")),
      client_(std::move(client)) {}

std::shared_ptr<const PodIndex> KubeletSource::pods() const {
  absl::MutexLock lock(&mu_);
  return pods_;
}

absl::StatusOr<std::vector<KubeletPod>> KubeletSource::Fetch(std::vector<absl::Status>* skipped) {
  if (client_ == nullptr) {
    SEXTANT_ASSIGN_OR_RETURN(client_, MakeClient(options_));
  }
  HttpClientRequest request;
  request.url = pods_url_;
  request.timeout = options_.timeout;
  request.headers.Add("Accept", "application/json");
  std::string body;
  bool too_large = false;
  const size_t limit = options_.max_response_bytes;
  request.on_body = [&](absl::string_view chunk) {
    if (chunk.size() > limit - body.size()) {
      too_large = true;
      return false;
    }
    body.append(chunk.data(), chunk.size());
    return true;
  };
  absl::StatusOr<HttpClientResponse> response = client_->Send(request);
  if (!response.ok()) return Annotate(response.status(), absl::StrCat("GET ", pods_url_, ": "));
  const int code = response->status;
  if (code == 401) {
    return absl::UnauthenticatedError(
        absl::StrCat("GET ", pods_url_,
                     ": HTTP 401 (the kubelet did not accept the service account token; "
                     "it needs --authentication-token-webhook): ",
                     Excerpt(response->body)));
  }
  if (code == 403) {
    return absl::PermissionDeniedError(absl::StrCat(
        "GET ", pods_url_,
        ": HTTP 403 (grant the collector's service account get on "
        "nodes/proxy, or on nodes/pods where the kubelet has fine-grained authorization): ",
        Excerpt(response->body)));
  }
  if (code < 200 || code > 299) {
    return absl::UnavailableError(
        absl::StrCat("GET ", pods_url_, ": HTTP ", code, ": ", Excerpt(response->body)));
  }
  if (too_large) {
    return absl::ResourceExhaustedError(absl::StrCat("GET ", pods_url_, ": answer longer than ",
                                                     options_.max_response_bytes, " bytes"));
  }
  return ParseKubeletPods(body, skipped);
}

void KubeletSource::SetUp(bool up, const absl::Status& error, size_t pod_count) {
  if (up && reachability_ == Reachability::kDown) {
    LogInfo("kubelet reachable again", {{"url", pods_url_}, {"pods", pod_count}});
  } else if (up && reachability_ == Reachability::kUnknown) {
    LogInfo("kubelet reachable", {{"url", pods_url_}, {"pods", pod_count}});
  } else if (!up && reachability_ != Reachability::kDown) {
    LogWarn(
        "kubelet unreachable: no kube_pod_* series, and cgroup series carry pod UIDs only "
        "until it answers",
        {{"url", pods_url_}, {"err", error}});
  }
  reachability_ = up ? Reachability::kUp : Reachability::kDown;
}

absl::Status KubeletSource::Collect(const PassContext& /*ctx*/, MetricSet& out) {
  std::vector<absl::Status> skipped;
  absl::StatusOr<std::vector<KubeletPod>> pods = Fetch(&skipped);
  out.Gauge("sextant_collector_kubelet_up",
            "1 when this pass read the pods from the kubelet, 0 when it could not.", {},
            pods.ok() ? 1 : 0);
  if (!pods.ok()) {
    if (++failed_passes_ > options_.pod_index_grace_passes) {
      absl::MutexLock lock(&mu_);
      pods_ = nullptr;
    }
    SetUp(false, pods.status(), 0);
    return pods.status();
  }
  failed_passes_ = 0;
  const size_t bad = AppendPodMetrics(*pods, options_.node_name, out);
  auto index = std::make_shared<const PodIndex>(BuildPodIndex(*pods));
  {
    absl::MutexLock lock(&mu_);
    pods_ = std::move(index);
  }
  SetUp(true, absl::OkStatus(), pods->size());
  if (!skipped.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(skipped.size(), " pods skipped, the first for: ", skipped[0].message()));
  }
  if (bad > 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubelet pods: ", bad, " resource quantities did not parse (skipped)"));
  }
  return absl::OkStatus();
}

}  // namespace sextant::collector
