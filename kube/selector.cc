#include "kube/selector.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace sextant::kube {
namespace {

absl::Status Unparsable(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("unable to parse requirement: ", what));
}

std::string Trimmed(absl::string_view s) { return std::string(absl::StripAsciiWhitespace(s)); }

}  // namespace

absl::StatusOr<LabelSelector> LabelSelector::Parse(absl::string_view text) {
  // Split at the commas outside parentheses.
  std::vector<std::string> terms;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      terms.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  terms.push_back(std::move(cur));
  LabelSelector selector;
  for (const std::string& raw : terms) {
    absl::string_view term = absl::StripAsciiWhitespace(raw);
    if (term.empty()) {
      if (terms.size() == 1) return selector;
      return Unparsable(text);
    }
    LabelRequirement r;
    if (size_t paren = term.find('('); paren != absl::string_view::npos) {
      if (term.back() != ')') return absl::InvalidArgumentError("unclosed '(' in label selector");
      std::vector<absl::string_view> head =
          absl::StrSplit(term.substr(0, paren), ' ', absl::SkipWhitespace());
      if (head.size() != 2 || (head[1] != "in" && head[1] != "notin")) return Unparsable(term);
      r.key = std::string(head[0]);
      r.op = head[1] == "in" ? LabelRequirement::kIn : LabelRequirement::kNotIn;
      for (absl::string_view v :
           absl::StrSplit(term.substr(paren + 1, term.size() - paren - 2), ',')) {
        r.values.push_back(Trimmed(v));
      }
    } else if (term[0] == '!') {
      r.key = Trimmed(term.substr(1));
      r.op = LabelRequirement::kNotExists;
    } else if (size_t p = term.find("!="); p != absl::string_view::npos) {
      r.key = Trimmed(term.substr(0, p));
      r.op = LabelRequirement::kNe;
      r.values.push_back(Trimmed(term.substr(p + 2)));
    } else if (size_t q = term.find("=="); q != absl::string_view::npos) {
      r.key = Trimmed(term.substr(0, q));
      r.values.push_back(Trimmed(term.substr(q + 2)));
    } else if (size_t e = term.find('='); e != absl::string_view::npos) {
      r.key = Trimmed(term.substr(0, e));
      r.values.push_back(Trimmed(term.substr(e + 1)));
    } else {
      r.key = std::string(term);
      r.op = LabelRequirement::kExists;
    }
    if (r.key.empty()) return Unparsable(term);
    selector.requirements_.push_back(std::move(r));
  }
  return selector;
}

bool LabelSelector::Holds(const LabelRequirement& r, const std::string* value) {
  const bool in =
      value != nullptr && std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
  switch (r.op) {
    case LabelRequirement::kEq:
      return value != nullptr && *value == r.values[0];
    case LabelRequirement::kNe:
      return value == nullptr || *value != r.values[0];
    case LabelRequirement::kIn:
      return in;
    case LabelRequirement::kNotIn:
      return !in;
    case LabelRequirement::kExists:
      return value != nullptr;
    case LabelRequirement::kNotExists:
      return value == nullptr;
  }
  return false;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  return MatchesWith([&labels](const std::string& key) -> const std::string* {
    auto it = labels.find(key);
    return it == labels.end() ? nullptr : &it->second;
  });
}

}  // namespace sextant::kube
