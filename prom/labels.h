// Label sets of the Prometheus data model.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/utf8.h"

namespace sextant::prom {

inline constexpr absl::string_view kMetricNameLabel = "__name__";

struct Label {
  std::string name;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
  friend auto operator<=>(const Label&, const Label&) = default;
};

// A label borrowed from someone else's bytes (a decoded request); valid while they are.
struct LabelView {
  absl::string_view name;
  absl::string_view value;
};

// True for a valid label name: [a-zA-Z_][a-zA-Z0-9_]*.
bool IsValidLabelName(absl::string_view name);
// True for a valid metric name: [a-zA-Z_:][a-zA-Z0-9_:]*.
bool IsValidMetricName(absl::string_view name);
// True when `s` is valid UTF-8 (label values must be); common/utf8.h, with Go's rules.
using ::sextant::IsValidUtf8;

// An immutable set of labels, sorted by name, names unique. The hash is computed once at
// construction, so hashing and inequality checks are cheap; copies share the labels. Empty values
// are dropped, as in Prometheus (a label with an empty value is the same as no label). Value type;
// thread-compatible.
class Labels {
 public:
  Labels() = default;
  Labels(std::initializer_list<std::pair<absl::string_view, absl::string_view>> labels);

  // Builds a set from labels in any order. InvalidArgument on a duplicate or invalid name, an
  // invalid metric name in __name__, or a value that is not UTF-8; the message names the label.
  static absl::StatusOr<Labels> FromUnsorted(std::vector<Label> labels);
  // Builds a set from labels already sorted by name with unique names; checks nothing but the
  // order (debug builds). For hot paths whose input was validated.
  static Labels FromSortedUnchecked(std::vector<Label> labels);

  const std::vector<Label>& labels() const { return rep_ != nullptr ? *rep_ : EmptyLabels(); }
  size_t size() const { return labels().size(); }
  bool empty() const { return rep_ == nullptr; }
  auto begin() const { return labels().begin(); }
  auto end() const { return labels().end(); }

  // The value of `name`, or "" when absent.
  absl::string_view Get(absl::string_view name) const;
  bool Has(absl::string_view name) const;
  absl::string_view MetricName() const { return Get(kMetricNameLabel); }
  uint64_t Hash() const { return hash_; }
  // The Hash() of the set these sorted, unique labels make (empty values skipped, as the set
  // drops them), without building it.
  static uint64_t HashOf(const LabelView* labels, size_t n);
  // Whether this set equals the one those sorted, unique labels make (empty values skipped).
  bool Equals(const LabelView* labels, size_t n) const;

  // A copy with `name` set to `value` (removed when `value` is empty).
  Labels With(absl::string_view name, absl::string_view value) const;
  // A copy without the given names.
  Labels Without(std::initializer_list<absl::string_view> names) const;

  // Prometheus's rendering: {__name__="up", job="x"} with escaped values.
  std::string ToString() const;

  friend bool operator==(const Labels& a, const Labels& b) {
    return a.hash_ == b.hash_ && (a.rep_ == b.rep_ || a.labels() == b.labels());
  }
  friend bool operator<(const Labels& a, const Labels& b) { return Compare(a, b) < 0; }
  // Prometheus's order: label by label, name then value; a prefix sorts first.
  static int Compare(const Labels& a, const Labels& b);

  template <typename H>
  friend H AbslHashValue(H h, const Labels& l) {
    return H::combine(std::move(h), l.hash_);
  }

 private:
  explicit Labels(std::vector<Label> sorted);
  static uint64_t ComputeHash(const std::vector<Label>& labels);

  static const std::vector<Label>& EmptyLabels();

  // Shared and never modified, so copies are cheap (queries copy label sets per sample); null
  // for the empty set.
  std::shared_ptr<const std::vector<Label>> rep_;
  uint64_t hash_ = ComputeHash({});
};

// Escapes a label value for the text formats and ToString: backslash, double quote, newline.
std::string EscapeLabelValue(absl::string_view v);

}  // namespace sextant::prom
