// Serves the collector's latest completed pass through prometheus-cpp, so /metrics (and anything
// else built on a prometheus::Registry-style Collectable) reads the snapshot instead of /proc.
#pragma once

#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "collector/collection.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace sextant::collector {

// Converts our families to prometheus-cpp's. Counters, gauges and untyped families keep their
// type; the collector produces no other kind, and any other is exported as untyped samples.
std::vector<prometheus::MetricFamily> ToPrometheusFamilies(
    const std::vector<prom::MetricFamily>& families);

// A Collectable that returns the last snapshot given to Publish (converted once per pass, so a
// scrape is a copy, never a pass). Empty before the first. Thread-safe.
class SnapshotCollectable final : public prometheus::Collectable {
 public:
  void Publish(const Snapshot& snapshot);
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const std::vector<prometheus::MetricFamily>> families_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sextant::collector
