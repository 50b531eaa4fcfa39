// The HPA's per-metric arithmetic, as tables. Rows named "upstream: TestX" carry the inputs and
// expected outputs of Kubernetes' pkg/controller/podautoscaler/replica_calculator_test.go case
// TestX, restated in our types: every pod has two containers ("container1", "container2") with
// the same request, a pod's sample is the sum of its containers' levels, the upstream controller
// settings (tolerance 0.1, CPU initialization 2 min, initial readiness delay 10 s), samples
// taken at Go's zero time over a 1 min window, "old" pods started at the zero time with their
// readiness changed then, "hot" pods started now and "cool" ones 3 min ago.
#include "autoscaler/hpa/replica_calculator.h"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"

// Table rows leave their trailing fields (the expected error, overrides) at the defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace sextant::autoscaler::hpa {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'000'000'000);
const absl::Time kZero = absl::FromUnixSeconds(0);  // stands for Go's zero time

HpaOptions UpstreamOptions() {
  HpaOptions o;
  o.tolerance = 0.1;
  o.cpu_initialization_period = absl::Minutes(2);
  o.initial_readiness_delay = absl::Seconds(10);
  return o;
}

const Tolerances kDefaultTolerances{0.1, 0.1};

// One pod of a table row. Defaults: Running, Ready True, started at the zero time.
struct PodRow {
  char ready = 'T';  // 'T', 'F', or '-' (no Ready condition)
  char phase = 'R';  // 'R' Running, 'P' Pending, 'F' Failed, 'S' Succeeded
  char start = 'o';  // 'o' old (zero time), 'h' hot (now), 'c' cool (now - 3 min), '-' none
  bool deleting = false;
};

std::string PhaseName(char p) {
  switch (p) {
    case 'P':
      return "Pending";
    case 'F':
      return "Failed";
    case 'S':
      return "Succeeded";
    default:
      return "Running";
  }
}

// Builds `count` pods "test-pod-<i>" the way the upstream test client does.
std::vector<PodInfo> MakePods(int count, const std::vector<PodRow>& rows,
                              const std::vector<int64_t>& requests, const std::string& resource) {
  std::vector<PodInfo> pods;
  for (int i = 0; i < count; ++i) {
    PodRow row = i < static_cast<int>(rows.size()) ? rows[i] : PodRow{};
    PodInfo pod;
    pod.name = "test-pod-" + std::to_string(i);
    pod.phase = PhaseName(row.phase);
    pod.deleting = row.deleting;
    if (row.ready != '-') pod.ready = row.ready == 'T';
    pod.ready_transition_time = kZero;
    switch (row.start) {
      case 'h':
        pod.start_time = kNow;
        break;
      case 'c':
        pod.start_time = kNow - absl::Minutes(3);
        break;
      case 'o':
        pod.start_time = kZero;
        break;
      default:
        break;
    }
    for (const char* c : {"container1", "container2"}) {
      ContainerRequests container{c, {}};
      if (i < static_cast<int>(requests.size())) container.requests[resource] = requests[i];
      pod.containers.push_back(container);
    }
    pods.push_back(pod);
  }
  return pods;
}

// Pod i's sample: the sum of its container levels, or only `container`'s.
PodMetrics MakeMetrics(const std::vector<std::vector<int64_t>>& levels,
                       const std::vector<std::string>& names, const std::string& container) {
  PodMetrics metrics;
  for (size_t i = 0; i < levels.size(); ++i) {
    int64_t value = 0;
    bool found = container.empty();
    for (size_t c = 0; c < levels[i].size(); ++c) {
      if (container.empty()) {
        value += levels[i][c];
      } else if (container == "container" + std::to_string(c + 1)) {
        value = levels[i][c];
        found = true;
      }
    }
    if (!found) continue;
    const std::string name = i < names.size() ? names[i] : "test-pod-" + std::to_string(i);
    metrics[name] = PodMetric{value, kZero, absl::Minutes(1)};
  }
  return metrics;
}

// makePodMetricLevels: both containers at the level.
std::vector<std::vector<int64_t>> Same(std::vector<int64_t> levels) {
  std::vector<std::vector<int64_t>> out;
  for (int64_t l : levels) out.push_back({l, l});
  return out;
}

int PodCount(int32_t current, const std::vector<PodRow>& rows) {
  return std::max<int>(current, static_cast<int>(rows.size()));
}

struct ResourceCase {
  std::string name;
  int32_t current;
  std::vector<int64_t> requests;  // per container, per pod
  std::vector<std::vector<int64_t>> levels;
  std::vector<PodRow> pods;
  int32_t target_utilization;
  std::string container;
  std::vector<std::string> sample_names;  // sample i belongs to this pod instead
  Tolerances tolerances = kDefaultTolerances;
  // Expected.
  int32_t replicas = 0;
  int32_t utilization = 0;
  int64_t value = 0;
  std::string error;  // a substring; "" = OK
};
void PrintTo(const ResourceCase& c, std::ostream* os) { *os << c.name; }

const PodRow R{};                                 // ready, running, old
const PodRow U{'F', 'R', 'o', false};             // not ready
const PodRow Hot{'T', 'R', 'h', false};           // ready, started now
const PodRow HotUnready{'F', 'R', 'h', false};    // not ready, started now
const PodRow Cool{'T', 'R', 'c', false};          // ready, started 3 min ago
const PodRow FailedPod{'F', 'F', 'o', false};     // phase Failed
const PodRow SucceededPod{'F', 'S', 'o', false};  // phase Succeeded
const PodRow PendingPod{'F', 'P', 'o', false};    // phase Pending
const PodRow Deleting{'F', 'R', 'o', true};       // deletionTimestamp set
const PodRow NoCondition{'-', 'R', 'o', false};   // no Ready condition
const PodRow NoStart{'T', 'R', '-', false};       // no startTime

class ResourceUtilizationTest : public ::testing::TestWithParam<ResourceCase> {};

TEST_P(ResourceUtilizationTest, MatchesTheHpa) {
  const ResourceCase& tc = GetParam();
  std::vector<PodInfo> pods = MakePods(PodCount(tc.current, tc.pods), tc.pods, tc.requests, "cpu");
  absl::StatusOr<ReplicaProposal> got = ResourceUtilizationReplicas(
      tc.current, tc.target_utilization, "cpu", tc.container, tc.tolerances, pods,
      MakeMetrics(tc.levels, tc.sample_names, tc.container), UpstreamOptions(), kNow);
  if (!tc.error.empty()) {
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.status().message().find(tc.error), std::string::npos) << got.status();
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->replicas, tc.replicas);
  EXPECT_EQ(got->utilization, tc.utilization);
  EXPECT_EQ(got->usage_milli, tc.value);
}

const std::vector<int64_t> k3x1000 = {1000, 1000, 1000};
const std::vector<int64_t> k4x1000 = {1000, 1000, 1000, 1000};
const std::vector<int64_t> k5x1000 = {1000, 1000, 1000, 1000, 1000};
const std::vector<int64_t> k7x1000 = {1000, 1000, 1000, 1000, 1000, 1000, 1000};
const std::vector<int64_t> k10x1000(10, 1000);
std::vector<int64_t> Levels(int n, int64_t level) { return std::vector<int64_t>(n, level); }

INSTANTIATE_TEST_SUITE_P(
    Table, ResourceUtilizationTest,
    ::testing::Values(
        // ---- Ported from upstream (same inputs, same expectations). ----
        ResourceCase{"upstream_TestReplicaCalcDisjointResourcesMetrics",
                     1,
                     {1000},
                     Same({100}),
                     {},
                     100,
                     "",
                     {"an-older-pod-name"},
                     kDefaultTolerances,
                     0,
                     0,
                     0,
                     "no metrics returned matched known pods"},
        ResourceCase{"upstream_TestReplicaCalcScaleUp",
                     3,
                     k3x1000,
                     Same({300, 500, 700}),
                     {},
                     30,
                     "",
                     {},
                     kDefaultTolerances,
                     5,
                     50,
                     2 * 500},
        ResourceCase{"upstream_TestReplicaCalcContainerScaleUp",
                     3,
                     k3x1000,
                     {{1000, 300}, {1000, 500}, {1000, 700}},
                     {},
                     30,
                     "container2",
                     {},
                     kDefaultTolerances,
                     5,
                     50,
                     500},
        ResourceCase{"upstream_TestReplicaCalcScaleUpUnreadyLessScale",
                     3,
                     k3x1000,
                     Same({300, 500, 700}),
                     {U, R, R},
                     30,
                     "",
                     {},
                     kDefaultTolerances,
                     4,
                     60,
                     2 * 600},
        ResourceCase{"upstream_TestReplicaCalcScaleUpContainerHotCpuLessScale",
                     3,
                     k3x1000,
                     {{0, 300}, {0, 500}, {0, 700}},
                     {Hot, Cool, Cool},
                     30,
                     "container2",
                     {},
                     kDefaultTolerances,
                     4,
                     60,
                     600},
        ResourceCase{"upstream_TestReplicaCalcScaleUpHotCpuLessScale",
                     3,
                     k3x1000,
                     Same({300, 500, 700}),
                     {Hot, Cool, Cool},
                     30,
                     "",
                     {},
                     kDefaultTolerances,
                     4,
                     60,
                     2 * 600},
        ResourceCase{"upstream_TestReplicaCalcScaleUpUnreadyNoScale",
                     3,
                     k3x1000,
                     Same({400, 500, 700}),
                     {R, U, U},
                     30,
                     "",
                     {},
                     kDefaultTolerances,
                     3,
                     40,
                     2 * 400},
        ResourceCase{"upstream_TestReplicaCalcScaleHotCpuNoScale",
                     3,
                     k3x1000,
                     Same({400, 500, 700}),
                     {Cool, HotUnready, HotUnready},
                     30,
                     "",
                     {},
                     kDefaultTolerances,
                     3,
                     40,
                     2 * 400},
        ResourceCase{"upstream_TestReplicaCalcScaleUpIgnoresFailedPods",
                     2,
                     k4x1000,
                     Same({500, 700}),
                     {R, R, FailedPod, FailedPod},
                     30,
                     "",
                     {},
                     kDefaultTolerances,
                     4,
                     60,
                     2 * 600},
        ResourceCase{"upstream_TestReplicaCalcMissingContainerMetricScaleUpIgnoresFailedPods",
                     2,
                     k4x1000,
                     {{1000, 500}, {9000, 700}, {1000}, {9000}},
                     {R, R, FailedPod, FailedPod},
                     30,
                     "container2",
                     {},
                     kDefaultTolerances,
                     4,
                     60,
                     600},
        // Succeeded pods are terminal and ignored like Failed ones (groupPods'
        // IsPodTerminal); counted as missing they would hold the scale-up at 2.
        ResourceCase{"scale_up_ignores_succeeded_pods",
                     2,
                     k4x1000,
                     Same({500, 700}),
                     {R, R, SucceededPod, SucceededPod},
                     30,
                     "",
                     {},
                     kDefaultTolerances,
                     4,
                     60,
                     2 * 600},
        ResourceCase{"upstream_TestReplicaCalcScaleUpIgnoresDeletionPods",
                     2,
                     k4x1000,
                     Same({500, 700}),
                     {R, R, Deleting, Deleting},
                     30,
                     "",
                     {},
                     kDefaultTolerances,
                     4,
                     60,
                     2 * 600},
        ResourceCase{"upstream_TestReplicaCalcScaleDown",
                     5,
                     k5x1000,
                     Same({100, 300, 500, 250, 250}),
                     {},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     3,
                     28,
                     2 * 280},
        ResourceCase{"upstream_TestReplicaCalcContainerScaleDown",
                     5,
                     k5x1000,
                     {{1000, 100}, {1000, 300}, {1000, 500}, {1000, 250}, {1000, 250}},
                     {},
                     50,
                     "container2",
                     {},
                     kDefaultTolerances,
                     3,
                     28,
                     280},
        ResourceCase{"upstream_TestReplicaCalcScaleDownExcludeUnreadyPods",
                     5,
                     k5x1000,
                     Same({100, 300, 500, 250, 250}),
                     {R, R, R, U, U},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     2,
                     30,
                     2 * 300},
        ResourceCase{"upstream_TestReplicaCalcScaleDownExcludeUnscheduledPods",
                     5,
                     k5x1000,
                     Same({100}),
                     {R, PendingPod, PendingPod, PendingPod, PendingPod},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     1,
                     10,
                     2 * 100},
        ResourceCase{"upstream_TestReplicaCalcScaleDownIgnoreHotCpuPods",
                     5,
                     k5x1000,
                     Same({100, 300, 500, 250, 250}),
                     {Cool, Cool, Cool, Hot, Hot},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     2,
                     30,
                     2 * 300},
        ResourceCase{"upstream_TestReplicaCalcScaleDownContainerIgnoreHotCpuPods",
                     5,
                     k5x1000,
                     {{1000, 100}, {1000, 300}, {1000, 500}, {1000, 1000}, {1000, 1000}},
                     {Cool, Cool, Cool, Hot, Hot},
                     50,
                     "container2",
                     {},
                     kDefaultTolerances,
                     2,
                     30,
                     300},
        ResourceCase{"upstream_TestReplicaCalcScaleDownIgnoresFailedPods",
                     5,
                     k7x1000,
                     Same({100, 300, 500, 250, 250}),
                     {R, R, R, R, R, FailedPod, FailedPod},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     3,
                     28,
                     2 * 280},
        ResourceCase{"scale_down_ignores_succeeded_pods",
                     5,
                     k7x1000,
                     Same({100, 300, 500, 250, 250}),
                     {R, R, R, R, R, SucceededPod, SucceededPod},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     3,
                     28,
                     2 * 280},
        ResourceCase{"upstream_TestReplicaCalcScaleDownIgnoresDeletionPods_StillRunning",
                     5,
                     k7x1000,
                     {{1000, 100}, {1000, 300}, {1000, 500}, {1000, 250}, {1000, 250}},
                     {R, R, R, R, R, Deleting, Deleting},
                     50,
                     "container2",
                     {},
                     kDefaultTolerances,
                     3,
                     28,
                     280},
        ResourceCase{"upstream_TestReplicaCalcTolerance",
                     3,
                     {900, 1000, 1100},
                     Same({1010, 1030, 1020}),
                     {},
                     100,
                     "",
                     {},
                     kDefaultTolerances,
                     3,
                     102,
                     2 * 1020},
        ResourceCase{"upstream_TestReplicaCalcSuperfluousMetrics",
                     4,
                     k4x1000,
                     Same({4000, 9500, 3000, 7000, 3200, 2000}),
                     {},
                     100,
                     "",
                     {},
                     kDefaultTolerances,
                     24,
                     587,
                     2 * 5875},
        ResourceCase{"upstream_TestReplicaCalcMissingMetrics",
                     4,
                     k4x1000,
                     Same({400, 95}),
                     {},
                     100,
                     "",
                     {},
                     kDefaultTolerances,
                     3,
                     24,
                     495},
        ResourceCase{"upstream_TestReplicaCalcEmptyCPURequest",
                     1,
                     {},
                     Same({200}),
                     {},
                     100,
                     "",
                     {},
                     kDefaultTolerances,
                     0,
                     0,
                     0,
                     "missing request for"},
        ResourceCase{"upstream_TestReplicaCalcMissingMetricsNoChangeEq",
                     2,
                     {1000, 1000},
                     Same({1000}),
                     {},
                     100,
                     "",
                     {},
                     kDefaultTolerances,
                     2,
                     100,
                     2 * 1000},
        ResourceCase{"upstream_TestReplicaCalcMissingMetricsNoChangeGt",
                     2,
                     {1000, 1000},
                     Same({1900}),
                     {},
                     100,
                     "",
                     {},
                     kDefaultTolerances,
                     2,
                     190,
                     2 * 1900},
        ResourceCase{"upstream_TestReplicaCalcMissingMetricsNoChangeLt",
                     2,
                     {1000, 1000},
                     Same({600}),
                     {},
                     100,
                     "",
                     {},
                     kDefaultTolerances,
                     2,
                     60,
                     2 * 600},
        ResourceCase{"upstream_TestReplicaCalcMissingMetricsUnreadyChange",
                     3,
                     k3x1000,
                     Same({100, 450}),
                     {U, R, R},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     3,
                     45,
                     2 * 450},
        ResourceCase{"upstream_TestReplicaCalcMissingMetricsHotCpuNoChange",
                     3,
                     k3x1000,
                     Same({100, 450}),
                     {Hot, Cool, Cool},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     3,
                     45,
                     2 * 450},
        ResourceCase{"upstream_TestReplicaCalcMissingMetricsUnreadyScaleUp",
                     3,
                     k3x1000,
                     Same({100, 2000}),
                     {U, R, R},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     4,
                     200,
                     2 * 2000},
        ResourceCase{"upstream_TestReplicaCalcMissingMetricsHotCpuScaleUp",
                     3,
                     k3x1000,
                     Same({100, 2000}),
                     {HotUnready, Cool, Cool},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     4,
                     200,
                     2 * 2000},
        ResourceCase{"upstream_TestReplicaCalcMissingMetricsUnreadyScaleDown",
                     4,
                     k4x1000,
                     Same({100, 100, 100}),
                     {U, R, R, R},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     3,
                     10,
                     2 * 100},
        ResourceCase{"upstream_TestReplicaCalcMissingMetricsScaleDownTargetOver100",
                     4,
                     {1000, 1000, 2000, 2000},
                     Same({200, 100, 100}),
                     {U, R, R, R},
                     300,
                     "",
                     {},
                     kDefaultTolerances,
                     2,
                     6,
                     2 * 100},
        ResourceCase{"upstream_TestReplicaCalcDuringRollingUpdateWithMaxSurge",
                     2,
                     k3x1000,
                     Same({100, 100}),
                     {R, R, R},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     2,
                     10,
                     2 * 100},
        // ---- Our branch coverage. ----
        // Missing pods on a scale-down with the target at or below 100%: assumed at 100% of
        // their request. 2 pods at 5% + 2 missing at 100% = 52% of target 50 -> 1.04: the
        // rebalancing reversed the direction, the count stays.
        ResourceCase{"missing_pods_scale_down_count_at_100_percent",
                     4,
                     k4x1000,
                     Same({50, 50}),
                     {},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     4,
                     5,
                     100},
        // Same pods with the target above 100%: missing pods at the target (200%). New ratio
        // (200+8000)/8000*100 = 102% of 200 -> 0.51 -> ceil(0.51*4) = 3.
        ResourceCase{"missing_pods_scale_down_count_at_target_above_100",
                     4,
                     k4x1000,
                     Same({50, 50}),
                     {},
                     200,
                     "",
                     {},
                     kDefaultTolerances,
                     3,
                     5,
                     100},
        // Scale-up with missing pods: they count as 0 -> (2 x 300% + 2 x 0) / 4 = 150% of 50
        // -> 3 -> ceil(3 * 4) = 12.
        ResourceCase{"missing_pods_scale_up_count_at_zero",
                     4,
                     k4x1000,
                     Same({3000, 3000}),
                     {},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     12,
                     300,
                     6000},
        // Unready pods only matter on a scale-up: on a scale-down they are left out
        // (ceil(0.2 * 2) = 1, not rebalanced).
        ResourceCase{"unready_pods_ignored_on_scale_down",
                     3,
                     k3x1000,
                     Same({100, 100, 900}),
                     {R, R, U},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     1,
                     10,
                     200},
        // A pod with no Ready condition, or no start time, is unready for cpu.
        ResourceCase{"no_ready_condition_is_unready_for_cpu",
                     2,
                     {1000, 1000},
                     Same({500, 100}),
                     {R, NoCondition},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     2,
                     50,
                     1000},
        ResourceCase{"no_start_time_is_unready_for_cpu",
                     2,
                     {1000, 1000},
                     Same({500, 100}),
                     {R, NoStart},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     2,
                     50,
                     1000},
        // One ready pod at 120% and one unready pod (counted 0 on the way up): 60% of 50 = 1.2
        // -> ceil(1.2 * 2) = 3; with a scale-up tolerance of 0.25 the count stays.
        ResourceCase{"rebalanced_ratio_within_per_direction_tolerance",
                     2,
                     {1000, 1000},
                     Same({1200, 0}),
                     {R, U},
                     50,
                     "",
                     {},
                     Tolerances{0.1, 0.25},
                     2,
                     120,
                     2400},
        ResourceCase{"rebalanced_ratio_outside_tolerance",
                     2,
                     {1000, 1000},
                     Same({1200, 0}),
                     {R, U},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     3,
                     120,
                     2400},
        // Integer truncation: 1999m of 1000m is 199%, not 199.9% -> ratio 1.99 -> ceil(1.99)=2.
        ResourceCase{"utilization_truncates_to_integer_percent",
                     1,
                     {500},
                     {{1999, 0}},
                     {},
                     100,
                     "",
                     {},
                     kDefaultTolerances,
                     2,
                     199,
                     1999},
        // Tolerance edges: exactly 0.9 and 1.1 do not scale, just beyond does.
        ResourceCase{"ratio_exactly_0_9_stays",
                     10,
                     k10x1000,
                     Same(Levels(10, 450)),
                     {},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     10,
                     45,
                     900},
        ResourceCase{"ratio_exactly_1_1_stays",
                     10,
                     k10x1000,
                     Same(Levels(10, 550)),
                     {},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     10,
                     55,
                     1100},
        ResourceCase{"ratio_0_88_scales_down",
                     10,
                     k10x1000,
                     Same(Levels(10, 440)),
                     {},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     9,
                     44,
                     880},
        ResourceCase{"ratio_1_12_scales_up",
                     10,
                     k10x1000,
                     Same(Levels(10, 560)),
                     {},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     12,
                     56,
                     1120},
        // Per-direction tolerances: down 0.05 scales at 0.9; up 0.5 holds at 1.4.
        ResourceCase{"scale_down_tolerance_0_05_scales_at_0_9",
                     10,
                     k10x1000,
                     Same(Levels(10, 450)),
                     {},
                     50,
                     "",
                     {},
                     Tolerances{0.05, 0.5},
                     9,
                     45,
                     900},
        ResourceCase{"scale_up_tolerance_0_5_holds_at_1_4",
                     10,
                     k10x1000,
                     Same(Levels(10, 700)),
                     {},
                     50,
                     "",
                     {},
                     Tolerances{0.05, 0.5},
                     10,
                     70,
                     1400},
        // Errors.
        ResourceCase{"only_unready_pods_have_samples",
                     2,
                     k3x1000,
                     Same({100, 100}),
                     {U, U},
                     50,
                     "",
                     {},
                     kDefaultTolerances,
                     0,
                     0,
                     0,
                     "did not receive metrics for targeted pods (pods might be unready)"}),
    [](const ::testing::TestParamInfo<ResourceCase>& info) { return info.param.name; });

// The "no pods" row must have no pods at all.
TEST(ResourceUtilizationReplicasTest, NoPodsIsAnError) {
  absl::StatusOr<ReplicaProposal> got =
      ResourceUtilizationReplicas(3, 50, "cpu", "", kDefaultTolerances, {},
                                  MakeMetrics(Same({100}), {}, ""), UpstreamOptions(), kNow);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().message(), "no pods returned by selector while calculating replica count");
}

TEST(PodRequestsTest, MissingRequestNamesContainerAndPod) {
  std::vector<PodInfo> pods(1);
  pods[0].name = "web-1";
  pods[0].containers = {{"web", {}}};
  absl::StatusOr<std::map<std::string, int64_t>> got = PodRequests(pods, "cpu", "");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status().message(), "missing request for cpu in container web of Pod web-1");
}

TEST(PodRequestsTest, SumsContainersOrTakesTheNamedOne) {
  std::vector<PodInfo> pods(1);
  pods[0].name = "test-pod";
  pods[0].containers = {{"container1", {{"cpu", 100}}}, {"container2", {{"cpu", 50}}}};
  EXPECT_EQ(PodRequests(pods, "cpu", "")->at("test-pod"), 150);
  EXPECT_EQ(PodRequests(pods, "cpu", "container1")->at("test-pod"), 100);
  // A named container stops the scan: a later container without a request does not matter.
  pods[0].containers.push_back({"container3", {}});
  EXPECT_EQ(PodRequests(pods, "cpu", "container2")->at("test-pod"), 50);
  absl::StatusOr<std::map<std::string, int64_t>> missing = PodRequests(pods, "cpu", "sidecar");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "container sidecar not found in Pod test-pod");
}

// ---- groupPods (upstream TestGroupPods, times relative to now). ----
// The upstream rows that test the readiness rules use Running pods: terminal (Failed, Succeeded)
// pods are ignored before those rules apply.

struct GroupCase {
  std::string name;
  PodInfo pod;
  std::optional<PodMetric> sample;
  std::string resource;
  char expect;  // 'r' ready, 'u' unready, 'm' missing, 'i' ignored
};
void PrintTo(const GroupCase& c, std::ostream* os) { *os << c.name; }

PodInfo Pod(std::string phase, std::optional<absl::Duration> started_ago, std::optional<bool> ready,
            absl::Duration transition_ago = absl::ZeroDuration(), bool deleting = false) {
  PodInfo p;
  p.name = "p";
  p.phase = std::move(phase);
  if (started_ago) p.start_time = kNow - *started_ago;
  p.ready = ready;
  p.ready_transition_time = kNow - transition_ago;
  p.deleting = deleting;
  return p;
}

PodMetric Sample(absl::Duration ago, absl::Duration window) {
  return PodMetric{1, kNow - ago, window};
}

class GroupPodsTest : public ::testing::TestWithParam<GroupCase> {};

TEST_P(GroupPodsTest, ClassifiesAsTheHpa) {
  const GroupCase& tc = GetParam();
  PodMetrics metrics;
  if (tc.sample) metrics["p"] = *tc.sample;
  PodGroups g = GroupPods({tc.pod}, metrics, tc.resource, UpstreamOptions(), kNow);
  EXPECT_EQ(g.ready_count, tc.expect == 'r' ? 1 : 0);
  EXPECT_EQ(g.unready.count("p"), tc.expect == 'u' ? 1u : 0u);
  EXPECT_EQ(g.missing.count("p"), tc.expect == 'm' ? 1u : 0u);
  EXPECT_EQ(g.ignored.count("p"), tc.expect == 'i' ? 1u : 0u);
}

const absl::Duration kZeroD = absl::ZeroDuration();

INSTANTIATE_TEST_SUITE_P(
    Table, GroupPodsTest,
    ::testing::Values(
        GroupCase{"upstream_count_in_a_ready_pod_memory",
                  Pod("Running", std::nullopt, std::nullopt), Sample(kZeroD, absl::Minutes(1)),
                  "memory", 'r'},
        GroupCase{"upstream_unready_a_pod_without_ready_condition_CPU",
                  Pod("Running", kZeroD, std::nullopt), PodMetric{1, kZero, kZeroD}, "cpu", 'u'},
        GroupCase{"upstream_count_in_a_ready_pod_with_fresh_metrics_during_initialization",
                  Pod("Running", absl::Minutes(1), true, absl::Seconds(30)),
                  Sample(kZeroD, absl::Seconds(30)), "cpu", 'r'},
        GroupCase{"upstream_unready_a_ready_pod_without_fresh_metrics_during_initialization",
                  Pod("Running", absl::Minutes(1), true, absl::Seconds(30)),
                  Sample(kZeroD, absl::Seconds(60)), "cpu", 'u'},
        GroupCase{"upstream_unready_an_unready_pod_during_initialization_period",
                  Pod("Running", absl::Minutes(10), false, absl::Minutes(9) + absl::Seconds(54)),
                  PodMetric{1, kZero, kZeroD}, "cpu", 'u'},
        GroupCase{"upstream_count_in_a_ready_pod_without_fresh_metrics_after_initialization",
                  Pod("Running", absl::Minutes(3), true, absl::Minutes(3)),
                  Sample(absl::Minutes(2), absl::Minutes(1)), "cpu", 'r'},
        GroupCase{"upstream_count_in_an_unready_pod_that_was_ready_after_initialization",
                  Pod("Running", absl::Minutes(10), false, absl::Minutes(9)),
                  PodMetric{1, kZero, kZeroD}, "cpu", 'r'},
        // Readiness changed exactly initialReadinessDelay after the start: After is strict.
        GroupCase{"upstream_unready_pod_that_has_never_been_ready_after_initialization",
                  Pod("Running", absl::Minutes(10), false, absl::Minutes(9) + absl::Seconds(50)),
                  PodMetric{1, kZero, kZeroD}, "cpu", 'r'},
        GroupCase{"upstream_a_missing_pod", Pod("Running", absl::Minutes(3), std::nullopt),
                  std::nullopt, "cpu", 'm'},
        GroupCase{"upstream_pending_pods_are_unreadied", Pod("Pending", std::nullopt, std::nullopt),
                  std::nullopt, "cpu", 'u'},
        GroupCase{"upstream_ignore_pods_with_deletion_timestamps",
                  Pod("Pending", std::nullopt, std::nullopt, kZeroD, true),
                  PodMetric{1, kZero, kZeroD}, "cpu", 'i'},
        GroupCase{"upstream_ignore_pods_in_a_failed_state",
                  Pod("Failed", std::nullopt, std::nullopt), PodMetric{1, kZero, kZeroD}, "cpu",
                  'i'},
        GroupCase{"succeeded_pod_is_ignored_for_cpu",
                  Pod("Succeeded", absl::Minutes(10), true, absl::Minutes(9)),
                  Sample(kZeroD, absl::Minutes(1)), "cpu", 'i'},
        GroupCase{"succeeded_pod_is_ignored_for_pods_metrics", Pod("Succeeded", kZeroD, true),
                  Sample(kZeroD, kZeroD), "", 'i'},
        GroupCase{"succeeded_pod_without_sample_is_ignored_not_missing",
                  Pod("Succeeded", absl::Minutes(3), true), std::nullopt, "memory", 'i'},
        // Ours: the CPU rules do not apply to Pods metrics or memory.
        GroupCase{"unready_pod_with_sample_counts_for_pods_metrics", Pod("Running", kZeroD, false),
                  Sample(kZeroD, kZeroD), "", 'r'},
        GroupCase{"pending_pod_is_unready_even_with_a_sample_for_memory",
                  Pod("Pending", kZeroD, true), Sample(kZeroD, kZeroD), "memory", 'u'},
        // Within the initialization period a not-ready pod is unready even with a fresh sample.
        GroupCase{"not_ready_during_initialization_is_unready",
                  Pod("Running", absl::Minutes(1), false, absl::Minutes(2)),
                  Sample(kZeroD, absl::Seconds(30)), "cpu", 'u'},
        // Sample taken exactly one window after the transition: Before is strict -> counts.
        GroupCase{"sample_exactly_one_window_after_transition_counts",
                  Pod("Running", absl::Minutes(1), true, absl::Seconds(30)),
                  Sample(kZeroD, absl::Seconds(30)), "cpu", 'r'},
        // Start exactly cpuInitializationPeriod ago: After is strict -> past the period.
        GroupCase{"start_exactly_initialization_period_ago_is_past_it",
                  Pod("Running", absl::Minutes(2), true, absl::Seconds(10)),
                  Sample(kZeroD, absl::Minutes(1)), "cpu", 'r'}),
    [](const ::testing::TestParamInfo<GroupCase>& info) { return info.param.name; });

// ---- Pods metrics and Resource AverageValue (calcPlainMetricReplicas). ----

struct PlainCase {
  std::string name;
  int32_t current;
  std::vector<int64_t> levels;  // pod i's sample
  std::vector<PodRow> pods;
  int64_t target;
  std::string resource;  // "" for Pods metrics
  Tolerances tolerances = kDefaultTolerances;
  std::vector<std::string> sample_names;
  int32_t replicas = 0;
  int64_t usage = 0;
  std::string error;
  int pod_count = -1;  // default: max(current, pods.size())
};
void PrintTo(const PlainCase& c, std::ostream* os) { *os << c.name; }

class PlainMetricTest : public ::testing::TestWithParam<PlainCase> {};

TEST_P(PlainMetricTest, MatchesTheHpa) {
  const PlainCase& tc = GetParam();
  std::vector<PodInfo> pods = MakePods(
      tc.pod_count >= 0 ? tc.pod_count : PodCount(tc.current, tc.pods), tc.pods, {}, "cpu");
  PodMetrics metrics;
  for (size_t i = 0; i < tc.levels.size(); ++i) {
    const std::string name =
        i < tc.sample_names.size() ? tc.sample_names[i] : "test-pod-" + std::to_string(i);
    metrics[name] = PodMetric{tc.levels[i], kZero, absl::Minutes(1)};
  }
  absl::StatusOr<ReplicaProposal> got = PlainMetricReplicas(
      tc.current, tc.target, tc.resource, tc.tolerances, pods, metrics, UpstreamOptions(), kNow);
  if (!tc.error.empty()) {
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.status().message().find(tc.error), std::string::npos) << got.status();
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->replicas, tc.replicas);
  EXPECT_EQ(got->usage_milli, tc.usage);
  EXPECT_FALSE(got->utilization.has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Table, PlainMetricTest,
    ::testing::Values(
        PlainCase{"upstream_TestReplicaCalcScaleUpCM",
                  3,
                  {20000, 10000, 30000},
                  {},
                  15000,
                  "",
                  kDefaultTolerances,
                  {},
                  4,
                  20000},
        PlainCase{"upstream_TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale",
                  3,
                  {50000, 10000, 30000},
                  {Cool, Cool, HotUnready},
                  15000,
                  "",
                  kDefaultTolerances,
                  {},
                  6,
                  30000},
        PlainCase{"upstream_TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown",
                  3,
                  {50000, 15000, 30000},
                  {HotUnready, Cool, HotUnready},
                  15000,
                  "",
                  kDefaultTolerances,
                  {},
                  7,
                  31666},
        PlainCase{"upstream_TestReplicaCalcScaleUpCMExternalNoLabels",
                  1,
                  {8600},
                  {},
                  4400,
                  "",
                  kDefaultTolerances,
                  {},
                  2,
                  8600},
        PlainCase{"upstream_TestReplicaCalcScaleDownCM",
                  5,
                  {12000, 12000, 12000, 12000, 12000},
                  {},
                  20000,
                  "",
                  kDefaultTolerances,
                  {},
                  3,
                  12000},
        PlainCase{"upstream_TestReplicaCalcToleranceCM",
                  3,
                  {20000, 21000, 21000},
                  {},
                  20000,
                  "",
                  kDefaultTolerances,
                  {},
                  3,
                  20666},
        PlainCase{"upstream_TestPlainMetricReplicaCalcMissingMetricsNoChangeEq",
                  5,
                  {20000, 19000, 21000},
                  {},
                  20000,
                  "",
                  kDefaultTolerances,
                  {},
                  5,
                  20000},
        PlainCase{"upstream_TestReplicaCalcDuringRollingUpdateWithMaxSurgeCM",
                  2,
                  {10000, 10000},
                  {R, R, R},
                  17000,
                  "",
                  kDefaultTolerances,
                  {},
                  2,
                  10000},
        // Ours. Missing pods on a scale-down count at the target: (1000 + 3 x 4000) / 4 =
        // 3250 of 4000 -> 0.8125 -> ceil(3.25) = 4 = current -> 4.
        PlainCase{"missing_pods_scale_down_count_at_target",
                  4,
                  {1000},
                  {},
                  4000,
                  "",
                  kDefaultTolerances,
                  {},
                  4,
                  1000},
        // ... and with two samples: (1000 + 1000 + 2 x 4000) / 4 = 2500 -> 0.625 -> 3.
        PlainCase{"missing_pods_scale_down_rebalanced",
                  4,
                  {1000, 1000},
                  {},
                  4000,
                  "",
                  kDefaultTolerances,
                  {},
                  3,
                  1000},
        // Scale-up with missing pods: they count as 0: (9000 + 0) / 2 = 4500 of 1000 -> 9.
        PlainCase{"missing_pods_scale_up_count_as_zero",
                  2,
                  {9000},
                  {},
                  1000,
                  "",
                  kDefaultTolerances,
                  {},
                  9,
                  9000},
        // Average exactly at the target with a missing pod: nothing is filled in, the ratio
        // stays 1.0 and the count stays.
        PlainCase{"missing_pod_with_ratio_exactly_one_keeps_count",
                  3,
                  {1000, 1000},
                  {},
                  1000,
                  "",
                  kDefaultTolerances,
                  {},
                  3,
                  1000},
        // Direction guard on the count: 3 samples over 5 pods, scale-down ratio, 2 missing at
        // the target: (300 x 3 + 2 x 1000)/5 = 580 -> 0.58 -> ceil(2.9) = 3 < 5 -> 3.
        PlainCase{"missing_pods_scale_down_to_three",
                  5,
                  {300, 300, 300},
                  {},
                  1000,
                  "",
                  kDefaultTolerances,
                  {},
                  3,
                  300},
        // Integer average: (1000 + 1001) / 2 = 1000 (not 1000.5) -> ratio 1.0 -> stays.
        PlainCase{
            "average_truncates", 2, {1000, 1001}, {}, 1000, "", kDefaultTolerances, {}, 2, 1000},
        // Unready pods with a scale-up count as 0 (Pending is unready for every metric):
        // 3000 avg of 1000 -> rebalanced (3000 + 0) / 2 = 1500 -> ceil(1.5 x 2) = 3.
        PlainCase{"pending_pod_counts_zero_on_scale_up",
                  2,
                  {3000},
                  {R, PendingPod},
                  1000,
                  "",
                  kDefaultTolerances,
                  {},
                  3,
                  3000},
        // Direction reversal guard: a scale-up that the unready pods turn into a scale-down
        // keeps the count: 1200 avg of 1000, 2 pending -> 400 -> 0.4 < 1 -> stays 3.
        PlainCase{"rebalance_reversing_direction_keeps_count",
                  3,
                  {1200},
                  {R, PendingPod, PendingPod},
                  1000,
                  "",
                  kDefaultTolerances,
                  {},
                  3,
                  1200},
        // Count direction guard, up: fewer pods than replicas; 2 report 5000, 1 pending:
        // (10000 + 0) / 3 = 3333 -> ceil(3.333 x 3) = 10 < 12 -> keeps 12.
        PlainCase{"rebalanced_count_below_current_on_scale_up_keeps_count",
                  12,
                  {5000, 5000},
                  {R, R, PendingPod},
                  1000,
                  "",
                  kDefaultTolerances,
                  {},
                  12,
                  5000,
                  "",
                  3},
        // Count direction guard, down: more pods than replicas (surge); 1 of 3 reports 100,
        // 2 missing at the target: 2100 / 3 = 700 -> ceil(0.7 x 3) = 3 > 1 -> keeps 1.
        PlainCase{"rebalanced_count_above_current_on_scale_down_keeps_count",
                  1,
                  {100},
                  {},
                  1000,
                  "",
                  kDefaultTolerances,
                  {},
                  1,
                  100,
                  "",
                  3},
        // Pods metrics: samples of pods outside the list are dropped (our choice).
        PlainCase{"pods_metric_drops_samples_of_unknown_pods",
                  2,
                  {1000, 1000, 9000},
                  {},
                  1000,
                  "",
                  kDefaultTolerances,
                  {"test-pod-0", "test-pod-1", "other-pod"},
                  2,
                  1000},
        // Resource AverageValue keeps the HPA's behaviour (extraneous samples count).
        PlainCase{"resource_average_value_keeps_extraneous_samples",
                  2,
                  {1000, 1000, 4000},
                  {},
                  1000,
                  "memory",
                  kDefaultTolerances,
                  {"test-pod-0", "test-pod-1", "other-pod"},
                  4,
                  2000},
        PlainCase{"all_samples_from_unknown_pods",
                  2,
                  {1000},
                  {},
                  1000,
                  "",
                  kDefaultTolerances,
                  {"other-pod"},
                  0,
                  0,
                  "did not receive metrics for targeted pods (pods might be unready)"}),
    [](const ::testing::TestParamInfo<PlainCase>& info) { return info.param.name; });

// ---- External metrics. ----

struct ExternalValueCase {
  std::string name;
  int32_t current;
  int64_t usage;
  int64_t target;
  std::vector<PodRow> pods;
  int pod_count;
  int32_t replicas = 0;
  std::string error;
};
void PrintTo(const ExternalValueCase& c, std::ostream* os) { *os << c.name; }

class ExternalValueTest : public ::testing::TestWithParam<ExternalValueCase> {};

TEST_P(ExternalValueTest, MatchesTheHpa) {
  const ExternalValueCase& tc = GetParam();
  absl::StatusOr<ReplicaProposal> got =
      ExternalValueReplicas(tc.current, tc.target, tc.usage, kDefaultTolerances,
                            MakePods(tc.pod_count, tc.pods, {}, "cpu"));
  if (!tc.error.empty()) {
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().message(), tc.error);
    return;
  }
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->replicas, tc.replicas);
  EXPECT_EQ(got->usage_milli, tc.usage);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExternalValueTest,
    ::testing::Values(
        ExternalValueCase{"upstream_TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods",
                          3,
                          8600,
                          4400,
                          {U, R, U},
                          3,
                          2},
        ExternalValueCase{"upstream_TestReplicaCalcScaleDownCMExternal", 5, 8600, 14334, {}, 5, 3},
        ExternalValueCase{"upstream_TestReplicaCalcToleranceCMExternal", 3, 8600, 8888, {}, 3, 3},
        // From zero: ceil(ratio), no tolerance, no pods needed.
        ExternalValueCase{"from_zero_replicas_is_ceil_of_ratio", 0, 8600, 4400, {}, 0, 2},
        ExternalValueCase{"from_zero_replicas_with_no_usage_stays_zero", 0, 0, 4400, {}, 0, 0},
        ExternalValueCase{"from_zero_ignores_tolerance", 0, 4500, 4400, {}, 0, 2},
        // Only Running and Ready pods count.
        ExternalValueCase{"only_running_ready_pods_count",
                          4,
                          8000,
                          1000,
                          {R, PendingPod, NoCondition, FailedPod},
                          4,
                          8},
        ExternalValueCase{"no_pods_is_an_error_outside_tolerance",
                          2,
                          8000,
                          1000,
                          {},
                          0,
                          0,
                          "unable to calculate ready pods: no pods returned by selector while "
                          "calculating replica count"},
        ExternalValueCase{"within_tolerance_needs_no_pods", 2, 1050, 1000, {}, 0, 2}),
    [](const ::testing::TestParamInfo<ExternalValueCase>& info) { return info.param.name; });

struct ExternalAverageCase {
  std::string name;
  int32_t status_replicas;
  int64_t usage;
  int64_t target;
  int32_t replicas;
  int64_t per_pod;
};
void PrintTo(const ExternalAverageCase& c, std::ostream* os) { *os << c.name; }

class ExternalAverageValueTest : public ::testing::TestWithParam<ExternalAverageCase> {};

TEST_P(ExternalAverageValueTest, MatchesTheHpa) {
  const ExternalAverageCase& tc = GetParam();
  ReplicaProposal got =
      ExternalAverageValueReplicas(tc.status_replicas, tc.target, tc.usage, kDefaultTolerances);
  EXPECT_EQ(got.replicas, tc.replicas);
  EXPECT_EQ(got.usage_milli, tc.per_pod);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExternalAverageValueTest,
    ::testing::Values(ExternalAverageCase{"upstream_TestReplicaCalcScaleUpPerPodCMExternal", 3,
                                          8600, 2150, 4, 2867},
                      ExternalAverageCase{"upstream_TestReplicaCalcScaleDownPerPodCMExternal", 5,
                                          8600, 2867, 3, 1720},
                      ExternalAverageCase{"upstream_TestReplicaCalcTolerancePerPodCMExternal", 3,
                                          8600, 2900, 3, 2867},
                      // Object per-pod metrics use the same arithmetic upstream.
                      ExternalAverageCase{"upstream_TestReplicaCalcScaleUpCMPerPodObject", 3, 20000,
                                          5000, 4, 6667},
                      ExternalAverageCase{"upstream_TestReplicaCalcScaleDownPerPodCMObject", 5,
                                          6000, 2000, 3, 1200},
                      ExternalAverageCase{"upstream_TestReplicaCalcTolerancePerPodCMObject", 4,
                                          20166, 5000, 4, 5042},
                      // status.replicas 0: ceil(usage / target); the per-pod usage is 0, as
                      // upstream's getPerPodUsage.
                      ExternalAverageCase{"zero_status_replicas", 0, 8600, 2150, 4, 0},
                      ExternalAverageCase{"zero_status_replicas_zero_usage", 0, 0, 2150, 0, 0}),
    [](const ::testing::TestParamInfo<ExternalAverageCase>& info) { return info.param.name; });

TEST(TolerancesTest, IsWithinIsInclusiveAtBothEdges) {
  Tolerances t{0.1, 0.1};
  EXPECT_TRUE(t.IsWithin(0.9));
  EXPECT_TRUE(t.IsWithin(1.1));
  EXPECT_FALSE(t.IsWithin(0.8999));
  EXPECT_FALSE(t.IsWithin(1.1001));
  Tolerances asymmetric{0.0, 0.5};
  EXPECT_FALSE(asymmetric.IsWithin(0.999));
  EXPECT_TRUE(asymmetric.IsWithin(1.5));
}

}  // namespace
}  // namespace sextant::autoscaler::hpa
