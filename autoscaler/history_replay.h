// `sextant replay --from=-24h`: what a ScalingPolicy would have decided over stored history.
// Each step (every sync_step) reads, at its time, the target's pods from the collector's
// kube-state-metrics series (kube_pod_info by owner, kube_pod_status_phase,
// kube_pod_status_ready, kube_pod_container_resource_requests) and the policy's metrics through
// the same MetricsSource the controller uses, and runs the HPA arithmetic with the state carried
// from step to step. The current replicas of a step are the pods the history holds then (what
// really ran), so each line says what this policy would have decided at that moment.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "autoscaler/hpa/horizontal.h"
#include "autoscaler/metrics_source.h"
#include "autoscaler/policy.h"
#include "autoscaler/replay.h"

namespace sextant::autoscaler {

struct HistoryReplayOptions {
  absl::Time start;  // the first step
  absl::Time end;    // the last step is at or before it
  // Step spacing (the scenario option syncSeconds). Default 15 s.
  absl::Duration step = absl::Seconds(15);
  hpa::HpaOptions hpa;
  MetricsSourceOptions metrics;
};

// The PromQL selector of the target's pods' kube_pod_info series: by owner, a Deployment's
// through its ReplicaSets (created_by_name "<name>-<hash>"), a StatefulSet's or ReplicaSet's
// directly. InvalidArgument for other kinds (their pods cannot be told from history).
absl::StatusOr<std::string> TargetPodInfoSelector(const ScalingPolicy& policy);

// The pods the history holds for the policy's target at `at`.
absl::StatusOr<std::vector<hpa::PodInfo>> PodsAt(const ScalingPolicy& policy, QueryClient& query,
                                                 absl::Time at);

// Runs the steps; `at` in the output is seconds from options.start. Errors: the policy's target
// kind (see TargetPodInfoSelector), start after end, a non-positive step, and failed pod queries
// (metric failures are the steps' own outcome, as in the controller).
absl::StatusOr<std::vector<ReplayStep>> ReplayHistory(const ScalingPolicy& policy,
                                                      QueryClient& query,
                                                      const HistoryReplayOptions& options);

}  // namespace sextant::autoscaler
