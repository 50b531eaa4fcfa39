// The engine's query setup, as Prometheus 2.42's Engine.execEvalStmt: wrap step-invariant
// subtrees, resolve `@ start()`/`@ end()`, select every selector's series once for the time
// range it can read, turn `@` times into offsets, evaluate, and shape the result.
#include "aggregator/promql/engine.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "aggregator/promql/evaluator.h"
#include "aggregator/promql/wrap.h"
#include "common/status_macros.h"

namespace sextant::promql {
namespace {

using internal::MsToNs;
using internal::NsToMs;
using internal::QueryContext;
using internal::WrapAdd;
using internal::WrapSub;

// Functions whose value changes with the evaluation time even when their arguments do not
// (Prometheus's AtModifierUnsafeFunctions).
bool IsAtModifierUnsafe(absl::string_view name) {
  static constexpr absl::string_view kUnsafe[] = {
      "days_in_month", "day_of_month", "day_of_week",    "day_of_year", "hour",     "minute",
      "month",         "year",         "predict_linear", "time",        "timestamp"};
  return std::find(std::begin(kUnsafe), std::end(kUnsafe), name) != std::end(kUnsafe);
}

void WrapStepInvariant(ExprPtr& slot) {
  auto wrapper = std::make_unique<StepInvariantExpr>();
  wrapper->pos = slot->pos;
  wrapper->expr = std::move(slot);
  slot = std::move(wrapper);
}

void ResolveAt(AtModifier at, std::optional<int64_t>& ts, int64_t start, int64_t end) {
  if (at == AtModifier::kStart) ts = start;
  if (at == AtModifier::kEnd) ts = end;
}

// Wraps the step-invariant children of `slot` and resolves start()/end(); true when the whole
// of `slot` is step invariant (Prometheus's preprocessExprHelper).
bool Preprocess(ExprPtr& slot, int64_t start, int64_t end) {
  Expr& e = *slot;
  switch (e.kind) {
    case ExprKind::kVectorSelector: {
      auto& vs = static_cast<VectorSelector&>(e);
      ResolveAt(vs.at, vs.timestamp_ms, start, end);
      return vs.timestamp_ms.has_value();
    }
    case ExprKind::kAggregate:
      return Preprocess(static_cast<AggregateExpr&>(e).expr, start, end);
    case ExprKind::kBinary: {
      auto& b = static_cast<BinaryExpr&>(e);
      bool lhs = Preprocess(b.lhs, start, end);
      bool rhs = Preprocess(b.rhs, start, end);
      if (lhs && rhs) return true;
      if (lhs) WrapStepInvariant(b.lhs);
      if (rhs) WrapStepInvariant(b.rhs);
      return false;
    }
    case ExprKind::kCall: {
      auto& c = static_cast<Call&>(e);
      bool invariant = c.func == nullptr || !IsAtModifierUnsafe(c.func->name);
      std::vector<bool> arg_invariant(c.args.size());
      for (size_t i = 0; i < c.args.size(); ++i) {
        arg_invariant[i] = Preprocess(c.args[i], start, end);
        invariant = invariant && arg_invariant[i];
      }
      if (invariant) return true;
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (arg_invariant[i]) WrapStepInvariant(c.args[i]);
      }
      return false;
    }
    case ExprKind::kMatrixSelector:
      return Preprocess(static_cast<MatrixSelector&>(e).vector_selector, start, end);
    case ExprKind::kSubquery: {
      auto& sq = static_cast<SubqueryExpr&>(e);
      if (Preprocess(sq.expr, start, end)) WrapStepInvariant(sq.expr);
      ResolveAt(sq.at, sq.timestamp_ms, start, end);
      return sq.timestamp_ms.has_value();
    }
    case ExprKind::kParen:
      return Preprocess(static_cast<ParenExpr&>(e).expr, start, end);
    case ExprKind::kUnary:
      return Preprocess(static_cast<UnaryExpr&>(e).expr, start, end);
    case ExprKind::kStringLiteral:
    case ExprKind::kNumberLiteral:
      return true;
    case ExprKind::kStepInvariant:
      return true;
  }
  return false;
}

// The summed offsets and ranges of the subqueries on `path`, reset at a subquery with `@`
// (whose time is returned), as Prometheus's subqueryTimes: sums of time.Duration values, in
// nanoseconds, wrapping; an `@` time of exactly the largest int64 counts as none, as there.
struct SubqueryTimes {
  int64_t offset_ns = 0;
  int64_t range_ns = 0;
  std::optional<int64_t> ts;
};
SubqueryTimes SubqueryTimesOf(const std::vector<Expr*>& path) {
  SubqueryTimes out;
  for (const Expr* node : path) {
    if (node->kind != ExprKind::kSubquery) continue;
    const auto& sq = static_cast<const SubqueryExpr&>(*node);
    out.offset_ns = WrapAdd(out.offset_ns, MsToNs(sq.original_offset_ms));
    out.range_ns = WrapAdd(out.range_ns, MsToNs(sq.range_ms));
    if (sq.timestamp_ms.has_value()) {
      out.offset_ns = MsToNs(sq.original_offset_ms);
      out.range_ns = MsToNs(sq.range_ms);
      out.ts = sq.timestamp_ms;
    }
  }
  if (out.ts == std::numeric_limits<int64_t>::max()) out.ts.reset();
  return out;
}

// The time range a selector reads, as Prometheus's getTimeRangesForSelector. `eval_range` is
// the range of the enclosing matrix selector, or 0.
std::pair<int64_t, int64_t> TimeRangeForSelector(const VectorSelector& vs,
                                                 const std::vector<Expr*>& path, int64_t start,
                                                 int64_t end, int64_t eval_range,
                                                 int64_t lookback) {
  SubqueryTimes st = SubqueryTimesOf(path);
  if (st.ts.has_value()) {
    start = *st.ts;
    end = *st.ts;
  }
  if (vs.timestamp_ms.has_value()) {
    start = *vs.timestamp_ms;
    end = *vs.timestamp_ms;
  } else {
    const int64_t offset = NsToMs(st.offset_ns);
    start = WrapSub(WrapSub(start, offset), NsToMs(st.range_ns));
    end = WrapSub(end, offset);
  }
  start = WrapSub(start, eval_range == 0 ? lookback : eval_range);
  start = WrapSub(start, vs.original_offset_ms);
  end = WrapSub(end, vs.original_offset_ms);
  return {start, end};
}

// Selects the series of every selector node once (Prometheus's populateSeries).
absl::Status PopulateSeries(Expr& root, const Queryable& storage, int64_t start, int64_t end,
                            QueryContext& q) {
  const int64_t lookback = q.lookback_ms;
  absl::Status status;
  Inspect(root, [&](Expr& node, const std::vector<Expr*>& path) {
    if (!status.ok() || node.kind != ExprKind::kVectorSelector) return;
    const auto& vs = static_cast<const VectorSelector&>(node);
    int64_t eval_range = 0;
    if (!path.empty() && path.back()->kind == ExprKind::kMatrixSelector) {
      eval_range = static_cast<const MatrixSelector*>(path.back())->range_ms;
    }
    auto [mint, maxt] = TimeRangeForSelector(vs, path, start, end, eval_range, lookback);
    if (absl::Status s = q.CheckDeadline(); !s.ok()) {
      status = s;
      return;
    }
    absl::StatusOr<std::vector<tsdb::SeriesChunks>> series =
        storage.Select(vs.matchers, mint, maxt);
    if (!series.ok()) {
      status = series.status();
      // Keep the codes the engine reserves for its own errors apart from storage failures.
      switch (status.code()) {
        case absl::StatusCode::kInvalidArgument:
        case absl::StatusCode::kFailedPrecondition:
        case absl::StatusCode::kResourceExhausted:
        case absl::StatusCode::kDeadlineExceeded:
          status = absl::InternalError(status.message());
          break;
        default:
          break;
      }
      status = Annotate(status, "expanding series: ");
      return;
    }
    internal::SelectedSeries& sel = q.selected[&vs];
    sel.series = *std::move(series);
    sel.mint = mint;
    sel.maxt = maxt;
  });
  return status;
}

}  // namespace

namespace internal {

// Sets the offsets of selectors and subqueries with `@` relative to `eval_time`, the start of
// the evaluator that will evaluate them (Prometheus's setOffsetForAtModifier). As there, the
// offset is computed as a time.Duration: in nanoseconds, wrapping, then truncated to
// milliseconds (so an `@` time more than about 292 years from `eval_time` wraps around).
void SetOffsetForAtModifier(int64_t eval_time, Expr& root) {
  auto offset_of = [eval_time](const std::optional<int64_t>& ts, int64_t original,
                               const std::vector<Expr*>& path) {
    if (!ts.has_value()) return original;
    SubqueryTimes st = SubqueryTimesOf(path);
    int64_t subq_offset_ns = st.offset_ns;
    if (st.ts.has_value()) {
      subq_offset_ns = WrapAdd(subq_offset_ns, MsToNs(WrapSub(eval_time, *st.ts)));
    }
    const int64_t offset_for_ts_ns = MsToNs(WrapSub(eval_time, *ts));
    return NsToMs(WrapAdd(MsToNs(original), WrapSub(offset_for_ts_ns, subq_offset_ns)));
  };
  Inspect(root, [&](Expr& node, const std::vector<Expr*>& path) {
    switch (node.kind) {
      case ExprKind::kVectorSelector: {
        auto& vs = static_cast<VectorSelector&>(node);
        vs.offset_ms = offset_of(vs.timestamp_ms, vs.original_offset_ms, path);
        break;
      }
      case ExprKind::kSubquery: {
        auto& sq = static_cast<SubqueryExpr&>(node);
        sq.offset_ms = offset_of(sq.timestamp_ms, sq.original_offset_ms, path);
        break;
      }
      default:
        break;
    }
  });
}

}  // namespace internal

namespace {

// Evaluates a prepared query over [start, end] and shapes the result by the expression's type.
absl::StatusOr<QueryResult> Run(const Queryable& storage, const EngineOptions& options,
                                ExprPtr expr, int64_t start, int64_t end, int64_t interval,
                                bool instant) {
  const absl::Time deadline = absl::Now() + options.timeout;
  QueryContext q(options, deadline);
  if (Preprocess(expr, start, end)) WrapStepInvariant(expr);
  SEXTANT_RETURN_IF_ERROR(q.CheckDeadline());
  SEXTANT_RETURN_IF_ERROR(PopulateSeries(*expr, storage, start, end, q));
  internal::SetOffsetForAtModifier(start, *expr);

  QueryResult result;
  const ValueType type = expr->Type();
  if (type == ValueType::kString) {
    const Expr* lit = internal::Unwrap(expr.get());
    if (lit->kind != ExprKind::kStringLiteral) {
      return absl::InternalError("string expression is not a string literal");
    }
    result.value = String{start, static_cast<const StringLiteral*>(lit)->value};
    return result;
  }
  internal::Evaluator ev(q, start, end, interval);
  SEXTANT_ASSIGN_OR_RETURN(Matrix mat, ev.Eval(*expr));
  SEXTANT_RETURN_IF_ERROR(q.CheckDeadline());
  if (!instant) {
    std::sort(mat.begin(), mat.end(),
              [](const Series& a, const Series& b) { return a.metric < b.metric; });
    result.value = std::move(mat);
    return result;
  }
  switch (type) {
    case ValueType::kVector: {
      Vector vec;
      vec.reserve(mat.size());
      for (Series& s : mat) {
        if (s.points.empty()) continue;
        vec.push_back(Sample{std::move(s.metric), start, s.points[0].v});
      }
      result.value = std::move(vec);
      break;
    }
    case ValueType::kScalar: {
      double v = 0;
      if (!mat.empty() && !mat[0].points.empty()) v = mat[0].points[0].v;
      result.value = Scalar{start, v};
      break;
    }
    default:
      result.value = std::move(mat);
      break;
  }
  return result;
}

}  // namespace

Engine::Engine(const Queryable& storage, EngineOptions options)
    : storage_(storage), options_(std::move(options)) {}

absl::StatusOr<QueryResult> Engine::InstantQuery(ExprPtr expr, int64_t time_ms) const {
  if (expr == nullptr) return absl::InvalidArgumentError("no expression");
  return Run(storage_, options_, std::move(expr), time_ms, time_ms, 1, /*instant=*/true);
}

absl::StatusOr<QueryResult> Engine::RangeQuery(ExprPtr expr, int64_t start_ms, int64_t end_ms,
                                               int64_t step_ms) const {
  if (expr == nullptr) return absl::InvalidArgumentError("no expression");
  const ValueType type = expr->Type();
  if (type != ValueType::kVector && type != ValueType::kScalar) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid expression type \"", DocumentedTypeName(type),
                     "\" for range query, must be Scalar or instant Vector"));
  }
  if (step_ms <= 0) {
    return absl::InvalidArgumentError(
        "zero or negative query resolution step widths are not accepted. Try a positive "
        "integer");
  }
  if (end_ms < start_ms) {
    return absl::InvalidArgumentError("end timestamp must not be before start time");
  }
  return Run(storage_, options_, std::move(expr), start_ms, end_ms, step_ms, /*instant=*/false);
}

}  // namespace sextant::promql
