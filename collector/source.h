// A source of metrics for the collection pass: one file or subsystem (/proc/stat, the cgroup
// tree, the kubelet), reported on separately in the collector's self-metrics.
#pragma once

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "collector/metric_set.h"
#include "collector/pod_index.h"

namespace sextant::collector {

// What every source of one pass sees.
struct PassContext {
  absl::Time now;
  // The pods the kubelet reported in this pass; null when the kubelet is off, has never
  // answered, or could not be read in this pass (series then carry pod UIDs only).
  std::shared_ptr<const PodIndex> pods;
};

// Owned by the collection pass, called from its one thread; implementations need not be
// thread-safe.
class Source {
 public:
  virtual ~Source() = default;

  // Short and stable: the `source` label of the self-metrics ("cpu", "cgroup", "kubelet").
  virtual absl::string_view name() const = 0;

  // Appends this pass's samples to `out`. A non-OK status says part or all of the source failed
  // (a missing or garbled file, an unreachable kubelet); what was appended is exported all the
  // same, so one bad line or file never costs the rest. Never crashes on any input.
  virtual absl::Status Collect(const PassContext& ctx, MetricSet& out) = 0;
};

}  // namespace sextant::collector
