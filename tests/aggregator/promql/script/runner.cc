#include "tests/aggregator/promql/script/runner.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "aggregator/promql/ast.h"
#include "aggregator/promql/parser.h"
#include "aggregator/promql/value.h"
#include "prom/matcher.h"

namespace sextant::promql::script {
namespace {

constexpr int64_t kMinuteMs = 60'000;
// How many entries of a result a failure message shows.
constexpr size_t kMaxShown = 20;

std::string FormatValue(double v) {
  if (std::isnan(v)) return IsStaleNaN(v) ? "NaN(stale)" : "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

std::string FormatMs(int64_t ms) {
  if (ms % kMinuteMs == 0) return absl::StrCat(ms / kMinuteMs, "m");
  if (ms % 1000 == 0) return absl::StrCat(ms / 1000, "s");
  return absl::StrCat(ms, "ms");
}

std::string FormatVector(const Vector& v) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < v.size() && i < kMaxShown; ++i) {
    parts.push_back(absl::StrCat(v[i].metric.ToString(), " => ", FormatValue(v[i].v)));
  }
  if (v.size() > kMaxShown) parts.push_back(absl::StrCat("... (", v.size(), " in all)"));
  return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
}

std::string FormatPoints(const std::vector<Point>& points) {
  std::vector<std::string> parts;
  for (const Point& p : points) parts.push_back(absl::StrCat(FormatValue(p.v), " @", p.t));
  return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
}

std::string FormatMatrix(const Matrix& m) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < m.size() && i < kMaxShown; ++i) {
    parts.push_back(absl::StrCat(m[i].metric.ToString(), " => ", FormatPoints(m[i].points)));
  }
  if (m.size() > kMaxShown) parts.push_back(absl::StrCat("... (", m.size(), " in all)"));
  return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
}

std::string FormatResult(const Value& value) {
  if (const auto* s = std::get_if<Scalar>(&value))
    return absl::StrCat("scalar ", FormatValue(s->v));
  if (const auto* s = std::get_if<String>(&value)) return absl::StrCat("string \"", s->v, "\"");
  if (const auto* v = std::get_if<Vector>(&value)) return absl::StrCat("vector ", FormatVector(*v));
  return absl::StrCat("matrix ", FormatMatrix(std::get<Matrix>(value)));
}

std::string FormatSeriesValues(const std::vector<SeriesValue>& values) {
  std::vector<std::string> parts;
  for (const SeriesValue& v : values) parts.push_back(v.has_value() ? FormatValue(*v) : "_");
  return absl::StrJoin(parts, " ");
}

std::string FormatExpected(const EvalCommand& eval) {
  if (eval.expected_scalar.has_value())
    return absl::StrCat("scalar ", FormatValue(*eval.expected_scalar));
  std::vector<std::string> parts;
  for (size_t i = 0; i < eval.expected.size() && i < kMaxShown; ++i) {
    parts.push_back(absl::StrCat(eval.expected[i].labels.ToString(), " => ",
                                 FormatSeriesValues(eval.expected[i].values)));
  }
  if (eval.expected.size() > kMaxShown) {
    parts.push_back(absl::StrCat("... (", eval.expected.size(), " in all)"));
  }
  return absl::StrCat("[", absl::StrJoin(parts, ", "), "]");
}

// The functions whose value changes with the evaluation time even when their arguments do not
// (Prometheus's AtModifierUnsafeFunctions): such evals get no `@` variants.
bool IsTimeDependent(Expr& root) {
  static const absl::flat_hash_set<absl::string_view> kUnsafe = {
      "days_in_month", "day_of_month", "day_of_week",    "day_of_year", "hour",     "minute",
      "month",         "year",         "predict_linear", "time",        "timestamp"};
  bool found = false;
  Inspect(root, [&](Expr& node, const std::vector<Expr*>&) {
    if (node.kind != ExprKind::kCall) return;
    const Call& call = static_cast<const Call&>(node);
    if (call.func != nullptr && kUnsafe.contains(call.func->name)) found = true;
  });
  return found;
}

// Sets `@ ts` on every selector and subquery that has no `@ <time>` and is not inside a
// subquery that has one (after this, every outermost subquery has one).
void StampAt(Expr& root, int64_t ts) {
  Inspect(root, [ts](Expr& node, const std::vector<Expr*>& path) {
    for (const Expr* p : path) {
      if (p->kind == ExprKind::kSubquery &&
          static_cast<const SubqueryExpr*>(p)->at == AtModifier::kTimestamp) {
        return;
      }
    }
    if (node.kind == ExprKind::kVectorSelector) {
      auto& vs = static_cast<VectorSelector&>(node);
      if (vs.at != AtModifier::kTimestamp) {
        vs.at = AtModifier::kTimestamp;
        vs.timestamp_ms = ts;
      }
    } else if (node.kind == ExprKind::kSubquery) {
      auto& sq = static_cast<SubqueryExpr&>(node);
      if (sq.at != AtModifier::kTimestamp) {
        sq.at = AtModifier::kTimestamp;
        sq.timestamp_ms = ts;
      }
    }
  });
}

// The expected series by labels, with their 1-based position; a series listed twice keeps its
// last line (as Prometheus's map does).
struct ExpectedEntry {
  int pos = 0;
  const SeriesLine* series = nullptr;
};
absl::flat_hash_map<prom::Labels, ExpectedEntry> ExpectedByLabels(const EvalCommand& eval) {
  absl::flat_hash_map<prom::Labels, ExpectedEntry> out;
  for (size_t i = 0; i < eval.expected.size(); ++i) {
    out[eval.expected[i].labels] = ExpectedEntry{static_cast<int>(i) + 1, &eval.expected[i]};
  }
  return out;
}

// Prometheus's compareResult for an instant result; the failure's description, or nullopt.
std::optional<std::string> CompareVector(const Vector& got, const EvalCommand& eval) {
  const absl::flat_hash_map<prom::Labels, ExpectedEntry> expected = ExpectedByLabels(eval);
  absl::flat_hash_set<prom::Labels> seen;
  for (size_t pos = 0; pos < got.size(); ++pos) {
    const Sample& s = got[pos];
    auto it = expected.find(s.metric);
    if (it == expected.end()) {
      return absl::StrCat("unexpected metric ", s.metric.ToString(), " in result");
    }
    const ExpectedEntry& e = it->second;
    if (eval.ordered && e.pos != static_cast<int>(pos) + 1) {
      return absl::StrCat("expected metric ", s.metric.ToString(), " at position ", e.pos,
                          " but was at ", pos + 1);
    }
    if (e.series->values.empty() || !e.series->values[0].has_value()) {
      return absl::StrCat("expected line ", e.series->line, " has no value");
    }
    const double want = *e.series->values[0];
    if (!AlmostEqual(want, s.v)) {
      return absl::StrCat("expected ", FormatValue(want), " for ", s.metric.ToString(), " but got ",
                          FormatValue(s.v));
    }
    seen.insert(s.metric);
  }
  if (eval.expected_scalar.has_value()) {
    return absl::StrCat("expected scalar ", FormatValue(*eval.expected_scalar),
                        " not found (got an empty vector)");
  }
  for (const auto& [labels, e] : expected) {
    if (!seen.contains(labels)) {
      return absl::StrCat("expected metric ", labels.ToString(), " with ",
                          FormatSeriesValues(e.series->values), " not found");
    }
  }
  return std::nullopt;
}

std::optional<std::string> CompareScalar(double got, const EvalCommand& eval) {
  if (!eval.expected_scalar.has_value()) {
    return absl::StrCat("expected a vector of ", eval.expected.size(), " series but got scalar ",
                        FormatValue(got));
  }
  if (!AlmostEqual(*eval.expected_scalar, got)) {
    return absl::StrCat("expected scalar ", FormatValue(*eval.expected_scalar), " but got ",
                        FormatValue(got));
  }
  return std::nullopt;
}

std::optional<std::string> CompareInstant(const Value& value, const EvalCommand& eval) {
  if (std::holds_alternative<Matrix>(value)) {
    return std::string("received range result on instant evaluation");
  }
  if (const auto* s = std::get_if<String>(&value)) {
    return absl::StrCat("unexpected string result \"", s->v, "\"");
  }
  if (const auto* s = std::get_if<Scalar>(&value)) return CompareScalar(s->v, eval);
  return CompareVector(std::get<Vector>(value), eval);
}

std::optional<std::string> CheckSorted(const Matrix& m) {
  for (size_t i = 0; i + 1 < m.size(); ++i) {
    if (prom::Labels::Compare(m[i].metric, m[i + 1].metric) > 0) {
      return absl::StrCat("matrix results should always be sorted by labels, but series ", i + 1,
                          " ", m[i + 1].metric.ToString(), " sorts before series ", i, " ",
                          m[i].metric.ToString());
    }
  }
  return std::nullopt;
}

// The v2.53 runner's comparison of a range eval's matrix.
std::optional<std::string> CompareRange(const Matrix& got, const EvalCommand& eval,
                                        bool check_sorted) {
  if (check_sorted) {
    if (std::optional<std::string> err = CheckSorted(got)) return err;
  }
  const absl::flat_hash_map<prom::Labels, ExpectedEntry> expected = ExpectedByLabels(eval);
  absl::flat_hash_set<prom::Labels> seen;
  for (const Series& s : got) {
    auto it = expected.find(s.metric);
    if (it == expected.end()) {
      return absl::StrCat("unexpected metric ", s.metric.ToString(), " in result");
    }
    seen.insert(s.metric);
    std::vector<Point> want;
    const std::vector<SeriesValue>& values = it->second.series->values;
    for (size_t i = 0; i < values.size(); ++i) {
      const int64_t t = eval.start_ms + static_cast<int64_t>(i) * eval.step_ms;
      if (t > eval.end_ms) {
        return absl::StrCat("expected ", values.size(), " points for ", s.metric.ToString(),
                            ", but query time range cannot return this many points");
      }
      if (values[i].has_value()) want.push_back(Point{t, *values[i]});
    }
    if (want.size() != s.points.size()) {
      return absl::StrCat("expected ", want.size(), " float points for ", s.metric.ToString(),
                          " but got ", FormatPoints(s.points));
    }
    for (size_t i = 0; i < want.size(); ++i) {
      if (want[i].t != s.points[i].t) {
        return absl::StrCat("expected point ", i, " of ", s.metric.ToString(), " at t=", want[i].t,
                            " but it is at t=", s.points[i].t, " (got ", FormatPoints(s.points),
                            ")");
      }
      if (!AlmostEqual(want[i].v, s.points[i].v)) {
        return absl::StrCat("expected point ", i, " (t=", want[i].t, ") of ", s.metric.ToString(),
                            " to be ", FormatValue(want[i].v), " but got ",
                            FormatValue(s.points[i].v), " (got ", FormatPoints(s.points), ")");
      }
    }
  }
  for (const auto& [labels, e] : expected) {
    if (!seen.contains(labels))
      return absl::StrCat("expected metric ", labels.ToString(), " not found");
  }
  if (eval.expected_scalar.has_value() && got.empty()) {
    return absl::StrCat("expected scalar ", FormatValue(*eval.expected_scalar), " not found");
  }
  return std::nullopt;
}

std::string EvalHeader(const EvalCommand& eval) {
  const char* mod = eval.fail ? "eval_fail" : eval.ordered ? "eval_ordered" : "eval";
  if (eval.range) {
    return absl::StrCat(mod, " range from ", FormatMs(eval.start_ms), " to ", FormatMs(eval.end_ms),
                        " step ", FormatMs(eval.step_ms), " ", eval.expr);
  }
  return absl::StrCat(mod, " instant at ", FormatMs(eval.at_ms), " ", eval.expr);
}

}  // namespace

EngineOptions ScriptEngineOptions() {
  EngineOptions o;
  o.lookback_delta = absl::Minutes(5);
  o.max_samples = 10000;
  o.timeout = absl::Seconds(100);
  o.default_subquery_step = absl::Minutes(1);
  return o;
}

std::string DefaultTestdataDir() {
  const char* env = getenv("PROMQL_TESTDATA");
  if (env != nullptr && *env != '\0') return env;
  const std::string in_tree = ::sextant::testing::SourcePath("tests/testdata/promql");
  std::error_code ec;
  if (std::filesystem::exists(in_tree + "/v2.42.0", ec)) return in_tree;
  return "/work/shared/promql-testdata";
}

ScriptRunner::ScriptRunner(std::string file, RunOptions options)
    : file_(std::move(file)), options_(options) {}

ScriptRunner::~ScriptRunner() {
  engine_.reset();
  queryable_.reset();
  db_.reset();
}

absl::Status ScriptRunner::Reset() {
  engine_.reset();
  queryable_.reset();
  db_.reset();
  histogram_series_.clear();
  load_error_ = absl::OkStatus();
  tsdb::DbOptions o;
  o.dir = root_.Path(absl::StrCat("db", generation_++));
  o.fsync = FsyncPolicy::kNever;
  o.wal_compression = false;
  // One block range covering all time: loads may go back to 0 after later samples, and nothing
  // is ever cut into blocks (the background loops are not started).
  o.block_range_ms = int64_t{1} << 50;
  // The scripts' samples sit near Unix time 0; allow any time up to a century ahead.
  o.max_future_ms = int64_t{100} * 365 * 24 * 3600 * 1000;
  o.retention_time = absl::ZeroDuration();
  absl::StatusOr<std::unique_ptr<tsdb::Db>> db = tsdb::Db::Open(o);
  if (!db.ok()) return db.status();
  db_ = std::move(*db);
  queryable_ = std::make_unique<DbQueryable>(*db_);
  engine_ = std::make_unique<Engine>(*queryable_, ScriptEngineOptions());
  return absl::OkStatus();
}

absl::Status ScriptRunner::Apply(const Command& command) {
  if (db_ == nullptr || std::holds_alternative<ClearCommand>(command.cmd)) {
    if (absl::Status s = Reset(); !s.ok()) {
      load_error_ = s;
      return s;
    }
    if (std::holds_alternative<ClearCommand>(command.cmd)) return absl::OkStatus();
  }
  const auto* load = std::get_if<LoadCommand>(&command.cmd);
  if (load == nullptr) return absl::OkStatus();
  tsdb::Appender app = db_->NewAppender();
  for (const SeriesLine& series : load->series) {
    if (series.native_histogram) {
      histogram_series_.push_back(series.labels);
      continue;
    }
    absl::StatusOr<tsdb::SeriesRef> ref = app.GetOrCreate(series.labels);
    if (!ref.ok()) {
      load_error_ =
          absl::Status(ref.status().code(),
                       absl::StrCat(file_, ":", series.line, ": load series ",
                                    series.labels.ToString(), ": ", ref.status().message()));
      return load_error_;
    }
    for (size_t i = 0; i < series.values.size(); ++i) {
      if (series.values[i].has_value()) {
        app.Add(*ref, static_cast<int64_t>(i) * load->step_ms, *series.values[i]);
      }
    }
  }
  absl::StatusOr<tsdb::CommitResult> committed = app.Commit();
  if (!committed.ok()) {
    load_error_ = absl::Status(
        committed.status().code(),
        absl::StrCat(file_, ":", command.line, ": load commit: ", committed.status().message()));
    return load_error_;
  }
  const tsdb::RejectCounts& r = committed->rejected;
  if (r.total() > 0) {
    load_error_ = absl::InternalError(absl::StrCat(
        file_, ":", command.line, ": load: the storage refused ", r.total(),
        " samples (out of order ", r.out_of_order, ", duplicate ", r.duplicate_differ,
        ", out of bounds ", r.out_of_bounds, ", too far in future ", r.too_far_in_future, ")"));
    return load_error_;
  }
  return absl::OkStatus();
}

EvalResult ScriptRunner::Evaluate(const Command& command) {
  const EvalCommand& eval = std::get<EvalCommand>(command.cmd);
  EvalResult r;
  r.line = command.line;
  r.expr = eval.expr;
  const std::string header = absl::StrCat(file_, ":", command.line, ": ", EvalHeader(eval));
  auto fail = [&](absl::string_view check, absl::string_view detail) {
    r.outcome = Outcome::kFailed;
    r.message = absl::StrCat(header, "\n  check: ", check, "\n  ", detail);
    return r;
  };
  if (eval.native_histogram) {
    r.outcome = Outcome::kSkipped;
    r.message = "native histograms: expects a native histogram result";
    return r;
  }
  if (db_ == nullptr) {
    if (absl::Status s = Reset(); !s.ok()) return fail("storage", s.ToString());
  }
  if (!load_error_.ok()) return fail("load", load_error_.ToString());

  absl::StatusOr<ExprPtr> parsed = ParseExpr(eval.expr);
  if (!parsed.ok()) {
    // An expression that does not parse but names a native-histogram metric counts as skipped
    // (newer functions over histograms).
    for (const prom::Labels& h : histogram_series_) {
      const absl::string_view name = h.MetricName();
      if (!name.empty() && absl::StrContains(eval.expr, name)) {
        r.outcome = Outcome::kSkipped;
        r.message = absl::StrCat("native histograms: does not parse (", parsed.status().message(),
                                 ") and names native-histogram series ", h.ToString());
        return r;
      }
    }
    return fail("parse", parsed.status().ToString());
  }
  if (!histogram_series_.empty()) {
    std::string reads;
    Inspect(**parsed, [&](Expr& node, const std::vector<Expr*>&) {
      if (node.kind != ExprKind::kVectorSelector || !reads.empty()) return;
      const auto& vs = static_cast<const VectorSelector&>(node);
      for (const prom::Labels& h : histogram_series_) {
        if (prom::MatchesAll(vs.matchers, h)) {
          reads = h.ToString();
          break;
        }
      }
    });
    if (!reads.empty()) {
      r.outcome = Outcome::kSkipped;
      r.message = absl::StrCat("native histograms: reads native-histogram series ", reads);
      return r;
    }
  }

  // A fresh tree for each query (the engine consumes it), with `@ stamp` when set.
  auto make = [&](std::optional<int64_t> stamp) -> ExprPtr {
    absl::StatusOr<ExprPtr> e = ParseExpr(eval.expr);
    if (!e.ok()) return nullptr;
    if (stamp.has_value()) StampAt(**e, *stamp);
    return std::move(*e);
  };

  if (eval.range) {
    absl::StatusOr<QueryResult> res =
        engine_->RangeQuery(make(std::nullopt), eval.start_ms, eval.end_ms, eval.step_ms);
    if (!res.ok()) {
      if (eval.fail) return r;
      return fail("range query", absl::StrCat("unexpected error: ", res.status().ToString()));
    }
    if (eval.fail) {
      return fail("range query", absl::StrCat("expected an error, got ", FormatResult(res->value)));
    }
    const Matrix* m = std::get_if<Matrix>(&res->value);
    if (m == nullptr) return fail("range query", absl::StrCat("got ", FormatResult(res->value)));
    if (std::optional<std::string> err = CompareRange(*m, eval, options_.check_matrix_sorted)) {
      return fail("range query", absl::StrCat(*err, "\n  expected: ", FormatExpected(eval),
                                              "\n  got: matrix ", FormatMatrix(*m)));
    }
    return r;
  }

  // The instant checks: as written at t, then (unless time-dependent) with `@ t` at other times.
  struct Case {
    std::optional<int64_t> stamp;
    int64_t eval_ms;
  };
  const int64_t t = eval.at_ms;
  std::vector<Case> cases = {{std::nullopt, t}};
  if (!IsTimeDependent(**parsed)) {
    const std::vector<int64_t> times = t == 0 ? std::vector<int64_t>{-1000, 0, 1000}
                                              : std::vector<int64_t>{-10 * t, 0, t / 5, t, 10 * t};
    for (int64_t et : times) cases.push_back({t, et});
  }
  for (const Case& c : cases) {
    ExprPtr expr = make(c.stamp);
    const std::string rendered = c.stamp.has_value() ? expr->String() : eval.expr;
    const std::string what = c.stamp.has_value() ? absl::StrCat("with @ added (", rendered,
                                                                ") evaluated at ", c.eval_ms, "ms")
                                                 : std::string("as written");
    absl::StatusOr<QueryResult> res = engine_->InstantQuery(std::move(expr), c.eval_ms);
    if (!res.ok()) {
      if (eval.fail) continue;
      return fail(absl::StrCat("instant query ", what),
                  absl::StrCat("unexpected error: ", res.status().ToString()));
    }
    if (eval.fail) {
      return fail(absl::StrCat("instant query ", what),
                  absl::StrCat("expected an error, got ", FormatResult(res->value)));
    }
    if (std::optional<std::string> err = CompareInstant(res->value, eval)) {
      return fail(absl::StrCat("instant query ", what),
                  absl::StrCat(*err, "\n  expected: ", FormatExpected(eval),
                               "\n  got: ", FormatResult(res->value)));
    }
    // The same as a range query around the time, comparing the middle step.
    absl::StatusOr<QueryResult> range =
        engine_->RangeQuery(make(c.stamp), c.eval_ms - kMinuteMs, c.eval_ms + kMinuteMs, kMinuteMs);
    const std::string range_what =
        absl::StrCat("range query ", what, " (middle step of ", c.eval_ms - kMinuteMs, "..",
                     c.eval_ms + kMinuteMs, " step 1m)");
    if (!range.ok()) {
      return fail(range_what, absl::StrCat("unexpected error: ", range.status().ToString()));
    }
    if (eval.ordered) continue;  // range results have no defined order
    const Matrix* m = std::get_if<Matrix>(&range->value);
    if (m == nullptr) return fail(range_what, absl::StrCat("got ", FormatResult(range->value)));
    if (options_.check_matrix_sorted) {
      if (std::optional<std::string> err = CheckSorted(*m)) return fail(range_what, *err);
    }
    Vector middle;
    for (const Series& s : *m) {
      for (const Point& p : s.points) {
        if (p.t == c.eval_ms) {
          middle.push_back(Sample{s.metric, p.t, p.v});
          break;
        }
      }
    }
    std::optional<std::string> err;
    if (std::holds_alternative<Scalar>(res->value)) {
      err = middle.empty() ? std::optional<std::string>("no point at the middle step")
                           : CompareScalar(middle[0].v, eval);
    } else {
      err = CompareVector(middle, eval);
    }
    if (err.has_value()) {
      return fail(range_what, absl::StrCat(*err, "\n  expected: ", FormatExpected(eval),
                                           "\n  got (middle step): ", FormatVector(middle),
                                           "\n  got (matrix): ", FormatMatrix(*m)));
    }
  }
  return r;
}

FileResult RunScript(const Script& script, const RunOptions& options) {
  FileResult out;
  out.file = script.file;
  ScriptRunner runner(script.file, options);
  for (const Command& c : script.commands) {
    if (std::holds_alternative<EvalCommand>(c.cmd)) {
      out.evals.push_back(runner.Evaluate(c));
    } else {
      // A failed load is reported by the evals after it.
      runner.Apply(c).IgnoreError();
    }
  }
  return out;
}

}  // namespace sextant::promql::script
