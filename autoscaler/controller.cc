#include "autoscaler/controller.h"

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "kube/selector.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sextant::autoscaler {

// Everything the controller keeps per policy.
struct Controller::PolicyRuntime {
  ScalingPolicy policy;
  std::string json;    // the object as the API server sent it ("" for file policies)
  std::string source;  // "api" or the file
  absl::Status validation;
  bool seen = false;  // still present at the last refresh
  hpa::PolicyState state;
  std::string last_status_json;  // the status last written (or read)
  // resourceVersions our own status writes replaced: the informer may still hold one of them for
  // a moment, and taking it would roll the status (and the resourceVersion) back.
  std::set<std::string> superseded_versions;
  std::optional<absl::Time> next_attempt;
  absl::Duration backoff = absl::ZeroDuration();
  int64_t invalid_reported_generation = -1;
  // (reason, message) -> (event name, count) for repeated Events.
  std::map<std::pair<std::string, std::string>, std::pair<std::string, int32_t>> events;
  PolicyReport report;     // built by the sync
  PolicyReport published;  // what Report() shows; guarded by Controller::mu_
  std::vector<std::string> metric_label_names;
  std::set<std::string>
      valued_metrics;  // metrics whose value series exists  // metric names with gauges set
};

namespace {

constexpr absl::string_view kPolicyApiVersion = "autoscaling.sextant.dev/v1alpha1";

hpa::PodInfo PodInfoFrom(const kube::Pod& pod) {
  hpa::PodInfo info;
  info.name = pod.metadata.name;
  info.phase = pod.phase;
  info.deleting = pod.metadata.deletion_timestamp.has_value();
  info.start_time = pod.start_time;
  if (const kube::PodCondition* ready = pod.FindCondition("Ready"); ready != nullptr) {
    info.ready = ready->status == "True";
    info.ready_transition_time = ready->last_transition_time.value_or(absl::InfinitePast());
  }
  for (const kube::Container& c : pod.containers) {
    hpa::ContainerRequests requests;
    requests.name = c.name;
    for (const auto& [resource, quantity] : c.requests) {
      absl::StatusOr<int64_t> milli = ParseMilliQuantity(quantity);
      if (milli.ok()) requests.requests[resource] = *milli;
    }
    info.containers.push_back(std::move(requests));
  }
  return info;
}

// Short label for an API error, for sextant_autoscaler_actuation_errors_total{reason}.
std::string ErrorReason(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kAborted:
      return "conflict";
    case absl::StatusCode::kResourceExhausted:
      return "throttled";
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return "unavailable";
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return "forbidden";
    case absl::StatusCode::kNotFound:
      return "not_found";
    default:
      return "other";
  }
}

// The target of `m` as a number in its own unit (percent, or the value).
double MetricTargetNumber(const MetricSpec& m) {
  switch (m.target.type) {
    case MetricTarget::Type::kUtilization:
      return m.target.average_utilization.value_or(0);
    case MetricTarget::Type::kValue:
      return m.target.value_milli.value_or(0) / 1000.0;
    case MetricTarget::Type::kAverageValue:
      return m.target.average_value_milli.value_or(0) / 1000.0;
  }
  return 0;
}

double MetricStatusNumber(const MetricStatus& s) {
  if (s.average_utilization.has_value()) return *s.average_utilization;
  if (s.value_milli.has_value()) return *s.value_milli / 1000.0;
  if (s.average_value_milli.has_value()) return *s.average_value_milli / 1000.0;
  return 0;
}

// The object JSON `object_json` with its status replaced by `status_json`.
absl::StatusOr<std::string> WithStatus(const std::string& object_json,
                                       const std::string& status_json) {
  rapidjson::Document doc;
  doc.Parse(object_json.data(), object_json.size());
  rapidjson::Document status(&doc.GetAllocator());
  status.Parse(status_json.data(), status_json.size());
  if (doc.HasParseError() || !doc.IsObject() || status.HasParseError()) {
    return absl::InternalError("policy object is not JSON");
  }
  doc.RemoveMember("status");
  doc.AddMember("status", rapidjson::Value(status, doc.GetAllocator()), doc.GetAllocator());
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

Controller::Controller(kube::KubeClient& client, QueryClient& query, Clock& clock,
                       ControllerOptions options, prometheus::Registry& registry)
    : client_(client),
      clock_(clock),
      options_(std::move(options)),
      source_(query, options_.metrics),
      is_leader_([] { return true; }),
      desired_replicas_(prometheus::BuildGauge()
                            .Name("sextant_autoscaler_desired_replicas")
                            .Help("Replicas the policy last decided, by policy.")
                            .Register(registry)),
      current_replicas_(prometheus::BuildGauge()
                            .Name("sextant_autoscaler_current_replicas")
                            .Help("The target's spec.replicas at the last reconcile, by policy.")
                            .Register(registry)),
      metric_value_(prometheus::BuildGauge()
                        .Name("sextant_autoscaler_metric_value")
                        .Help("Each metric's current value as the HPA arithmetic saw it "
                              "(percent for Utilization targets).")
                        .Register(registry)),
      metric_target_(prometheus::BuildGauge()
                         .Name("sextant_autoscaler_metric_target")
                         .Help("Each metric's target (percent for Utilization targets).")
                         .Register(registry)),
      decisions_(prometheus::BuildCounter()
                     .Name("sextant_autoscaler_decisions_total")
                     .Help("Reconcile decisions, by reason.")
                     .Register(registry)),
      actuation_errors_(prometheus::BuildCounter()
                            .Name("sextant_autoscaler_actuation_errors_total")
                            .Help("Failed API calls of the autoscaler (scale, status, Events), by "
                                  "reason.")
                            .Register(registry)),
      policies_gauge_(prometheus::BuildGauge()
                          .Name("sextant_autoscaler_policies")
                          .Help("Known ScalingPolicies, by state (active, invalid, paused).")
                          .Register(registry)),
      sync_duration_(prometheus::BuildHistogram()
                         .Name("sextant_autoscaler_sync_duration_seconds")
                         .Help("Time one sync over every policy took.")
                         .Register(registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries{
                                      0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})) {
  std::vector<std::string> namespaces = options_.watch_namespaces;
  if (namespaces.empty()) namespaces.push_back("");
  for (const std::string& ns : namespaces) {
    if (options_.watch_api_policies) {
      policy_informers_.push_back(std::make_unique<kube::Informer>(
          client_, kube::ScalingPoliciesResource(ns), kube::InformerOptions{}, clock_));
    }
    kube::InformerHandlers handlers;
    handlers.on_add = [this](const kube::CachedObject& o) { OnPod(&o, false); };
    handlers.on_update = [this](const kube::CachedObject&, const kube::CachedObject& o) {
      OnPod(&o, false);
    };
    handlers.on_delete = [this](const kube::CachedObject& o) { OnPod(&o, true); };
    pod_informers_.push_back(std::make_unique<kube::Informer>(
        client_, kube::PodsResource(ns), kube::InformerOptions{}, clock_, std::move(handlers)));
  }
}

Controller::~Controller() { Stop(); }

void Controller::SetFilePolicies(std::vector<std::pair<ScalingPolicy, std::string>> policies) {
  absl::MutexLock lock(&mu_);
  file_policies_ = std::move(policies);
  ++file_version_;
}

void Controller::SetLeaderCheck(std::function<bool()> is_leader) {
  absl::MutexLock lock(&mu_);
  is_leader_ = std::move(is_leader);
}

void Controller::OnPod(const kube::CachedObject* object, bool deleted) {
  const std::string& ns = object->metadata.namespace_name;
  const std::string& name = object->metadata.name;
  std::optional<ParsedPod> parsed;
  if (!deleted) {
    absl::StatusOr<kube::Pod> pod = kube::ParsePod(object->json);
    if (pod.ok()) {
      parsed = ParsedPod{pod->metadata.labels, PodInfoFrom(*pod)};
    } else {  // dropped: a stale copy would be worse than none
      LogWarn("autoscaler: unreadable pod", {{"pod", object->key}, {"err", pod.status()}});
    }
  }
  absl::MutexLock lock(&pods_mu_);
  std::map<std::string, ParsedPod>& pods = pods_[ns];
  std::map<std::string, std::set<std::string>>& index = pod_labels_[ns];
  if (auto old = pods.find(name); old != pods.end()) {
    for (const auto& [key, value] : old->second.labels) {
      auto posting = index.find(absl::StrCat(key, "=", value));
      if (posting == index.end()) continue;
      posting->second.erase(name);
      if (posting->second.empty()) index.erase(posting);
    }
    pods.erase(old);
  }
  if (!parsed.has_value()) return;
  for (const auto& [key, value] : parsed->labels) index[absl::StrCat(key, "=", value)].insert(name);
  pods.emplace(name, *std::move(parsed));
}

void Controller::StartInformers() {
  for (auto& i : policy_informers_) i->Start();
  for (auto& i : pod_informers_) i->Start();
}

bool Controller::PodsSynced() const {
  for (const auto& i : pod_informers_) {
    if (!i->HasSynced()) return false;
  }
  return true;
}

bool Controller::HasSynced() const {
  for (const auto& i : policy_informers_) {
    if (!i->HasSynced()) return false;
  }
  for (const auto& i : pod_informers_) {
    if (!i->HasSynced()) return false;
  }
  return true;
}

void Controller::Start() {
  absl::MutexLock lock(&thread_mu_);
  if (started_) return;
  started_ = true;
  StartInformers();
  thread_ = std::thread([this] {
    const absl::Duration interval = std::max(options_.sync_interval, absl::Seconds(1));
    LogInfo("autoscaler started",
            {{"sync_interval", interval}, {"dry_run", options_.dry_run ? "true" : "false"}});
    bool waiting_logged = false;
    const absl::Time began = clock_.Now();
    while (!stop_.HasBeenNotified()) {
      // The pods must be listed before deciding anything; the ScalingPolicy list is not
      // waited for, so file policies act even where the CRD is missing or not readable (the
      // reflector logs why its list fails and keeps trying).
      if (PodsSynced()) {
        if (!waiting_logged && !HasSynced() && clock_.Now() - began > absl::Seconds(30)) {
          waiting_logged = true;
          LogWarn(
              "autoscaler: ScalingPolicy objects not listed yet (is the CRD installed and "
              "may this service account list scalingpolicies?); file policies still act",
              {});
        }
        const absl::Time start = clock_.Now();
        if (absl::Status s = SyncOnce(start); !s.ok()) {
          LogWarn("autoscaler: sync failed", {{"err", s}});
        }
        const absl::Duration took = clock_.Now() - start;
        if (clock_.WaitFor(stop_, std::max(interval - took, absl::ZeroDuration()))) break;
      } else if (clock_.WaitFor(stop_, absl::Milliseconds(100))) {
        break;
      }
    }
  });
}

void Controller::Stop() {
  std::thread thread;
  {
    absl::MutexLock lock(&thread_mu_);
    if (!stop_.HasBeenNotified()) stop_.Notify();
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
  for (auto& i : policy_informers_) i->Stop();
  for (auto& i : pod_informers_) i->Stop();
}

void Controller::RefreshPolicies() {
  std::vector<std::pair<std::string, std::shared_ptr<const kube::CachedObject>>> api;
  for (const auto& informer : policy_informers_) {
    for (auto& o : informer->List()) api.emplace_back(o->key, o);
  }
  absl::MutexLock lock(&mu_);
  for (auto& [key, rt] : policies_) rt->seen = false;
  // `parse` runs only when the object changed: parsing every policy at every sync would cost
  // more than deciding.
  auto upsert = [&](const std::string& key, const std::string& source, const std::string& json,
                    const std::function<absl::StatusOr<ScalingPolicy>()>& parse) {
    std::unique_ptr<PolicyRuntime>& rt = policies_[key];
    if (rt == nullptr) rt = std::make_unique<PolicyRuntime>();
    rt->seen = true;
    rt->source = source;
    if (!json.empty() && rt->json == json) {  // unchanged since the last refresh
      rt->superseded_versions.clear();        // the informer has caught up with our writes
      return;
    }
    if (!json.empty() && !rt->superseded_versions.empty()) {
      absl::StatusOr<kube::ObjectMeta> meta = kube::ParseObjectMeta(json);
      if (meta.ok() && rt->superseded_versions.count(meta->resource_version) > 0) {
        return;  // an older state than the one our last status write returned
      }
    }
    rt->json = json;
    absl::StatusOr<ScalingPolicy> parsed = parse();
    if (parsed.ok()) {
      // A changed spec keeps the HPA state, as the HPA does across updates.
      ScalingPolicyStatus previous = rt->policy.status;
      const bool had = !rt->policy.metadata.name.empty();
      rt->policy = *std::move(parsed);
      if (had && source != "api") rt->policy.status = previous;
      rt->validation = ValidateScalingPolicy(rt->policy);
      if (source == "api") rt->last_status_json = PolicyStatusToJson(rt->policy.status);
    } else {
      rt->validation = parsed.status();
      absl::StatusOr<kube::ObjectMeta> meta = kube::ParseObjectMeta(json);
      if (meta.ok()) rt->policy.metadata = *meta;
    }
  };
  for (const auto& entry : api) {  // not a structured binding: clang 14 cannot capture those
    const std::string& key = entry.first;
    const kube::CachedObject& object = *entry.second;
    upsert(key, "api", object.json, [&] { return ParseScalingPolicy(object.json, key); });
  }
  const bool files_changed = file_version_ != applied_file_version_;
  for (const auto& entry : file_policies_) {
    const ScalingPolicy& policy = entry.first;
    const std::string& file = entry.second;
    const std::string key = PolicyKey(policy);
    auto it = policies_.find(key);
    if (it != policies_.end() && it->second->seen && it->second->source == "api") {
      continue;  // the API's object wins over a file's of the same name
    }
    if (it != policies_.end() && !files_changed && it->second->source == file) {
      it->second->seen = true;
      continue;
    }
    upsert(key, file, "", [&] { return absl::StatusOr<ScalingPolicy>(policy); });
  }
  applied_file_version_ = file_version_;
  for (auto it = policies_.begin(); it != policies_.end();) {
    if (it->second->seen) {
      ++it;
      continue;
    }
    LogInfo("autoscaler: policy removed", {{"policy", it->first}});
    RemoveMetrics(*it->second);
    it = policies_.erase(it);
  }
}

std::vector<hpa::PodInfo> Controller::PodsFor(const std::string& namespace_name,
                                              const std::string& selector,
                                              absl::Status* error) const {
  std::vector<hpa::PodInfo> out;
  absl::StatusOr<kube::LabelSelector> parsed = kube::LabelSelector::Parse(selector);
  if (!parsed.ok()) {
    *error = parsed.status();
    return out;
  }
  absl::MutexLock lock(&pods_mu_);
  auto ns = pods_.find(namespace_name);
  if (ns == pods_.end()) return out;
  // The candidates: the smallest posting of an equality requirement, else every pod.
  const std::set<std::string>* candidates = nullptr;
  static const std::set<std::string> kNone;
  static const std::map<std::string, std::set<std::string>> kNoIndex;
  auto index_it = pod_labels_.find(namespace_name);
  const auto& index = index_it == pod_labels_.end() ? kNoIndex : index_it->second;
  for (const kube::LabelRequirement& r : parsed->requirements()) {
    if (r.op != kube::LabelRequirement::kEq) continue;
    auto posting = index.find(absl::StrCat(r.key, "=", r.values[0]));
    const std::set<std::string>* names = posting == index.end() ? &kNone : &posting->second;
    if (candidates == nullptr || names->size() < candidates->size()) candidates = names;
  }
  auto consider = [&](const ParsedPod& pod) {
    if (parsed->Matches(pod.labels)) out.push_back(pod.info);
  };
  if (candidates == nullptr) {
    for (const auto& [name, pod] : ns->second) consider(pod);
  } else {
    for (const std::string& name : *candidates) consider(ns->second.at(name));
  }
  return out;
}

absl::Status Controller::SyncOnce(absl::Time now) {
  absl::MutexLock sync(&sync_mu_);
  const absl::Time started = clock_.Now();  // `now` need not be the clock's time
  bool leader;
  {
    absl::MutexLock lock(&mu_);
    leader = is_leader_();
  }
  if (!leader) {
    if (was_leader_) LogInfo("autoscaler: not the leader, standing by", {});
    was_leader_ = false;
    return absl::OkStatus();
  }
  RefreshPolicies();
  if (!was_leader_) {
    // A new leader starts with fresh HPA state, as a restarted HPA controller does.
    absl::MutexLock lock(&mu_);
    for (auto& [key, rt] : policies_) rt->state = hpa::PolicyState();
    was_leader_ = true;
  }
  source_.BeginSync(now);
  std::vector<PolicyRuntime*> runtimes;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [key, rt] : policies_) runtimes.push_back(rt.get());
  }
  // Runtimes are only added or removed by RefreshPolicies, which runs under sync_mu_ (held).
  // Policies are reconciled by up to `workers` threads at once (each policy by one), as the
  // HPA controller's concurrent syncs: most of a reconcile is waiting for the API server.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < runtimes.size() && !stop_.HasBeenNotified(); i = next++) {
      PolicyRuntime* rt = runtimes[i];
      ReconcilePolicy(*rt, now);
      absl::MutexLock lock(&mu_);
      rt->published = rt->report;
    }
  };
  const int workers =
      static_cast<int>(std::min<size_t>(std::max(options_.workers, 1), runtimes.size()));
  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  int active = 0, invalid = 0, paused = 0;
  for (PolicyRuntime* rt : runtimes) {
    if (!rt->validation.ok()) {
      ++invalid;
    } else if (rt->policy.spec.paused) {
      ++paused;
    } else {
      ++active;
    }
  }
  policies_gauge_.Add({{"state", "active"}}).Set(active);
  policies_gauge_.Add({{"state", "invalid"}}).Set(invalid);
  policies_gauge_.Add({{"state", "paused"}}).Set(paused);
  sync_duration_.Observe(absl::ToDoubleSeconds(clock_.Now() - started));
  return absl::OkStatus();
}

bool Controller::StillLeader() const {
  absl::MutexLock lock(&mu_);
  return is_leader_();
}

void Controller::Backoff(PolicyRuntime& rt, absl::Time now) {
  rt.backoff = rt.backoff == absl::ZeroDuration() ? options_.backoff_initial
                                                  : std::min(rt.backoff * 2, options_.backoff_max);
  thread_local std::minstd_rand rng(std::random_device{}());
  const double jitter = std::uniform_real_distribution<double>(0.8, 1.2)(rng);
  rt.next_attempt = now + rt.backoff * jitter;
}

void Controller::ReconcilePolicy(PolicyRuntime& rt, absl::Time now) {
  const ScalingPolicy& policy = rt.policy;
  const std::string key = PolicyKey(policy);
  PolicyReport& report = rt.report;
  report.namespace_name = policy.metadata.namespace_name;
  report.name = policy.metadata.name;
  report.source = rt.source;
  report.target = policy.spec.target;
  report.min_replicas = policy.spec.min_replicas;
  report.max_replicas = policy.spec.max_replicas;
  report.paused = policy.spec.paused;
  report.metric_specs = policy.spec.metrics;

  if (!rt.validation.ok()) {
    report.error = absl::StrCat("invalid policy: ", rt.validation.message());
    // The condition every sync (a failed write is retried; the status only changes once), the
    // log line and the Event once per generation.
    hpa::SetCondition(rt.policy.status.conditions, "ScalingActive", "False", "InvalidPolicy",
                      std::string(rt.validation.message()), now);
    if (rt.invalid_reported_generation != policy.metadata.generation) {
      rt.invalid_reported_generation = policy.metadata.generation;
      LogWarn("autoscaler: invalid policy", {{"policy", key}, {"err", rt.validation}});
      RecordEvents(rt, {{"Warning", "InvalidPolicy", std::string(rt.validation.message())}}, now);
    }
    report.conditions = rt.policy.status.conditions;
    WriteStatus(rt);
    return;
  }
  if (rt.next_attempt.has_value() && now < *rt.next_attempt) return;

  for (int attempt = 1;; ++attempt) {
    absl::StatusOr<kube::Scale> scale = client_.GetScale(policy.spec.target);
    if (!scale.ok()) {
      const std::string message =
          absl::StrCat("the HPA controller was unable to get the target's current scale: ",
                       scale.status().message());
      report.error = message;
      LogWarn("autoscaler: cannot read the target's scale",
              {{"policy", key},
               {"target", absl::StrCat(policy.spec.target.kind, "/", policy.spec.target.name)},
               {"err", scale.status()}});
      actuation_errors_.Add({{"reason", ErrorReason(scale.status())}}).Increment();
      hpa::SetCondition(rt.policy.status.conditions, "AbleToScale", "False", "FailedGetScale",
                        message, now);
      RecordEvents(rt, {{"Warning", "FailedGetScale", std::string(scale.status().message())}}, now);
      report.conditions = rt.policy.status.conditions;
      WriteStatus(rt);
      if (kube::IsRetryable(scale.status())) Backoff(rt, now);
      return;
    }
    absl::Status selector_error;
    std::vector<hpa::PodInfo> pods;
    if (!scale->status_selector.empty()) {
      pods = PodsFor(policy.metadata.namespace_name, scale->status_selector, &selector_error);
    }
    hpa::ReconcileInput input;
    input.spec_replicas = scale->spec_replicas;
    input.status_replicas = scale->status_replicas;
    input.selector = selector_error.ok() ? scale->status_selector : "";
    input.pods = std::move(pods);
    if (!policy.spec.paused) {
      input.metrics = source_.Read(policy.spec, policy.metadata.namespace_name, input.pods);
    } else {
      input.metrics.resize(policy.spec.metrics.size());
    }

    const hpa::PolicyState state_before = rt.state;
    const ScalingPolicyStatus status_before = rt.policy.status;
    hpa::Decision decision =
        hpa::Decide(policy.spec, input, options_.hpa, now, rt.state, rt.policy.status);
    absl::Status write = absl::OkStatus();
    if (decision.rescale && options_.dry_run) {
      LogInfo("autoscaler: dry run, not scaling",
              {{"policy", key},
               {"target", absl::StrCat(policy.spec.target.kind, "/", policy.spec.target.name)},
               {"from", decision.current_replicas},
               {"to", decision.desired_replicas},
               {"reason", decision.reason}});
    } else if (decision.rescale && !StillLeader()) {
      // Leadership ended during the sync: the new leader decides; write nothing.
      LogInfo("autoscaler: no longer the leader, not scaling",
              {{"policy", key}, {"to", decision.desired_replicas}});
      rt.state = state_before;
      rt.policy.status = status_before;
      return;
    } else if (decision.rescale) {
      kube::Scale updated = *scale;
      updated.spec_replicas = decision.desired_replicas;
      absl::StatusOr<kube::Scale> put = client_.UpdateScale(policy.spec.target, updated);
      write = put.status();
      if (!write.ok()) {
        actuation_errors_.Add({{"reason", ErrorReason(write)}}).Increment();
        if (write.code() == absl::StatusCode::kAborted && attempt < options_.conflict_attempts) {
          // Someone changed the scale since we read it: read it again and recompute.
          LogInfo("autoscaler: scale changed underneath, recomputing",
                  {{"policy", key}, {"attempt", attempt}});
          rt.state = state_before;
          rt.policy.status = status_before;
          continue;
        }
        LogWarn("autoscaler: scale update failed",
                {{"policy", key},
                 {"target", absl::StrCat(policy.spec.target.kind, "/", policy.spec.target.name)},
                 {"to", decision.desired_replicas},
                 {"err", write}});
        if (kube::IsRetryable(write)) Backoff(rt, now);
      }
    }
    hpa::Finish(policy.spec, write, now, decision, rt.state, rt.policy.status);
    if (write.ok()) {
      rt.backoff = absl::ZeroDuration();
      rt.next_attempt.reset();
    }
    if (decision.rescale && write.ok()) {
      LogInfo(options_.dry_run ? "autoscaler: would rescale" : "autoscaler: rescaled",
              {{"policy", key},
               {"target", absl::StrCat(policy.spec.target.kind, "/", policy.spec.target.name)},
               {"from", decision.current_replicas},
               {"to", decision.desired_replicas},
               {"reason", decision.reason}});
    } else if (!decision.error.ok()) {
      LogWarn("autoscaler: metrics", {{"policy", key}, {"err", decision.error}});
    }
    decisions_.Add({{"reason", decision.code}}).Increment();
    if (!options_.dry_run) RecordEvents(rt, decision.events, now);
    report.error.clear();
    report.current_replicas = decision.current_replicas;
    report.desired_replicas = rt.policy.status.desired_replicas;
    report.last_decision_time = now;
    report.last_reason = decision.reason;
    report.last_code = decision.code;
    report.metrics = rt.policy.status.current_metrics;
    report.conditions = rt.policy.status.conditions;
    report.last_scale_time = rt.policy.status.last_scale_time;
    WriteStatus(rt);
    UpdateMetrics(rt);
    return;
  }
}

void Controller::RecordEvents(PolicyRuntime& rt, const std::vector<hpa::EventRecord>& events,
                              absl::Time now) {
  const ScalingPolicy& policy = rt.policy;
  for (const hpa::EventRecord& e : events) {
    LogInfo("autoscaler: event", {{"policy", PolicyKey(policy)},
                                  {"type", e.type},
                                  {"reason", e.reason},
                                  {"message", e.message}});
    if (rt.source != "api" || options_.dry_run) continue;  // file policies have no object
    if (!StillLeader()) return;
    auto key = std::make_pair(e.reason, e.message);
    auto it = rt.events.find(key);
    if (it != rt.events.end()) {
      absl::StatusOr<kube::Event> patched = client_.PatchEvent(
          policy.metadata.namespace_name, it->second.first, it->second.second + 1, now);
      if (patched.ok()) {
        ++it->second.second;
        continue;
      }
      if (patched.status().code() != absl::StatusCode::kNotFound) {
        // The Event is still there; a new one would restart its count. Try again next time.
        actuation_errors_.Add({{"reason", ErrorReason(patched.status())}}).Increment();
        LogWarn("autoscaler: cannot record event",
                {{"policy", PolicyKey(policy)}, {"reason", e.reason}, {"err", patched.status()}});
        continue;
      }
      rt.events.erase(it);  // gone (expired): create a new one
    }
    kube::Event event;
    event.metadata.namespace_name = policy.metadata.namespace_name;
    event.involved_object = {
        std::string(kPolicyApiVersion), "ScalingPolicy",     policy.metadata.namespace_name,
        policy.metadata.name,           policy.metadata.uid, ""};
    event.reason = e.reason;
    event.message = e.message;
    event.type = e.type;
    event.count = 1;
    event.first_timestamp = now;
    event.last_timestamp = now;
    event.source_component = options_.component;
    event.reporting_component = options_.component;
    absl::StatusOr<kube::Event> created = client_.CreateEvent(event);
    if (!created.ok()) {
      actuation_errors_.Add({{"reason", ErrorReason(created.status())}}).Increment();
      LogWarn("autoscaler: cannot record event",
              {{"policy", PolicyKey(policy)}, {"reason", e.reason}, {"err", created.status()}});
      continue;
    }
    if (rt.events.size() > 64) rt.events.clear();
    rt.events[key] = {created->metadata.name, 1};
  }
}

void Controller::WriteStatus(PolicyRuntime& rt) {
  if (rt.source != "api" || options_.dry_run || !StillLeader()) return;
  rt.policy.status.observed_generation = rt.policy.metadata.generation;
  std::string status_json = PolicyStatusToJson(rt.policy.status);
  if (status_json == rt.last_status_json) return;  // unchanged: no write
  absl::StatusOr<std::string> object = WithStatus(rt.json, status_json);
  if (!object.ok()) return;
  absl::StatusOr<std::string> updated = client_.UpdateScalingPolicyStatus(
      rt.policy.metadata.namespace_name, rt.policy.metadata.name, *object);
  if (!updated.ok()) {
    // A conflict means the object changed: the informer brings the new one, and the next
    // sync writes the status again.
    actuation_errors_.Add({{"reason", ErrorReason(updated.status())}}).Increment();
    LogWarn("autoscaler: status update failed",
            {{"policy", PolicyKey(rt.policy)}, {"err", updated.status()}});
    return;
  }
  rt.last_status_json = std::move(status_json);
  // Our own write bumped the resourceVersion; keep the object so the next write carries it, and
  // ignore the informer's copy of the object it replaced until the watch brings the new one.
  if (absl::StatusOr<kube::ObjectMeta> meta = kube::ParseObjectMeta(rt.json); meta.ok()) {
    if (rt.superseded_versions.size() >= 16) rt.superseded_versions.clear();
    rt.superseded_versions.insert(meta->resource_version);
  }
  rt.json = *updated;
}

void Controller::UpdateMetrics(PolicyRuntime& rt) {
  const std::map<std::string, std::string> labels = {
      {"namespace", rt.policy.metadata.namespace_name}, {"policy", rt.policy.metadata.name}};
  desired_replicas_.Add(labels).Set(rt.report.desired_replicas);
  current_replicas_.Add(labels).Set(rt.report.current_replicas);
  // Series of metrics no longer in the spec go; a metric without a value this time has none.
  // (prometheus-cpp's Family::Remove scans the family: called only when a series must go.)
  std::vector<std::string> names;
  for (const MetricSpec& m : rt.policy.spec.metrics) names.push_back(m.name);
  for (const std::string& name : rt.metric_label_names) {
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    std::map<std::string, std::string> l = labels;
    l["metric"] = name;
    metric_target_.Remove(&metric_target_.Add(l));
    if (rt.valued_metrics.erase(name) > 0) metric_value_.Remove(&metric_value_.Add(l));
  }
  rt.metric_label_names = names;
  for (const MetricSpec& m : rt.policy.spec.metrics) {
    std::map<std::string, std::string> l = labels;
    l["metric"] = m.name;
    metric_target_.Add(l).Set(MetricTargetNumber(m));
    const MetricStatus* value = nullptr;
    for (const MetricStatus& s : rt.policy.status.current_metrics) {
      if (s.name == m.name) value = &s;
    }
    if (value != nullptr) {
      metric_value_.Add(l).Set(MetricStatusNumber(*value));
      rt.valued_metrics.insert(m.name);
    } else if (rt.valued_metrics.erase(m.name) > 0) {
      metric_value_.Remove(&metric_value_.Add(l));
    }
  }
}

void Controller::RemoveMetrics(PolicyRuntime& rt) {
  const std::map<std::string, std::string> labels = {
      {"namespace", rt.policy.metadata.namespace_name}, {"policy", rt.policy.metadata.name}};
  desired_replicas_.Remove(&desired_replicas_.Add(labels));
  current_replicas_.Remove(&current_replicas_.Add(labels));
  for (const std::string& name : rt.metric_label_names) {
    std::map<std::string, std::string> l = labels;
    l["metric"] = name;
    metric_target_.Remove(&metric_target_.Add(l));
    metric_value_.Remove(&metric_value_.Add(l));
  }
}

std::vector<PolicyReport> Controller::Report() const {
  std::vector<PolicyReport> out;
  absl::MutexLock lock(&mu_);
  for (const auto& [key, rt] : policies_) {
    PolicyReport r = rt->published;
    if (r.name.empty()) {
      r.namespace_name = rt->policy.metadata.namespace_name;
      r.name = rt->policy.metadata.name;
      r.source = rt->source;
      r.target = rt->policy.spec.target;
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sextant::autoscaler
