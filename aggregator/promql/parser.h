// The PromQL parser (Prometheus 2.42's grammar and checks) and the duration syntax it shares with
// the HTTP API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aggregator/promql/ast.h"
#include "prom/matcher.h"

namespace sextant::promql {

// Parses and type-checks a PromQL expression. InvalidArgument on any error, with Prometheus's
// message and position: "1:14: parse error: unexpected right parenthesis ')'" (line:column,
// both from 1). Never crashes on any input; nesting depth is bounded.
absl::StatusOr<ExprPtr> ParseExpr(absl::string_view query);

// Parses a series selector such as `up{job="api"}` or `{__name__=~"x.*"}` (the API's match[]);
// returns its matchers. InvalidArgument as ParseExpr, and when the input is any other expression.
absl::StatusOr<std::vector<prom::Matcher>> ParseMetricSelector(absl::string_view selector);

// Decodes a PromQL string literal, quotes included, as the parser does (Go's strconv.Unquote,
// except that single quotes may hold a whole string): "..." and '...' with Go's escapes
// (\a \b \f \n \r \t \v \\ \xNN \NNN \uNNNN \UNNNNNNNN, and the escaped quote of the
// literal's own kind), `...` raw. InvalidArgument with the parser's message when `quoted` is
// not exactly one such literal: `error unquoting string "'a": invalid syntax`.
absl::StatusOr<std::string> UnquoteString(absl::string_view quoted);

// Parses a Prometheus duration ("1h30m", "5m", "90s", "1y", "2w", "100ms"; units y w d h m s
// ms, largest first, each at most once) into milliseconds. InvalidArgument with the input
// quoted: `not a valid duration string: "5x"`.
absl::StatusOr<int64_t> ParseDuration(absl::string_view s);

// Prometheus's rendering of a duration in ms: "1h30m", "5m", "0s", "1y", "1w" (model.Duration's
// String()).
std::string FormatDuration(int64_t ms);

}  // namespace sextant::promql
