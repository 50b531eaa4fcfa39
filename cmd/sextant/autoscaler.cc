#include "cmd/sextant/autoscaler.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "autoscaler/policy.h"
#include "autoscaler/scaling_api.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "kube/client.h"

namespace sextant::cmd {
namespace {

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : std::move(fallback);
}

// The policies of every file; a file that cannot be read or parsed is logged and skipped.
std::vector<std::pair<autoscaler::ScalingPolicy, std::string>> LoadPolicyFiles(
    const std::vector<std::string>& files) {
  std::vector<std::pair<autoscaler::ScalingPolicy, std::string>> out;
  for (const std::string& file : files) {
    std::ifstream in(file);
    if (!in) {
      LogError("autoscaler: cannot read policy file", {{"file", file}});
      continue;
    }
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<std::vector<autoscaler::ScalingPolicy>> policies =
        autoscaler::ParseScalingPolicies(text.str(), file);
    if (!policies.ok()) {
      LogError("autoscaler: bad policy file", {{"file", file}, {"err", policies.status()}});
      continue;
    }
    for (autoscaler::ScalingPolicy& p : *policies) {
      if (p.metadata.name.empty()) {
        LogError("autoscaler: policy without metadata.name skipped", {{"file", file}});
        continue;
      }
      out.emplace_back(std::move(p), file);
    }
    LogInfo("autoscaler: policy file loaded",
            {{"file", file}, {"policies", static_cast<int64_t>(policies->size())}});
  }
  return out;
}

}  // namespace

autoscaler::ControllerOptions ControllerOptionsFromConfig(const AutoscalerConfig& config) {
  autoscaler::ControllerOptions o;
  o.sync_interval = config.sync_interval;
  o.dry_run = config.dry_run;
  o.watch_namespaces = config.watch_namespaces;
  // The cpu rate needs two samples in its window: the collector's 5 s passes fill 30 s; a
  // Prometheus scraping every 30 s needs a longer one.
  o.metrics.metric_window = config.query_url.empty() ? absl::Seconds(30) : absl::Minutes(2);
  return o;
}

absl::StatusOr<std::unique_ptr<AutoscalerPiece>> AutoscalerPiece::Create(
    const Config& config, const std::optional<kube::ClusterConfig>& cluster, tsdb::Db& db,
    SelfMetrics& metrics) {
  std::unique_ptr<AutoscalerPiece> p(new AutoscalerPiece());
  if (!config.autoscaler.enabled) {
    LogInfo("autoscaler idle", {{"reason", "autoscaler.enabled is false"}});
    return p;
  }
  if (!cluster.has_value()) {
    if (!config.autoscaler.policy_files.empty()) {
      LogInfo("autoscaler idle", {{"reason",
                                   "policy files given but no cluster configured: "
                                   "there is no /scale to act on"}});
    }
    return p;
  }
  if (config.autoscaler.query_url.empty()) {
    p->queryable_ = std::make_unique<promql::DbQueryable>(db);
    promql::EngineOptions engine_options;
    engine_options.max_samples = config.server.limits.query_samples;
    engine_options.timeout = config.server.limits.query_timeout;
    engine_options.parallelism = 1;  // many small queries: no per-query fan-out
    p->engine_ = std::make_unique<promql::Engine>(*p->queryable_, engine_options);
    p->query_ = std::make_unique<autoscaler::EngineQueryClient>(*p->engine_);
  } else {
    const std::string& url = config.autoscaler.query_url;
    if ((!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) ||
        url.find('?') != std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "autoscaler.queryURL: want the base URL of a Prometheus-compatible API, such as "
          "http://prometheus:9090, not \"",
          url, "\""));
    }
    HttpClientOptions http;
    http.timeout = absl::Seconds(10);
    SEXTANT_ASSIGN_OR_RETURN(p->query_http_, CurlHttpClient::Create(http, RealClock::Get()),
                             _.Prepend("autoscaler.queryURL: "));
    p->query_ =
        std::make_unique<autoscaler::HttpQueryClient>(*p->query_http_, config.autoscaler.query_url);
  }
  SEXTANT_ASSIGN_OR_RETURN(p->client_, kube::KubeClient::Create(*cluster),
                           _.Prepend("autoscaler: kubernetes client: "));
  p->controller_ = std::make_unique<autoscaler::Controller>(
      *p->client_, *p->query_, RealClock::Get(), ControllerOptionsFromConfig(config.autoscaler),
      metrics.registry());
  p->controller_->SetFilePolicies(LoadPolicyFiles(config.autoscaler.policy_files));

  const LeaderElectionConfig& le = config.kubernetes.leader_election;
  if (le.enabled) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    kube::LeaderElectionOptions options;
    options.lease_namespace = !le.lease_namespace.empty()
                                  ? le.lease_namespace
                                  : EnvOr("POD_NAMESPACE", cluster->default_namespace);
    options.lease_name = le.name;
    options.identity = EnvOr("POD_NAME", absl::StrCat(host, "_", getpid()));
    options.lease_duration = le.lease_duration;
    options.renew_deadline = le.renew_deadline;
    options.retry_period = le.retry_period;
    SEXTANT_ASSIGN_OR_RETURN(p->elector_,
                             kube::LeaderElector::Create(*p->client_, RealClock::Get(), options),
                             _.Prepend("leader election: "));
    kube::LeaderElector* elector = p->elector_.get();
    p->controller_->SetLeaderCheck([elector] { return elector->IsLeader(); });
  }
  return p;
}

AutoscalerPiece::~AutoscalerPiece() { Stop(); }

void AutoscalerPiece::Register(HttpServer& server) {
  autoscaler::Controller* controller = controller_.get();
  autoscaler::RegisterScalingApi(server, [controller] {
    return controller != nullptr ? controller->Report() : std::vector<autoscaler::PolicyReport>{};
  });
}

void AutoscalerPiece::Start() {
  if (elector_ != nullptr) elector_->Start();
  if (controller_ != nullptr) controller_->Start();
}

void AutoscalerPiece::Stop() {
  if (controller_ != nullptr) controller_->Stop();
  if (elector_ != nullptr) elector_->Stop();
}

}  // namespace sextant::cmd
