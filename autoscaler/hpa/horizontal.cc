// One reconcile of the HorizontalPodAutoscaler (Kubernetes' pkg/controller/podautoscaler/
// horizontal.go, reconcileAutoscaler and what it calls), on our types. The order of the steps,
// the conditions and their messages, the Events and the status fields follow the HPA:
//
//   AbleToScale True SucceededGetScale; seed the recommendations with spec.replicas;
//   spec.replicas 0 with minReplicas > 0: ScalingActive False ScalingDisabled, no scaling;
//   above maxReplicas / below minReplicas: straight to the bound, no metrics;
//   else computeReplicasForMetrics (largest proposal; a failed metric records a Warning Event
//   and, when every metric failed or the valid ones would scale down, gives the first failure's
//   ScalingActive condition and the FailedComputeMetricsReplicas Event and stops the reconcile:
//   current replicas and metrics are stored, desiredReplicas keeps its value);
//   then normalizeDesiredReplicas (no behavior: 5 min downscale stabilization that replaces one
//   old sample or appends, min/max and the max(2 x current, 4) scale-up limit) or
//   normalizeDesiredReplicasWithBehaviors (up/down windows, Pods/Percent policies over the
//   recorded scale events, selectPolicy); Finish writes the result the HPA writes after the scale
//   update.
//
// Sextant's additions, each where the HPA has no opinion:
// - paused: before anything else is decided. No metric is evaluated, nothing is written to the
//   scale; desired = current; ScalingActive False ScalingPaused "the policy is paused"; reason
//   "Paused", code "paused". The recommendation history is still seeded so that unpausing does
//   not scale down at once.
// - fallback: only when every metric failed (or none could be computed: no selector, no
//   metrics). Each such reconcile counts one failure; any reconcile where some metric gave a
//   proposal resets the count, including one where an invalid metric blocked the valid ones'
//   scale-down (that keeps the current count, as the HPA, and never falls back). From
//   failureThreshold failures on, fallback.replicas is the proposal: it goes through
//   stabilization / behavior / min-max like any proposal, the rescale reason is
//   "Fallback: <the metrics error>", the code "fallback", and ScalingActive stays False with the
//   failure's reason (the metrics are still broken). The FailedComputeMetricsReplicas Event is
//   recorded either way. Reconciles that never compute metrics (paused, ScalingDisabled, out of
//   [min, max]) leave the count alone.
// - scale to zero (minReplicas 0), activation from External metrics only (threshold unset = 0):
//   * spec.replicas 0: the metrics are computed as usual (at 0 replicas the HPA's External Value
//     arithmetic is ceil(ratio) and Resource/Pods metrics fail for lack of pods, which is not a
//     failure of the step as long as one metric worked). When some External metric was read
//     and is above its threshold the proposal is max(1, HPA proposal); otherwise the target
//     stays at 0: ScalingActive False ScaledToZero, code "scaled_to_zero". On that activation
//     the behavior's scale-up limit is at least 1 (KEDA does 0 -> 1 outside the HPA's rate
//     limits; a Percent policy alone would allow 0 x (1 + p%) = 0, a Disabled one 0); the
//     up stabilization window and maxReplicas still apply.
//   * spec.replicas > 0: when there is at least one External metric, every one is at or below
//     its threshold and every metric of the policy was read (the metrics error is OK), the
//     proposal is 0 ("All metrics below activation threshold"), still stabilized /
//     rate-limited and clamped (min is 0). Otherwise the HPA's proposal floored at 1, so that
//     arithmetic alone never reaches 0.
//   * an invalid metric blocks the scale to zero as it blocks any scale-down in the HPA: with
//     a valid proposal below current the failure path above is taken, otherwise that proposal
//     (floored at 1) goes ahead.
// - The rate policies' arithmetic (period start = current - added + deleted, start +/- a Pods
//   value) is done in int64 and the resulting limit clamped to the int32 range; Go's int32
//   wraps there, C++'s would be undefined behaviour.
// - The controller's downscale window (no behavior block) counts the recommendations not older
//   than the window. A zero window counts none, not even one recorded at `now`, so the first
//   reconcile's seed does not hold a scale-down (the HPA takes the seed's time.Now() before its
//   cutoff's). A window > 0 counts the seed (recorded at `now`), as before.
// - The HPA's "selector is required" failure applies only when a Resource or Pods metric needs
//   the selector; External metrics work without one (our pod list comes with the input).
// - Decision::reason / code: when the scale is written, the HPA's rescale reason and
//   "scale_up"/"scale_down" ("fallback" whenever the fallback proposal was used); otherwise the
//   condition that held the count, in this order: ScalingLimited True ("limited", its reason),
//   a stabilized recommendation ("stabilized", ScaleUpStabilized / ScaleDownStabilized), else
//   "no_change" / "ReadyForNewScale". The early exits have their own codes (see horizontal.h).
// - Metric names in messages use MetricSpec::name: "pods metric NAME", "external metric NAME"
//   (the HPA appends the external metric's label selector, which we do not have). A metric
//   whose read failed has no entry in Decision::metric_statuses (the HPA leaves an empty one).
// - A failed read (MetricInput::status) is worded as the HPA's metrics client words it
//   ("unable to get metrics for resource cpu: <cause>", "unable to get metric NAME: <cause>",
//   "unable to get external metric NAME: <cause>"), and an OK read with no sample for a
//   Resource or Pods metric is the client's "no metrics returned from resource metrics API" /
//   "... custom metrics API"; the HPA's wrapping of those errors follows.
#include "autoscaler/hpa/horizontal.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sextant::autoscaler::hpa {
namespace {

constexpr char kAbleToScale[] = "AbleToScale";
constexpr char kScalingActive[] = "ScalingActive";
constexpr char kScalingLimited[] = "ScalingLimited";
constexpr char kTrue[] = "True";
constexpr char kFalse[] = "False";

constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();
constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();

int32_t SaturateToInt32(double x) {
  if (std::isnan(x)) return 0;
  if (x >= static_cast<double>(kInt32Max)) return kInt32Max;
  if (x <= static_cast<double>(kInt32Min)) return kInt32Min;
  return static_cast<int32_t>(x);
}

// An int64 result of the rate arithmetic, clamped to the int32 range.
int32_t ClampToInt32(int64_t x) {
  return static_cast<int32_t>(std::clamp<int64_t>(x, kInt32Min, kInt32Max));
}

Tolerances TolerancesFor(const ScalingPolicySpec& spec, const HpaOptions& options) {
  Tolerances t{options.tolerance, options.tolerance};
  if (spec.behavior.has_value()) {
    t.scale_down = spec.behavior->scale_down.tolerance.value_or(options.tolerance);
    t.scale_up = spec.behavior->scale_up.tolerance.value_or(options.tolerance);
  }
  return t;
}

// The outcome of one metric (computeReplicasForMetric).
struct MetricOutcome {
  bool ok = false;
  int32_t replicas = 0;
  std::string name;  // "cpu resource utilization (percentage of request)", ...
  MetricStatus status;
  // Failure: the ScalingActive condition it proposes and the error as the HPA returns it.
  std::string reason;
  std::string message;
  absl::Status error;
};

// The outcome of every metric (computeReplicasForMetrics).
struct MetricsOutcome {
  int32_t replicas = 0;  // -1: the reconcile cannot go on
  std::string metric;
  std::vector<MetricStatus> statuses;
  absl::Status error;
  std::string failure_reason;  // the ScalingActive reason set when replicas is -1
  // With replicas -1: no metric gave a proposal (each failed, or none could be computed).
  bool all_failed = false;
  // Activation (External metrics only).
  bool has_external = false;
  bool all_external_inactive = true;  // every External metric read and <= its threshold
  std::string active_metric;          // the first External metric above its threshold
};

absl::Status WithMessage(const absl::Status& status, const std::string& message) {
  return absl::Status(status.ok() ? absl::StatusCode::kInvalidArgument : status.code(), message);
}

MetricOutcome Failed(const std::string& reason, const std::string& condition_error,
                     absl::StatusCode code, const std::string& returned_error,
                     std::vector<EventRecord>& events) {
  MetricOutcome out;
  out.reason = reason;
  out.message = absl::StrCat("the HPA was unable to compute the replica count: ", condition_error);
  out.error = absl::Status(
      code == absl::StatusCode::kOk ? absl::StatusCode::kInvalidArgument : code, returned_error);
  events.push_back({"Warning", reason, condition_error});
  return out;
}

MetricOutcome ComputeResourceMetric(const MetricSpec& spec, const MetricInput& in,
                                    const ReconcileInput& input, const Tolerances& tolerances,
                                    const HpaOptions& options, absl::Time now,
                                    std::vector<EventRecord>& events) {
  const bool container = !spec.container.empty();
  const std::string reason =
      container ? "FailedGetContainerResourceMetric" : "FailedGetResourceMetric";
  const std::string outer =
      container ? absl::StrCat("failed to get ", spec.container, " container metric value: ")
                : absl::StrCat("failed to get ", spec.resource, " resource metric value: ");
  // The metrics client's errors.
  absl::Status read = in.status;
  if (read.ok() && in.pods.empty()) {
    read = absl::InvalidArgumentError("no metrics returned from resource metrics API");
  }
  if (!read.ok()) {
    read = WithMessage(read, absl::StrCat("unable to get metrics for resource ", spec.resource,
                                          ": ", read.message()));
  }

  if (spec.target.average_value_milli.has_value()) {
    absl::StatusOr<ReplicaProposal> p =
        read.ok()
            ? PlainMetricReplicas(input.spec_replicas, *spec.target.average_value_milli,
                                  spec.resource, tolerances, input.pods, in.pods, options, now)
            : absl::StatusOr<ReplicaProposal>(read);
    if (!p.ok()) {
      const std::string e =
          absl::StrCat("failed to get ", spec.resource, " usage: ", p.status().message());
      return Failed(reason, e, p.status().code(), outer + e, events);
    }
    MetricOutcome out;
    out.ok = true;
    out.replicas = p->replicas;
    out.name = absl::StrCat(spec.resource, " resource");
    out.status.average_value_milli = p->usage_milli;
    return out;
  }
  if (!spec.target.average_utilization.has_value()) {
    const std::string e =
        "invalid resource metric source: neither an average utilization target nor an average "
        "value (usage) target was set";
    return Failed(reason, e, absl::StatusCode::kInvalidArgument, outer + e, events);
  }
  absl::StatusOr<ReplicaProposal> p =
      read.ok() ? ResourceUtilizationReplicas(input.spec_replicas, *spec.target.average_utilization,
                                              spec.resource, spec.container, tolerances, input.pods,
                                              in.pods, options, now)
                : absl::StatusOr<ReplicaProposal>(read);
  if (!p.ok()) {
    const std::string e =
        absl::StrCat("failed to get ", spec.resource, " utilization: ", p.status().message());
    return Failed(reason, e, p.status().code(), outer + e, events);
  }
  MetricOutcome out;
  out.ok = true;
  out.replicas = p->replicas;
  out.name =
      container
          ? absl::StrCat(spec.resource, " container resource utilization (percentage of request)")
          : absl::StrCat(spec.resource, " resource utilization (percentage of request)");
  out.status.average_utilization = p->utilization;
  out.status.average_value_milli = p->usage_milli;
  return out;
}

MetricOutcome ComputePodsMetric(const MetricSpec& spec, const MetricInput& in,
                                const ReconcileInput& input, const Tolerances& tolerances,
                                const HpaOptions& options, absl::Time now,
                                std::vector<EventRecord>& events) {
  const std::string reason = "FailedGetPodsMetric";
  const std::string outer = "failed to get pods metric value: ";
  absl::Status read = in.status;
  if (read.ok() && in.pods.empty()) {
    read = absl::InvalidArgumentError("no metrics returned from custom metrics API");
  }
  if (!read.ok()) {
    read =
        WithMessage(read, absl::StrCat("unable to get metric ", spec.name, ": ", read.message()));
  }
  if (!spec.target.average_value_milli.has_value()) {
    const std::string e = "invalid pods metric source: no average value target was set";
    return Failed(reason, e, absl::StatusCode::kInvalidArgument, outer + e, events);
  }
  absl::StatusOr<ReplicaProposal> p =
      read.ok() ? PlainMetricReplicas(input.spec_replicas, *spec.target.average_value_milli, "",
                                      tolerances, input.pods, in.pods, options, now)
                : absl::StatusOr<ReplicaProposal>(read);
  if (!p.ok()) {
    const std::string e(p.status().message());
    return Failed(reason, e, p.status().code(), outer + e, events);
  }
  MetricOutcome out;
  out.ok = true;
  out.replicas = p->replicas;
  out.name = absl::StrCat("pods metric ", spec.name);
  out.status.average_value_milli = p->usage_milli;
  return out;
}

MetricOutcome ComputeExternalMetric(const MetricSpec& spec, const MetricInput& in,
                                    const ReconcileInput& input, const Tolerances& tolerances,
                                    std::vector<EventRecord>& events) {
  const std::string reason = "FailedGetExternalMetric";
  const std::string outer = absl::StrCat("failed to get ", spec.name, " external metric value: ");
  absl::Status read = in.status;
  if (!read.ok()) {
    read = WithMessage(
        read, absl::StrCat("unable to get external metric ", spec.name, ": ", read.message()));
  }
  if (spec.target.average_value_milli.has_value()) {
    if (!read.ok()) {
      const std::string e(read.message());
      return Failed(reason, e, read.code(),
                    absl::StrCat(outer, "failed to get ", spec.name, " external metric: ", e),
                    events);
    }
    ReplicaProposal p = ExternalAverageValueReplicas(
        input.status_replicas, *spec.target.average_value_milli, in.value_milli, tolerances);
    MetricOutcome out;
    out.ok = true;
    out.replicas = p.replicas;
    out.name = absl::StrCat("external metric ", spec.name);
    out.status.average_value_milli = p.usage_milli;
    return out;
  }
  if (spec.target.value_milli.has_value()) {
    absl::StatusOr<ReplicaProposal> p =
        read.ok() ? ExternalValueReplicas(input.spec_replicas, *spec.target.value_milli,
                                          in.value_milli, tolerances, input.pods)
                  : absl::StatusOr<ReplicaProposal>(read);
    if (!p.ok()) {
      const std::string e(p.status().message());
      return Failed(reason, e, p.status().code(),
                    absl::StrCat(outer, "failed to get external metric ", spec.name, ": ", e),
                    events);
    }
    MetricOutcome out;
    out.ok = true;
    out.replicas = p->replicas;
    out.name = absl::StrCat("external metric ", spec.name);
    out.status.value_milli = p->usage_milli;
    return out;
  }
  const std::string e =
      "invalid external metric source: neither a value target nor an average value target was "
      "set";
  return Failed(reason, e, absl::StatusCode::kInvalidArgument, outer + e, events);
}

MetricsOutcome ComputeReplicasForMetrics(const ScalingPolicySpec& spec, const ReconcileInput& input,
                                         const Tolerances& tolerances, const HpaOptions& options,
                                         absl::Time now, ScalingPolicyStatus& status,
                                         std::vector<EventRecord>& events) {
  MetricsOutcome result;
  // Activation, from what was read (independent of the arithmetic).
  for (size_t i = 0; i < spec.metrics.size(); ++i) {
    const MetricSpec& m = spec.metrics[i];
    if (m.type != MetricSpec::Type::kExternal) continue;
    result.has_external = true;
    const bool read = i < input.metrics.size() && input.metrics[i].status.ok();
    const int64_t threshold = m.activation_threshold_milli.value_or(0);
    if (!read || input.metrics[i].value_milli > threshold) result.all_external_inactive = false;
    if (read && input.metrics[i].value_milli > threshold && result.active_metric.empty()) {
      result.active_metric = absl::StrCat("external metric ", m.name);
    }
  }
  if (!result.has_external) result.all_external_inactive = false;

  bool needs_selector = false;
  for (const MetricSpec& m : spec.metrics) {
    needs_selector |= m.type != MetricSpec::Type::kExternal;
  }
  if (needs_selector && input.selector.empty()) {
    events.push_back({"Warning", "SelectorRequired", "selector is required"});
    SetCondition(status.conditions, kScalingActive, kFalse, "InvalidSelector",
                 "the HPA target's scale is missing a selector", now);
    result.replicas = -1;
    result.all_failed = true;
    result.error = absl::InvalidArgumentError("selector is required");
    result.failure_reason = "InvalidSelector";
    return result;
  }
  if (spec.metrics.empty()) {
    result.replicas = -1;
    result.all_failed = true;
    result.error = absl::InvalidArgumentError("the policy has no metrics");
    result.failure_reason = "FailedGetResourceMetric";
    SetCondition(status.conditions, kScalingActive, kFalse, result.failure_reason,
                 "the HPA was unable to compute the replica count: the policy has no metrics", now);
    return result;
  }

  int invalid = 0;
  MetricOutcome first_invalid;
  for (size_t i = 0; i < spec.metrics.size(); ++i) {
    const MetricSpec& m = spec.metrics[i];
    MetricInput missing;
    missing.status = absl::InternalError("no input for the metric");
    const MetricInput& in = i < input.metrics.size() ? input.metrics[i] : missing;
    MetricOutcome out;
    switch (m.type) {
      case MetricSpec::Type::kResource:
        out = ComputeResourceMetric(m, in, input, tolerances, options, now, events);
        break;
      case MetricSpec::Type::kPods:
        out = ComputePodsMetric(m, in, input, tolerances, options, now, events);
        break;
      case MetricSpec::Type::kExternal:
        out = ComputeExternalMetric(m, in, input, tolerances, events);
        break;
    }
    if (!out.ok) {
      if (invalid == 0) first_invalid = out;
      ++invalid;
      continue;
    }
    out.status.name = m.name;
    out.status.type = m.type;
    if (m.type == MetricSpec::Type::kResource) out.status.resource = m.resource;
    result.statuses.push_back(out.status);
    if (result.replicas == 0 || out.replicas > result.replicas) {
      result.replicas = out.replicas;
      result.metric = out.name;
    }
  }

  const int total = static_cast<int>(spec.metrics.size());
  if (invalid > 0) {
    result.error =
        absl::Status(first_invalid.error.code(),
                     absl::StrCat("invalid metrics (", invalid, " invalid out of ", total,
                                  "), first error is: ", first_invalid.error.message()));
  }
  if (invalid >= total || (invalid > 0 && result.replicas < input.spec_replicas)) {
    SetCondition(status.conditions, kScalingActive, kFalse, first_invalid.reason,
                 first_invalid.message, now);
    result.replicas = -1;
    result.all_failed = invalid >= total;
    result.failure_reason = first_invalid.reason;
    return result;
  }
  // ValidMetricFound is set by the caller once the scale to zero is ruled out, so that the
  // condition does not flip within one reconcile.
  return result;
}

// convertDesiredReplicasWithRules: min/max and the scale-up limit without a behavior block.
struct Limited {
  int32_t replicas;
  std::string reason;
  std::string message;
};

Limited ConvertDesiredReplicasWithRules(int32_t current, int32_t desired, int32_t min_replicas,
                                        int32_t max_replicas) {
  const int32_t scale_up_limit = SaturateToInt32(std::max(2.0 * static_cast<double>(current), 4.0));
  int32_t maximum = max_replicas;
  std::string reason = "TooManyReplicas";
  std::string message = "the desired replica count is more than the maximum replica count";
  if (max_replicas > scale_up_limit) {
    maximum = scale_up_limit;
    reason = "ScaleUpLimit";
    message = "the desired replica count is increasing faster than the maximum scale rate";
  }
  if (desired < min_replicas) {
    return {min_replicas, "TooFewReplicas",
            "the desired replica count is less than the minimum replica count"};
  }
  if (desired > maximum) return {maximum, reason, message};
  return {desired, "DesiredWithinRange", "the desired count is within the acceptable range"};
}

}  // namespace

// The parts of the reconcile that read and write PolicyState's history (the friend named in
// horizontal.h). Static functions only; the caller serializes access to the PolicyState.
class Reconciler {
 public:
  static void CountFailure(PolicyState& state) { ++state.consecutive_failures_; }
  static void ResetFailures(PolicyState& state) { state.consecutive_failures_ = 0; }

  // stabilizeRecommendation: the highest recommendation not older than `window`; the new one
  // replaces the last sample older than the window, or is appended. A zero window keeps none:
  // a recommendation at `now` (the first reconcile's seed) is old, as the HPA's seed is taken
  // before its cutoff.
  static int32_t Stabilize(PolicyState& state, int32_t proposal, absl::Duration window,
                           absl::Time now) {
    int32_t highest = proposal;
    const absl::Time cutoff = now - window;
    const bool zero_window = window <= absl::ZeroDuration();
    int old_index = -1;
    auto& recs = state.recommendations_;
    for (size_t i = 0; i < recs.size(); ++i) {
      if (recs[i].at < cutoff || (zero_window && recs[i].at == cutoff)) {
        old_index = static_cast<int>(i);
      } else if (recs[i].replicas > highest) {
        highest = recs[i].replicas;
      }
    }
    Store(state, {proposal, now}, old_index);
    return highest;
  }

  // stabilizeRecommendationWithBehaviors: the current count brought within [lowest recent
  // recommendation of the up window, highest of the down window].
  static int32_t StabilizeWithBehaviors(PolicyState& state, int32_t current, int32_t proposal,
                                        int32_t up_window_s, int32_t down_window_s,
                                        absl::Time now) {
    int32_t up = proposal;
    int32_t down = proposal;
    const absl::Time up_cutoff = now - absl::Seconds(up_window_s);
    const absl::Time down_cutoff = now - absl::Seconds(down_window_s);
    int old_index = -1;
    auto& recs = state.recommendations_;
    for (size_t i = 0; i < recs.size(); ++i) {
      if (recs[i].at > up_cutoff) up = std::min(recs[i].replicas, up);
      if (recs[i].at > down_cutoff) down = std::max(recs[i].replicas, down);
      if (recs[i].at < up_cutoff && recs[i].at < down_cutoff) old_index = static_cast<int>(i);
    }
    int32_t recommendation = current;
    if (recommendation < up) recommendation = up;
    if (recommendation > down) recommendation = down;
    Store(state, {proposal, now}, old_index);
    return recommendation;
  }

  // calculateScaleUpLimitWithScalingRules (int64 arithmetic, clamped to int32).
  static int32_t ScaleUpLimit(const PolicyState& state, int32_t current, const ScalingRules& rules,
                              absl::Time now) {
    if (rules.select_policy == ScalingRules::Select::kDisabled) return current;
    const bool pick_min = rules.select_policy == ScalingRules::Select::kMin;
    int32_t result = pick_min ? kInt32Max : kInt32Min;
    for (const ScalingRulePolicy& policy : rules.policies) {
      const int64_t start = PeriodStart(state, current, policy.period_seconds, now);
      int32_t proposed = 0;
      if (policy.type == ScalingRulePolicy::Type::kPods) {
        proposed = ClampToInt32(start + int64_t{policy.value});
      } else {
        // Rounded up, or a small percentage of a small count would never scale up.
        proposed = SaturateToInt32(
            std::ceil(static_cast<double>(start) * (1 + static_cast<double>(policy.value) / 100)));
      }
      result = pick_min ? std::min(result, proposed) : std::max(result, proposed);
    }
    return result;
  }

  // calculateScaleDownLimitWithBehaviors (int64 arithmetic, clamped to int32).
  static int32_t ScaleDownLimit(const PolicyState& state, int32_t current,
                                const ScalingRules& rules, absl::Time now) {
    if (rules.select_policy == ScalingRules::Select::kDisabled) return current;
    const bool pick_min_change = rules.select_policy == ScalingRules::Select::kMin;
    int32_t result = pick_min_change ? kInt32Min : kInt32Max;
    for (const ScalingRulePolicy& policy : rules.policies) {
      const int64_t start = PeriodStart(state, current, policy.period_seconds, now);
      int32_t proposed = 0;
      if (policy.type == ScalingRulePolicy::Type::kPods) {
        proposed = ClampToInt32(start - int64_t{policy.value});
      } else {
        proposed = SaturateToInt32(static_cast<double>(start) *
                                   (1 - static_cast<double>(policy.value) / 100));
      }
      result = pick_min_change ? std::max(result, proposed) : std::min(result, proposed);
    }
    return result;
  }

  static void StoreScaleEvent(PolicyState& state, const ScalingPolicySpec& spec, int32_t from,
                              int32_t to, absl::Time now) {
    if (!spec.behavior.has_value()) return;
    const bool up = to > from;
    const ScalingRules& rules = up ? spec.behavior->scale_up : spec.behavior->scale_down;
    int32_t longest = 0;
    for (const ScalingRulePolicy& policy : rules.policies) {
      longest = std::max(longest, policy.period_seconds);
    }
    auto& events = up ? state.scale_up_events_ : state.scale_down_events_;
    const absl::Time cutoff = now - absl::Seconds(longest);
    int old_index = -1;
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i].at < cutoff) events[i].outdated = true;
      if (events[i].outdated) old_index = static_cast<int>(i);
    }
    const int64_t change = up ? int64_t{to} - from : int64_t{from} - to;
    PolicyState::ScaleEvent event{ClampToInt32(change), now, false};
    if (old_index >= 0) {
      events[old_index] = event;
    } else {
      events.push_back(event);
    }
  }

  static void Seed(PolicyState& state, int32_t replicas, absl::Time now) {
    if (state.recommendations_.empty()) state.recommendations_.push_back({replicas, now});
  }

 private:
  static void Store(PolicyState& state, PolicyState::Recommendation rec, int old_index) {
    if (old_index >= 0) {
      state.recommendations_[old_index] = rec;
    } else {
      state.recommendations_.push_back(rec);
    }
  }

  // The replica count at the start of the policy's period: current - added + deleted, in int64
  // (the sums of int32 changes can leave the int32 range; the caller clamps its limit).
  static int64_t PeriodStart(const PolicyState& state, int32_t current, int32_t period_seconds,
                             absl::Time now) {
    const absl::Time cutoff = now - absl::Seconds(period_seconds);
    int64_t added = 0;
    int64_t deleted = 0;
    for (const auto& e : state.scale_up_events_) {
      if (e.at > cutoff) added += e.change;
    }
    for (const auto& e : state.scale_down_events_) {
      if (e.at > cutoff) deleted += e.change;
    }
    return int64_t{current} - added + deleted;
  }
};

void PolicyState::SeedIfEmpty(int32_t replicas, absl::Time now) {
  Reconciler::Seed(*this, replicas, now);
}

void PolicyState::RecordScaleEvent(const ScalingPolicySpec& spec, int32_t from, int32_t to,
                                   absl::Time now) {
  Reconciler::StoreScaleEvent(*this, spec, from, to, now);
}

void SetCondition(std::vector<PolicyCondition>& conditions, const std::string& type,
                  const std::string& status, const std::string& reason, const std::string& message,
                  absl::Time now) {
  PolicyCondition* existing = nullptr;
  for (PolicyCondition& c : conditions) {
    if (c.type == type) {
      existing = &c;
      break;
    }
  }
  if (existing == nullptr) {
    conditions.push_back(PolicyCondition{type, "", "", "", absl::Time()});
    existing = &conditions.back();
  }
  if (existing->status != status) existing->last_transition_time = now;
  existing->status = status;
  existing->reason = reason;
  existing->message = message;
}

const PolicyCondition* FindCondition(const std::vector<PolicyCondition>& conditions,
                                     const std::string& type) {
  for (const PolicyCondition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

namespace {

// What normalization did, for the decision's reason and code.
struct Normalized {
  int32_t replicas = 0;
  bool stabilized = false;
  std::string stabilized_reason;
  bool limited = false;
  std::string limited_reason;
};

Normalized NormalizeDesiredReplicas(const ScalingPolicySpec& spec, const HpaOptions& options,
                                    int32_t current, int32_t proposal, absl::Time now,
                                    PolicyState& state, ScalingPolicyStatus& status) {
  Normalized out;
  const int32_t stabilized =
      Reconciler::Stabilize(state, proposal, options.downscale_stabilization, now);
  if (stabilized != proposal) {
    out.stabilized = true;
    out.stabilized_reason = "ScaleDownStabilized";
    SetCondition(status.conditions, kAbleToScale, kTrue, "ScaleDownStabilized",
                 "recent recommendations were higher than current one, applying the highest "
                 "recent recommendation",
                 now);
  } else {
    SetCondition(status.conditions, kAbleToScale, kTrue, "ReadyForNewScale",
                 "recommended size matches current size", now);
  }
  Limited limited =
      ConvertDesiredReplicasWithRules(current, stabilized, spec.min_replicas, spec.max_replicas);
  out.limited = limited.replicas != stabilized;
  out.limited_reason = limited.reason;
  SetCondition(status.conditions, kScalingLimited, out.limited ? kTrue : kFalse, limited.reason,
               limited.message, now);
  out.replicas = limited.replicas;
  return out;
}

// `activating`: the target is at 0 and an activation metric is above its threshold.
Normalized NormalizeDesiredReplicasWithBehaviors(const ScalingPolicySpec& spec,
                                                 const HpaOptions& options, int32_t current,
                                                 int32_t proposal, bool activating, absl::Time now,
                                                 PolicyState& state, ScalingPolicyStatus& status) {
  const Behavior& behavior = *spec.behavior;
  Normalized out;
  // maybeInitScaleDownStabilizationWindow: the controller's window, in whole seconds.
  const int32_t down_window = behavior.scale_down.stabilization_window_seconds.value_or(
      static_cast<int32_t>(absl::ToInt64Seconds(options.downscale_stabilization)));
  const int32_t up_window = behavior.scale_up.stabilization_window_seconds.value_or(0);
  const int32_t stabilized =
      Reconciler::StabilizeWithBehaviors(state, current, proposal, up_window, down_window, now);
  if (stabilized != proposal) {
    out.stabilized = true;
    if (proposal >= current) {
      out.stabilized_reason = "ScaleUpStabilized";
      SetCondition(status.conditions, kAbleToScale, kTrue, "ScaleUpStabilized",
                   "recent recommendations were lower than current one, applying the lowest "
                   "recent recommendation",
                   now);
    } else {
      out.stabilized_reason = "ScaleDownStabilized";
      SetCondition(status.conditions, kAbleToScale, kTrue, "ScaleDownStabilized",
                   "recent recommendations were higher than current one, applying the highest "
                   "recent recommendation",
                   now);
    }
  } else {
    SetCondition(status.conditions, kAbleToScale, kTrue, "ReadyForNewScale",
                 "recommended size matches current size", now);
  }

  // convertDesiredReplicasWithBehaviorRate.
  Limited limited{stabilized, "DesiredWithinRange",
                  "the desired count is within the acceptable range"};
  if (stabilized > current) {
    int32_t limit = Reconciler::ScaleUpLimit(state, current, behavior.scale_up, now);
    if (limit < current) limit = current;        // no further scale-up until events age out
    if (activating) limit = std::max(limit, 1);  // 0 -> 1 is outside the rate limits
    int32_t maximum = spec.max_replicas;
    std::string reason = "TooManyReplicas";
    std::string message = "the desired replica count is more than the maximum replica count";
    if (maximum > limit) {
      maximum = limit;
      reason = "ScaleUpLimit";
      message = "the desired replica count is increasing faster than the maximum scale rate";
    }
    if (stabilized > maximum) limited = {maximum, reason, message};
  } else if (stabilized < current) {
    int32_t limit = Reconciler::ScaleDownLimit(state, current, behavior.scale_down, now);
    if (limit > current) limit = current;
    int32_t minimum = spec.min_replicas;
    std::string reason = "TooFewReplicas";
    std::string message = "the desired replica count is less than the minimum replica count";
    if (minimum < limit) {
      minimum = limit;
      reason = "ScaleDownLimit";
      message = "the desired replica count is decreasing faster than the maximum scale rate";
    }
    if (stabilized < minimum) limited = {minimum, reason, message};
  }
  out.limited = limited.replicas != stabilized;
  out.limited_reason = limited.reason;
  SetCondition(status.conditions, kScalingLimited, out.limited ? kTrue : kFalse, limited.reason,
               limited.message, now);
  out.replicas = limited.replicas;
  return out;
}

}  // namespace

Decision Decide(const ScalingPolicySpec& spec, const ReconcileInput& input,
                const HpaOptions& options, absl::Time now, PolicyState& state,
                ScalingPolicyStatus& status) {
  Decision d;
  const int32_t current = input.spec_replicas;
  d.current_replicas = current;
  d.desired_replicas = current;
  SetCondition(status.conditions, kAbleToScale, kTrue, "SucceededGetScale",
               "the HPA controller was able to get the target's current scale", now);
  state.SeedIfEmpty(current, now);

  if (spec.paused) {
    SetCondition(status.conditions, kScalingActive, kFalse, "ScalingPaused", "the policy is paused",
                 now);
    d.reason = "Paused";
    d.code = "paused";
    return d;
  }

  const int32_t min_replicas = spec.min_replicas;
  if (current == 0 && min_replicas != 0) {
    SetCondition(status.conditions, kScalingActive, kFalse, "ScalingDisabled",
                 "scaling is disabled since the replica count of the target is zero", now);
    d.reason = "ScalingDisabled";
    d.code = "disabled";
    return d;
  }
  if (current > spec.max_replicas || current < min_replicas) {
    const bool above = current > spec.max_replicas;
    d.desired_replicas = above ? spec.max_replicas : min_replicas;
    d.rescale = d.desired_replicas != current;
    d.reason = above ? "Current number of replicas above Spec.MaxReplicas"
                     : "Current number of replicas below Spec.MinReplicas";
    d.code = d.desired_replicas > current ? "scale_up" : "scale_down";
    return d;
  }

  const Tolerances tolerances = TolerancesFor(spec, options);
  MetricsOutcome metrics =
      ComputeReplicasForMetrics(spec, input, tolerances, options, now, status, d.events);
  d.metric_statuses = metrics.statuses;
  d.error = metrics.error;
  d.metric = metrics.metric;

  int32_t proposal = 0;
  std::string proposal_metric = metrics.metric;
  std::string fixed_reason;  // a rescale reason that does not depend on the direction
  bool fallback = false;
  if (metrics.replicas == -1) {
    d.events.push_back(
        {"Warning", "FailedComputeMetricsReplicas", std::string(metrics.error.message())});
    // Only a reconcile where no metric worked counts towards (and may use) the fallback; one
    // where an invalid metric blocked the valid ones' scale-down keeps the current count.
    if (metrics.all_failed) {
      Reconciler::CountFailure(state);
    } else {
      Reconciler::ResetFailures(state);
    }
    if (metrics.all_failed && spec.fallback.has_value() &&
        state.consecutive_failures() >= spec.fallback->failure_threshold) {
      fallback = true;
      proposal = spec.fallback->replicas;
      proposal_metric.clear();
      fixed_reason = absl::StrCat("Fallback: ", metrics.error.message());
    } else {
      d.reason = metrics.failure_reason;
      d.code = "metrics_failed";
      return d;
    }
  } else {
    Reconciler::ResetFailures(state);
    proposal = metrics.replicas;
    if (!(min_replicas == 0 && current == 0 && metrics.active_metric.empty())) {
      SetCondition(status.conditions, kScalingActive, kTrue, "ValidMetricFound",
                   absl::StrCat("the HPA was able to successfully calculate a replica count "
                                "from ",
                                metrics.metric),
                   now);
    }
    if (min_replicas == 0) {
      if (current == 0) {
        if (metrics.active_metric.empty()) {
          SetCondition(status.conditions, kScalingActive, kFalse, "ScaledToZero",
                       "all activation metrics are at or below their activation thresholds", now);
          d.reason = "ScaledToZero";
          d.code = "scaled_to_zero";
          return d;
        }
        if (proposal < 1) {
          proposal = 1;
          fixed_reason = absl::StrCat(metrics.active_metric, " above activation threshold");
        }
      } else if (metrics.all_external_inactive && metrics.error.ok()) {
        proposal = 0;
        fixed_reason = "All metrics below activation threshold";
      } else {
        proposal = std::max(proposal, 1);
      }
    }
  }

  // reconcileAutoscaler: the rescale reason is decided before normalization.
  int32_t desired = 0;
  std::string rescale_metric;
  if (proposal > desired) {
    desired = proposal;
    rescale_metric = proposal_metric;
  }
  std::string rescale_reason;
  if (desired > current) rescale_reason = absl::StrCat(rescale_metric, " above target");
  if (desired < current) rescale_reason = "All metrics below target";
  if (!fixed_reason.empty()) rescale_reason = fixed_reason;

  const bool activating = current == 0 && !fallback && !metrics.active_metric.empty();
  Normalized normalized =
      spec.behavior.has_value()
          ? NormalizeDesiredReplicasWithBehaviors(spec, options, current, desired, activating, now,
                                                  state, status)
          : NormalizeDesiredReplicas(spec, options, current, desired, now, state, status);
  d.rescale = normalized.replicas != current;
  d.desired_replicas = d.rescale ? normalized.replicas : current;

  if (fallback) {
    d.reason = rescale_reason;
    d.code = "fallback";
  } else if (d.rescale) {
    d.reason = rescale_reason;
    d.code = normalized.replicas > current ? "scale_up" : "scale_down";
  } else if (normalized.limited) {
    d.reason = normalized.limited_reason;
    d.code = "limited";
  } else if (normalized.stabilized) {
    d.reason = normalized.stabilized_reason;
    d.code = "stabilized";
  } else {
    d.reason = "ReadyForNewScale";
    d.code = "no_change";
  }
  return d;
}

void Finish(const ScalingPolicySpec& spec, const absl::Status& write, absl::Time now,
            Decision& decision, PolicyState& state, ScalingPolicyStatus& status) {
  status.current_replicas = decision.current_replicas;
  status.current_metrics = decision.metric_statuses;
  if (!decision.rescale) {
    // setStatus with desired = current; the failed-metrics path keeps the previous desired.
    if (decision.code != "metrics_failed") status.desired_replicas = decision.current_replicas;
    return;
  }
  if (!write.ok()) {
    decision.events.push_back({"Warning", "FailedRescale",
                               absl::StrCat("New size: ", decision.desired_replicas, "; reason: ",
                                            decision.reason, "; error: ", write.message())});
    SetCondition(
        status.conditions, kAbleToScale, kFalse, "FailedUpdateScale",
        absl::StrCat("the HPA controller was unable to update the target scale: ", write.message()),
        now);
    return;
  }
  SetCondition(status.conditions, kAbleToScale, kTrue, "SucceededRescale",
               absl::StrCat("the HPA controller was able to update the target scale to ",
                            decision.desired_replicas),
               now);
  decision.events.push_back(
      {"Normal", "SuccessfulRescale",
       absl::StrCat("New size: ", decision.desired_replicas, "; reason: ", decision.reason)});
  state.RecordScaleEvent(spec, decision.current_replicas, decision.desired_replicas, now);
  status.desired_replicas = decision.desired_replicas;
  status.last_scale_time = now;
}

}  // namespace sextant::autoscaler::hpa
