// Fuzzes the replay scenario parser (DESIGN.md 3.6): any bytes must give a Scenario or an
// InvalidArgument error, never a crash, a hang or an exception escaping. A parsed scenario is
// then run through the HPA arithmetic against two fixed policies (every metric type, without and
// with a behavior block), and every output line must be valid JSON.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "autoscaler/policy.h"
#include "autoscaler/replay.h"
#include "common/json.h"

namespace {

constexpr absl::string_view kPolicy = R"(apiVersion: autoscaling.sextant.dev/v1alpha1
kind: ScalingPolicy
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 50
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
  - type: Resource
    resource: {name: memory, target: {type: AverageValue, averageValue: 1Gi}}
  - type: Pods
    name: rps
    pods: {query: 'rps', target: {type: AverageValue, averageValue: "100"}}
  - type: External
    name: queue
    external: {query: 'queue', target: {type: Value, value: "30"}}
  - type: External
    name: lag
    external: {query: 'lag', target: {type: AverageValue, averageValue: "5"}}
)";

constexpr absl::string_view kBehavior = R"(  behavior:
    scaleUp: {tolerance: 0.05, policies: [{type: Pods, value: 2, periodSeconds: 30}]}
    scaleDown: {stabilizationWindowSeconds: 60, selectPolicy: Min}
)";

const std::vector<sextant::autoscaler::ScalingPolicy>& Policies() {
  static const auto* policies = [] {
    auto* out = new std::vector<sextant::autoscaler::ScalingPolicy>;
    for (const std::string& text :
         {std::string(kPolicy), std::string(kPolicy) + std::string(kBehavior)}) {
      absl::StatusOr<sextant::autoscaler::ScalingPolicy> p =
          sextant::autoscaler::ParseScalingPolicy(text, "fuzz.yaml");
      if (!p.ok() || !sextant::autoscaler::ValidateScalingPolicy(*p).ok()) __builtin_trap();
      out->push_back(*p);
    }
    return out;
  }();
  return *policies;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<sextant::autoscaler::Scenario> scenario =
      sextant::autoscaler::ParseScenario(text, "fuzz.json");
  if (!scenario.ok()) {
    if (scenario.status().code() != absl::StatusCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  if (scenario->steps.empty() || !scenario->steps[0].spec_replicas.has_value()) __builtin_trap();
  for (const sextant::autoscaler::ScalingPolicy& policy : Policies()) {
    absl::StatusOr<std::vector<sextant::autoscaler::ReplayStep>> steps =
        sextant::autoscaler::RunScenario(policy, *scenario);
    if (!steps.ok()) {
      if (steps.status().code() != absl::StatusCode::kInvalidArgument) __builtin_trap();
      continue;
    }
    if (steps->size() != scenario->steps.size()) __builtin_trap();
    for (const sextant::autoscaler::ReplayStep& step : *steps) {
      if (!sextant::ValidateJson(sextant::autoscaler::ReplayStepToJson(step)).ok()) {
        __builtin_trap();
      }
    }
  }
  return 0;
}
