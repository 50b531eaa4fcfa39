// Prometheus's PromQL test-script language (promql/test.go and the series notation of
// parser.ParseSeriesDesc), parsed into commands that runner.h replays against the engine:
// `load <step>` with series lines, `clear`, `eval[_fail|_ordered] instant at <t> <expr>` and
// `eval[_fail] range from <t0> to <t1> step <s> <expr>` with expected results. The scripts are
// in promql-testdata (see runner.h's DefaultTestdataDir). Plain data and free functions;
// thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prom/labels.h"

namespace sextant::promql::script {

// One step of a series: a value, or no sample (`_`).
using SeriesValue = std::optional<double>;

// `<selector> <values...>`: a series line of a `load` or an expected result of an `eval`.
struct SeriesLine {
  int line = 0;  // 1-based line in the file
  prom::Labels labels;
  std::vector<SeriesValue> values;
  // The values hold a native histogram (`{{...}}`); `values` is then left empty.
  bool native_histogram = false;
};

// `load <step>`: value i of each series is the sample at i*step ms.
struct LoadCommand {
  int64_t step_ms = 0;
  std::vector<SeriesLine> series;
};

// `clear`: drop all data.
struct ClearCommand {};

// `eval[_fail|_ordered] instant at <t> <expr>` or `eval[_fail] range from <t0> to <t1> step <s>
// <expr>`, with its expected result.
struct EvalCommand {
  bool range = false;
  bool fail = false;
  bool ordered = false;
  std::string expr;
  int64_t at_ms = 0;                              // instant evals
  int64_t start_ms = 0, end_ms = 0, step_ms = 0;  // range evals
  // A bare number: the result must be this scalar. Else `expected` lists the series.
  std::optional<double> expected_scalar;
  std::vector<SeriesLine> expected;
  // Some expected value is a native histogram: the runner skips the eval.
  bool native_histogram = false;
};

struct Command {
  int line = 0;  // 1-based line of the command word
  std::variant<LoadCommand, ClearCommand, EvalCommand> cmd;
};

struct Script {
  std::string file;  // as given to ParseScript, for messages
  std::vector<Command> commands;
};

// Parses a whole script. InvalidArgument naming `file:line` on any error in the script itself
// (an unknown command, a bad duration, a bad series line). The PromQL expressions are not
// parsed here.
absl::StatusOr<Script> ParseScript(absl::string_view file, absl::string_view content);
// Reads and parses the file at `path`; NotFound when it cannot be read.
absl::StatusOr<Script> ReadScript(const std::string& path);

// A series description, `name{label="value", ...} v1 v2 ...` (parser.ParseSeriesDesc): the
// value notation `a+bxN`, `a-bxN`, `axN`, `_`, `_xN`, `stale`, NaN and Inf. `line` is set to
// `line_number`. InvalidArgument on a syntax error.
absl::StatusOr<SeriesLine> ParseSeriesLine(absl::string_view text, int line_number);

// A number as Go's strconv.ParseInt(s, 0, 64) and then strconv.ParseFloat(s, 64) accept it
// (the test runner's parseNumber): decimal, 0x/0o/0b and leading-0 octal integers, floats with
// exponents, hex floats, Inf, NaN, digit-separating underscores. InvalidArgument otherwise.
absl::StatusOr<double> ParseGoNumber(absl::string_view s);

// A Prometheus duration (model.ParseDuration): "5m", "1h30m", "0s", "100ms". InvalidArgument
// otherwise.
absl::StatusOr<int64_t> ParseScriptDuration(absl::string_view s);

// The comparison of sample values of Prometheus 2.42's test runner: NaN equals NaN, equal values
// are equal, and otherwise the relative difference must be below 1e-6 (below 1e-6 times the
// smallest normal double when either side is zero or the difference is subnormal). The sum the
// difference is divided by is capped at the largest double (as Prometheus later fixed), so two
// huge values are not equal merely because their sum overflows.
bool AlmostEqual(double a, double b);

}  // namespace sextant::promql::script
