// Differential test of our PromQL engine and query API against the real Prometheus 2.42
// (Debian's): the same generated blocks (bench/promql_data.h) go into a data directory for each,
// and every query of tests/testdata/promql/differential_queries.txt runs through both HTTP APIs
// as instant queries at several times and as range queries over a few ranges and steps (times
// as float seconds or RFC 3339, steps as seconds or durations, GET or form-encoded POST). The
// answers must agree: HTTP status, status and errorType (the error text too for bad_data, its
// text up to the first label set for execution errors), resultType, the set of label sets, the
// timestamps, and the values to 1e-6 relative (1e-12 absolute near zero; NaN equals NaN,
// infinities their sign). Order is compared where PromQL defines it: the values of an instant
// query whose outermost call is sort, sort_desc, or topk/bottomk without grouping.
//
// Each mismatch is reported with the query, the evaluation, and what differs; a summary at the
// end counts the mismatching queries by kind. Two smaller tests compare the metadata endpoints
// (labels, label values, series) and the query endpoints' parameter errors, and the answers
// under a samples-per-query limit. SEXTANT_PROMQL_DIFF_PEER=prometheus compares
// Prometheus with a second Prometheus on the same blocks (a check of the harness and the
// corpus: every answer must be deterministic); SEXTANT_PROMQL_DIFF_FILTER=SUBSTRING runs only
// the queries containing it.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "aggregator/promql/ast.h"
#include "bench/promql_data.h"
#include "common/http_client.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/util/subprocess.h"
#include "tests/util/test_util.h"

namespace sextant {
namespace {

constexpr int64_t kStart = bench::kPromqlDiffStartMs;
constexpr int64_t kMin = 60 * 1000;
constexpr uint64_t kSeed = 42;
// How an evaluation's parameters travel: float seconds in the URL, RFC 3339 times and a
// duration step, or a form-encoded POST body.
enum class Encoding { kFloat, kRfc3339, kPost };
struct Instant {
  int64_t time;
  Encoding encoding;
};
// Instant queries' times; the corpus's error: expectations are checked at kExpectationTime.
// start+2h is the block boundary, start+3h2m just past the data's end.
const Instant kInstants[] = {{kStart + 10 * kMin, Encoding::kFloat},
                             {kStart + 80 * kMin, Encoding::kRfc3339},
                             {kStart + 120 * kMin, Encoding::kPost},
                             {kStart + 157 * kMin + 12345, Encoding::kFloat},
                             {kStart + 182 * kMin, Encoding::kFloat}};
constexpr size_t kExpectationTime = 1;  // index into kInstants
struct Range {
  int64_t start, end, step;
  Encoding encoding;
};
// Range queries: the whole data in coarse steps, then from before its start to past its end by
// the minute, then 15 s steps, then steps that divide nothing across the block boundary.
const Range kRanges[] = {{kStart, kStart + 190 * kMin, 10 * kMin, Encoding::kFloat},
                         {kStart - 20 * kMin, kStart + 200 * kMin, kMin, Encoding::kPost},
                         {kStart + 55 * kMin, kStart + 75 * kMin, 15000, Encoding::kFloat},
                         {kStart + 118 * kMin, kStart + 124 * kMin, 23000, Encoding::kRfc3339}};

struct Query {
  std::string expr;
  bool expect_error = false;
  int line = 0;
};

std::vector<Query> LoadCorpus() {
  std::vector<Query> out;
  const std::string text =
      testing::ReadFileOrDie(testing::SourcePath("tests/testdata/promql/differential_queries.txt"));
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    Query q;
    q.line = line_no;
    q.expect_error = absl::ConsumePrefix(&line, "error: ");
    q.expr = std::string(line);
    out.push_back(std::move(q));
  }
  return out;
}

// A value as the API writes it: a number, or "NaN", "+Inf", "-Inf".
bool ParseValue(const std::string& s, double* v) {
  char* end = nullptr;
  *v = std::strtod(s.c_str(), &end);
  return !s.empty() && end == s.c_str() + s.size();
}

bool SameValue(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  const double diff = std::fabs(a - b);
  return diff <= 1e-12 || diff <= 1e-6 * std::max(std::fabs(a), std::fabs(b));
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return absl::StrFormat("%.17g", v);
}

std::string FormatTime(int64_t ms) { return absl::StrFormat("%d.%03d", ms / 1000, ms % 1000); }

struct Point {
  int64_t t = 0;
  double v = 0;
};

// One answer of /api/v1/query or /api/v1/query_range, reduced to what is compared.
// What every API answer has: its HTTP status, envelope and raw body.
struct Envelope {
  int http_status = 0;
  std::string status;  // "success" or "error"; "" when the body is not the API's JSON
  std::string error_type, error;
  std::string body;  // for failures that need the raw answer
};

// Parses e->body into `doc` and fills e's status, error_type and error. Returns the "data" of a
// success; null for an error answer, and (with status "") for a body that is not the API's JSON
// or a success without data.
const rapidjson::Value* ReadEnvelope(rapidjson::Document& doc, Envelope* e) {
  doc.Parse(e->body.data(), e->body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("status") ||
      !doc["status"].IsString()) {
    return nullptr;
  }
  e->status = doc["status"].GetString();
  if (e->status != "success") {
    if (doc.HasMember("errorType") && doc["errorType"].IsString()) {
      e->error_type = doc["errorType"].GetString();
    }
    if (doc.HasMember("error") && doc["error"].IsString()) e->error = doc["error"].GetString();
    return nullptr;
  }
  if (!doc.HasMember("data")) {
    e->status = "";
    return nullptr;
  }
  return &doc["data"];
}

// A query answer reduced to what is compared.
struct Answer : Envelope {
  std::string result_type;
  // Label set (canonical text) -> points, in the order of the answer; scalars and strings are
  // one entry with the key "".
  std::vector<std::pair<std::string, std::vector<Point>>> series;
  std::string string_value;
};

std::string LabelsKey(const rapidjson::Value& metric) {
  std::vector<std::pair<std::string, std::string>> labels;
  for (const auto& m : metric.GetObject()) {
    labels.push_back({m.name.GetString(), m.value.IsString() ? m.value.GetString() : "?"});
  }
  std::sort(labels.begin(), labels.end());
  std::vector<std::string> parts;
  for (const auto& [name, value] : labels) {
    parts.push_back(absl::StrCat(name, "=\"", absl::CEscape(value), "\""));
  }
  return absl::StrCat("{", absl::StrJoin(parts, ", "), "}");
}

// Parses [t, "v"]; false when malformed.
bool ParsePoint(const rapidjson::Value& p, Point* out) {
  if (!p.IsArray() || p.Size() != 2 || !p[0].IsNumber() || !p[1].IsString()) return false;
  out->t = std::llround(p[0].GetDouble() * 1000);
  return ParseValue(p[1].GetString(), &out->v);
}

Answer ParseAnswer(int http_status, std::string body) {
  Answer a;
  a.http_status = http_status;
  a.body = std::move(body);
  rapidjson::Document doc;
  const rapidjson::Value* data_or_null = ReadEnvelope(doc, &a);
  if (data_or_null == nullptr) return a;
  if (!data_or_null->IsObject()) {
    a.status = "";
    return a;
  }
  const rapidjson::Value& data = *data_or_null;
  if (!data.HasMember("resultType") || !data["resultType"].IsString() ||
      !data.HasMember("result")) {
    a.status = "";
    return a;
  }
  a.result_type = data["resultType"].GetString();
  const rapidjson::Value& result = data["result"];
  auto malformed = [&] {
    a.status = "";
    a.series.clear();
  };
  if (a.result_type == "scalar" || a.result_type == "string") {
    Point p;
    if (!result.IsArray() || result.Size() != 2 || !result[0].IsNumber() || !result[1].IsString()) {
      malformed();
      return a;
    }
    p.t = std::llround(result[0].GetDouble() * 1000);
    if (a.result_type == "string") {
      a.string_value = result[1].GetString();
    } else if (!ParseValue(result[1].GetString(), &p.v)) {
      malformed();
      return a;
    }
    a.series.push_back({"", {p}});
    return a;
  }
  if (!result.IsArray()) {
    malformed();
    return a;
  }
  for (const rapidjson::Value& s : result.GetArray()) {
    if (!s.IsObject() || !s.HasMember("metric") || !s["metric"].IsObject()) {
      malformed();
      return a;
    }
    std::vector<Point> points;
    Point p;
    if (a.result_type == "vector") {
      if (!s.HasMember("value") || !ParsePoint(s["value"], &p)) {
        malformed();
        return a;
      }
      points.push_back(p);
    } else {
      if (!s.HasMember("values") || !s["values"].IsArray()) {
        malformed();
        return a;
      }
      for (const rapidjson::Value& v : s["values"].GetArray()) {
        if (!ParsePoint(v, &p)) {
          malformed();
          return a;
        }
        points.push_back(p);
      }
    }
    a.series.push_back({LabelsKey(s["metric"]), std::move(points)});
  }
  return a;
}

std::string UrlEncode(absl::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  return out;
}

std::string FormatRfc3339(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

// One evaluation of a query: instant at `time`, or a range.
struct Eval {
  bool instant = true;
  int64_t time = 0;
  Range range{};
  Encoding encoding = Encoding::kFloat;
  std::string Describe() const {
    const char* how = encoding == Encoding::kPost      ? ", POST"
                      : encoding == Encoding::kRfc3339 ? ", RFC 3339"
                                                       : "";
    return instant ? absl::StrCat("instant at ", FormatTime(time), " (start+",
                                  FormatTime(time - kStart), "s", how, ")")
                   : absl::StrCat("range ", FormatTime(range.start), "..", FormatTime(range.end),
                                  " step ", FormatTime(range.step), "s", how);
  }
  // The form parameters after the query's.
  std::string Params() const {
    auto t = [&](int64_t ms) {
      return encoding == Encoding::kRfc3339 ? FormatRfc3339(ms) : FormatTime(ms);
    };
    if (instant) return absl::StrCat("&time=", UrlEncode(t(time)));
    return absl::StrCat("&start=", UrlEncode(t(range.start)), "&end=", UrlEncode(t(range.end)),
                        "&step=",
                        encoding == Encoding::kRfc3339 ? absl::StrCat(range.step / 1000, "s")
                                                       : FormatTime(range.step));
  }
};

Answer Ask(HttpClient& client, const std::string& base, const std::string& expr, const Eval& e) {
  HttpClientRequest req;
  const std::string path = e.instant ? "/api/v1/query" : "/api/v1/query_range";
  const std::string form = absl::StrCat("query=", UrlEncode(expr), e.Params());
  if (e.encoding == Encoding::kPost) {
    req.method = "POST";
    req.url = base + path;
    req.headers.Add("Content-Type", "application/x-www-form-urlencoded");
    req.body = form;
  } else {
    req.url = absl::StrCat(base, path, "?", form);
  }
  req.retryable = false;
  absl::StatusOr<HttpClientResponse> resp = client.Send(req);
  if (!resp.ok()) {
    Answer a;
    a.body = resp.status().ToString();
    return a;
  }
  return ParseAnswer(resp->status, std::move(resp->body));
}

// Whether PromQL defines the order of the query's instant result.
bool OrderDefined(absl::string_view expr) {
  expr = absl::StripAsciiWhitespace(expr);
  if (absl::StartsWith(expr, "sort(") || absl::StartsWith(expr, "sort_desc(")) return true;
  if (absl::StartsWith(expr, "topk(") || absl::StartsWith(expr, "bottomk(")) {
    return !absl::StrContains(expr, " by ") && !absl::StrContains(expr, " without ") &&
           !absl::StrContains(expr, ") by") && !absl::StrContains(expr, ") without");
  }
  return false;
}

// The text of an execution error up to its first label set or list, which name series in an
// order the implementations need not share.
absl::string_view ErrorHead(absl::string_view error) {
  const size_t cut = error.find_first_of("{[");
  return cut == absl::string_view::npos ? error : error.substr(0, cut);
}

std::string FirstValue(const std::vector<Point>& points) {
  return points.empty() ? "none" : FormatValue(points.front().v);
}

// What differs between Prometheus's answer `want` and ours `got`, one finding per entry (the
// first word is its kind, for the summary); empty when they agree.
std::vector<std::string> Compare(const Answer& want, const Answer& got, bool ordered) {
  std::vector<std::string> out;
  if (want.status.empty()) {
    out.push_back(absl::StrCat("harness: Prometheus's answer is not API JSON: HTTP ",
                               want.http_status, " ", want.body.substr(0, 300)));
    return out;
  }
  if (want.status == "error" && absl::StartsWith(want.error, "invalid parameter") &&
      !absl::StartsWith(want.error, "invalid parameter \"query\"")) {
    out.push_back(absl::StrCat("harness: Prometheus rejects the request: ", want.error));
    return out;
  }
  if (got.status.empty()) {
    out.push_back(absl::StrCat("malformed: our answer is not API JSON: HTTP ", got.http_status, " ",
                               got.body.substr(0, 300)));
    return out;
  }
  if (want.status != got.status) {
    if (want.status == "error") {
      out.push_back(absl::StrCat("missing-error: Prometheus fails with ", want.error_type, ": ",
                                 want.error, "; ours succeeds with a ", got.result_type));
    } else {
      out.push_back(absl::StrCat("unexpected-error: ours fails with ", got.error_type, ": ",
                                 got.error, "; Prometheus answers a ", want.result_type));
    }
    return out;
  }
  if (want.http_status != got.http_status) {
    out.push_back(
        absl::StrCat("http-status: Prometheus ", want.http_status, ", ours ", got.http_status));
  }
  if (want.status == "error") {
    if (want.error_type != got.error_type) {
      out.push_back(absl::StrCat("error-type: Prometheus ", want.error_type, " (", want.error,
                                 "), ours ", got.error_type, " (", got.error, ")"));
    } else if (want.error_type == "bad_data" ? want.error != got.error
                                             : ErrorHead(want.error) != ErrorHead(got.error)) {
      out.push_back(absl::StrCat("error-text:\n      Prometheus: ", want.error,
                                 "\n      ours:       ", got.error));
    }
    return out;
  }
  if (want.result_type != got.result_type) {
    out.push_back(
        absl::StrCat("result-type: Prometheus ", want.result_type, ", ours ", got.result_type));
    return out;
  }
  if (want.result_type == "string" && want.string_value != got.string_value) {
    out.push_back(
        absl::StrCat("values: string \"", want.string_value, "\" vs \"", got.string_value, "\""));
  }
  std::map<std::string, const std::vector<Point>*> theirs, ours;
  for (const auto& [k, v] : want.series) theirs[k] = &v;
  for (const auto& [k, v] : got.series) {
    if (!ours.emplace(k, &v).second) {
      out.push_back(absl::StrCat("duplicate-series: ours returns ", k, " twice"));
    }
  }
  int reported = 0;
  constexpr int kMaxReported = 8;
  for (const auto& [k, v] : theirs) {
    if (ours.count(k)) continue;
    if (reported++ < kMaxReported) {
      out.push_back(absl::StrCat("missing-series: ", k, " (Prometheus: ", v->size(),
                                 " points, first ", FirstValue(*v), ")"));
    }
  }
  for (const auto& [k, v] : ours) {
    if (theirs.count(k)) continue;
    if (reported++ < kMaxReported) {
      out.push_back(absl::StrCat("extra-series: ", k, " (ours: ", v->size(), " points, first ",
                                 FirstValue(*v), ")"));
    }
  }
  for (const auto& [k, want_points] : theirs) {
    auto it = ours.find(k);
    if (it == ours.end()) continue;
    const std::vector<Point>& got_points = *it->second;
    std::map<int64_t, double> w, g;
    for (const Point& p : *want_points) w[p.t] = p.v;
    for (const Point& p : got_points) g[p.t] = p.v;
    std::vector<std::string> diffs;
    for (const auto& [t, v] : w) {
      auto gi = g.find(t);
      if (gi == g.end()) {
        diffs.push_back(absl::StrCat("timestamps: ", k, " @", FormatTime(t),
                                     ": only Prometheus has a point (", FormatValue(v), ")"));
      } else if (!SameValue(v, gi->second)) {
        diffs.push_back(absl::StrCat("values: ", k, " @", FormatTime(t), ": Prometheus ",
                                     FormatValue(v), ", ours ", FormatValue(gi->second)));
      }
    }
    for (const auto& [t, v] : g) {
      if (!w.count(t)) {
        diffs.push_back(absl::StrCat("timestamps: ", k, " @", FormatTime(t),
                                     ": only ours has a point (", FormatValue(v), ")"));
      }
    }
    if (!diffs.empty() && reported < kMaxReported) {
      const size_t n = diffs.size();
      for (size_t i = 0; i < n && reported < kMaxReported; ++i, ++reported) {
        out.push_back(diffs[i]);
      }
      if (n > 1) out.back() += absl::StrCat(" (", n, " differing points in this series)");
    } else if (!diffs.empty()) {
      out.push_back(absl::StrCat(diffs.front(), " (and more)"));
    }
  }
  if (ordered && want.result_type == "vector" && out.empty()) {
    for (size_t i = 0; i < want.series.size() && i < got.series.size(); ++i) {
      if (!SameValue(want.series[i].second.front().v, got.series[i].second.front().v)) {
        out.push_back(absl::StrCat("order: position ", i, ": Prometheus ", want.series[i].first,
                                   " ", FormatValue(want.series[i].second.front().v), ", ours ",
                                   got.series[i].first, " ",
                                   FormatValue(got.series[i].second.front().v)));
        break;
      }
    }
  }
  return out;
}

// The peers under test, started on the same blocks.
class Peers {
 public:
  // Starts Prometheus and, unless SEXTANT_PROMQL_DIFF_PEER=prometheus, `sextant server`, on
  // copies of the data; waits (bounded) until both answer queries. `max_samples` > 0 sets both
  // peers' samples-per-query limit.
  absl::Status Start(const testing::TempDir& dir, int64_t max_samples = 0) {
    const char* peer = std::getenv("SEXTANT_PROMQL_DIFF_PEER");
    const bool ours_is_prometheus = peer != nullptr && std::string(peer) == "prometheus";
    for (const std::string name : {"prometheus-data", "ours-data"}) {
      absl::StatusOr<int64_t> n = bench::WritePromqlBlocks(
          dir.Path(name), bench::DifferentialSeries(kStart, kSeed), 2 * 60 * kMin);
      if (!n.ok()) return n.status();
    }
    const std::string config = dir.WriteFile("prometheus.yml",
                                             "global:\n  scrape_interval: 15s\n"
                                             "  evaluation_interval: 1m\n");
    auto start_prometheus = [&](const std::string& data, const std::string& log,
                                std::string* base) -> absl::StatusOr<testing::Subprocess> {
      absl::StatusOr<int> port = testing::PickFreePort();
      if (!port.ok()) return port.status();
      *base = absl::StrCat("http://127.0.0.1:", *port);
      return testing::Subprocess::Start(
          {"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + data,
           "--storage.tsdb.retention.time=100y", "--web.listen-address=" + base->substr(7),
           "--log.level=warn",
           max_samples > 0 ? absl::StrCat("--query.max-samples=", max_samples)
                           : "--log.format=logfmt"},
          log);
    };
    for (int attempt = 0; attempt < 3; ++attempt) {
      absl::StatusOr<testing::Subprocess> p =
          start_prometheus(dir.Path("prometheus-data"), dir.Path("prometheus.log"), &prom_base_);
      if (!p.ok()) return p.status();
      prometheus_.emplace(std::move(*p));
      if (WaitReady(*prometheus_, prom_base_).ok()) break;
      prometheus_.reset();  // a port taken between picking and binding: try another
    }
    if (!prometheus_) {
      return absl::UnavailableError(
          absl::StrCat("Prometheus did not become ready; log:\n",
                       testing::ReadFileOrDie(dir.Path("prometheus.log"))));
    }
    ours_name_ = ours_is_prometheus ? "a second Prometheus" : "sextant server";
    auto start_ours = [&]() -> absl::StatusOr<testing::Subprocess> {
      if (ours_is_prometheus) {
        return start_prometheus(dir.Path("ours-data"), dir.Path("ours.log"), &ours_base_);
      }
      absl::StatusOr<int> port = testing::PickFreePort();
      if (!port.ok()) return port.status();
      ours_base_ = absl::StrCat("http://127.0.0.1:", *port);
      const std::string ours_config = dir.WriteFile(
          "sextant.yaml",
          max_samples > 0
              ? absl::StrCat("server:\n  limits:\n    querySamples: ", max_samples, "\n")
              : "{}\n");
      return testing::Subprocess::Start(
          {testing::BinaryPath("sextant"), "server", "--config=" + ours_config,
           "--listen=" + ours_base_.substr(7), "--data-dir=" + dir.Path("ours-data")},
          dir.Path("ours.log"));
    };
    absl::Status ready;
    for (int attempt = 0; attempt < 3; ++attempt) {
      absl::StatusOr<testing::Subprocess> p = start_ours();
      if (!p.ok()) return p.status();
      ours_.emplace(std::move(*p));
      ready = WaitReady(*ours_, ours_base_);
      if (ready.ok()) break;
      ours_.reset();
      if (absl::IsNotFound(ready)) break;  // it runs but has no query API: no use retrying
    }
    if (!ours_) {
      return absl::UnavailableError(absl::StrCat(ours_name_, " did not answer /api/v1/query (",
                                                 ready.message(), "); log:\n",
                                                 testing::ReadFileOrDie(dir.Path("ours.log"))));
    }
    return absl::OkStatus();
  }

  const std::string& prom_base() const { return prom_base_; }
  const std::string& ours_base() const { return ours_base_; }
  const std::string& ours_name() const { return ours_name_; }

 private:
  // Until `base` answers `1+1` with 200, for at most 30 s or until the process exits.
  absl::Status WaitReady(testing::Subprocess& process, const std::string& base) {
    HttpClientOptions options;
    options.timeout = absl::Seconds(2);
    options.retry.max_attempts = 1;
    absl::StatusOr<std::unique_ptr<CurlHttpClient>> client = CurlHttpClient::Create(options);
    if (!client.ok()) return client.status();
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    std::string last = "no answer";
    while (absl::Now() < deadline && process.Running()) {
      HttpClientRequest req;
      req.url = base + "/api/v1/query?query=1%2B1&time=1";
      absl::StatusOr<HttpClientResponse> resp = (*client)->Send(req);
      if (resp.ok() && resp->status == 200) return absl::OkStatus();
      if (resp.ok() && resp->status == 404) return absl::NotFoundError(base + ": HTTP 404");
      last = resp.ok() ? absl::StrCat("HTTP ", resp->status, " ", resp->body.substr(0, 200))
                       : resp.status().ToString();
      absl::SleepFor(absl::Milliseconds(100));
    }
    return absl::UnavailableError(absl::StrCat(base, ": ", last));
  }

  std::optional<testing::Subprocess> prometheus_, ours_;
  std::string prom_base_, ours_base_, ours_name_;
};

TEST(PromqlDifferentialCorpusTest, CoversEveryFunctionOperatorAndAggregation) {
  const std::vector<Query> corpus = LoadCorpus();
  EXPECT_GE(corpus.size(), 300u);
  std::string all;
  for (const Query& q : corpus) absl::StrAppend(&all, q.expr, "\n");
  // Prometheus 2.42's functions (the parser's table, which parser_test checks against 2.42's
  // list) and aggregations.
  std::vector<std::string> names;
  for (const promql::Function* f : promql::AllFunctions()) names.push_back(f->name);
  for (promql::AggregateOp op :
       {promql::AggregateOp::kSum, promql::AggregateOp::kAvg, promql::AggregateOp::kCount,
        promql::AggregateOp::kMin, promql::AggregateOp::kMax, promql::AggregateOp::kGroup,
        promql::AggregateOp::kStddev, promql::AggregateOp::kStdvar, promql::AggregateOp::kTopk,
        promql::AggregateOp::kBottomk, promql::AggregateOp::kCountValues,
        promql::AggregateOp::kQuantile}) {
    names.emplace_back(promql::AggregateOpString(op));
  }
  for (const std::string& f : names) {
    EXPECT_TRUE(absl::StrContains(all, absl::StrCat(f, "(")) ||
                absl::StrContains(all, absl::StrCat(f, " by")) ||
                absl::StrContains(all, absl::StrCat(f, " without")))
        << "no query calls " << f;
  }
  for (const char* op :
       {" + ",         " - ",         " * ",          " / ",       " % ",      " ^ ",
        " == ",        " != ",        " > ",          " < ",       " >= ",     " <= ",
        " and ",       " or ",        " unless ",     " atan2 ",   " bool ",   " on (",
        " ignoring (", " group_left", " group_right", " offset -", " offset ", " @ ",
        "@ start()",   "@ end()",     ":1m]",         ":]",        "\"",       "'",
        "`",           "=~",          "!~",           "!="}) {
    EXPECT_TRUE(absl::StrContains(all, op)) << "no query uses '" << op << "'";
  }
  int errors = 0;
  for (const Query& q : corpus) errors += q.expect_error;
  EXPECT_GE(errors, 30);
}

// Starts both peers once for the tests that query them.
class PromqlDifferentialTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir;
    peers_ = new Peers;
    started_ = new absl::Status(peers_->Start(*dir_));
  }
  static void TearDownTestSuite() {
    delete peers_;  // stops the processes before their directory goes
    delete dir_;
    delete started_;
  }
  void SetUp() override { ASSERT_TRUE(started_->ok()) << *started_; }

  static testing::TempDir* dir_;
  static Peers* peers_;
  static absl::Status* started_;
};
testing::TempDir* PromqlDifferentialTest::dir_ = nullptr;
Peers* PromqlDifferentialTest::peers_ = nullptr;
absl::Status* PromqlDifferentialTest::started_ = nullptr;

TEST_F(PromqlDifferentialTest, SameAnswersAsPrometheus) {
  std::vector<Query> corpus = LoadCorpus();
  ASSERT_FALSE(corpus.empty());
  if (const char* filter = std::getenv("SEXTANT_PROMQL_DIFF_FILTER")) {
    corpus.erase(std::remove_if(corpus.begin(), corpus.end(),
                                [&](const Query& q) { return !absl::StrContains(q.expr, filter); }),
                 corpus.end());
  }
  const Peers& peers = *peers_;

  std::vector<Eval> evals;
  for (const Instant& i : kInstants) evals.push_back({true, i.time, {}, i.encoding});
  for (const Range& r : kRanges) evals.push_back({false, 0, r, r.encoding});

  HttpClientOptions options;
  options.timeout = absl::Seconds(30);
  options.retry.max_attempts = 1;
  absl::StatusOr<std::unique_ptr<CurlHttpClient>> client = CurlHttpClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();

  // Per query: its findings, each prefixed with the evaluation, for the first few evaluations
  // that differ; how many differ in all.
  struct Outcome {
    std::vector<std::string> findings;
    int differing_evals = 0;
    std::set<std::string> kinds;
    std::string expectation;  // set when Prometheus's answer contradicts the corpus
  };
  std::vector<Outcome> outcomes(corpus.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < corpus.size(); i = next++) {
      const Query& q = corpus[i];
      Outcome& o = outcomes[i];
      for (size_t e = 0; e < evals.size(); ++e) {
        const Answer want = Ask(**client, peers.prom_base(), q.expr, evals[e]);
        const Answer got = Ask(**client, peers.ours_base(), q.expr, evals[e]);
        if (e == kExpectationTime && (want.status == "error") != q.expect_error) {
          o.expectation = absl::StrCat(
              "corpus line ", q.line, ": Prometheus ",
              want.status == "error" ? absl::StrCat("rejects it: ", want.error) : "accepts it",
              q.expect_error ? ", but the corpus expects an error" : "");
        }
        const std::vector<std::string> found =
            Compare(want, got, evals[e].instant && OrderDefined(q.expr));
        if (found.empty()) continue;
        constexpr int kMaxEvalsReported = 3;
        if (++o.differing_evals > kMaxEvalsReported) continue;
        for (const std::string& f : found) {
          o.kinds.insert(std::string(f.substr(0, f.find(':'))));
          o.findings.push_back(absl::StrCat("  ", evals[e].Describe(), ": ", f));
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(worker);
  for (std::thread& t : threads) t.join();

  std::map<std::string, std::vector<std::string>> by_kind;
  size_t matched = 0;
  for (size_t i = 0; i < corpus.size(); ++i) {
    const Query& q = corpus[i];
    const Outcome& o = outcomes[i];
    if (!o.expectation.empty()) ADD_FAILURE() << q.expr << "\n  " << o.expectation;
    if (o.findings.empty()) {
      ++matched;
      continue;
    }
    for (const std::string& k : o.kinds) by_kind[k].push_back(q.expr);
    ADD_FAILURE() << "query (corpus line " << q.line << "): " << q.expr << "\n"
                  << absl::StrJoin(o.findings, "\n") << "\n  (" << o.differing_evals << " of "
                  << evals.size() << " evaluations differ)";
  }
  std::string summary = absl::StrCat(matched, " of ", corpus.size(), " queries gave the same ",
                                     "answers from Prometheus and ", peers.ours_name(), " in ",
                                     evals.size(), " evaluations each\n");
  for (const auto& [kind, queries] : by_kind) {
    absl::StrAppend(&summary, "  ", kind, ": ", queries.size(), " queries\n");
  }
  std::cout << summary;
  EXPECT_EQ(matched, corpus.size()) << summary;
}

// A metadata answer (labels, label values, series) reduced to what is compared.
struct ListAnswer : Envelope {
  std::vector<std::string> items;  // strings, or label sets as LabelsKey
};

ListAnswer AskList(HttpClient& client, const std::string& url) {
  ListAnswer a;
  HttpClientRequest req;
  req.url = url;
  req.retryable = false;
  absl::StatusOr<HttpClientResponse> resp = client.Send(req);
  if (!resp.ok()) {
    a.body = resp.status().ToString();
    return a;
  }
  a.http_status = resp->status;
  a.body = std::move(resp->body);
  rapidjson::Document doc;
  const rapidjson::Value* data = ReadEnvelope(doc, &a);
  if (data == nullptr) return a;
  if (!data->IsArray()) {
    a.status = "";
    return a;
  }
  for (const rapidjson::Value& v : data->GetArray()) {
    a.items.push_back(v.IsString() ? v.GetString() : v.IsObject() ? LabelsKey(v) : "?");
  }
  return a;
}

// `path` with each form value of its query string (after '?') URL-encoded.
std::string EncodeRequest(absl::string_view path_and_query) {
  const size_t q = path_and_query.find('?');
  if (q == absl::string_view::npos) return std::string(path_and_query);
  std::vector<std::string> params;
  for (absl::string_view kv : absl::StrSplit(path_and_query.substr(q + 1), '&')) {
    const size_t eq = kv.find('=');
    params.push_back(eq == absl::string_view::npos ? UrlEncode(kv)
                                                   : absl::StrCat(UrlEncode(kv.substr(0, eq)), "=",
                                                                  UrlEncode(kv.substr(eq + 1))));
  }
  return absl::StrCat(path_and_query.substr(0, q + 1), absl::StrJoin(params, "&"));
}

// The metadata endpoints, and the query endpoints' parameter handling and errors, on the same
// data: same status, errorType and (bad_data) text; labels and values in the same order, series
// as the same set.
TEST_F(PromqlDifferentialTest, SameMetadataAndParameterErrorsAsPrometheus) {
  const Peers& peers = *peers_;
  const std::string t = FormatTime(kStart + 80 * kMin);
  const std::string early =
      absl::StrCat("start=", FormatTime(kStart), "&end=", FormatTime(kStart + 30 * kMin));
  const std::vector<std::string> lists = {
      "/api/v1/labels",
      "/api/v1/labels?match[]=up",
      "/api/v1/labels?match[]=escape_metric&match[]=dup_info",
      "/api/v1/labels?match[]={__name__=~\"stale_.*\"}&" + early,
      "/api/v1/label/job/values",
      "/api/v1/label/__name__/values",
      "/api/v1/label/path/values",
      "/api/v1/label/le/values?match[]=http_request_duration_seconds_bucket",
      "/api/v1/label/case/values?match[]=stale_series&" + early,
      "/api/v1/label/nonexistent/values",
      "/api/v1/series?match[]=up&match[]=service_info",
      "/api/v1/series?match[]={job=\"api\",__name__=~\"up|dup_info\"}",
      "/api/v1/series?match[]=escape_metric",
      "/api/v1/series?match[]=stale_series&" + early,
      "/api/v1/series",
      "/api/v1/series?match[]=up{",
      "/api/v1/labels?match[]=up{",
  };
  const std::vector<std::string> queries = {
      "/api/v1/query",
      "/api/v1/query?query=",
      "/api/v1/query?query=up&time=abc",
      "/api/v1/query?query=up&time=2023-11-14T23:20:00.5Z",
      "/api/v1/query?query=up&time=2023-11-15T00:20:00%2B01:00",
      "/api/v1/query?query=up&time=" + t + "&timeout=10s",
      "/api/v1/query?query=up&time=" + t + "&timeout=abc",
      "/api/v1/query_range?query=up",
      "/api/v1/query_range?query=up&start=" + t + "&end=" + t + "&step=0",
      "/api/v1/query_range?query=up&start=" + t + "&end=" + t + "&step=-15",
      "/api/v1/query_range?query=up&start=" + t + "&end=" + FormatTime(kStart) + "&step=15",
      "/api/v1/query_range?query=up&start=" + FormatTime(kStart) + "&end=" + t + "&step=0.1",
      "/api/v1/query_range?query=up&start=" + FormatTime(kStart) + "&end=" + t + "&step=1m",
      "/api/v1/query_range?query=up&start=" + FormatTime(kStart) + "&end=" + t + "&step=1m30s",
      "/api/v1/query_range?query=up&start=" + FormatTime(kStart) + "&end=" + t + "&step=abc",
      "/api/v1/query_range?query=up&start=abc&end=" + t + "&step=60",
      "/api/v1/query_range?query=1&start=" + t + "&end=" + t + "&step=60",
      "/api/v1/query_range?query=up[5m]&start=" + t + "&end=" + t + "&step=60",
      "/api/v1/query_range?query=\"s\"&start=" + t + "&end=" + t + "&step=60",
  };

  HttpClientOptions options;
  options.timeout = absl::Seconds(30);
  options.retry.max_attempts = 1;
  absl::StatusOr<std::unique_ptr<CurlHttpClient>> client = CurlHttpClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  for (const std::string& r : lists) {
    const ListAnswer want = AskList(**client, peers.prom_base() + EncodeRequest(r));
    const ListAnswer got = AskList(**client, peers.ours_base() + EncodeRequest(r));
    ASSERT_FALSE(want.status.empty()) << r << ": Prometheus: " << want.body;
    if (got.status.empty()) {
      ADD_FAILURE() << r << ": our answer is not API JSON: HTTP " << got.http_status << " "
                    << got.body.substr(0, 300);
      continue;
    }
    EXPECT_EQ(want.http_status, got.http_status) << r;
    EXPECT_EQ(want.status, got.status)
        << r << "\n  Prometheus: " << want.error << "\n  ours: " << got.error;
    EXPECT_EQ(want.error_type, got.error_type) << r;
    if (want.error_type == "bad_data") {
      EXPECT_EQ(want.error, got.error) << r;
    }
    std::vector<std::string> w = want.items, g = got.items;
    if (absl::StartsWith(r, "/api/v1/series")) {  // order unspecified
      std::sort(w.begin(), w.end());
      std::sort(g.begin(), g.end());
    }
    EXPECT_EQ(w, g) << r;
  }
  for (const std::string& r : queries) {
    auto ask = [&](const std::string& base) {
      HttpClientRequest req;
      req.url = base + EncodeRequest(r);
      req.retryable = false;
      absl::StatusOr<HttpClientResponse> resp = (*client)->Send(req);
      if (!resp.ok()) {
        Answer a;
        a.body = resp.status().ToString();
        return a;
      }
      return ParseAnswer(resp->status, std::move(resp->body));
    };
    const Answer want = ask(peers.prom_base());
    const Answer got = ask(peers.ours_base());
    std::vector<std::string> found = Compare(want, got, false);
    // Here Prometheus rejecting the parameters is the point, not a harness problem.
    if (!found.empty() && absl::StartsWith(found.front(), "harness: Prometheus rejects")) {
      found.erase(found.begin());
      if (got.status != "error") {
        found.push_back(absl::StrCat("missing-error: Prometheus fails with ", want.error_type, ": ",
                                     want.error, "; ours succeeds"));
      } else if (want.error_type != got.error_type || want.error != got.error) {
        found.push_back(absl::StrCat("error-text:\n      Prometheus: ", want.error_type, ": ",
                                     want.error, "\n      ours:       ", got.error_type, ": ",
                                     got.error));
      }
    }
    EXPECT_TRUE(found.empty()) << r << "\n  " << absl::StrJoin(found, "\n  ");
  }
}

// With a samples-per-query limit of 1000 on both peers, the queries past it fail alike (422,
// execution, Prometheus's message) and those within it do not.
TEST(PromqlDifferentialLimitTest, SameSampleLimitErrorsAsPrometheus) {
  testing::TempDir dir;
  Peers peers;
  absl::Status started = peers.Start(dir, 1000);
  ASSERT_TRUE(started.ok()) << started;
  HttpClientOptions options;
  options.retry.max_attempts = 1;
  absl::StatusOr<std::unique_ptr<CurlHttpClient>> client = CurlHttpClient::Create(options);
  ASSERT_TRUE(client.ok()) << client.status();
  const Eval at{true, kStart + 80 * kMin, {}, Encoding::kFloat};
  const Eval over{
      false, 0, {kStart, kStart + 180 * kMin, 15000, Encoding::kFloat}, Encoding::kFloat};
  const std::vector<std::pair<std::string, Eval>> cases = {
      {"http_requests_total[3h]", at},  // 36 series x 720 samples
      {"sum(rate(http_requests_total[3h]))", at},
      {"max_over_time(up[3h:15s])", at},
      {"up", over},  // 6 series x 721 steps
      {"sum(up)", over},
      {"up", at},
      {"count_over_time(up[10m])", at},
      {"sum(up)",
       {false, 0, {kStart, kStart + 30 * kMin, 60000, Encoding::kFloat}, Encoding::kFloat}},
  };
  int errors = 0;
  for (const auto& [expr, eval] : cases) {
    const Answer want = Ask(**client, peers.prom_base(), expr, eval);
    const Answer got = Ask(**client, peers.ours_base(), expr, eval);
    errors += want.status == "error";
    const std::vector<std::string> found = Compare(want, got, false);
    EXPECT_TRUE(found.empty()) << expr << " " << eval.Describe() << "\n  "
                               << absl::StrJoin(found, "\n  ");
  }
  EXPECT_GE(errors, 3) << "the limit should stop the large queries";
}

}  // namespace
}  // namespace sextant
