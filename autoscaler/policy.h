// The ScalingPolicy object (DESIGN.md 3.5): an autoscaling/v2 HorizontalPodAutoscaler spec whose
// metrics are PromQL queries, plus Sextant's additions (activation thresholds, fallback, paused).
// Parsed from the API server's JSON or from YAML files, validated field by field.
//
//   SEXTANT_ASSIGN_OR_RETURN(ScalingPolicy p, ParseScalingPolicy(yaml_or_json, "web.yaml"));
//   if (absl::Status s = ValidateScalingPolicy(p); !s.ok()) ... // the message names the field
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/json.h"
#include "kube/client.h"
#include "kube/objects.h"

namespace sextant::autoscaler {

// Kubernetes resource quantities ("250m", "1.5", "2Gi", "1e3") in milli-units, as the HPA
// computes with Quantity.MilliValue(): fractions below one milli-unit round up. InvalidArgument
// for text that is not a quantity and for values beyond +-2^63 milli-units.
absl::StatusOr<int64_t> ParseMilliQuantity(absl::string_view text);
// A metric value (a PromQL sample) in milli-units: rounded to the nearest milli-unit when within
// 1e-9 of it, else up, as ParseMilliQuantity. InvalidArgument for NaN, +-Inf and overflow.
absl::StatusOr<int64_t> MilliFromDouble(double value);
// The canonical text of a milli-unit value: "250m", "3", "1500m".
std::string FormatMilliQuantity(int64_t milli);

// The target of one metric (autoscaling/v2 MetricTarget). At most the value matching `type` is
// set (ParseScalingPolicy drops a value given for another type, which the API server accepts);
// values are milli-units.
struct MetricTarget {
  enum class Type { kUtilization, kValue, kAverageValue };
  Type type = Type::kUtilization;
  std::optional<int32_t> average_utilization;  // percent of the pods' requests (Resource only)
  std::optional<int64_t> value_milli;          // External only
  std::optional<int64_t> average_value_milli;  // Resource, Pods, External
};

// One entry of spec.metrics.
struct MetricSpec {
  enum class Type { kResource, kPods, kExternal };
  Type type = Type::kResource;
  // The metric's name: its `name:` key, else "m<index>" (DESIGN.md 3.6). Scenario files and
  // self-metrics refer to metrics by it. Any text of 1 to 253 bytes without control characters,
  // unique within the policy.
  std::string name;
  // Resource: "cpu" or "memory"; `container` limits the usage and requests to one container.
  std::string resource;
  std::string container;
  // Pods and External: the PromQL query.
  std::string query;
  MetricTarget target;
  // External only, milli-units; unset counts as 0. With minReplicas 0 the target is scaled
  // from zero when some External metric's value is above its threshold, and to zero when every
  // External metric's value is at or below its threshold (KEDA's activation semantics).
  std::optional<int64_t> activation_threshold_milli;
};

// autoscaling/v2 HPAScalingPolicy.
struct ScalingRulePolicy {
  enum class Type { kPods, kPercent };
  Type type = Type::kPods;
  int32_t value = 0;           // > 0
  int32_t period_seconds = 0;  // 1..1800
};

// autoscaling/v2 HPAScalingRules, after the API server's defaulting (see DefaultScalingRules).
struct ScalingRules {
  // Unset for scaleDown means the controller's downscale stabilization window (300 s).
  std::optional<int32_t> stabilization_window_seconds;
  enum class Select { kMax, kMin, kDisabled };
  Select select_policy = Select::kMax;
  std::vector<ScalingRulePolicy> policies;
  // Per-direction tolerance (Kubernetes 1.33's HPAScalingRules.tolerance); unset = the
  // controller's (0.1).
  std::optional<double> tolerance;
};

struct Behavior {
  ScalingRules scale_up;
  ScalingRules scale_down;
};

// spec.fallback: after `failure_threshold` reconciles in a row where no metric could be read,
// scale to `replicas` (still clamped to min/max and shaped by behavior).
struct Fallback {
  int32_t failure_threshold = 3;
  int32_t replicas = 0;
};

// spec.scaleTargetRef plus the rest of the spec.
struct ScalingPolicySpec {
  kube::ScaleTarget target;  // namespace_name is the policy's namespace
  int32_t min_replicas = 1;  // 0 allowed (scale to zero)
  int32_t max_replicas = 0;
  std::vector<MetricSpec> metrics;
  // Unset: the HPA's behaviour without a behavior block (300 s downscale stabilization, scale-up
  // limited to max(2 x current, 4)). Set: with its defaults filled in by ParseScalingPolicy.
  std::optional<Behavior> behavior;
  std::optional<Fallback> fallback;
  bool paused = false;
};

// One condition of status.conditions (autoscaling/v2 HorizontalPodAutoscalerCondition).
struct PolicyCondition {
  std::string type;    // AbleToScale, ScalingActive, ScalingLimited
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  absl::Time last_transition_time;
};

// status.currentMetrics[i]: the value each metric had at the last reconcile.
struct MetricStatus {
  std::string name;  // MetricSpec::name
  MetricSpec::Type type = MetricSpec::Type::kResource;
  std::string resource;                        // Resource
  std::optional<int32_t> average_utilization;  // Resource Utilization: percent
  std::optional<int64_t> average_value_milli;  // Resource, Pods, External AverageValue
  std::optional<int64_t> value_milli;          // External Value
};

struct ScalingPolicyStatus {
  int32_t current_replicas = 0;
  int32_t desired_replicas = 0;
  std::vector<MetricStatus> current_metrics;
  std::vector<PolicyCondition> conditions;
  std::optional<absl::Time> last_scale_time;
  int64_t observed_generation = 0;
};

struct ScalingPolicy {
  kube::ObjectMeta metadata;
  ScalingPolicySpec spec;
  ScalingPolicyStatus status;
};

// Parses one ScalingPolicy document, YAML or JSON (JSON is YAML). Checks the shape: apiVersion
// autoscaling.sextant.dev/v1alpha1, kind ScalingPolicy, known keys only, types, quantities;
// fills the defaults of the HPA (minReplicas 1, behavior rules, metric names "m<i>"; no or an
// empty spec.metrics is one Resource cpu Utilization 80 % metric named "m0"; a scaleTargetRef
// without apiVersion whose kind is Deployment, StatefulSet or ReplicaSet gets "apps/v1"). A
// target's value for a type other than its own is dropped. `source` names the document in
// errors. InvalidArgument naming the field, e.g.
//   "web.yaml: spec.metrics[1].pods.target.averageValue: not a quantity: \"10x\"".
// metadata may be absent (replay files); the namespace defaults to "default" when
// metadata.namespace is absent, the name stays "".
absl::StatusOr<ScalingPolicy> ParseScalingPolicy(absl::string_view text, absl::string_view source);

// Every ScalingPolicy document of a file (YAML documents separated by "---", or one JSON object,
// or a List with items). Errors as ParseScalingPolicy, naming the document's index.
absl::StatusOr<std::vector<ScalingPolicy>> ParseScalingPolicies(absl::string_view text,
                                                                absl::string_view source);

// The API server's semantic checks, run after parsing (a parsed policy may still be invalid):
// maxReplicas >= 1 and >= minReplicas, minReplicas >= 0, at least one metric, names valid and
// unique, queries that parse as PromQL, targets > 0 of the right type for the metric type,
// Utilization only for Resource, a scaleTargetRef with kind, name and apiVersion ("required for
// kind X" when only apiVersion is missing), behavior policies in range, minReplicas 0 only with
// at least one External metric (as the HPA's scale-to-zero), fallback replicas in
// [minReplicas, maxReplicas]. InvalidArgument with every problem found, "; "-separated, each
// naming its field. metadata.name is not checked (a replay's policy may have none); the
// controller, which keys policies by namespace/name, needs one (the API server always sets it).
absl::Status ValidateScalingPolicy(const ScalingPolicy& policy);

// The defaults the API server fills into a behavior block's rules (autoscaling/v2):
// scale up: window 0, selectPolicy Max, policies [Pods 4 per 15 s, Percent 100 per 15 s];
// scale down: window unset (the controller's), selectPolicy Max, policies [Percent 100 per 15 s].
ScalingRules DefaultScaleUpRules();
ScalingRules DefaultScaleDownRules();

// "Resource", "Pods", "External".
absl::string_view MetricTypeName(MetricSpec::Type t);

// "namespace/name".
std::string PolicyKey(const ScalingPolicy& policy);

// The status as the API server stores it: the JSON object of `status` (currentReplicas,
// desiredReplicas, currentMetrics, conditions, lastScaleTime, observedGeneration).
std::string PolicyStatusToJson(const ScalingPolicyStatus& status);
// One condition as status.conditions[i] holds it ({"type","status","reason","message",
// "lastTransitionTime"}; the time left out when unset).
void WriteConditionJson(JsonWriter& w, const PolicyCondition& c);

}  // namespace sextant::autoscaler
