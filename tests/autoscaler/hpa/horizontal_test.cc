// One reconcile of the HPA decision logic, as tables. Rows named "upstream_X" restate the inputs
// and expectations of Kubernetes' pkg/controller/podautoscaler/horizontal_test.go case X through
// Decide(): a proposal of exactly P replicas comes from an External AverageValue metric (target
// 1, value P, status.replicas = current), and where upstream calls an inner function with a
// given history, the history is set directly (a recommendation older than every window stands
// for "no recommendation", as upstream's empty non-nil list does).
#include "autoscaler/hpa/horizontal.h"

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

// Table rows leave their trailing fields at the defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace sextant::autoscaler::hpa {

// Sets the controller's memory directly, as the upstream tests do. Static functions only; not
// thread-safe (tests use one PolicyState per thread).
class PolicyStateTestPeer {
 public:
  static void SetRecommendations(PolicyState& s, std::vector<PolicyState::Recommendation> r) {
    s.recommendations_ = std::move(r);
  }
  static void SetScaleUpEvents(PolicyState& s, std::vector<PolicyState::ScaleEvent> e) {
    s.scale_up_events_ = std::move(e);
  }
  static void SetScaleDownEvents(PolicyState& s, std::vector<PolicyState::ScaleEvent> e) {
    s.scale_down_events_ = std::move(e);
  }
};

namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'000'000'000);
const absl::Time kLongAgo = kNow - absl::Hours(2);  // older than every window

// ---- Builders. ----

MetricSpec CpuUtilization(int32_t percent) {
  MetricSpec m;
  m.type = MetricSpec::Type::kResource;
  m.name = "m0";
  m.resource = "cpu";
  m.target.type = MetricTarget::Type::kUtilization;
  m.target.average_utilization = percent;
  return m;
}

MetricSpec ExternalAverage(std::string name, int64_t per_pod_milli) {
  MetricSpec m;
  m.type = MetricSpec::Type::kExternal;
  m.name = std::move(name);
  m.target.type = MetricTarget::Type::kAverageValue;
  m.target.average_value_milli = per_pod_milli;
  return m;
}

MetricSpec ExternalValue(std::string name, int64_t value_milli,
                         std::optional<int64_t> activation = std::nullopt) {
  MetricSpec m;
  m.type = MetricSpec::Type::kExternal;
  m.name = std::move(name);
  m.target.type = MetricTarget::Type::kValue;
  m.target.value_milli = value_milli;
  m.activation_threshold_milli = activation;
  return m;
}

MetricSpec PodsAverage(std::string name, int64_t per_pod_milli) {
  MetricSpec m;
  m.type = MetricSpec::Type::kPods;
  m.name = std::move(name);
  m.target.type = MetricTarget::Type::kAverageValue;
  m.target.average_value_milli = per_pod_milli;
  return m;
}

ScalingPolicySpec Spec(int32_t min, int32_t max, std::vector<MetricSpec> metrics) {
  ScalingPolicySpec s;
  s.target = {"apps/v1", "Deployment", "default", "web"};
  s.min_replicas = min;
  s.max_replicas = max;
  s.metrics = std::move(metrics);
  return s;
}

// generateScalingRules: selectPolicy Max; a zero value leaves the policy out.
ScalingRules Rules(int32_t pods, int32_t pods_period, int32_t percent, int32_t percent_period,
                   std::optional<int32_t> window) {
  ScalingRules r;
  r.stabilization_window_seconds = window;
  r.select_policy = ScalingRules::Select::kMax;
  if (pods != 0) r.policies.push_back({ScalingRulePolicy::Type::kPods, pods, pods_period});
  if (percent != 0) {
    r.policies.push_back({ScalingRulePolicy::Type::kPercent, percent, percent_period});
  }
  return r;
}

// The API server's defaults (autoscaling/v2).
ScalingRules DefaultUp() { return Rules(4, 15, 100, 15, 0); }
ScalingRules DefaultDown() { return Rules(0, 0, 100, 15, std::nullopt); }

Behavior MakeBehavior(std::optional<ScalingRules> up, std::optional<ScalingRules> down) {
  return Behavior{up.value_or(DefaultUp()), down.value_or(DefaultDown())};
}

// A pod at `milli_cpu` usage with a 1000m request, ready and running for an hour.
PodInfo CpuPod(int i) {
  PodInfo p;
  p.name = "pod-" + std::to_string(i);
  p.phase = "Running";
  p.ready = true;
  p.start_time = kNow - absl::Hours(1);
  p.ready_transition_time = kNow - absl::Hours(1);
  p.containers = {{"app", {{"cpu", 1000}}}};
  return p;
}

MetricInput CpuInput(const std::vector<int64_t>& levels) {
  MetricInput in;
  for (size_t i = 0; i < levels.size(); ++i) {
    in.pods["pod-" + std::to_string(i)] = PodMetric{levels[i], kNow, absl::Minutes(1)};
  }
  return in;
}

MetricInput ValueInput(int64_t milli) {
  MetricInput in;
  in.value_milli = milli;
  return in;
}

MetricInput FailedInput(std::string message) {
  MetricInput in;
  in.status = absl::UnavailableError(std::move(message));
  return in;
}

ReconcileInput Input(int32_t replicas, std::vector<MetricInput> metrics, int pods = -1) {
  ReconcileInput in;
  in.spec_replicas = replicas;
  in.status_replicas = replicas;
  in.selector = "app=web";
  for (int i = 0; i < (pods < 0 ? replicas : pods); ++i) in.pods.push_back(CpuPod(i));
  in.metrics = std::move(metrics);
  return in;
}

// A proposal of exactly `proposal` replicas at `current` (External AverageValue target 1).
ScalingPolicySpec ProposalSpec(int32_t min, int32_t max, std::optional<Behavior> behavior) {
  ScalingPolicySpec s = Spec(min, max, {ExternalAverage("queue", 1000)});
  s.behavior = std::move(behavior);
  return s;
}
ReconcileInput ProposalInput(int32_t current, int32_t proposal) {
  return Input(current, {ValueInput(int64_t{proposal} * 1000)});
}

std::string Reason(const ScalingPolicyStatus& status, const std::string& type) {
  const PolicyCondition* c = FindCondition(status.conditions, type);
  return c == nullptr ? "" : c->reason;
}
std::string CondStatus(const ScalingPolicyStatus& status, const std::string& type) {
  const PolicyCondition* c = FindCondition(status.conditions, type);
  return c == nullptr ? "" : c->status;
}
std::string Message(const ScalingPolicyStatus& status, const std::string& type) {
  const PolicyCondition* c = FindCondition(status.conditions, type);
  return c == nullptr ? "" : c->message;
}

bool HasEvent(const Decision& d, const std::string& type, const std::string& reason,
              const std::string& message) {
  for (const EventRecord& e : d.events) {
    if (e.type == type && e.reason == reason && e.message == message) return true;
  }
  return false;
}

// generateEventsUniformDistribution: events spread over the last `period` seconds.
std::vector<PolicyState::ScaleEvent> Uniform(const std::vector<int32_t>& changes, int period) {
  std::vector<PolicyState::ScaleEvent> out;
  const double segment = static_cast<double>(period) / changes.size();
  for (size_t i = 0; i < changes.size(); ++i) {
    const int64_t ago = static_cast<int64_t>(period - segment * (i + 1) + segment / 2);
    out.push_back({changes[i], kNow - absl::Seconds(ago), false});
  }
  return out;
}

// ---- One reconcile, as a table. ----

struct DecideCase {
  std::string name;
  ScalingPolicySpec spec;
  ReconcileInput input;
  std::vector<PolicyState::Recommendation> history;  // empty: Decide seeds it
  // Expected.
  int32_t desired;
  std::string reason;
  std::string code;
  std::map<std::string, std::string> conditions;  // type -> reason ("" = not set)
  std::string error;                              // the decision's error, exactly
};
void PrintTo(const DecideCase& c, std::ostream* os) { *os << c.name; }

class DecideTest : public ::testing::TestWithParam<DecideCase> {};

TEST_P(DecideTest, DecidesAsTheHpa) {
  const DecideCase& tc = GetParam();
  PolicyState state;
  if (!tc.history.empty()) PolicyStateTestPeer::SetRecommendations(state, tc.history);
  ScalingPolicyStatus status;
  Decision d = Decide(tc.spec, tc.input, HpaOptions{}, kNow, state, status);
  EXPECT_EQ(d.current_replicas, tc.input.spec_replicas);
  EXPECT_EQ(d.desired_replicas, tc.desired);
  EXPECT_EQ(d.rescale, tc.desired != tc.input.spec_replicas);
  EXPECT_EQ(d.reason, tc.reason);
  EXPECT_EQ(d.code, tc.code);
  for (const auto& [type, reason] : tc.conditions) {
    EXPECT_EQ(Reason(status, type), reason) << type;
  }
  EXPECT_EQ(std::string(d.error.message()), tc.error);
}

const std::vector<PolicyState::Recommendation> kNoHistory = {{1, kLongAgo}};

ScalingPolicySpec Paused(ScalingPolicySpec s) {
  s.paused = true;
  return s;
}
ReconcileInput NoSelector(ReconcileInput in) {
  in.selector = "";
  return in;
}

Behavior ToleranceBehavior(double up, double down) {
  Behavior b = MakeBehavior(std::nullopt, std::nullopt);
  b.scale_up.tolerance = up;
  b.scale_down.tolerance = down;
  return b;
}

ScalingRules Select(ScalingRules r, ScalingRules::Select s) {
  r.select_policy = s;
  return r;
}

const std::string kCpuName = "cpu resource utilization (percentage of request)";

INSTANTIATE_TEST_SUITE_P(
    Table, DecideTest,
    ::testing::Values(
        DecideCase{"upstream_TestScaleUp",
                   Spec(2, 6, {CpuUtilization(30)}),
                   Input(3, {CpuInput({300, 500, 700})}),
                   {},
                   5,
                   kCpuName + " above target",
                   "scale_up",
                   {{"AbleToScale", "ReadyForNewScale"},
                    {"ScalingActive", "ValidMetricFound"},
                    {"ScalingLimited", "DesiredWithinRange"}}},
        DecideCase{"upstream_TestScaleUpUnreadyLessScale",
                   Spec(2, 6, {CpuUtilization(30)}),
                   [] {
                     ReconcileInput in = Input(3, {CpuInput({300, 500, 700})});
                     in.pods[0].ready = false;
                     return in;
                   }(),
                   {},
                   4,
                   kCpuName + " above target",
                   "scale_up"},
        DecideCase{"upstream_TestScaleDown",
                   Spec(2, 6, {CpuUtilization(50)}),
                   Input(5, {CpuInput({100, 300, 500, 250, 250})}),
                   kNoHistory,
                   3,
                   "All metrics below target",
                   "scale_down",
                   {{"AbleToScale", "ReadyForNewScale"},
                    {"ScalingActive", "ValidMetricFound"},
                    {"ScalingLimited", "DesiredWithinRange"}}},
        // The first reconcile seeds the history with the current count: no scale-down for the
        // downscale stabilization window.
        DecideCase{"first_reconcile_scale_down_is_stabilized",
                   Spec(2, 6, {CpuUtilization(50)}),
                   Input(5, {CpuInput({100, 300, 500, 250, 250})}),
                   {},
                   5,
                   "ScaleDownStabilized",
                   "stabilized",
                   {{"AbleToScale", "ScaleDownStabilized"}}},
        DecideCase{"upstream_TestScaleUpOneMetricEmpty",
                   Spec(2, 6, {CpuUtilization(30), ExternalValue("qps", 100)}),
                   Input(3, {CpuInput({300, 400, 500}), FailedInput("something went wrong")}),
                   {},
                   4,
                   kCpuName + " above target",
                   "scale_up",
                   {{"ScalingActive", "ValidMetricFound"}},
                   "invalid metrics (1 invalid out of 2), first error is: failed to get qps "
                   "external metric value: failed to get external metric qps: unable to get "
                   "external metric qps: something went wrong"},
        DecideCase{
            "upstream_TestNoScaleDownOneMetricEmpty",
            Spec(2, 6, {CpuUtilization(50), ExternalValue("qps", 1000)}),
            Input(5, {CpuInput({100, 300, 500, 250, 250}), FailedInput("something went wrong")}),
            kNoHistory,
            5,
            "FailedGetExternalMetric",
            "metrics_failed",
            {{"AbleToScale", "SucceededGetScale"},
             {"ScalingActive", "FailedGetExternalMetric"},
             {"ScalingLimited", ""}},
            "invalid metrics (1 invalid out of 2), first error is: failed to get qps "
            "external metric value: failed to get external metric qps: unable to get "
            "external metric qps: something went wrong"},
        DecideCase{"all_metrics_invalid",
                   Spec(1, 6, {CpuUtilization(50)}),
                   Input(3, {FailedInput("boom")}),
                   {},
                   3,
                   "FailedGetResourceMetric",
                   "metrics_failed",
                   {{"ScalingActive", "FailedGetResourceMetric"}},
                   "invalid metrics (1 invalid out of 1), first error is: failed to get cpu "
                   "resource metric value: failed to get cpu utilization: unable to get metrics "
                   "for resource cpu: boom"},
        DecideCase{"pods_metric_read_failure", Spec(1, 6, {PodsAverage("rps", 100)}),
                   Input(3, {FailedInput("down")}), {}, 3, "FailedGetPodsMetric",
                   "metrics_failed", {{"ScalingActive", "FailedGetPodsMetric"}},
                   "invalid metrics (1 invalid out of 1), first error is: failed to get pods "
                   "metric value: unable to get metric rps: down"},
        DecideCase{"pods_metric_without_samples", Spec(1, 6, {PodsAverage("rps", 100)}),
                   Input(3, {MetricInput{}}), {}, 3, "FailedGetPodsMetric", "metrics_failed",
                   {{"ScalingActive", "FailedGetPodsMetric"}},
                   "invalid metrics (1 invalid out of 1), first error is: failed to get pods "
                   "metric value: unable to get metric rps: no metrics returned from custom "
                   "metrics API"},
        DecideCase{"container_resource_metric_failure",
                   [] {
                     MetricSpec m = CpuUtilization(50);
                     m.container = "app";
                     return Spec(1, 6, {m});
                   }(),
                   Input(3, {FailedInput("boom")}), {}, 3, "FailedGetContainerResourceMetric",
                   "metrics_failed", {{"ScalingActive", "FailedGetContainerResourceMetric"}},
                   "invalid metrics (1 invalid out of 1), first error is: failed to get app "
                   "container metric value: failed to get cpu utilization: unable to get metrics "
                   "for resource cpu: boom"},
        DecideCase{"container_resource_metric_name",
                   [] {
                     MetricSpec m = CpuUtilization(30);
                     m.container = "app";
                     return Spec(2, 6, {m});
                   }(),
                   Input(3, {CpuInput({300, 500, 700})}), {}, 5,
                   "cpu container resource utilization (percentage of request) above target",
                   "scale_up"},
        DecideCase{
            "largest_proposal_wins",
            Spec(1, 10,
                 {CpuUtilization(50), ExternalAverage("queue", 1000), PodsAverage("rps", 100)}),
            [] {
              ReconcileInput in = Input(
                  3, {CpuInput({500, 500, 500}), ValueInput(6000), CpuInput({130, 130, 130})});
              return in;
            }(),
            {},
            6,
            "external metric queue above target",
            "scale_up",
            {{"ScalingActive", "ValidMetricFound"}}},
        DecideCase{"upstream_scaling_disabled_at_zero_replicas",
                   Spec(1, 6, {CpuUtilization(50)}),
                   Input(0, {CpuInput({})}),
                   {},
                   0,
                   "ScalingDisabled",
                   "disabled",
                   {{"ScalingActive", "ScalingDisabled"}}},
        DecideCase{"above_max_goes_to_max_without_metrics",
                   Spec(1, 10, {CpuUtilization(50)}),
                   Input(12, {FailedInput("not read")}),
                   {},
                   10,
                   "Current number of replicas above Spec.MaxReplicas",
                   "scale_down",
                   {{"AbleToScale", "SucceededGetScale"}, {"ScalingActive", ""}}},
        DecideCase{"below_min_goes_to_min_without_metrics",
                   Spec(2, 10, {CpuUtilization(50)}),
                   Input(1, {FailedInput("not read")}),
                   {},
                   2,
                   "Current number of replicas below Spec.MinReplicas",
                   "scale_up",
                   {{"ScalingActive", ""}}},
        DecideCase{"scale_up_limit_without_behavior",
                   ProposalSpec(1, 20, std::nullopt),
                   ProposalInput(2, 10),
                   {},
                   4,
                   "external metric queue above target",
                   "scale_up",
                   {{"ScalingLimited", "ScaleUpLimit"}}},
        DecideCase{"scale_up_limit_is_twice_current",
                   ProposalSpec(1, 20, std::nullopt),
                   ProposalInput(5, 15),
                   {},
                   10,
                   "external metric queue above target",
                   "scale_up",
                   {{"ScalingLimited", "ScaleUpLimit"}}},
        DecideCase{"too_many_replicas_without_behavior",
                   ProposalSpec(1, 6, std::nullopt),
                   ProposalInput(4, 10),
                   {},
                   6,
                   "external metric queue above target",
                   "scale_up",
                   {{"ScalingLimited", "TooManyReplicas"}}},
        DecideCase{"too_few_replicas_without_behavior",
                   ProposalSpec(3, 10, std::nullopt),
                   ProposalInput(5, 1),
                   kNoHistory,
                   3,
                   "All metrics below target",
                   "scale_down",
                   {{"ScalingLimited", "TooFewReplicas"}}},
        DecideCase{"within_tolerance_no_change",
                   ProposalSpec(1, 10, std::nullopt),
                   Input(10, {ValueInput(10'500)}),
                   {},
                   10,
                   "ReadyForNewScale",
                   "no_change",
                   {{"AbleToScale", "ReadyForNewScale"}, {"ScalingLimited", "DesiredWithinRange"}}},
        DecideCase{"behavior_scale_up_tolerance_holds",
                   ProposalSpec(1, 100, ToleranceBehavior(0.5, 0.1)),
                   Input(10, {ValueInput(14'000)}),
                   {},
                   10,
                   "ReadyForNewScale",
                   "no_change"},
        DecideCase{"behavior_scale_down_tolerance_0_01_rounds_back_to_current",
                   ProposalSpec(1, 100, ToleranceBehavior(0.5, 0.01)),
                   Input(10, {ValueInput(9'500)}), kNoHistory, 10, "ReadyForNewScale", "no_change"},
        DecideCase{"behavior_scale_down_tolerance_scales_at_0_9",
                   ProposalSpec(1, 100, ToleranceBehavior(0.5, 0.05)),
                   Input(10, {ValueInput(9'000)}), kNoHistory, 9, "All metrics below target",
                   "scale_down"},
        DecideCase{"missing_selector_fails_resource_metrics",
                   Spec(1, 6, {CpuUtilization(50)}),
                   NoSelector(Input(3, {CpuInput({500, 500, 500})})),
                   {},
                   3,
                   "InvalidSelector",
                   "metrics_failed",
                   {{"ScalingActive", "InvalidSelector"}},
                   "selector is required"},
        DecideCase{"paused_decides_nothing",
                   Paused(Spec(1, 6, {CpuUtilization(50)})),
                   Input(3, {CpuInput({900, 900, 900})}),
                   {},
                   3,
                   "Paused",
                   "paused",
                   {{"ScalingActive", "ScalingPaused"}, {"ScalingLimited", ""}}},
        DecideCase{
            "behavior_disabled_scale_down_is_limited",
            ProposalSpec(1, 100,
                         MakeBehavior(std::nullopt, Select(Rules(0, 0, 100, 15, 0),
                                                           ScalingRules::Select::kDisabled))),
            ProposalInput(10, 2),
            {},
            10,
            "ScaleDownLimit",
            "limited",
            {{"ScalingLimited", "ScaleDownLimit"}}},
        DecideCase{"behavior_disabled_scale_up_is_limited",
                   ProposalSpec(1, 100,
                                MakeBehavior(Select(DefaultUp(), ScalingRules::Select::kDisabled),
                                             std::nullopt)),
                   ProposalInput(10, 20),
                   {},
                   10,
                   "ScaleUpLimit",
                   "limited",
                   {{"ScalingLimited", "ScaleUpLimit"}}},
        DecideCase{
            "behavior_select_min_takes_smaller_increase",
            ProposalSpec(1, 100,
                         MakeBehavior(Select(Rules(4, 60, 100, 60, 0), ScalingRules::Select::kMin),
                                      std::nullopt)),
            ProposalInput(10, 50),
            {},
            14,
            "external metric queue above target",
            "scale_up",
            {{"ScalingLimited", "ScaleUpLimit"}}},
        DecideCase{"behavior_select_min_takes_smaller_decrease",
                   ProposalSpec(1, 100,
                                MakeBehavior(std::nullopt, Select(Rules(4, 60, 50, 60, 0),
                                                                  ScalingRules::Select::kMin))),
                   ProposalInput(20, 2),
                   {},
                   16,
                   "All metrics below target",
                   "scale_down",
                   {{"ScalingLimited", "ScaleDownLimit"}}},
        DecideCase{"behavior_percent_down_truncates",
                   ProposalSpec(1, 100, MakeBehavior(std::nullopt, Rules(0, 0, 10, 60, 0))),
                   ProposalInput(15, 1),
                   {},
                   13,
                   "All metrics below target",
                   "scale_down",
                   {{"ScalingLimited", "ScaleDownLimit"}}},
        DecideCase{"behavior_percent_up_rounds_up",
                   ProposalSpec(1, 100, MakeBehavior(Rules(0, 0, 10, 60, 0), std::nullopt)),
                   ProposalInput(15, 40),
                   {},
                   17,
                   "external metric queue above target",
                   "scale_up",
                   {{"ScalingLimited", "ScaleUpLimit"}}},
        DecideCase{"behavior_scale_up_stabilized",
                   ProposalSpec(1, 100, MakeBehavior(Rules(100, 15, 0, 0, 300), std::nullopt)),
                   ProposalInput(2, 8),
                   {{3, kNow - absl::Minutes(2)}},
                   3,
                   "external metric queue above target",
                   "scale_up",
                   {{"AbleToScale", "ScaleUpStabilized"}}},
        DecideCase{"behavior_scale_up_stabilized_to_current",
                   ProposalSpec(1, 100, MakeBehavior(Rules(100, 15, 0, 0, 300), std::nullopt)),
                   ProposalInput(2, 8),
                   {{2, kNow - absl::Minutes(2)}},
                   2,
                   "ScaleUpStabilized",
                   "stabilized",
                   {{"AbleToScale", "ScaleUpStabilized"}}},
        DecideCase{"behavior_default_down_window_is_the_controllers",
                   ProposalSpec(1, 100, MakeBehavior(std::nullopt, std::nullopt)),
                   ProposalInput(10, 2),
                   {{10, kNow - absl::Seconds(299)}},
                   10,
                   "ScaleDownStabilized",
                   "stabilized",
                   {{"AbleToScale", "ScaleDownStabilized"}}},
        // A zero scale-down window counts no recommendation, not even the first step's seed.
        DecideCase{"behavior_zero_down_window_first_reconcile_scales_down",
                   ProposalSpec(1, 100, MakeBehavior(std::nullopt, Rules(0, 0, 100, 15, 0))),
                   ProposalInput(10, 2),
                   {},
                   2,
                   "All metrics below target",
                   "scale_down",
                   {{"AbleToScale", "ReadyForNewScale"}}},
        // From zero, a Percent-only scaleUp rule allows 0 x 2 = 0: the activation still takes
        // the target to at least 1 (KEDA's 0 -> 1 is outside the HPA's rate limits).
        DecideCase{"activation_from_zero_with_percent_only_scale_up_rule_wakes_to_one",
                   [] {
                     ScalingPolicySpec s = Spec(0, 10, {ExternalValue("queue", 10'000, 0)});
                     s.behavior = MakeBehavior(Rules(0, 0, 100, 15, 0), std::nullopt);
                     return s;
                   }(),
                   Input(0, {ValueInput(25'000)}),
                   {},
                   1,
                   "external metric queue above target",
                   "scale_up",
                   {{"ScalingActive", "ValidMetricFound"}, {"ScalingLimited", "ScaleUpLimit"}}},
        DecideCase{"activation_from_zero_with_disabled_scale_up_wakes_to_one",
                   [] {
                     ScalingPolicySpec s = Spec(0, 10, {ExternalValue("queue", 10'000, 0)});
                     s.behavior = MakeBehavior(
                         Select(DefaultUp(), ScalingRules::Select::kDisabled), std::nullopt);
                     return s;
                   }(),
                   Input(0, {ValueInput(25'000)}),
                   {},
                   1,
                   "external metric queue above target",
                   "scale_up",
                   {{"ScalingLimited", "ScaleUpLimit"}}},
        // The Pods policy still gives its own allowance from zero.
        DecideCase{"activation_from_zero_with_pods_scale_up_rule_uses_its_allowance",
                   [] {
                     ScalingPolicySpec s = Spec(0, 10, {ExternalValue("queue", 10'000, 0)});
                     s.behavior = MakeBehavior(Rules(2, 15, 100, 15, 0), std::nullopt);
                     return s;
                   }(),
                   Input(0, {ValueInput(25'000)}),
                   {},
                   2,
                   "external metric queue above target",
                   "scale_up",
                   {{"ScalingLimited", "ScaleUpLimit"}}},
        // Every External metric is below its activation threshold and the valid metrics would
        // scale up, but the cpu metric is invalid: no scale to zero, the valid proposal goes
        // ahead (an invalid metric never blocks a scale-up).
        DecideCase{
            "invalid_metric_blocks_scale_to_zero",
            Spec(0, 10,
                 {PodsAverage("rps", 100), ExternalValue("queue", 10'000, 5'000),
                  CpuUtilization(50)}),
            Input(3, {CpuInput({200, 200, 200}), ValueInput(1'000), FailedInput("down")}),
            kNoHistory,
            6,
            "pods metric rps above target",
            "scale_up",
            {{"ScalingActive", "ValidMetricFound"}},
            "invalid metrics (1 invalid out of 3), first error is: failed to get cpu resource "
            "metric value: failed to get cpu utilization: unable to get metrics for resource cpu: "
            "down"}),
    [](const ::testing::TestParamInfo<DecideCase>& info) { return info.param.name; });

TEST(DecideTest, ConditionMessagesAreTheHpas) {
  PolicyState state;
  ScalingPolicyStatus status;
  Decide(ProposalSpec(1, 20, std::nullopt), ProposalInput(2, 10), HpaOptions{}, kNow, state,
         status);
  EXPECT_EQ(Message(status, "AbleToScale"), "recommended size matches current size");
  EXPECT_EQ(Message(status, "ScalingActive"),
            "the HPA was able to successfully calculate a replica count from external metric "
            "queue");
  EXPECT_EQ(Message(status, "ScalingLimited"),
            "the desired replica count is increasing faster than the maximum scale rate");
  EXPECT_EQ(CondStatus(status, "ScalingLimited"), "True");
  EXPECT_EQ(status.conditions[0].last_transition_time, kNow);

  Decision failed = Decide(Spec(1, 6, {CpuUtilization(50)}), Input(2, {FailedInput("boom")}),
                           HpaOptions{}, kNow + absl::Seconds(15), state, status);
  EXPECT_EQ(CondStatus(status, "ScalingActive"), "False");
  EXPECT_EQ(Message(status, "ScalingActive"),
            "the HPA was unable to compute the replica count: failed to get cpu utilization: "
            "unable to get metrics for resource cpu: boom");
  EXPECT_EQ(FindCondition(status.conditions, "ScalingActive")->last_transition_time,
            kNow + absl::Seconds(15));
  EXPECT_TRUE(HasEvent(failed, "Warning", "FailedGetResourceMetric",
                       "failed to get cpu utilization: unable to get metrics for resource cpu: "
                       "boom"));
  EXPECT_TRUE(HasEvent(failed, "Warning", "FailedComputeMetricsReplicas",
                       "invalid metrics (1 invalid out of 1), first error is: failed to get cpu "
                       "resource metric value: failed to get cpu utilization: unable to get "
                       "metrics for resource cpu: boom"));
  // The condition keeps its transition time while its status does not change.
  Decide(Spec(1, 6, {CpuUtilization(50)}), Input(2, {FailedInput("boom")}), HpaOptions{},
         kNow + absl::Seconds(30), state, status);
  EXPECT_EQ(FindCondition(status.conditions, "ScalingActive")->last_transition_time,
            kNow + absl::Seconds(15));
}

TEST(DecideTest, MetricStatusesCarryTheCurrentValues) {
  PolicyState state;
  ScalingPolicyStatus status;
  Decision d = Decide(Spec(1, 10, {CpuUtilization(50), ExternalValue("q", 10'000)}),
                      Input(3, {CpuInput({300, 500, 700}), ValueInput(25'000)}), HpaOptions{}, kNow,
                      state, status);
  ASSERT_EQ(d.metric_statuses.size(), 2u);
  EXPECT_EQ(d.metric_statuses[0].name, "m0");
  EXPECT_EQ(d.metric_statuses[0].resource, "cpu");
  EXPECT_EQ(d.metric_statuses[0].average_utilization, 50);
  EXPECT_EQ(d.metric_statuses[0].average_value_milli, 500);
  EXPECT_EQ(d.metric_statuses[1].name, "q");
  EXPECT_EQ(d.metric_statuses[1].value_milli, 25'000);
  EXPECT_FALSE(d.metric_statuses[1].average_value_milli.has_value());
}

// ---- Finish: the scale write's outcome. ----

TEST(FinishTest, SuccessfulRescaleRecordsEventStatusAndScaleTime) {
  PolicyState state;
  ScalingPolicyStatus status;
  ScalingPolicySpec spec = Spec(2, 6, {CpuUtilization(30)});
  Decision d =
      Decide(spec, Input(3, {CpuInput({300, 500, 700})}), HpaOptions{}, kNow, state, status);
  ASSERT_TRUE(d.rescale);
  Finish(spec, absl::OkStatus(), kNow, d, state, status);
  EXPECT_TRUE(HasEvent(d, "Normal", "SuccessfulRescale",
                       "New size: 5; reason: " + kCpuName + " above target"));
  EXPECT_EQ(Reason(status, "AbleToScale"), "SucceededRescale");
  EXPECT_EQ(Message(status, "AbleToScale"),
            "the HPA controller was able to update the target scale to 5");
  EXPECT_EQ(status.current_replicas, 3);
  EXPECT_EQ(status.desired_replicas, 5);
  EXPECT_EQ(status.last_scale_time, kNow);
  EXPECT_EQ(status.current_metrics.size(), 1u);
  EXPECT_TRUE(state.scale_up_events().empty());  // no behavior: events are not kept
}

TEST(FinishTest, FailedRescaleKeepsDesiredAndReportsTheError) {
  PolicyState state;
  ScalingPolicyStatus status;
  status.desired_replicas = 3;
  ScalingPolicySpec spec = Spec(2, 6, {CpuUtilization(30)});
  Decision d =
      Decide(spec, Input(3, {CpuInput({300, 500, 700})}), HpaOptions{}, kNow, state, status);
  Finish(spec, absl::ResourceExhaustedError("quota exceeded"), kNow, d, state, status);
  EXPECT_TRUE(
      HasEvent(d, "Warning", "FailedRescale",
               "New size: 5; reason: " + kCpuName + " above target; error: quota exceeded"));
  EXPECT_EQ(CondStatus(status, "AbleToScale"), "False");
  EXPECT_EQ(Reason(status, "AbleToScale"), "FailedUpdateScale");
  EXPECT_EQ(Message(status, "AbleToScale"),
            "the HPA controller was unable to update the target scale: quota exceeded");
  EXPECT_EQ(status.current_replicas, 3);
  EXPECT_EQ(status.desired_replicas, 3);
  EXPECT_FALSE(status.last_scale_time.has_value());
}

TEST(FinishTest, NoRescaleSetsDesiredToCurrentButFailedMetricsKeepIt) {
  PolicyState state;
  ScalingPolicyStatus status;
  status.desired_replicas = 7;
  ScalingPolicySpec spec = ProposalSpec(1, 10, std::nullopt);
  Decision d = Decide(spec, Input(5, {FailedInput("down")}), HpaOptions{}, kNow, state, status);
  Finish(spec, absl::OkStatus(), kNow, d, state, status);
  EXPECT_EQ(status.current_replicas, 5);
  EXPECT_EQ(status.desired_replicas, 7);
  d = Decide(spec, ProposalInput(5, 5), HpaOptions{}, kNow, state, status);
  Finish(spec, absl::OkStatus(), kNow, d, state, status);
  EXPECT_EQ(status.desired_replicas, 5);
  EXPECT_TRUE(d.events.empty());
}

TEST(FinishTest, RescaleWithBehaviorRecordsScaleEvent) {
  PolicyState state;
  ScalingPolicyStatus status;
  ScalingPolicySpec spec = ProposalSpec(1, 100, MakeBehavior(std::nullopt, std::nullopt));
  Decision d = Decide(spec, ProposalInput(2, 5), HpaOptions{}, kNow, state, status);
  ASSERT_EQ(d.desired_replicas, 5);
  Finish(spec, absl::OkStatus(), kNow, d, state, status);
  ASSERT_EQ(state.scale_up_events().size(), 1u);
  EXPECT_EQ(state.scale_up_events()[0].change, 3);
  EXPECT_EQ(state.scale_up_events()[0].at, kNow);
}

// ---- Stabilization without behavior (upstream TestNormalizeDesiredReplicas). ----

struct StabilizeCase {
  std::string name;
  std::vector<PolicyState::Recommendation> history;
  int32_t proposal;
  int32_t stabilized;
  size_t log_length;
};
void PrintTo(const StabilizeCase& c, std::ostream* os) { *os << c.name; }

class StabilizeTest : public ::testing::TestWithParam<StabilizeCase> {};

TEST_P(StabilizeTest, KeepsTheHighestRecentRecommendation) {
  const StabilizeCase& tc = GetParam();
  PolicyState state;
  PolicyStateTestPeer::SetRecommendations(state, tc.history);
  ScalingPolicyStatus status;
  Decision d = Decide(ProposalSpec(1, 100, std::nullopt), ProposalInput(5, tc.proposal),
                      HpaOptions{}, kNow, state, status);
  EXPECT_EQ(d.desired_replicas, tc.stabilized);
  EXPECT_EQ(state.recommendations().size(), tc.log_length);
  EXPECT_EQ(Reason(status, "AbleToScale"),
            tc.stabilized != tc.proposal ? "ScaleDownStabilized" : "ReadyForNewScale");
}

INSTANTIATE_TEST_SUITE_P(
    Table, StabilizeTest,
    ::testing::Values(
        StabilizeCase{"upstream_stabilize",
                      {{4, kNow - absl::Minutes(2)}, {5, kNow - absl::Minutes(1)}},
                      3,
                      5,
                      3},
        StabilizeCase{"upstream_no_stabilize",
                      {{1, kNow - absl::Minutes(2)}, {2, kNow - absl::Minutes(1)}},
                      3,
                      3,
                      3},
        StabilizeCase{"upstream_no_stabilize_old_recommendations",
                      {{10, kNow - absl::Minutes(10)}, {9, kNow - absl::Minutes(9)}},
                      3,
                      3,
                      2},
        StabilizeCase{"upstream_stabilize_old_recommendations",
                      {{10, kNow - absl::Minutes(10)},
                       {4, kNow - absl::Minutes(1)},
                       {5, kNow - absl::Minutes(2)},
                       {9, kNow - absl::Minutes(9)}},
                      3,
                      5,
                      4},
        // Exactly 5 min old is not older than the window (Before is strict).
        StabilizeCase{"exactly_window_old_still_counts", {{8, kNow - absl::Minutes(5)}}, 3, 8, 2},
        StabilizeCase{"just_past_window_is_replaced",
                      {{8, kNow - absl::Minutes(5) - absl::Nanoseconds(1)}},
                      3,
                      3,
                      1}),
    [](const ::testing::TestParamInfo<StabilizeCase>& info) { return info.param.name; });

TEST(StabilizeTest, ReplacesOnlyTheLastOldSample) {
  PolicyState state;
  PolicyStateTestPeer::SetRecommendations(
      state, {{7, kNow - absl::Minutes(20)}, {6, kNow - absl::Minutes(10)}});
  ScalingPolicyStatus status;
  Decide(ProposalSpec(1, 100, std::nullopt), ProposalInput(5, 2), HpaOptions{}, kNow, state,
         status);
  ASSERT_EQ(state.recommendations().size(), 2u);
  EXPECT_EQ(state.recommendations()[0].replicas, 7);
  EXPECT_EQ(state.recommendations()[1].replicas, 2);
  EXPECT_EQ(state.recommendations()[1].at, kNow);
}

TEST(StabilizeTest, ControllerWindowIsConfigurable) {
  PolicyState state;
  PolicyStateTestPeer::SetRecommendations(state, {{9, kNow - absl::Minutes(2)}});
  ScalingPolicyStatus status;
  HpaOptions options;
  options.downscale_stabilization = absl::Minutes(1);
  Decision d =
      Decide(ProposalSpec(1, 100, std::nullopt), ProposalInput(5, 2), options, kNow, state, status);
  EXPECT_EQ(d.desired_replicas, 2);
}

// With a zero window the HPA's cutoff (its own time.Now()) is after the seed's, so the seed of
// the first reconcile is an old sample: it is replaced and does not hold the scale-down.
TEST(StabilizeTest, ZeroControllerWindowLetsTheFirstReconcileScaleDown) {
  PolicyState state;
  ScalingPolicyStatus status;
  HpaOptions options;
  options.downscale_stabilization = absl::ZeroDuration();
  Decision d =
      Decide(ProposalSpec(1, 100, std::nullopt), ProposalInput(5, 2), options, kNow, state, status);
  EXPECT_EQ(d.desired_replicas, 2);
  EXPECT_EQ(d.code, "scale_down");
  EXPECT_EQ(Reason(status, "AbleToScale"), "ReadyForNewScale");
  ASSERT_EQ(state.recommendations().size(), 1u);
  EXPECT_EQ(state.recommendations()[0].replicas, 2);

  // A recommendation from before `now` is outside a zero window too.
  PolicyState later;
  PolicyStateTestPeer::SetRecommendations(later, {{9, kNow - absl::Nanoseconds(1)}});
  d = Decide(ProposalSpec(1, 100, std::nullopt), ProposalInput(5, 2), options, kNow, later, status);
  EXPECT_EQ(d.desired_replicas, 2);
}

// ---- Stabilization with behavior (upstream TestNormalizeDesiredReplicasWithBehavior). ----

struct BehaviorStabilizeCase {
  std::string name;
  std::vector<PolicyState::Recommendation> history;
  int32_t current;
  int32_t proposal;
  int32_t stabilized;
  std::vector<int32_t> log;  // the recommendations afterwards; empty = not checked
  int32_t up_window;
  int32_t down_window;
};
void PrintTo(const BehaviorStabilizeCase& c, std::ostream* os) { *os << c.name; }

class BehaviorStabilizeTest : public ::testing::TestWithParam<BehaviorStabilizeCase> {};

TEST_P(BehaviorStabilizeTest, BringsCurrentWithinRecentRecommendations) {
  const BehaviorStabilizeCase& tc = GetParam();
  PolicyState state;
  PolicyStateTestPeer::SetRecommendations(state, tc.history);
  ScalingPolicyStatus status;
  // Rate policies wide enough not to interfere.
  Behavior b =
      MakeBehavior(Rules(10000, 15, 0, 0, tc.up_window), Rules(0, 0, 100, 15, tc.down_window));
  Decision d = Decide(ProposalSpec(1, 10000, b), ProposalInput(tc.current, tc.proposal),
                      HpaOptions{}, kNow, state, status);
  EXPECT_EQ(d.desired_replicas, tc.stabilized);
  if (!tc.log.empty()) {
    std::vector<int32_t> got;
    for (const auto& r : state.recommendations()) got.push_back(r.replicas);
    EXPECT_EQ(got, tc.log);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, BehaviorStabilizeTest,
    ::testing::Values(
        BehaviorStabilizeCase{"upstream_simple_scale_down_stabilization",
                              {{4, kNow - absl::Minutes(2)}, {5, kNow - absl::Minutes(1)}},
                              100,
                              3,
                              5,
                              {4, 5, 3},
                              0,
                              180},
        BehaviorStabilizeCase{"upstream_simple_scale_up_stabilization",
                              {{4, kNow - absl::Minutes(2)}, {5, kNow - absl::Minutes(1)}},
                              1,
                              7,
                              4,
                              {4, 5, 7},
                              300,
                              0},
        BehaviorStabilizeCase{"upstream_no_scale_down_stabilization",
                              {{1, kNow - absl::Minutes(2)}, {2, kNow - absl::Minutes(1)}},
                              100,
                              3,
                              3,
                              {1, 2, 3},
                              300,
                              0},
        BehaviorStabilizeCase{"upstream_no_scale_up_stabilization",
                              {{4, kNow - absl::Minutes(2)}, {5, kNow - absl::Minutes(1)}},
                              1,
                              3,
                              3,
                              {4, 5, 3},
                              0,
                              300},
        BehaviorStabilizeCase{"upstream_no_scale_down_stabilization_reuse_element",
                              {{10, kNow - absl::Minutes(10)}, {9, kNow - absl::Minutes(9)}},
                              100,
                              3,
                              3,
                              {10, 3},
                              0,
                              0},
        BehaviorStabilizeCase{"upstream_no_scale_up_stabilization_reuse_element",
                              {{10, kNow - absl::Minutes(10)}, {9, kNow - absl::Minutes(9)}},
                              1,
                              100,
                              100,
                              {10, 100},
                              0,
                              0},
        BehaviorStabilizeCase{"upstream_scale_down_stabilization_reuse_obsolete_element",
                              {{10, kNow - absl::Minutes(10)},
                               {4, kNow - absl::Minutes(1)},
                               {5, kNow - absl::Minutes(2)},
                               {9, kNow - absl::Minutes(9)}},
                              100,
                              3,
                              5,
                              {10, 4, 5, 3},
                              0,
                              180},
        BehaviorStabilizeCase{"upstream_scale_up_stabilization_reuse_obsolete_element",
                              {{10, kNow - absl::Minutes(100)},
                               {6, kNow - absl::Minutes(1)},
                               {5, kNow - absl::Minutes(2)},
                               {9, kNow - absl::Minutes(3)}},
                              1,
                              100,
                              5,
                              {100, 6, 5, 9},
                              300,
                              0},
        BehaviorStabilizeCase{"upstream_do_not_scale_up_when_prenormalized_rec_goes_down",
                              {{2, kNow - absl::Minutes(100)}, {3, kNow - absl::Minutes(3)}},
                              2,
                              1,
                              2,
                              {},
                              300,
                              300},
        BehaviorStabilizeCase{"upstream_do_not_scale_down_when_prenormalized_rec_goes_up",
                              {{2, kNow - absl::Minutes(100)}, {1, kNow - absl::Minutes(3)}},
                              2,
                              3,
                              2,
                              {},
                              300,
                              300}),
    [](const ::testing::TestParamInfo<BehaviorStabilizeCase>& info) { return info.param.name; });

// ---- Rate policies (upstream TestScalingWithRules). ----

struct RulesCase {
  std::string name;
  std::vector<PolicyState::ScaleEvent> up_events;
  std::vector<PolicyState::ScaleEvent> down_events;
  int32_t min;
  int32_t max;
  std::optional<ScalingRules> up;    // unset: the API defaults
  std::optional<ScalingRules> down;  // unset: the API defaults
  int32_t current;
  int32_t proposal;
  int32_t expected;
  std::string condition;
};
void PrintTo(const RulesCase& c, std::ostream* os) { *os << c.name; }

class ScalingRulesTest : public ::testing::TestWithParam<RulesCase> {};

TEST_P(ScalingRulesTest, LimitsTheRateAsTheHpa) {
  const RulesCase& tc = GetParam();
  PolicyState state;
  PolicyStateTestPeer::SetRecommendations(state, {{tc.current, kLongAgo}});
  PolicyStateTestPeer::SetScaleUpEvents(state, tc.up_events);
  PolicyStateTestPeer::SetScaleDownEvents(state, tc.down_events);
  ScalingPolicyStatus status;
  Decision d = Decide(ProposalSpec(tc.min, tc.max, MakeBehavior(tc.up, tc.down)),
                      ProposalInput(tc.current, tc.proposal), HpaOptions{}, kNow, state, status);
  EXPECT_EQ(d.desired_replicas, tc.expected);
  EXPECT_EQ(Reason(status, "ScalingLimited"), tc.condition);
  EXPECT_EQ(CondStatus(status, "ScalingLimited"),
            tc.condition == "DesiredWithinRange" ? "False" : "True");
}

const auto k159 = Uniform({1, 5, 9}, 120);

INSTANTIATE_TEST_SUITE_P(
    Table, ScalingRulesTest,
    ::testing::Values(
        RulesCase{"upstream_prenormalized_desired_replicas_within_range",
                  {},
                  {},
                  3,
                  8,
                  std::nullopt,
                  std::nullopt,
                  5,
                  7,
                  7,
                  "DesiredWithinRange"},
        RulesCase{"upstream_prenormalized_desired_replicas_below_min",
                  {},
                  {},
                  2,
                  8,
                  std::nullopt,
                  std::nullopt,
                  3,
                  1,
                  2,
                  "TooFewReplicas"},
        RulesCase{"upstream_within_range_when_min_replicas_is_0",
                  {},
                  {},
                  0,
                  10,
                  std::nullopt,
                  std::nullopt,
                  1,
                  0,
                  0,
                  "DesiredWithinRange"},
        RulesCase{"upstream_desired_more_than_max",
                  {},
                  {},
                  100,
                  150,
                  std::nullopt,
                  std::nullopt,
                  100,
                  1000,
                  150,
                  "TooManyReplicas"},
        RulesCase{"upstream_scale_up_limit_below_max_with_user_policies",
                  {},
                  {},
                  1,
                  2000,
                  Rules(0, 0, 1, 60, 0),
                  std::nullopt,
                  3,
                  1000,
                  4,
                  "ScaleUpLimit"},
        RulesCase{"upstream_scale_up_with_default_behavior",
                  {},
                  {},
                  1,
                  1000,
                  std::nullopt,
                  std::nullopt,
                  10,
                  50,
                  20,
                  "ScaleUpLimit"},
        RulesCase{"upstream_scale_up_pods_policy_larger_than_percent",
                  {},
                  {},
                  1,
                  1000,
                  Rules(100, 60, 100, 60, 0),
                  std::nullopt,
                  10,
                  500,
                  110,
                  "ScaleUpLimit"},
        RulesCase{"upstream_scale_up_percent_policy_larger_than_pods",
                  {},
                  {},
                  1,
                  1000,
                  Rules(2, 60, 100, 60, 0),
                  std::nullopt,
                  10,
                  500,
                  20,
                  "ScaleUpLimit"},
        RulesCase{"upstream_scale_up_large_pod_policy",
                  {},
                  {},
                  1,
                  1000,
                  Rules(100, 60, 0, 0, 0),
                  std::nullopt,
                  10,
                  50,
                  50,
                  "DesiredWithinRange"},
        RulesCase{"upstream_scale_up_large_percent_policy",
                  {},
                  {},
                  1,
                  1000,
                  Rules(10000, 60, 0, 0, 0),
                  std::nullopt,
                  10,
                  50,
                  50,
                  "DesiredWithinRange"},
        RulesCase{"upstream_scale_up_pod_policy_limitation",
                  {},
                  {},
                  1,
                  1000,
                  Rules(30, 60, 0, 0, 0),
                  std::nullopt,
                  10,
                  50,
                  40,
                  "ScaleUpLimit"},
        RulesCase{"upstream_scale_up_percent_policy_limitation",
                  {},
                  {},
                  1,
                  1000,
                  Rules(0, 0, 200, 60, 0),
                  std::nullopt,
                  10,
                  50,
                  30,
                  "ScaleUpLimit"},
        RulesCase{"upstream_scale_down_percent_policy_larger_than_pod",
                  {},
                  {},
                  1,
                  1000,
                  std::nullopt,
                  Rules(20, 60, 1, 60, 300),
                  100,
                  2,
                  80,
                  "ScaleDownLimit"},
        RulesCase{"upstream_scale_down_pod_policy_larger_than_percent",
                  {},
                  {},
                  1,
                  1000,
                  std::nullopt,
                  Rules(2, 60, 1, 60, 300),
                  100,
                  2,
                  98,
                  "ScaleDownLimit"},
        RulesCase{"upstream_scale_down_min_replicas_with_large_pod_policy",
                  {},
                  {},
                  1,
                  1000,
                  std::nullopt,
                  Rules(100, 60, 0, 0, 300),
                  10,
                  0,
                  1,
                  "TooFewReplicas"},
        RulesCase{"upstream_scale_down_min_replicas_with_large_percent_policy",
                  {},
                  {},
                  5,
                  1000,
                  std::nullopt,
                  Rules(0, 0, 100, 60, 300),
                  10,
                  2,
                  5,
                  "TooFewReplicas"},
        RulesCase{"upstream_scale_down_pod_policy_limitation",
                  {},
                  {},
                  1,
                  1000,
                  std::nullopt,
                  Rules(5, 60, 0, 0, 300),
                  10,
                  2,
                  5,
                  "ScaleDownLimit"},
        RulesCase{"upstream_scale_down_percent_policy_limitation",
                  {},
                  {},
                  1,
                  1000,
                  std::nullopt,
                  Rules(0, 0, 50, 60, 300),
                  10,
                  5,
                  5,
                  "DesiredWithinRange"},
        RulesCase{"upstream_scale_up_max_with_large_pod_policy_and_events",
                  k159,
                  {},
                  1,
                  200,
                  Rules(300, 60, 0, 0, 0),
                  std::nullopt,
                  100,
                  500,
                  200,
                  "TooManyReplicas"},
        RulesCase{"upstream_scale_up_max_with_large_percent_policy_and_events",
                  k159,
                  {},
                  1,
                  200,
                  Rules(0, 0, 10000, 60, 0),
                  std::nullopt,
                  100,
                  500,
                  200,
                  "TooManyReplicas"},
        RulesCase{"upstream_scale_up_current_limit_with_many_recent_events",
                  k159,
                  {},
                  1,
                  1000,
                  Rules(5, 120, 0, 0, 0),
                  std::nullopt,
                  100,
                  500,
                  100,
                  "ScaleUpLimit"},
        RulesCase{"upstream_scale_up_pod_policy_and_previous_events",
                  k159,
                  {},
                  1,
                  1000,
                  Rules(150, 120, 0, 0, 0),
                  std::nullopt,
                  100,
                  500,
                  235,
                  "ScaleUpLimit"},
        RulesCase{"upstream_scale_up_percent_policy_and_previous_events",
                  k159,
                  {},
                  1,
                  1000,
                  Rules(0, 0, 200, 120, 0),
                  std::nullopt,
                  100,
                  500,
                  255,
                  "ScaleUpLimit"},
        RulesCase{"upstream_scale_up_percent_policy_and_previous_up_and_down_events",
                  Uniform({4}, 120), Uniform({2}, 120), 1, 1000,
                  Rules(0, 0, 300, 300, 0), std::nullopt, 6, 24, 16, "ScaleUpLimit"},
        RulesCase{"upstream_scale_down_default_policy_and_previous_events",
                  {},
                  k159,
                  1,
                  1000,
                  std::nullopt,
                  std::nullopt,
                  10,
                  5,
                  5,
                  "DesiredWithinRange"},
        RulesCase{"upstream_scale_down_min_with_large_pod_policy_and_previous_events",
                  {},
                  k159,
                  1,
                  1000,
                  std::nullopt,
                  Rules(115, 120, 0, 0, 300),
                  100,
                  0,
                  1,
                  "TooFewReplicas"},
        RulesCase{"upstream_scale_down_min_5_with_large_pod_policy_and_previous_events",
                  {},
                  k159,
                  5,
                  1000,
                  std::nullopt,
                  Rules(130, 120, 0, 0, 300),
                  100,
                  0,
                  5,
                  "TooFewReplicas"},
        RulesCase{"upstream_scale_down_min_with_large_percent_policy_and_previous_events",
                  {},
                  k159,
                  5,
                  1000,
                  std::nullopt,
                  Rules(0, 0, 100, 120, 300),
                  100,
                  2,
                  5,
                  "TooFewReplicas"},
        RulesCase{"upstream_scale_down_pod_policy_limitation_and_previous_events",
                  {},
                  k159,
                  1,
                  1000,
                  std::nullopt,
                  Rules(5, 120, 0, 0, 300),
                  100,
                  2,
                  100,
                  "ScaleDownLimit"},
        RulesCase{"upstream_scale_down_percent_policy_limitation_and_previous_events",
                  {},
                  Uniform({2, 4, 6}, 120),
                  1,
                  1000,
                  std::nullopt,
                  Rules(0, 0, 50, 120, 300),
                  100,
                  0,
                  56,
                  "ScaleDownLimit"},
        RulesCase{"upstream_scale_down_percent_policy_and_previous_up_and_down_events",
                  Uniform({2}, 120), Uniform({4}, 120), 1, 1000, std::nullopt,
                  Rules(0, 0, 50, 180, 0), 10, 1, 6, "ScaleDownLimit"},
        RulesCase{"upstream_scale_down_previous_events_prevent_further_scale_down",
                  {},
                  Uniform({10, 10, 10}, 120),
                  1,
                  1000,
                  std::nullopt,
                  Rules(0, 0, 10, 120, 300),
                  100,
                  0,
                  100,
                  "ScaleDownLimit"},
        RulesCase{"upstream_scale_down_previous_events_still_allow_more",
                  {},
                  Uniform({10, 10, 10}, 120),
                  1,
                  1000,
                  std::nullopt,
                  Rules(0, 0, 1000, 120, 300),
                  10,
                  5,
                  5,
                  "DesiredWithinRange"},
        RulesCase{"upstream_outdated_flag_one_policy_up",
                  Uniform({8, 12, 9, 11}, 120),
                  {},
                  1,
                  1000,
                  Rules(1000, 60, 0, 0, 0),
                  std::nullopt,
                  100,
                  200,
                  200,
                  "DesiredWithinRange"},
        RulesCase{"upstream_not_outdated_two_policies_up",
                  Uniform({8, 12, 9, 11}, 120),
                  {},
                  1,
                  1000,
                  Rules(1000, 120, 100, 60, 0),
                  std::nullopt,
                  100,
                  200,
                  200,
                  "DesiredWithinRange"},
        RulesCase{"upstream_outdated_two_policies_up",
                  Uniform({8, 12, 9, 11}, 120),
                  {},
                  1,
                  1000,
                  Rules(1000, 30, 100, 60, 0),
                  std::nullopt,
                  100,
                  200,
                  200,
                  "DesiredWithinRange"},
        RulesCase{"upstream_outdated_flag_one_policy_down",
                  {},
                  Uniform({8, 12, 9, 11}, 120),
                  1,
                  1000,
                  std::nullopt,
                  Rules(1000, 60, 0, 0, 300),
                  100,
                  5,
                  5,
                  "DesiredWithinRange"},
        RulesCase{"upstream_not_outdated_two_policies_down",
                  {},
                  Uniform({8, 12, 9, 11}, 120),
                  1,
                  1000,
                  std::nullopt,
                  Rules(1000, 120, 100, 60, 300),
                  100,
                  5,
                  5,
                  "DesiredWithinRange"},
        RulesCase{"upstream_outdated_two_policies_down",
                  {},
                  Uniform({8, 12, 9, 11}, 120),
                  1,
                  1000,
                  std::nullopt,
                  Rules(1000, 30, 100, 60, 300),
                  100,
                  5,
                  5,
                  "DesiredWithinRange"},
        // Events exactly one period old no longer count (After is strict).
        RulesCase{"event_exactly_period_old_does_not_count",
                  {{2, kNow - absl::Seconds(60), false}},
                  {},
                  1,
                  1000,
                  Rules(2, 60, 0, 0, 0),
                  std::nullopt,
                  4,
                  10,
                  6,
                  "ScaleUpLimit"},
        // Ours: the rate arithmetic is done in int64 and clamped to int32 (no overflow).
        // 10 + 2147483647 pods: no limit below max.
        RulesCase{"pods_policy_of_max_int32_does_not_overflow",
                  {},
                  {},
                  1,
                  100,
                  Rules(2147483647, 60, 0, 0, 0),
                  std::nullopt,
                  10,
                  50,
                  50,
                  "DesiredWithinRange"},
        // 2147483648 pods removed within the period: the period started above current, so no
        // further scale-down.
        RulesCase{"scale_down_events_past_int32_do_not_overflow",
                  {},
                  Uniform({2147483647, 1}, 60),
                  1,
                  100,
                  std::nullopt,
                  Rules(1, 60, 0, 0, 0),
                  10,
                  2,
                  10,
                  "ScaleDownLimit"},
        // 2147483648 pods added within the period: no further scale-up.
        RulesCase{"scale_up_events_past_int32_do_not_overflow",
                  Uniform({2147483647, 1}, 60),
                  {},
                  1,
                  100,
                  Rules(4, 60, 0, 0, 0),
                  std::nullopt,
                  10,
                  50,
                  10,
                  "ScaleUpLimit"}),
    [](const ::testing::TestParamInfo<RulesCase>& info) { return info.param.name; });

// ---- Scale events (upstream TestStoreScaleEvents). ----

struct StoreCase {
  std::string name;
  std::vector<PolicyState::ScaleEvent> before;
  std::optional<ScalingRules> rules;            // unset: no behavior block
  std::vector<std::pair<int32_t, bool>> after;  // change, outdated
};
void PrintTo(const StoreCase& c, std::ostream* os) { *os << c.name; }

class StoreScaleEventsTest : public ::testing::TestWithParam<StoreCase> {};

TEST_P(StoreScaleEventsTest, AddsOrReusesOutdatedSlots) {
  const StoreCase& tc = GetParam();
  for (bool up : {true, false}) {
    PolicyState state;
    if (up) {
      PolicyStateTestPeer::SetScaleUpEvents(state, tc.before);
    } else {
      PolicyStateTestPeer::SetScaleDownEvents(state, tc.before);
    }
    ScalingPolicySpec spec = ProposalSpec(1, 100, std::nullopt);
    if (tc.rules) spec.behavior = Behavior{*tc.rules, *tc.rules};
    state.RecordScaleEvent(spec, 10, up ? 15 : 5, kNow);
    const auto& events = up ? state.scale_up_events() : state.scale_down_events();
    ASSERT_EQ(events.size(), tc.after.size()) << (up ? "up" : "down");
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].change, tc.after[i].first) << i;
      EXPECT_EQ(events[i].outdated, tc.after[i].second) << i;
    }
  }
}

PolicyState::ScaleEvent Ago(int32_t change, int seconds) {
  return {change, kNow - absl::Seconds(seconds), false};
}

INSTANTIATE_TEST_SUITE_P(
    Table, StoreScaleEventsTest,
    ::testing::Values(
        StoreCase{"upstream_empty_entries_with_default_behavior", {}, std::nullopt, {}},
        StoreCase{"upstream_empty_entries_with_two_policy_behavior",
                  {},
                  Rules(10, 60, 100, 60, 0),
                  {{5, false}}},
        StoreCase{"upstream_one_outdated_entry_kept_without_behavior",
                  {Ago(7, 61)},
                  std::nullopt,
                  {{7, false}}},
        StoreCase{"upstream_one_outdated_entry_replaced_with_behavior",
                  {Ago(7, 61)},
                  Rules(10, 60, 100, 60, 0),
                  {{5, false}}},
        StoreCase{"upstream_one_actual_entry_not_touched",
                  {Ago(7, 58)},
                  Rules(10, 60, 100, 60, 0),
                  {{7, false}, {5, false}}},
        StoreCase{"upstream_two_entries_one_replaced",
                  {Ago(7, 61), Ago(6, 59)},
                  Rules(10, 60, 0, 0, 0),
                  {{5, false}, {6, false}}},
        StoreCase{"upstream_replace_one_entry_policies_with_different_periods",
                  {Ago(8, 29), Ago(6, 59), Ago(7, 61), Ago(9, 61)},
                  Rules(10, 60, 100, 30, 0),
                  {{8, false}, {6, false}, {7, true}, {5, false}}},
        StoreCase{"upstream_two_entries_both_actual",
                  {Ago(7, 58), Ago(6, 59)},
                  Rules(10, 120, 100, 30, 0),
                  {{7, false}, {6, false}, {5, false}}}),
    [](const ::testing::TestParamInfo<StoreCase>& info) { return info.param.name; });

// ---- Over several reconciles. ----

TEST(BehaviorOverTimeTest, PodsPolicyCountsChangesWithinItsPeriod) {
  PolicyState state;
  ScalingPolicyStatus status;
  ScalingPolicySpec spec = ProposalSpec(1, 100, MakeBehavior(Rules(2, 60, 0, 0, 0), std::nullopt));
  Decision d = Decide(spec, ProposalInput(2, 10), HpaOptions{}, kNow, state, status);
  EXPECT_EQ(d.desired_replicas, 4);
  Finish(spec, absl::OkStatus(), kNow, d, state, status);

  const absl::Time t1 = kNow + absl::Seconds(30);
  d = Decide(spec, ProposalInput(4, 10), HpaOptions{}, t1, state, status);
  EXPECT_FALSE(d.rescale);
  EXPECT_EQ(d.code, "limited");
  EXPECT_EQ(d.reason, "ScaleUpLimit");
  Finish(spec, absl::OkStatus(), t1, d, state, status);

  const absl::Time t2 = kNow + absl::Seconds(61);
  d = Decide(spec, ProposalInput(4, 10), HpaOptions{}, t2, state, status);
  EXPECT_EQ(d.desired_replicas, 6);
  Finish(spec, absl::OkStatus(), t2, d, state, status);
  // The first event aged out of the 60 s policy and its slot was reused.
  ASSERT_EQ(state.scale_up_events().size(), 1u);
  EXPECT_EQ(state.scale_up_events()[0].at, t2);
  EXPECT_EQ(status.last_scale_time, t2);
}

TEST(FallbackTest, UsesFallbackReplicasAfterThresholdAndResetsOnSuccess) {
  PolicyState state;
  ScalingPolicyStatus status;
  ScalingPolicySpec spec = ProposalSpec(1, 10, std::nullopt);
  spec.fallback = Fallback{3, 4};
  const ReconcileInput broken = Input(2, {FailedInput("prometheus down")});

  for (int i = 0; i < 2; ++i) {
    Decision d = Decide(spec, broken, HpaOptions{}, kNow + absl::Seconds(15 * i), state, status);
    EXPECT_EQ(d.code, "metrics_failed");
    EXPECT_FALSE(d.rescale);
    EXPECT_EQ(state.consecutive_failures(), i + 1);
  }
  Decision d = Decide(spec, broken, HpaOptions{}, kNow + absl::Seconds(30), state, status);
  EXPECT_EQ(state.consecutive_failures(), 3);
  EXPECT_EQ(d.code, "fallback");
  EXPECT_TRUE(d.rescale);
  EXPECT_EQ(d.desired_replicas, 4);
  EXPECT_EQ(d.reason,
            "Fallback: invalid metrics (1 invalid out of 1), first error is: failed to get "
            "queue external metric value: failed to get queue external metric: unable to get "
            "external metric queue: prometheus down");
  EXPECT_EQ(CondStatus(status, "ScalingActive"), "False");
  EXPECT_EQ(Reason(status, "ScalingActive"), "FailedGetExternalMetric");
  EXPECT_TRUE(
      HasEvent(d, "Warning", "FailedComputeMetricsReplicas", std::string(d.error.message())));
  Finish(spec, absl::OkStatus(), kNow + absl::Seconds(30), d, state, status);
  EXPECT_EQ(status.desired_replicas, 4);

  // The fallback proposal is normalized like any other: above max it is clamped.
  spec.fallback = Fallback{3, 50};
  d = Decide(spec, Input(4, {FailedInput("prometheus down")}), HpaOptions{},
             kNow + absl::Seconds(45), state, status);
  EXPECT_EQ(d.desired_replicas, 8);  // scale-up limit max(2 x 4, 4)
  EXPECT_EQ(Reason(status, "ScalingLimited"), "ScaleUpLimit");

  // A successful metrics step resets the count. The fallback recommendation (50) is still in
  // the stabilization window, so the count keeps going up to the scale-up limit.
  d = Decide(spec, ProposalInput(4, 4), HpaOptions{}, kNow + absl::Seconds(60), state, status);
  EXPECT_EQ(state.consecutive_failures(), 0);
  EXPECT_EQ(d.code, "scale_up");
  EXPECT_EQ(d.desired_replicas, 8);
  d = Decide(spec, Input(4, {FailedInput("again")}), HpaOptions{}, kNow + absl::Seconds(75), state,
             status);
  EXPECT_EQ(d.code, "metrics_failed");
  EXPECT_EQ(state.consecutive_failures(), 1);
}

// Fallback replaces the metrics only when every one failed. When some are valid and an invalid
// one blocks their scale-down, the current count is kept, as the HPA does, and the count of
// failures starts again.
TEST(FallbackTest, PartialFailureKeepsCurrentReplicasInsteadOfFallback) {
  PolicyState state;
  PolicyStateTestPeer::SetRecommendations(state, {{5, kLongAgo}});
  ScalingPolicyStatus status;
  ScalingPolicySpec spec =
      Spec(1, 10, {ExternalAverage("queue", 1000), ExternalValue("other", 1000)});
  spec.fallback = Fallback{1, 7};
  Decision d = Decide(spec, Input(5, {ValueInput(1000), FailedInput("down")}), HpaOptions{}, kNow,
                      state, status);
  EXPECT_EQ(d.code, "metrics_failed");
  EXPECT_EQ(d.reason, "FailedGetExternalMetric");
  EXPECT_FALSE(d.rescale);
  EXPECT_EQ(d.desired_replicas, 5);
  EXPECT_EQ(state.consecutive_failures(), 0);
  EXPECT_EQ(Reason(status, "ScalingActive"), "FailedGetExternalMetric");
  EXPECT_TRUE(
      HasEvent(d, "Warning", "FailedComputeMetricsReplicas", std::string(d.error.message())));

  // Every metric failed: the fallback applies (threshold 1).
  d = Decide(spec, Input(5, {FailedInput("down"), FailedInput("down")}), HpaOptions{},
             kNow + absl::Seconds(15), state, status);
  EXPECT_EQ(d.code, "fallback");
  EXPECT_EQ(d.desired_replicas, 7);
  EXPECT_EQ(state.consecutive_failures(), 1);
}

TEST(FallbackTest, WithoutFallbackFailuresOnlyCount) {
  PolicyState state;
  ScalingPolicyStatus status;
  ScalingPolicySpec spec = ProposalSpec(1, 10, std::nullopt);
  for (int i = 0; i < 5; ++i) {
    Decision d = Decide(spec, Input(2, {FailedInput("x")}), HpaOptions{}, kNow, state, status);
    EXPECT_EQ(d.code, "metrics_failed");
  }
  EXPECT_EQ(state.consecutive_failures(), 5);
}

TEST(ScaleToZeroTest, ScalesToZeroAfterStabilizationAndBackOnActivation) {
  PolicyState state;
  ScalingPolicyStatus status;
  ScalingPolicySpec spec = Spec(0, 10, {ExternalValue("queue", 10'000, 5'000)});

  // At or below the threshold: proposal 0, held by the 5 min window seeded with 2.
  Decision d = Decide(spec, Input(2, {ValueInput(3'000)}), HpaOptions{}, kNow, state, status);
  EXPECT_FALSE(d.rescale);
  EXPECT_EQ(d.code, "stabilized");
  Finish(spec, absl::OkStatus(), kNow, d, state, status);

  const absl::Time t1 = kNow + absl::Seconds(301);
  d = Decide(spec, Input(2, {ValueInput(5'000)}), HpaOptions{}, t1, state, status);
  EXPECT_TRUE(d.rescale);
  EXPECT_EQ(d.desired_replicas, 0);
  EXPECT_EQ(d.reason, "All metrics below activation threshold");
  EXPECT_EQ(d.code, "scale_down");
  Finish(spec, absl::OkStatus(), t1, d, state, status);
  EXPECT_EQ(status.desired_replicas, 0);

  // At zero and still inactive: nothing to do.
  const absl::Time t2 = t1 + absl::Seconds(15);
  d = Decide(spec, Input(0, {ValueInput(5'000)}), HpaOptions{}, t2, state, status);
  EXPECT_FALSE(d.rescale);
  EXPECT_EQ(d.code, "scaled_to_zero");
  EXPECT_EQ(d.reason, "ScaledToZero");
  EXPECT_EQ(CondStatus(status, "ScalingActive"), "False");
  EXPECT_EQ(Reason(status, "ScalingActive"), "ScaledToZero");
  EXPECT_EQ(Message(status, "ScalingActive"),
            "all activation metrics are at or below their activation thresholds");

  // Activation: ceil(25 / 10) = 3 replicas from zero.
  const absl::Time t3 = t2 + absl::Seconds(15);
  d = Decide(spec, Input(0, {ValueInput(25'000)}), HpaOptions{}, t3, state, status);
  EXPECT_TRUE(d.rescale);
  EXPECT_EQ(d.desired_replicas, 3);
  EXPECT_EQ(d.reason, "external metric queue above target");
  EXPECT_EQ(d.code, "scale_up");
  EXPECT_EQ(Reason(status, "ScalingActive"), "ValidMetricFound");
}

TEST(ScaleToZeroTest, ActiveButTinyValueScalesToOne) {
  PolicyState state;
  ScalingPolicyStatus status;
  ScalingPolicySpec spec = Spec(0, 10, {ExternalValue("queue", 100'000, 0)});
  Decision d = Decide(spec, Input(0, {ValueInput(1)}), HpaOptions{}, kNow, state, status);
  EXPECT_EQ(d.desired_replicas, 1);
  // While running and active, arithmetic alone never reaches zero: with no ready pod the HPA's
  // ceil(ratio x 0) = 0 is floored at 1.
  PolicyState running;
  PolicyStateTestPeer::SetRecommendations(running, {{3, kLongAgo}});
  ReconcileInput in = Input(3, {ValueInput(1)});
  for (PodInfo& p : in.pods) p.ready = false;
  d = Decide(spec, in, HpaOptions{}, kNow, running, status);
  EXPECT_EQ(d.desired_replicas, 1);
  EXPECT_EQ(d.reason, "All metrics below target");
}

TEST(ScaleToZeroTest, FailedActivationMetricBlocksScaleToZero) {
  PolicyState state;
  PolicyStateTestPeer::SetRecommendations(state, {{3, kLongAgo}});
  ScalingPolicyStatus status;
  ScalingPolicySpec spec = Spec(0, 10, {ExternalValue("a", 10'000), ExternalValue("b", 10'000)});
  Decision d = Decide(spec, Input(3, {ValueInput(0), FailedInput("gone")}), HpaOptions{}, kNow,
                      state, status);
  EXPECT_EQ(d.code, "metrics_failed");
  EXPECT_FALSE(d.rescale);
}

TEST(ScaleToZeroTest, ResourceMetricsAtZeroReplicasDoNotBlockActivation) {
  PolicyState state;
  ScalingPolicyStatus status;
  ScalingPolicySpec spec = Spec(0, 10, {CpuUtilization(50), ExternalValue("queue", 10'000, 0)});
  ReconcileInput in = Input(0, {CpuInput({}), ValueInput(15'000)});
  Decision d = Decide(spec, in, HpaOptions{}, kNow, state, status);
  EXPECT_EQ(d.desired_replicas, 2);
  EXPECT_FALSE(d.error.ok());  // the cpu metric had no pods
}

}  // namespace
}  // namespace sextant::autoscaler::hpa
