// One reconcile of a ScalingPolicy with the HorizontalPodAutoscaler's decision logic (Kubernetes'
// pkg/controller/podautoscaler/horizontal.go): the largest proposal over the metrics (invalid
// metrics block a scale-down, never a scale-up), min/max and the scale-up limit without a
// behavior block, stabilization windows and Pods/Percent rate policies with one, conditions
// AbleToScale / ScalingActive / ScalingLimited with the HPA's reasons and messages, and the
// Events. Plus Sextant's additions: scale to and from zero on activation thresholds, fallback
// replicas after repeated reconciles where every metric failed, paused.
//
// The caller (the controller, or replay) reads the scale, the pods and the metrics, calls
// Decide(), writes the scale when the decision says so, then calls Finish() with the write's
// result. Both functions are pure apart from the PolicyState and the status they are given.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "autoscaler/hpa/replica_calculator.h"
#include "autoscaler/policy.h"

namespace sextant::autoscaler::hpa {

// What the metrics source read for one entry of spec.metrics.
struct MetricInput {
  // Not OK when the query failed or returned nothing usable; the message is the cause.
  absl::Status status;
  // Resource and Pods: the samples by pod name.
  PodMetrics pods;
  // External: the sum of the query's values (the HPA sums the external metric's items).
  int64_t value_milli = 0;
};

// Everything one reconcile reads.
struct ReconcileInput {
  // The /scale subresource; a failure to read it is the controller's (FailedGetScale) and never
  // reaches Decide.
  int32_t spec_replicas = 0;
  int32_t status_replicas = 0;
  std::string selector;  // status.selector; "" is an error for Resource and Pods metrics
  // The pods the selector matches.
  std::vector<PodInfo> pods;
  // One per spec.metrics entry, in order.
  std::vector<MetricInput> metrics;
};

// An Event to record on the policy.
struct EventRecord {
  std::string type;    // "Normal" or "Warning"
  std::string reason;  // SuccessfulRescale, FailedRescale, FailedGetResourceMetric, ...
  std::string message;
};

// The outcome of Decide.
struct Decision {
  int32_t current_replicas = 0;  // the scale's spec.replicas
  int32_t desired_replicas = 0;
  bool rescale = false;  // desired_replicas != current_replicas: write the scale
  // Why: the HPA's rescale reason when scaling ("cpu resource utilization (percentage of request)
  // above target", "All metrics below target", "Current number of replicas below
  // Spec.MinReplicas", ...), else the reason code of the condition that explains the outcome
  // ("ReadyForNewScale", "ScaleDownStabilized", "ScaleUpLimit", "FailedGetPodsMetric",
  // "ScalingDisabled", "Paused", ...).
  std::string reason;
  // A short, bounded label for metrics and logs: "scale_up", "scale_down", "no_change",
  // "stabilized", "limited", "metrics_failed", "fallback", "paused", "disabled", "scaled_to_zero".
  std::string code;
  // The metric that gave the winning proposal ("" when none).
  std::string metric;
  std::vector<MetricStatus> metric_statuses;  // one per metric that could be read
  std::vector<EventRecord> events;            // to record whatever Finish() adds
  // The error of the metrics (the HPA's "invalid metrics (1 invalid out of 2), first error is:
  // ..."), also when the decision went ahead on the valid ones. OK when every metric was read.
  absl::Status error;
};

// What the HPA controller remembers per policy between reconciles: recommendations for the
// stabilization windows, scale events for the rate policies, and (Sextant) consecutive
// reconciles where every metric failed, for fallback. A value type; not thread-safe (one reconcile
// at a time per policy).
class PolicyState {
 public:
  struct Recommendation {
    int32_t replicas;
    absl::Time at;
  };
  struct ScaleEvent {
    int32_t change;  // > 0
    absl::Time at;
    bool outdated;
  };

  // recordInitialRecommendation: seeds the history with `replicas` at `now` if it is empty (a
  // new policy, or one whose history was reset).
  void SeedIfEmpty(int32_t replicas, absl::Time now);
  // storeScaleEvent (only with a behavior block): remembers a change from `from` to `to`,
  // reusing the slot of an event older than the longest policy period of that direction.
  void RecordScaleEvent(const ScalingPolicySpec& spec, int32_t from, int32_t to, absl::Time now);

  const std::vector<Recommendation>& recommendations() const { return recommendations_; }
  const std::vector<ScaleEvent>& scale_up_events() const { return scale_up_events_; }
  const std::vector<ScaleEvent>& scale_down_events() const { return scale_down_events_; }
  int consecutive_failures() const { return consecutive_failures_; }

 private:
  friend class Reconciler;           // horizontal.cc: the reconcile's history updates
  friend class PolicyStateTestPeer;  // tests: sets a history directly
  std::vector<Recommendation> recommendations_;
  std::vector<ScaleEvent> scale_up_events_;
  std::vector<ScaleEvent> scale_down_events_;
  int consecutive_failures_ = 0;
};

// Sets (or replaces) the condition of `type`; its lastTransitionTime changes only when the status
// changes, as the HPA's setCondition.
void SetCondition(std::vector<PolicyCondition>& conditions, const std::string& type,
                  const std::string& status, const std::string& reason, const std::string& message,
                  absl::Time now);
// The condition of `type`, or null.
const PolicyCondition* FindCondition(const std::vector<PolicyCondition>& conditions,
                                     const std::string& type);

// Decides the replicas for one reconcile at `now`. Updates `state` (recommendations, failures)
// and the conditions in `status` that the HPA sets before writing the scale (ScalingActive,
// ScalingLimited, AbleToScale's stabilization reasons).
Decision Decide(const ScalingPolicySpec& spec, const ReconcileInput& input,
                const HpaOptions& options, absl::Time now, PolicyState& state,
                ScalingPolicyStatus& status);

// Completes the reconcile once the scale write is done (`write` OK; ignored when
// !decision.rescale): on success AbleToScale True SucceededRescale, the SuccessfulRescale Event
// ("New size: 3; reason: ..."), the scale event for the rate policies and lastScaleTime; on
// failure AbleToScale False FailedUpdateScale and the FailedRescale Event, and desiredReplicas
// keeps its previous value, as the HPA. Sets currentReplicas, desiredReplicas and
// currentMetrics.
void Finish(const ScalingPolicySpec& spec, const absl::Status& write, absl::Time now,
            Decision& decision, PolicyState& state, ScalingPolicyStatus& status);

}  // namespace sextant::autoscaler::hpa
