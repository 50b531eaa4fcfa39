#include "autoscaler/metrics_source.h"

#include <cctype>
#include <cmath>
#include <set>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "aggregator/promql/go_float.h"
#include "aggregator/promql/parser.h"
#include "common/status_macros.h"
#include "prom/matcher.h"
#include "rapidjson/document.h"

namespace sextant::autoscaler {
namespace {

// Percent-encodes a query parameter value.
std::string UrlEncode(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// A failed query, as the cause the arithmetic wraps ("unable to get metric NAME: <this>").
absl::Status QueryError(const std::string& query, const absl::Status& error) {
  return absl::Status(error.code(), absl::StrCat("query ", query, ": ", error.message()));
}

absl::StatusOr<double> SampleValue(const rapidjson::Value& pair) {
  if (!pair.IsArray() || pair.Size() != 2 || !pair[1].IsString()) {
    return absl::InternalError("query answer: a sample is not [time, \"value\"]");
  }
  std::optional<double> v = promql::ParseGoFloat(pair[1].GetString());
  if (!v.has_value()) {
    return absl::InternalError(
        absl::StrCat("query answer: bad sample value ", pair[1].GetString()));
  }
  return *v;
}

}  // namespace

absl::StatusOr<std::vector<QuerySample>> EngineQueryClient::Query(const std::string& query,
                                                                  absl::Time time) {
  SEXTANT_ASSIGN_OR_RETURN(promql::ExprPtr expr, promql::ParseExpr(query));
  SEXTANT_ASSIGN_OR_RETURN(promql::QueryResult result,
                           engine_.InstantQuery(std::move(expr), absl::ToUnixMillis(time)));
  std::vector<QuerySample> out;
  if (const auto* scalar = std::get_if<promql::Scalar>(&result.value)) {
    out.push_back({prom::Labels(), scalar->v});
  } else if (const auto* vector = std::get_if<promql::Vector>(&result.value)) {
    out.reserve(vector->size());
    for (const promql::Sample& s : *vector) out.push_back({s.metric, s.v});
  } else {
    return absl::InvalidArgumentError("query must return an instant vector or a scalar");
  }
  return out;
}

HttpQueryClient::HttpQueryClient(HttpClient& http, std::string base_url)
    : http_(http), base_url_(absl::StripSuffix(base_url, "/")) {}

absl::StatusOr<std::vector<QuerySample>> HttpQueryClient::Query(const std::string& query,
                                                                absl::Time time) {
  HttpClientRequest request;
  request.url =
      absl::StrCat(base_url_, "/api/v1/query?query=", UrlEncode(query),
                   "&time=", promql::GoFormatFloat(absl::ToUnixMillis(time) / 1000.0, 'f'));
  SEXTANT_ASSIGN_OR_RETURN(HttpClientResponse response, http_.Send(request),
                           _.Prepend(absl::StrCat("query ", base_url_, ": ")));
  absl::StatusOr<std::vector<QuerySample>> parsed = ParseQueryResponse(response.body);
  if (response.status >= 500 || response.status == 429) {
    // The store is overloaded or down (Prometheus answers 503 for timeouts): worth a retry.
    return absl::UnavailableError(
        absl::StrCat("query ", base_url_, ": HTTP ", response.status,
                     parsed.ok() ? "" : absl::StrCat(": ", parsed.status().message())));
  }
  if (!parsed.ok()) {
    // Say what answered: a proxy's 404 page is not "a malformed answer" without context.
    return absl::Status(parsed.status().code(),
                        absl::StrCat("query ", base_url_, ": HTTP ", response.status, ": ",
                                     parsed.status().message()));
  }
  return parsed;
}

absl::StatusOr<std::vector<QuerySample>> ParseQueryResponse(absl::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InternalError("query answer is not a JSON object");
  }
  auto str = [&](const char* key) -> std::string {
    auto it = doc.FindMember(key);
    return it != doc.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
  };
  if (str("status") != "success") {
    std::string message = absl::StrCat(str("errorType"), ": ", str("error"));
    if (str("errorType") == "bad_data") return absl::InvalidArgumentError(message);
    return absl::FailedPreconditionError(message);
  }
  auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsObject()) {
    return absl::InternalError("query answer has no data");
  }
  const rapidjson::Value& d = data->value;
  auto type = d.FindMember("resultType");
  auto result = d.FindMember("result");
  if (type == d.MemberEnd() || !type->value.IsString() || result == d.MemberEnd()) {
    return absl::InternalError("query answer has no resultType/result");
  }
  std::string result_type = type->value.GetString();
  std::vector<QuerySample> out;
  if (result_type == "scalar") {
    SEXTANT_ASSIGN_OR_RETURN(double v, SampleValue(result->value));
    out.push_back({prom::Labels(), v});
    return out;
  }
  if (result_type != "vector" || !result->value.IsArray()) {
    return absl::InvalidArgumentError(
        absl::StrCat("query must return an instant vector or a scalar, not ", result_type));
  }
  for (const rapidjson::Value& e : result->value.GetArray()) {
    if (!e.IsObject() || !e.HasMember("metric") || !e["metric"].IsObject() ||
        !e.HasMember("value")) {
      return absl::InternalError("query answer: malformed vector element");
    }
    std::vector<prom::Label> labels;
    for (const auto& m : e["metric"].GetObject()) {
      if (!m.value.IsString()) return absl::InternalError("query answer: non-string label");
      labels.push_back({m.name.GetString(), m.value.GetString()});
    }
    SEXTANT_ASSIGN_OR_RETURN(prom::Labels l, prom::Labels::FromUnsorted(std::move(labels)),
                             _.Prepend("query answer: "));
    SEXTANT_ASSIGN_OR_RETURN(double v, SampleValue(e["value"]));
    out.push_back({std::move(l), v});
  }
  return out;
}

MetricsSource::MetricsSource(QueryClient& client, MetricsSourceOptions options)
    : client_(client), options_(options) {}

void MetricsSource::BeginSync(absl::Time now) {
  absl::MutexLock lock(&mu_);
  now_ = now;
  cache_.clear();
}

std::shared_ptr<const MetricsSource::Answer> MetricsSource::Cached(const std::string& query) {
  std::shared_ptr<Pending> pending;
  absl::Time now;
  bool mine = false;
  {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<Pending>& slot = cache_[query];
    if (slot == nullptr) {
      slot = std::make_shared<Pending>();
      mine = true;
    }
    pending = slot;
    now = now_;
  }
  // One thread runs each query once per sync; the others that want it meanwhile wait for it.
  if (!mine) {
    pending->done.WaitForNotification();
    return pending->answer;
  }
  auto answer = std::make_shared<Answer>();
  answer->samples = client_.Query(query, now);
  if (answer->samples.ok()) {
    for (size_t i = 0; i < answer->samples->size(); ++i) {
      const prom::Labels& l = (*answer->samples)[i].labels;
      absl::string_view pod = l.Get("pod");
      if (pod.empty()) continue;
      answer->by_pod[{std::string(l.Get("namespace")), std::string(pod)}].push_back(i);
    }
  }
  pending->answer = std::move(answer);
  pending->done.Notify();
  return pending->answer;
}

std::vector<const QuerySample*> MetricsSource::SamplesOf(const Answer& answer,
                                                         const std::string& namespace_name,
                                                         const std::string& pod,
                                                         bool unlabelled_namespace) {
  std::vector<const QuerySample*> out;
  for (const std::string& ns : {namespace_name, std::string()}) {
    if (ns.empty() && (!unlabelled_namespace || namespace_name.empty())) continue;
    auto it = answer.by_pod.find(std::make_pair(ns, pod));
    if (it == answer.by_pod.end()) continue;
    for (size_t i : it->second) out.push_back(&(*answer.samples)[i]);
  }
  return out;
}

std::string MetricsSource::ResourceQuery(const MetricSpec& metric) const {
  std::string selector = R"({container!="",container!="POD")";
  if (!metric.container.empty()) {
    absl::StrAppend(&selector, ",container=", prom::GoQuote(metric.container));
  }
  selector += "}";
  if (metric.resource == "cpu") {
    return absl::StrCat("sum by (namespace, pod) (rate(container_cpu_usage_seconds_total", selector,
                        "[", absl::ToInt64Seconds(options_.metric_window), "s]))");
  }
  return absl::StrCat("sum by (namespace, pod) (container_memory_working_set_bytes", selector, ")");
}

std::vector<hpa::MetricInput> MetricsSource::Read(const ScalingPolicySpec& spec,
                                                  const std::string& namespace_name,
                                                  const std::vector<hpa::PodInfo>& pods) {
  std::set<std::string> names;
  for (const hpa::PodInfo& p : pods) names.insert(p.name);
  std::vector<hpa::MetricInput> out;
  out.reserve(spec.metrics.size());
  for (const MetricSpec& m : spec.metrics) {
    hpa::MetricInput input;
    switch (m.type) {
      case MetricSpec::Type::kResource:
        input = ReadResource(m, namespace_name, names);
        break;
      case MetricSpec::Type::kPods:
        input = ReadPods(m, namespace_name, names);
        break;
      case MetricSpec::Type::kExternal:
        input = ReadExternal(m);
        break;
    }
    for (auto it = input.pods.begin(); it != input.pods.end();) {
      it = names.count(it->first) > 0 ? std::next(it) : input.pods.erase(it);
    }
    out.push_back(std::move(input));
  }
  return out;
}

hpa::MetricInput MetricsSource::ReadResource(const MetricSpec& metric,
                                             const std::string& namespace_name,
                                             const std::set<std::string>& pods) {
  hpa::MetricInput input;
  const std::string query = ResourceQuery(metric);
  std::shared_ptr<const Answer> answer = Cached(query);
  if (!answer->samples.ok()) {
    input.status = QueryError(query, answer->samples.status());
    return input;
  }
  absl::Time now;
  {
    absl::MutexLock lock(&mu_);
    now = now_;
  }
  const absl::Duration window =
      metric.resource == "cpu" ? options_.metric_window : absl::ZeroDuration();
  for (const std::string& pod : pods) {
    for (const QuerySample* s : SamplesOf(*answer, namespace_name, pod, false)) {
      absl::StatusOr<int64_t> milli = MilliFromDouble(s->value);
      if (!milli.ok()) continue;  // NaN (a counter reset at the wrong moment): no sample
      input.pods[pod] = {*milli, now, window};
    }
  }
  return input;
}

hpa::MetricInput MetricsSource::ReadPods(const MetricSpec& metric,
                                         const std::string& namespace_name,
                                         const std::set<std::string>& pods) {
  hpa::MetricInput input;
  std::shared_ptr<const Answer> answer = Cached(metric.query);
  if (!answer->samples.ok()) {
    input.status = QueryError(metric.query, answer->samples.status());
    return input;
  }
  absl::Time now;
  {
    absl::MutexLock lock(&mu_);
    now = now_;
  }
  // Only the target's pods count (other pods' series are not even duplicates); a series
  // without a namespace label counts for the policy's namespace.
  for (const std::string& pod : pods) {
    std::vector<const QuerySample*> samples = SamplesOf(*answer, namespace_name, pod, true);
    if (samples.size() > 1) {
      input.pods.clear();
      input.status = absl::InvalidArgumentError(
          absl::StrCat("query ", metric.query, " returned more than one series for pod ", pod));
      return input;
    }
    if (samples.empty()) continue;
    absl::StatusOr<int64_t> milli = MilliFromDouble(samples[0]->value);
    if (!milli.ok()) continue;  // NaN: no sample
    input.pods[pod] = {*milli, now, absl::ZeroDuration()};
  }
  return input;  // no sample at all is the arithmetic's "no metrics returned" error
}

hpa::MetricInput MetricsSource::ReadExternal(const MetricSpec& metric) {
  hpa::MetricInput input;
  std::shared_ptr<const Answer> cached = Cached(metric.query);
  const absl::StatusOr<std::vector<QuerySample>>& answer = cached->samples;
  if (!answer.ok()) {
    input.status = QueryError(metric.query, answer.status());
    return input;
  }
  if (answer->empty()) {
    input.status = absl::NotFoundError(absl::StrCat("query ", metric.query, " returned no data"));
    return input;
  }
  // The HPA sums the items of an external metric.
  int64_t total = 0;
  for (const QuerySample& s : *answer) {
    absl::StatusOr<int64_t> milli = MilliFromDouble(s.value);
    if (!milli.ok() || __builtin_add_overflow(total, *milli, &total)) {
      input.status = absl::InvalidArgumentError(
          absl::StrCat("query ", metric.query, " returned ", promql::GoFormatFloat(s.value, 'g')));
      return input;
    }
  }
  input.value_milli = total;
  return input;
}

}  // namespace sextant::autoscaler
