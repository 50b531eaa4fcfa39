// Fuzzes the kubelet /pods parser, the series built from what it accepts, and the resource
// quantity parser: any bytes must give a result or an InvalidArgument error, never a crash, a
// hang or an exception escaping; quantities must round consistently.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "collector/kubelet/pod_list.h"
#include "collector/kubelet/quantity.h"
#include "collector/metric_set.h"
#include "prom/text_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sextant::collector;
  absl::string_view text(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<Quantity> q = ParseQuantity(text);
  if (q.ok()) {
    const int64_t value = q->Value();
    const int64_t milli = q->MilliValue();
    // Rounding away from zero: |milli| >= |value|, and both have the quantity's sign.
    if (q->negative ? (milli > value || value > 0) : (milli < value || value < 0)) {
      __builtin_trap();
    }
    (void)q->ScaledValue(9);
    (void)q->ScaledValue(-9);
  } else if (q.status().code() != absl::StatusCode::kInvalidArgument) {
    __builtin_trap();
  }

  absl::StatusOr<std::vector<KubeletPod>> pods = ParseKubeletPods(text);
  if (pods.ok()) {
    MetricSet set;
    AppendPodMetrics(*pods, "node", set);
    (void)BuildPodIndex(*pods);
    // Whatever was accepted must render as valid exposition text.
    if (!sextant::prom::ParseTextFormat(sextant::prom::WriteTextFormat(set.families()),
                                        sextant::prom::ExpositionFormat::kText004)
             .ok()) {
      __builtin_trap();
    }
  } else if (pods.status().code() != absl::StatusCode::kInvalidArgument) {
    __builtin_trap();
  }
  return 0;
}
