// Internal to the engine: the implementations of PromQL's functions (functions.cc), called by the
// evaluator (engine.cc) once per step and, for functions over a range vector, once per series
// and step.
#pragma once

#include <any>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "aggregator/promql/ast.h"
#include "aggregator/promql/value.h"

namespace sextant::promql::internal {

// One argument of one call at one step; the field matching the argument's type is set.
struct FunctionArg {
  const Vector* vector = nullptr;  // an instant vector, evaluated at this step
  // A range vector: the points of one series inside this step's window (empty only when a
  // function is called without one, as absent_over_time may be).
  absl::Span<const Point> points;
  double scalar = 0;         // a scalar, evaluated at this step
  absl::string_view string;  // a string literal
};

// Everything else a function sees at one step.
struct FunctionContext {
  const Call& call;  // the call node (its args' expressions: absent() reads their matchers)
  int64_t ts = 0;    // the evaluation time of this step (ms)
  // For a range-vector argument: the window [range_start, range_end] this step selected
  // (ts - range - offset, ts - offset), which rate() and friends extrapolate to.
  int64_t range_start = 0;
  int64_t range_end = 0;
  // Scratch that lives as long as this call node's evaluation (all steps and series): caches
  // such as label_replace's compiled regex. Starts empty.
  std::any& state;
  // The result of this step: the function appends to it (it is empty on entry). For a function
  // over a range vector the engine keeps only the value of the first sample and labels it
  // itself. A function returning a scalar appends one sample with empty labels.
  Vector& out;
};

// Computes one step of the function. FailedPrecondition for Prometheus's evaluation errors
// (e.g. "invalid regular expression in label_replace(): ..."), with its message.
using FunctionImpl = absl::Status (*)(absl::Span<const FunctionArg> args, FunctionContext& ctx);

// The implementation of the function named `name` (every name LookupFunction() knows), or null.
FunctionImpl FindFunctionImpl(absl::string_view name);

// Added for the quantile aggregation (engine_aggregate.cc) and quantile_over_time, which share
// it: Prometheus's quantile(), linear interpolation between the closest ranks of `values` (NaNs
// sort first); NaN for no values or a NaN `q`, -Inf for q < 0, +Inf for q > 1.
double Quantile(double q, std::vector<double> values);

}  // namespace sextant::promql::internal
