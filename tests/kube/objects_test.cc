#include "kube/objects.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::kube {
namespace {

using ::testing::HasSubstr;

absl::Time T(absl::string_view s) { return *ParseKubeTime(s); }

TEST(ObjectsTest, ParsesObjectMeta) {
  auto meta = ParseObjectMeta(R"({"metadata":{"name":"web","namespace":"default","uid":"u1",
    "resourceVersion":"12","generation":3,"labels":{"app":"web"},"annotations":{"a":"b"},
    "creationTimestamp":"2024-01-02T03:04:05Z","deletionTimestamp":null}})");
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->name, "web");
  EXPECT_EQ(meta->namespace_name, "default");
  EXPECT_EQ(meta->uid, "u1");
  EXPECT_EQ(meta->resource_version, "12");
  EXPECT_EQ(meta->generation, 3);
  EXPECT_EQ(meta->labels.at("app"), "web");
  EXPECT_EQ(meta->annotations.at("a"), "b");
  EXPECT_EQ(meta->creation_timestamp, absl::FromUnixSeconds(1704164645));
  EXPECT_FALSE(meta->deletion_timestamp.has_value());
  EXPECT_EQ(ObjectKey(*meta), "default/web");
  meta->namespace_name.clear();
  EXPECT_EQ(ObjectKey(*meta), "web");
}

TEST(ObjectsTest, ErrorsNameTheField) {
  struct Case {
    const char* json;
    const char* field;
  } cases[] = {
      {R"({"metadata":{"name":5}})", "metadata.name"},
      {R"({"metadata":{"labels":{"app":true}}})", "metadata.labels.app"},
      {R"({"metadata":{"creationTimestamp":"yesterday"}})", "metadata.creationTimestamp"},
      {R"({"metadata":[]})", "metadata"},
  };
  for (const Case& c : cases) {
    auto meta = ParseObjectMeta(c.json);
    EXPECT_EQ(meta.status().code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_THAT(meta.status().message(), HasSubstr(c.field)) << c.json;
  }
  EXPECT_EQ(ParseObjectMeta("not json").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseObjectMeta("[1]").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ParseScale(R"({"status":{"replicas":1.5}})").status().message(),
              HasSubstr("status.replicas"));
  EXPECT_THAT(ParseLease(R"({"spec":{"renewTime":"2024-13-01T00:00:00Z"}})").status().message(),
              HasSubstr("spec.renewTime"));
  EXPECT_THAT(
      ParsePod(
          R"({"status":{"containerStatuses":[{"lastState":{"terminated":{"exitCode":"1"}}}]}})")
          .status()
          .message(),
      HasSubstr("status.containerStatuses[0].lastState.terminated.exitCode"));
  EXPECT_THAT(ParsePod(R"({"spec":{"containers":[{"resources":{"requests":{"cpu":[]}}}]}})")
                  .status()
                  .message(),
              HasSubstr("spec.containers[0].resources.requests.cpu"));
}

TEST(ObjectsTest, ScaleRoundTrip) {
  Scale s;
  s.metadata.name = "web";
  s.metadata.namespace_name = "default";
  s.metadata.resource_version = "9";
  s.spec_replicas = 4;
  s.status_replicas = 3;
  s.status_selector = "app=web";
  const std::string json = ScaleToJson(s);
  EXPECT_THAT(json, HasSubstr(R"("apiVersion":"autoscaling/v1","kind":"Scale")"));
  auto back = ParseScale(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->metadata.name, "web");
  EXPECT_EQ(back->metadata.resource_version, "9");
  EXPECT_EQ(back->spec_replicas, 4);
  EXPECT_EQ(back->status_replicas, 3);
  EXPECT_EQ(back->status_selector, "app=web");
}

TEST(ObjectsTest, LeaseUsesMicroTime) {
  Lease l;
  l.metadata.name = "sextant";
  l.metadata.namespace_name = "kube-system";
  l.holder_identity = "pod-a";
  l.lease_duration_seconds = 15;
  l.acquire_time = absl::FromUnixMicros(1'704'164'645'000'001);
  l.renew_time = absl::FromUnixMicros(1'704'164'650'500'000);
  l.lease_transitions = 2;
  const std::string json = LeaseToJson(l);
  EXPECT_THAT(json, HasSubstr(R"("acquireTime":"2024-01-02T03:04:05.000001Z")"));
  EXPECT_THAT(json, HasSubstr(R"("renewTime":"2024-01-02T03:04:10.500000Z")"));
  auto back = ParseLease(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->holder_identity, "pod-a");
  EXPECT_EQ(back->lease_duration_seconds, 15);
  EXPECT_EQ(back->acquire_time, l.acquire_time);
  EXPECT_EQ(back->renew_time, l.renew_time);
  EXPECT_EQ(back->lease_transitions, 2);

  auto empty = ParseLease(R"({"metadata":{"name":"x"},"spec":{}})");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->lease_duration_seconds.has_value());
  EXPECT_FALSE(empty->renew_time.has_value());
}

TEST(ObjectsTest, EventRoundTrip) {
  Event e;
  e.metadata.name = "web.17a";
  e.metadata.namespace_name = "default";
  e.involved_object = {"apps/v1", "Deployment", "default", "web", "uid-1", ""};
  e.reason = "CrashLoop";
  e.message = "container \"app\" restarted 5 times";
  e.type = "Warning";
  e.count = 3;
  e.first_timestamp = T("2024-01-02T03:04:05Z");
  e.last_timestamp = T("2024-01-02T03:09:05Z");
  e.source_component = "sextant";
  e.reporting_component = "sextant-alerting";
  const std::string json = EventToJson(e);
  EXPECT_THAT(json, HasSubstr(R"("lastTimestamp":"2024-01-02T03:09:05Z")"));
  auto back = ParseEvent(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->involved_object.kind, "Deployment");
  EXPECT_EQ(back->involved_object.uid, "uid-1");
  EXPECT_EQ(back->reason, "CrashLoop");
  EXPECT_EQ(back->message, e.message);
  EXPECT_EQ(back->type, "Warning");
  EXPECT_EQ(back->count, 3);
  EXPECT_EQ(back->first_timestamp, e.first_timestamp);
  EXPECT_EQ(back->last_timestamp, e.last_timestamp);
  EXPECT_EQ(back->source_component, "sextant");
  EXPECT_EQ(back->reporting_component, "sextant-alerting");
}

TEST(ObjectsTest, ParsesPod) {
  auto pod = ParsePod(R"({
    "metadata":{"name":"web-1","namespace":"default","labels":{"app":"web"},
                "deletionTimestamp":"2024-01-02T03:05:00Z"},
    "spec":{"nodeName":"n1","containers":[
      {"name":"app","image":"x","resources":{"requests":{"cpu":"500m","memory":"128Mi"},
                                              "limits":{"cpu":1}}},
      {"name":"sidecar"}]},
    "status":{"phase":"Running","startTime":"2024-01-02T03:00:00Z",
      "conditions":[{"type":"Initialized","status":"True"},
                    {"type":"Ready","status":"True","lastTransitionTime":"2024-01-02T03:00:30Z"}],
      "containerStatuses":[
        {"name":"app","containerID":"containerd://abc","ready":true,"restartCount":4,
         "state":{"waiting":{"reason":"CrashLoopBackOff"}},
         "lastState":{"terminated":{"reason":"OOMKilled","exitCode":137,
                                    "finishedAt":"2024-01-02T03:04:00Z"}}},
        {"name":"sidecar","ready":false,"restartCount":0,"state":{"running":{}}}]}})");
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ(pod->metadata.labels.at("app"), "web");
  EXPECT_EQ(pod->metadata.deletion_timestamp, T("2024-01-02T03:05:00Z"));
  EXPECT_EQ(pod->node_name, "n1");
  EXPECT_EQ(pod->phase, "Running");
  EXPECT_EQ(pod->start_time, T("2024-01-02T03:00:00Z"));
  EXPECT_TRUE(pod->IsReady());
  ASSERT_NE(pod->FindCondition("Ready"), nullptr);
  EXPECT_EQ(pod->FindCondition("Ready")->last_transition_time, T("2024-01-02T03:00:30Z"));
  ASSERT_EQ(pod->containers.size(), 2u);
  EXPECT_EQ(pod->containers[0].requests.at("cpu"), "500m");
  EXPECT_EQ(pod->containers[0].requests.at("memory"), "128Mi");
  EXPECT_EQ(pod->containers[0].limits.at("cpu"), "1");
  EXPECT_TRUE(pod->containers[1].requests.empty());
  ASSERT_EQ(pod->container_statuses.size(), 2u);
  const ContainerStatus& app = pod->container_statuses[0];
  EXPECT_EQ(app.container_id, "containerd://abc");
  EXPECT_TRUE(app.ready);
  EXPECT_EQ(app.restart_count, 4);
  EXPECT_EQ(app.waiting_reason, "CrashLoopBackOff");
  EXPECT_FALSE(app.running);
  EXPECT_EQ(app.last_terminated_reason, "OOMKilled");
  EXPECT_EQ(app.last_terminated_exit_code, 137);
  EXPECT_EQ(app.last_terminated_finished_at, T("2024-01-02T03:04:00Z"));
  EXPECT_TRUE(pod->container_statuses[1].running);
  EXPECT_FALSE(pod->container_statuses[1].last_terminated_exit_code.has_value());
}

TEST(ObjectsTest, PodNotReadyWithoutCondition) {
  auto pod = ParsePod(R"({"metadata":{"name":"p"},"status":{"phase":"Pending"}})");
  ASSERT_TRUE(pod.ok());
  EXPECT_FALSE(pod->IsReady());
  EXPECT_EQ(pod->FindCondition("Ready"), nullptr);
}

TEST(ObjectsTest, ParsesNode) {
  auto node = ParseNode(R"({"metadata":{"name":"n1","labels":{"kubernetes.io/os":"linux"}},
    "status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"},
                           {"type":"Hostname","address":"n1"}],
              "capacity":{"cpu":"8","nvidia.com/gpu":"2"},"allocatable":{"memory":"30Gi"}}})");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->metadata.name, "n1");
  EXPECT_EQ(node->metadata.labels.at("kubernetes.io/os"), "linux");
  ASSERT_EQ(node->addresses.size(), 2u);
  EXPECT_EQ(node->addresses[1].type, "Hostname");
  EXPECT_EQ(node->capacity.at("nvidia.com/gpu"), "2");
  EXPECT_EQ(node->allocatable.at("memory"), "30Gi");
}

TEST(ObjectsTest, ParsesObjectList) {
  auto list = ParseObjectList(R"({"kind":"PodList","metadata":{"resourceVersion":"77",
    "continue":"tok"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->resource_version, "77");
  EXPECT_EQ(list->continue_token, "tok");
  ASSERT_EQ(list->items.size(), 2u);
  EXPECT_EQ(list->items[0], R"({"metadata":{"name":"a"}})");
  EXPECT_THAT(ParseObjectList(R"({"items":[1]})").status().message(), HasSubstr("items[0]"));
  auto empty = ParseObjectList(R"({"items":null})");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->items.empty());
}

TEST(ObjectsTest, TimeFormats) {
  const absl::Time t = absl::FromUnixMicros(1'704'164'645'250'000);
  EXPECT_EQ(FormatKubeTime(t), "2024-01-02T03:04:05Z");
  EXPECT_EQ(FormatKubeMicroTime(t), "2024-01-02T03:04:05.250000Z");
  EXPECT_EQ(*ParseKubeTime("2024-01-02T04:04:05.25+01:00"), t);
  EXPECT_EQ(ParseKubeTime("2024-01-02").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sextant::kube
