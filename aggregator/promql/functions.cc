// PromQL's functions over float samples, as Prometheus 2.42's promql/functions.go and
// promql/quantile.go compute them. Native-histogram functions see no histograms here, so they
// return nothing.
#include "aggregator/promql/functions.h"

#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <numbers>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "aggregator/promql/evaluator.h"
#include "aggregator/promql/go_float.h"
#include "prom/matcher.h"

namespace sextant::promql::internal {
namespace {

using Args = absl::Span<const FunctionArg>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Appends one sample without labels: the value of a function over a range vector (the engine
// labels it) or a scalar result.
absl::Status EmitValue(FunctionContext& ctx, double v) {
  ctx.out.push_back(Sample{prom::Labels(), ctx.ts, v});
  return absl::OkStatus();
}

// Neumaier's variant of Kahan summation: adds `inc` to (sum, c).
void KahanSumInc(double inc, double& sum, double& c) {
  const double t = sum + inc;
  if (std::fabs(sum) >= std::fabs(inc)) {
    c += (sum - t) + inc;
  } else {
    c += (inc - t) + sum;
  }
  sum = t;
}

// ---------------------------------------------------------------------------------------------
// Instant-vector math: each sample's value mapped, the metric name dropped.

template <double (*F)(double)>
absl::Status Simple(Args args, FunctionContext& ctx) {
  for (const Sample& s : *args[0].vector) {
    ctx.out.push_back(Sample{DropMetricName(s.metric), ctx.ts, F(s.v)});
  }
  return absl::OkStatus();
}

double Abs(double v) { return std::fabs(v); }
double Ceil(double v) { return std::ceil(v); }
double Floor(double v) { return std::floor(v); }
double Exp(double v) { return std::exp(v); }
double Sqrt(double v) { return std::sqrt(v); }
double Ln(double v) { return std::log(v); }
double Log2(double v) { return std::log2(v); }
double Log10(double v) { return std::log10(v); }
double Sin(double v) { return std::sin(v); }
double Cos(double v) { return std::cos(v); }
double Tan(double v) { return std::tan(v); }
double Asin(double v) { return std::asin(v); }
double Acos(double v) { return std::acos(v); }
double Atan(double v) { return std::atan(v); }
double Sinh(double v) { return std::sinh(v); }
double Cosh(double v) { return std::cosh(v); }
double Tanh(double v) { return std::tanh(v); }
double Asinh(double v) { return std::asinh(v); }
double Acosh(double v) { return std::acosh(v); }
double Atanh(double v) { return std::atanh(v); }
double Rad(double v) { return v * std::numbers::pi / 180; }
double Deg(double v) { return v * 180 / std::numbers::pi; }
double Sgn(double v) {
  if (v < 0) return -1;
  if (v > 0) return 1;
  return v;  // 0, -0 and NaN stay as they are
}

// Go's math.Min and math.Max: an infinity towards the result wins over NaN, then NaN wins,
// and -0 is below +0.
double GoMin(double x, double y) {
  if ((std::isinf(x) && x < 0) || (std::isinf(y) && y < 0)) return -kInf;
  if (std::isnan(x) || std::isnan(y)) return kNaN;
  if (x == 0 && x == y) return std::signbit(x) ? x : y;
  return x < y ? x : y;
}

double GoMax(double x, double y) {
  if ((std::isinf(x) && x > 0) || (std::isinf(y) && y > 0)) return kInf;
  if (std::isnan(x) || std::isnan(y)) return kNaN;
  if (x == 0 && x == y) return std::signbit(x) ? y : x;
  return x > y ? x : y;
}

absl::Status Clamp(Args args, FunctionContext& ctx) {
  const double lo = args[1].scalar;
  const double hi = args[2].scalar;
  if (hi < lo) return absl::OkStatus();
  for (const Sample& s : *args[0].vector) {
    ctx.out.push_back(Sample{DropMetricName(s.metric), ctx.ts, GoMax(lo, GoMin(hi, s.v))});
  }
  return absl::OkStatus();
}

absl::Status ClampMax(Args args, FunctionContext& ctx) {
  const double hi = args[1].scalar;
  for (const Sample& s : *args[0].vector) {
    ctx.out.push_back(Sample{DropMetricName(s.metric), ctx.ts, GoMin(hi, s.v)});
  }
  return absl::OkStatus();
}

absl::Status ClampMin(Args args, FunctionContext& ctx) {
  const double lo = args[1].scalar;
  for (const Sample& s : *args[0].vector) {
    ctx.out.push_back(Sample{DropMetricName(s.metric), ctx.ts, GoMax(lo, s.v)});
  }
  return absl::OkStatus();
}

absl::Status Round(Args args, FunctionContext& ctx) {
  const double to_nearest = args.size() >= 2 ? args[1].scalar : 1;
  // Prometheus multiplies by the inverse (fewer rounding surprises); ties round up.
  const double inverse = 1.0 / to_nearest;
  for (const Sample& s : *args[0].vector) {
    const double v = std::floor(s.v * inverse + 0.5) / inverse;
    ctx.out.push_back(Sample{DropMetricName(s.metric), ctx.ts, v});
  }
  return absl::OkStatus();
}

absl::Status Timestamp(Args args, FunctionContext& ctx) {
  for (const Sample& s : *args[0].vector) {
    ctx.out.push_back(Sample{DropMetricName(s.metric), ctx.ts, static_cast<double>(s.t) / 1000});
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Scalars and conversions.

absl::Status Time(Args, FunctionContext& ctx) {
  return EmitValue(ctx, static_cast<double>(ctx.ts) / 1000);
}

absl::Status Pi(Args, FunctionContext& ctx) { return EmitValue(ctx, std::numbers::pi); }

absl::Status ScalarFn(Args args, FunctionContext& ctx) {
  const Vector& v = *args[0].vector;
  return EmitValue(ctx, v.size() == 1 ? v[0].v : kNaN);
}

absl::Status VectorFn(Args args, FunctionContext& ctx) { return EmitValue(ctx, args[0].scalar); }

// Sorts by value, NaNs last in both directions; equal values keep their order.
template <bool kDescending>
absl::Status Sort(Args args, FunctionContext& ctx) {
  const size_t first = ctx.out.size();
  ctx.out.insert(ctx.out.end(), args[0].vector->begin(), args[0].vector->end());
  std::stable_sort(ctx.out.begin() + first, ctx.out.end(), [](const Sample& a, const Sample& b) {
    if (std::isnan(a.v)) return false;
    if (std::isnan(b.v)) return true;
    return kDescending ? a.v > b.v : a.v < b.v;
  });
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// absent() and absent_over_time().

// The labels of an absent() result: those of the argument selector's equality matchers (not
// __name__), a label dropped when it has any other matcher or a second equality matcher.
prom::Labels AbsentLabels(const Call& call) {
  if (call.args.empty()) return prom::Labels();
  const Expr* e = call.args[0].get();
  while (e->kind == ExprKind::kStepInvariant) {
    e = static_cast<const StepInvariantExpr*>(e)->expr.get();
  }
  if (e->kind == ExprKind::kMatrixSelector) {
    e = static_cast<const MatrixSelector*>(e)->vector_selector.get();
  }
  if (e == nullptr || e->kind != ExprKind::kVectorSelector) return prom::Labels();
  const auto& matchers = static_cast<const VectorSelector*>(e)->matchers;
  prom::Labels out;
  absl::flat_hash_map<std::string, bool> has;
  for (const prom::Matcher& m : matchers) {
    if (m.name() == prom::kMetricNameLabel) continue;
    if (m.type() == prom::MatchType::kEqual && !has[m.name()]) {
      out = out.With(m.name(), m.value());
      has[m.name()] = true;
    } else {
      out = out.With(m.name(), "");
    }
  }
  return out;
}

absl::Status Absent(Args args, FunctionContext& ctx) {
  if (args[0].vector != nullptr && !args[0].vector->empty()) return absl::OkStatus();
  ctx.out.push_back(Sample{AbsentLabels(ctx.call), ctx.ts, 1});
  return absl::OkStatus();
}

// As Prometheus: 1 for a series with points in the window; the engine turns "some series had
// a point at this step" into "no absent sample" and labels the steps without any itself. Called
// with no series (null or no points), the absent() sample, labelled from the selector.
absl::Status AbsentOverTime(Args args, FunctionContext& ctx) {
  if (!args[0].points.empty()) return EmitValue(ctx, 1);
  ctx.out.push_back(Sample{AbsentLabels(ctx.call), ctx.ts, 1});
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Functions over a range vector.

// The window's points of range argument i; none when it is empty.
std::optional<absl::Span<const Point>> Points(Args args, size_t i) {
  if (args[i].points.empty()) return std::nullopt;
  return args[i].points;
}

// rate(), increase() and delta(): the change over the window, extrapolated towards its edges as
// Prometheus 2.42's extrapolatedRate does.
absl::Status ExtrapolatedRate(Args args, FunctionContext& ctx, bool is_counter, bool is_rate) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts || pts->size() < 2) return absl::OkStatus();
  absl::Span<const Point> p = *pts;
  const Point& first = p.front();
  const Point& last = p.back();

  double result = last.v - first.v;
  if (is_counter) {
    double prev = 0;
    for (const Point& pt : p) {
      if (pt.v < prev) result += prev;
      prev = pt.v;
    }
  }

  double duration_to_start = static_cast<double>(first.t - ctx.range_start) / 1000;
  const double duration_to_end = static_cast<double>(ctx.range_end - last.t) / 1000;
  const double sampled_interval = static_cast<double>(last.t - first.t) / 1000;
  const double average_between = sampled_interval / static_cast<double>(p.size() - 1);

  if (is_counter && result > 0 && first.v >= 0) {
    // A counter does not go below zero: extrapolate at most to where it would reach zero.
    const double duration_to_zero = sampled_interval * (first.v / result);
    if (duration_to_zero < duration_to_start) duration_to_start = duration_to_zero;
  }

  const double threshold = average_between * 1.1;
  double extrapolate_to = sampled_interval;
  extrapolate_to += duration_to_start < threshold ? duration_to_start : average_between / 2;
  extrapolate_to += duration_to_end < threshold ? duration_to_end : average_between / 2;
  // Prometheus scales the extrapolation factor by the range before applying it; the order
  // matters to the last bit, which resets() and changes() over a subquery can turn into whole
  // numbers.
  double factor = extrapolate_to / sampled_interval;
  if (is_rate) factor /= static_cast<double>(ctx.range_end - ctx.range_start) / 1000;
  return EmitValue(ctx, result * factor);
}

absl::Status Rate(Args args, FunctionContext& ctx) {
  return ExtrapolatedRate(args, ctx, true, true);
}
absl::Status Increase(Args args, FunctionContext& ctx) {
  return ExtrapolatedRate(args, ctx, true, false);
}
absl::Status Delta(Args args, FunctionContext& ctx) {
  return ExtrapolatedRate(args, ctx, false, false);
}

// irate() and idelta(): from the last two points.
absl::Status InstantValue(Args args, FunctionContext& ctx, bool is_rate) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts || pts->size() < 2) return absl::OkStatus();
  const Point& last = (*pts)[pts->size() - 1];
  const Point& prev = (*pts)[pts->size() - 2];
  double result = (is_rate && last.v < prev.v) ? last.v : last.v - prev.v;
  const int64_t interval = last.t - prev.t;
  if (interval == 0) return absl::OkStatus();
  if (is_rate) result /= static_cast<double>(interval) / 1000;
  return EmitValue(ctx, result);
}

absl::Status Irate(Args args, FunctionContext& ctx) { return InstantValue(args, ctx, true); }
absl::Status Idelta(Args args, FunctionContext& ctx) { return InstantValue(args, ctx, false); }

// Least-squares fit of the points, x in seconds relative to `intercept_time`: the slope and the
// value at intercept_time.
std::pair<double, double> LinearRegression(absl::Span<const Point> p, int64_t intercept_time) {
  double n = 0, sum_x = 0, c_x = 0, sum_y = 0, c_y = 0, sum_xy = 0, c_xy = 0, sum_x2 = 0, c_x2 = 0;
  const double init_y = p[0].v;
  bool const_y = true;
  for (size_t i = 0; i < p.size(); ++i) {
    if (const_y && i > 0 && p[i].v != init_y) const_y = false;
    n += 1.0;
    const double x = static_cast<double>(p[i].t - intercept_time) / 1e3;
    KahanSumInc(x, sum_x, c_x);
    KahanSumInc(p[i].v, sum_y, c_y);
    KahanSumInc(x * p[i].v, sum_xy, c_xy);
    KahanSumInc(x * x, sum_x2, c_x2);
  }
  if (const_y) {
    if (std::isinf(init_y)) return {kNaN, kNaN};
    return {0, init_y};
  }
  sum_x += c_x;
  sum_y += c_y;
  sum_xy += c_xy;
  sum_x2 += c_x2;
  const double cov_xy = sum_xy - sum_x * sum_y / n;
  const double var_x = sum_x2 - sum_x * sum_x / n;
  const double slope = cov_xy / var_x;
  const double intercept = sum_y / n - slope * sum_x / n;
  return {slope, intercept};
}

absl::Status Deriv(Args args, FunctionContext& ctx) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts || pts->size() < 2) return absl::OkStatus();
  // Relative to the first point's time, for precision (Prometheus issue 2674).
  return EmitValue(ctx, LinearRegression(*pts, pts->front().t).first);
}

absl::Status PredictLinear(Args args, FunctionContext& ctx) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts || pts->size() < 2) return absl::OkStatus();
  const auto [slope, intercept] = LinearRegression(*pts, ctx.ts);
  return EmitValue(ctx, slope * args[1].scalar + intercept);
}

absl::Status HoltWinters(Args args, FunctionContext& ctx) {
  const double sf = args[1].scalar;
  const double tf = args[2].scalar;
  if (sf <= 0 || sf >= 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "invalid smoothing factor. Expected: 0 < sf < 1, got: ", GoFormatPercentF(sf)));
  }
  if (tf <= 0 || tf >= 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("invalid trend factor. Expected: 0 < tf < 1, got: ", GoFormatPercentF(tf)));
  }
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts || pts->size() < 2) return absl::OkStatus();
  absl::Span<const Point> p = *pts;
  double s0 = 0;
  double s1 = p[0].v;
  double b = p[1].v - p[0].v;
  for (size_t i = 1; i < p.size(); ++i) {
    const double x = sf * p[i].v;
    // The trend: the initial one at the first step, then smoothed.
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    const double y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return EmitValue(ctx, s1);
}

absl::Status AvgOverTime(Args args, FunctionContext& ctx) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts) return absl::OkStatus();
  // An incremental mean (no overflow for large values), Kahan-compensated.
  double mean = 0, c = 0, count = 0;
  for (const Point& pt : *pts) {
    count++;
    if (std::isinf(mean)) {
      // Inf - Inf would make NaN: an infinite mean stays unless a NaN or the opposite infinity
      // arrives.
      if (std::isinf(pt.v) && (mean > 0) == (pt.v > 0)) continue;
      if (!std::isinf(pt.v) && !std::isnan(pt.v)) continue;
    }
    KahanSumInc(pt.v / count - mean / count, mean, c);
  }
  return EmitValue(ctx, std::isinf(mean) ? mean : mean + c);
}

absl::Status CountOverTime(Args args, FunctionContext& ctx) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts) return absl::OkStatus();
  return EmitValue(ctx, static_cast<double>(pts->size()));
}

absl::Status LastOverTime(Args args, FunctionContext& ctx) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts) return absl::OkStatus();
  return EmitValue(ctx, pts->back().v);
}

// max_over_time/min_over_time: NaN loses to any number; all NaN gives NaN.
template <bool kMax>
absl::Status ExtremeOverTime(Args args, FunctionContext& ctx) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts) return absl::OkStatus();
  double r = pts->front().v;
  for (const Point& pt : *pts) {
    if ((kMax ? pt.v > r : pt.v < r) || std::isnan(r)) r = pt.v;
  }
  return EmitValue(ctx, r);
}

absl::Status SumOverTime(Args args, FunctionContext& ctx) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts) return absl::OkStatus();
  double sum = 0, c = 0;
  for (const Point& pt : *pts) KahanSumInc(pt.v, sum, c);
  return EmitValue(ctx, std::isinf(sum) ? sum : sum + c);
}

// The population variance (Welford's method, Kahan-compensated).
double Variance(absl::Span<const Point> p) {
  double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
  for (const Point& pt : p) {
    count++;
    const double delta = pt.v - (mean + c_mean);
    KahanSumInc(delta / count, mean, c_mean);
    KahanSumInc(delta * (pt.v - (mean + c_mean)), aux, c_aux);
  }
  return (aux + c_aux) / count;
}

absl::Status StddevOverTime(Args args, FunctionContext& ctx) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts) return absl::OkStatus();
  return EmitValue(ctx, std::sqrt(Variance(*pts)));
}

absl::Status StdvarOverTime(Args args, FunctionContext& ctx) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts) return absl::OkStatus();
  return EmitValue(ctx, Variance(*pts));
}

absl::Status PresentOverTime(Args args, FunctionContext& ctx) {
  if (!Points(args, 0)) return absl::OkStatus();
  return EmitValue(ctx, 1);
}

absl::Status QuantileOverTime(Args args, FunctionContext& ctx) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 1);
  if (!pts) return absl::OkStatus();
  std::vector<double> values;
  values.reserve(pts->size());
  for (const Point& pt : *pts) values.push_back(pt.v);
  return EmitValue(ctx, Quantile(args[0].scalar, std::move(values)));
}

absl::Status Resets(Args args, FunctionContext& ctx) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts) return absl::OkStatus();
  int resets = 0;
  for (size_t i = 1; i < pts->size(); ++i) {
    if ((*pts)[i].v < (*pts)[i - 1].v) ++resets;
  }
  return EmitValue(ctx, resets);
}

absl::Status Changes(Args args, FunctionContext& ctx) {
  const std::optional<absl::Span<const Point>> pts = Points(args, 0);
  if (!pts) return absl::OkStatus();
  int changes = 0;
  for (size_t i = 1; i < pts->size(); ++i) {
    const double cur = (*pts)[i].v;
    const double prev = (*pts)[i - 1].v;
    if (cur != prev && !(std::isnan(cur) && std::isnan(prev))) ++changes;
  }
  return EmitValue(ctx, changes);
}

// ---------------------------------------------------------------------------------------------
// histogram_quantile() over classic buckets.

struct Bucket {
  double upper_bound;
  double count;
};

// Sorts by upper bound as Go's sort does. Up to 12 elements Go uses an insertion sort, which this
// repeats exactly (so a NaN bound, which compares false both ways, stays where it is and blocks
// others as in Prometheus); beyond, NaN bounds go last.
void SortBuckets(std::vector<Bucket>& buckets) {
  if (buckets.size() <= 12) {
    for (size_t i = 1; i < buckets.size(); ++i) {
      for (size_t j = i; j > 0 && buckets[j].upper_bound < buckets[j - 1].upper_bound; --j) {
        std::swap(buckets[j], buckets[j - 1]);
      }
    }
    return;
  }
  std::stable_sort(buckets.begin(), buckets.end(), [](const Bucket& a, const Bucket& b) {
    if (std::isnan(a.upper_bound)) return false;
    if (std::isnan(b.upper_bound)) return true;
    return a.upper_bound < b.upper_bound;
  });
}

// Prometheus's bucketQuantile: the q-quantile of cumulative buckets, interpolating linearly
// within the bucket it falls in.
double BucketQuantile(double q, std::vector<Bucket> buckets) {
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  SortBuckets(buckets);
  if (!(std::isinf(buckets.back().upper_bound) && buckets.back().upper_bound > 0)) return kNaN;
  // Merge buckets with the same upper bound.
  size_t n = 0;
  for (size_t i = 1; i < buckets.size(); ++i) {
    if (buckets[i].upper_bound == buckets[n].upper_bound) {
      buckets[n].count += buckets[i].count;
    } else {
      buckets[++n] = buckets[i];
    }
  }
  buckets.resize(n + 1);
  // Force monotonic counts (buckets scraped or rated at different times).
  double max = buckets[0].count;
  for (size_t i = 1; i < buckets.size(); ++i) {
    if (buckets[i].count > max) {
      max = buckets[i].count;
    } else if (buckets[i].count < max) {
      buckets[i].count = max;
    }
  }
  if (buckets.size() < 2) return kNaN;
  const double observations = buckets.back().count;
  if (observations == 0) return kNaN;
  double rank = q * observations;
  // The first bucket (among all but the last) whose count reaches the rank.
  size_t b = 0;
  {
    size_t lo = 0, hi = buckets.size() - 1;
    while (lo < hi) {
      const size_t mid = lo + (hi - lo) / 2;
      if (!(buckets[mid].count >= rank)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    b = lo;
  }
  if (b == buckets.size() - 1) return buckets[buckets.size() - 2].upper_bound;
  if (b == 0 && buckets[0].upper_bound <= 0) return buckets[0].upper_bound;
  double bucket_start = 0;
  const double bucket_end = buckets[b].upper_bound;
  double count = buckets[b].count;
  if (b > 0) {
    bucket_start = buckets[b - 1].upper_bound;
    count -= buckets[b - 1].count;
    rank -= buckets[b - 1].count;
  }
  return bucket_start + (bucket_end - bucket_start) * (rank / count);
}

absl::Status HistogramQuantile(Args args, FunctionContext& ctx) {
  const double q = args[0].scalar;
  struct Group {
    prom::Labels metric;
    std::vector<Bucket> buckets;
  };
  // Grouped by all labels but `le` (so the name too); the result drops the name.
  std::vector<Group> groups;
  absl::flat_hash_map<prom::Labels, size_t> index;
  for (const Sample& s : *args[1].vector) {
    const std::optional<double> upper = ParseGoFloat(s.metric.Get("le"));
    if (!upper) continue;  // no or a malformed `le`
    prom::Labels key = s.metric.Without({"le"});
    auto [it, inserted] = index.try_emplace(key, groups.size());
    if (inserted) groups.push_back(Group{DropMetricName(key), {}});
    groups[it->second].buckets.push_back(Bucket{*upper, s.v});
  }
  for (Group& g : groups) {
    const double v = BucketQuantile(q, std::move(g.buckets));
    ctx.out.push_back(Sample{std::move(g.metric), ctx.ts, v});
  }
  return absl::OkStatus();
}

// histogram_count/sum/fraction act on native histograms only; float samples give nothing.
absl::Status NativeHistogramOnly(Args, FunctionContext&) { return absl::OkStatus(); }

// ---------------------------------------------------------------------------------------------
// label_replace() and label_join().

// Go's regexp template expansion ($1, ${1}, $name, ${name}, $$) of `repl` with a match's groups.
std::string ExpandTemplate(const RE2& re, absl::string_view repl,
                           const std::vector<re2::StringPiece>& groups) {
  std::string out;
  size_t i = 0;
  while (i < repl.size()) {
    const size_t dollar = repl.find('$', i);
    if (dollar == absl::string_view::npos) break;
    absl::StrAppend(&out, repl.substr(i, dollar - i));
    i = dollar + 1;
    if (i < repl.size() && repl[i] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    // Go's extract(): a name of letters, digits and '_' (any non-ASCII rune is taken as a
    // letter), optionally in braces.
    size_t k = i;
    const bool brace = k < repl.size() && repl[k] == '{';
    if (brace) ++k;
    const size_t name_start = k;
    while (k < repl.size()) {
      const unsigned char c = static_cast<unsigned char>(repl[k]);
      if (!(absl::ascii_isalnum(c) || c == '_' || c >= 0x80)) break;
      ++k;
    }
    const absl::string_view name = repl.substr(name_start, k - name_start);
    bool ok = !name.empty();
    if (ok && brace) {
      if (k >= repl.size() || repl[k] != '}') {
        ok = false;
      } else {
        ++k;
      }
    }
    if (!ok) {  // malformed: the '$' is literal
      out.push_back('$');
      continue;
    }
    i = k;
    // A number (no leading zeros, below 1e8) names a group by index; anything else by name.
    int64_t num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name[0] == '0' && name.size() > 1) num = -1;
    if (num < 0) {
      const auto& named = re.NamedCapturingGroups();
      const auto it = named.find(std::string(name));
      if (it != named.end()) num = it->second;
    }
    if (num >= 0 && static_cast<size_t>(num) < groups.size() && groups[num].data() != nullptr) {
      out.append(groups[num].data(), groups[num].size());
    }
  }
  absl::StrAppend(&out, repl.substr(i));
  return out;
}

struct LabelReplaceState {
  std::shared_ptr<const RE2> re;
};

absl::Status LabelReplace(Args args, FunctionContext& ctx) {
  const absl::string_view dst = args[1].string;
  const absl::string_view repl = args[2].string;
  const absl::string_view src = args[3].string;
  const absl::string_view regex = args[4].string;

  auto* state = std::any_cast<LabelReplaceState>(&ctx.state);
  if (state == nullptr) {
    absl::StatusOr<std::shared_ptr<const RE2>> re = prom::CompileAnchoredGoRegexp(regex);
    if (!re.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("invalid regular expression in label_replace(): ", regex));
    }
    if (!prom::IsValidLabelName(dst)) {
      return absl::FailedPreconditionError(
          absl::StrCat("invalid destination label name in label_replace(): ", dst));
    }
    ctx.state = LabelReplaceState{*std::move(re)};
    state = std::any_cast<LabelReplaceState>(&ctx.state);
  }
  const RE2& re = *state->re;
  std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
  for (const Sample& s : *args[0].vector) {
    const absl::string_view value = s.metric.Get(src);
    if (!re.Match(re2::StringPiece(value.data(), value.size()), 0, value.size(), RE2::UNANCHORED,
                  groups.data(), static_cast<int>(groups.size()))) {
      ctx.out.push_back(Sample{s.metric, ctx.ts, s.v});
      continue;
    }
    const std::string res = ExpandTemplate(re, repl, groups);
    // An empty result removes the label.
    ctx.out.push_back(Sample{s.metric.With(dst, res), ctx.ts, s.v});
  }
  return absl::OkStatus();
}

absl::Status LabelJoin(Args args, FunctionContext& ctx) {
  const absl::string_view dst = args[1].string;
  const absl::string_view sep = args[2].string;
  std::vector<absl::string_view> srcs;
  for (size_t i = 3; i < args.size(); ++i) {
    if (!prom::IsValidLabelName(args[i].string)) {
      return absl::FailedPreconditionError(
          absl::StrCat("invalid source label name in label_join(): ", args[i].string));
    }
    srcs.push_back(args[i].string);
  }
  if (!prom::IsValidLabelName(dst)) {
    return absl::FailedPreconditionError(
        absl::StrCat("invalid destination label name in label_join(): ", dst));
  }
  std::vector<absl::string_view> values(srcs.size());
  for (const Sample& s : *args[0].vector) {
    for (size_t i = 0; i < srcs.size(); ++i) values[i] = s.metric.Get(srcs[i]);
    ctx.out.push_back(Sample{s.metric.With(dst, absl::StrJoin(values, sep)), ctx.ts, s.v});
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Date functions, computed as Go's time package does in UTC (bit for bit, so that odd inputs
// such as NaN, which Go converts to the smallest int64, give Prometheus's odd answers).

struct GoDate {
  int64_t year;
  int month;    // 1..12
  int day;      // 1..31
  int yday;     // 1..366
  int weekday;  // 0 = Sunday
  int hour;
  int minute;
};

bool GoIsLeap(int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

GoDate GoDateOf(int64_t unix_sec) {
  constexpr uint64_t kSecondsPerMinute = 60;
  constexpr uint64_t kSecondsPerHour = 60 * kSecondsPerMinute;
  constexpr uint64_t kSecondsPerDay = 24 * kSecondsPerHour;
  constexpr uint64_t kSecondsPerWeek = 7 * kSecondsPerDay;
  constexpr uint64_t kDaysPer400Years = 365 * 400 + 97;
  constexpr uint64_t kDaysPer100Years = 365 * 100 + 24;
  constexpr uint64_t kDaysPer4Years = 365 * 4 + 1;
  constexpr int64_t kAbsoluteZeroYear = -292277022399;
  // Go's unixToInternal + internalToAbsolute.
  constexpr uint64_t kUnixToAbsolute = 9223372028715321600ULL;
  static constexpr int kDaysBefore[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365};

  // Wrapping int64 addition, as Go's.
  const uint64_t abs = static_cast<uint64_t>(unix_sec) + kUnixToAbsolute;
  GoDate out{};
  out.hour = static_cast<int>((abs % kSecondsPerDay) / kSecondsPerHour);
  out.minute = static_cast<int>((abs % kSecondsPerHour) / kSecondsPerMinute);
  out.weekday = static_cast<int>(((abs + kSecondsPerDay) % kSecondsPerWeek) / kSecondsPerDay);

  uint64_t d = abs / kSecondsPerDay;
  uint64_t n = d / kDaysPer400Years;
  uint64_t y = 400 * n;
  d -= kDaysPer400Years * n;
  n = d / kDaysPer100Years;
  n -= n >> 2;
  y += 100 * n;
  d -= kDaysPer100Years * n;
  n = d / kDaysPer4Years;
  y += 4 * n;
  d -= kDaysPer4Years * n;
  n = d / 365;
  n -= n >> 2;
  y += n;
  d -= 365 * n;

  out.year = static_cast<int64_t>(y) + kAbsoluteZeroYear;
  const int yday = static_cast<int>(d);
  out.yday = yday + 1;
  int day = yday;
  if (GoIsLeap(out.year)) {
    if (day > 31 + 29 - 1) {
      day--;
    } else if (day == 31 + 29 - 1) {
      out.month = 2;
      out.day = 29;
      return out;
    }
  }
  int month = day / 31;
  const int end = kDaysBefore[month + 1];
  int begin;
  if (day >= end) {
    month++;
    begin = end;
  } else {
    begin = kDaysBefore[month];
  }
  out.month = month + 1;
  out.day = day - begin + 1;
  return out;
}

double DaysInMonth(const GoDate& d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d.month == 2 && GoIsLeap(d.year)) return 29;
  return kDays[d.month - 1];
}

// With no argument: the evaluation time, as one sample without labels. Otherwise each sample's
// value read as Unix seconds, the metric name dropped.
template <double (*F)(const GoDate&)>
absl::Status DateFunction(Args args, FunctionContext& ctx) {
  if (args.empty()) return EmitValue(ctx, F(GoDateOf(ctx.ts / 1000)));
  for (const Sample& s : *args[0].vector) {
    ctx.out.push_back(Sample{DropMetricName(s.metric), ctx.ts, F(GoDateOf(GoFloatToInt64(s.v)))});
  }
  return absl::OkStatus();
}

double DayOfMonth(const GoDate& d) { return d.day; }
double DayOfWeek(const GoDate& d) { return d.weekday; }
double DayOfYear(const GoDate& d) { return d.yday; }
double Hour(const GoDate& d) { return d.hour; }
double Minute(const GoDate& d) { return d.minute; }
double Month(const GoDate& d) { return d.month; }
double Year(const GoDate& d) { return static_cast<double>(d.year); }

// ---------------------------------------------------------------------------------------------

struct Entry {
  absl::string_view name;
  FunctionImpl impl;
};

constexpr Entry kFunctions[] = {
    {"abs", Simple<Abs>},
    {"absent", Absent},
    {"absent_over_time", AbsentOverTime},
    {"acos", Simple<Acos>},
    {"acosh", Simple<Acosh>},
    {"asin", Simple<Asin>},
    {"asinh", Simple<Asinh>},
    {"atan", Simple<Atan>},
    {"atanh", Simple<Atanh>},
    {"avg_over_time", AvgOverTime},
    {"ceil", Simple<Ceil>},
    {"changes", Changes},
    {"clamp", Clamp},
    {"clamp_max", ClampMax},
    {"clamp_min", ClampMin},
    {"cos", Simple<Cos>},
    {"cosh", Simple<Cosh>},
    {"count_over_time", CountOverTime},
    {"days_in_month", DateFunction<DaysInMonth>},
    {"day_of_month", DateFunction<DayOfMonth>},
    {"day_of_week", DateFunction<DayOfWeek>},
    {"day_of_year", DateFunction<DayOfYear>},
    {"deg", Simple<Deg>},
    {"delta", Delta},
    {"deriv", Deriv},
    {"exp", Simple<Exp>},
    {"floor", Simple<Floor>},
    {"histogram_count", NativeHistogramOnly},
    {"histogram_fraction", NativeHistogramOnly},
    {"histogram_quantile", HistogramQuantile},
    {"histogram_sum", NativeHistogramOnly},
    {"holt_winters", HoltWinters},
    {"hour", DateFunction<Hour>},
    {"idelta", Idelta},
    {"increase", Increase},
    {"irate", Irate},
    {"label_replace", LabelReplace},
    {"label_join", LabelJoin},
    {"last_over_time", LastOverTime},
    {"ln", Simple<Ln>},
    {"log10", Simple<Log10>},
    {"log2", Simple<Log2>},
    {"max_over_time", ExtremeOverTime<true>},
    {"min_over_time", ExtremeOverTime<false>},
    {"minute", DateFunction<Minute>},
    {"month", DateFunction<Month>},
    {"pi", Pi},
    {"predict_linear", PredictLinear},
    {"present_over_time", PresentOverTime},
    {"quantile_over_time", QuantileOverTime},
    {"rad", Simple<Rad>},
    {"rate", Rate},
    {"resets", Resets},
    {"round", Round},
    {"scalar", ScalarFn},
    {"sgn", Simple<Sgn>},
    {"sin", Simple<Sin>},
    {"sinh", Simple<Sinh>},
    {"sort", Sort<false>},
    {"sort_desc", Sort<true>},
    {"sqrt", Simple<Sqrt>},
    {"stddev_over_time", StddevOverTime},
    {"stdvar_over_time", StdvarOverTime},
    {"sum_over_time", SumOverTime},
    {"tan", Simple<Tan>},
    {"tanh", Simple<Tanh>},
    {"time", Time},
    {"timestamp", Timestamp},
    {"vector", VectorFn},
    {"year", DateFunction<Year>},
};

}  // namespace

double Quantile(double q, std::vector<double> values) {
  if (values.empty() || std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  // Stable, as Go's sort is for the few values it insertion-sorts (so -0 and 0 keep their
  // order, which decides the sign of a zero result).
  std::stable_sort(values.begin(), values.end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    return a < b;
  });
  const double n = static_cast<double>(values.size());
  const double rank = q * (n - 1);
  const double lower = std::max(0.0, std::floor(rank));
  const double upper = std::min(n - 1, lower + 1);
  const double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) +
         values[static_cast<size_t>(upper)] * weight;
}

FunctionImpl FindFunctionImpl(absl::string_view name) {
  for (const Entry& e : kFunctions) {
    if (e.name == name) return e.impl;
  }
  return nullptr;
}

}  // namespace sextant::promql::internal
