#include "aggregator/api/query_api.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "aggregator/api/prom_json.h"
#include "aggregator/promql/go_float.h"
#include "aggregator/promql/parser.h"
#include "common/build_info.h"
#include "prom/labels.h"
#include "prom/matcher.h"

namespace sextant::api {
namespace {

constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kNanosPerMilli = 1'000'000;
// Seconds from year 1 to 1970, as Go's time package counts (unixToInternal), used by its
// minTime/maxTime.
constexpr int64_t kUnixToInternal = 62135596800;
constexpr absl::string_view kMinTimeText = "-292273086-05-16T16:47:06Z";
constexpr absl::string_view kMaxTimeText = "292277025-08-18T07:12:54.999999999Z";
// Prometheus's cap on the points per series of a range query.
constexpr int64_t kMaxPointsPerSeries = 11000;

int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t WrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

// time.Unix(sec, nsec): brings nsec into [0, 1e9), wrapping as Go does.
ApiTime NormalizedTime(int64_t sec, int64_t nsec) {
  if (nsec < 0 || nsec >= kNanosPerSecond) {
    const int64_t n = nsec / kNanosPerSecond;
    sec = WrapAdd(sec, n);
    nsec -= n * kNanosPerSecond;
    if (nsec < 0) {
      nsec += kNanosPerSecond;
      sec = WrapAdd(sec, -1);
    }
  }
  return ApiTime{sec, nsec};
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Go's strconv.Atoi: an optional sign and decimal digits, within int64.
std::optional<int64_t> GoAtoi(absl::string_view s) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  for (char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (limit - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

// Reads exactly `n` digits at s[*i].
std::optional<int> Digits(absl::string_view s, size_t* i, size_t n) {
  if (*i + n > s.size()) return std::nullopt;
  int v = 0;
  for (size_t k = 0; k < n; ++k) {
    if (!IsDigit(s[*i + k])) return std::nullopt;
    v = v * 10 + (s[*i + k] - '0');
  }
  *i += n;
  return v;
}

bool Literal(absl::string_view s, size_t* i, char c) {
  if (*i >= s.size() || s[*i] != c) return false;
  ++*i;
  return true;
}

bool IsLeap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Go 1.19's time.Parse(time.RFC3339Nano, s): "2006-01-02T15:04:05.999999999Z07:00", where the
// hour may have one digit, the fraction (after '.' or ',') up to nine, and the zone is 'Z' or
// ±hh:mm.
std::optional<ApiTime> ParseRfc3339(absl::string_view s) {
  size_t i = 0;
  const std::optional<int> year = Digits(s, &i, 4);
  if (!year || !Literal(s, &i, '-')) return std::nullopt;
  const std::optional<int> month = Digits(s, &i, 2);
  if (!month || *month < 1 || *month > 12 || !Literal(s, &i, '-')) return std::nullopt;
  const std::optional<int> day = Digits(s, &i, 2);
  if (!day || !Literal(s, &i, 'T')) return std::nullopt;
  int hour = 0;
  if (i < s.size() && IsDigit(s[i])) {
    hour = s[i++] - '0';
    if (i < s.size() && IsDigit(s[i])) hour = hour * 10 + (s[i++] - '0');
  } else {
    return std::nullopt;
  }
  if (hour >= 24 || !Literal(s, &i, ':')) return std::nullopt;
  const std::optional<int> minute = Digits(s, &i, 2);
  if (!minute || *minute >= 60 || !Literal(s, &i, ':')) return std::nullopt;
  const std::optional<int> second = Digits(s, &i, 2);
  if (!second || *second >= 60) return std::nullopt;
  int64_t nsec = 0;
  if (i + 1 < s.size() && (s[i] == '.' || s[i] == ',') && IsDigit(s[i + 1])) {
    ++i;
    int64_t scale = kNanosPerSecond;
    for (int k = 0; k < 9 && i < s.size() && IsDigit(s[i]); ++k, ++i) {
      scale /= 10;
      nsec += (s[i] - '0') * scale;
    }
  }
  int64_t offset = 0;
  if (Literal(s, &i, 'Z')) {
    // UTC
  } else {
    if (s.size() - i < 6 || s[i + 3] != ':' || (s[i] != '+' && s[i] != '-')) return std::nullopt;
    const bool negative = s[i] == '-';
    ++i;
    const std::optional<int> zh = Digits(s, &i, 2);
    ++i;  // ':'
    const std::optional<int> zm = Digits(s, &i, 2);
    if (!zh || !zm) return std::nullopt;
    offset = (*zh * 3600 + *zm * 60) * (negative ? -1 : 1);
  }
  if (i != s.size()) return std::nullopt;
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int days_in_month = kDaysIn[*month - 1] + (*month == 2 && IsLeap(*year) ? 1 : 0);
  if (*day < 1 || *day > days_in_month) return std::nullopt;
  const int64_t sec =
      DaysFromCivil(*year, *month, *day) * 86400 + hour * 3600 + *minute * 60 + *second - offset;
  return ApiTime{sec, nsec};
}

// Go's time.Sub: end - start in nanoseconds, saturated to int64.
int64_t SubNanos(const ApiTime& end, const ApiTime& start) {
  const __int128 d =
      (static_cast<__int128>(end.sec) - start.sec) * kNanosPerSecond + (end.nsec - start.nsec);
  if (d > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (d < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}

bool Before(const ApiTime& a, const ApiTime& b) {
  return a.sec < b.sec || (a.sec == b.sec && a.nsec < b.nsec);
}

// ---------------------------------------------------------------------------------------------
// Answers.

int ErrorCode(absl::string_view error_type) {
  if (error_type == "bad_data") return 400;
  if (error_type == "execution") return 422;
  if (error_type == "canceled" || error_type == "timeout") return 503;
  if (error_type == "not_found") return 404;
  return 500;
}

HttpResponse Error(absl::string_view error_type, absl::string_view message) {
  return HttpResponse::Json(ErrorCode(error_type), ErrorEnvelope(error_type, message));
}

HttpResponse InvalidParam(absl::string_view name, absl::string_view message) {
  return Error("bad_data", absl::StrCat("invalid parameter \"", name, "\": ", message));
}

HttpResponse Success(absl::string_view data_json, const std::vector<std::string>& warnings = {}) {
  return HttpResponse::Json(200, SuccessEnvelope(data_json, warnings));
}

// The engine's error classes (engine.h) as Prometheus's API types them.
HttpResponse EngineError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return Error("bad_data", s.message());
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
      return Error("execution", s.message());
    case absl::StatusCode::kDeadlineExceeded:
      return Error("timeout", s.message());
    case absl::StatusCode::kCancelled:
      return Error("canceled", s.message());
    default:
      return Error("internal", s.message());
  }
}

// A time parameter with a default (Prometheus's parseTimeParam).
absl::StatusOr<ApiTime> TimeParam(const HttpRequest& r, absl::string_view name,
                                  const ApiTime& default_value) {
  absl::string_view value = r.params.Get(name);
  if (value.empty()) return default_value;
  absl::StatusOr<ApiTime> t = ParseApiTime(value);
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Invalid time value for '", name, "': ", t.status().message()));
  }
  return t;
}

// The optional `timeout` parameter, in nanoseconds.
absl::StatusOr<std::optional<int64_t>> TimeoutParam(const HttpRequest& r) {
  absl::string_view value = r.params.Get("timeout");
  if (value.empty()) return std::nullopt;
  absl::StatusOr<int64_t> d = ParseApiDuration(value);
  if (!d.ok()) return d.status();
  return std::optional<int64_t>(*d);
}

// Prometheus's parseMatchersParam: every match[] a series selector, each with at least one
// matcher that does not match the empty string.
absl::StatusOr<std::vector<std::vector<prom::Matcher>>> MatcherSets(const HttpRequest& r) {
  std::vector<std::vector<prom::Matcher>> sets;
  for (const std::string& s : r.params.GetAll("match[]")) {
    absl::StatusOr<std::vector<prom::Matcher>> m = promql::ParseMetricSelector(s);
    if (!m.ok()) return m.status();
    sets.push_back(*std::move(m));
  }
  for (const std::vector<prom::Matcher>& set : sets) {
    if (std::all_of(set.begin(), set.end(),
                    [](const prom::Matcher& m) { return m.MatchesEmpty(); })) {
      return absl::InvalidArgumentError("match[] must contain at least one non-empty matcher");
    }
  }
  return sets;
}

// `limit` of series, labels and label values (later Prometheus versions; 2.42 ignores it): a
// positive integer caps the answer and adds a warning; anything else is ignored.
template <typename T>
void ApplyLimit(const HttpRequest& r, std::vector<T>* items, std::vector<std::string>* warnings) {
  const std::optional<int64_t> limit = GoAtoi(r.params.Get("limit"));
  if (limit && *limit > 0 && static_cast<int64_t>(items->size()) > *limit) {
    items->resize(static_cast<size_t>(*limit));
    warnings->push_back("results truncated due to limit");
  }
}

std::string StringArray(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(&out, values[i]);
  }
  out.push_back(']');
  return out;
}

absl::string_view MetricTypeName(uint8_t type) {
  switch (type) {
    case 1:
      return "counter";
    case 2:
      return "gauge";
    case 3:
      return "histogram";
    case 4:
      return "gaugehistogram";
    case 5:
      return "summary";
    case 6:
      return "info";
    case 7:
      return "stateset";
    default:
      return "unknown";
  }
}

void AddCorsHeaders(const HttpRequest& r, HttpResponse* response) {
  if (r.headers.Get("Origin").empty()) return;
  response->headers.Add("Access-Control-Allow-Headers",
                        "Accept, Authorization, Content-Type, Origin");
  response->headers.Add("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  response->headers.Add("Access-Control-Allow-Origin", "*");
  response->headers.Add("Access-Control-Expose-Headers", "Date");
  response->headers.Add("Vary", "Origin");
}

HttpResponse NoContent() {
  HttpResponse r;
  r.status = 204;
  return r;
}

// The answer of /labels and /label/<name>/values: the strings `lookup` finds for each match[]
// set (one lookup with no matchers when there is none) over the request's start and end,
// merged, sorted, made distinct and cut to the limit parameter.
HttpResponse LabelStrings(const HttpRequest& r,
                          absl::FunctionRef<absl::StatusOr<std::vector<std::string>>(
                              const std::vector<prom::Matcher>& set, int64_t mint, int64_t maxt)>
                              lookup) {
  absl::StatusOr<ApiTime> start = TimeParam(r, "start", ApiTime::Min());
  if (!start.ok()) return InvalidParam("start", start.status().message());
  absl::StatusOr<ApiTime> end = TimeParam(r, "end", ApiTime::Max());
  if (!end.ok()) return InvalidParam("end", end.status().message());
  absl::StatusOr<std::vector<std::vector<prom::Matcher>>> sets = MatcherSets(r);
  if (!sets.ok()) return Error("bad_data", sets.status().message());

  std::vector<std::string> all;
  if (sets->empty()) sets->emplace_back();  // no match[]: every series
  for (const std::vector<prom::Matcher>& set : *sets) {
    absl::StatusOr<std::vector<std::string>> found = lookup(set, start->Millis(), end->Millis());
    if (!found.ok()) return Error("execution", found.status().message());
    all.insert(all.end(), found->begin(), found->end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::vector<std::string> warnings;
  ApplyLimit(r, &all, &warnings);
  return Success(StringArray(all), warnings);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Parameters.

int64_t ApiTime::Millis() const { return WrapAdd(WrapMul(sec, 1000), nsec / kNanosPerMilli); }

int64_t ApiTime::EngineMillis() const {
  return WrapAdd(WrapMul(sec, kNanosPerSecond), nsec) / kNanosPerMilli;
}

ApiTime ApiTime::Min() {
  return ApiTime{std::numeric_limits<int64_t>::min() / 1000 + kUnixToInternal + 1, 0};
}

ApiTime ApiTime::Max() {
  return ApiTime{std::numeric_limits<int64_t>::max() / 1000 - kUnixToInternal - 1,
                 kNanosPerSecond - 1};
}

ApiTime ApiTime::FromAbsl(absl::Time t) {
  const int64_t sec = absl::ToUnixSeconds(t);
  return ApiTime{sec, absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(sec))};
}

absl::StatusOr<ApiTime> ParseApiTime(absl::string_view s) {
  if (std::optional<double> t = promql::ParseGoFloat(s)) {
    // Go: s, ns := math.Modf(t); ns = math.Round(ns*1000) / 1000; time.Unix(int64(s),
    // int64(ns*1e9)).
    double whole = 0;
    double frac = 0;
    if (std::isinf(*t)) {
      whole = *t;
      frac = std::numeric_limits<double>::quiet_NaN();
    } else {
      frac = std::modf(*t, &whole);
    }
    const double ns = std::round(frac * 1000) / 1000;
    return NormalizedTime(promql::GoFloatToInt64(whole), promql::GoFloatToInt64(ns * 1e9));
  }
  if (std::optional<ApiTime> t = ParseRfc3339(s)) return *t;
  if (s == kMinTimeText) return ApiTime::Min();
  if (s == kMaxTimeText) return ApiTime::Max();
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse ", prom::GoQuote(s), " to a valid timestamp"));
}

absl::StatusOr<int64_t> ParseApiDuration(absl::string_view s) {
  if (std::optional<double> d = promql::ParseGoFloat(s)) {
    const double ns = *d * 1e9;
    if (ns > 9223372036854775807.0 || ns < -9223372036854775808.0) {
      return absl::InvalidArgumentError(absl::StrCat("cannot parse ", prom::GoQuote(s),
                                                     " to a valid duration. It overflows int64"));
    }
    return promql::GoFloatToInt64(ns);
  }
  if (absl::StatusOr<int64_t> ms = promql::ParseDuration(s);
      ms.ok() && *ms <= std::numeric_limits<int64_t>::max() / kNanosPerMilli) {
    return *ms * kNanosPerMilli;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse ", prom::GoQuote(s), " to a valid duration"));
}

// ---------------------------------------------------------------------------------------------
// The API.

QueryApi::QueryApi(const tsdb::Db& db, const QueryApiOptions& options,
                   prometheus::Registry& registry)
    : db_(db),
      options_(options),
      clock_(options.clock != nullptr ? *options.clock : RealClock::Get()),
      storage_(db),
      engine_(storage_, options.engine),
      requests_(prometheus::BuildCounter()
                    .Name("sextant_query_requests_total")
                    .Help("Query API requests, by endpoint.")
                    .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("sextant_query_duration_seconds")
                    .Help("Time to answer query API requests, by endpoint.")
                    .Register(registry)) {}

const promql::Engine& QueryApi::EngineFor(std::optional<int64_t> timeout_ns,
                                          std::optional<promql::Engine>* shorter) const {
  if (!timeout_ns || absl::Nanoseconds(*timeout_ns) >= options_.engine.timeout) return engine_;
  promql::EngineOptions o = options_.engine;
  o.timeout = absl::Nanoseconds(*timeout_ns);
  return shorter->emplace(storage_, o);
}

void QueryApi::Route(HttpServer& server, absl::string_view pattern, absl::string_view endpoint,
                     Endpoint handler, bool post) {
  prometheus::Counter& count = requests_.Add({{"endpoint", std::string(endpoint)}});
  prometheus::Histogram& seconds =
      duration_.Add({{"endpoint", std::string(endpoint)}},
                    prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.05, 0.1, 0.25,
                                                            0.5, 1, 2.5, 5, 10, 30, 60, 120});
  HttpHandler h = [this, handler, &count, &seconds](const HttpRequest& r) {
    const absl::Time start = absl::Now();
    HttpResponse response = (this->*handler)(r);
    AddCorsHeaders(r, &response);
    count.Increment();
    seconds.Observe(absl::ToDoubleSeconds(absl::Now() - start));
    return response;
  };
  server.Handle("GET", pattern, h);
  if (post) server.Handle("POST", pattern, h);
  server.Handle("OPTIONS", pattern, [](const HttpRequest& r) {
    HttpResponse response = NoContent();
    AddCorsHeaders(r, &response);
    return response;
  });
}

void QueryApi::Register(HttpServer& server) {
  Route(server, "/api/v1/query", "query", &QueryApi::Query, true);
  Route(server, "/api/v1/query_range", "query_range", &QueryApi::QueryRange, true);
  Route(server, "/api/v1/query_exemplars", "query_exemplars", &QueryApi::QueryExemplars, true);
  Route(server, "/api/v1/series", "series", &QueryApi::Series, true);
  Route(server, "/api/v1/labels", "labels", &QueryApi::LabelNames, true);
  Route(server, "/api/v1/label/<name>/values", "label_values", &QueryApi::LabelValues, false);
  Route(server, "/api/v1/metadata", "metadata", &QueryApi::Metadata, false);
  Route(server, "/api/v1/status/buildinfo", "buildinfo", &QueryApi::BuildInfo, false);
  Route(server, "/api/v1/rules", "rules", &QueryApi::Rules, false);
  Route(server, "/api/v1/alerts", "alerts", &QueryApi::Alerts, false);
  Route(server, "/api/v1/format_query", "format_query", &QueryApi::FormatQuery, true);
}

HttpResponse QueryApi::Query(const HttpRequest& r) const {
  absl::StatusOr<ApiTime> ts = TimeParam(r, "time", ApiTime::FromAbsl(clock_.Now()));
  if (!ts.ok()) return InvalidParam("time", ts.status().message());
  absl::StatusOr<std::optional<int64_t>> timeout_ns = TimeoutParam(r);
  if (!timeout_ns.ok()) return InvalidParam("timeout", timeout_ns.status().message());
  absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(r.params.Get("query"));
  if (!expr.ok()) return InvalidParam("query", expr.status().message());
  if (*timeout_ns && **timeout_ns <= 0) {
    return Error("timeout", "query timed out in query execution");
  }
  std::optional<promql::Engine> shorter;
  absl::StatusOr<promql::QueryResult> result =
      EngineFor(*timeout_ns, &shorter).InstantQuery(*std::move(expr), ts->EngineMillis());
  if (!result.ok()) return EngineError(result.status());
  return Success(EncodeQueryData(result->value), result->warnings);
}

HttpResponse QueryApi::QueryRange(const HttpRequest& r) const {
  absl::StatusOr<ApiTime> start = ParseApiTime(r.params.Get("start"));
  if (!start.ok()) return InvalidParam("start", start.status().message());
  absl::StatusOr<ApiTime> end = ParseApiTime(r.params.Get("end"));
  if (!end.ok()) return InvalidParam("end", end.status().message());
  if (Before(*end, *start)) {
    return InvalidParam("end", "end timestamp must not be before start time");
  }
  absl::StatusOr<int64_t> step = ParseApiDuration(r.params.Get("step"));
  if (!step.ok()) return InvalidParam("step", step.status().message());
  if (*step <= 0) {
    return InvalidParam(
        "step",
        "zero or negative query resolution step widths are not accepted. Try a positive integer");
  }
  if (SubNanos(*end, *start) / *step > kMaxPointsPerSeries) {
    return Error("bad_data",
                 "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the "
                 "query resolution (?step=XX)");
  }
  absl::StatusOr<std::optional<int64_t>> timeout_ns = TimeoutParam(r);
  if (!timeout_ns.ok()) return InvalidParam("timeout", timeout_ns.status().message());
  absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(r.params.Get("query"));
  if (!expr.ok()) return Error("bad_data", expr.status().message());
  const promql::ValueType type = (*expr)->Type();
  if (type != promql::ValueType::kScalar && type != promql::ValueType::kVector) {
    return Error("bad_data",
                 absl::StrCat("invalid expression type \"", promql::DocumentedTypeName(type),
                              "\" for range query, must be Scalar or instant Vector"));
  }
  if (*timeout_ns && **timeout_ns <= 0) {
    return Error("timeout", "query timed out in query execution");
  }
  const int64_t step_ms = *step / kNanosPerMilli;
  if (step_ms == 0) {
    // Prometheus 2.42 accepts a step under 1 ms here and then fails evaluating it.
    return Error("execution", "unexpected error: runtime error: integer divide by zero");
  }

  std::optional<promql::Engine> shorter;
  absl::StatusOr<promql::QueryResult> result =
      EngineFor(*timeout_ns, &shorter)
          .RangeQuery(*std::move(expr), start->EngineMillis(), end->EngineMillis(), step_ms);
  if (!result.ok()) return EngineError(result.status());
  return Success(EncodeQueryData(result->value), result->warnings);
}

HttpResponse QueryApi::QueryExemplars(const HttpRequest& r) const {
  absl::StatusOr<ApiTime> start = TimeParam(r, "start", ApiTime::Min());
  if (!start.ok()) return InvalidParam("start", start.status().message());
  absl::StatusOr<ApiTime> end = TimeParam(r, "end", ApiTime::Max());
  if (!end.ok()) return InvalidParam("end", end.status().message());
  if (Before(*end, *start)) {
    return Error("bad_data", "end timestamp must not be before start timestamp");
  }
  absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(r.params.Get("query"));
  if (!expr.ok()) return Error("bad_data", expr.status().message());
  bool has_selector = false;
  promql::Inspect(**expr, [&has_selector](promql::Expr& node, const std::vector<promql::Expr*>&) {
    if (node.kind == promql::ExprKind::kVectorSelector) has_selector = true;
  });
  if (!has_selector) return NoContent();
  return Success("[]");  // no exemplars are stored
}

HttpResponse QueryApi::Series(const HttpRequest& r) const {
  if (r.params.GetAll("match[]").empty()) {
    return Error("bad_data", "no match[] parameter provided");
  }
  absl::StatusOr<ApiTime> start = TimeParam(r, "start", ApiTime::Min());
  if (!start.ok()) return InvalidParam("start", start.status().message());
  absl::StatusOr<ApiTime> end = TimeParam(r, "end", ApiTime::Max());
  if (!end.ok()) return InvalidParam("end", end.status().message());
  absl::StatusOr<std::vector<std::vector<prom::Matcher>>> sets = MatcherSets(r);
  if (!sets.ok()) return InvalidParam("match[]", sets.status().message());

  const int64_t mint = start->Millis();
  const int64_t maxt = end->Millis();
  std::vector<prom::Labels> series;
  if (mint <= maxt) {
    for (const std::vector<prom::Matcher>& set : *sets) {
      absl::StatusOr<std::vector<tsdb::SeriesChunks>> selected = db_.Select(set, mint, maxt);
      if (!selected.ok()) return Error("execution", selected.status().message());
      for (tsdb::SeriesChunks& s : *selected) series.push_back(std::move(s.labels));
    }
  }
  std::sort(series.begin(), series.end());
  series.erase(std::unique(series.begin(), series.end()), series.end());
  std::vector<std::string> warnings;
  ApplyLimit(r, &series, &warnings);

  std::string data = "[";
  for (size_t i = 0; i < series.size(); ++i) {
    if (i > 0) data.push_back(',');
    AppendLabels(&data, series[i]);
  }
  data.push_back(']');
  return Success(data, warnings);
}

HttpResponse QueryApi::LabelNames(const HttpRequest& r) const {
  return LabelStrings(r, [this](const std::vector<prom::Matcher>& set, int64_t mint, int64_t maxt) {
    return db_.LabelNames(set, mint, maxt);
  });
}

HttpResponse QueryApi::LabelValues(const HttpRequest& r) const {
  const absl::string_view name = r.PathParam("name");
  if (!prom::IsValidLabelName(name)) {
    return Error("bad_data", absl::StrCat("invalid label name: ", prom::GoQuote(name)));
  }
  return LabelStrings(
      r, [this, name](const std::vector<prom::Matcher>& set, int64_t mint, int64_t maxt) {
        return db_.LabelValues(name, set, mint, maxt);
      });
}

HttpResponse QueryApi::Metadata(const HttpRequest& r) const {
  int64_t limit = -1;
  if (absl::string_view s = r.params.Get("limit"); !s.empty()) {
    const std::optional<int64_t> parsed = GoAtoi(s);
    if (!parsed) return Error("bad_data", "limit must be a number");
    limit = *parsed;
  }
  const std::map<std::string, tsdb::MetricMetadata> metadata = db_.Metadata(r.params.Get("metric"));
  std::string data = "{";
  int64_t n = 0;
  for (const auto& [metric, m] : metadata) {
    if (limit >= 0 && n >= limit) break;
    if (n++ > 0) data.push_back(',');
    AppendJsonString(&data, metric);
    data.append(R"(:[{"type":)");
    AppendJsonString(&data, MetricTypeName(m.type));
    data.append(R"(,"help":)");
    AppendJsonString(&data, m.help);
    data.append(R"(,"unit":)");
    AppendJsonString(&data, m.unit);
    data.append("}]");
  }
  data.push_back('}');
  return Success(data);
}

HttpResponse QueryApi::BuildInfo(const HttpRequest&) const {
  std::string data = R"({"version":)";
  AppendJsonString(&data, SEXTANT_VERSION);
  data.append(R"(,"revision":)");
  AppendJsonString(&data, SEXTANT_REVISION);
  data.append(R"(,"branch":"","buildUser":"","buildDate":"","goVersion":)");
#if defined(__clang__)
  AppendJsonString(&data, absl::StrCat("clang ", __clang_version__));
#else
  AppendJsonString(&data, absl::StrCat("gcc ", __VERSION__));
#endif
  data.push_back('}');
  return Success(data);
}

HttpResponse QueryApi::Rules(const HttpRequest& r) const {
  const std::string type = absl::AsciiStrToLower(r.params.Get("type"));
  if (!type.empty() && type != "alert" && type != "record") {
    return InvalidParam("type", absl::StrCat("not supported value ", prom::GoQuote(type)));
  }
  return Success(R"({"groups":[]})");
}

HttpResponse QueryApi::Alerts(const HttpRequest&) const { return Success(R"({"alerts":[]})"); }

HttpResponse QueryApi::FormatQuery(const HttpRequest& r) const {
  absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(r.params.Get("query"));
  if (!expr.ok()) return InvalidParam("query", expr.status().message());
  std::string data;
  AppendJsonString(&data, promql::Prettify(**expr));
  return Success(data);
}

}  // namespace sextant::api
