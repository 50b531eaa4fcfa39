// Label selectors in their string form ("app=web,tier!=db,env in (a,b),!canary"), as a /scale
// subresource's status.selector and list calls' labelSelector carry them: parsed once, matched
// against objects' labels.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sextant::kube {

// One requirement of a selector.
struct LabelRequirement {
  enum Op { kEq, kNe, kIn, kNotIn, kExists, kNotExists };
  std::string key;
  Op op = kEq;
  std::vector<std::string> values;
};

// A parsed selector. The empty selector matches everything. A value type.
class LabelSelector {
 public:
  // Parses `=`, `==`, `!=`, `in (...)`, `notin (...)`, `key` and `!key` terms separated by
  // commas. InvalidArgument "unable to parse requirement: ..." otherwise.
  static absl::StatusOr<LabelSelector> Parse(absl::string_view text);

  // True when every requirement holds for `labels`. `lookup` form for callers that keep labels
  // elsewhere: it returns null when the label is absent.
  bool Matches(const std::map<std::string, std::string>& labels) const;
  template <typename Lookup>
  bool MatchesWith(Lookup lookup) const {
    for (const LabelRequirement& r : requirements_) {
      if (!Holds(r, lookup(r.key))) return false;
    }
    return true;
  }

  bool empty() const { return requirements_.empty(); }
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

 private:
  // Whether `r` holds for a label whose value is `*value` (null: the label is absent).
  static bool Holds(const LabelRequirement& r, const std::string* value);
  std::vector<LabelRequirement> requirements_;
};

}  // namespace sextant::kube
