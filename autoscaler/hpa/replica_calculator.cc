// The HPA's per-metric arithmetic, following Kubernetes' pkg/controller/podautoscaler
// (replica_calculator.go and metrics/utilization.go) step by step, with the same integer
// divisions, float ratios, strict time comparisons and error messages.
//
// Deliberate differences, all at the edges:
// - Pods metrics (PlainMetricReplicas with resource ""): samples for pods that are not in the
//   pod list are dropped first. The custom metrics API the HPA reads only returns the pods its
//   selector matches; a PromQL query can return series for any pod, and counting those would
//   change the average and the rebalanced count. Resource metrics keep the HPA's behaviour (an
//   extraneous sample stays in the map: it is skipped by the utilization ratio and counts in
//   the rebalanced len(metrics)), so that the upstream cases give the upstream answers.
// - Go's float->int32 conversions of out-of-range values are platform-specific; here they
//   saturate at the int32 range (the newer HPA code caps at MaxInt32 the same way).
// - int64 sums and products wrap as in Go instead of being undefined behaviour.
// - ExternalAverageValueReplicas with status.replicas 0: the ratio divides by zero (+Inf or NaN,
//   so it scales to ceil(usage / target)); the per-pod usage is 0, as the HPA's getPerPodUsage.
#include "autoscaler/hpa/replica_calculator.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sextant::autoscaler::hpa {
namespace {

// Go's int64 arithmetic wraps on overflow.
int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t WrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

// int32(x) of a float that is already an integer (after math.Ceil), saturating.
int32_t ToInt32(double x) {
  if (std::isnan(x)) return 0;
  if (x >= static_cast<double>(std::numeric_limits<int32_t>::max())) {
    return std::numeric_limits<int32_t>::max();
  }
  if (x <= static_cast<double>(std::numeric_limits<int32_t>::min())) {
    return std::numeric_limits<int32_t>::min();
  }
  return static_cast<int32_t>(x);  // truncates toward zero, as Go
}
int32_t CeilToInt32(double x) { return ToInt32(std::ceil(x)); }

int64_t ToInt64(double x) {
  if (std::isnan(x)) return 0;
  if (x >= 9.2233720368547758e18) return std::numeric_limits<int64_t>::max();
  if (x <= -9.2233720368547758e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(x);
}

struct UtilizationRatio {
  double ratio = 0;
  int32_t utilization = 0;
  int64_t raw_average = 0;
};

// metricsclient.GetResourceUtilizationRatio: sums over the pods that have both a sample and a
// request (a sample without a request is an extraneous metric).
absl::StatusOr<UtilizationRatio> ResourceUtilizationRatio(
    const PodMetrics& metrics, const std::map<std::string, int64_t>& requests,
    int32_t target_utilization) {
  int64_t metrics_total = 0;
  int64_t requests_total = 0;
  int64_t entries = 0;
  for (const auto& [pod, metric] : metrics) {
    auto request = requests.find(pod);
    if (request == requests.end()) continue;
    metrics_total = WrapAdd(metrics_total, metric.value_milli);
    requests_total = WrapAdd(requests_total, request->second);
    ++entries;
  }
  if (requests_total == 0) {
    return absl::InvalidArgumentError("no metrics returned matched known pods");
  }
  UtilizationRatio out;
  out.utilization = static_cast<int32_t>(WrapMul(metrics_total, 100) / requests_total);
  out.ratio = static_cast<double>(out.utilization) / static_cast<double>(target_utilization);
  out.raw_average = metrics_total / entries;
  return out;
}

struct UsageRatio {
  double ratio = 0;
  int64_t usage = 0;
};

// metricsclient.GetMetricUsageRatio: the integer average over the samples.
UsageRatio MetricUsageRatio(const PodMetrics& metrics, int64_t target) {
  int64_t total = 0;
  for (const auto& [pod, metric] : metrics) total = WrapAdd(total, metric.value_milli);
  UsageRatio out;
  out.usage = total / static_cast<int64_t>(metrics.size());
  out.ratio = static_cast<double>(out.usage) / static_cast<double>(target);
  return out;
}

void RemovePods(PodMetrics& metrics, const std::set<std::string>& pods) {
  for (const std::string& pod : pods) metrics.erase(pod);
}

absl::Status NoPodsError() {
  return absl::InvalidArgumentError("no pods returned by selector while calculating replica count");
}
absl::Status NoMetricsError() {
  return absl::InvalidArgumentError(
      "did not receive metrics for targeted pods (pods might be unready)");
}

}  // namespace

PodGroups GroupPods(const std::vector<PodInfo>& pods, const PodMetrics& metrics,
                    const std::string& resource, const HpaOptions& options, absl::Time now) {
  PodGroups groups;
  for (const PodInfo& pod : pods) {
    // Terminal pods (IsPodTerminal: Failed or Succeeded) and deleting ones are ignored.
    if (pod.deleting || pod.phase == "Failed" || pod.phase == "Succeeded") {
      groups.ignored.insert(pod.name);
      continue;
    }
    if (pod.phase == "Pending") {
      groups.unready.insert(pod.name);
      continue;
    }
    auto metric = metrics.find(pod.name);
    if (metric == metrics.end()) {
      groups.missing.insert(pod.name);
      continue;
    }
    if (resource == "cpu") {
      bool unready = false;
      if (!pod.ready.has_value() || !pod.start_time.has_value()) {
        unready = true;
      } else if (*pod.start_time + options.cpu_initialization_period > now) {
        // Within the initialization period: the sample counts only once the pod is ready and
        // a whole window of it was taken after the readiness transition.
        unready = !*pod.ready ||
                  metric->second.timestamp < pod.ready_transition_time + metric->second.window;
      } else {
        // Afterwards only a pod that has never been ready is left out.
        unready = !*pod.ready &&
                  *pod.start_time + options.initial_readiness_delay > pod.ready_transition_time;
      }
      if (unready) {
        groups.unready.insert(pod.name);
        continue;
      }
    }
    ++groups.ready_count;
  }
  return groups;
}

absl::StatusOr<std::map<std::string, int64_t>> PodRequests(const std::vector<PodInfo>& pods,
                                                           const std::string& resource,
                                                           const std::string& container) {
  std::map<std::string, int64_t> requests;
  for (const PodInfo& pod : pods) {
    int64_t request = 0;
    bool found_container = false;
    for (const ContainerRequests& c : pod.containers) {
      if (container.empty() || container == c.name) {
        auto it = c.requests.find(resource);
        if (it == c.requests.end()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "missing request for ", resource, " in container ", c.name, " of Pod ", pod.name));
        }
        request = WrapAdd(request, it->second);
      }
      if (!container.empty() && container == c.name) {
        found_container = true;
        break;  // container names are unique inside a pod
      }
    }
    if (!container.empty() && !found_container) {
      return absl::InvalidArgumentError(
          absl::StrCat("container ", container, " not found in Pod ", pod.name));
    }
    requests[pod.name] = request;
  }
  return requests;
}

absl::StatusOr<ReplicaProposal> ResourceUtilizationReplicas(
    int32_t current_replicas, int32_t target_utilization, const std::string& resource,
    const std::string& container, const Tolerances& tolerances, const std::vector<PodInfo>& pods,
    PodMetrics metrics, const HpaOptions& options, absl::Time now) {
  if (pods.empty()) return NoPodsError();

  PodGroups groups = GroupPods(pods, metrics, resource, options, now);
  RemovePods(metrics, groups.ignored);
  RemovePods(metrics, groups.unready);
  if (metrics.empty()) return NoMetricsError();

  absl::StatusOr<std::map<std::string, int64_t>> requests = PodRequests(pods, resource, container);
  if (!requests.ok()) return requests.status();

  absl::StatusOr<UtilizationRatio> first =
      ResourceUtilizationRatio(metrics, *requests, target_utilization);
  if (!first.ok()) return first.status();
  const double usage_ratio = first->ratio;

  ReplicaProposal proposal;
  proposal.replicas = current_replicas;
  proposal.utilization = first->utilization;
  proposal.usage_milli = first->raw_average;

  const bool scale_up_with_unready = !groups.unready.empty() && usage_ratio > 1.0;
  if (!scale_up_with_unready && groups.missing.empty()) {
    if (tolerances.IsWithin(usage_ratio)) return proposal;
    proposal.replicas = CeilToInt32(usage_ratio * static_cast<double>(groups.ready_count));
    return proposal;
  }

  if (!groups.missing.empty()) {
    if (usage_ratio < 1.0) {
      // Scale-down: a missing pod uses 100% of its request, or the target when it is above
      // 100%.
      const int64_t fallback = std::max<int64_t>(100, target_utilization);
      for (const std::string& pod : groups.missing) {
        metrics[pod] = PodMetric{WrapMul((*requests)[pod], fallback) / 100, {}, {}};
      }
    } else if (usage_ratio > 1.0) {
      for (const std::string& pod : groups.missing) metrics[pod] = PodMetric{};
    }
  }
  if (scale_up_with_unready) {
    for (const std::string& pod : groups.unready) metrics[pod] = PodMetric{};
  }

  absl::StatusOr<UtilizationRatio> second =
      ResourceUtilizationRatio(metrics, *requests, target_utilization);
  if (!second.ok()) return second.status();
  const double new_ratio = second->ratio;

  if (tolerances.IsWithin(new_ratio) || (usage_ratio < 1.0 && new_ratio > 1.0) ||
      (usage_ratio > 1.0 && new_ratio < 1.0)) {
    return proposal;  // too small a change, or the rebalancing reversed the direction
  }
  const int32_t new_replicas = CeilToInt32(new_ratio * static_cast<double>(metrics.size()));
  if ((new_ratio < 1.0 && new_replicas > current_replicas) ||
      (new_ratio > 1.0 && new_replicas < current_replicas)) {
    return proposal;  // the count of pods considered would reverse the direction
  }
  proposal.replicas = new_replicas;
  return proposal;
}

absl::StatusOr<ReplicaProposal> PlainMetricReplicas(int32_t current_replicas, int64_t target_milli,
                                                    const std::string& resource,
                                                    const Tolerances& tolerances,
                                                    const std::vector<PodInfo>& pods,
                                                    PodMetrics metrics, const HpaOptions& options,
                                                    absl::Time now) {
  if (pods.empty()) return NoPodsError();
  if (resource.empty()) {
    // Pods metrics: only the pods the selector matches count (see the file comment).
    std::set<std::string> known;
    for (const PodInfo& pod : pods) known.insert(pod.name);
    for (auto it = metrics.begin(); it != metrics.end();) {
      it = known.count(it->first) ? std::next(it) : metrics.erase(it);
    }
  }

  PodGroups groups = GroupPods(pods, metrics, resource, options, now);
  RemovePods(metrics, groups.ignored);
  RemovePods(metrics, groups.unready);
  if (metrics.empty()) return NoMetricsError();

  const UsageRatio first = MetricUsageRatio(metrics, target_milli);
  const double usage_ratio = first.ratio;

  ReplicaProposal proposal;
  proposal.replicas = current_replicas;
  proposal.usage_milli = first.usage;

  const bool scale_up_with_unready = !groups.unready.empty() && usage_ratio > 1.0;
  if (!scale_up_with_unready && groups.missing.empty()) {
    if (tolerances.IsWithin(usage_ratio)) return proposal;
    proposal.replicas = CeilToInt32(usage_ratio * static_cast<double>(groups.ready_count));
    return proposal;
  }

  if (!groups.missing.empty()) {
    if (usage_ratio < 1.0) {
      // Scale-down: a missing pod uses exactly the target.
      for (const std::string& pod : groups.missing) metrics[pod] = PodMetric{target_milli, {}, {}};
    } else if (usage_ratio > 1.0) {
      for (const std::string& pod : groups.missing) metrics[pod] = PodMetric{};
    }
  }
  if (scale_up_with_unready) {
    for (const std::string& pod : groups.unready) metrics[pod] = PodMetric{};
  }

  const double new_ratio = MetricUsageRatio(metrics, target_milli).ratio;
  if (tolerances.IsWithin(new_ratio) || (usage_ratio < 1.0 && new_ratio > 1.0) ||
      (usage_ratio > 1.0 && new_ratio < 1.0)) {
    return proposal;
  }
  const int32_t new_replicas = CeilToInt32(new_ratio * static_cast<double>(metrics.size()));
  if ((new_ratio < 1.0 && new_replicas > current_replicas) ||
      (new_ratio > 1.0 && new_replicas < current_replicas)) {
    return proposal;
  }
  proposal.replicas = new_replicas;
  return proposal;
}

absl::StatusOr<ReplicaProposal> ExternalValueReplicas(int32_t current_replicas,
                                                      int64_t target_milli, int64_t usage_milli,
                                                      const Tolerances& tolerances,
                                                      const std::vector<PodInfo>& pods) {
  ReplicaProposal proposal;
  proposal.usage_milli = usage_milli;
  const double usage_ratio = static_cast<double>(usage_milli) / static_cast<double>(target_milli);
  if (current_replicas == 0) {
    // From zero: neither the tolerance nor the ready pods matter.
    proposal.replicas = CeilToInt32(usage_ratio);
    return proposal;
  }
  if (tolerances.IsWithin(usage_ratio)) {
    proposal.replicas = current_replicas;
    return proposal;
  }
  if (pods.empty()) {
    return absl::InvalidArgumentError(
        "unable to calculate ready pods: no pods returned by selector while calculating "
        "replica count");
  }
  int64_t ready = 0;
  for (const PodInfo& pod : pods) {
    if (pod.phase == "Running" && pod.ready.value_or(false)) ++ready;
  }
  proposal.replicas = CeilToInt32(usage_ratio * static_cast<double>(ready));
  return proposal;
}

ReplicaProposal ExternalAverageValueReplicas(int32_t status_replicas, int64_t target_milli,
                                             int64_t usage_milli, const Tolerances& tolerances) {
  ReplicaProposal proposal;
  proposal.replicas = status_replicas;
  bool within = false;
  if (status_replicas != 0) {
    const double usage_ratio =
        static_cast<double>(usage_milli) / (static_cast<double>(target_milli) * status_replicas);
    within = tolerances.IsWithin(usage_ratio);
  }
  if (!within) {
    proposal.replicas =
        CeilToInt32(static_cast<double>(usage_milli) / static_cast<double>(target_milli));
  }
  proposal.usage_milli =
      status_replicas == 0 ? 0
                           : ToInt64(std::ceil(static_cast<double>(usage_milli) / status_replicas));
  return proposal;
}

}  // namespace sextant::autoscaler::hpa
