// Label matchers of the Prometheus data model: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prom/labels.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace sextant::prom {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

// "=", "!=", "=~" or "!~".
absl::string_view MatchTypeToString(MatchType type);

// One label matcher, with the semantics of Prometheus 2.42's labels.Matcher: a regex is RE2
// syntax (as Go's regexp), fully anchored as ^(?:re)$, `.` does not match a newline, and a
// value that is not valid UTF-8 is read with each bad byte as U+FFFD (as Go does). A label that
// is absent has the value "". Value type: copies share the compiled regex (immutable), so a
// Matcher is cheap to copy and safe to use from many threads at once.
class Matcher {
 public:
  // InvalidArgument when `type` is a regex type and `value` is not a valid regex; the message
  // quotes the pattern and names RE2's error. Go's regexp rejects \C and so does this.
  static absl::StatusOr<Matcher> Create(MatchType type, std::string name, std::string value);

  // Whether a label value (use "" for an absent label) satisfies the matcher.
  bool Matches(absl::string_view value) const;
  // Matches(""): whether the matcher also selects series without the label.
  bool MatchesEmpty() const { return matches_empty_; }

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }

  // Prometheus's rendering, name then operator then the value quoted as Go's %q does:
  // job=~"api|web", path="a\"b\n".
  std::string ToString() const;

  friend bool operator==(const Matcher& a, const Matcher& b) {
    return a.type_ == b.type_ && a.name_ == b.name_ && a.value_ == b.value_;
  }

 private:
  struct Regex;
  Matcher(MatchType type, std::string name, std::string value, std::shared_ptr<const Regex> re);
  bool RegexMatches(absl::string_view value) const;

  MatchType type_;
  std::string name_;
  std::string value_;
  std::shared_ptr<const Regex> re_;  // Set for the regex types only.
  bool matches_empty_ = false;
};

// Compiles `pattern` as Prometheus compiles a regex with Go's regexp: anchored, ^(?:pattern)$,
// with the syntax Go accepts (RE2's, less \C). InvalidArgument otherwise, with Go's wording of
// the error on the anchored form, e.g. "error parsing regexp: missing closing ): `^(?:()$`".
// The result is immutable and safe to match from many threads at once.
absl::StatusOr<std::shared_ptr<const re2::RE2>> CompileAnchoredGoRegexp(absl::string_view pattern);

// True when every matcher matches its label in `labels` (absent labels read as "").
bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& labels);

// `s` quoted as Go's strconv.Quote does for ASCII and bad UTF-8 (\xNN); printable non-ASCII
// code points are kept, C1 controls and common invisible format characters are \u-escaped.
std::string GoQuote(absl::string_view s);

}  // namespace sextant::prom
