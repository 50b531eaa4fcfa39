// Serves the collector's latest completed pass through prometheus-cpp, so /metrics (and anything
// else built on a prometheus::Registry-style Collectable) reads the snapshot instead of /proc.
#pragma once

#include <functional>
#include <memory>
#include <string>
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

// A Collectable over the latest snapshot: a scrape returns a copy of its conversion, made at the
// first scrape after each pass (so passes nobody scrapes cost nothing here, and a scrape never
// runs a pass). Empty before the first pass. Thread-safe.
class SnapshotCollectable final : public prometheus::Collectable {
 public:
  // `latest` returns the snapshot to serve (Collection::latest); null: nothing yet.
  explicit SnapshotCollectable(std::function<std::shared_ptr<const Snapshot>()> latest)
      : latest_(std::move(latest)) {}

  std::vector<prometheus::MetricFamily> Collect() const override;

  // The same families in text format 0.0.4 (prom::WriteTextFormat, which formats values as
  // Prometheus's Go client does), rendered at the first call after each pass. For
  // SelfMetrics::AddCollectable's `render_text`, so that a scrape is a string copy.
  std::string RenderText() const;

 private:
  const std::function<std::shared_ptr<const Snapshot>()> latest_;
  mutable absl::Mutex mu_;  // held while converting, so that concurrent scrapes convert once
  mutable std::shared_ptr<const Snapshot> converted_from_ ABSL_GUARDED_BY(mu_);
  mutable std::shared_ptr<const std::vector<prometheus::MetricFamily>> families_
      ABSL_GUARDED_BY(mu_);
  mutable absl::Mutex text_mu_;  // held while rendering, so that concurrent scrapes render once
  mutable std::shared_ptr<const Snapshot> text_from_ ABSL_GUARDED_BY(text_mu_);
  mutable std::shared_ptr<const std::string> text_ ABSL_GUARDED_BY(text_mu_);
};

}  // namespace sextant::collector
