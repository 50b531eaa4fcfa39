#include "autoscaler/history_replay.h"

#include <cctype>
#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "prom/matcher.h"

namespace sextant::autoscaler {
namespace {

// RE2 escaping for a literal inside a regex matcher.
std::string RegexLiteral(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Runs `q` at `at`; errors name the query.
absl::StatusOr<std::vector<QuerySample>> Run(QueryClient& query, const std::string& q,
                                             absl::Time at) {
  SEXTANT_ASSIGN_OR_RETURN(std::vector<QuerySample> samples, query.Query(q, at),
                           _.Prepend(absl::StrCat("query ", q, ": ")));
  return samples;
}

}  // namespace

absl::StatusOr<std::string> TargetPodInfoSelector(const ScalingPolicy& policy) {
  const kube::ScaleTarget& t = policy.spec.target;
  const std::string ns = absl::StrCat("namespace=", prom::GoQuote(policy.metadata.namespace_name));
  if (t.kind == "Deployment") {
    return absl::StrCat("kube_pod_info{", ns, R"(,created_by_kind="ReplicaSet",created_by_name=~)",
                        prom::GoQuote(absl::StrCat(RegexLiteral(t.name), "-[a-z0-9]+")), "}");
  }
  if (t.kind == "StatefulSet" || t.kind == "ReplicaSet") {
    return absl::StrCat("kube_pod_info{", ns, ",created_by_kind=", prom::GoQuote(t.kind),
                        ",created_by_name=", prom::GoQuote(t.name), "}");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("replay of stored history: the pods of a ", t.kind,
                   " cannot be told from the stored series (Deployment, StatefulSet and "
                   "ReplicaSet targets can)"));
}

absl::StatusOr<std::vector<hpa::PodInfo>> PodsAt(const ScalingPolicy& policy, QueryClient& query,
                                                 absl::Time at) {
  SEXTANT_ASSIGN_OR_RETURN(std::string info, TargetPodInfoSelector(policy));
  SEXTANT_ASSIGN_OR_RETURN(std::vector<QuerySample> infos, Run(query, info, at));
  std::map<std::string, hpa::PodInfo> pods;
  for (const QuerySample& s : infos) {
    hpa::PodInfo p;
    p.name = std::string(s.labels.Get("pod"));
    if (p.name.empty()) continue;
    // Start and readiness times are not stored: the pods count as started long ago.
    p.phase = "Unknown";
    p.start_time = absl::InfinitePast();
    p.ready_transition_time = absl::InfinitePast();
    pods[p.name] = std::move(p);
  }
  if (pods.empty()) return std::vector<hpa::PodInfo>{};
  const std::string ns = absl::StrCat("namespace=", prom::GoQuote(policy.metadata.namespace_name));
  SEXTANT_ASSIGN_OR_RETURN(std::vector<QuerySample> phases,
                           Run(query, absl::StrCat("kube_pod_status_phase{", ns, "} == 1"), at));
  for (const QuerySample& s : phases) {
    auto it = pods.find(std::string(s.labels.Get("pod")));
    if (it != pods.end()) it->second.phase = std::string(s.labels.Get("phase"));
  }
  SEXTANT_ASSIGN_OR_RETURN(std::vector<QuerySample> ready,
                           Run(query, absl::StrCat("kube_pod_status_ready{", ns, "} == 1"), at));
  for (const QuerySample& s : ready) {
    auto it = pods.find(std::string(s.labels.Get("pod")));
    if (it != pods.end()) it->second.ready = s.labels.Get("condition") == "true";
  }
  SEXTANT_ASSIGN_OR_RETURN(
      std::vector<QuerySample> requests,
      Run(query, absl::StrCat("kube_pod_container_resource_requests{", ns, "}"), at));
  std::map<std::pair<std::string, std::string>, hpa::ContainerRequests> containers;
  for (const QuerySample& s : requests) {
    const std::string pod(s.labels.Get("pod"));
    if (pods.count(pod) == 0) continue;
    absl::StatusOr<int64_t> milli = MilliFromDouble(s.value);
    if (!milli.ok()) continue;
    hpa::ContainerRequests& c = containers[{pod, std::string(s.labels.Get("container"))}];
    c.name = std::string(s.labels.Get("container"));
    c.requests[std::string(s.labels.Get("resource"))] = *milli;
  }
  for (auto& [key, c] : containers) pods[key.first].containers.push_back(std::move(c));
  std::vector<hpa::PodInfo> out;
  for (auto& [name, p] : pods) out.push_back(std::move(p));
  return out;
}

absl::StatusOr<std::vector<ReplayStep>> ReplayHistory(const ScalingPolicy& policy,
                                                      QueryClient& query,
                                                      const HistoryReplayOptions& options) {
  if (options.step <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("replay of stored history: the step must be positive");
  }
  if (options.end < options.start) {
    return absl::InvalidArgumentError("replay of stored history: start is after end");
  }
  SEXTANT_RETURN_IF_ERROR(TargetPodInfoSelector(policy).status());
  MetricsSource source(query, options.metrics);
  hpa::PolicyState state;
  ScalingPolicyStatus status;
  std::vector<ReplayStep> out;
  const int64_t total = (options.end - options.start) / options.step + 1;
  int64_t done = 0, logged = 0;
  for (absl::Time at = options.start; at <= options.end; at += options.step) {
    SEXTANT_ASSIGN_OR_RETURN(std::vector<hpa::PodInfo> pods, PodsAt(policy, query, at),
                             _.Prepend(absl::StrCat("at ", absl::FormatTime(at), ": ")));
    hpa::ReconcileInput input;
    int32_t running = 0;
    for (const hpa::PodInfo& p : pods) {
      if (p.phase != "Failed" && p.phase != "Succeeded") ++running;
    }
    input.spec_replicas = running;
    input.status_replicas = running;
    input.selector = "history";  // the pods are given, not selected
    input.pods = std::move(pods);
    source.BeginSync(at);
    if (!policy.spec.paused) {
      input.metrics = source.Read(policy.spec, policy.metadata.namespace_name, input.pods);
    } else {
      input.metrics.resize(policy.spec.metrics.size());
    }
    hpa::Decision decision = hpa::Decide(policy.spec, input, options.hpa, at, state, status);
    hpa::Finish(policy.spec, absl::OkStatus(), at, decision, state, status);
    ReplayStep step = ReplayStepFrom(absl::ToDoubleSeconds(at - options.start), decision, status);
    out.push_back(std::move(step));
    // Long replays say how far they are, one line per tenth.
    if (++done * 10 / total > logged && total >= 100) {
      logged = done * 10 / total;
      LogInfo("replay progress", {{"steps", done}, {"of", total}});
    }
  }
  return out;
}

}  // namespace sextant::autoscaler
