#include "autoscaler/policy.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"
#include "yaml-cpp/yaml.h"

namespace sextant::autoscaler {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// The example of DESIGN.md 3.5, with a behavior block and names on two metrics.
constexpr char kFullYaml[] = R"(
apiVersion: autoscaling.sextant.dev/v1alpha1
kind: ScalingPolicy
metadata:
  name: web
  namespace: shop
  labels: {team: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 20
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
  - type: Pods
    name: rps
    pods: {query: 'rate(http_requests_total{app="web"}[1m])', target: {type: AverageValue, averageValue: "100"}}
  - type: External
    name: queue
    external: {query: 'sum(queue_depth{queue="jobs"})', target: {type: Value, value: "30"}, activationThreshold: "5"}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 120
      policies: [{type: Pods, value: 1, periodSeconds: 60}]
      tolerance: 0.05
  fallback: {failureThreshold: 3, replicas: 4}
  paused: false
)";

// The same policy as the API server returns it.
constexpr char kFullJson[] = R"json({"apiVersion":"autoscaling.sextant.dev/v1alpha1",
"kind":"ScalingPolicy","metadata":{"name":"web","namespace":"shop","labels":{"team":"web"},
"uid":"u-1","resourceVersion":"42","generation":2,"creationTimestamp":"2024-01-02T03:04:05Z",
"managedFields":[{"manager":"kubectl"}]},
"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},
"minReplicas":1,"maxReplicas":20,"metrics":[
{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":70}}},
{"type":"Pods","name":"rps","pods":{"query":"rate(http_requests_total{app=\"web\"}[1m])",
 "target":{"type":"AverageValue","averageValue":"100"}}},
{"type":"External","name":"queue","external":{"query":"sum(queue_depth{queue=\"jobs\"})",
 "target":{"type":"Value","value":"30"},"activationThreshold":"5"}}],
"behavior":{"scaleDown":{"stabilizationWindowSeconds":120,
 "policies":[{"type":"Pods","value":1,"periodSeconds":60}],"tolerance":0.05}},
"fallback":{"failureThreshold":3,"replicas":4},"paused":false}})json";

// A valid policy; tests edit its spec text.
constexpr char kMinimal[] = R"(
apiVersion: autoscaling.sextant.dev/v1alpha1
kind: ScalingPolicy
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 5
  metrics:
  - type: Pods
    pods: {query: 'up', target: {type: AverageValue, averageValue: 1}}
)";

ScalingPolicy ParseOk(absl::string_view text) {
  absl::StatusOr<ScalingPolicy> p = ParseScalingPolicy(text, "test.yaml");
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : ScalingPolicy{};
}

std::string ParseError(absl::string_view text) {
  absl::StatusOr<ScalingPolicy> p = ParseScalingPolicy(text, "test.yaml");
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(p.status().message());
}

// The validation error of kMinimal with `from` replaced by `to` (the text must contain `from`).
std::string ValidateEdit(absl::string_view from, absl::string_view to) {
  std::string text(kMinimal);
  EXPECT_TRUE(absl::StrContains(text, from)) << from;
  text = absl::StrReplaceAll(text, {{from, to}});
  absl::StatusOr<ScalingPolicy> p = ParseScalingPolicy(text, "test.yaml");
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) return "";
  absl::Status s = ValidateScalingPolicy(*p);
  EXPECT_EQ(s.code(), s.ok() ? absl::StatusCode::kOk : absl::StatusCode::kInvalidArgument);
  return std::string(s.message());
}

// ------------------------------------------------------------------------------- quantities

TEST(QuantityTest, ParsesDecimalSuffixesInMilliUnits) {
  EXPECT_EQ(*ParseMilliQuantity("0"), 0);
  EXPECT_EQ(*ParseMilliQuantity("1"), 1000);
  EXPECT_EQ(*ParseMilliQuantity("250m"), 250);
  EXPECT_EQ(*ParseMilliQuantity("1.5"), 1500);
  EXPECT_EQ(*ParseMilliQuantity(".5"), 500);
  EXPECT_EQ(*ParseMilliQuantity("5."), 5000);
  EXPECT_EQ(*ParseMilliQuantity("+2"), 2000);
  EXPECT_EQ(*ParseMilliQuantity("-2"), -2000);
  EXPECT_EQ(*ParseMilliQuantity("2k"), 2000000);
  EXPECT_EQ(*ParseMilliQuantity("1M"), 1000000000);
  EXPECT_EQ(*ParseMilliQuantity("1G"), int64_t{1000000000000});
  EXPECT_EQ(*ParseMilliQuantity("1T"), int64_t{1000000000000000});
  EXPECT_EQ(*ParseMilliQuantity("1P"), int64_t{1000000000000000000});
  EXPECT_EQ(*ParseMilliQuantity("1500000u"), 1500);
  EXPECT_EQ(*ParseMilliQuantity("2000000000n"), 2000);
  EXPECT_EQ(*ParseMilliQuantity("007"), 7000);
  EXPECT_EQ(*ParseMilliQuantity("0.000"), 0);
}

TEST(QuantityTest, ParsesBinarySuffixesAndExponents) {
  EXPECT_EQ(*ParseMilliQuantity("1Ki"), 1024000);
  EXPECT_EQ(*ParseMilliQuantity("1.5Ki"), 1536000);
  EXPECT_EQ(*ParseMilliQuantity("2Mi"), int64_t{2} * 1024 * 1024 * 1000);
  EXPECT_EQ(*ParseMilliQuantity("1Gi"), (int64_t{1} << 30) * 1000);
  EXPECT_EQ(*ParseMilliQuantity("1Ti"), (int64_t{1} << 40) * 1000);
  EXPECT_EQ(*ParseMilliQuantity("1Pi"), (int64_t{1} << 50) * 1000);
  EXPECT_EQ(*ParseMilliQuantity("1e3"), 1000000);
  EXPECT_EQ(*ParseMilliQuantity("1E3"), 1000000);
  EXPECT_EQ(*ParseMilliQuantity("1e+3"), 1000000);
  EXPECT_EQ(*ParseMilliQuantity("15e-1"), 1500);
  EXPECT_EQ(*ParseMilliQuantity("1e-3"), 1);
  EXPECT_EQ(*ParseMilliQuantity("8192Ti"), (int64_t{1} << 53) * 1000);
  EXPECT_EQ(*ParseMilliQuantity("0.001E"), int64_t{1000000000000000000}) << "E alone is exa";
}

TEST(QuantityTest, RoundsFractionsOfAMilliUnitAwayFromZero) {
  EXPECT_EQ(*ParseMilliQuantity("0.0001"), 1);
  EXPECT_EQ(*ParseMilliQuantity("1n"), 1);
  EXPECT_EQ(*ParseMilliQuantity("1.0001"), 1001);
  EXPECT_EQ(*ParseMilliQuantity("100.5m"), 101);
  EXPECT_EQ(*ParseMilliQuantity("1e-10"), 1);
  EXPECT_EQ(*ParseMilliQuantity("1e-999999999999"), 1);
  EXPECT_EQ(*ParseMilliQuantity("1.2345u"), 1);
  EXPECT_EQ(*ParseMilliQuantity("1Mi"), 1048576000);
  // As Quantity.MilliValue(): away from zero for negative values too.
  EXPECT_EQ(*ParseMilliQuantity("-0.0001"), -1);
  EXPECT_EQ(*ParseMilliQuantity("-1.0001"), -1001);
  // Exact values do not round.
  EXPECT_EQ(*ParseMilliQuantity("1.500000"), 1500);
  EXPECT_EQ(*ParseMilliQuantity("1000000n"), 1);
}

TEST(QuantityTest, AcceptsTheInt64MilliRangeAndRejectsBeyondIt) {
  EXPECT_EQ(*ParseMilliQuantity("9223372036854775807m"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(*ParseMilliQuantity("-9223372036854775808m"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(*ParseMilliQuantity("9223372036854775.807"), std::numeric_limits<int64_t>::max());
  for (const char* text :
       {"9223372036854775808m", "-9223372036854775809m", "9223372036854776", "1e16", "1Ei", "1E",
        "10E", "1e1000000000000", "99999999999999999999999", "9223372036854775.8071"}) {
    absl::StatusOr<int64_t> q = ParseMilliQuantity(text);
    EXPECT_FALSE(q.ok()) << text << " = " << q.value_or(0);
    EXPECT_THAT(q.status().message(), HasSubstr("out of range")) << text;
  }
  EXPECT_EQ(*ParseMilliQuantity("0.000000000000000000000000000000000000001e40"), 10000);
  EXPECT_EQ(*ParseMilliQuantity("0e1000000000000"), 0);
}

TEST(QuantityTest, RejectsTextThatIsNotAQuantity) {
  for (const char* text : {"",      "+",    "-",   ".",     "m",    "abc",  "10x",  "1 ",  " 1",
                           "1.2.3", "1e",   "1e+", "1e1.5", "1Ki5", "1ki",  "1KiB", "1mm", "--1",
                           "1,5",   "0x10", "1K",  "inf",   "NaN",  "1e3m", "１"}) {
    absl::StatusOr<int64_t> q = ParseMilliQuantity(text);
    EXPECT_FALSE(q.ok()) << "\"" << text << "\" = " << q.value_or(0);
    EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(q.status().message(), HasSubstr("not a quantity")) << text;
  }
  EXPECT_EQ(ParseMilliQuantity("10x").status().message(), "not a quantity: \"10x\"");
}

TEST(QuantityTest, FormatsCanonicalText) {
  EXPECT_EQ(FormatMilliQuantity(250), "250m");
  EXPECT_EQ(FormatMilliQuantity(3000), "3");
  EXPECT_EQ(FormatMilliQuantity(1500), "1500m");
  EXPECT_EQ(FormatMilliQuantity(-2000), "-2");
  EXPECT_EQ(FormatMilliQuantity(-1), "-1m");
  EXPECT_EQ(FormatMilliQuantity(0), "0");
  for (int64_t v : {int64_t{0}, int64_t{1}, int64_t{-999}, int64_t{123456789},
                    std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()}) {
    EXPECT_EQ(*ParseMilliQuantity(FormatMilliQuantity(v)), v) << v;
  }
}

TEST(QuantityTest, MilliFromDoubleRoundsNearOrUp) {
  EXPECT_EQ(*MilliFromDouble(0), 0);
  EXPECT_EQ(*MilliFromDouble(0.25), 250);
  EXPECT_EQ(*MilliFromDouble(1.5), 1500);
  EXPECT_EQ(*MilliFromDouble(0.1 + 0.2), 300) << "0.30000000000000004 is within 1e-9 of 0.3";
  EXPECT_EQ(*MilliFromDouble(0.29), 290);
  EXPECT_EQ(*MilliFromDouble(123456789.123), 123456789123);
  EXPECT_EQ(*MilliFromDouble(0.0001), 1);
  EXPECT_EQ(*MilliFromDouble(1.0004), 1001);
  EXPECT_EQ(*MilliFromDouble(-1.0004), -1001);
  EXPECT_EQ(*MilliFromDouble(-2), -2000);
  EXPECT_EQ(*MilliFromDouble(1e15), int64_t{1000000000000000000});
  for (double bad :
       {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
        -std::numeric_limits<double>::infinity(), 1e16, -1e17, 1e300}) {
    absl::StatusOr<int64_t> m = MilliFromDouble(bad);
    EXPECT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

// ---------------------------------------------------------------------------------- parsing

void ExpectFullPolicy(const ScalingPolicy& p) {
  EXPECT_EQ(p.metadata.name, "web");
  EXPECT_EQ(p.metadata.namespace_name, "shop");
  EXPECT_EQ(p.metadata.labels.at("team"), "web");
  EXPECT_EQ(PolicyKey(p), "shop/web");
  const ScalingPolicySpec& s = p.spec;
  EXPECT_EQ(s.target.api_version, "apps/v1");
  EXPECT_EQ(s.target.kind, "Deployment");
  EXPECT_EQ(s.target.name, "web");
  EXPECT_EQ(s.target.namespace_name, "shop");
  EXPECT_EQ(s.min_replicas, 1);
  EXPECT_EQ(s.max_replicas, 20);
  ASSERT_EQ(s.metrics.size(), 3u);

  EXPECT_EQ(s.metrics[0].type, MetricSpec::Type::kResource);
  EXPECT_EQ(s.metrics[0].name, "m0");
  EXPECT_EQ(s.metrics[0].resource, "cpu");
  EXPECT_EQ(s.metrics[0].container, "");
  EXPECT_EQ(s.metrics[0].target.type, MetricTarget::Type::kUtilization);
  EXPECT_EQ(s.metrics[0].target.average_utilization, 70);
  EXPECT_FALSE(s.metrics[0].target.average_value_milli.has_value());

  EXPECT_EQ(s.metrics[1].type, MetricSpec::Type::kPods);
  EXPECT_EQ(s.metrics[1].name, "rps");
  EXPECT_EQ(s.metrics[1].query, R"(rate(http_requests_total{app="web"}[1m]))");
  EXPECT_EQ(s.metrics[1].target.type, MetricTarget::Type::kAverageValue);
  EXPECT_EQ(s.metrics[1].target.average_value_milli, 100000);

  EXPECT_EQ(s.metrics[2].type, MetricSpec::Type::kExternal);
  EXPECT_EQ(s.metrics[2].name, "queue");
  EXPECT_EQ(s.metrics[2].query, R"(sum(queue_depth{queue="jobs"}))");
  EXPECT_EQ(s.metrics[2].target.type, MetricTarget::Type::kValue);
  EXPECT_EQ(s.metrics[2].target.value_milli, 30000);
  EXPECT_EQ(s.metrics[2].activation_threshold_milli, 5000);

  ASSERT_TRUE(s.behavior.has_value());
  // scaleUp is absent: all of the defaults.
  EXPECT_EQ(s.behavior->scale_up.stabilization_window_seconds, 0);
  EXPECT_EQ(s.behavior->scale_up.select_policy, ScalingRules::Select::kMax);
  ASSERT_EQ(s.behavior->scale_up.policies.size(), 2u);
  EXPECT_FALSE(s.behavior->scale_up.tolerance.has_value());
  // scaleDown: given fields, the rest defaulted.
  EXPECT_EQ(s.behavior->scale_down.stabilization_window_seconds, 120);
  EXPECT_EQ(s.behavior->scale_down.select_policy, ScalingRules::Select::kMax);
  ASSERT_EQ(s.behavior->scale_down.policies.size(), 1u);
  EXPECT_EQ(s.behavior->scale_down.policies[0].type, ScalingRulePolicy::Type::kPods);
  EXPECT_EQ(s.behavior->scale_down.policies[0].value, 1);
  EXPECT_EQ(s.behavior->scale_down.policies[0].period_seconds, 60);
  ASSERT_TRUE(s.behavior->scale_down.tolerance.has_value());
  EXPECT_DOUBLE_EQ(*s.behavior->scale_down.tolerance, 0.05);

  ASSERT_TRUE(s.fallback.has_value());
  EXPECT_EQ(s.fallback->failure_threshold, 3);
  EXPECT_EQ(s.fallback->replicas, 4);
  EXPECT_FALSE(s.paused);
  EXPECT_TRUE(ValidateScalingPolicy(p).ok()) << ValidateScalingPolicy(p);
}

TEST(ParseScalingPolicyTest, ParsesTheDesignExampleFromYaml) {
  ExpectFullPolicy(ParseOk(kFullYaml));
}

TEST(ParseScalingPolicyTest, ParsesTheSamePolicyFromTheApiServersJson) {
  ScalingPolicy p = ParseOk(kFullJson);
  ExpectFullPolicy(p);
  EXPECT_EQ(p.metadata.uid, "u-1");
  EXPECT_EQ(p.metadata.resource_version, "42");
  EXPECT_EQ(p.metadata.generation, 2);
  EXPECT_EQ(p.metadata.creation_timestamp, absl::FromUnixSeconds(1704164645));
}

TEST(ParseScalingPolicyTest, FillsTheHpaDefaults) {
  ScalingPolicy p = ParseOk(R"(
apiVersion: autoscaling.sextant.dev/v1alpha1
kind: ScalingPolicy
metadata: {name: api}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 5
  metrics:
  - {type: Pods, pods: {query: up, target: {type: AverageValue, averageValue: 1}}}
  - {type: Pods, name: second, pods: {query: up, target: {type: AverageValue, averageValue: 2}}}
  - {type: Pods, pods: {query: up, target: {type: AverageValue, averageValue: 0.5}}}
)");
  EXPECT_EQ(p.metadata.namespace_name, "default");
  EXPECT_EQ(p.spec.target.namespace_name, "default");
  EXPECT_EQ(p.spec.min_replicas, 1);
  EXPECT_FALSE(p.spec.behavior.has_value());
  EXPECT_FALSE(p.spec.fallback.has_value());
  EXPECT_FALSE(p.spec.paused);
  ASSERT_EQ(p.spec.metrics.size(), 3u);
  EXPECT_EQ(p.spec.metrics[0].name, "m0");
  EXPECT_EQ(p.spec.metrics[1].name, "second");
  EXPECT_EQ(p.spec.metrics[2].name, "m2");
  EXPECT_EQ(p.spec.metrics[0].target.average_value_milli, 1000);
  EXPECT_EQ(p.spec.metrics[2].target.average_value_milli, 500);
  EXPECT_TRUE(ValidateScalingPolicy(p).ok());
}

TEST(ParseScalingPolicyTest, DefaultRulesAreTheApiServers) {
  ScalingRules up = DefaultScaleUpRules();
  EXPECT_EQ(up.stabilization_window_seconds, 0);
  EXPECT_EQ(up.select_policy, ScalingRules::Select::kMax);
  ASSERT_EQ(up.policies.size(), 2u);
  EXPECT_EQ(up.policies[0].type, ScalingRulePolicy::Type::kPods);
  EXPECT_EQ(up.policies[0].value, 4);
  EXPECT_EQ(up.policies[0].period_seconds, 15);
  EXPECT_EQ(up.policies[1].type, ScalingRulePolicy::Type::kPercent);
  EXPECT_EQ(up.policies[1].value, 100);
  EXPECT_EQ(up.policies[1].period_seconds, 15);
  EXPECT_FALSE(up.tolerance.has_value());

  ScalingRules down = DefaultScaleDownRules();
  EXPECT_FALSE(down.stabilization_window_seconds.has_value());
  EXPECT_EQ(down.select_policy, ScalingRules::Select::kMax);
  ASSERT_EQ(down.policies.size(), 1u);
  EXPECT_EQ(down.policies[0].type, ScalingRulePolicy::Type::kPercent);
  EXPECT_EQ(down.policies[0].value, 100);
  EXPECT_EQ(down.policies[0].period_seconds, 15);
  EXPECT_FALSE(down.tolerance.has_value());
}

TEST(ParseScalingPolicyTest, FillsMissingBehaviorFieldsFromTheDefaults) {
  std::string text = absl::StrCat(kMinimal, R"(  behavior:
    scaleUp: {selectPolicy: Disabled, tolerance: 50m}
    scaleDown: {stabilizationWindowSeconds: 60, selectPolicy: Min}
)");
  ScalingPolicy p = ParseOk(text);
  ASSERT_TRUE(p.spec.behavior.has_value());
  const ScalingRules& up = p.spec.behavior->scale_up;
  EXPECT_EQ(up.select_policy, ScalingRules::Select::kDisabled);
  EXPECT_EQ(up.stabilization_window_seconds, 0);
  EXPECT_EQ(up.policies.size(), 2u);
  EXPECT_DOUBLE_EQ(up.tolerance.value_or(-1), 0.05);
  const ScalingRules& down = p.spec.behavior->scale_down;
  EXPECT_EQ(down.select_policy, ScalingRules::Select::kMin);
  EXPECT_EQ(down.stabilization_window_seconds, 60);
  ASSERT_EQ(down.policies.size(), 1u);
  EXPECT_EQ(down.policies[0].type, ScalingRulePolicy::Type::kPercent);

  // An empty behavior block: both halves defaulted; scaleDown keeps the controller's window.
  ScalingPolicy q = ParseOk(absl::StrCat(kMinimal, "  behavior: {}\n"));
  ASSERT_TRUE(q.spec.behavior.has_value());
  EXPECT_EQ(q.spec.behavior->scale_up.policies.size(), 2u);
  EXPECT_EQ(q.spec.behavior->scale_up.stabilization_window_seconds, 0);
  EXPECT_FALSE(q.spec.behavior->scale_down.stabilization_window_seconds.has_value());
  EXPECT_EQ(q.spec.behavior->scale_down.policies.size(), 1u);
}

TEST(ParseScalingPolicyTest, AnEmptyPolicyListIsKeptAndRejectedByValidation) {
  ScalingPolicy p = ParseOk(absl::StrCat(kMinimal, "  behavior: {scaleUp: {policies: []}}\n"));
  ASSERT_TRUE(p.spec.behavior.has_value());
  EXPECT_TRUE(p.spec.behavior->scale_up.policies.empty());
  EXPECT_THAT(ValidateScalingPolicy(p).message(),
              HasSubstr("spec.behavior.scaleUp.policies: must have at least one policy"));
}

TEST(ParseScalingPolicyTest, ReadsContainerResourceAndPaused) {
  ScalingPolicy p = ParseOk(absl::StrReplaceAll(
      kMinimal, {{"  - type: Pods\n    pods: {query: 'up', target: {type: AverageValue, "
                  "averageValue: 1}}\n",
                  "  - type: Resource\n    resource: {name: memory, container: app, target: "
                  "{type: AverageValue, averageValue: 512Mi}}\n  paused: true\n"}}));
  ASSERT_EQ(p.spec.metrics.size(), 1u);
  EXPECT_EQ(p.spec.metrics[0].resource, "memory");
  EXPECT_EQ(p.spec.metrics[0].container, "app");
  EXPECT_EQ(p.spec.metrics[0].target.average_value_milli, int64_t{512} * 1024 * 1024 * 1000);
  EXPECT_TRUE(p.spec.paused);
  EXPECT_TRUE(ValidateScalingPolicy(p).ok()) << ValidateScalingPolicy(p);
}

TEST(ParseScalingPolicyTest, NamesTheFieldOfABadQuantity) {
  std::string text =
      absl::StrReplaceAll(kFullYaml, {{"averageValue: \"100\"", "averageValue: 10x"}});
  EXPECT_EQ(ParseError(text),
            "test.yaml: spec.metrics[1].pods.target.averageValue: not a quantity: \"10x\"");
}

TEST(ParseScalingPolicyTest, RejectsUnknownKeysWithTheirPath) {
  EXPECT_THAT(ParseError(absl::StrCat(kMinimal, "  maxReplica: 3\n")),
              AllOf(HasSubstr("test.yaml: spec.maxReplica: unknown key"),
                    HasSubstr("did you mean \"maxReplicas\"")));
  EXPECT_THAT(
      ParseError(absl::StrReplaceAll(kMinimal, {{"query: 'up',", "query: 'up', qurey: x,"}})),
      HasSubstr("spec.metrics[0].pods.qurey: unknown key"));
  EXPECT_THAT(
      ParseError(absl::StrReplaceAll(kMinimal, {{"averageValue: 1}", "averageValue: 1, foo: 2}"}})),
      HasSubstr("spec.metrics[0].pods.target.foo: unknown key"));
  EXPECT_THAT(ParseError(absl::StrCat(kMinimal,
                                      "  behavior: {scaleUp: {policies: [{type: Pods, "
                                      "value: 1, periodSeconds: 1, x: 1}]}}\n")),
              HasSubstr("spec.behavior.scaleUp.policies[0].x: unknown key"));
  EXPECT_THAT(ParseError(absl::StrCat(kMinimal, "  behavior: {scaleSideways: {}}\n")),
              HasSubstr("spec.behavior.scaleSideways: unknown key"));
  EXPECT_THAT(ParseError(absl::StrCat(kMinimal, "  fallback: {replicas: 2, after: 3}\n")),
              HasSubstr("spec.fallback.after: unknown key"));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(kMinimal, {{"name: api}", "name: api, extra: 1}"}})),
              HasSubstr("spec.scaleTargetRef.extra: unknown key"));
  EXPECT_THAT(ParseError(absl::StrCat(kMinimal, "sepc: {}\n")),
              HasSubstr("test.yaml: sepc: unknown key"));
  // Two errors in one document are both reported.
  EXPECT_THAT(
      ParseError(absl::StrCat(kMinimal, "  a: 1\n  b: 2\n")),
      AllOf(HasSubstr("spec.a: unknown key"), HasSubstr("; test.yaml: spec.b: unknown key")));
}

TEST(ParseScalingPolicyTest, IgnoresMetadataAndStatusFieldsItDoesNotRead) {
  ScalingPolicy p = ParseOk(absl::StrReplaceAll(
      kMinimal, {{"metadata: {name: api}",
                  "metadata: {name: api, finalizers: [x], managedFields: [{a: b}]}\nstatus: "
                  "{currentReplicas: 2, futureField: 1}"}}));
  EXPECT_EQ(p.status.current_replicas, 2);
}

TEST(ParseScalingPolicyTest, RejectsWrongTypesAndShapes) {
  EXPECT_THAT(ParseError(absl::StrReplaceAll(kMinimal, {{"maxReplicas: 5", "maxReplicas: five"}})),
              HasSubstr("spec.maxReplicas: want an integer, got \"five\""));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(kMinimal, {{"maxReplicas: 5", "maxReplicas: \"5\""}})),
              HasSubstr("spec.maxReplicas: want an integer"));
  EXPECT_THAT(
      ParseError(absl::StrReplaceAll(kMinimal, {{"maxReplicas: 5", "maxReplicas: 5000000000"}})),
      HasSubstr("spec.maxReplicas: want an integer in"));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(kMinimal, {{"maxReplicas: 5", "maxReplicas: [5]"}})),
              HasSubstr("spec.maxReplicas: want an integer"));
  EXPECT_THAT(ParseError(absl::StrCat(kMinimal, "  paused: maybe\n")),
              HasSubstr("spec.paused: want true or false"));
  EXPECT_THAT(
      ParseError(absl::StrReplaceAll(kMinimal, {{"type: Pods", "type: Object"}})),
      HasSubstr("spec.metrics[0].type: want one of Resource, Pods, External, got \"Object\""));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(kMinimal, {{"type: AverageValue", "type: Average"}})),
              HasSubstr("spec.metrics[0].pods.target.type: want one of"));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(
                  kMinimal, {{"type: Pods\n    pods", "type: External\n    pods"}})),
              AllOf(HasSubstr("spec.metrics[0].external: required for type External"),
                    HasSubstr("spec.metrics[0].pods: not allowed with type External")));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(kMinimal, {{"  - type: Pods\n", "  - name: x\n"}})),
              HasSubstr("spec.metrics[0].type: required"));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(
                  kMinimal, {{", target: {type: AverageValue, averageValue: 1}", ""}})),
              HasSubstr("spec.metrics[0].pods.target: required"));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(kMinimal, {{"  maxReplicas: 5\n", ""}})),
              HasSubstr("spec.maxReplicas: required"));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(
                  kMinimal, {{"  metrics:\n  - type: Pods\n    pods: {query: 'up', target: {type: "
                              "AverageValue, averageValue: 1}}\n",
                              "  metrics: {}\n"}})),
              HasSubstr("spec.metrics: want a list"));
  EXPECT_THAT(ParseError(absl::StrCat(kMinimal, "  fallback: {failureThreshold: 2}\n")),
              HasSubstr("spec.fallback.replicas: required"));
  EXPECT_THAT(
      ParseError(absl::StrCat(kMinimal, "  behavior: {scaleUp: {selectPolicy: Average}}\n")),
      HasSubstr("spec.behavior.scaleUp.selectPolicy: want one of Max, Min, Disabled"));
  EXPECT_THAT(ParseError(absl::StrCat(kMinimal, "  behavior: {scaleUp: {tolerance: lots}}\n")),
              HasSubstr("spec.behavior.scaleUp.tolerance: not a quantity"));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(
                  kMinimal, {{"metadata: {name: api}",
                              "metadata: {name: api, creationTimestamp: yesterday}"}})),
              HasSubstr("metadata.creationTimestamp: bad RFC 3339 time"));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(
                  kMinimal, {{"metadata: {name: api}", "metadata: {name: api, labels: [a]}"}})),
              HasSubstr("metadata.labels: want a mapping"));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(
                  kMinimal, {{"  maxReplicas: 5\n", "  maxReplicas: 5\n  maxReplicas: 6\n"}})),
              HasSubstr("spec.maxReplicas: duplicate key"));
}

TEST(ParseScalingPolicyTest, ChecksApiVersionKindAndSpec) {
  EXPECT_THAT(ParseError(absl::StrReplaceAll(
                  kMinimal, {{"kind: ScalingPolicy", "kind: HorizontalPodAutoscaler"}})),
              HasSubstr("test.yaml: kind: want ScalingPolicy, got \"HorizontalPodAutoscaler\""));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(kMinimal, {{"/v1alpha1", "/v2"}})),
              HasSubstr("apiVersion: want autoscaling.sextant.dev/v1alpha1"));
  EXPECT_THAT(ParseError(absl::StrReplaceAll(kMinimal, {{"kind: ScalingPolicy\n", ""}})),
              HasSubstr("kind: required"));
  EXPECT_THAT(ParseError("apiVersion: autoscaling.sextant.dev/v1alpha1\nkind: ScalingPolicy\n"),
              HasSubstr("spec: required"));
  EXPECT_THAT(ParseError("just text"), HasSubstr("want a mapping"));
  EXPECT_THAT(ParseError(""), HasSubstr("want one ScalingPolicy document, got 0"));
  EXPECT_THAT(ParseError(absl::StrCat(kMinimal, "---", kMinimal)),
              HasSubstr("want one ScalingPolicy document, got 2"));
  EXPECT_THAT(ParseError("a: [1, 2"), HasSubstr("test.yaml:"));
  EXPECT_THAT(ParseError(std::string(100, '[')), HasSubstr("nested deeper than 64 levels"));
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "- ";
  EXPECT_FALSE(ParseScalingPolicy(deep, "deep.yaml").ok());
}

// ------------------------------------------------------------------------------- validation

TEST(ValidateScalingPolicyTest, AcceptsTheMinimalPolicy) {
  EXPECT_TRUE(ValidateScalingPolicy(ParseOk(kMinimal)).ok());
}

TEST(ValidateScalingPolicyTest, ChecksReplicaBounds) {
  EXPECT_THAT(ValidateEdit("maxReplicas: 5", "maxReplicas: 0"),
              HasSubstr("spec.maxReplicas: must be at least 1, got 0"));
  EXPECT_THAT(ValidateEdit("maxReplicas: 5", "maxReplicas: 2\n  minReplicas: 3"),
              HasSubstr("spec.maxReplicas: must be at least minReplicas (3), got 2"));
  EXPECT_THAT(ValidateEdit("maxReplicas: 5", "maxReplicas: 5\n  minReplicas: -1"),
              HasSubstr("spec.minReplicas: must be at least 0, got -1"));
}

TEST(ValidateScalingPolicyTest, RequiresTheScaleTargetRef) {
  EXPECT_EQ(ValidateEdit("scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}",
                         "scaleTargetRef: {}"),
            "spec.scaleTargetRef.apiVersion: required; spec.scaleTargetRef.kind: required; "
            "spec.scaleTargetRef.name: required");
}

TEST(ValidateScalingPolicyTest, DefaultsTheApiVersionOfTheAppsKindsOnly) {
  for (const char* kind : {"Deployment", "StatefulSet", "ReplicaSet"}) {
    ScalingPolicy p = ParseOk(absl::StrReplaceAll(
        kMinimal, {{"apiVersion: apps/v1, kind: Deployment", absl::StrCat("kind: ", kind)}}));
    EXPECT_EQ(p.spec.target.api_version, "apps/v1") << kind;
    EXPECT_TRUE(ValidateScalingPolicy(p).ok()) << kind;
  }
  EXPECT_EQ(ValidateEdit("apiVersion: apps/v1, kind: Deployment", "kind: Rollout"),
            "spec.scaleTargetRef.apiVersion: required for kind Rollout");
  // A given apiVersion is kept.
  EXPECT_EQ(
      ParseOk(absl::StrReplaceAll(kMinimal, {{"apps/v1", "apps/v2"}})).spec.target.api_version,
      "apps/v2");
}

TEST(ValidateScalingPolicyTest, DoesNotRequireMetadata) {
  EXPECT_EQ(ValidateEdit("metadata: {name: api}", "metadata: {namespace: x}"), "");
  ScalingPolicy p = ParseOk(absl::StrReplaceAll(kMinimal, {{"metadata: {name: api}\n", ""}}));
  EXPECT_EQ(p.metadata.name, "");
  EXPECT_EQ(p.metadata.namespace_name, "default");
  EXPECT_EQ(p.spec.target.namespace_name, "default");
  EXPECT_TRUE(ValidateScalingPolicy(p).ok());
}

TEST(ParseScalingPolicyTest, NoOrEmptyMetricsDefaultToCpuUtilization80) {
  const std::string metrics =
      "  metrics:\n  - type: Pods\n    pods: {query: 'up', target: {type: AverageValue, "
      "averageValue: 1}}\n";
  for (const char* replacement : {"", "  metrics: []\n", "  metrics: null\n"}) {
    ScalingPolicy p = ParseOk(absl::StrReplaceAll(kMinimal, {{metrics, replacement}}));
    ASSERT_EQ(p.spec.metrics.size(), 1u) << replacement;
    const MetricSpec& m = p.spec.metrics[0];
    EXPECT_EQ(m.name, "m0");
    EXPECT_EQ(m.type, MetricSpec::Type::kResource);
    EXPECT_EQ(m.resource, "cpu");
    EXPECT_EQ(m.container, "");
    EXPECT_EQ(m.target.type, MetricTarget::Type::kUtilization);
    EXPECT_EQ(m.target.average_utilization, 80);
    EXPECT_FALSE(m.target.average_value_milli.has_value());
    EXPECT_TRUE(ValidateScalingPolicy(p).ok()) << replacement;
  }
}

TEST(ValidateScalingPolicyTest, RequiresAtLeastOneMetricInABuiltSpec) {
  ScalingPolicy p = ParseOk(kMinimal);
  p.spec.metrics.clear();
  EXPECT_EQ(ValidateScalingPolicy(p).message(), "spec.metrics: must have at least one metric");
}

TEST(ValidateScalingPolicyTest, ChecksMetricNames) {
  EXPECT_THAT(ValidateEdit("  - type: Pods\n", "  - type: Pods\n    name: \"\"\n"),
              HasSubstr("spec.metrics[0].name: \"\" is not a valid name (1 to 253 bytes, no "
                        "control characters)"));
  EXPECT_THAT(ValidateEdit("  - type: Pods\n", "  - type: Pods\n    name: \"a\\tb\"\n"),
              HasSubstr("spec.metrics[0].name: \"a\\tb\" is not a valid name"));
  EXPECT_THAT(ValidateEdit("  - type: Pods\n", "  - type: Pods\n    name: \"a\\x7fz\"\n"),
              HasSubstr("spec.metrics[0].name: \"a\\x7fz\" is not a valid name"));
  EXPECT_THAT(ValidateEdit("  - type: Pods\n",
                           absl::StrCat("  - type: Pods\n    name: ", std::string(254, 'x'), "\n")),
              HasSubstr("is not a valid name"));
  // m1 is the default name of the second metric.
  EXPECT_THAT(ValidateEdit("  - type: Pods\n",
                           "  - type: Pods\n    name: m1\n    pods: {query: up, target: {type: "
                           "AverageValue, averageValue: 1}}\n  - type: Pods\n"),
              HasSubstr("spec.metrics[1].name: \"m1\" is also the name of spec.metrics[0]"));
  for (const std::string& name :
       {std::string("_Ok_9"), std::string("1abc"), std::string("a-b"), std::string("'a b.c/d'"),
        std::string("\"h\\u00e9\""), std::string(253, 'x')}) {
    EXPECT_EQ(
        ValidateEdit("  - type: Pods\n", absl::StrCat("  - type: Pods\n    name: ", name, "\n")),
        "")
        << name;
  }
}

TEST(ValidateScalingPolicyTest, ChecksQueriesAsPromQL) {
  EXPECT_THAT(ValidateEdit("query: 'up'", "query: 'rate(up[1m]'"),
              AllOf(HasSubstr("spec.metrics[0].pods.query: "), HasSubstr("parse error")));
  EXPECT_THAT(ValidateEdit("query: 'up'", "query: 'up[5m]'"),
              HasSubstr("spec.metrics[0].pods.query: must return an instant vector or a scalar, "
                        "not range vector"));
  EXPECT_THAT(ValidateEdit("query: 'up'", "query: ''"),
              HasSubstr("spec.metrics[0].pods.query: required"));
  EXPECT_TRUE(ValidateEdit("query: 'up'", "query: 'scalar(up)'").empty());
}

TEST(ValidateScalingPolicyTest, ChecksTargetTypesPerMetricType) {
  EXPECT_THAT(ValidateEdit("{type: AverageValue, averageValue: 1}",
                           "{type: Utilization, averageUtilization: 50}"),
              HasSubstr("spec.metrics[0].pods.target.type: Utilization is not allowed for Pods "
                        "metrics (want AverageValue)"));
  EXPECT_THAT(ValidateEdit("{type: AverageValue, averageValue: 1}", "{type: Value, value: 1}"),
              HasSubstr("Value is not allowed for Pods metrics"));
  const std::string resource_value = ValidateEdit(
      "type: Pods\n    pods: {query: 'up', target: {type: AverageValue, averageValue: 1}}",
      "type: Resource\n    resource: {name: cpu, target: {type: Value, value: 1}}");
  EXPECT_THAT(resource_value, HasSubstr("spec.metrics[0].resource.target.type: Value is not "
                                        "allowed for Resource metrics (want Utilization or "
                                        "AverageValue)"));
  EXPECT_THAT(
      ValidateEdit(
          "type: Pods\n    pods: {query: 'up', target: {type: AverageValue, averageValue: 1}}",
          "type: External\n    external: {query: 'up', target: {type: Utilization, "
          "averageUtilization: 1}}"),
      HasSubstr("Utilization is not allowed for External metrics (want Value or AverageValue)"));
  EXPECT_TRUE(
      ValidateEdit(
          "type: Pods\n    pods: {query: 'up', target: {type: AverageValue, averageValue: 1}}",
          "type: External\n    external: {query: 'up', target: {type: AverageValue, averageValue: "
          "1}}")
          .empty());
}

TEST(ValidateScalingPolicyTest, ChecksResourceNames) {
  EXPECT_THAT(
      ValidateEdit(
          "type: Pods\n    pods: {query: 'up', target: {type: AverageValue, averageValue: 1}}",
          "type: Resource\n    resource: {name: gpu, target: {type: Utilization, "
          "averageUtilization: 50}}"),
      HasSubstr("spec.metrics[0].resource.name: want cpu or memory, got \"gpu\""));
}

TEST(ValidateScalingPolicyTest, RequiresPositiveTargetValuesOfTheTargetsType) {
  EXPECT_THAT(ValidateEdit("averageValue: 1}", "averageValue: 0}"),
              HasSubstr("spec.metrics[0].pods.target.averageValue: must be greater than 0, got 0"));
  EXPECT_THAT(ValidateEdit("averageValue: 1}", "averageValue: -1m}"),
              HasSubstr("must be greater than 0, got -1m"));
  // The field of the target's own type is still required when another one is given.
  EXPECT_EQ(ValidateEdit("averageValue: 1}", "value: 1}"),
            "spec.metrics[0].pods.target.averageValue: required for target type AverageValue");
  EXPECT_THAT(
      ValidateEdit(
          "type: Pods\n    pods: {query: 'up', target: {type: AverageValue, averageValue: 1}}",
          "type: Resource\n    resource: {name: cpu, target: {type: Utilization, "
          "averageUtilization: 0}}"),
      HasSubstr(
          "spec.metrics[0].resource.target.averageUtilization: must be greater than 0, got 0"));
  EXPECT_THAT(
      ValidateEdit(
          "type: Pods\n    pods: {query: 'up', target: {type: AverageValue, averageValue: 1}}",
          "type: External\n    external: {query: 'up', target: {type: Value, value: 0}}"),
      HasSubstr("spec.metrics[0].external.target.value: must be greater than 0, got 0"));
  EXPECT_THAT(
      ValidateEdit(
          "type: Pods\n    pods: {query: 'up', target: {type: AverageValue, averageValue: 1}}",
          "type: External\n    external: {query: 'up', target: {type: Value, value: 1}, "
          "activationThreshold: -1}"),
      HasSubstr("spec.metrics[0].external.activationThreshold: must not be negative, got -1"));
}

TEST(ValidateScalingPolicyTest, AcceptsAndDropsATargetFieldOfAnotherType) {
  ScalingPolicy p = ParseOk(absl::StrReplaceAll(
      kMinimal, {{"averageValue: 1}", "averageValue: 1, value: 5, averageUtilization: 7}"}}));
  EXPECT_TRUE(ValidateScalingPolicy(p).ok());
  const MetricTarget& t = p.spec.metrics[0].target;
  EXPECT_EQ(t.average_value_milli, 1000);
  EXPECT_FALSE(t.value_milli.has_value());
  EXPECT_FALSE(t.average_utilization.has_value());
  // External Value with an averageValue as well: the value counts.
  p = ParseOk(absl::StrReplaceAll(
      kMinimal,
      {{"type: Pods\n    pods: {query: 'up', target: {type: AverageValue, averageValue: 1}}",
        "type: External\n    external: {query: 'up', target: {type: Value, value: 30, "
        "averageValue: 2}}"}}));
  EXPECT_TRUE(ValidateScalingPolicy(p).ok());
  EXPECT_EQ(p.spec.metrics[0].target.value_milli, 30000);
  EXPECT_FALSE(p.spec.metrics[0].target.average_value_milli.has_value());
}

TEST(ValidateScalingPolicyTest, ScaleToZeroNeedsAnExternalMetric) {
  EXPECT_THAT(ValidateEdit("maxReplicas: 5", "maxReplicas: 5\n  minReplicas: 0"),
              HasSubstr("spec.minReplicas: 0 (scale to zero) needs at least one External metric"));
  EXPECT_TRUE(ValidateEdit("maxReplicas: 5\n  metrics:\n",
                           "maxReplicas: 5\n  minReplicas: 0\n  metrics:\n  - type: External\n    "
                           "external: {query: 'sum(up)', target: {type: Value, value: 1}}\n")
                  .empty());
}

TEST(ValidateScalingPolicyTest, ChecksBehaviorRanges) {
  const std::string msg = ValidateEdit(
      "maxReplicas: 5",
      "maxReplicas: 5\n  behavior:\n    scaleUp: {stabilizationWindowSeconds: 3601, policies: "
      "[{type: Pods, value: 0, periodSeconds: 0}, {type: Percent, value: 10, periodSeconds: "
      "1801}]}\n    scaleDown: {stabilizationWindowSeconds: -1, tolerance: -0.1}");
  EXPECT_THAT(
      msg, HasSubstr(
               "spec.behavior.scaleUp.stabilizationWindowSeconds: must be in [0, 3600], got 3601"));
  EXPECT_THAT(msg,
              HasSubstr("spec.behavior.scaleUp.policies[0].value: must be greater than 0, got 0"));
  EXPECT_THAT(
      msg,
      HasSubstr("spec.behavior.scaleUp.policies[0].periodSeconds: must be in [1, 1800], got 0"));
  EXPECT_THAT(
      msg,
      HasSubstr("spec.behavior.scaleUp.policies[1].periodSeconds: must be in [1, 1800], got 1801"));
  EXPECT_THAT(
      msg, HasSubstr(
               "spec.behavior.scaleDown.stabilizationWindowSeconds: must be in [0, 3600], got -1"));
  EXPECT_THAT(msg, HasSubstr("spec.behavior.scaleDown.tolerance: must not be negative"));
  EXPECT_THAT(msg, Not(HasSubstr("policies[1].value")));
}

TEST(ValidateScalingPolicyTest, ChecksFallback) {
  EXPECT_THAT(
      ValidateEdit("maxReplicas: 5", "maxReplicas: 5\n  fallback: {replicas: 6}"),
      HasSubstr("spec.fallback.replicas: must be in [minReplicas, maxReplicas] = [1, 5], got 6"));
  EXPECT_THAT(
      ValidateEdit("maxReplicas: 5", "maxReplicas: 5\n  fallback: {replicas: 0}"),
      HasSubstr("spec.fallback.replicas: must be in [minReplicas, maxReplicas] = [1, 5], got 0"));
  EXPECT_THAT(ValidateEdit("maxReplicas: 5",
                           "maxReplicas: 5\n  fallback: {replicas: 2, failureThreshold: 0}"),
              HasSubstr("spec.fallback.failureThreshold: must be at least 1, got 0"));
  ScalingPolicy p = ParseOk(absl::StrReplaceAll(
      kMinimal, {{"maxReplicas: 5", "maxReplicas: 5\n  fallback: {replicas: 5}"}}));
  ASSERT_TRUE(p.spec.fallback.has_value());
  EXPECT_EQ(p.spec.fallback->failure_threshold, 3);
  EXPECT_TRUE(ValidateScalingPolicy(p).ok());
}

TEST(ValidateScalingPolicyTest, ReportsEveryProblemSeparatedBySemicolons) {
  const std::string msg =
      ValidateEdit("maxReplicas: 5", "maxReplicas: 0\n  fallback: {replicas: 3}");
  EXPECT_EQ(msg,
            "spec.maxReplicas: must be at least 1, got 0; spec.fallback.replicas: must be in "
            "[minReplicas, maxReplicas] = [1, 0], got 3");
}

// ---------------------------------------------------------------------- multiple documents

TEST(ParseScalingPoliciesTest, ReadsEveryYamlDocument) {
  std::string text = absl::StrCat("---\n", kMinimal, "---\n", kFullYaml, "---\n");
  absl::StatusOr<std::vector<ScalingPolicy>> ps = ParseScalingPolicies(text, "all.yaml");
  ASSERT_TRUE(ps.ok()) << ps.status();
  ASSERT_EQ(ps->size(), 2u);
  EXPECT_EQ(PolicyKey((*ps)[0]), "default/api");
  EXPECT_EQ(PolicyKey((*ps)[1]), "shop/web");
}

TEST(ParseScalingPoliciesTest, NamesTheDocumentOfAnError) {
  std::string text = absl::StrCat(
      kMinimal, "---\n", absl::StrReplaceAll(kMinimal, {{"maxReplicas: 5", "maxReplicas: x"}}));
  absl::StatusOr<std::vector<ScalingPolicy>> ps = ParseScalingPolicies(text, "all.yaml");
  ASSERT_FALSE(ps.ok());
  EXPECT_THAT(ps.status().message(),
              HasSubstr("all.yaml: document 1: spec.maxReplicas: want an integer"));
}

TEST(ParseScalingPoliciesTest, SplitsAtDocumentMarkersOnly) {
  // "..." ends a document; "---" inside a line or indented is not a marker.
  std::string text = absl::StrCat(
      absl::StrReplaceAll(kMinimal, {{"metadata: {name: api}",
                                      "metadata: {name: api, annotations: {a: 'x --- y'}}"}}),
      "...\n# between\n--- ",
      "{apiVersion: autoscaling.sextant.dev/v1alpha1, kind: ScalingPolicy, "
      "metadata: {name: b}, spec: {maxReplicas: 1}}\n");
  absl::StatusOr<std::vector<ScalingPolicy>> ps = ParseScalingPolicies(text, "all.yaml");
  ASSERT_TRUE(ps.ok()) << ps.status();
  ASSERT_EQ(ps->size(), 2u);
  EXPECT_EQ((*ps)[0].metadata.annotations.at("a"), "x --- y");
  EXPECT_EQ((*ps)[1].metadata.name, "b");
}

TEST(ParseScalingPoliciesTest, GivesTheLineOfASyntaxErrorInALaterDocument) {
  // The unclosed flow sequence is reported at the end of the input, the line after the last.
  std::string text = absl::StrCat(kMinimal, "---\napiVersion: [1, 2\n");
  const int end_line = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  absl::StatusOr<std::vector<ScalingPolicy>> ps = ParseScalingPolicies(text, "all.yaml");
  ASSERT_FALSE(ps.ok());
  EXPECT_THAT(ps.status().message(), HasSubstr(absl::StrCat("all.yaml:", end_line, ":1: ")));
}

TEST(ParseScalingPoliciesTest, StrayTopLevelCommasEndWithoutLooping) {
  // yaml-cpp 0.7's LoadAll never returns on these.
  for (const char* text : {",", "{a: 1},b", "[1],", "{\"kind\":\"x\"},\"spec\":{"}) {
    absl::StatusOr<std::vector<ScalingPolicy>> ps = ParseScalingPolicies(text, "x.yaml");
    EXPECT_FALSE(ps.ok() && !ps->empty()) << text;
  }
}

TEST(ParseScalingPoliciesTest, ReadsAJsonObjectAndAnEmptyFile) {
  absl::StatusOr<std::vector<ScalingPolicy>> ps = ParseScalingPolicies(kFullJson, "web.json");
  ASSERT_TRUE(ps.ok()) << ps.status();
  ASSERT_EQ(ps->size(), 1u);
  EXPECT_EQ((*ps)[0].metadata.name, "web");
  ps = ParseScalingPolicies("# nothing yet\n", "empty.yaml");
  ASSERT_TRUE(ps.ok()) << ps.status();
  EXPECT_TRUE(ps->empty());
}

TEST(ParseScalingPoliciesTest, ReadsListsAndNamesTheItemOfAnError) {
  std::string list = absl::StrCat(
      R"({"apiVersion":"autoscaling.sextant.dev/v1alpha1","kind":"ScalingPolicyList",)"
      R"("metadata":{"resourceVersion":"7"},"items":[)",
      kFullJson, ",",
      // An item of a typed list may leave out apiVersion and kind.
      R"({"metadata":{"name":"api","namespace":"web"},"spec":{"scaleTargetRef":)"
      R"({"apiVersion":"apps/v1","kind":"Deployment","name":"api"},"maxReplicas":3,)"
      R"("metrics":[{"type":"Pods","pods":{"query":"up","target":{"type":"AverageValue",)"
      R"("averageValue":"1"}}}]}}]})");
  absl::StatusOr<std::vector<ScalingPolicy>> ps = ParseScalingPolicies(list, "list.json");
  ASSERT_TRUE(ps.ok()) << ps.status();
  ASSERT_EQ(ps->size(), 2u);
  EXPECT_EQ(PolicyKey((*ps)[1]), "web/api");
  EXPECT_TRUE(ValidateScalingPolicy((*ps)[1]).ok());

  std::string v1_list = absl::StrCat("apiVersion: v1\nkind: List\nitems:\n- ",
                                     absl::StrReplaceAll(kMinimal, {{"\n", "\n  "}}),
                                     "\n- {kind: ScalingPolicy, spec: {maxReplicas: many}}\n");
  ps = ParseScalingPolicies(v1_list, "list.yaml");
  ASSERT_FALSE(ps.ok());
  EXPECT_THAT(ps.status().message(),
              HasSubstr("list.yaml: items[1]: spec.maxReplicas: want an integer"));
  EXPECT_THAT(ParseScalingPolicies("kind: List\nitems: 3\n", "l.yaml").status().message(),
              HasSubstr("l.yaml: items: want a list"));
}

// -------------------------------------------------------------------------------- status

ScalingPolicyStatus SampleStatus() {
  ScalingPolicyStatus s;
  s.current_replicas = 3;
  s.desired_replicas = 5;
  MetricStatus cpu;
  cpu.name = "m0";
  cpu.type = MetricSpec::Type::kResource;
  cpu.resource = "cpu";
  cpu.average_utilization = 85;
  cpu.average_value_milli = 425;
  MetricStatus rps;
  rps.name = "rps";
  rps.type = MetricSpec::Type::kPods;
  rps.average_value_milli = 120500;
  MetricStatus queue;
  queue.name = "queue";
  queue.type = MetricSpec::Type::kExternal;
  queue.value_milli = 42000;
  s.current_metrics = {cpu, rps, queue};
  s.conditions = {
      {"AbleToScale", "True", "SucceededRescale", "the HPA controller was able to update",
       absl::FromUnixSeconds(1704164645)},
      {"ScalingActive", "True", "ValidMetricFound", "quote \" and unicode é",
       absl::FromUnixSeconds(1704164700)},
  };
  s.last_scale_time = absl::FromUnixSeconds(1704164645);
  s.observed_generation = 7;
  return s;
}

TEST(PolicyStatusToJsonTest, WritesTheAutoscalingV2Shape) {
  const std::string json = PolicyStatusToJson(SampleStatus());
  EXPECT_THAT(json, HasSubstr(R"("currentReplicas":3,"desiredReplicas":5)"));
  EXPECT_THAT(json, HasSubstr(R"({"type":"Resource","name":"m0","resource":{"name":"cpu",)"
                              R"("current":{"averageUtilization":85,"averageValue":"425m"}}})"));
  EXPECT_THAT(json, HasSubstr(R"({"type":"Pods","name":"rps","pods":{"metric":{"name":"rps"},)"
                              R"("current":{"averageValue":"120500m"}}})"));
  EXPECT_THAT(json, HasSubstr(R"({"type":"External","name":"queue","external":{"metric":)"
                              R"({"name":"queue"},"current":{"value":"42"}}})"));
  EXPECT_THAT(json, HasSubstr(R"({"type":"AbleToScale","status":"True","reason":)"
                              R"("SucceededRescale","message":"the HPA controller was able to )"
                              R"(update","lastTransitionTime":"2024-01-02T03:04:05Z"})"));
  EXPECT_THAT(json, HasSubstr(R"("lastScaleTime":"2024-01-02T03:04:05Z","observedGeneration":7})"));
  EXPECT_EQ(PolicyStatusToJson(ScalingPolicyStatus{}),
            R"({"currentReplicas":0,"desiredReplicas":0,"observedGeneration":0})");
}

TEST(PolicyStatusToJsonTest, ReadsBackThroughParseScalingPolicy) {
  const ScalingPolicyStatus want = SampleStatus();
  std::string object = std::string(kFullJson);
  object.pop_back();  // the closing brace
  object = absl::StrCat(object, R"(,"status":)", PolicyStatusToJson(want), "}");
  ScalingPolicy p = ParseOk(object);
  const ScalingPolicyStatus& got = p.status;
  EXPECT_EQ(got.current_replicas, 3);
  EXPECT_EQ(got.desired_replicas, 5);
  ASSERT_EQ(got.current_metrics.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const MetricStatus& g = got.current_metrics[i];
    const MetricStatus& w = want.current_metrics[i];
    EXPECT_EQ(g.name, w.name) << i;
    EXPECT_EQ(g.type, w.type) << i;
    EXPECT_EQ(g.resource, w.resource) << i;
    EXPECT_EQ(g.average_utilization, w.average_utilization) << i;
    EXPECT_EQ(g.average_value_milli, w.average_value_milli) << i;
    EXPECT_EQ(g.value_milli, w.value_milli) << i;
  }
  ASSERT_EQ(got.conditions.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(got.conditions[i].type, want.conditions[i].type);
    EXPECT_EQ(got.conditions[i].status, want.conditions[i].status);
    EXPECT_EQ(got.conditions[i].reason, want.conditions[i].reason);
    EXPECT_EQ(got.conditions[i].message, want.conditions[i].message);
    EXPECT_EQ(got.conditions[i].last_transition_time, want.conditions[i].last_transition_time);
  }
  EXPECT_EQ(got.last_scale_time, want.last_scale_time);
  EXPECT_EQ(got.observed_generation, 7);
  // And the status written again is the same text.
  EXPECT_EQ(PolicyStatusToJson(got), PolicyStatusToJson(want));
}

TEST(PolicyStatusToJsonTest, ReadsMetricNamesFromTheHpaShapeToo) {
  std::string text = absl::StrCat(
      kMinimal,
      "status:\n  currentMetrics:\n  - type: External\n    external: {metric: {name: q}, current: "
      "{averageValue: 2500m}}\n  - type: Resource\n    resource: {name: memory, current: "
      "{averageValue: 1Gi}}\n");
  ScalingPolicy p = ParseOk(text);
  ASSERT_EQ(p.status.current_metrics.size(), 2u);
  EXPECT_EQ(p.status.current_metrics[0].name, "q");
  EXPECT_EQ(p.status.current_metrics[0].average_value_milli, 2500);
  EXPECT_EQ(p.status.current_metrics[1].resource, "memory");
  EXPECT_EQ(p.status.current_metrics[1].average_value_milli, (int64_t{1} << 30) * 1000);
}

// ------------------------------------------------------------------------- shipped files

TEST(ShippedFilesTest, TheCrdDefinesScalingPolicyWithItsStatusAndColumns) {
  const std::string text =
      testing::ReadFileOrDie(testing::SourcePath("deploy/crd/scalingpolicy.yaml"));
  YAML::Node crd = YAML::Load(text);
  EXPECT_EQ(crd["apiVersion"].as<std::string>(), "apiextensions.k8s.io/v1");
  EXPECT_EQ(crd["kind"].as<std::string>(), "CustomResourceDefinition");
  EXPECT_EQ(crd["metadata"]["name"].as<std::string>(), "scalingpolicies.autoscaling.sextant.dev");
  const YAML::Node spec = crd["spec"];
  EXPECT_EQ(spec["group"].as<std::string>(), "autoscaling.sextant.dev");
  EXPECT_EQ(spec["scope"].as<std::string>(), "Namespaced");
  EXPECT_EQ(spec["names"]["kind"].as<std::string>(), "ScalingPolicy");
  EXPECT_EQ(spec["names"]["listKind"].as<std::string>(), "ScalingPolicyList");
  EXPECT_EQ(spec["names"]["plural"].as<std::string>(), "scalingpolicies");
  EXPECT_EQ(spec["names"]["singular"].as<std::string>(), "scalingpolicy");
  EXPECT_EQ(spec["names"]["shortNames"].as<std::vector<std::string>>(),
            std::vector<std::string>{"sp"});
  ASSERT_EQ(spec["versions"].size(), 1u);
  const YAML::Node v = spec["versions"][0];
  EXPECT_EQ(v["name"].as<std::string>(), "v1alpha1");
  EXPECT_TRUE(v["served"].as<bool>());
  EXPECT_TRUE(v["storage"].as<bool>());
  ASSERT_TRUE(v["subresources"]["status"].IsMap());
  EXPECT_EQ(v["subresources"]["status"].size(), 0u);

  std::vector<std::string> columns;
  for (const YAML::Node& c : v["additionalPrinterColumns"]) {
    if (c["priority"] && c["priority"].as<int>() > 0) continue;
    columns.push_back(absl::StrCat(c["name"].as<std::string>(), "=",
                                   c["jsonPath"].as<std::string>(), ":",
                                   c["type"].as<std::string>()));
  }
  EXPECT_THAT(
      columns,
      ElementsAre("Reference=.spec.scaleTargetRef.name:string",
                  "Targets=.spec.metrics[*].type:string", "MinPods=.spec.minReplicas:integer",
                  "MaxPods=.spec.maxReplicas:integer", "Replicas=.status.currentReplicas:integer",
                  "Age=.metadata.creationTimestamp:date"));

  // The schema knows spec and status, with the contract's enums.
  const YAML::Node schema = v["schema"]["openAPIV3Schema"]["properties"];
  const YAML::Node spec_props = schema["spec"]["properties"];
  for (const char* key : {"scaleTargetRef", "minReplicas", "maxReplicas", "metrics", "behavior",
                          "fallback", "paused"}) {
    EXPECT_TRUE(spec_props[key].IsMap()) << key;
  }
  EXPECT_EQ(
      spec_props["metrics"]["items"]["properties"]["type"]["enum"].as<std::vector<std::string>>(),
      (std::vector<std::string>{"Resource", "Pods", "External"}));
  EXPECT_TRUE(spec_props["metrics"]["items"]["properties"]["external"]["properties"]
                        ["activationThreshold"]["x-kubernetes-int-or-string"]
                            .as<bool>());
  for (const char* key : {"currentReplicas", "desiredReplicas", "currentMetrics", "conditions",
                          "lastScaleTime", "observedGeneration"}) {
    EXPECT_TRUE(schema["status"]["properties"][key].IsMap()) << key;
  }
}

TEST(ShippedFilesTest, TheExamplePolicyParsesAndValidates) {
  const std::string text =
      testing::ReadFileOrDie(testing::SourcePath("deploy/examples/scalingpolicy.yaml"));
  absl::StatusOr<std::vector<ScalingPolicy>> ps = ParseScalingPolicies(text, "scalingpolicy.yaml");
  ASSERT_TRUE(ps.ok()) << ps.status();
  ASSERT_EQ(ps->size(), 1u);
  const ScalingPolicy& p = (*ps)[0];
  EXPECT_TRUE(ValidateScalingPolicy(p).ok()) << ValidateScalingPolicy(p);
  EXPECT_EQ(p.spec.target.kind, "Deployment");
  EXPECT_EQ(p.spec.target.name, "web");
  ASSERT_EQ(p.spec.metrics.size(), 3u);
  EXPECT_EQ(p.spec.metrics[0].type, MetricSpec::Type::kResource);
  EXPECT_EQ(p.spec.metrics[0].target.average_utilization, 70);
  EXPECT_EQ(p.spec.metrics[1].type, MetricSpec::Type::kPods);
  EXPECT_EQ(p.spec.metrics[2].type, MetricSpec::Type::kExternal);
  EXPECT_TRUE(p.spec.metrics[2].activation_threshold_milli.has_value());
  EXPECT_TRUE(p.spec.behavior.has_value());
  EXPECT_TRUE(p.spec.fallback.has_value());
}

}  // namespace
}  // namespace sextant::autoscaler
