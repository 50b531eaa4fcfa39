// libFuzzer target for aggregator/promql/parser.h. Every input is parsed as a PromQL expression
// and as a series selector. A parse error must read "LINE:COL: parse error: ..."; a parsed
// expression must print (String and Prettify) as text that parses back, to an expression with the
// same rendering. Durations that parse must format and parse back to the same value.
#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "aggregator/promql/parser.h"

namespace {

using sextant::promql::ExprPtr;

[[noreturn]] void Fail(const char* what, absl::string_view a, absl::string_view b) {
  fprintf(stderr, "promql_parse_fuzz: %s\n--- 1 ---\n%.*s\n--- 2 ---\n%.*s\n---\n", what,
          static_cast<int>(a.size()), a.data(), static_cast<int>(b.size()), b.data());
  __builtin_trap();
}

// "N:M: parse error: " with N, M >= 1.
bool HasPositionPrefix(absl::string_view msg) {
  size_t i = 0;
  for (int part = 0; part < 2; ++part) {
    const size_t start = i;
    while (i < msg.size() && absl::ascii_isdigit(msg[i])) ++i;
    if (i == start || msg[start] == '0' || i >= msg.size() || msg[i] != ':') return false;
    ++i;
  }
  return absl::StartsWith(msg.substr(i), " parse error: ");
}

void CheckReparse(absl::string_view what, const std::string& text) {
  // Prometheus prints U+FFFD inside strings literally, which its lexer then rejects.
  if (absl::StrContains(text, "\xEF\xBF\xBD")) return;
  absl::StatusOr<ExprPtr> again = sextant::promql::ParseExpr(text);
  if (!again.ok()) Fail(std::string(what).c_str(), text, again.status().message());
  const std::string s = (*again)->String();
  absl::StatusOr<ExprPtr> third = sextant::promql::ParseExpr(s);
  if (!third.ok()) Fail("String() of the re-parsed expression does not parse", text, s);
  // Number literals print +Inf with its sign, so `+(Inf ^ 2)` prints as `++Inf ^ 2`, which
  // re-parses with one more unary plus (as in Prometheus); elsewhere printing is a fixed point.
  if (!absl::StrContains(s, "+Inf") && (*third)->String() != s) {
    Fail("String() is not a fixed point", text, s);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view in(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<ExprPtr> expr = sextant::promql::ParseExpr(in);
  if (!expr.ok()) {
    if (!HasPositionPrefix(expr.status().message())) {
      Fail("error without position", in, expr.status().message());
    }
  } else {
    CheckReparse("String() does not parse", (*expr)->String());
    CheckReparse("Prettify() does not parse", sextant::promql::Prettify(**expr));
  }
  auto matchers = sextant::promql::ParseMetricSelector(in);
  if (!matchers.ok() && !HasPositionPrefix(matchers.status().message())) {
    Fail("selector error without position", in, matchers.status().message());
  }
  absl::StatusOr<int64_t> d = sextant::promql::ParseDuration(in);
  if (d.ok()) {
    const std::string f = sextant::promql::FormatDuration(*d);
    absl::StatusOr<int64_t> back = sextant::promql::ParseDuration(f);
    if (!back.ok() || *back != *d) Fail("duration does not round-trip", in, f);
  }
  return 0;
}
