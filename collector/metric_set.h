// The samples one collection pass produces, grouped into metric families in the order they were
// first added. Sources append to it; the exporter serves it and the shipper sends it.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "prom/labels.h"
#include "prom/text_format.h"

namespace sextant::collector {

// Families under construction. Label values that are not valid UTF-8 (a device or mount point
// name can be anything) are repaired with U+FFFD, and empty values are dropped (Prometheus's
// rule), so every sample is exportable. A sample whose labels repeat one already in its family
// is dropped and counted (duplicates()). Thread-compatible: one pass fills it on one thread.
class MetricSet {
 public:
  using LabelList = std::initializer_list<std::pair<absl::string_view, absl::string_view>>;

  // Adds a sample of family `name` (a valid metric name written by us). The family is created
  // with `help` and `type` on first use; later calls' help and type are ignored.
  void Add(absl::string_view name, absl::string_view help, prom::MetricType type, LabelList labels,
           double value);
  // The same with labels in any order, without __name__.
  void Add(absl::string_view name, absl::string_view help, prom::MetricType type,
           std::vector<prom::Label> labels, double value);

  // Shorthands for the two common types.
  void Counter(absl::string_view name, absl::string_view help, LabelList labels, double value) {
    Add(name, help, prom::MetricType::kCounter, labels, value);
  }
  void Gauge(absl::string_view name, absl::string_view help, LabelList labels, double value) {
    Add(name, help, prom::MetricType::kGauge, labels, value);
  }

  const std::vector<prom::MetricFamily>& families() const { return families_; }
  // Moves the families out; the set is empty afterwards.
  std::vector<prom::MetricFamily> TakeFamilies();
  // The number of samples over all families.
  size_t sample_count() const { return samples_; }
  // Samples dropped because their labels repeated one already in the family.
  size_t duplicates() const { return duplicates_; }

 private:
  struct FamilyState {
    size_t index;
    // Label-set hashes of the family's samples; a repeated hash (rare) is checked in full.
    absl::flat_hash_set<uint64_t> hashes;
  };
  // `labels`: valid UTF-8 values, none empty, no __name__, any order.
  void AddChecked(absl::string_view name, absl::string_view help, prom::MetricType type,
                  std::vector<prom::Label> labels, double value);

  std::vector<prom::MetricFamily> families_;
  absl::flat_hash_map<std::string, FamilyState> index_;
  size_t samples_ = 0;
  size_t duplicates_ = 0;
};

}  // namespace sextant::collector
