// `sextant replay`: runs a ScalingPolicy through the HPA arithmetic over a scenario (DESIGN.md
// 3.6) and prints one JSON line per step, so a policy change can be tried before it is applied.
//
//   SEXTANT_ASSIGN_OR_RETURN(Scenario s, ParseScenario(json, "scenario.json"));
//   SEXTANT_ASSIGN_OR_RETURN(std::vector<ReplayStep> steps, RunScenario(policy, s));
//   for (const ReplayStep& step : steps) std::cout << ReplayStepToJson(step) << "\n";
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "autoscaler/hpa/horizontal.h"
#include "autoscaler/policy.h"

namespace sextant::autoscaler {

// scenario.options (DESIGN.md 3.6), with the contract's defaults.
struct ScenarioOptions {
  std::optional<double> tolerance;  // 0.1 when unset
  int64_t downscale_stabilization_seconds = 300;
  int64_t cpu_initialization_seconds = 300;
  int64_t initial_readiness_delay_seconds = 30;
  int64_t metric_window_seconds = 30;
  int64_t sync_seconds = 15;  // --from replays only
};

// One pod of a step; times are seconds relative to the step (negative = earlier).
struct ScenarioPod {
  std::string name;
  std::string phase = "Running";
  std::optional<bool> ready = true;  // "ready": null or absent with phase Pending = no condition
  // Unset (absent): 3600 s before the step. NaN ("startTime": null): the pod has no start time
  // (unready for cpu, as upstream's StartTime == nil).
  std::optional<double> start_time;
  // Unset (absent): the start time. NaN ("readyTransitionTime": null), or unset with no start
  // time: none (the infinite past).
  std::optional<double> ready_transition_time;
  bool deleting = false;
  std::map<std::string, int64_t> requests_milli;  // resource -> milli-units
  std::map<std::string, int64_t> usage_milli;     // resource -> milli-units
  std::map<std::string, int64_t> metrics_milli;   // Pods metric name -> milli-units
};

struct ScenarioStep {
  double at = 0;  // seconds from the scenario's start, increasing
  // Omitted: the replicas the previous step decided.
  std::optional<int32_t> spec_replicas;
  std::optional<int32_t> status_replicas;
  std::vector<ScenarioPod> pods;
  // External metric name -> milli-units; a metric absent here fails that step's read
  // ("no value for external metric NAME in the scenario step", which the HPA prefixes with
  // "unable to get external metric NAME: "). A Resource or Pods metric no pod has a value for
  // reads as no samples (the HPA's "no metrics returned from ... metrics API").
  std::map<std::string, int64_t> metrics_milli;
};

struct Scenario {
  ScenarioOptions options;
  std::vector<ScenarioStep> steps;
};

// Parses a scenario (JSON). null for an optional field ("options", "scale", "pods", "metrics",
// a pod's "phase", "deleting", "requests", "usage", "metrics") means omitted; for "ready",
// "startTime" and "readyTransitionTime" it means none (see ScenarioPod). InvalidArgument naming
// the field and step, e.g.
// "scenario.json: steps[3].pods[0].usage.cpu: not a quantity: \"x\"", and for steps whose `at`
// does not increase.
absl::StatusOr<Scenario> ParseScenario(absl::string_view json, absl::string_view source);

// One output line.
struct ReplayStep {
  double at = 0;
  int32_t current_replicas = 0;  // status.currentReplicas
  // The replicas the step decided: the new scale when it rescaled, else the scale's replicas
  // (also when its metrics failed; not status.desiredReplicas, which then stays unchanged).
  // A following step without `scale` starts from it.
  int32_t desired_replicas = 0;
  // Condition type -> its reason this step ("ReadyForNewScale", "ValidMetricFound",
  // "DesiredWithinRange", ...); "" when the condition has not been set yet.
  std::map<std::string, std::string> conditions;
  std::string reason;  // hpa::Decision::reason
};

// The HpaOptions a scenario's options mean.
hpa::HpaOptions HpaOptionsFromScenario(const ScenarioOptions& options);

// Runs every step: builds the reconcile input (scale, pods with their requests and readiness,
// Resource usage as pod samples taken at the step over metric_window_seconds, Pods and External
// metrics by name), decides, and treats every scale write as successful. The policy must be
// valid (ValidateScalingPolicy); InvalidArgument when a step names a metric the policy lacks.
absl::StatusOr<std::vector<ReplayStep>> RunScenario(const ScalingPolicy& policy,
                                                    const Scenario& scenario);

// The output line of a step at `at` once hpa::Finish has run: desiredReplicas is the scale the
// step left the target at (the current replicas when nothing was written). Shared with the
// replay of stored history.
ReplayStep ReplayStepFrom(double at, const hpa::Decision& decision,
                          const ScalingPolicyStatus& status);

// {"at":S,"currentReplicas":N,"desiredReplicas":M,"conditions":{"AbleToScale":"...",
// "ScalingActive":"...","ScalingLimited":"..."},"reason":"..."}; `at` is written as an integer
// when it is one.
std::string ReplayStepToJson(const ReplayStep& step);

}  // namespace sextant::autoscaler
