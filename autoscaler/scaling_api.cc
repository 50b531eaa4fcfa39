#include "autoscaler/scaling_api.h"

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "kube/objects.h"

namespace sextant::autoscaler {
namespace {

std::string TargetText(const MetricTarget& t) {
  if (t.average_utilization.has_value()) return absl::StrCat(*t.average_utilization, "%");
  if (t.value_milli.has_value()) return FormatMilliQuantity(*t.value_milli);
  if (t.average_value_milli.has_value()) return FormatMilliQuantity(*t.average_value_milli);
  return "";
}

std::string CurrentText(const MetricStatus& s) {
  if (s.average_utilization.has_value()) return absl::StrCat(*s.average_utilization, "%");
  if (s.value_milli.has_value()) return FormatMilliQuantity(*s.value_milli);
  if (s.average_value_milli.has_value()) return FormatMilliQuantity(*s.average_value_milli);
  return "";
}

}  // namespace

std::string ScalingReportJson(const std::vector<PolicyReport>& policies) {
  JsonWriter w;
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("data");
  w.StartObject();
  w.Key("policies");
  w.StartArray();
  for (const PolicyReport& p : policies) {
    w.StartObject();
    w.Key("namespace");
    w.String(p.namespace_name);
    w.Key("name");
    w.String(p.name);
    w.Key("source");
    w.String(p.source);
    w.Key("target");
    w.StartObject();
    w.Key("apiVersion");
    w.String(p.target.api_version);
    w.Key("kind");
    w.String(p.target.kind);
    w.Key("name");
    w.String(p.target.name);
    w.EndObject();
    w.Key("minReplicas");
    w.Int(p.min_replicas);
    w.Key("maxReplicas");
    w.Int(p.max_replicas);
    w.Key("paused");
    w.Bool(p.paused);
    w.Key("currentReplicas");
    w.Int(p.current_replicas);
    w.Key("desiredReplicas");
    w.Int(p.desired_replicas);
    w.Key("lastDecision");
    if (p.last_decision_time.has_value()) {
      w.StartObject();
      w.Key("time");
      w.String(kube::FormatKubeMicroTime(*p.last_decision_time));
      w.Key("reason");
      w.String(p.last_reason);
      w.Key("code");
      w.String(p.last_code);
      w.EndObject();
    } else {
      w.Null();
    }
    w.Key("lastScaleTime");
    if (p.last_scale_time.has_value()) {
      w.String(kube::FormatKubeTime(*p.last_scale_time));
    } else {
      w.Null();
    }
    w.Key("error");
    w.String(p.error);
    w.Key("metrics");
    w.StartArray();
    for (const MetricSpec& m : p.metric_specs) {
      w.StartObject();
      w.Key("name");
      w.String(m.name);
      w.Key("type");
      w.String(MetricTypeName(m.type));
      if (m.type == MetricSpec::Type::kResource) {
        w.Key("resource");
        w.String(m.resource);
      } else {
        w.Key("query");
        w.String(m.query);
      }
      w.Key("target");
      w.String(TargetText(m.target));
      w.Key("current");
      const MetricStatus* current = nullptr;
      for (const MetricStatus& s : p.metrics) {
        if (s.name == m.name) current = &s;
      }
      if (current != nullptr) {
        w.String(CurrentText(*current));
      } else {
        w.Null();
      }
      w.EndObject();
    }
    w.EndArray();
    w.Key("conditions");
    w.StartArray();
    for (const PolicyCondition& c : p.conditions) WriteConditionJson(w, c);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return w.TakeString();
}

void RegisterScalingApi(HttpServer& server, std::function<std::vector<PolicyReport>()> report) {
  server.Handle("GET", "/api/v1/scaling", [report = std::move(report)](const HttpRequest&) {
    return HttpResponse::Json(200,
                              ScalingReportJson(report ? report() : std::vector<PolicyReport>{}));
  });
}

}  // namespace sextant::autoscaler
