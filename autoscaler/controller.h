// The autoscaler's controller: every sync it reconciles each ScalingPolicy (from the CRD through
// the Kubernetes client, and from files) with the HPA's arithmetic: GET the target's /scale, pick
// its pods by the scale's selector, read the metrics, decide, PUT the scale with its
// resourceVersion (a 409 re-reads and recomputes; 429 and 5xx back off; 403 logs the missing
// permission), record Events, and update the policy's status only when it changed. Only the
// leader acts; with dry_run it logs decisions without writing anything.
//
//   Controller controller(client, query, RealClock::Get(), options, metrics.registry());
//   controller.SetFilePolicies(policies_from_files);
//   controller.Start();  // informers + the sync loop
//   ...
//   controller.Stop();
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "autoscaler/hpa/horizontal.h"
#include "autoscaler/metrics_source.h"
#include "autoscaler/policy.h"
#include "common/clock.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace sextant::autoscaler {

// Controller's settings (autoscaler.* of DESIGN.md 3.7).
struct ControllerOptions {
  // Time between syncs; at least 1 s. Default 5 s.
  absl::Duration sync_interval = absl::Seconds(5);
  // The HPA's controller-wide settings (tolerance, stabilization, CPU initialization).
  hpa::HpaOptions hpa;
  MetricsSourceOptions metrics;
  // Log decisions; write no scale, status or Event. Default false.
  bool dry_run = false;
  // Namespaces whose policies and pods are watched; empty = all. Default all.
  std::vector<std::string> watch_namespaces;
  // Watch ScalingPolicy objects through the API. Default true.
  bool watch_api_policies = true;
  // Backoff of a policy after a 429/5xx answer or an unreachable API: doubles from `initial` up
  // to `max`, with +-20% jitter. Defaults 1 s and 1 min.
  absl::Duration backoff_initial = absl::Seconds(1);
  absl::Duration backoff_max = absl::Minutes(1);
  // Policies reconciled at once within a sync (each by one thread). Default 5, as the HPA
  // controller's --concurrent-horizontal-pod-autoscaler-syncs.
  int workers = 5;
  // Attempts of one reconcile whose scale write meets a 409 (re-read and recompute each time).
  // Default 3.
  int conflict_attempts = 3;
  // Events' source component. Default "sextant-autoscaler".
  std::string component = "sextant-autoscaler";
};

// One policy as /api/v1/scaling shows it. A value type.
struct PolicyReport {
  std::string namespace_name;
  std::string name;
  std::string source;  // "api" or the file it came from
  kube::ScaleTarget target;
  int32_t min_replicas = 0;
  int32_t max_replicas = 0;
  bool paused = false;
  std::string error;  // why the policy is not acted on (invalid, target unreadable); "" if none
  int32_t current_replicas = 0;
  int32_t desired_replicas = 0;
  std::optional<absl::Time> last_decision_time;
  std::string last_reason;  // hpa::Decision::reason
  std::string last_code;    // hpa::Decision::code
  std::vector<MetricSpec> metric_specs;
  std::vector<MetricStatus> metrics;
  std::vector<PolicyCondition> conditions;
  std::optional<absl::Time> last_scale_time;
};

// Owns the informers (policies, pods), the per-policy HPA state and the sync thread. `client`,
// `query`, `clock` and `registry` must outlive it. Thread-safe: Report() and the setters may be
// called from any thread; SyncOnce() runs one sync at a time (concurrent calls wait), its
// policies on up to ControllerOptions::workers threads.
class Controller {
 public:
  Controller(kube::KubeClient& client, QueryClient& query, Clock& clock, ControllerOptions options,
             prometheus::Registry& registry);
  ~Controller();  // Stops.
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Policies read from files (autoscaler.policyFiles). Each must have passed
  // ParseScalingPolicy; invalid ones are reported, not acted on. `source` names the file.
  void SetFilePolicies(std::vector<std::pair<ScalingPolicy, std::string>> policies);
  // Who may act: the leader check (default: always). Followers skip the syncs; on becoming
  // leader the HPA state starts afresh, as a new HPA controller's would. It is asked again right
  // before each write (scale, status, Event), so leadership lost during a sync writes nothing
  // more. Called with an internal lock held: it must not call back into the controller.
  void SetLeaderCheck(std::function<bool()> is_leader);

  // Starts the informers only (tests drive SyncOnce themselves).
  void StartInformers();
  // True once every informer has listed once.
  bool HasSynced() const;
  // True once the pod informers have listed once (the sync loop waits for these only).
  bool PodsSynced() const;
  // Starts the informers and the sync loop. Idempotent.
  void Start();
  // Stops the loop and the informers. Idempotent.
  void Stop();

  // One sync at `now`: every policy reconciled once. Errors of single policies are logged and
  // reported, not returned; returns OK unless the sync could not run at all.
  absl::Status SyncOnce(absl::Time now);

  // Every known policy, ordered by namespace and name.
  std::vector<PolicyReport> Report() const;

 private:
  struct PolicyRuntime;
  struct ParsedPod {
    std::map<std::string, std::string> labels;
    hpa::PodInfo info;
  };

  void ReconcilePolicy(PolicyRuntime& rt, absl::Time now);
  // The pods of `namespace_name` the selector matches.
  std::vector<hpa::PodInfo> PodsFor(const std::string& namespace_name, const std::string& selector,
                                    absl::Status* error) const;
  void RecordEvents(PolicyRuntime& rt, const std::vector<hpa::EventRecord>& events, absl::Time now);
  void WriteStatus(PolicyRuntime& rt);
  void UpdateMetrics(PolicyRuntime& rt);
  void RemoveMetrics(PolicyRuntime& rt);
  void Backoff(PolicyRuntime& rt, absl::Time now);
  // The leader check again, right before a write: leadership may end during a sync.
  bool StillLeader() const;
  // Refreshes the runtime table from the informer's cache and the file policies.
  void RefreshPolicies();
  void OnPod(const kube::CachedObject* object, bool deleted);

  kube::KubeClient& client_;
  Clock& clock_;
  const ControllerOptions options_;
  MetricsSource source_;

  std::vector<std::unique_ptr<kube::Informer>> policy_informers_;
  std::vector<std::unique_ptr<kube::Informer>> pod_informers_;

  mutable absl::Mutex pods_mu_;
  // namespace -> pod name -> pod
  std::map<std::string, std::map<std::string, ParsedPod>> pods_ ABSL_GUARDED_BY(pods_mu_);
  // namespace -> "key=value" -> pod names: selectors with an equality requirement
  // look up their candidates instead of testing every pod of the namespace.
  std::map<std::string, std::map<std::string, std::set<std::string>>> pod_labels_
      ABSL_GUARDED_BY(pods_mu_);

  absl::Mutex sync_mu_;  // one sync at a time; guards the runtimes' HPA state
  mutable absl::Mutex mu_;
  std::vector<std::pair<ScalingPolicy, std::string>> file_policies_ ABSL_GUARDED_BY(mu_);
  int64_t file_version_ ABSL_GUARDED_BY(mu_) = 0;           // bumped by SetFilePolicies
  int64_t applied_file_version_ ABSL_GUARDED_BY(mu_) = -1;  // the one RefreshPolicies applied
  std::function<bool()> is_leader_ ABSL_GUARDED_BY(mu_);
  bool was_leader_ ABSL_GUARDED_BY(sync_mu_) = false;
  std::map<std::string, std::unique_ptr<PolicyRuntime>> policies_ ABSL_GUARDED_BY(mu_);

  // Self-metrics.
  prometheus::Family<prometheus::Gauge>& desired_replicas_;
  prometheus::Family<prometheus::Gauge>& current_replicas_;
  prometheus::Family<prometheus::Gauge>& metric_value_;
  prometheus::Family<prometheus::Gauge>& metric_target_;
  prometheus::Family<prometheus::Counter>& decisions_;
  prometheus::Family<prometheus::Counter>& actuation_errors_;
  prometheus::Family<prometheus::Gauge>& policies_gauge_;
  prometheus::Histogram& sync_duration_;

  absl::Notification stop_;
  absl::Mutex thread_mu_;
  std::thread thread_ ABSL_GUARDED_BY(thread_mu_);
  bool started_ ABSL_GUARDED_BY(thread_mu_) = false;
};

}  // namespace sextant::autoscaler
