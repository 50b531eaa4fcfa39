// The PromQL engine: evaluates parsed expressions against stored series as Prometheus 2.42 does
// (lookback, staleness, offsets and @, subqueries, every operator, aggregation and function).
//
//   DbQueryable storage(db);
//   Engine engine(storage, EngineOptions{});
//   SEXTANT_ASSIGN_OR_RETURN(ExprPtr expr, ParseExpr("sum by (job)
//   (rate(http_requests_total[5m]))")); SEXTANT_ASSIGN_OR_RETURN(QueryResult r,
//   engine.RangeQuery(std::move(expr), start, end, step));
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "aggregator/promql/ast.h"
#include "aggregator/promql/value.h"
#include "aggregator/tsdb/db.h"
#include "aggregator/tsdb/types.h"
#include "prom/matcher.h"

namespace sextant::promql {

// Where the engine reads series from: the storage edge, so tests and tools can serve series
// from memory. Implementations must be safe to call from many queries at once.
class Queryable {
 public:
  virtual ~Queryable() = default;
  // Series matching every matcher that have samples in [mint, maxt] (ms, inclusive), sorted by
  // labels, chunks ordered by min_time. Errors are storage failures.
  virtual absl::StatusOr<std::vector<tsdb::SeriesChunks>> Select(
      const std::vector<prom::Matcher>& matchers, int64_t mint, int64_t maxt) const = 0;
};

// Reads from a tsdb::Db, which must outlive it. Thread-safe.
class DbQueryable : public Queryable {
 public:
  explicit DbQueryable(const tsdb::Db& db) : db_(db) {}
  absl::StatusOr<std::vector<tsdb::SeriesChunks>> Select(const std::vector<prom::Matcher>& matchers,
                                                         int64_t mint,
                                                         int64_t maxt) const override {
    return db_.Select(matchers, mint, maxt);
  }

 private:
  const tsdb::Db& db_;
};

struct EngineOptions {
  // How far back an instant selector looks for the latest sample (default 5m).
  absl::Duration lookback_delta = absl::Minutes(5);
  // At most this many samples held in memory at once by one query (default 50,000,000, as
  // Prometheus's --query.max-samples); beyond it the query fails with ResourceExhausted.
  int64_t max_samples = 50'000'000;
  // A query running longer fails with DeadlineExceeded (default 2m, --query.timeout).
  absl::Duration timeout = absl::Minutes(2);
  // The step of a subquery written without one, `x[1h:]` (default 1m, Prometheus's default
  // evaluation interval).
  absl::Duration default_subquery_step = absl::Minutes(1);
  // Threads one query uses for work that is independent per series (decoding selected series,
  // functions over range vectors) when there is enough of it (default 0: the CPU count).
  int parallelism = 0;
};

struct QueryResult {
  Value value;
  std::vector<std::string> warnings;
};

// Evaluates queries; holds no per-query state, so one Engine serves concurrent queries.
// Thread-safe.
//
// Errors, as Prometheus's API classifies them:
//   InvalidArgument     the expression cannot be evaluated as asked (bad_data, 400);
//   FailedPrecondition  an evaluation error, with Prometheus's message, e.g. "found duplicate
//                       series for the match group ..." (execution, 422);
//   ResourceExhausted   "query processing would load too many samples into memory in query
//                       execution" (execution, 422);
//   DeadlineExceeded    "query timed out in query execution" (timeout, 503);
//   anything else       a storage failure (internal, 500).
class Engine {
 public:
  Engine(const Queryable& storage, EngineOptions options);

  // Evaluates `expr` at `time_ms`. The result's type is the expression's: Scalar, String,
  // Vector (each sample stamped time_ms; the order of sort(), sort_desc(), topk() kept) or
  // Matrix (for a range-vector expression: the raw points).
  absl::StatusOr<QueryResult> InstantQuery(ExprPtr expr, int64_t time_ms) const;

  // Evaluates `expr` at start, start+step, ... <= end. The result is a Matrix sorted by labels;
  // series with no point at any step are left out. InvalidArgument when the expression is not
  // a scalar or an instant vector ("invalid expression type \"range vector\" for range query,
  // must be Scalar or instant Vector"), or step <= 0, or end < start.
  absl::StatusOr<QueryResult> RangeQuery(ExprPtr expr, int64_t start_ms, int64_t end_ms,
                                         int64_t step_ms) const;

  const EngineOptions& options() const { return options_; }

 private:
  const Queryable& storage_;
  EngineOptions options_;
};

}  // namespace sextant::promql
