// Internal to the engine: the evaluator that computes an expression over every step of a query,
// as Prometheus 2.42's promql evaluator does. Every node evaluates to a Matrix holding, per
// series, one point per step at which it has a value (an instant query is one step).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "aggregator/promql/ast.h"
#include "aggregator/promql/engine.h"
#include "aggregator/promql/value.h"
#include "aggregator/tsdb/types.h"
#include "prom/labels.h"

namespace sextant::promql::internal {

// The series one selector node selected, and the time range they were selected for.
struct SelectedSeries {
  std::vector<tsdb::SeriesChunks> series;
  int64_t mint = 0;
  int64_t maxt = 0;
};

// State shared by every evaluator of one query: the selected series, the sample count held in
// memory, the deadline. Owned by the query; not thread-safe.
struct QueryContext {
  QueryContext(const EngineOptions& o, absl::Time d)
      : options(o),
        deadline(d),
        lookback_ms(o.lookback_delta > absl::ZeroDuration()
                        ? absl::ToInt64Milliseconds(o.lookback_delta)
                        : 5 * 60 * 1000) {}

  const EngineOptions& options;
  absl::Time deadline;
  // The lookback of instant selectors; a zero option means the default 5m, as in Prometheus.
  int64_t lookback_ms;
  absl::flat_hash_map<const VectorSelector*, SelectedSeries> selected;
  // Samples held in memory (Prometheus's currentSamples), against options.max_samples.
  int64_t current_samples = 0;
  uint64_t ticks = 0;  // calls of Tick()

  // DeadlineExceeded once the deadline passed.
  absl::Status CheckDeadline() const;
  // CheckDeadline() every 4096th call: for inner loops.
  absl::Status Tick() { return (++ticks & 4095) == 0 ? CheckDeadline() : absl::OkStatus(); }
};

// "query processing would load too many samples into memory in query execution".
absl::Status TooManySamples();
// An evaluation error with Prometheus's message (FailedPrecondition).
absl::Status EvalError(absl::string_view message);

// Keys computed once per input series of a step operation: the join signature of binary
// operators, the grouping key of aggregations.
using SeriesKeyFn = std::function<std::string(const prom::Labels&)>;

// The inputs of one step of a step-wise operation: per argument expression, the samples at
// this step and (when a SeriesKeyFn is given) each sample's key.
struct StepInput {
  std::vector<Vector> vectors;
  // Equal keys are the same string (interned for the whole evaluation), so they may be
  // compared and hashed by address.
  std::vector<std::vector<const std::string*>> keys;
  // Per argument, per sample: the index of its series in the argument's matrix (stable across
  // steps, so per-series results can be cached).
  std::vector<std::vector<size_t>> series;
};

// Computes the output samples of one step, appending to `out`.
using StepFn = absl::FunctionRef<absl::Status(const StepInput& in, int64_t ts, Vector& out)>;

// Evaluates expressions over the steps start, start+interval, ..., end. Thread-compatible.
class Evaluator {
 public:
  Evaluator(QueryContext& query, int64_t start, int64_t end, int64_t interval)
      : q_(query), start_(start), end_(end), interval_(interval) {}

  // The value of a non-string expression over all steps.
  absl::StatusOr<Matrix> Eval(Expr& expr);

  int64_t start() const { return start_; }
  int64_t end() const { return end_; }
  int64_t interval() const { return interval_; }
  // The number of steps; 0 when end < start (a subquery whose window holds no aligned step).
  int64_t NumSteps() const;

 private:
  // Evaluates `exprs` (null or string ones are skipped: their vectors stay empty), then calls
  // `fn` once per step with the samples of that step; gathers the outputs into series.
  absl::StatusOr<Matrix> RangeEval(const SeriesKeyFn* key_fn, StepFn fn,
                                   const std::vector<Expr*>& exprs);

  absl::StatusOr<Matrix> EvalVectorSelector(const VectorSelector& vs);
  absl::StatusOr<Matrix> EvalMatrixSelector(const MatrixSelector& ms);
  absl::StatusOr<Matrix> EvalSubquery(SubqueryExpr& sq);
  absl::StatusOr<Matrix> EvalStepInvariant(StepInvariantExpr& e);
  absl::StatusOr<Matrix> EvalCall(Call& call);
  absl::StatusOr<Matrix> EvalTimestampOfSelector(Call& call, const VectorSelector& vs);
  absl::StatusOr<Matrix> EvalAggregate(AggregateExpr& agg);
  absl::StatusOr<Matrix> EvalBinary(BinaryExpr& bin);
  absl::StatusOr<Matrix> EvalUnary(UnaryExpr& un);

  const SelectedSeries* SeriesOf(const VectorSelector& vs) const;

  QueryContext& q_;
  int64_t start_;
  int64_t end_;
  int64_t interval_;
};

// Sets the offsets of the selectors and subqueries with `@` under `root` relative to
// `eval_time`, the start of the evaluator that evaluates them (engine.cc).
void SetOffsetForAtModifier(int64_t eval_time, Expr& root);

// Strips ParenExpr and StepInvariantExpr wrappers.
Expr* Unwrap(Expr* e);

// The labels without __name__.
prom::Labels DropMetricName(const prom::Labels& l);
// Whether two samples of `v` have the same label set.
bool ContainsSameLabelset(const Vector& v);
bool ContainsSameLabelset(const Matrix& m);

// Result label sets of one binary operation node, cached across its steps: by the pair of
// input series (vector/vector) or by the vector's series (vector/scalar).
struct BinopCache {
  absl::flat_hash_map<std::pair<size_t, size_t>, prom::Labels> pair_metric;
  absl::flat_hash_map<size_t, prom::Labels> metric;
};

// One step of a binary operation (engine_binary.cc). `series` holds the vector's series
// indices (StepInput::series).
absl::Status VectorBinop(const BinaryExpr& e, const StepInput& in, BinopCache& cache, Vector& out);
absl::Status VectorScalarBinop(const BinaryExpr& e, const Vector& vec,
                               const std::vector<size_t>& series, double scalar, bool scalar_left,
                               BinopCache& cache, Vector& out);
double ScalarBinop(BinaryOp op, double lhs, double rhs);
// The join signature of a series for a vector matching.
std::string MatchSignature(const VectorMatching& m, const prom::Labels& l);

// One step of an aggregation (engine_aggregate.cc). `grouping` is sorted; `param` is the
// step's parameter (topk/bottomk/quantile) and `label` count_values' label name.
absl::Status Aggregate(AggregateOp op, const std::vector<std::string>& grouping, bool without,
                       double param, const std::string& label, const Vector& vec,
                       const std::vector<const std::string*>& keys, Vector& out);
// The grouping key of a series; `grouping` must be sorted.
std::string GroupingKey(const prom::Labels& l, const std::vector<std::string>& grouping,
                        bool without);

}  // namespace sextant::promql::internal
