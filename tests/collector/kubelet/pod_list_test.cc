#include "collector/kubelet/pod_list.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "collector/metric_set.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/collector/kubelet/series_util.h"
#include "tests/util/test_util.h"

namespace sextant::collector {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using State = KubeletContainerStatus::State;

std::string Fixture(absl::string_view name) {
  return sextant::testing::ReadFileOrDie(
      sextant::testing::SourcePath(absl::StrCat("tests/collector/testdata/kubelet/", name)));
}

const KubeletPod* FindPod(const std::vector<KubeletPod>& pods, absl::string_view name) {
  for (const KubeletPod& p : pods) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

TEST(ParseKubeletPodsTest, ReadsFixturePodList) {
  absl::StatusOr<std::vector<KubeletPod>> pods = ParseKubeletPods(Fixture("pods.json"));
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 6u);

  const KubeletPod* web = FindPod(*pods, "web-7d9f8b6c5-x2x4k");
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->namespace_name, "shop");
  EXPECT_EQ(web->uid, "0f5e2a4c-8b1d-4e6f-9a3b-7c2d1e0f4a5b");
  EXPECT_EQ(web->controller_kind, "ReplicaSet");
  EXPECT_EQ(web->controller_name, "web-7d9f8b6c5");
  EXPECT_EQ(web->node_name, "node-a");
  EXPECT_EQ(web->phase, "Running");
  EXPECT_EQ(web->ready_condition, "True");
  EXPECT_EQ(web->pod_ip, "10.244.1.17");
  EXPECT_EQ(web->host_ip, "10.0.0.5");
  ASSERT_EQ(web->containers.size(), 2u);
  EXPECT_EQ(web->containers[0].name, "web");
  EXPECT_THAT(web->containers[0].requests,
              ::testing::ElementsAre(std::pair<std::string, std::string>{"cpu", "250m"},
                                     std::pair<std::string, std::string>{"memory", "128Mi"}));
  ASSERT_EQ(web->container_statuses.size(), 2u);
  EXPECT_EQ(web->container_statuses[1].state, State::kRunning);
  EXPECT_TRUE(web->container_statuses[1].ready);

  const KubeletPod* api = FindPod(*pods, "api-6c4f5d7b8-k9m2p");
  ASSERT_NE(api, nullptr);
  ASSERT_EQ(api->container_statuses.size(), 1u);
  const KubeletContainerStatus& crash = api->container_statuses[0];
  EXPECT_EQ(crash.state, State::kWaiting);
  EXPECT_EQ(crash.state_reason, "CrashLoopBackOff");
  EXPECT_EQ(crash.restart_count, 7);
  EXPECT_TRUE(crash.has_last_terminated);
  EXPECT_EQ(crash.last_terminated_reason, "Error");
  EXPECT_EQ(crash.last_terminated_exit_code, 1);
  EXPECT_EQ(api->priority_class, "high-priority");

  const KubeletPod* worker = FindPod(*pods, "worker-5b8c9d7f6-q7r8s");
  ASSERT_NE(worker, nullptr);
  EXPECT_EQ(worker->container_statuses[0].last_terminated_reason, "OOMKilled");
  EXPECT_EQ(worker->container_statuses[0].last_terminated_exit_code, 137);

  const KubeletPod* db = FindPod(*pods, "db-0");
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->phase, "Pending");
  EXPECT_EQ(db->pod_ip, "");
  EXPECT_EQ(db->container_statuses[0].container_id, "");
  EXPECT_EQ(db->container_statuses[0].state_reason, "ContainerCreating");

  const KubeletPod* job = FindPod(*pods, "report-28391040-7xk2p");
  ASSERT_NE(job, nullptr);
  ASSERT_EQ(job->init_containers.size(), 1u);
  ASSERT_EQ(job->init_container_statuses.size(), 1u);
  EXPECT_EQ(job->init_container_statuses[0].state, State::kTerminated);
  EXPECT_EQ(job->init_container_statuses[0].state_reason, "Completed");

  const KubeletPod* stat = FindPod(*pods, "kube-scheduler-node-a");
  ASSERT_NE(stat, nullptr);
  EXPECT_TRUE(stat->host_network);
  EXPECT_EQ(stat->controller_kind, "");
}

TEST(ParseKubeletPodsTest, ExportsKubeStateMetricsSeries) {
  absl::StatusOr<std::vector<KubeletPod>> pods = ParseKubeletPods(Fixture("pods.json"));
  ASSERT_TRUE(pods.ok()) << pods.status();
  MetricSet set;
  EXPECT_EQ(AppendPodMetrics(*pods, "node-a", set), 0u);
  EXPECT_EQ(set.duplicates(), 0u);
  kubelet_test::SeriesMap want =
      kubelet_test::WithPrefix(kubelet_test::ParseSeries(Fixture("pods.expected.prom")), "kube_");
  ASSERT_GT(want.size(), 100u);
  EXPECT_EQ(kubelet_test::DiffSeries(want, kubelet_test::ExportedSeries(set)), "");
}

TEST(ParseKubeletPodsTest, IndexesPodsAndContainerIdsWithoutPrefix) {
  absl::StatusOr<std::vector<KubeletPod>> pods = ParseKubeletPods(Fixture("pods.json"));
  ASSERT_TRUE(pods.ok()) << pods.status();
  PodIndex index = BuildPodIndex(*pods);
  EXPECT_EQ(index.size(), 6u);

  const KubeletPod* job = FindPod(*pods, "report-28391040-7xk2p");
  ASSERT_NE(job, nullptr);
  const std::string init_id(StripRuntimePrefix(job->init_container_statuses[0].container_id));
  ASSERT_EQ(init_id.size(), 64u);
  auto [pod, container] = index.FindContainer(init_id);
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->name, "report-28391040-7xk2p");
  EXPECT_EQ(pod->namespace_name, "batch");
  EXPECT_EQ(container->name, "fetch");

  // Under the systemd driver cgroup names carry the UID with underscores.
  const PodMeta* db = index.FindPod("5e6f7a8b_9c0d_4e1f_a2b3_c4d5e6f7a8b9");
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(db->containers, IsEmpty());  // not created yet: no ID to find it by
  const PodMeta* stat = index.FindPod("6c8a9f7b2e3d4c5a1b0e9f8d7c6b5a43");
  ASSERT_NE(stat, nullptr);
  EXPECT_EQ(stat->name, "kube-scheduler-node-a");
}

TEST(ParseKubeletPodsTest, StripsRuntimePrefixes) {
  EXPECT_EQ(StripRuntimePrefix("containerd://abc"), "abc");
  EXPECT_EQ(StripRuntimePrefix("cri-o://def"), "def");
  EXPECT_EQ(StripRuntimePrefix("docker://0123"), "0123");
  EXPECT_EQ(StripRuntimePrefix("abc"), "abc");
  EXPECT_EQ(StripRuntimePrefix(""), "");
}

struct OddCase {
  const char* name;
  std::string json;
  size_t pods;        // when ok
  const char* error;  // substring of the error; null when the parse succeeds
};

TEST(ParseKubeletPodsTest, HandlesOddJson) {
  const std::string deep_open(100000, '[');
  const std::string deep_close(100000, ']');
  const OddCase cases[] = {
      {"empty input", "", 0, "invalid JSON at offset 0"},
      {"not an object", "[]", 0, "not a JSON object"},
      {"truncated", R"({"kind":"PodList","items":[{"metadata":)", 0, "invalid JSON at offset"},
      {"trailing garbage", R"({"kind":"PodList"} x)", 0, "invalid JSON"},
      {"NUL after the document", std::string("{\"kind\":\"PodList\"}\0{}", 21), 0,
       "unexpected NUL byte"},
      {"no kind, no items", "{}", 0, "not a PodList"},
      {"a Status", R"({"kind":"Status","status":"Failure","code":403})", 0, "kind is \"Status\""},
      {"items null", R"({"kind":"PodList","items":null})", 0, nullptr},
      {"items absent", R"({"kind":"PodList","apiVersion":"v1"})", 0, nullptr},
      {"items without kind", R"({"items":[]})", 0, nullptr},
      {"items an object", R"({"kind":"PodList","items":{}})", 0, "items: expected an array"},
      {"item a number", R"({"kind":"PodList","items":[1]})", 0, "items[0]: expected an object"},
      {"empty pod", R"({"kind":"PodList","items":[{}]})", 1, nullptr},
      {"missing status", R"({"items":[{"metadata":{"name":"a","namespace":"b","uid":"u"}}]})", 1,
       nullptr},
      {"null fields",
       R"({"items":[{"metadata":null,"spec":{"containers":null,"nodeName":null},"status":{)"
       R"("phase":null,"conditions":[{"type":"Ready","status":null}],"containerStatuses":[)"
       R"({"name":"c","state":null,"lastState":{"terminated":null},"restartCount":null}]}}]})",
       1, nullptr},
      {"kind wrong type", R"({"kind":5,"items":[]})", 0, "kind: expected a string"},
      {"string restart count",
       R"({"items":[{"status":{"containerStatuses":[{"name":"c","restartCount":"7"}]}}]})", 0,
       "items[0].status.containerStatuses[0].restartCount: expected an integer"},
      {"fractional restart count",
       R"({"items":[{"status":{"containerStatuses":[{"restartCount":1.5}]}}]})", 0,
       "expected an integer"},
      {"restart count beyond int64",
       R"({"items":[{"status":{"containerStatuses":[{"restartCount":99999999999999999999}]}}]})", 0,
       "expected an integer"},
      {"number beyond double",
       R"({"items":[{"status":{"containerStatuses":[{"restartCount":1e400}]}}]})", 0,
       "invalid JSON"},
      {"string ready", R"({"items":[{"status":{"containerStatuses":[{"ready":"true"}]}}]})", 0,
       "items[0].status.containerStatuses[0].ready: expected a boolean"},
      {"numeric name", R"({"items":[{"metadata":{"name":5}}]})", 0,
       "items[0].metadata.name: expected a string"},
      {"state an array", R"({"items":[{"status":{"containerStatuses":[{"state":[]}]}}]})", 0,
       "containerStatuses[0].state: expected an object"},
      {"owner references an object", R"({"items":[{"metadata":{"ownerReferences":{}}}]})", 0,
       "items[0].metadata.ownerReferences: expected an array"},
      {"quantity a boolean",
       R"({"items":[{"spec":{"containers":[{"resources":{"limits":{"cpu":true}}}]}}]})", 0,
       "items[0].spec.containers[0].resources.limits.cpu: expected a quantity string"},
      {"quantity a number",
       R"({"items":[{"spec":{"containers":[{"resources":{"limits":{"cpu":2}}}]}}]})", 1, nullptr},
      {"deep nesting in an ignored field",
       absl::StrCat(R"({"kind":"PodList","items":[],"x":)", deep_open, deep_close, "}"), 0,
       nullptr},
      {"deep nesting unterminated", absl::StrCat(R"({"kind":"PodList","items":)", deep_open), 0,
       "invalid JSON"},
      {"not UTF-8", "{\"kind\":\"PodList\",\"items\":[{\"metadata\":{\"name\":\"a\xff\"}}]}", 0,
       "invalid JSON"},
      {"huge exit code",
       R"({"items":[{"status":{"containerStatuses":[{"lastState":{"terminated":{"exitCode":4294967295}}}]}}]})",
       1, nullptr},
  };
  for (const OddCase& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<std::vector<KubeletPod>> pods = ParseKubeletPods(c.json);
    if (c.error == nullptr) {
      ASSERT_TRUE(pods.ok()) << pods.status();
      EXPECT_EQ(pods->size(), c.pods);
      MetricSet set;  // whatever was parsed can be exported
      AppendPodMetrics(*pods, "node-a", set);
      kubelet_test::ExportedSeries(set);
    } else {
      ASSERT_FALSE(pods.ok());
      EXPECT_EQ(pods.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(pods.status().message(), HasSubstr(c.error));
      EXPECT_THAT(pods.status().message(), HasSubstr("kubelet pods: "));
    }
  }
}

TEST(ParseKubeletPodsTest, KeepsNumericQuantitiesAsText) {
  auto pods = ParseKubeletPods(
      R"({"items":[{"spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":2,"memory":1.5e9}}}]}}]})");
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ((*pods)[0].containers[0].requests.size(), 2u);
  EXPECT_EQ((*pods)[0].containers[0].requests[0].second, "2");
  EXPECT_EQ((*pods)[0].containers[0].requests[1].second, "1500000000.0");
}

TEST(AppendPodMetricsTest, SkipsBadQuantitiesAndUnknownResources) {
  auto pods = ParseKubeletPods(R"({"items":[{"metadata":{"name":"p","namespace":"n","uid":"u"},
      "spec":{"containers":[{"name":"c","resources":{"requests":{"cpu":"lots","memory":"1Gi",
      "pods":"3","example.com/dongle":"2","kubernetes.io/something":"1",
      "attachable-volumes-aws-ebs":"5"}}}]}}]})");
  ASSERT_TRUE(pods.ok()) << pods.status();
  MetricSet set;
  EXPECT_EQ(AppendPodMetrics(*pods, "node-b", set), 1u);
  kubelet_test::SeriesMap got = kubelet_test::WithPrefix(kubelet_test::ExportedSeries(set),
                                                         "kube_pod_container_resource_requests");
  kubelet_test::SeriesMap want = kubelet_test::ParseSeries(R"(
kube_pod_container_resource_requests{namespace="n",pod="p",uid="u",container="c",node="node-b",resource="memory",unit="byte"} 1073741824
kube_pod_container_resource_requests{namespace="n",pod="p",uid="u",container="c",node="node-b",resource="example_com_dongle",unit="integer"} 2
kube_pod_container_resource_requests{namespace="n",pod="p",uid="u",container="c",node="node-b",resource="attachable_volumes_aws_ebs",unit="byte"} 5
)");
  EXPECT_EQ(kubelet_test::DiffSeries(want, got), "");
}

TEST(AppendPodMetricsTest, ReadyConditionAndPhaseFollowStatus) {
  auto pods = ParseKubeletPods(R"({"items":[
      {"metadata":{"name":"a","namespace":"n","uid":"1"},"status":{"phase":"Failed",
       "conditions":[{"type":"Ready","status":"Unknown"}]}},
      {"metadata":{"name":"b","namespace":"n","uid":"2"},"status":{}}]})");
  ASSERT_TRUE(pods.ok()) << pods.status();
  MetricSet set;
  AppendPodMetrics(*pods, "node-a", set);
  kubelet_test::SeriesMap got = kubelet_test::ExportedSeries(set);
  EXPECT_THAT(
      got,
      Contains(Pair(
          R"({__name__="kube_pod_status_phase", namespace="n", phase="Failed", pod="a", uid="1"})",
          1)));
  EXPECT_THAT(
      got,
      Contains(Pair(
          R"({__name__="kube_pod_status_phase", namespace="n", phase="Running", pod="a", uid="1"})",
          0)));
  EXPECT_THAT(
      got,
      Contains(Pair(
          R"({__name__="kube_pod_status_ready", condition="unknown", namespace="n", pod="a", uid="1"})",
          1)));
  EXPECT_THAT(
      got,
      Contains(Pair(
          R"({__name__="kube_pod_status_ready", condition="true", namespace="n", pod="a", uid="1"})",
          0)));
  // A pod without phase or Ready condition gets neither family, as in kube-state-metrics.
  EXPECT_THAT(kubelet_test::WithPrefix(got, "kube_pod_status_phase").size(), 5u);
  EXPECT_THAT(kubelet_test::WithPrefix(got, "kube_pod_status_ready").size(), 3u);
  EXPECT_THAT(
      got,
      Contains(Pair(
          R"({__name__="kube_pod_info", created_by_kind="<none>", created_by_name="<none>", host_network="false", namespace="n", node="node-a", pod="b", uid="2"})",
          1)));
}

}  // namespace
}  // namespace sextant::collector
