// Fuzzes the ScalingPolicy parser and validator: any bytes must give policies or an
// InvalidArgument error, and validation must return, never a crash, a hang or an exception
// escaping. Policies that parse are also written back through PolicyStatusToJson and PolicyKey.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "autoscaler/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::vector<sextant::autoscaler::ScalingPolicy>> policies =
      sextant::autoscaler::ParseScalingPolicies(text, "fuzz.yaml");
  if (!policies.ok()) {
    if (policies.status().code() != absl::StatusCode::kInvalidArgument) __builtin_trap();
    return 0;
  }
  for (const sextant::autoscaler::ScalingPolicy& p : *policies) {
    absl::Status s = sextant::autoscaler::ValidateScalingPolicy(p);
    if (!s.ok() && s.code() != absl::StatusCode::kInvalidArgument) __builtin_trap();
    (void)sextant::autoscaler::PolicyKey(p);
    (void)sextant::autoscaler::PolicyStatusToJson(p.status);
  }
  // The quantity grammar on its own, with the whole input as the text.
  if (size < 64) {
    absl::StatusOr<int64_t> q = sextant::autoscaler::ParseMilliQuantity(text);
    if (q.ok() && *sextant::autoscaler::ParseMilliQuantity(
                      sextant::autoscaler::FormatMilliQuantity(*q)) != *q) {
      __builtin_trap();
    }
  }
  return 0;
}
