#include "autoscaler/replay.h"

#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/memorystream.h"

namespace sextant::autoscaler {
namespace {

using rapidjson::Value;

// Times in a scenario (`at`, pod offsets) stay within this many seconds of its start, so that
// every time the HPA arithmetic sees is finite.
constexpr double kMaxSeconds = 1e10;

// A pod's startTime or readyTransitionTime given as null (replay.h): the pod has none.
constexpr double kNoTime = std::numeric_limits<double>::quiet_NaN();

// The scenario's start: a fixed instant, so that a replay gives the same output every time.
const absl::Time kScenarioOrigin = absl::FromUnixSeconds(1'000'000'000);

absl::Status FieldError(absl::string_view path, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

std::string Str(const Value& v) { return std::string(v.GetString(), v.GetStringLength()); }

// "path.key", or "key" at the top level (path "").
std::string Member(absl::string_view path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

// Calls `field(key, value, path)` for every member of the object `v`, after checking that `v`
// is an object and that no key repeats.
template <typename F>
absl::Status ForEachMember(const Value& v, absl::string_view path, F field) {
  if (!v.IsObject()) return FieldError(path, "expected an object");
  std::set<std::string> seen;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    std::string key = Str(it->name);
    const std::string member_path = Member(path, key);
    if (!seen.insert(key).second) return FieldError(member_path, "duplicate key");
    SEXTANT_RETURN_IF_ERROR(field(key, it->value, member_path));
  }
  return absl::OkStatus();
}

absl::Status UnknownKey(absl::string_view path) { return FieldError(path, "unknown key"); }

// A JSON number that is a whole number (300 or 3e2); InvalidArgument otherwise.
absl::StatusOr<int64_t> WholeNumber(const Value& v, absl::string_view path) {
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsNumber()) {
    const double d = v.GetDouble();
    if (std::trunc(d) == d && std::fabs(d) < 9e15) return static_cast<int64_t>(d);
  }
  return FieldError(path, "expected a whole number");
}

absl::StatusOr<int64_t> WholeSeconds(const Value& v, absl::string_view path, int64_t min) {
  SEXTANT_ASSIGN_OR_RETURN(int64_t s, WholeNumber(v, path));
  if (s < min) return FieldError(path, absl::StrCat("must be at least ", min));
  return s;
}

absl::StatusOr<int32_t> Replicas(const Value& v, absl::string_view path) {
  SEXTANT_ASSIGN_OR_RETURN(int64_t n, WholeNumber(v, path));
  if (n < 0 || n > INT32_MAX) {
    return FieldError(path, absl::StrCat("must be between 0 and ", INT32_MAX));
  }
  return static_cast<int32_t>(n);
}

// Seconds relative to the scenario's start or to a step.
absl::StatusOr<double> Offset(const Value& v, absl::string_view path) {
  if (!v.IsNumber()) return FieldError(path, "expected a number of seconds");
  const double d = v.GetDouble();
  if (!(std::fabs(d) <= kMaxSeconds)) {
    return FieldError(path, absl::StrCat("out of range (at most ", kMaxSeconds, " seconds)"));
  }
  return d;
}

absl::StatusOr<bool> Bool(const Value& v, absl::string_view path) {
  if (!v.IsBool()) return FieldError(path, "expected true or false");
  return v.GetBool();
}

// A number or a Kubernetes quantity string, in milli-units.
absl::StatusOr<int64_t> Quantity(const Value& v, absl::string_view path) {
  if (v.IsString()) {
    const std::string text = Str(v);
    absl::StatusOr<int64_t> milli = ParseMilliQuantity(text);
    // "not a quantity: \"x\"", or why a well-formed one does not fit.
    if (!milli.ok()) return FieldError(path, milli.status().message());
    return *milli;
  }
  if (v.IsNumber()) {
    absl::StatusOr<int64_t> milli = MilliFromDouble(v.GetDouble());
    if (!milli.ok()) return FieldError(path, milli.status().message());
    return *milli;
  }
  return FieldError(path, "expected a number or a quantity string");
}

// {"NAME": quantity, ...}.
absl::Status QuantityMap(const Value& v, absl::string_view path, bool non_negative,
                         std::map<std::string, int64_t>* out) {
  return ForEachMember(
      v, path,
      [&](const std::string& key, const Value& value, const std::string& p) -> absl::Status {
        if (key.empty()) return FieldError(p, "empty name");
        SEXTANT_ASSIGN_OR_RETURN(int64_t milli, Quantity(value, p));
        if (non_negative && milli < 0) return FieldError(p, "must not be negative");
        (*out)[key] = milli;
        return absl::OkStatus();
      });
}

absl::Status ParseOptions(const Value& v, ScenarioOptions* out) {
  return ForEachMember(
      v, "options",
      [&](const std::string& key, const Value& value, const std::string& p) -> absl::Status {
        if (key == "tolerance") {
          if (!value.IsNumber() || !(value.GetDouble() >= 0)) {
            return FieldError(p, "expected a number >= 0");
          }
          out->tolerance = value.GetDouble();
        } else if (key == "downscaleStabilizationSeconds") {
          SEXTANT_ASSIGN_OR_RETURN(out->downscale_stabilization_seconds, WholeSeconds(value, p, 0));
        } else if (key == "cpuInitializationSeconds") {
          SEXTANT_ASSIGN_OR_RETURN(out->cpu_initialization_seconds, WholeSeconds(value, p, 0));
        } else if (key == "initialReadinessDelaySeconds") {
          SEXTANT_ASSIGN_OR_RETURN(out->initial_readiness_delay_seconds, WholeSeconds(value, p, 0));
        } else if (key == "metricWindowSeconds") {
          SEXTANT_ASSIGN_OR_RETURN(out->metric_window_seconds, WholeSeconds(value, p, 0));
        } else if (key == "syncSeconds") {
          SEXTANT_ASSIGN_OR_RETURN(out->sync_seconds, WholeSeconds(value, p, 1));
        } else {
          return FieldError(p,
                            "unknown option (known: tolerance, downscaleStabilizationSeconds, "
                            "cpuInitializationSeconds, initialReadinessDelaySeconds, "
                            "metricWindowSeconds, syncSeconds)");
        }
        return absl::OkStatus();
      });
}

absl::Status ParseScale(const Value& v, absl::string_view path, ScenarioStep* step) {
  SEXTANT_RETURN_IF_ERROR(ForEachMember(
      v, path,
      [&](const std::string& key, const Value& value, const std::string& p) -> absl::Status {
        if (key == "specReplicas") {
          SEXTANT_ASSIGN_OR_RETURN(step->spec_replicas, Replicas(value, p));
        } else if (key == "statusReplicas") {
          SEXTANT_ASSIGN_OR_RETURN(step->status_replicas, Replicas(value, p));
        } else {
          return UnknownKey(p);
        }
        return absl::OkStatus();
      }));
  if (!step->spec_replicas.has_value()) {
    return FieldError(Member(path, "specReplicas"), "required");
  }
  if (!step->status_replicas.has_value()) step->status_replicas = step->spec_replicas;
  return absl::OkStatus();
}

bool KnownPhase(absl::string_view phase) {
  return phase == "Pending" || phase == "Running" || phase == "Succeeded" || phase == "Failed" ||
         phase == "Unknown";
}

absl::Status ParsePod(const Value& v, absl::string_view path, ScenarioPod* pod) {
  bool has_name = false;
  bool has_ready = false;
  SEXTANT_RETURN_IF_ERROR(ForEachMember(
      v, path,
      [&](const std::string& key, const Value& value, const std::string& p) -> absl::Status {
        if (key == "name") {
          if (!value.IsString()) return FieldError(p, "expected a string");
          pod->name = Str(value);
          if (pod->name.empty()) return FieldError(p, "must not be empty");
          has_name = true;
        } else if (value.IsNull() && (key == "phase" || key == "deleting" || key == "requests" ||
                                      key == "usage" || key == "metrics")) {
          // An optional field given as null is as if omitted.
        } else if (key == "phase") {
          if (!value.IsString()) return FieldError(p, "expected a string");
          pod->phase = Str(value);
          if (!KnownPhase(pod->phase)) {
            return FieldError(p, absl::StrCat("unknown phase ", JsonQuote(pod->phase),
                                              " (Pending, Running, Succeeded, Failed or Unknown)"));
          }
        } else if (key == "ready") {
          has_ready = true;
          if (value.IsNull()) {
            pod->ready.reset();
          } else {
            SEXTANT_ASSIGN_OR_RETURN(pod->ready, Bool(value, p));
          }
        } else if (key == "startTime") {
          // null: the pod has no start time (absent keeps the default).
          if (value.IsNull()) {
            pod->start_time = kNoTime;
          } else {
            SEXTANT_ASSIGN_OR_RETURN(pod->start_time, Offset(value, p));
          }
        } else if (key == "readyTransitionTime") {
          if (value.IsNull()) {
            pod->ready_transition_time = kNoTime;
          } else {
            SEXTANT_ASSIGN_OR_RETURN(pod->ready_transition_time, Offset(value, p));
          }
        } else if (key == "deleting") {
          SEXTANT_ASSIGN_OR_RETURN(pod->deleting, Bool(value, p));
        } else if (key == "requests") {
          return QuantityMap(value, p, /*non_negative=*/true, &pod->requests_milli);
        } else if (key == "usage") {
          return QuantityMap(value, p, /*non_negative=*/true, &pod->usage_milli);
        } else if (key == "metrics") {
          return QuantityMap(value, p, /*non_negative=*/false, &pod->metrics_milli);
        } else {
          return UnknownKey(p);
        }
        return absl::OkStatus();
      }));
  if (!has_name) return FieldError(Member(path, "name"), "required");
  // A pending pod without a word about readiness has no Ready condition yet.
  if (!has_ready && pod->phase == "Pending") pod->ready.reset();
  return absl::OkStatus();
}

absl::Status ParseStep(const Value& v, absl::string_view path, ScenarioStep* step) {
  bool has_at = false;
  SEXTANT_RETURN_IF_ERROR(ForEachMember(
      v, path,
      [&](const std::string& key, const Value& value, const std::string& p) -> absl::Status {
        if (key == "at") {
          SEXTANT_ASSIGN_OR_RETURN(step->at, Offset(value, p));
          if (step->at < 0) return FieldError(p, "must not be negative");
          has_at = true;
        } else if (value.IsNull()) {
          // "scale", "pods" or "metrics": null is as if omitted.
          if (key != "scale" && key != "pods" && key != "metrics") return UnknownKey(p);
        } else if (key == "scale") {
          return ParseScale(value, p, step);
        } else if (key == "pods") {
          if (!value.IsArray()) return FieldError(p, "expected an array");
          std::set<std::string> names;
          for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
            const std::string pod_path = absl::StrCat(p, "[", i, "]");
            ScenarioPod pod;
            SEXTANT_RETURN_IF_ERROR(ParsePod(value[i], pod_path, &pod));
            if (!names.insert(pod.name).second) {
              return FieldError(Member(pod_path, "name"),
                                absl::StrCat("duplicate pod name ", JsonQuote(pod.name)));
            }
            step->pods.push_back(std::move(pod));
          }
        } else if (key == "metrics") {
          return QuantityMap(value, p, /*non_negative=*/false, &step->metrics_milli);
        } else {
          return UnknownKey(p);
        }
        return absl::OkStatus();
      }));
  if (!has_at) return FieldError(Member(path, "at"), "required");
  return absl::OkStatus();
}

absl::Status ParseDocument(const Value& doc, Scenario* out) {
  bool has_steps = false;
  SEXTANT_RETURN_IF_ERROR(ForEachMember(
      doc, "",
      [&](const std::string& key, const Value& value, const std::string& p) -> absl::Status {
        if (key == "options") {
          return value.IsNull() ? absl::OkStatus() : ParseOptions(value, &out->options);
        }
        if (key != "steps") return FieldError(p, "unknown key (known: options, steps)");
        if (!value.IsArray()) return FieldError(p, "expected an array");
        has_steps = true;
        for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
          const std::string step_path = absl::StrCat("steps[", i, "]");
          ScenarioStep step;
          SEXTANT_RETURN_IF_ERROR(ParseStep(value[i], step_path, &step));
          if (i == 0 && !step.spec_replicas.has_value()) {
            return FieldError(Member(step_path, "scale"),
                              "required in the first step (the starting size)");
          }
          if (i > 0 && !(step.at > out->steps.back().at)) {
            return FieldError(
                Member(step_path, "at"),
                absl::StrCat("must be after the previous step's (", out->steps.back().at, ")"));
          }
          out->steps.push_back(std::move(step));
        }
        return absl::OkStatus();
      }));
  if (!has_steps) return FieldError("steps", "required");
  if (out->steps.empty()) return FieldError("steps", "at least one step is required");
  return absl::OkStatus();
}

// The name of the one container each scenario pod has: the container the policy's Resource
// metrics are limited to, else "main".
absl::StatusOr<std::string> ContainerName(const ScalingPolicySpec& spec) {
  std::set<std::string> named;
  for (const MetricSpec& m : spec.metrics) {
    if (m.type == MetricSpec::Type::kResource && !m.container.empty()) named.insert(m.container);
  }
  if (named.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("a scenario pod has one container, but the policy's Resource metrics name "
                     "several: ",
                     absl::StrJoin(named, ", ")));
  }
  return named.empty() ? std::string("main") : *named.begin();
}

// Checks that every metric a step names is one of the policy's, of the right type.
absl::Status CheckMetricNames(const ScalingPolicySpec& spec, const ScenarioStep& step,
                              absl::string_view path) {
  auto has = [&](const std::string& name, MetricSpec::Type type) {
    for (const MetricSpec& m : spec.metrics) {
      if (m.name == name && m.type == type) return true;
    }
    return false;
  };
  for (size_t p = 0; p < step.pods.size(); ++p) {
    for (const auto& [name, value] : step.pods[p].metrics_milli) {
      if (!has(name, MetricSpec::Type::kPods)) {
        return FieldError(absl::StrCat(path, ".pods[", p, "].metrics.", name),
                          absl::StrCat("the policy has no Pods metric named ", JsonQuote(name)));
      }
    }
  }
  for (const auto& [name, value] : step.metrics_milli) {
    if (!has(name, MetricSpec::Type::kExternal)) {
      return FieldError(absl::StrCat(path, ".metrics.", name),
                        absl::StrCat("the policy has no External metric named ", JsonQuote(name)));
    }
  }
  return absl::OkStatus();
}

// What the metrics source would have read for `metric` at step time `now`. Errors carry the bare
// cause, as the metrics source's: the HPA arithmetic adds its "unable to get ..." prefixes.
hpa::MetricInput ReadMetric(const MetricSpec& metric, const ScenarioStep& step, absl::Time now,
                            absl::Duration window) {
  hpa::MetricInput input;
  switch (metric.type) {
    case MetricSpec::Type::kResource: {
      // As the metrics source: a cpu sample is a rate over the window, memory a gauge.
      const absl::Duration w = metric.resource == "cpu" ? window : absl::ZeroDuration();
      for (const ScenarioPod& pod : step.pods) {
        auto it = pod.usage_milli.find(metric.resource);
        if (it != pod.usage_milli.end()) input.pods[pod.name] = {it->second, now, w};
      }
      // No sample at all is an OK read with no pods, as the metrics source: the HPA arithmetic
      // says "no metrics returned from resource metrics API".
      break;
    }
    case MetricSpec::Type::kPods:
      for (const ScenarioPod& pod : step.pods) {
        auto it = pod.metrics_milli.find(metric.name);
        if (it != pod.metrics_milli.end()) {
          input.pods[pod.name] = {it->second, now, absl::ZeroDuration()};
        }
      }
      // No value at all: the arithmetic's "no metrics returned from custom metrics API".
      break;
    case MetricSpec::Type::kExternal:
      if (auto it = step.metrics_milli.find(metric.name); it != step.metrics_milli.end()) {
        input.value_milli = it->second;
      } else {
        // The bare cause: the HPA adds "unable to get external metric NAME: ".
        input.status = absl::NotFoundError(
            absl::StrCat("no value for external metric ", metric.name, " in the scenario step"));
      }
      break;
  }
  return input;
}

hpa::PodInfo PodInfoAt(const ScenarioPod& pod, absl::Time now, const std::string& container) {
  hpa::PodInfo info;
  info.name = pod.name;
  info.phase = pod.phase;
  info.deleting = pod.deleting;
  // Absent: started an hour before the step; null (NaN): no start time, which makes the pod
  // unready for cpu as upstream's StartTime == nil.
  const double start = pod.start_time.value_or(-3600);
  if (!std::isnan(start)) info.start_time = now + absl::Seconds(start);
  info.ready = pod.ready;
  // Absent: when the pod started; null, or absent with no start time: no transition time (as
  // the controller, the infinite past).
  const double transition = pod.ready_transition_time.value_or(start);
  info.ready_transition_time =
      std::isnan(transition) ? absl::InfinitePast() : now + absl::Seconds(transition);
  info.containers.push_back(hpa::ContainerRequests{container, pod.requests_milli});
  return info;
}

}  // namespace

absl::StatusOr<Scenario> ParseScenario(absl::string_view json, absl::string_view source) {
  rapidjson::Document doc;
  rapidjson::MemoryStream stream(json.data(), json.size());
  // Iterative parsing keeps deeply nested input from exhausting the stack (the document's pool
  // allocator frees it without recursion). Not kParseFullPrecisionFlag: RapidJSON 1.1's
  // full-precision path has undefined behaviour on input such as 0e215; the default one is
  // within a few ulps, which MilliFromDouble absorbs.
  constexpr unsigned kFlags =
      rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  doc.ParseStream<kFlags>(stream);
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": invalid JSON at offset ", doc.GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(doc.GetParseError())));
  }
  // The reader takes a NUL byte for the end of the input; anything left means one was there.
  if (stream.Tell() != json.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": invalid JSON at offset ", stream.Tell(), ": unexpected NUL byte"));
  }
  if (!doc.IsObject()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a JSON object"));
  }
  Scenario scenario;
  SEXTANT_RETURN_IF_ERROR(ParseDocument(doc, &scenario), _.Prepend(absl::StrCat(source, ": ")));
  return scenario;
}

hpa::HpaOptions HpaOptionsFromScenario(const ScenarioOptions& options) {
  hpa::HpaOptions out;
  out.tolerance = options.tolerance.value_or(0.1);
  out.downscale_stabilization = absl::Seconds(options.downscale_stabilization_seconds);
  out.cpu_initialization_period = absl::Seconds(options.cpu_initialization_seconds);
  out.initial_readiness_delay = absl::Seconds(options.initial_readiness_delay_seconds);
  return out;
}

absl::StatusOr<std::vector<ReplayStep>> RunScenario(const ScalingPolicy& policy,
                                                    const Scenario& scenario) {
  const ScalingPolicySpec& spec = policy.spec;
  SEXTANT_ASSIGN_OR_RETURN(const std::string container, ContainerName(spec));
  const hpa::HpaOptions options = HpaOptionsFromScenario(scenario.options);
  const absl::Duration window = absl::Seconds(scenario.options.metric_window_seconds);
  hpa::PolicyState state;
  ScalingPolicyStatus status;  // a replay starts from a new policy
  // The replicas the previous step decided: the scale after it (status.desiredReplicas is left
  // unchanged, 0 for a new policy, when a step's metrics all fail).
  int32_t decided = 0;
  std::vector<ReplayStep> out;
  out.reserve(scenario.steps.size());
  for (size_t i = 0; i < scenario.steps.size(); ++i) {
    const ScenarioStep& step = scenario.steps[i];
    const std::string path = absl::StrCat("steps[", i, "]");
    SEXTANT_RETURN_IF_ERROR(CheckMetricNames(spec, step, path));
    if (!std::isfinite(step.at) || std::fabs(step.at) > kMaxSeconds) {
      return FieldError(Member(path, "at"), "out of range");
    }
    const absl::Time now = kScenarioOrigin + absl::Seconds(step.at);
    hpa::ReconcileInput input;
    if (step.spec_replicas.has_value()) {
      input.spec_replicas = *step.spec_replicas;
      input.status_replicas = step.status_replicas.value_or(*step.spec_replicas);
    } else if (i == 0) {
      return FieldError(Member(path, "scale"), "required in the first step (the starting size)");
    } else {
      // The workload has converged on what the previous step decided.
      input.spec_replicas = decided;
      input.status_replicas = decided;
    }
    // The pods are given explicitly; any non-empty selector will do.
    input.selector = "scenario";
    for (const ScenarioPod& pod : step.pods) input.pods.push_back(PodInfoAt(pod, now, container));
    for (const MetricSpec& metric : spec.metrics) {
      input.metrics.push_back(ReadMetric(metric, step, now, window));
    }
    // recordInitialRecommendation, as the HPA controller does at every reconcile: only the
    // first step's seeds the (then empty) history.
    state.SeedIfEmpty(input.spec_replicas, now);
    hpa::Decision decision = hpa::Decide(spec, input, options, now, state, status);
    hpa::Finish(spec, absl::OkStatus(), now, decision, state, status);
    ReplayStep line = ReplayStepFrom(step.at, decision, status);
    decided = line.desired_replicas;
    out.push_back(std::move(line));
  }
  return out;
}

ReplayStep ReplayStepFrom(double at, const hpa::Decision& decision,
                          const ScalingPolicyStatus& status) {
  ReplayStep out;
  out.at = at;
  out.current_replicas = status.current_replicas;
  out.desired_replicas = decision.rescale ? decision.desired_replicas : decision.current_replicas;
  for (const char* type : {"AbleToScale", "ScalingActive", "ScalingLimited"}) {
    const PolicyCondition* c = hpa::FindCondition(status.conditions, type);
    out.conditions[type] = c == nullptr ? "" : c->reason;
  }
  out.reason = decision.reason;
  return out;
}

std::string ReplayStepToJson(const ReplayStep& step) {
  JsonWriter w;
  w.StartObject();
  w.Key("at");
  if (std::trunc(step.at) == step.at && std::fabs(step.at) < 9e15) {
    w.Int(static_cast<int64_t>(step.at));
  } else {
    w.Double(step.at);
  }
  w.Key("currentReplicas");
  w.Int(step.current_replicas);
  w.Key("desiredReplicas");
  w.Int(step.desired_replicas);
  w.Key("conditions");
  w.StartObject();
  for (const char* type : {"AbleToScale", "ScalingActive", "ScalingLimited"}) {
    w.Key(type);
    auto it = step.conditions.find(type);
    w.String(it == step.conditions.end() ? "" : it->second);
  }
  w.EndObject();
  w.Key("reason");
  w.String(step.reason);
  w.EndObject();
  return w.TakeString();
}

}  // namespace sextant::autoscaler
