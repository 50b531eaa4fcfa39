// The evaluator's core, as Prometheus 2.42's promql/engine.go evaluator: selectors read each
// series' samples once across all steps (a moving pointer for the lookback of instant
// selectors, a sliding window for range functions), step-wise operations go through RangeEval.
#include "aggregator/promql/evaluator.h"

#include <algorithm>
#include <any>
#include <atomic>
#include <cmath>
#include <limits>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_set.h"
#include "absl/strings/str_cat.h"
#include "aggregator/promql/functions.h"
#include "aggregator/promql/wrap.h"
#include "common/status_macros.h"

namespace sextant::promql::internal {
namespace {

// At most this many points are reserved up front for a result series (as Prometheus's
// maxPointsSliceSize); beyond, the series grows as needed.
constexpr int64_t kMaxReservedPoints = 5000;

struct LabelsPtrHash {
  size_t operator()(const prom::Labels* l) const { return l->Hash(); }
};
struct LabelsPtrEq {
  bool operator()(const prom::Labels* a, const prom::Labels* b) const { return *a == *b; }
};

// Below this many series x steps, per-series work runs on the calling thread alone.
constexpr int64_t kMinParallelWork = 200'000;

// Runs the per-series function for every index in [0, n), on up to `q.options.parallelism`
// threads when the work (n x steps) is large: threads take indices in increasing order from a
// shared counter. `make_worker()` runs once per thread and returns that thread's function
// (so each has its own buffers). Returns the error of the lowest failing index (the same error
// whatever the split), DeadlineExceeded once the deadline passes. The threads are joined before
// it returns.
template <typename MakeWorker>
absl::Status ForEachSeries(const QueryContext& q, size_t n, int64_t steps, MakeWorker make_worker) {
  size_t threads = q.options.parallelism > 0 ? static_cast<size_t>(q.options.parallelism)
                                             : std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, n);
  int64_t work = 0;
  if (__builtin_mul_overflow(static_cast<int64_t>(n), std::max<int64_t>(steps, 1), &work)) {
    work = std::numeric_limits<int64_t>::max();
  }
  if (work < kMinParallelWork) threads = 1;
  std::atomic<size_t> next{0};
  std::atomic<size_t> failed_at{n};
  std::vector<absl::Status> errors(n > 0 && threads > 1 ? threads : 1);
  std::vector<size_t> error_index(errors.size(), n);
  auto run = [&](size_t t) {
    auto fn = make_worker();
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      if (i > failed_at.load(std::memory_order_relaxed)) break;
      absl::Status st = q.CheckDeadline();
      if (st.ok()) st = fn(i);
      if (!st.ok()) {
        errors[t] = std::move(st);
        error_index[t] = i;
        size_t cur = failed_at.load();
        while (i < cur && !failed_at.compare_exchange_weak(cur, i)) {
        }
        break;
      }
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < errors.size(); ++t) {
    try {
      pool.emplace_back(run, t);
    } catch (const std::system_error&) {
      break;  // no more threads to be had: the others (and this one) do the rest
    }
  }
  run(0);
  for (std::thread& th : pool) th.join();
  size_t best = 0;
  for (size_t t = 1; t < errors.size(); ++t) {
    if (error_index[t] < error_index[best]) best = t;
  }
  return errors[best];
}

// Reads points in increasing time from either a stored series or an evaluated one.
class PointCursor {
 public:
  PointCursor(const tsdb::SeriesChunks& series, int64_t mint, int64_t maxt)
      : it_(std::in_place, series, mint, maxt) {
    has_ = it_->Next();
  }
  explicit PointCursor(const std::vector<Point>& points) : points_(&points) {
    has_ = !points.empty();
  }

  bool Valid() const { return has_; }
  int64_t T() const { return it_ ? it_->t() : (*points_)[i_].t; }
  double V() const { return it_ ? it_->v() : (*points_)[i_].v; }
  void Advance() {
    if (it_) {
      has_ = it_->Next();
    } else {
      has_ = ++i_ < points_->size();
    }
  }
  absl::Status status() const { return it_ ? it_->status() : absl::OkStatus(); }

 private:
  std::optional<tsdb::SampleIterator> it_;
  const std::vector<Point>* points_ = nullptr;
  size_t i_ = 0;
  bool has_ = false;
};

// The labels absent_over_time() reports for a selector: its equality matchers, less any label
// matched more than once or otherwise (Prometheus's createLabelsForAbsentFunction).
prom::Labels LabelsForAbsent(const Expr* arg) {
  const VectorSelector* vs = nullptr;
  if (arg->kind == ExprKind::kVectorSelector) vs = static_cast<const VectorSelector*>(arg);
  if (arg->kind == ExprKind::kMatrixSelector) {
    vs = static_cast<const VectorSelector*>(
        static_cast<const MatrixSelector*>(arg)->vector_selector.get());
  }
  if (vs == nullptr) return prom::Labels();
  std::vector<prom::Label> set;
  std::vector<std::string> drop;
  for (const prom::Matcher& m : vs->matchers) {
    if (m.name() == prom::kMetricNameLabel) continue;
    bool has = std::any_of(set.begin(), set.end(),
                           [&](const prom::Label& l) { return l.name == m.name(); });
    if (m.type() == prom::MatchType::kEqual && !has) {
      if (!m.value().empty()) set.push_back(prom::Label{m.name(), m.value()});
    } else {
      drop.push_back(m.name());
    }
  }
  std::vector<prom::Label> out;
  for (prom::Label& l : set) {
    if (std::find(drop.begin(), drop.end(), l.name) == drop.end()) out.push_back(std::move(l));
  }
  std::sort(out.begin(), out.end(),
            [](const prom::Label& a, const prom::Label& b) { return a.name < b.name; });
  return prom::Labels::FromSortedUnchecked(std::move(out));
}

absl::string_view StringArg(Expr* e) {
  const Expr* u = Unwrap(e);
  if (u->kind != ExprKind::kStringLiteral) return "";
  return static_cast<const StringLiteral*>(u)->value;
}

double ScalarAt(const Vector& v) {
  return v.empty() ? std::numeric_limits<double>::quiet_NaN() : v[0].v;
}

}  // namespace

absl::Status QueryContext::CheckDeadline() const {
  if (absl::Now() >= deadline) {
    return absl::DeadlineExceededError("query timed out in query execution");
  }
  return absl::OkStatus();
}

absl::Status TooManySamples() {
  return absl::ResourceExhaustedError(
      "query processing would load too many samples into memory in query execution");
}

absl::Status EvalError(absl::string_view message) { return absl::FailedPreconditionError(message); }

Expr* Unwrap(Expr* e) {
  while (e != nullptr) {
    if (e->kind == ExprKind::kParen) {
      e = static_cast<ParenExpr*>(e)->expr.get();
    } else if (e->kind == ExprKind::kStepInvariant) {
      e = static_cast<StepInvariantExpr*>(e)->expr.get();
    } else {
      break;
    }
  }
  return e;
}

prom::Labels DropMetricName(const prom::Labels& l) {
  if (!l.Has(prom::kMetricNameLabel)) return l;
  return l.Without({prom::kMetricNameLabel});
}

bool ContainsSameLabelset(const Vector& v) {
  if (v.size() <= 1) return false;
  absl::flat_hash_set<const prom::Labels*, LabelsPtrHash, LabelsPtrEq> seen;
  seen.reserve(v.size());
  for (const Sample& s : v) {
    if (!seen.insert(&s.metric).second) return true;
  }
  return false;
}

bool ContainsSameLabelset(const Matrix& m) {
  if (m.size() <= 1) return false;
  absl::flat_hash_set<const prom::Labels*, LabelsPtrHash, LabelsPtrEq> seen;
  seen.reserve(m.size());
  for (const Series& s : m) {
    if (!seen.insert(&s.metric).second) return true;
  }
  return false;
}

int64_t Evaluator::NumSteps() const { return StepCount(start_, end_, interval_); }

const SelectedSeries* Evaluator::SeriesOf(const VectorSelector& vs) const {
  auto it = q_.selected.find(&vs);
  return it == q_.selected.end() ? nullptr : &it->second;
}

absl::StatusOr<Matrix> Evaluator::Eval(Expr& expr) {
  SEXTANT_RETURN_IF_ERROR(q_.CheckDeadline());
  switch (expr.kind) {
    case ExprKind::kAggregate:
      return EvalAggregate(static_cast<AggregateExpr&>(expr));
    case ExprKind::kCall:
      return EvalCall(static_cast<Call&>(expr));
    case ExprKind::kParen:
      return Eval(*static_cast<ParenExpr&>(expr).expr);
    case ExprKind::kUnary:
      return EvalUnary(static_cast<UnaryExpr&>(expr));
    case ExprKind::kBinary:
      return EvalBinary(static_cast<BinaryExpr&>(expr));
    case ExprKind::kNumberLiteral: {
      const double v = static_cast<NumberLiteral&>(expr).value;
      return RangeEval(nullptr,
                       [v](const StepInput&, int64_t, Vector& out) {
                         out.push_back(Sample{prom::Labels(), 0, v});
                         return absl::OkStatus();
                       },
                       {});
    }
    case ExprKind::kStringLiteral:
      return absl::InternalError("a string literal cannot be evaluated to a matrix");
    case ExprKind::kVectorSelector:
      return EvalVectorSelector(static_cast<VectorSelector&>(expr));
    case ExprKind::kMatrixSelector:
      if (start_ != end_) {
        return absl::InternalError("cannot do range evaluation of matrix selector");
      }
      return EvalMatrixSelector(static_cast<MatrixSelector&>(expr));
    case ExprKind::kSubquery:
      return EvalSubquery(static_cast<SubqueryExpr&>(expr));
    case ExprKind::kStepInvariant:
      return EvalStepInvariant(static_cast<StepInvariantExpr&>(expr));
  }
  return absl::InternalError("unhandled expression kind");
}

absl::StatusOr<Matrix> Evaluator::RangeEval(const SeriesKeyFn* key_fn, StepFn fn,
                                            const std::vector<Expr*>& exprs) {
  const size_t n = exprs.size();
  const int64_t max_samples = q_.options.max_samples;
  const int64_t original_samples = q_.current_samples;
  std::vector<Matrix> matrices(n);
  for (size_t i = 0; i < n; ++i) {
    if (exprs[i] != nullptr && exprs[i]->Type() != ValueType::kString) {
      SEXTANT_ASSIGN_OR_RETURN(matrices[i], Eval(*exprs[i]));
    }
  }
  // Each input series' key, interned: equal keys are one string, so a step may compare keys by
  // address (StepInput::keys).
  std::vector<std::vector<const std::string*>> series_keys(n);
  absl::node_hash_set<std::string> interned_keys;
  if (key_fn != nullptr) {
    for (size_t i = 0; i < n; ++i) {
      series_keys[i].reserve(matrices[i].size());
      for (const Series& s : matrices[i]) {
        series_keys[i].push_back(&*interned_keys.insert((*key_fn)(s.metric)).first);
      }
    }
  }

  StepInput in;
  in.vectors.resize(n);
  in.keys.resize(n);
  in.series.resize(n);
  std::vector<std::vector<size_t>> next_point(n);  // per input series: its next unread point
  for (size_t i = 0; i < n; ++i) next_point[i].assign(matrices[i].size(), 0);

  Matrix result;
  absl::flat_hash_map<prom::Labels, size_t> result_index;
  Vector out;
  int64_t step_base_samples = q_.current_samples;
  bool more = start_ <= end_;
  for (int64_t ts = start_; more; more = NextStep(ts, interval_, end_)) {
    SEXTANT_RETURN_IF_ERROR(q_.CheckDeadline());
    q_.current_samples = step_base_samples;
    for (size_t i = 0; i < n; ++i) {
      Vector& vec = in.vectors[i];
      std::vector<size_t>& slots = in.series[i];
      size_t k = 0;
      for (size_t si = 0; si < matrices[i].size(); ++si) {
        const std::vector<Point>& points = matrices[i][si].points;
        size_t& p = next_point[i][si];
        if (p >= points.size() || points[p].t != ts) continue;
        if (q_.current_samples >= max_samples) return TooManySamples();
        if (k < vec.size()) {
          if (slots[k] != si) {
            vec[k].metric = matrices[i][si].metric;
            slots[k] = si;
          }
        } else {
          vec.push_back(Sample{matrices[i][si].metric, 0, 0});
          slots.push_back(si);
        }
        vec[k].t = ts;
        vec[k].v = points[p].v;
        if (key_fn != nullptr) {
          if (k < in.keys[i].size()) {
            in.keys[i][k] = series_keys[i][si];
          } else {
            in.keys[i].push_back(series_keys[i][si]);
          }
        }
        ++k;
        ++p;
        ++q_.current_samples;
      }
      vec.resize(k);
      slots.resize(k);
      if (key_fn != nullptr) in.keys[i].resize(k);
    }

    out.clear();
    SEXTANT_RETURN_IF_ERROR(fn(in, ts, out));
    if (ContainsSameLabelset(out)) {
      return EvalError("vector cannot contain metrics with the same labelset");
    }
    q_.current_samples += static_cast<int64_t>(out.size());
    step_base_samples += static_cast<int64_t>(out.size());
    if (q_.current_samples > max_samples) return TooManySamples();

    if (start_ == end_) {
      // One step: keep the order the step produced (sort(), topk()).
      Matrix mat;
      mat.reserve(out.size());
      for (Sample& s : out) mat.push_back(Series{std::move(s.metric), {Point{ts, s.v}}});
      q_.current_samples = original_samples + static_cast<int64_t>(mat.size());
      return mat;
    }
    for (Sample& s : out) {
      auto [it, inserted] = result_index.try_emplace(s.metric, result.size());
      if (inserted) {
        result.push_back(Series{std::move(s.metric), {}});
        result.back().points.reserve(
            static_cast<size_t>(std::min<int64_t>(NumSteps(), kMaxReservedPoints)));
      }
      result[it->second].points.push_back(Point{ts, s.v});
    }
  }
  int64_t total = 0;
  for (const Series& s : result) total += static_cast<int64_t>(s.points.size());
  q_.current_samples = original_samples + total;
  return result;
}

absl::StatusOr<Matrix> Evaluator::EvalVectorSelector(const VectorSelector& vs) {
  const SelectedSeries* sel = SeriesOf(vs);
  if (sel == nullptr) return absl::InternalError("vector selector was not populated");
  const int64_t lookback = q_.lookback_ms;
  const size_t num_series = sel->series.size();
  const int64_t steps = NumSteps();
  std::vector<Series> results(num_series);
  auto one_series = [&](size_t si) -> absl::Status {
    const tsdb::SeriesChunks& s = sel->series[si];
    std::vector<Point>& points = results[si].points;
    PointCursor cur(s, sel->mint, sel->maxt);
    bool has_prev = false;
    int64_t prev_t = 0;
    double prev_v = 0;
    bool more = start_ <= end_;
    for (int64_t ts = start_; more; more = NextStep(ts, interval_, end_)) {
      const int64_t ref = WrapSub(ts, vs.offset_ms);
      while (cur.Valid() && cur.T() <= ref) {
        has_prev = true;
        prev_t = cur.T();
        prev_v = cur.V();
        cur.Advance();
      }
      if (!has_prev || prev_t < WrapSub(ref, lookback) || IsStaleNaN(prev_v)) continue;
      if (points.empty()) points.reserve(static_cast<size_t>(std::min(steps, kMaxReservedPoints)));
      points.push_back(Point{ts, prev_v});
    }
    SEXTANT_RETURN_IF_ERROR(cur.status());
    if (!points.empty()) results[si].metric = s.labels;
    return absl::OkStatus();
  };
  SEXTANT_RETURN_IF_ERROR(ForEachSeries(q_, num_series, steps, [&]() { return one_series; }));
  Matrix mat;
  for (Series& series : results) {
    if (series.points.empty()) continue;
    q_.current_samples += static_cast<int64_t>(series.points.size());
    if (q_.current_samples > q_.options.max_samples) return TooManySamples();
    mat.push_back(std::move(series));
  }
  return mat;
}

absl::StatusOr<Matrix> Evaluator::EvalMatrixSelector(const MatrixSelector& ms) {
  const auto& vs = static_cast<const VectorSelector&>(*ms.vector_selector);
  const SelectedSeries* sel = SeriesOf(vs);
  if (sel == nullptr) return absl::InternalError("matrix selector was not populated");
  const int64_t max_samples = q_.options.max_samples;
  const int64_t maxt = WrapSub(start_, vs.offset_ms);
  const int64_t mint = WrapSub(maxt, ms.range_ms);
  Matrix mat;
  for (const tsdb::SeriesChunks& s : sel->series) {
    SEXTANT_RETURN_IF_ERROR(q_.CheckDeadline());
    Series out{s.labels, {}};
    PointCursor cur(s, std::max(mint, sel->mint), std::min(maxt, sel->maxt));
    for (; cur.Valid(); cur.Advance()) {
      if (IsStaleNaN(cur.V())) continue;
      if (q_.current_samples >= max_samples) return TooManySamples();
      out.points.push_back(Point{cur.T(), cur.V()});
      ++q_.current_samples;
    }
    SEXTANT_RETURN_IF_ERROR(cur.status());
    if (!out.points.empty()) mat.push_back(std::move(out));
  }
  return mat;
}

absl::StatusOr<Matrix> Evaluator::EvalSubquery(SubqueryExpr& sq) {
  const int64_t offset = sq.offset_ms;
  const int64_t range = sq.range_ms;
  int64_t step = sq.step_ms;
  if (step == 0) step = absl::ToInt64Milliseconds(q_.options.default_subquery_step);
  if (step <= 0) return absl::InvalidArgumentError("subquery step must be positive");
  // The first step-aligned time at or after start - offset - range (wrapping, as in Go).
  const int64_t first = WrapSub(WrapSub(start_, offset), range);
  int64_t sub_start = WrapMul(step, first / step);
  if (sub_start < first) sub_start = WrapAdd(sub_start, step);
  if (sub_start != start_) SetOffsetForAtModifier(sub_start, *sq.expr);
  Evaluator sub(q_, sub_start, WrapSub(end_, offset), step);
  return sub.Eval(*sq.expr);
}

absl::StatusOr<Matrix> Evaluator::EvalStepInvariant(StepInvariantExpr& e) {
  Expr& inner = *e.expr;
  if (inner.kind == ExprKind::kNumberLiteral || inner.kind == ExprKind::kStringLiteral) {
    return Eval(inner);
  }
  Evaluator once(q_, start_, start_, interval_);
  SEXTANT_ASSIGN_OR_RETURN(Matrix mat, once.Eval(inner));
  if (inner.kind == ExprKind::kMatrixSelector || inner.kind == ExprKind::kSubquery) {
    // A range vector's points keep their own timestamps: nothing to repeat. (As in Prometheus,
    // a parenthesized one is not recognized and fails below unless it has one point.)
    return mat;
  }
  const int64_t max_samples = q_.options.max_samples;
  for (Series& s : mat) {
    if (s.points.size() != 1) return EvalError("unexpected number of samples");
    const double v = s.points[0].v;
    int64_t ts = start_;
    while (NextStep(ts, interval_, end_)) {
      s.points.push_back(Point{ts, v});
      if (++q_.current_samples > max_samples) return TooManySamples();
    }
  }
  return mat;
}

absl::StatusOr<Matrix> Evaluator::EvalUnary(UnaryExpr& un) {
  SEXTANT_ASSIGN_OR_RETURN(Matrix mat, Eval(*un.expr));
  if (un.negate) {
    for (Series& s : mat) {
      s.metric = DropMetricName(s.metric);
      for (Point& p : s.points) p.v = -p.v;
    }
    if (ContainsSameLabelset(mat)) {
      return EvalError("vector cannot contain metrics with the same labelset");
    }
  }
  return mat;
}

absl::StatusOr<Matrix> Evaluator::EvalTimestampOfSelector(Call& call, const VectorSelector& vs) {
  FunctionImpl impl = FindFunctionImpl(call.func->name);
  const SelectedSeries* sel = SeriesOf(vs);
  if (sel == nullptr) return absl::InternalError("vector selector was not populated");
  const int64_t lookback = q_.lookback_ms;
  // Per series, a cursor that each step moves forward to the sample that step selects. Samples
  // are only held for the step at hand and counted against the limit as they are selected, as
  // Prometheus's vectorSelector does, so memory stays within the sample limit.
  struct Cursor {
    std::optional<PointCursor> cur;
    int64_t ref = std::numeric_limits<int64_t>::min();  // the last read time
    bool has_prev = false;
    int64_t prev_t = 0;
    double prev_v = 0;
  };
  std::vector<Cursor> cursors(sel->series.size());
  std::any state;
  Vector vec;
  FunctionArg arg;
  arg.vector = &vec;
  const int64_t max_samples = q_.options.max_samples;
  return RangeEval(
      nullptr,
      [&](const StepInput&, int64_t ts, Vector& out) -> absl::Status {
        // With `@`, Prometheus sets the selector's offset at every step to the distance to the @
        // time, as a time.Duration (nanoseconds, wrapping); the offset as written then only
        // bounds the selected time range.
        const int64_t offset = vs.timestamp_ms.has_value()
                                   ? NsToMs(MsToNs(WrapSub(ts, *vs.timestamp_ms)))
                                   : vs.offset_ms;
        const int64_t ref = WrapSub(ts, offset);
        vec.clear();
        for (size_t si = 0; si < cursors.size(); ++si) {
          SEXTANT_RETURN_IF_ERROR(q_.Tick());
          Cursor& c = cursors[si];
          if (!c.cur.has_value() || ref < c.ref) {  // a read time that went back: start over
            c.cur.emplace(sel->series[si], sel->mint, sel->maxt);
            c.has_prev = false;
          }
          c.ref = ref;
          PointCursor& cur = *c.cur;
          while (cur.Valid() && cur.T() <= ref) {
            c.has_prev = true;
            c.prev_t = cur.T();
            c.prev_v = cur.V();
            cur.Advance();
          }
          SEXTANT_RETURN_IF_ERROR(cur.status());
          if (!c.has_prev || c.prev_t < WrapSub(ref, lookback) || IsStaleNaN(c.prev_v)) continue;
          vec.push_back(Sample{sel->series[si].labels, c.prev_t, c.prev_v});
          if (++q_.current_samples > max_samples) return TooManySamples();
        }
        FunctionContext ctx{call, ts, 0, 0, state, out};
        return impl(absl::MakeConstSpan(&arg, 1), ctx);
      },
      {});
}

absl::StatusOr<Matrix> Evaluator::EvalCall(Call& call) {
  if (call.func == nullptr) return absl::InternalError("call without a function");
  const std::string& name = call.func->name;
  FunctionImpl impl = FindFunctionImpl(name);
  if (impl == nullptr) {
    return absl::UnimplementedError(absl::StrCat("function ", name, "() is not implemented"));
  }
  const size_t n = call.args.size();

  if (name == "timestamp" && n == 1) {
    Expr* arg = Unwrap(call.args[0].get());
    if (arg->kind == ExprKind::kVectorSelector) {
      return EvalTimestampOfSelector(call, static_cast<const VectorSelector&>(*arg));
    }
  }

  // A range-vector argument (a matrix selector or a subquery)?
  int matrix_index = -1;
  Matrix subquery_result;
  int64_t subquery_samples = 0;
  for (size_t i = 0; i < n; ++i) {
    Expr* a = Unwrap(call.args[i].get());
    if (a->kind == ExprKind::kMatrixSelector) {
      matrix_index = static_cast<int>(i);
      break;
    }
    if (a->kind == ExprKind::kSubquery) {
      matrix_index = static_cast<int>(i);
      SEXTANT_ASSIGN_OR_RETURN(subquery_result, Eval(*a));
      for (const Series& s : subquery_result) {
        subquery_samples += static_cast<int64_t>(s.points.size());
      }
      break;
    }
  }

  std::vector<FunctionArg> fargs(n);
  for (size_t i = 0; i < n; ++i) {
    if (call.args[i]->Type() == ValueType::kString) fargs[i].string = StringArg(call.args[i].get());
  }
  std::any state;

  if (matrix_index < 0) {
    std::vector<Expr*> exprs;
    exprs.reserve(n);
    for (auto& a : call.args) exprs.push_back(a.get());
    return RangeEval(
        nullptr,
        [&](const StepInput& in, int64_t ts, Vector& out) -> absl::Status {
          for (size_t i = 0; i < n; ++i) {
            switch (call.args[i]->Type()) {
              case ValueType::kScalar:
                fargs[i].scalar = ScalarAt(in.vectors[i]);
                break;
              case ValueType::kVector:
                fargs[i].vector = &in.vectors[i];
                break;
              default:
                break;
            }
          }
          FunctionContext ctx{call, ts, 0, 0, state, out};
          return impl(fargs, ctx);
        },
        exprs);
  }

  // Evaluate the other arguments once over all steps.
  std::vector<Matrix> others(n);
  for (size_t i = 0; i < n; ++i) {
    if (static_cast<int>(i) == matrix_index) continue;
    if (call.args[i]->Type() == ValueType::kString) continue;
    SEXTANT_ASSIGN_OR_RETURN(others[i], Eval(*call.args[i]));
  }

  Expr* marg = Unwrap(call.args[matrix_index].get());
  const SelectedSeries* sel = nullptr;
  int64_t offset = 0;
  int64_t range = 0;
  size_t num_series = 0;
  if (marg->kind == ExprKind::kMatrixSelector) {
    const auto& ms = static_cast<const MatrixSelector&>(*marg);
    const auto& vs = static_cast<const VectorSelector&>(*ms.vector_selector);
    sel = SeriesOf(vs);
    if (sel == nullptr) return absl::InternalError("matrix selector was not populated");
    offset = vs.offset_ms;
    range = ms.range_ms;
    num_series = sel->series.size();
  } else {
    const auto& sq = static_cast<const SubqueryExpr&>(*marg);
    // With `@`, as Prometheus's evalSubquery: the offset as written plus the distance from the
    // @ time, as a time.Duration (nanoseconds, wrapping).
    offset = sq.timestamp_ms.has_value()
                 ? NsToMs(WrapAdd(MsToNs(sq.original_offset_ms),
                                  MsToNs(WrapSub(start_, *sq.timestamp_ms))))
                 : sq.offset_ms;
    range = sq.range_ms;
    num_series = subquery_result.size();
  }

  const int64_t max_samples = q_.options.max_samples;
  const bool keep_name = name == "last_over_time";
  // Series are independent: workers compute them in parallel (ForEachSeries), each with its own
  // window buffer and function state; the sample accounting is replayed in series order after,
  // so the outcome does not depend on the split.
  struct Worker {
    std::vector<FunctionArg> fargs;
    std::any state;
    std::vector<Point> buf;
    Vector out;
  };
  std::vector<Series> results(num_series);
  std::vector<int64_t> peak_window(num_series, 0);
  std::vector<int64_t> last_window(num_series, 0);
  auto one_series = [&](size_t si, Worker& w) -> absl::Status {
    const prom::Labels& labels =
        sel != nullptr ? sel->series[si].labels : subquery_result[si].metric;
    Series& ss = results[si];
    std::optional<PointCursor> cur;
    absl::Span<const Point> points;
    // A stored series' points are decoded once into `buf` as the window reaches them; a
    // subquery's points are already in memory and are windowed in place.
    if (sel != nullptr) {
      w.buf.clear();
      cur.emplace(sel->series[si], sel->mint, sel->maxt);
    } else {
      points = subquery_result[si].points;
    }
    size_t lo = 0;
    size_t hi = 0;
    size_t step = 0;
    int64_t peak = 0;
    int64_t last = 0;
    bool more = start_ <= end_;
    for (int64_t ts = start_; more; more = NextStep(ts, interval_, end_), ++step) {
      for (size_t j = 0; j < n; ++j) {
        if (static_cast<int>(j) == matrix_index || call.args[j]->Type() != ValueType::kScalar) {
          continue;
        }
        const Matrix& m = others[j];
        w.fargs[j].scalar = !m.empty() && step < m[0].points.size()
                                ? m[0].points[step].v
                                : std::numeric_limits<double>::quiet_NaN();
      }
      const int64_t maxt = WrapSub(ts, offset);
      const int64_t mint = WrapSub(maxt, range);
      if (cur.has_value()) {
        for (; cur->Valid() && cur->T() <= maxt; cur->Advance()) {
          if (cur->T() < mint || IsStaleNaN(cur->V())) continue;
          w.buf.push_back(Point{cur->T(), cur->V()});
        }
        if (lo > 4096 && lo * 2 > w.buf.size()) {  // keep the buffer to about the window
          w.buf.erase(w.buf.begin(), w.buf.begin() + static_cast<std::ptrdiff_t>(lo));
          hi -= lo;
          lo = 0;
        }
        points = w.buf;
      }
      while (lo < points.size() && points[lo].t < mint) ++lo;
      hi = std::max(hi, lo);
      while (hi < points.size() && points[hi].t <= maxt) ++hi;
      last = static_cast<int64_t>(hi - lo);
      peak = std::max(peak, last);
      if (last == 0) continue;
      w.fargs[matrix_index].points = points.subspan(lo, hi - lo);
      w.out.clear();
      FunctionContext ctx{call, ts, mint, maxt, w.state, w.out};
      SEXTANT_RETURN_IF_ERROR(impl(w.fargs, ctx));
      if (!w.out.empty()) ss.points.push_back(Point{ts, w.out[0].v});
    }
    if (cur.has_value()) SEXTANT_RETURN_IF_ERROR(cur->status());
    peak_window[si] = peak;
    last_window[si] = last;
    if (!ss.points.empty()) ss.metric = keep_name ? labels : DropMetricName(labels);
    return absl::OkStatus();
  };
  SEXTANT_RETURN_IF_ERROR(ForEachSeries(q_, num_series, NumSteps(), [&]() {
    auto w = std::make_unique<Worker>();
    w->fargs = fargs;
    return [&one_series, w = std::move(w)](size_t si) { return one_series(si, *w); };
  }));
  // Prometheus's accounting, series by series: the window held while a series is computed,
  // then its points while its last window is still held.
  Matrix mat;
  for (size_t si = 0; si < num_series; ++si) {
    const auto points = static_cast<int64_t>(results[si].points.size());
    if (q_.current_samples + peak_window[si] > max_samples ||
        (points > 0 && q_.current_samples + last_window[si] + points > max_samples)) {
      return TooManySamples();
    }
    if (points == 0) continue;
    q_.current_samples += points;
    mat.push_back(std::move(results[si]));
  }
  q_.current_samples -= subquery_samples;

  if (name == "absent_over_time") {
    // One series with 1 at the steps where no input series had a value.
    const int64_t steps = NumSteps();
    for (const Series& s : mat) {
      if (static_cast<int64_t>(s.points.size()) == steps) return Matrix();
    }
    absl::flat_hash_set<int64_t> seen;
    for (size_t i = 0; i < mat.size(); ++i) {
      for (const Point& p : mat[i].points) seen.insert(p.t);
      if (i > 0 && static_cast<int64_t>(seen.size()) == steps) return Matrix();
    }
    Series absent{LabelsForAbsent(marg), {}};
    bool more = start_ <= end_;
    for (int64_t ts = start_; more; more = NextStep(ts, interval_, end_)) {
      if (!seen.contains(ts)) absent.points.push_back(Point{ts, 1});
    }
    Matrix res;
    if (!absent.points.empty()) res.push_back(std::move(absent));
    return res;
  }
  if (ContainsSameLabelset(mat)) {
    return EvalError("vector cannot contain metrics with the same labelset");
  }
  return mat;
}

absl::StatusOr<Matrix> Evaluator::EvalAggregate(AggregateExpr& agg) {
  std::vector<std::string> grouping = agg.grouping;
  std::sort(grouping.begin(), grouping.end());
  const bool without = agg.without;
  SeriesKeyFn key_fn = [&grouping, without](const prom::Labels& l) {
    return GroupingKey(l, grouping, without);
  };
  const AggregateOp op = agg.op;
  Expr* param = agg.param != nullptr ? Unwrap(agg.param.get()) : nullptr;
  if (param != nullptr && param->kind == ExprKind::kStringLiteral) {
    const std::string label = static_cast<const StringLiteral*>(param)->value;
    return RangeEval(&key_fn,
                     [&](const StepInput& in, int64_t, Vector& out) {
                       return Aggregate(op, grouping, without, 0, label, in.vectors[0], in.keys[0],
                                        out);
                     },
                     {agg.expr.get()});
  }
  const bool has_param = agg.param != nullptr;
  return RangeEval(&key_fn,
                   [&](const StepInput& in, int64_t, Vector& out) {
                     const double p = has_param ? ScalarAt(in.vectors[0]) : 0;
                     return Aggregate(op, grouping, without, p, "", in.vectors[1], in.keys[1], out);
                   },
                   {agg.param.get(), agg.expr.get()});
}

absl::StatusOr<Matrix> Evaluator::EvalBinary(BinaryExpr& bin) {
  const ValueType lt = bin.lhs->Type();
  const ValueType rt = bin.rhs->Type();
  std::vector<Expr*> exprs = {bin.lhs.get(), bin.rhs.get()};
  BinopCache cache;
  if (lt == ValueType::kScalar && rt == ValueType::kScalar) {
    return RangeEval(
        nullptr,
        [&bin](const StepInput& in, int64_t, Vector& out) {
          out.push_back(
              Sample{prom::Labels(), 0,
                     ScalarBinop(bin.op, ScalarAt(in.vectors[0]), ScalarAt(in.vectors[1]))});
          return absl::OkStatus();
        },
        exprs);
  }
  if (lt == ValueType::kVector && rt == ValueType::kVector) {
    const VectorMatching& matching = bin.matching;
    SeriesKeyFn key_fn = [&matching](const prom::Labels& l) { return MatchSignature(matching, l); };
    return RangeEval(
        &key_fn,
        [&](const StepInput& in, int64_t, Vector& out) { return VectorBinop(bin, in, cache, out); },
        exprs);
  }
  if ((lt == ValueType::kVector && rt == ValueType::kScalar) ||
      (lt == ValueType::kScalar && rt == ValueType::kVector)) {
    const bool scalar_left = lt == ValueType::kScalar;
    const size_t vec = scalar_left ? 1 : 0;  // the vector operand; the other is the scalar
    return RangeEval(
        nullptr,
        [&, scalar_left, vec](const StepInput& in, int64_t, Vector& out) {
          return VectorScalarBinop(bin, in.vectors[vec], in.series[vec],
                                   ScalarAt(in.vectors[1 - vec]), scalar_left, cache, out);
        },
        exprs);
  }
  return absl::InternalError(
      absl::StrCat("binary operation between ", ValueTypeName(lt), " and ", ValueTypeName(rt)));
}

}  // namespace sextant::promql::internal
