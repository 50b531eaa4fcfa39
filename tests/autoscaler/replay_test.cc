#include "autoscaler/replay.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::autoscaler {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// `n` pods named p0, p1, ... each with the JSON members `fields` ("" for none).
std::string Pods(int n, absl::string_view fields) {
  std::vector<std::string> pods;
  for (int i = 0; i < n; ++i) {
    pods.push_back(absl::StrCat("{\"name\":\"p", i, "\"", fields.empty() ? "" : ",", fields, "}"));
  }
  return absl::StrCat("[", absl::StrJoin(pods, ","), "]");
}

ScalingPolicy Policy(absl::string_view spec_yaml) {
  const std::string yaml = absl::StrCat(
      "apiVersion: autoscaling.sextant.dev/v1alpha1\nkind: ScalingPolicy\n"
      "metadata: {name: web, namespace: shop}\n"
      "spec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n",
      spec_yaml);
  absl::StatusOr<ScalingPolicy> policy = ParseScalingPolicy(yaml, "test.yaml");
  EXPECT_TRUE(policy.ok()) << policy.status();
  if (!policy.ok()) return {};
  EXPECT_TRUE(ValidateScalingPolicy(*policy).ok()) << ValidateScalingPolicy(*policy);
  return *policy;
}

constexpr absl::string_view kCpuPolicy = R"(  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
)";

constexpr absl::string_view kExternalPolicy = R"(  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: External
    name: queue
    external: {query: 'sum(queue_depth)', target: {type: Value, value: "30"}}
)";

constexpr absl::string_view kPodsPolicy = R"(  minReplicas: 1
  maxReplicas: 20
  metrics:
  - type: Pods
    name: rps
    pods: {query: 'sum by (pod) (rate(http_requests_total[1m]))', target: {type: AverageValue, averageValue: "100"}}
)";

// One line per step: "AT: CURRENT->DESIRED AbleToScale/ScalingActive/ScalingLimited | reason".
std::vector<std::string> Summaries(const std::vector<ReplayStep>& steps) {
  std::vector<std::string> out;
  for (const ReplayStep& s : steps) {
    auto condition = [&](const char* type) {
      auto it = s.conditions.find(type);
      return it == s.conditions.end() ? std::string("<none>") : it->second;
    };
    out.push_back(absl::StrCat(s.at, ": ", s.current_replicas, "->", s.desired_replicas, " ",
                               condition("AbleToScale"), "/", condition("ScalingActive"), "/",
                               condition("ScalingLimited"), " | ", s.reason));
  }
  return out;
}

std::vector<std::string> Replay(const ScalingPolicy& policy, absl::string_view json) {
  absl::StatusOr<Scenario> scenario = ParseScenario(json, "scenario.json");
  EXPECT_TRUE(scenario.ok()) << scenario.status();
  if (!scenario.ok()) return {};
  absl::StatusOr<std::vector<ReplayStep>> steps = RunScenario(policy, *scenario);
  EXPECT_TRUE(steps.ok()) << steps.status();
  if (!steps.ok()) return {};
  return Summaries(*steps);
}

TEST(ParseScenarioTest, FillsTheContractDefaults) {
  absl::StatusOr<Scenario> s = ParseScenario(
      R"({"steps":[{"at":0,"scale":{"specReplicas":3},"pods":[{"name":"a"}]},{"at":15}]})",
      "scenario.json");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_FALSE(s->options.tolerance.has_value());
  EXPECT_EQ(s->options.downscale_stabilization_seconds, 300);
  EXPECT_EQ(s->options.cpu_initialization_seconds, 300);
  EXPECT_EQ(s->options.initial_readiness_delay_seconds, 30);
  EXPECT_EQ(s->options.metric_window_seconds, 30);
  EXPECT_EQ(s->options.sync_seconds, 15);
  ASSERT_EQ(s->steps.size(), 2u);
  EXPECT_EQ(s->steps[0].spec_replicas, 3);
  EXPECT_EQ(s->steps[0].status_replicas, 3);  // statusReplicas defaults to specReplicas
  ASSERT_EQ(s->steps[0].pods.size(), 1u);
  const ScenarioPod& pod = s->steps[0].pods[0];
  EXPECT_EQ(pod.name, "a");
  EXPECT_EQ(pod.phase, "Running");
  EXPECT_EQ(pod.ready, true);
  EXPECT_FALSE(pod.start_time.has_value());
  EXPECT_FALSE(pod.ready_transition_time.has_value());
  EXPECT_FALSE(pod.deleting);
  EXPECT_TRUE(pod.requests_milli.empty());
  EXPECT_TRUE(pod.usage_milli.empty());
  EXPECT_TRUE(pod.metrics_milli.empty());
  EXPECT_EQ(s->steps[1].at, 15);
  EXPECT_FALSE(s->steps[1].spec_replicas.has_value());  // the previous decision
  EXPECT_FALSE(s->steps[1].status_replicas.has_value());
  EXPECT_TRUE(s->steps[1].pods.empty());
}

TEST(ParseScenarioTest, ReadsEveryOptionAndPodField) {
  absl::StatusOr<Scenario> s = ParseScenario(
      R"({"options":{"tolerance":0.05,"downscaleStabilizationSeconds":60,
            "cpuInitializationSeconds":120,"initialReadinessDelaySeconds":10,
            "metricWindowSeconds":15,"syncSeconds":5},
          "steps":[{"at":0.5,"scale":{"specReplicas":3,"statusReplicas":2},
                    "pods":[{"name":"a","phase":"Failed","ready":false,"startTime":-5,
                             "readyTransitionTime":-1.5,"deleting":true}]}]})",
      "scenario.json");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->options.tolerance, 0.05);
  EXPECT_EQ(s->options.downscale_stabilization_seconds, 60);
  EXPECT_EQ(s->options.cpu_initialization_seconds, 120);
  EXPECT_EQ(s->options.initial_readiness_delay_seconds, 10);
  EXPECT_EQ(s->options.metric_window_seconds, 15);
  EXPECT_EQ(s->options.sync_seconds, 5);
  EXPECT_EQ(s->steps[0].at, 0.5);
  EXPECT_EQ(s->steps[0].spec_replicas, 3);
  EXPECT_EQ(s->steps[0].status_replicas, 2);
  const ScenarioPod& pod = s->steps[0].pods[0];
  EXPECT_EQ(pod.phase, "Failed");
  EXPECT_EQ(pod.ready, false);
  EXPECT_EQ(pod.start_time, -5);
  EXPECT_EQ(pod.ready_transition_time, -1.5);
  EXPECT_TRUE(pod.deleting);
}

TEST(ParseScenarioTest, ReadyNullOrAbsentOnAPendingPodMeansNoReadyCondition) {
  absl::StatusOr<Scenario> s = ParseScenario(
      R"({"steps":[{"at":0,"scale":{"specReplicas":3},"pods":[
          {"name":"a","ready":null},{"name":"b","phase":"Pending"},
          {"name":"c","phase":"Pending","ready":true}]}]})",
      "scenario.json");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->steps[0].pods[0].ready, std::nullopt);
  EXPECT_EQ(s->steps[0].pods[1].ready, std::nullopt);
  EXPECT_EQ(s->steps[0].pods[2].ready, true);
}

TEST(ParseScenarioTest, NullOptionalFieldsAreOmitted) {
  absl::StatusOr<Scenario> s = ParseScenario(
      R"({"options":null,"steps":[
          {"at":0,"scale":{"specReplicas":3},"pods":null,"metrics":null},
          {"at":15,"scale":null,"pods":[{"name":"a","phase":null,"deleting":null,
              "requests":null,"usage":null,"metrics":null}]}]})",
      "scenario.json");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->options.downscale_stabilization_seconds, 300);
  ASSERT_EQ(s->steps.size(), 2u);
  EXPECT_TRUE(s->steps[0].pods.empty());
  EXPECT_TRUE(s->steps[0].metrics_milli.empty());
  EXPECT_FALSE(s->steps[1].spec_replicas.has_value());  // the previous decision
  const ScenarioPod& pod = s->steps[1].pods[0];
  EXPECT_EQ(pod.phase, "Running");
  EXPECT_FALSE(pod.deleting);
  EXPECT_TRUE(pod.requests_milli.empty());
  EXPECT_TRUE(pod.usage_milli.empty());
  EXPECT_TRUE(pod.metrics_milli.empty());
  // The first step still needs its scale, and an unknown key stays an error when null.
  absl::StatusOr<Scenario> bad = ParseScenario(R"({"steps":[{"at":0,"scale":null}]})", "s.json");
  EXPECT_EQ(bad.status().message(),
            "s.json: steps[0].scale: required in the first step (the starting size)");
  bad = ParseScenario(R"({"steps":[{"at":0,"scale":{"specReplicas":1},"podz":null}]})", "s.json");
  EXPECT_EQ(bad.status().message(), "s.json: steps[0].podz: unknown key");
  bad = ParseScenario(
      R"({"steps":[{"at":0,"scale":{"specReplicas":1},"pods":[{"name":"a","x":null}]}]})",
      "s.json");
  EXPECT_EQ(bad.status().message(), "s.json: steps[0].pods[0].x: unknown key");
}

TEST(ParseScenarioTest, NullStartAndTransitionTimesMeanNoneAbsentMeansTheDefault) {
  absl::StatusOr<Scenario> s = ParseScenario(
      R"({"steps":[{"at":0,"scale":{"specReplicas":2},"pods":[
          {"name":"a","startTime":null,"readyTransitionTime":null},{"name":"b"}]}]})",
      "scenario.json");
  ASSERT_TRUE(s.ok()) << s.status();
  const ScenarioPod& a = s->steps[0].pods[0];
  ASSERT_TRUE(a.start_time.has_value());
  EXPECT_TRUE(std::isnan(*a.start_time));
  ASSERT_TRUE(a.ready_transition_time.has_value());
  EXPECT_TRUE(std::isnan(*a.ready_transition_time));
  EXPECT_FALSE(s->steps[0].pods[1].start_time.has_value());
  EXPECT_FALSE(s->steps[0].pods[1].ready_transition_time.has_value());
}

TEST(ParseScenarioTest, ReadsNumbersAndQuantityStringsAsMilliUnits) {
  absl::StatusOr<Scenario> s = ParseScenario(
      R"({"steps":[{"at":0,"scale":{"specReplicas":1},"metrics":{"queue":1.5,"lag":"-2"},
          "pods":[{"name":"a","requests":{"cpu":"500m","memory":"1Gi"},
                   "usage":{"cpu":0.25,"memory":"512Mi"},"metrics":{"rps":"12e1","x":0.1}}]}]})",
      "scenario.json");
  ASSERT_TRUE(s.ok()) << s.status();
  const ScenarioPod& pod = s->steps[0].pods[0];
  EXPECT_EQ(pod.requests_milli.at("cpu"), 500);
  EXPECT_EQ(pod.requests_milli.at("memory"), 1073741824000);
  EXPECT_EQ(pod.usage_milli.at("cpu"), 250);
  EXPECT_EQ(pod.usage_milli.at("memory"), 536870912000);
  EXPECT_EQ(pod.metrics_milli.at("rps"), 120000);
  EXPECT_EQ(pod.metrics_milli.at("x"), 100);
  EXPECT_EQ(s->steps[0].metrics_milli.at("queue"), 1500);
  EXPECT_EQ(s->steps[0].metrics_milli.at("lag"), -2000);
}

TEST(ParseScenarioTest, ReadsExtremeNumberSpellings) {
  // 0e215 once reached undefined behaviour in RapidJSON's full-precision number parser.
  absl::StatusOr<Scenario> s = ParseScenario(
      R"({"steps":[{"at":0e215,"scale":{"specReplicas":1},
          "metrics":{"a":0e215,"b":1e-400,"c":25e-2,"d":0.1,"e":3e2}}]})",
      "scenario.json");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->steps[0].at, 0);
  EXPECT_EQ(s->steps[0].metrics_milli.at("a"), 0);
  EXPECT_EQ(s->steps[0].metrics_milli.at("b"), 0);
  EXPECT_EQ(s->steps[0].metrics_milli.at("c"), 250);
  EXPECT_EQ(s->steps[0].metrics_milli.at("d"), 100);
  EXPECT_EQ(s->steps[0].metrics_milli.at("e"), 300000);
}

TEST(ParseScenarioTest, ErrorsNameTheFieldAndTheStep) {
  struct Case {
    std::string json;
    std::string message;
  };
  const std::string ok_step = R"({"at":0,"scale":{"specReplicas":1}})";
  const std::vector<Case> cases = {
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1}},{"at":5},{"at":6},
          {"at":7,"pods":[{"name":"a","usage":{"cpu":"x"}}]}]})",
       R"(scenario.json: steps[3].pods[0].usage.cpu: not a quantity: "x")"},
      {R"({"options":{"tolerence":0.2},"steps":[)" + ok_step + "]}",
       "scenario.json: options.tolerence: unknown option (known: tolerance, "
       "downscaleStabilizationSeconds, cpuInitializationSeconds, initialReadinessDelaySeconds, "
       "metricWindowSeconds, syncSeconds)"},
      {R"({"options":{"tolerance":-0.1},"steps":[)" + ok_step + "]}",
       "scenario.json: options.tolerance: expected a number >= 0"},
      {R"({"options":{"metricWindowSeconds":1.5},"steps":[)" + ok_step + "]}",
       "scenario.json: options.metricWindowSeconds: expected a whole number"},
      {R"({"options":{"syncSeconds":0},"steps":[)" + ok_step + "]}",
       "scenario.json: options.syncSeconds: must be at least 1"},
      {R"({"options":{"downscaleStabilizationSeconds":-1},"steps":[)" + ok_step + "]}",
       "scenario.json: options.downscaleStabilizationSeconds: must be at least 0"},
      {R"({"steps":[{"at":10,"scale":{"specReplicas":1}},{"at":10}]})",
       "scenario.json: steps[1].at: must be after the previous step's (10)"},
      {R"({"steps":[{"at":10,"scale":{"specReplicas":1}},{"at":9.5}]})",
       "scenario.json: steps[1].at: must be after the previous step's (10)"},
      {R"({"steps":[{"at":-1,"scale":{"specReplicas":1}}]})",
       "scenario.json: steps[0].at: must not be negative"},
      {R"({"steps":[{"scale":{"specReplicas":1}}]})", "scenario.json: steps[0].at: required"},
      {R"({"steps":[{"at":"0","scale":{"specReplicas":1}}]})",
       "scenario.json: steps[0].at: expected a number of seconds"},
      {R"({"steps":[{"at":0}]})",
       "scenario.json: steps[0].scale: required in the first step (the starting size)"},
      {R"({"steps":[{"at":0,"scale":{"statusReplicas":1}}]})",
       "scenario.json: steps[0].scale.specReplicas: required"},
      {R"({"steps":[{"at":0,"scale":{"specReplicas":-1}}]})",
       "scenario.json: steps[0].scale.specReplicas: must be between 0 and 2147483647"},
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1,"replicas":2}}]})",
       "scenario.json: steps[0].scale.replicas: unknown key"},
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1},"pods":[{"phase":"Running"}]}]})",
       "scenario.json: steps[0].pods[0].name: required"},
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1},"pods":[{"name":"a"},{"name":"a"}]}]})",
       R"(scenario.json: steps[0].pods[1].name: duplicate pod name "a")"},
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1},"pods":[{"name":"a","phase":"Up"}]}]})",
       R"(scenario.json: steps[0].pods[0].phase: unknown phase "Up" (Pending, Running, Succeeded, Failed or Unknown))"},
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1},"pods":[{"name":"a","ready":"yes"}]}]})",
       "scenario.json: steps[0].pods[0].ready: expected true or false"},
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1},"pods":[{"name":"a","usgae":{}}]}]})",
       "scenario.json: steps[0].pods[0].usgae: unknown key"},
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1},"pods":[{"name":"a","requests":{"cpu":"-1"}}]}]})",
       "scenario.json: steps[0].pods[0].requests.cpu: must not be negative"},
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1},"pods":[{"name":"a","metrics":{"rps":true}}]}]})",
       "scenario.json: steps[0].pods[0].metrics.rps: expected a number or a quantity string"},
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1},"metrics":{"q":1e300}}]})",
       "scenario.json: steps[0].metrics.q: "},
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1},"pods":{}}]})",
       "scenario.json: steps[0].pods: expected an array"},
      {R"({"steps":[{"at":0,"at":1,"scale":{"specReplicas":1}}]})",
       "scenario.json: steps[0].at: duplicate key"},
      {R"({"step":[]})", "scenario.json: step: unknown key (known: options, steps)"},
      {R"({"options":{}})", "scenario.json: steps: required"},
      {R"({"steps":[]})", "scenario.json: steps: at least one step is required"},
      {R"({"steps":{}})", "scenario.json: steps: expected an array"},
      {R"([])", "scenario.json: not a JSON object"},
      {R"({"steps":[)", "scenario.json: invalid JSON at offset 10: "},
      {std::string("{\"steps\":[]}\0x", 14), "scenario.json: invalid JSON at offset 12: "},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Scenario> s = ParseScenario(c.json, "scenario.json");
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << c.json;
    if (c.message.back() == ' ') {
      EXPECT_THAT(std::string(s.status().message()), ::testing::StartsWith(c.message)) << c.json;
    } else {
      EXPECT_EQ(s.status().message(), c.message) << c.json;
    }
  }
}

TEST(ParseScenarioTest, DeepNestingIsAnErrorNotACrash) {
  const std::string json = std::string(200000, '[') + std::string(200000, ']');
  absl::StatusOr<Scenario> s = ParseScenario(json, "deep.json");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "deep.json: not a JSON object");
  const std::string nested = R"({"steps":[{"at":0,"scale":{"specReplicas":1},"pods":)" +
                             std::string(200000, '[') + std::string(200000, ']') + "}]}";
  s = ParseScenario(nested, "deep.json");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("steps[0].pods[0]: expected an object"));
}

TEST(HpaOptionsFromScenarioTest, MapsEveryOptionWithTheContractDefaults) {
  hpa::HpaOptions defaults = HpaOptionsFromScenario(ScenarioOptions{});
  EXPECT_EQ(defaults.tolerance, 0.1);
  EXPECT_EQ(defaults.downscale_stabilization, absl::Seconds(300));
  EXPECT_EQ(defaults.cpu_initialization_period, absl::Seconds(300));
  EXPECT_EQ(defaults.initial_readiness_delay, absl::Seconds(30));
  ScenarioOptions o;
  o.tolerance = 0.25;
  o.downscale_stabilization_seconds = 60;
  o.cpu_initialization_seconds = 120;
  o.initial_readiness_delay_seconds = 5;
  hpa::HpaOptions set = HpaOptionsFromScenario(o);
  EXPECT_EQ(set.tolerance, 0.25);
  EXPECT_EQ(set.downscale_stabilization, absl::Seconds(60));
  EXPECT_EQ(set.cpu_initialization_period, absl::Seconds(120));
  EXPECT_EQ(set.initial_readiness_delay, absl::Seconds(5));
}

TEST(RunScenarioTest, CpuAboveTargetScalesUp) {
  // 800m used of 1000m requested: 80 % against 50 %, ratio 1.6, ceil(3.2) = 4.
  EXPECT_THAT(
      Replay(Policy(kCpuPolicy),
             absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":2},"pods":)",
                          Pods(2, R"("requests":{"cpu":"500m"},"usage":{"cpu":"400m"})"), "}]}")),
      ElementsAre("0: 2->4 SucceededRescale/ValidMetricFound/DesiredWithinRange | cpu resource "
                  "utilization (percentage of request) above target"));
}

TEST(RunScenarioTest, CpuOfInitializingPodsIsLeftOut) {
  // p2 and p3 started 20 s ago and became ready 5 s ago: their 30 s samples began before that,
  // so only p0 and p1 (50 %) count and nothing changes; counted, 75 % would ask for 6.
  const std::string pods = absl::StrCat(
      R"([{"name":"p0","requests":{"cpu":"500m"},"usage":{"cpu":"250m"}},)",
      R"({"name":"p1","requests":{"cpu":"500m"},"usage":{"cpu":"250m"}},)",
      R"({"name":"p2","startTime":-20,"readyTransitionTime":-5,"requests":{"cpu":"500m"},)",
      R"("usage":{"cpu":"500m"}},)",
      R"({"name":"p3","startTime":-20,"readyTransitionTime":-5,"requests":{"cpu":"500m"},)",
      R"("usage":{"cpu":"500m"}}])");
  EXPECT_THAT(
      Replay(Policy(kCpuPolicy),
             absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":4},"pods":)", pods, "}]}")),
      ElementsAre("0: 4->4 ReadyForNewScale/ValidMetricFound/DesiredWithinRange | "
                  "ReadyForNewScale"));
}

TEST(RunScenarioTest, FirstStepScaleDownWaitsForTheStabilizationWindow) {
  // The history starts with the current 4, so the proposal of 2 (20 %: ratio 0.4, ceil(1.6))
  // waits until that entry is older than 300 s.
  const std::string pods = Pods(4, R"("requests":{"cpu":"500m"},"usage":{"cpu":"100m"})");
  EXPECT_THAT(
      Replay(Policy(kCpuPolicy),
             absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":4},"pods":)", pods,
                          R"(},{"at":150,"pods":)", pods, R"(},{"at":299,"pods":)", pods,
                          R"(},{"at":301,"pods":)", pods, "}]}")),
      ElementsAre(
          "0: 4->4 ScaleDownStabilized/ValidMetricFound/DesiredWithinRange | ScaleDownStabilized",
          "150: 4->4 ScaleDownStabilized/ValidMetricFound/DesiredWithinRange | "
          "ScaleDownStabilized",
          "299: 4->4 ScaleDownStabilized/ValidMetricFound/DesiredWithinRange | "
          "ScaleDownStabilized",
          "301: 4->2 SucceededRescale/ValidMetricFound/DesiredWithinRange | All metrics below "
          "target"));
}

TEST(RunScenarioTest, DownscaleStabilizationOptionSetsTheWindow) {
  const std::string pods = Pods(4, R"("requests":{"cpu":"500m"},"usage":{"cpu":"100m"})");
  EXPECT_THAT(
      Replay(Policy(kCpuPolicy),
             absl::StrCat(R"({"options":{"downscaleStabilizationSeconds":60},"steps":[)",
                          R"({"at":0,"scale":{"specReplicas":4},"pods":)", pods,
                          R"(},{"at":61,"pods":)", pods, "}]}")),
      ElementsAre(
          "0: 4->4 ScaleDownStabilized/ValidMetricFound/DesiredWithinRange | ScaleDownStabilized",
          "61: 4->2 SucceededRescale/ValidMetricFound/DesiredWithinRange | All metrics below "
          "target"));
}

TEST(RunScenarioTest, ExternalValueScalesWithTheReadyPods) {
  // 60 against 30: ratio 2 times 2 ready pods = 4; then "30" (a quantity string): ratio 1, no
  // change.
  EXPECT_THAT(
      Replay(Policy(kExternalPolicy),
             absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":2},"metrics":{"queue":60},)",
                          R"("pods":)", Pods(2, ""), R"(},{"at":15,"metrics":{"queue":"30"},)",
                          R"("pods":)", Pods(4, ""), "}]}")),
      ElementsAre("0: 2->4 SucceededRescale/ValidMetricFound/DesiredWithinRange | external "
                  "metric queue above target",
                  "15: 4->4 ReadyForNewScale/ValidMetricFound/DesiredWithinRange | "
                  "ReadyForNewScale"));
}

TEST(RunScenarioTest, MissingExternalValueFailsThatStepOnly) {
  // The failing step decides nothing: AbleToScale stays at what reading the scale set
  // (SucceededGetScale), ScalingLimited keeps its reason from the step before.
  EXPECT_THAT(
      Replay(Policy(kExternalPolicy),
             absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":2},"metrics":{"queue":30},)",
                          R"("pods":)", Pods(2, ""), R"(},{"at":15,"pods":)", Pods(2, ""),
                          R"(},{"at":30,"metrics":{"queue":60},"pods":)", Pods(2, ""), "}]}")),
      ElementsAre("0: 2->2 ReadyForNewScale/ValidMetricFound/DesiredWithinRange | ReadyForNewScale",
                  "15: 2->2 SucceededGetScale/FailedGetExternalMetric/DesiredWithinRange | "
                  "FailedGetExternalMetric",
                  "30: 2->4 SucceededRescale/ValidMetricFound/DesiredWithinRange | external metric "
                  "queue above target"));
}

TEST(RunScenarioTest, StatusReplicasReachExternalAverageValue) {
  // AverageValue divides by status.replicas: 30 / (10 x 3) = 1, within tolerance, so the
  // proposal is the 3 running, above spec's 2.
  EXPECT_THAT(
      Replay(Policy(R"(  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: External
    name: queue
    external: {query: 'sum(queue_depth)', target: {type: AverageValue, averageValue: "10"}}
)"),
             absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":2,"statusReplicas":3},)",
                          R"("metrics":{"queue":30},"pods":)", Pods(3, ""), "}]}")),
      ElementsAre("0: 2->3 SucceededRescale/ValidMetricFound/DesiredWithinRange | external "
                  "metric queue above target"));
}

TEST(RunScenarioTest, PodsMetricAverageAboveTargetScalesUp) {
  // Average 150 against 100 over 4 pods: ceil(6) = 6, within the limit max(8, 4).
  EXPECT_THAT(
      Replay(Policy(kPodsPolicy),
             absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":4},"pods":)",
                          Pods(4, R"("metrics":{"rps":150})"), "}]}")),
      ElementsAre("0: 4->6 SucceededRescale/ValidMetricFound/DesiredWithinRange | pods metric "
                  "rps above target"));
}

TEST(RunScenarioTest, OmittedScaleCarriesThePreviousDecision) {
  // 4 pods at 150: 6. The next step, without scale, starts from 6: 6 pods at 100, no change.
  EXPECT_THAT(
      Replay(Policy(kPodsPolicy),
             absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":4},"pods":)",
                          Pods(4, R"("metrics":{"rps":150})"), R"(},{"at":15,"pods":)",
                          Pods(6, R"("metrics":{"rps":100})"), "}]}")),
      ElementsAre("0: 4->6 SucceededRescale/ValidMetricFound/DesiredWithinRange | pods metric "
                  "rps above target",
                  "15: 6->6 ReadyForNewScale/ValidMetricFound/DesiredWithinRange | "
                  "ReadyForNewScale"));
}

TEST(RunScenarioTest, OmittedScaleAfterAFailedFirstStepKeepsTheStartingSize) {
  // Step 0 cannot read `queue`: nothing is decided, the scale stays 3 (status.desiredReplicas,
  // left at 0 by the HPA, is not what the step decided). Step 15 starts from 3: 30 against 30,
  // no change. Starting from 0 it would have been ScalingDisabled (a target at 0 is left alone).
  EXPECT_THAT(
      Replay(Policy(kExternalPolicy),
             absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":3},"pods":)", Pods(3, ""),
                          R"(},{"at":15,"metrics":{"queue":30},"pods":)", Pods(3, ""), "}]}")),
      ElementsAre("0: 3->3 SucceededGetScale/FailedGetExternalMetric/ | "
                  "FailedGetExternalMetric",
                  "15: 3->3 ReadyForNewScale/ValidMetricFound/DesiredWithinRange | "
                  "ReadyForNewScale"));
}

TEST(RunScenarioTest, DesiredReplicasIsTheScaleAfterTheStep) {
  absl::StatusOr<Scenario> scenario =
      ParseScenario(absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":3},"pods":)",
                                 Pods(3, ""), R"(},{"at":15,"metrics":{"queue":90},"pods":)",
                                 Pods(3, ""), R"(},{"at":30,"pods":)", Pods(6, ""), "}]}"),
                    "scenario.json");
  ASSERT_TRUE(scenario.ok()) << scenario.status();
  absl::StatusOr<std::vector<ReplayStep>> steps = RunScenario(Policy(kExternalPolicy), *scenario);
  ASSERT_TRUE(steps.ok()) << steps.status();
  ASSERT_EQ(steps->size(), 3u);
  EXPECT_EQ((*steps)[0].desired_replicas, 3);  // failed: the unchanged scale, not 0
  EXPECT_EQ((*steps)[1].desired_replicas, 6);  // 90 / 30 x 3 = 9, limited to max(2 x 3, 4)
  EXPECT_EQ((*steps)[2].current_replicas, 6);
  EXPECT_EQ((*steps)[2].desired_replicas, 6);  // failed again: the scale the step started from
}

TEST(RunScenarioTest, ResourceOrPodsMetricWithoutAnySampleFailsThatStep) {
  EXPECT_THAT(Replay(Policy(kCpuPolicy),
                     absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":2},"pods":)",
                                  Pods(2, R"("requests":{"cpu":"500m"})"), "}]}")),
              ElementsAre("0: 2->2 SucceededGetScale/FailedGetResourceMetric/ | "
                          "FailedGetResourceMetric"));
  EXPECT_THAT(Replay(Policy(kPodsPolicy),
                     absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":2},"pods":)",
                                  Pods(2, ""), "}]}")),
              ElementsAre("0: 2->2 SucceededGetScale/FailedGetPodsMetric/ | "
                          "FailedGetPodsMetric"));
}

TEST(RunScenarioTest, APodWithNullStartTimeIsUnreadyForCpu) {
  // p0 has no start time: unready for cpu, left out. p1 alone is at 50 %: ratio 1, no change.
  // With the default start time (an hour ago) both count: 75 %, ceil(1.5 x 2) = 3.
  const std::string p1 = R"({"name":"p1","requests":{"cpu":"500m"},"usage":{"cpu":"250m"}})";
  auto scenario = [&](absl::string_view start) {
    return absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":2},"pods":[{"name":"p0",)",
                        start, R"("requests":{"cpu":"500m"},"usage":{"cpu":"500m"}},)", p1, "]}]}");
  };
  EXPECT_THAT(Replay(Policy(kCpuPolicy), scenario(R"("startTime":null,)")),
              ElementsAre("0: 2->2 ReadyForNewScale/ValidMetricFound/DesiredWithinRange | "
                          "ReadyForNewScale"));
  EXPECT_THAT(Replay(Policy(kCpuPolicy), scenario("")),
              ElementsAre("0: 2->3 SucceededRescale/ValidMetricFound/DesiredWithinRange | cpu "
                          "resource utilization (percentage of request) above target"));
}

TEST(RunScenarioTest, NullReadyTransitionTimeIsNoTransition) {
  // p0 started 60 s ago (within the 300 s CPU initialization) with a 120 s sample window.
  // Absent, its Ready transition is its start, after the sample began: unready, left out; p1
  // alone is at 50 %, no change. null: no transition (the infinite past), so the sample counts:
  // 75 %, ceil(1.5 x 2) = 3.
  const std::string p1 = R"({"name":"p1","requests":{"cpu":"500m"},"usage":{"cpu":"250m"}})";
  auto scenario = [&](absl::string_view transition) {
    return absl::StrCat(
        R"({"options":{"metricWindowSeconds":120},"steps":[{"at":0,"scale":{"specReplicas":2},)",
        R"("pods":[{"name":"p0","startTime":-60,)", transition,
        R"("requests":{"cpu":"500m"},"usage":{"cpu":"500m"}},)", p1, "]}]}");
  };
  EXPECT_THAT(Replay(Policy(kCpuPolicy), scenario("")),
              ElementsAre("0: 2->2 ReadyForNewScale/ValidMetricFound/DesiredWithinRange | "
                          "ReadyForNewScale"));
  EXPECT_THAT(Replay(Policy(kCpuPolicy), scenario(R"("readyTransitionTime":null,)")),
              ElementsAre("0: 2->3 SucceededRescale/ValidMetricFound/DesiredWithinRange | cpu "
                          "resource utilization (percentage of request) above target"));
}

TEST(RunScenarioTest, ToleranceOptionWidensTheDeadBand) {
  // Ratio 1.15 over 10 pods: outside the default 0.1 (ceil(11.5) = 12), inside 0.2.
  const std::string steps = absl::StrCat(R"("steps":[{"at":0,"scale":{"specReplicas":10},"pods":)",
                                         Pods(10, R"("metrics":{"rps":115})"), "}]");
  EXPECT_THAT(Replay(Policy(kPodsPolicy), absl::StrCat("{", steps, "}")),
              ElementsAre("0: 10->12 SucceededRescale/ValidMetricFound/DesiredWithinRange | pods "
                          "metric rps above target"));
  EXPECT_THAT(
      Replay(Policy(kPodsPolicy), absl::StrCat(R"({"options":{"tolerance":0.2},)", steps, "}")),
      ElementsAre("0: 10->10 ReadyForNewScale/ValidMetricFound/DesiredWithinRange | "
                  "ReadyForNewScale"));
}

TEST(RunScenarioTest, BehaviorToleranceWinsOverTheOptionForItsDirection) {
  // scaleUp.tolerance 0.05 beats the option's 0.2 for ratio 1.08 (ceil(10.8) = 11); ratio 0.85
  // is a scale-down, judged by the option's 0.2: no change.
  const ScalingPolicy policy = Policy(absl::StrCat(kPodsPolicy, R"(  behavior:
    scaleUp: {tolerance: 0.05}
)"));
  EXPECT_THAT(
      Replay(policy, absl::StrCat(R"({"options":{"tolerance":0.2},"steps":[)",
                                  R"({"at":0,"scale":{"specReplicas":10},"pods":)",
                                  Pods(10, R"("metrics":{"rps":108})"),
                                  R"(},{"at":15,"scale":{"specReplicas":10},"pods":)",
                                  Pods(10, R"("metrics":{"rps":85})"), "}]}")),
      ElementsAre("0: 10->11 SucceededRescale/ValidMetricFound/DesiredWithinRange | pods metric "
                  "rps above target",
                  "15: 10->10 ReadyForNewScale/ValidMetricFound/DesiredWithinRange | "
                  "ReadyForNewScale"));
}

TEST(RunScenarioTest, AStepNamingAMetricThePolicyLacksIsInvalidArgument) {
  struct Case {
    std::string json;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1},"metrics":{"rps":1}}]})",
       R"(steps[0].metrics.rps: the policy has no External metric named "rps")"},
      {R"({"steps":[{"at":0,"scale":{"specReplicas":1}},{"at":1,"pods":[{"name":"a","metrics":{"rsp":1}}]}]})",
       R"(steps[1].pods[0].metrics.rsp: the policy has no Pods metric named "rsp")"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Scenario> scenario = ParseScenario(c.json, "scenario.json");
    ASSERT_TRUE(scenario.ok()) << scenario.status();
    absl::StatusOr<std::vector<ReplayStep>> steps = RunScenario(Policy(kPodsPolicy), *scenario);
    ASSERT_FALSE(steps.ok());
    EXPECT_EQ(steps.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(steps.status().message(), c.message);
  }
}

TEST(RunScenarioTest, APodsContainerIsTheOneTheResourceMetricNames) {
  // The HPA's ContainerResource metric: the pods' one container is named "app", so its requests
  // are found.
  const ScalingPolicy policy = Policy(R"(  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, container: app, target: {type: Utilization, averageUtilization: 50}}
)");
  EXPECT_THAT(
      Replay(policy,
             absl::StrCat(R"({"steps":[{"at":0,"scale":{"specReplicas":2},"pods":)",
                          Pods(2, R"("requests":{"cpu":"500m"},"usage":{"cpu":"400m"})"), "}]}")),
      ElementsAre("0: 2->4 SucceededRescale/ValidMetricFound/DesiredWithinRange | cpu container "
                  "resource utilization (percentage of request) above target"));
  const ScalingPolicy two = Policy(R"(  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, container: app, target: {type: Utilization, averageUtilization: 50}}
  - type: Resource
    resource: {name: memory, container: sidecar, target: {type: AverageValue, averageValue: 1Gi}}
)");
  absl::StatusOr<Scenario> scenario =
      ParseScenario(R"({"steps":[{"at":0,"scale":{"specReplicas":1}}]})", "scenario.json");
  ASSERT_TRUE(scenario.ok());
  absl::StatusOr<std::vector<ReplayStep>> steps = RunScenario(two, *scenario);
  ASSERT_FALSE(steps.ok());
  EXPECT_EQ(steps.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(steps.status().message(),
            "a scenario pod has one container, but the policy's Resource metrics name several: "
            "app, sidecar");
}

TEST(RunScenarioTest, AFirstStepWithoutScaleIsInvalidArgument) {
  Scenario scenario;
  scenario.steps.emplace_back();
  absl::StatusOr<std::vector<ReplayStep>> steps = RunScenario(Policy(kPodsPolicy), scenario);
  ASSERT_FALSE(steps.ok());
  EXPECT_EQ(steps.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(steps.status().message(),
            "steps[0].scale: required in the first step (the starting size)");
}

TEST(ReplayStepToJsonTest, WritesTheContractKeysInOrder) {
  ReplayStep step;
  step.at = 30;
  step.current_replicas = 2;
  step.desired_replicas = 4;
  step.conditions = {{"ScalingLimited", "DesiredWithinRange"},
                     {"AbleToScale", "SucceededRescale"},
                     {"ScalingActive", "ValidMetricFound"}};
  step.reason = "cpu resource utilization (percentage of request) above target";
  EXPECT_EQ(ReplayStepToJson(step),
            R"({"at":30,"currentReplicas":2,"desiredReplicas":4,"conditions":{"AbleToScale":)"
            R"("SucceededRescale","ScalingActive":"ValidMetricFound","ScalingLimited":)"
            R"("DesiredWithinRange"},"reason":"cpu resource utilization (percentage of request) )"
            R"(above target"})");
}

TEST(ReplayStepToJsonTest, WritesUnsetConditionsAsEmptyAndFractionsShortest) {
  ReplayStep step;
  step.at = 1.5;
  EXPECT_EQ(ReplayStepToJson(step),
            R"({"at":1.5,"currentReplicas":0,"desiredReplicas":0,"conditions":{"AbleToScale":"",)"
            R"("ScalingActive":"","ScalingLimited":""},"reason":""})");
  step.at = 0.1;
  EXPECT_THAT(ReplayStepToJson(step), ::testing::StartsWith(R"({"at":0.1,)"));
  step.at = 0;
  EXPECT_THAT(ReplayStepToJson(step), ::testing::StartsWith(R"({"at":0,)"));
}

TEST(ReplayStepToJsonTest, EscapesStrings) {
  ReplayStep step;
  step.at = 5;
  step.conditions["AbleToScale"] = "a\"b";
  step.reason = "line\nbreak\\";
  EXPECT_EQ(ReplayStepToJson(step),
            R"({"at":5,"currentReplicas":0,"desiredReplicas":0,"conditions":{"AbleToScale":)"
            R"("a\"b","ScalingActive":"","ScalingLimited":""},"reason":"line\nbreak\\"})");
}

}  // namespace
}  // namespace sextant::autoscaler
