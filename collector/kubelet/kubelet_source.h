// The kubelet source: each pass reads the kubelet's /pods (the pods bound to this node, with
// their status) and exports kube-state-metrics' pod series for them, and keeps the pod index
// that gives the cgroup series their namespace, pod and container names.
//
//   KubeletSourceOptions opts;
//   opts.url = "https://10.0.0.5:10250";
//   opts.node_name = "node-a";
//   SEXTANT_ASSIGN_OR_RETURN(auto kubelet, KubeletSource::Create(opts));
//   absl::Status st = kubelet->Collect(ctx, metrics);  // then ctx.pods = kubelet->pods()
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "collector/kubelet/pod_list.h"
#include "collector/pod_index.h"
#include "collector/source.h"
#include "common/clock.h"
#include "common/http_client.h"

namespace sextant::collector {

// KubeletSource's settings. A value type; not thread-safe (concurrent const use is fine).
struct KubeletSourceOptions {
  // Base URL of the kubelet, e.g. "https://10.0.0.5:10250" (or "http://127.0.0.1:10255", the
  // read-only port: no token is sent over plain http). Required.
  std::string url;
  // Skips verification of the kubelet's certificate (--kubelet-insecure-tls). Default false.
  bool insecure_tls = false;
  // The CA the kubelet's serving certificate must chain to (https only); "" trusts the system's
  // CAs. Default: the service account's cluster CA.
  std::string ca_file = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";
  // Bearer token sent to an https kubelet, re-read every token_reload and after a 401 (bound
  // tokens rotate); "" sends none. Default: the service account's token.
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  absl::Duration token_reload = absl::Minutes(1);
  // The node, for the `node` label of pods whose spec.nodeName is empty. Default "".
  std::string node_name;
  // Limit for one request, connecting included. Default 3 s.
  absl::Duration timeout = absl::Seconds(3);
  // Attempts per pass (a timeout, a connection error, 429 or 5xx are tried again after a short
  // backoff). Default 2.
  int max_attempts = 2;
  // Largest /pods answer read; a longer one fails the pass with ResourceExhausted. Default 64 MiB.
  size_t max_response_bytes = size_t{64} << 20;
  // The clock the HTTP client sleeps on between attempts. Not owned; null: the real clock.
  Clock* clock = nullptr;
  // Failed passes in a row for which pods() still returns the last good index, so that one
  // kubelet hiccup does not rename every container series (and churn them all). Default 2.
  int pod_index_grace_passes = 2;
};

// The Source named "kubelet". Each Collect sends GET <url>/pods and, when that works, exports the
// kube_pod_* series and replaces the pod index. Every pass it also exports
// sextant_collector_kubelet_up (1 when this pass read the pods, else 0). When the kubelet cannot
// be read, the pass exports no kube_pod_* series, and after pod_index_grace_passes such passes
// pods() becomes null, so the cgroup series fall back to pod UIDs rather than carry names that
// may be stale; one log line marks the change (and one its end). Owned by the collection pass.
// Collect runs on one thread; pods() may be called from any thread.
class KubeletSource final : public Source {
 public:
  // InvalidArgument for an empty URL or one that is not http:// or https://. `client` null: a
  // CurlHttpClient with the options' CA, token and TLS settings, made when first needed (a CA
  // file that cannot be read fails each pass, not the collector; a missing token file means no
  // token); otherwise `client` is used as is (tests).
  static absl::StatusOr<std::unique_ptr<KubeletSource>> Create(
      const KubeletSourceOptions& options, std::unique_ptr<HttpClient> client = nullptr);

  absl::string_view name() const override { return "kubelet"; }

  // Reads /pods and appends the series. Errors (with the URL in the message): the HTTP client's
  // (Unavailable for connection and TLS failures, DeadlineExceeded for a timeout);
  // Unauthenticated for 401; PermissionDenied for 403, naming the permission to grant (get on
  // nodes/proxy); Unavailable for other non-2xx answers, with the status and the start of the
  // body; ResourceExhausted for an answer over max_response_bytes; InvalidArgument for an answer
  // that is not a PodList; FailedPrecondition when the HTTP client cannot be made (an unreadable
  // CA file). Pods with a field of the wrong type and quantities that do not parse are skipped
  // and reported as InvalidArgument after the rest of the series are out.
  absl::Status Collect(const PassContext& ctx, MetricSet& out) override;

  // The pods of the last successful pass; null before the first success and once more than
  // pod_index_grace_passes passes in a row have failed.
  std::shared_ptr<const PodIndex> pods() const;

 private:
  KubeletSource(const KubeletSourceOptions& options, std::unique_ptr<HttpClient> client);
  // The parsed /pods answer; pods that could not be read are left out and their errors appended
  // to `skipped`.
  absl::StatusOr<std::vector<KubeletPod>> Fetch(std::vector<absl::Status>* skipped);
  void SetUp(bool up, const absl::Status& error, size_t pod_count);

  const KubeletSourceOptions options_;
  const std::string pods_url_;
  std::unique_ptr<HttpClient> client_;  // null until made (see Create)
  int failed_passes_ = 0;               // in a row
  enum class Reachability { kUnknown, kUp, kDown };
  Reachability reachability_ = Reachability::kUnknown;  // for logging changes only

  mutable absl::Mutex mu_;
  std::shared_ptr<const PodIndex> pods_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sextant::collector
