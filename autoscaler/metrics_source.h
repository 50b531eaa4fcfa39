// Where the autoscaler's numbers come from: PromQL instant queries through a QueryClient (the
// embedded engine, or any Prometheus-compatible URL), turned into the per-metric inputs of the
// HPA arithmetic. Resource metrics read the collector's cAdvisor-named container series; Pods
// and External metrics run the policy's own query.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "aggregator/promql/engine.h"
#include "autoscaler/hpa/horizontal.h"
#include "autoscaler/policy.h"
#include "common/http_client.h"
#include "prom/labels.h"

namespace sextant::autoscaler {

// One element of an instant query's answer (a scalar answer is one sample without labels).
struct QuerySample {
  prom::Labels labels;
  double value = 0;
};

// Runs PromQL instant queries. The edge between the autoscaler (and alerting) and the store.
// Implementations are thread-safe.
class QueryClient {
 public:
  virtual ~QueryClient() = default;
  // Evaluates `query` at `time`. InvalidArgument for a query that does not parse or cannot run
  // as asked; FailedPrecondition for an evaluation error; Unavailable / DeadlineExceeded when the
  // store cannot be reached in time. A string answer is InvalidArgument; a range vector too.
  virtual absl::StatusOr<std::vector<QuerySample>> Query(const std::string& query,
                                                         absl::Time time) = 0;
};

// The embedded engine over the server's own store. The engine must outlive it. Thread-safe.
class EngineQueryClient final : public QueryClient {
 public:
  explicit EngineQueryClient(const promql::Engine& engine) : engine_(engine) {}
  absl::StatusOr<std::vector<QuerySample>> Query(const std::string& query,
                                                 absl::Time time) override;

 private:
  const promql::Engine& engine_;
};

// A Prometheus-compatible HTTP API at `base_url` ("http://prometheus:9090"): GET
// /api/v1/query?query=...&time=.... `http` must outlive it. Thread-safe.
class HttpQueryClient final : public QueryClient {
 public:
  HttpQueryClient(HttpClient& http, std::string base_url);
  absl::StatusOr<std::vector<QuerySample>> Query(const std::string& query,
                                                 absl::Time time) override;

 private:
  HttpClient& http_;
  const std::string base_url_;
};

// Parses a Prometheus /api/v1/query answer (the JSON envelope; vector or scalar result).
// An error envelope becomes InvalidArgument (bad_data) or FailedPrecondition (others) with its
// message; malformed JSON is Internal.
absl::StatusOr<std::vector<QuerySample>> ParseQueryResponse(absl::string_view body);

// MetricsSource's settings.
struct MetricsSourceOptions {
  // The range of the cpu usage rate (rate(container_cpu_usage_seconds_total[window])), and the
  // window the HPA's CPU readiness rules see. Default 30 s.
  absl::Duration metric_window = absl::Seconds(30);
};

// Reads the metrics of policies for one sync. Answers are cached per query text for one sync
// (BeginSync), so the container-usage query runs once per sync for every policy, whatever their
// number, also when several workers want it at the same moment. Owned by the controller; `client`
// must outlive it. Thread-safe.
class MetricsSource {
 public:
  MetricsSource(QueryClient& client, MetricsSourceOptions options);

  // Starts a sync at `now`: drops the cached answers of the previous one.
  void BeginSync(absl::Time now);

  // The input of each of `spec.metrics`, in order, for a policy in `namespace_name` whose
  // target's pods are `pods` (pods outside it are dropped from per-pod answers).
  std::vector<hpa::MetricInput> Read(const ScalingPolicySpec& spec,
                                     const std::string& namespace_name,
                                     const std::vector<hpa::PodInfo>& pods);

  // The query a Resource metric runs (all namespaces; grouped by namespace and pod).
  std::string ResourceQuery(const MetricSpec& metric) const;

 private:
  // One query's answer in this sync, with its samples indexed by (namespace, pod) labels so
  // that each policy looks up its own pods instead of scanning every pod's sample.
  struct Answer {
    absl::StatusOr<std::vector<QuerySample>> samples;
    absl::flat_hash_map<std::pair<std::string, std::string>, std::vector<size_t>> by_pod;
  };
  // The answer of `query` at the sync's time, from the cache or the client.
  std::shared_ptr<const Answer> Cached(const std::string& query);
  // The samples of `answer` for `pod` in `namespace_name` (also those without a namespace
  // label when `unlabelled_namespace`).
  static std::vector<const QuerySample*> SamplesOf(const Answer& answer,
                                                   const std::string& namespace_name,
                                                   const std::string& pod,
                                                   bool unlabelled_namespace);
  hpa::MetricInput ReadResource(const MetricSpec& metric, const std::string& namespace_name,
                                const std::set<std::string>& pods);
  // `pods`: the target's pod names; other pods' series are left out before any check.
  hpa::MetricInput ReadPods(const MetricSpec& metric, const std::string& namespace_name,
                            const std::set<std::string>& pods);
  hpa::MetricInput ReadExternal(const MetricSpec& metric);

  QueryClient& client_;
  const MetricsSourceOptions options_;
  absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  // A query's answer once `done` is notified (written once, before the notification).
  struct Pending {
    absl::Notification done;
    std::shared_ptr<const Answer> answer;
  };
  std::map<std::string, std::shared_ptr<Pending>> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sextant::autoscaler
