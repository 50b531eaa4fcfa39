#include "kube/client.h"

#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/kube/stub_api_server.h"

namespace sextant::kube {
namespace {

using ::testing::HasSubstr;

constexpr absl::string_view kScaleJson =
    R"({"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web","namespace":"default","resourceVersion":"42"},"spec":{"replicas":3},"status":{"replicas":2,"selector":"app=web"}})";

class KubeClientTest : public ::testing::Test {
 protected:
  KubeClientTest() {
    HttpClientOptions opts;
    opts.timeout = absl::Seconds(20);
    http_ = *CurlHttpClient::Create(opts, clock_);
    KubeClientOptions ko;
    ko.server = stub_.url();
    client_ = std::make_unique<KubeClient>(*http_, ko);
  }

  SimulatedClock clock_;
  StubApiServer stub_;
  std::unique_ptr<CurlHttpClient> http_;
  std::unique_ptr<KubeClient> client_;
};

TEST(ResourceRefTest, BuildsCoreAndGroupPaths) {
  ResourceRef pods = PodsResource("kube-system");
  pods.name = "p1";
  pods.subresource = "log";
  EXPECT_EQ(pods.Path(), "/api/v1/namespaces/kube-system/pods/p1/log");
  EXPECT_EQ(pods.Describe(), "pods/log");
  EXPECT_EQ(NodesResource().Path(), "/api/v1/nodes");
  EXPECT_EQ(PodsResource().Path(), "/api/v1/pods");
  ResourceRef sp = ScalingPoliciesResource("ns");
  sp.name = "web";
  sp.subresource = "status";
  EXPECT_EQ(sp.Path(),
            "/apis/autoscaling.sextant.dev/v1alpha1/namespaces/ns/scalingpolicies/web/status");
  EXPECT_EQ(sp.Describe(), "scalingpolicies.autoscaling.sextant.dev/status");
  EXPECT_EQ(SplitApiVersion("apps/v1"), std::make_pair(std::string("apps"), std::string("v1")));
  EXPECT_EQ(SplitApiVersion("v1"), std::make_pair(std::string(""), std::string("v1")));
}

TEST(KubeClientCreateTest, RejectsEmptyServer) {
  ClusterConfig config;
  EXPECT_EQ(KubeClient::Create(config).status().code(), absl::StatusCode::kInvalidArgument);
  config.server = "http://127.0.0.1:1/";
  auto client = KubeClient::Create(config);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ((*client)->server(), "http://127.0.0.1:1");
}

TEST_F(KubeClientTest, GetScaleOfDeployment) {
  stub_.SetHandler(
      [](const HttpRequest&) { return HttpResponse::Json(200, std::string(kScaleJson)); });
  auto scale = client_->GetScale({"apps/v1", "Deployment", "default", "web"});
  ASSERT_TRUE(scale.ok()) << scale.status();
  EXPECT_EQ(scale->spec_replicas, 3);
  EXPECT_EQ(scale->status_replicas, 2);
  EXPECT_EQ(scale->status_selector, "app=web");
  EXPECT_EQ(scale->metadata.resource_version, "42");
  HttpRequest r = stub_.last();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/apis/apps/v1/namespaces/default/deployments/web/scale");
}

TEST_F(KubeClientTest, StatefulSetAndReplicaSetScalePaths) {
  stub_.SetHandler(
      [](const HttpRequest&) { return HttpResponse::Json(200, std::string(kScaleJson)); });
  ASSERT_TRUE(client_->GetScale({"apps/v1", "StatefulSet", "db", "pg"}).ok());
  EXPECT_EQ(stub_.last().path, "/apis/apps/v1/namespaces/db/statefulsets/pg/scale");
  ASSERT_TRUE(client_->GetScale({"apps/v1", "ReplicaSet", "db", "rs"}).ok());
  EXPECT_EQ(stub_.last().path, "/apis/apps/v1/namespaces/db/replicasets/rs/scale");
}

TEST_F(KubeClientTest, UpdateScalePutsWithResourceVersionAndMapsConflict) {
  std::string body;
  stub_.SetHandler([&](const HttpRequest& r) {
    body = r.body;
    if (absl::StrContains(r.body, "\"resourceVersion\":\"41\"")) {
      return StubApiServer::Status(409, "Conflict", "the object has been modified");
    }
    return HttpResponse::Json(200, std::string(kScaleJson));
  });
  Scale scale;
  scale.spec_replicas = 5;
  scale.metadata.resource_version = "42";
  ScaleTarget web{"apps/v1", "Deployment", "default", "web"};
  auto updated = client_->UpdateScale(web, scale);
  ASSERT_TRUE(updated.ok()) << updated.status();
  HttpRequest r = stub_.last();
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.headers.Get("content-type"), "application/json");
  EXPECT_THAT(body, HasSubstr("\"resourceVersion\":\"42\""));
  EXPECT_THAT(body, HasSubstr("\"spec\":{\"replicas\":5}"));
  EXPECT_THAT(body, HasSubstr("\"name\":\"web\""));

  scale.metadata.resource_version = "41";
  auto conflict = client_->UpdateScale(web, scale);
  EXPECT_EQ(conflict.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(conflict.status().message(), HasSubstr("update deployments.apps/scale"));
}

TEST_F(KubeClientTest, PutWithResourceVersionIsRetriedOn503) {
  int calls = 0;
  stub_.SetHandler([&](const HttpRequest&) {
    if (++calls == 1) return StubApiServer::Status(503, "ServiceUnavailable", "busy");
    return HttpResponse::Json(200, std::string(kScaleJson));
  });
  Scale scale;
  scale.spec_replicas = 4;
  scale.metadata.resource_version = "42";
  EXPECT_TRUE(client_->UpdateScale({"apps/v1", "Deployment", "default", "web"}, scale).ok());
  EXPECT_EQ(calls, 2);
}

TEST_F(KubeClientTest, PutWithoutResourceVersionIsNotRetried) {
  stub_.SetHandler(
      [](const HttpRequest&) { return StubApiServer::Status(503, "ServiceUnavailable", "busy"); });
  ResourceRef ref = PodsResource("default");
  ref.name = "p";
  auto r = client_->Update(ref, R"({"metadata":{"name":"p"}})");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(stub_.requests().size(), 1u);
}

TEST_F(KubeClientTest, CreateIsNotRetriedOn503) {
  stub_.SetHandler(
      [](const HttpRequest&) { return StubApiServer::Status(503, "ServiceUnavailable", "busy"); });
  Lease lease;
  lease.metadata.namespace_name = "kube-system";
  lease.metadata.name = "sextant";
  EXPECT_EQ(client_->CreateLease(lease).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(stub_.requests().size(), 1u);
}

TEST_F(KubeClientTest, TooManyRequestsIsRetriedAfterRetryAfter) {
  int calls = 0;
  stub_.SetHandler([&](const HttpRequest&) {
    if (++calls == 1) {
      HttpResponse r = StubApiServer::Status(429, "TooManyRequests", "slow down");
      r.headers.Add("Retry-After", "3");
      return r;
    }
    return HttpResponse::Json(200, R"({"metadata":{"name":"n1"}})");
  });
  auto node = client_->GetNode("n1");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(calls, 2);
  EXPECT_GE(clock_.total_slept(), absl::Seconds(3));
}

TEST_F(KubeClientTest, PatchScaleReplicasSendsMergePatch) {
  std::string body;
  stub_.SetHandler([&](const HttpRequest& r) {
    body = r.body;
    return HttpResponse::Json(200, std::string(kScaleJson));
  });
  ASSERT_TRUE(client_->PatchScaleReplicas({"apps/v1", "Deployment", "default", "web"}, 7).ok());
  HttpRequest r = stub_.last();
  EXPECT_EQ(r.method, "PATCH");
  EXPECT_EQ(r.headers.Get("content-type"), "application/merge-patch+json");
  EXPECT_EQ(r.path, "/apis/apps/v1/namespaces/default/deployments/web/scale");
  EXPECT_EQ(body, R"({"spec":{"replicas":7}})");
}

TEST_F(KubeClientTest, OtherKindsAreFoundThroughDiscoveryAndCached) {
  stub_.SetHandler([](const HttpRequest& r) {
    if (r.path == "/apis/example.com/v1") {
      return HttpResponse::Json(200, R"({"kind":"APIResourceList","groupVersion":"example.com/v1",
        "resources":[{"name":"widgets","kind":"Widget","namespaced":true},
                     {"name":"widgets/scale","kind":"Scale","namespaced":true},
                     {"name":"widgets/status","kind":"Widget","namespaced":true},
                     {"name":"gadgets","kind":"Gadget","namespaced":true}]})");
    }
    if (r.path == "/apis/example.com/v1/namespaces/ns/widgets/w1/scale") {
      return HttpResponse::Json(200, std::string(kScaleJson));
    }
    return StubApiServer::NotFound();
  });
  ScaleTarget widget{"example.com/v1", "Widget", "ns", "w1"};
  ASSERT_TRUE(client_->GetScale(widget).ok());
  ASSERT_TRUE(client_->GetScale(widget).ok());
  int discovery = 0;
  for (const HttpRequest& r : stub_.requests()) discovery += r.path == "/apis/example.com/v1";
  EXPECT_EQ(discovery, 1);

  auto gadget = client_->GetScale({"example.com/v1", "Gadget", "ns", "g"});
  EXPECT_EQ(gadget.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(gadget.status().message(), HasSubstr("no /scale subresource"));
  auto unknown = client_->GetScale({"example.com/v1", "Nothing", "ns", "g"});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  auto no_group = client_->GetScale({"other.io/v1", "Thing", "ns", "g"});
  EXPECT_EQ(no_group.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(KubeClientTest, ListPodsSendsSelectorsAndFollowsPages) {
  stub_.SetHandler([](const HttpRequest& r) {
    if (r.params.Get("continue").empty()) {
      return HttpResponse::Json(
          200, R"({"kind":"PodList","metadata":{"resourceVersion":"10","continue":"next"},
        "items":[{"metadata":{"name":"a","namespace":"default"},"spec":{"nodeName":"n1"}}]})");
    }
    return HttpResponse::Json(200, R"({"kind":"PodList","metadata":{"resourceVersion":"11"},
      "items":[{"metadata":{"name":"b","namespace":"default"},"spec":{"nodeName":"n1"}}]})");
  });
  auto pods = client_->ListPods("default", "app=web", "spec.nodeName=n1");
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->items.size(), 2u);
  EXPECT_EQ(pods->items[0].metadata.name, "a");
  EXPECT_EQ(pods->items[1].metadata.name, "b");
  EXPECT_EQ(pods->resource_version, "11");
  std::vector<HttpRequest> reqs = stub_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].path, "/api/v1/namespaces/default/pods");
  EXPECT_EQ(reqs[0].params.Get("labelSelector"), "app=web");
  EXPECT_EQ(reqs[0].params.Get("fieldSelector"), "spec.nodeName=n1");
  EXPECT_EQ(reqs[0].params.Get("limit"), "500");
  EXPECT_EQ(reqs[1].params.Get("continue"), "next");
}

TEST_F(KubeClientTest, ListPodsInAllNamespaces) {
  stub_.SetHandler([](const HttpRequest&) { return HttpResponse::Json(200, R"({"items":[]})"); });
  ASSERT_TRUE(client_->ListPods("").ok());
  EXPECT_EQ(stub_.last().path, "/api/v1/pods");
}

TEST_F(KubeClientTest, GetNodeParsesAddressesAndResources) {
  stub_.SetHandler([](const HttpRequest&) {
    return HttpResponse::Json(200, R"({"metadata":{"name":"n1","labels":{"zone":"a"}},
      "status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"}],
                "capacity":{"cpu":"8","memory":"32Gi"},"allocatable":{"cpu":"7500m"}}})");
  });
  auto node = client_->GetNode("n1");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(stub_.last().path, "/api/v1/nodes/n1");
  EXPECT_EQ(node->metadata.labels.at("zone"), "a");
  ASSERT_EQ(node->addresses.size(), 1u);
  EXPECT_EQ(node->addresses[0].address, "10.0.0.1");
  EXPECT_EQ(node->allocatable.at("cpu"), "7500m");
}

TEST_F(KubeClientTest, LeasesGetCreateUpdate) {
  stub_.SetHandler([](const HttpRequest& r) {
    if (r.method == "GET") return StubApiServer::NotFound();
    if (r.method == "POST") {
      if (absl::StrContains(r.body, "\"holderIdentity\":\"b\"")) {
        return StubApiServer::Status(409, "AlreadyExists", "leases \"sextant\" already exists");
      }
      return HttpResponse::Json(201, r.body);
    }
    return HttpResponse::Json(200, r.body);
  });
  auto missing = client_->GetLease("kube-system", "sextant");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(stub_.last().path,
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/sextant");

  Lease lease;
  lease.metadata.namespace_name = "kube-system";
  lease.metadata.name = "sextant";
  lease.holder_identity = "a";
  lease.lease_duration_seconds = 15;
  lease.renew_time = absl::FromUnixMicros(1'700'000'000'123'456);
  auto created = client_->CreateLease(lease);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(stub_.last().method, "POST");
  EXPECT_EQ(stub_.last().path, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases");
  EXPECT_THAT(stub_.last().body, HasSubstr("\"renewTime\":\"2023-11-14T22:13:20.123456Z\""));
  EXPECT_EQ(created->renew_time, lease.renew_time);

  lease.holder_identity = "b";
  EXPECT_EQ(client_->CreateLease(lease).status().code(), absl::StatusCode::kAlreadyExists);

  lease.metadata.resource_version = "7";
  ASSERT_TRUE(client_->UpdateLease(lease).ok());
  EXPECT_EQ(stub_.last().method, "PUT");
  EXPECT_EQ(stub_.last().path,
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/sextant");
  EXPECT_THAT(stub_.last().body, HasSubstr("\"resourceVersion\":\"7\""));
}

TEST_F(KubeClientTest, EventsCreateAndPatch) {
  stub_.SetHandler([](const HttpRequest& r) {
    if (r.method == "POST") return HttpResponse::Json(201, r.body);
    return HttpResponse::Json(
        200,
        R"({"metadata":{"name":"web.1","namespace":"default"},"count":2,"lastTimestamp":"2024-01-02T03:04:05Z"})");
  });
  Event e;
  e.involved_object = {"apps/v1", "Deployment", "default", "web", "uid-1", ""};
  e.reason = "Scaled";
  e.message = "scaled to 5";
  e.type = "Normal";
  e.count = 1;
  e.first_timestamp = e.last_timestamp = absl::FromUnixSeconds(1'700'000'000);
  e.source_component = "sextant-autoscaler";
  auto created = client_->CreateEvent(e);
  ASSERT_TRUE(created.ok()) << created.status();
  HttpRequest r = stub_.last();
  EXPECT_EQ(r.path, "/api/v1/namespaces/default/events");
  EXPECT_THAT(r.body, HasSubstr("\"name\":\"web."));
  EXPECT_THAT(r.body, HasSubstr("\"source\":{\"component\":\"sextant-autoscaler\"}"));
  EXPECT_EQ(created->reason, "Scaled");
  EXPECT_EQ(created->involved_object.kind, "Deployment");

  auto patched = client_->PatchEvent("default", "web.1", 2, absl::FromUnixSeconds(1'704'164'645));
  ASSERT_TRUE(patched.ok()) << patched.status();
  r = stub_.last();
  EXPECT_EQ(r.method, "PATCH");
  EXPECT_EQ(r.path, "/api/v1/namespaces/default/events/web.1");
  EXPECT_EQ(r.body, R"({"count":2,"lastTimestamp":"2024-01-02T03:04:05Z"})");
  EXPECT_EQ(patched->count, 2);
}

TEST_F(KubeClientTest, ScalingPolicyListAndStatusUpdate) {
  stub_.SetHandler([](const HttpRequest& r) {
    return HttpResponse::Json(200, r.method == "GET" ? R"({"items":[]})" : r.body);
  });
  ListOptions lo;
  lo.label_selector = "team=a";
  ASSERT_TRUE(client_->ListScalingPolicies("ns", lo).ok());
  EXPECT_EQ(stub_.last().path,
            "/apis/autoscaling.sextant.dev/v1alpha1/namespaces/ns/scalingpolicies");
  EXPECT_EQ(stub_.last().params.Get("labelSelector"), "team=a");
  auto st = client_->UpdateScalingPolicyStatus(
      "ns", "web",
      R"({"metadata":{"name":"web","resourceVersion":"5"},"status":{"desiredReplicas":3}})");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(stub_.last().method, "PUT");
  EXPECT_EQ(stub_.last().path,
            "/apis/autoscaling.sextant.dev/v1alpha1/namespaces/ns/scalingpolicies/web/status");
}

TEST_F(KubeClientTest, ContainerLogsQuery) {
  stub_.SetHandler([](const HttpRequest&) { return HttpResponse::Text(200, "line1\nline2\n"); });
  LogOptions lo;
  lo.namespace_name = "default";
  lo.pod = "web-1";
  lo.container = "app";
  lo.previous = true;
  lo.tail_lines = 20;
  lo.limit_bytes = 8192;
  auto logs = client_->GetContainerLogs(lo);
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_EQ(*logs, "line1\nline2\n");
  HttpRequest r = stub_.last();
  EXPECT_EQ(r.path, "/api/v1/namespaces/default/pods/web-1/log");
  EXPECT_EQ(r.params.Get("container"), "app");
  EXPECT_EQ(r.params.Get("previous"), "true");
  EXPECT_EQ(r.params.Get("tailLines"), "20");
  EXPECT_EQ(r.params.Get("limitBytes"), "8192");
}

TEST_F(KubeClientTest, ForbiddenNamesVerbAndResource) {
  stub_.SetHandler([](const HttpRequest&) {
    return StubApiServer::Status(403, "Forbidden", "deployments.apps \"web\" is forbidden");
  });
  auto r = client_->PatchScaleReplicas({"apps/v1", "Deployment", "prod", "web"}, 2);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(r.status().message(), HasSubstr("verb \"patch\" on \"deployments.apps/scale\""));
  EXPECT_THAT(r.status().message(), HasSubstr("namespace \"prod\""));
}

TEST_F(KubeClientTest, GenericCallsAndDelete) {
  stub_.SetHandler([](const HttpRequest& r) {
    if (r.method == "DELETE")
      return HttpResponse::Json(200, R"({"kind":"Status","status":"Success"})");
    return HttpResponse::Json(200, R"({"metadata":{"name":"x"}})");
  });
  ResourceRef cm{"", "v1", "configmaps", "default", "x", ""};
  EXPECT_TRUE(client_->Get(cm).ok());
  EXPECT_EQ(stub_.last().headers.Get("accept"), "application/json");
  EXPECT_TRUE(client_->Delete(cm).ok());
  EXPECT_EQ(stub_.last().method, "DELETE");
  EXPECT_EQ(stub_.last().path, "/api/v1/namespaces/default/configmaps/x");
}

TEST_F(KubeClientTest, MalformedAnswerIsInvalidArgument) {
  stub_.SetHandler([](const HttpRequest&) {
    return HttpResponse::Json(200, R"({"spec":{"replicas":"three"}})");
  });
  auto r = client_->GetScale({"apps/v1", "Deployment", "default", "web"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("spec.replicas"));
}

TEST(KubeClientConnectTest, UnreachableServerIsUnavailable) {
  SimulatedClock clock;
  HttpClientOptions opts;
  opts.retry.max_attempts = 1;
  auto http = *CurlHttpClient::Create(opts, clock);
  // A port that was just bound and released: nothing listens there.
  int port;
  {
    HttpServerOptions so;
    auto s = *HttpServer::Create(so);
    ASSERT_TRUE(s->Start().ok());
    port = s->port();
    s->Stop();
  }
  KubeClient client(*http, {absl::StrCat("http://127.0.0.1:", port), "default", std::nullopt});
  auto r = client.GetNode("n1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("get nodes n1"));
}

// The same calls against the fake API server (tests/fakes), which keeps the real semantics.
class KubeClientFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fakes::FakeApiServerOptions fo;
    fo.allow_anonymous = true;
    api_ = *fakes::FakeApiServer::Create(fo);
    ASSERT_TRUE(api_->Start().ok());
    HttpClientOptions opts;
    opts.timeout = absl::Seconds(20);
    http_ = *CurlHttpClient::Create(opts, clock_);
    client_ = std::make_unique<KubeClient>(*http_, KubeClientOptions{api_->url(), "web", {}});
    ASSERT_TRUE(
        api_->PutObject(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"web"}})")
            .ok());
    ASSERT_TRUE(
        api_->PutObject(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api",)"
                        R"("namespace":"web"},"spec":{"replicas":2,"selector":{"matchLabels":)"
                        R"({"app":"api"}}},"status":{"replicas":2}})")
            .ok());
  }
  void TearDown() override { api_->Stop(); }

  const ScaleTarget kApi{"apps/v1", "Deployment", "web", "api"};
  SimulatedClock clock_;
  std::unique_ptr<fakes::FakeApiServer> api_;
  std::unique_ptr<CurlHttpClient> http_;
  std::unique_ptr<KubeClient> client_;
};

TEST_F(KubeClientFakeTest, ScaleGetPutPatchAndConflicts) {
  auto scale = client_->GetScale(kApi);
  ASSERT_TRUE(scale.ok()) << scale.status();
  EXPECT_EQ(scale->spec_replicas, 2);
  EXPECT_FALSE(scale->metadata.resource_version.empty());

  Scale want = *scale;
  want.spec_replicas = 4;
  auto put = client_->UpdateScale(kApi, want);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->spec_replicas, 4);
  // The stale resourceVersion is refused: re-read and retry.
  EXPECT_EQ(client_->UpdateScale(kApi, want).status().code(), absl::StatusCode::kAborted);

  auto patched = client_->PatchScaleReplicas(kApi, 6);
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ(patched->spec_replicas, 6);
  auto deployment = client_->Get({"apps", "v1", "deployments", "web", "api", ""});
  ASSERT_TRUE(deployment.ok());
  EXPECT_THAT(*deployment, HasSubstr("\"replicas\":6"));

  api_->ForceConflictOnNextWrite();
  EXPECT_EQ(client_->PatchScaleReplicas(kApi, 7).status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(client_->GetScale({"apps/v1", "Deployment", "web", "nope"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(KubeClientFakeTest, RetriesInjectedFaultsOnReads) {
  api_->FailNextRequests(2, 503);
  EXPECT_TRUE(client_->GetScale(kApi).ok());
  api_->ThrottleNextRequests(1, 2);
  const absl::Duration before = clock_.total_slept();
  EXPECT_TRUE(client_->GetScale(kApi).ok());
  EXPECT_GE(clock_.total_slept() - before, absl::Seconds(2));
  api_->FailNextRequests(10, 500);
  EXPECT_EQ(client_->GetScale(kApi).status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(KubeClientFakeTest, LeasesLifecycle) {
  EXPECT_EQ(client_->GetLease("web", "leader").status().code(), absl::StatusCode::kNotFound);
  Lease lease;
  lease.metadata.namespace_name = "web";
  lease.metadata.name = "leader";
  lease.holder_identity = "a";
  lease.lease_duration_seconds = 15;
  lease.renew_time = clock_.Now();
  auto created = client_->CreateLease(lease);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(client_->CreateLease(lease).status().code(), absl::StatusCode::kAlreadyExists);
  Lease next = *created;
  next.holder_identity = "b";
  next.lease_transitions = 1;
  auto updated = client_->UpdateLease(next);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->holder_identity, "b");
  EXPECT_EQ(client_->UpdateLease(next).status().code(), absl::StatusCode::kAborted);
  auto got = client_->GetLease("web", "leader");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->lease_transitions, 1);
  EXPECT_EQ(got->renew_time, absl::FromUnixMicros(absl::ToUnixMicros(clock_.Now())));
}

TEST_F(KubeClientFakeTest, EventsCreateAndPatch) {
  Event e;
  e.metadata.name = "api.1";
  e.involved_object = {"apps/v1", "Deployment", "web", "api", "", ""};
  e.reason = "Scaled";
  e.message = "to 4";
  e.type = "Normal";
  e.count = 1;
  e.first_timestamp = e.last_timestamp = clock_.Now();
  auto created = client_->CreateEvent(e);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->metadata.namespace_name, "web");
  auto patched = client_->PatchEvent("web", "api.1", 2, clock_.Now() + absl::Seconds(30));
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ(patched->count, 2);
  EXPECT_EQ(patched->reason, "Scaled");
  EXPECT_EQ(patched->last_timestamp, clock_.Now() + absl::Seconds(30));
}

TEST_F(KubeClientFakeTest, PodsSelectorsNodesAndLogs) {
  for (auto [name, app, node] : {std::tuple{"p1", "api", "n1"}, std::tuple{"p2", "api", "n2"},
                                 std::tuple{"p3", "db", "n1"}}) {
    ASSERT_TRUE(
        api_->PutObject(absl::StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")",
                                     name, R"(","namespace":"web","labels":{"app":")", app,
                                     R"("}},"spec":{"nodeName":")", node,
                                     R"(","containers":[{"name":"app"}]}})"))
            .ok());
  }
  auto pods = client_->ListPods("web", "app=api", "spec.nodeName=n1");
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->items.size(), 1u);
  EXPECT_EQ(pods->items[0].metadata.name, "p1");
  auto all = client_->ListPods("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 3u);

  ASSERT_TRUE(api_->PutObject(R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},)"
                              R"("status":{"allocatable":{"cpu":"4"}}})")
                  .ok());
  auto node = client_->GetNode("n1");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->allocatable.at("cpu"), "4");

  api_->SetPodLogs("web", "p1", "app", "now\n", "crashed\n");
  LogOptions lo{"web", "p1", "app", true, 10, 1024};
  auto logs = client_->GetContainerLogs(lo);
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_EQ(*logs, "crashed\n");
}

TEST_F(KubeClientFakeTest, ScalingPolicyStatus) {
  auto stored =
      api_->PutObject(R"({"apiVersion":"autoscaling.sextant.dev/v1alpha1","kind":"ScalingPolicy",)"
                      R"("metadata":{"name":"api","namespace":"web"},"spec":{"maxReplicas":5}})");
  ASSERT_TRUE(stored.ok()) << stored.status();
  auto list = client_->ListScalingPolicies("web");
  ASSERT_TRUE(list.ok()) << list.status();
  auto parsed = ParseObjectList(*list);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->items.size(), 1u);
  auto meta = ParseObjectMeta(parsed->items[0]);
  ASSERT_TRUE(meta.ok());
  auto updated = client_->UpdateScalingPolicyStatus(
      "web", "api",
      absl::StrCat(R"({"apiVersion":"autoscaling.sextant.dev/v1alpha1","kind":"ScalingPolicy",)",
                   R"("metadata":{"name":"api","namespace":"web","resourceVersion":")",
                   meta->resource_version, R"("},"spec":{"maxReplicas":5},)",
                   R"("status":{"desiredReplicas":3}})"));
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_THAT(*updated, HasSubstr("\"desiredReplicas\":3"));
}

TEST_F(KubeClientFakeTest, ForbiddenWithoutPermission) {
  api_->AddToken("viewer", "viewer");
  api_->SetPermissions("viewer", {{"get", "apps", "deployments/scale", "web"}});
  HttpClientOptions opts;
  opts.bearer_token = "viewer";
  opts.allow_token_over_http = true;
  auto http = *CurlHttpClient::Create(opts, clock_);
  KubeClient viewer(*http, KubeClientOptions{api_->url(), "web", {}});
  EXPECT_TRUE(viewer.GetScale(kApi).ok());
  auto denied = viewer.PatchScaleReplicas(kApi, 3);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.status().message(), HasSubstr("verb \"patch\""));
}

}  // namespace
}  // namespace sextant::kube
