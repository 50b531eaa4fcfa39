// The HorizontalPodAutoscaler's replica arithmetic per metric (Kubernetes'
// pkg/controller/podautoscaler/replica_calculator.go), on values in milli-units as the HPA
// computes them: pods grouped into ignored, unready, missing and ready; missing pods assumed at
// 100% (or the target) on a scale-down and 0 on a scale-up; unready pods at 0 on a scale-up only;
// a rebalanced ratio that would reverse the direction keeps the current count; tolerance per
// direction. Pure functions: the inputs are what the metrics source and the pod list gave.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sextant::autoscaler::hpa {

// The controller-wide settings (kube-controller-manager's --horizontal-pod-autoscaler-* flags).
struct HpaOptions {
  // Ratios within [1 - tolerance, 1 + tolerance] do not scale. Default 0.1.
  double tolerance = 0.1;
  // Scale-downs take the highest recommendation of this window (no behavior block, or a
  // scaleDown rule without a window). Default 5 min.
  absl::Duration downscale_stabilization = absl::Minutes(5);
  // CPU samples of pods younger than this count only once the pod is ready and a whole metric
  // window has passed since it became ready. Default 5 min.
  absl::Duration cpu_initialization_period = absl::Minutes(5);
  // A not-ready pod whose readiness last changed within this of its start has never been ready.
  // Default 30 s.
  absl::Duration initial_readiness_delay = absl::Seconds(30);
};

// The two tolerances of one reconcile (a behavior rule's tolerance wins over HpaOptions').
struct Tolerances {
  double scale_down = 0.1;
  double scale_up = 0.1;
  // True when the ratio is within [1 - scale_down, 1 + scale_up].
  bool IsWithin(double usage_ratio) const {
    return 1.0 - scale_down <= usage_ratio && usage_ratio <= 1.0 + scale_up;
  }
};

// One container's resource requests, milli-units ("cpu" -> 500 for "500m").
struct ContainerRequests {
  std::string name;
  std::map<std::string, int64_t> requests;
};

// A pod the target's selector matches, with the fields the HPA reads.
struct PodInfo {
  std::string name;
  std::string phase;      // Pending, Running, Succeeded, Failed, Unknown
  bool deleting = false;  // metadata.deletionTimestamp is set
  std::optional<absl::Time> start_time;
  // The Ready condition: unset when the pod has none.
  std::optional<bool> ready;
  absl::Time ready_transition_time;
  std::vector<ContainerRequests> containers;
};

// One pod's sample of a metric.
struct PodMetric {
  int64_t value_milli = 0;
  absl::Time timestamp;   // when the sample was taken
  absl::Duration window;  // the span it covers (rates: the range; gauges: zero)
};
using PodMetrics = std::map<std::string, PodMetric>;  // by pod name

// groupPods: how the HPA classifies the pods for a metric.
struct PodGroups {
  int ready_count = 0;
  std::set<std::string> unready;  // Pending; for cpu also not yet initialized or never ready
  std::set<std::string> missing;  // no sample
  std::set<std::string> ignored;  // deleting, Failed or Succeeded
};
// `resource` is "cpu", "memory" or "" (Pods metrics); the CPU readiness rules apply to "cpu".
PodGroups GroupPods(const std::vector<PodInfo>& pods, const PodMetrics& metrics,
                    const std::string& resource, const HpaOptions& options, absl::Time now);

// Sum of each pod's requests of `resource` over its containers (or only `container`), by pod.
// InvalidArgument "missing request for cpu in container web of Pod web-1" when a container has
// no request.
absl::StatusOr<std::map<std::string, int64_t>> PodRequests(const std::vector<PodInfo>& pods,
                                                           const std::string& resource,
                                                           const std::string& container);

// A proposal for one metric.
struct ReplicaProposal {
  int32_t replicas = 0;
  // Resource Utilization: the average utilization in percent (integer, as the HPA's).
  std::optional<int32_t> utilization;
  // The average (Resource, Pods, External AverageValue) or total (External Value) in milli-units.
  int64_t usage_milli = 0;
};

// Resource metric, Utilization target (GetResourceReplicas). Errors (InvalidArgument):
// "no pods returned by selector while calculating replica count", "did not receive metrics for
// targeted pods (pods might be unready)", missing requests, "no metrics returned matched known
// pods".
absl::StatusOr<ReplicaProposal> ResourceUtilizationReplicas(
    int32_t current_replicas, int32_t target_utilization, const std::string& resource,
    const std::string& container, const Tolerances& tolerances, const std::vector<PodInfo>& pods,
    PodMetrics metrics, const HpaOptions& options, absl::Time now);

// Resource metric with an AverageValue target, and Pods metrics (calcPlainMetricReplicas):
// `resource` is "cpu"/"memory" for Resource and "" for Pods. Errors as above.
absl::StatusOr<ReplicaProposal> PlainMetricReplicas(int32_t current_replicas, int64_t target_milli,
                                                    const std::string& resource,
                                                    const Tolerances& tolerances,
                                                    const std::vector<PodInfo>& pods,
                                                    PodMetrics metrics, const HpaOptions& options,
                                                    absl::Time now);

// External metric, Value target (GetExternalMetricReplicas): `usage_milli` is the sum of the
// query's values; `current_replicas` the scale's spec.replicas. Scales with the pods that are
// Running and ready; from zero replicas to ceil(ratio). Error when no pod matches and
// current_replicas > 0.
absl::StatusOr<ReplicaProposal> ExternalValueReplicas(int32_t current_replicas,
                                                      int64_t target_milli, int64_t usage_milli,
                                                      const Tolerances& tolerances,
                                                      const std::vector<PodInfo>& pods);

// External metric, AverageValue target (GetExternalPerPodMetricReplicas): `status_replicas` is
// the scale's status.replicas. usage_milli of the proposal is the per-pod average (rounded up),
// 0 when status_replicas is 0.
ReplicaProposal ExternalAverageValueReplicas(int32_t status_replicas, int64_t target_milli,
                                             int64_t usage_milli, const Tolerances& tolerances);

}  // namespace sextant::autoscaler::hpa
