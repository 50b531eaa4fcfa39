// KubeClient against the fake API server over HTTPS with bearer tokens: every call, each fault,
// token rotation and a wrong CA.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kube/client.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/util/test_util.h"

namespace sextant::kube {
namespace {

using ::testing::HasSubstr;

constexpr char kToken[] = "token-one";

class ClientFakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fakes::FakeApiServerOptions opts;
    opts.tls = true;
    opts.tls_cert_file = testing::SourcePath("tests/testdata/tls/server.pem");
    opts.tls_key_file = testing::SourcePath("tests/testdata/tls/server-key.pem");
    auto api = fakes::FakeApiServer::Create(opts, clock_);
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = *std::move(api);
    ASSERT_TRUE(api_->Start().ok());
    api_->AddToken(kToken, "sextant");
    for (
        const char* obj : {
            R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"web"}})",
            R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"front","namespace":"web"},
                 "spec":{"replicas":2,"selector":{"matchLabels":{"app":"front"}},
                         "template":{"metadata":{"labels":{"app":"front"}}}}})",
            R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db","namespace":"web"},
                 "spec":{"replicas":1,"selector":{"matchLabels":{"app":"db"}}}})",
            R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"front-1","namespace":"web","labels":{"app":"front"}},
                 "spec":{"nodeName":"node-a","containers":[{"name":"app","resources":{"requests":{"cpu":"500m"}}}]},
                 "status":{"phase":"Running"}})",
            R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"front-2","namespace":"web","labels":{"app":"front"}},
                 "spec":{"nodeName":"node-b","containers":[{"name":"app"}]},"status":{"phase":"Pending"}})",
            R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"db-0","namespace":"web","labels":{"app":"db"}},
                 "spec":{"nodeName":"node-a","containers":[{"name":"db"}]},"status":{"phase":"Running"}})",
            R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a","labels":{"zone":"z1"}},
                 "status":{"allocatable":{"cpu":"4"},"capacity":{"cpu":"4"}}})",
            R"({"apiVersion":"autoscaling.sextant.dev/v1alpha1","kind":"ScalingPolicy",
                 "metadata":{"name":"front","namespace":"web"},
                 "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"front"},
                         "minReplicas":1,"maxReplicas":5}})",
        }) {
      absl::StatusOr<std::string> put = api_->PutObject(obj);
      ASSERT_TRUE(put.ok()) << put.status() << "\n" << obj;
    }
    token_file_ = dir_.WriteFile("token", kToken);
    client_ = MakeClient(testing::SourcePath("tests/testdata/tls/ca.pem"));
    ASSERT_NE(client_, nullptr);
  }
  void TearDown() override { api_->Stop(); }

  std::unique_ptr<KubeClient> MakeClient(const std::string& ca_file) {
    ClusterConfig config;
    config.server = api_->url();
    config.http.ca_file = ca_file;
    config.http.bearer_token_file = token_file_;
    config.http.retry.max_attempts = 4;
    config.default_namespace = "web";
    absl::StatusOr<std::unique_ptr<KubeClient>> c = KubeClient::Create(config, clock_);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  SimulatedClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  testing::TempDir dir_;
  std::string token_file_;
  std::unique_ptr<fakes::FakeApiServer> api_;
  std::unique_ptr<KubeClient> client_;
};

const ScaleTarget kFront{"apps/v1", "Deployment", "web", "front"};

TEST_F(ClientFakeTest, ScaleGetUpdateAndPatchKeepTheDeploymentInStep) {
  absl::StatusOr<Scale> scale = client_->GetScale(kFront);
  ASSERT_TRUE(scale.ok()) << scale.status();
  EXPECT_EQ(scale->spec_replicas, 2);
  EXPECT_EQ(scale->status_selector, "app=front");
  Scale want = *scale;
  want.spec_replicas = 4;
  absl::StatusOr<Scale> updated = client_->UpdateScale(kFront, want);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->spec_replicas, 4);
  // The stale resourceVersion now conflicts: re-read and retry.
  absl::StatusOr<Scale> stale = client_->UpdateScale(kFront, want);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  absl::StatusOr<Scale> patched = client_->PatchScaleReplicas(kFront, 3);
  ASSERT_TRUE(patched.ok()) << patched.status();
  absl::StatusOr<std::string> deployment =
      api_->GetObject("apps/v1", "deployments", "web", "front");
  ASSERT_TRUE(deployment.ok());
  EXPECT_THAT(*deployment, HasSubstr("\"replicas\":3"));
  // StatefulSets too; an unknown kind is NotFound through discovery.
  absl::StatusOr<Scale> db = client_->GetScale({"apps/v1", "StatefulSet", "web", "db"});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(db->spec_replicas, 1);
  EXPECT_EQ(client_->GetScale({"example.com/v1", "Widget", "web", "w"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ClientFakeTest, ListPodsWithLabelAndFieldSelectorsAndGetNode) {
  absl::StatusOr<PodList> all = client_->ListPods("");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->items.size(), 3u);
  EXPECT_FALSE(all->resource_version.empty());
  absl::StatusOr<PodList> front = client_->ListPods("web", "app=front");
  ASSERT_TRUE(front.ok());
  EXPECT_EQ(front->items.size(), 2u);
  absl::StatusOr<PodList> on_a = client_->ListPods("", "", "spec.nodeName=node-a");
  ASSERT_TRUE(on_a.ok());
  EXPECT_EQ(on_a->items.size(), 2u);
  absl::StatusOr<PodList> both = client_->ListPods("web", "app=front", "spec.nodeName=node-a");
  ASSERT_TRUE(both.ok());
  ASSERT_EQ(both->items.size(), 1u);
  EXPECT_EQ(both->items[0].metadata.name, "front-1");
  absl::StatusOr<Node> node = client_->GetNode("node-a");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->metadata.labels.at("zone"), "z1");
  EXPECT_EQ(client_->GetNode("node-z").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ClientFakeTest, LeasesCreateGetUpdate) {
  Lease lease;
  lease.metadata.name = "leader";
  lease.metadata.namespace_name = "web";
  lease.holder_identity = "a";
  lease.lease_duration_seconds = 15;
  lease.renew_time = clock_.Now();
  absl::StatusOr<Lease> created = client_->CreateLease(lease);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(client_->CreateLease(lease).status().code(), absl::StatusCode::kAlreadyExists);
  absl::StatusOr<Lease> got = client_->GetLease("web", "leader");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->holder_identity, "a");
  EXPECT_EQ(got->renew_time, clock_.Now());
  Lease next = *got;
  next.holder_identity = "b";
  ASSERT_TRUE(client_->UpdateLease(next).ok());
  EXPECT_EQ(client_->UpdateLease(next).status().code(), absl::StatusCode::kAborted);  // stale
}

TEST_F(ClientFakeTest, EventsCreateAndPatchCount) {
  Event e;
  e.metadata.name = "front.1";
  e.metadata.namespace_name = "web";
  e.involved_object = {"apps/v1", "Deployment", "web", "front", "", ""};
  e.reason = "SuccessfulRescale";
  e.message = "New size: 3; reason: cpu above target";
  e.type = "Normal";
  e.count = 1;
  e.first_timestamp = clock_.Now();
  e.last_timestamp = clock_.Now();
  absl::StatusOr<Event> created = client_->CreateEvent(e);
  ASSERT_TRUE(created.ok()) << created.status();
  absl::StatusOr<Event> patched =
      client_->PatchEvent("web", "front.1", 2, clock_.Now() + absl::Seconds(30));
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ(patched->count, 2);
  EXPECT_EQ(patched->last_timestamp, clock_.Now() + absl::Seconds(30));
}

TEST_F(ClientFakeTest, ScalingPolicyListAndStatusUpdate) {
  absl::StatusOr<std::string> list = client_->ListScalingPolicies("web");
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_THAT(*list, HasSubstr("\"name\":\"front\""));
  absl::StatusOr<std::string> obj =
      api_->GetObject("autoscaling.sextant.dev/v1alpha1", "scalingpolicies", "web", "front");
  ASSERT_TRUE(obj.ok());
  std::string with_status =
      obj->substr(0, obj->rfind('}')) + R"(,"status":{"currentReplicas":2,"desiredReplicas":3}})";
  absl::StatusOr<std::string> updated =
      client_->UpdateScalingPolicyStatus("web", "front", with_status);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_THAT(*updated, HasSubstr("\"desiredReplicas\":3"));
  EXPECT_EQ(client_->UpdateScalingPolicyStatus("web", "front", with_status).status().code(),
            absl::StatusCode::kAborted);
}

TEST_F(ClientFakeTest, ContainerLogsCurrentAndPrevious) {
  api_->SetPodLogs("web", "front-1", "app", "line1\nline2\nline3\n", "panic: boom\nexit 2\n");
  LogOptions o;
  o.namespace_name = "web";
  o.pod = "front-1";
  o.container = "app";
  o.tail_lines = 2;
  absl::StatusOr<std::string> current = client_->GetContainerLogs(o);
  ASSERT_TRUE(current.ok()) << current.status();
  EXPECT_EQ(*current, "line2\nline3\n");
  o.previous = true;
  o.tail_lines.reset();
  absl::StatusOr<std::string> previous = client_->GetContainerLogs(o);
  ASSERT_TRUE(previous.ok()) << previous.status();
  EXPECT_THAT(*previous, HasSubstr("panic: boom"));
  o.pod = "nope";
  EXPECT_EQ(client_->GetContainerLogs(o).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ClientFakeTest, RetriesThrough5xxAnd429HonouringRetryAfter) {
  api_->FailNextRequests(2, 503);
  absl::StatusOr<Scale> scale = client_->GetScale(kFront);
  EXPECT_TRUE(scale.ok()) << scale.status();
  const absl::Duration slept_before = clock_.total_slept();
  api_->ThrottleNextRequests(1, 3);
  EXPECT_TRUE(client_->GetNode("node-a").ok());
  EXPECT_GE(clock_.total_slept() - slept_before, absl::Seconds(3));
  // Past the attempts, the mapped error comes back.
  api_->FailNextRequests(10, 503);
  EXPECT_EQ(client_->GetNode("node-a").status().code(), absl::StatusCode::kUnavailable);
  api_->FailNextRequests(0);
  api_->ThrottleNextRequests(10, 1);
  absl::Status throttled = client_->GetNode("node-a").status();
  EXPECT_EQ(throttled.code(), absl::StatusCode::kResourceExhausted);
  api_->ThrottleNextRequests(0);
}

TEST_F(ClientFakeTest, ForcedConflictIsAborted) {
  api_->ForceConflictOnNextWrite();
  EXPECT_EQ(client_->PatchScaleReplicas(kFront, 5).status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(client_->PatchScaleReplicas(kFront, 5).ok());
}

TEST_F(ClientFakeTest, ForbiddenNamesTheMissingPermission) {
  api_->SetPermissions(kToken, {{"get", "apps", "deployments/scale", "web"}});
  EXPECT_TRUE(client_->GetScale(kFront).ok());
  absl::Status s = client_->PatchScaleReplicas(kFront, 2).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("verb \"patch\""));
  EXPECT_THAT(s.message(), HasSubstr("deployments.apps/scale"));
  EXPECT_THAT(s.message(), HasSubstr("namespace \"web\""));
}

TEST_F(ClientFakeTest, RotatedTokenFileIsUsedByTheNextRequests) {
  ASSERT_TRUE(client_->GetNode("node-a").ok());
  // The token rotates: the server stops taking the old one and the file gets the new one.
  api_->AddToken("token-two", "sextant");
  api_->RemoveToken(kToken);
  dir_.WriteFile("token", "token-two");
  api_->ClearRequestLog();
  ASSERT_TRUE(client_->GetNode("node-a").ok());  // 401, re-read, retried with the new token
  ASSERT_TRUE(client_->GetNode("node-a").ok());
  std::vector<fakes::FakeApiRequestLogEntry> log = api_->RequestLog();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.back().token, "token-two");
  // Also without a 401: after the reload period the file is read again.
  api_->AddToken("token-three", "sextant");
  dir_.WriteFile("token", "token-three");
  clock_.Advance(absl::Minutes(1) + absl::Seconds(1));
  api_->ClearRequestLog();
  ASSERT_TRUE(client_->GetNode("node-a").ok());
  EXPECT_EQ(api_->RequestLog().front().token, "token-three");
  // A token nobody accepts is Unauthenticated.
  api_->RemoveToken("token-two");
  api_->RemoveToken("token-three");
  EXPECT_EQ(client_->GetNode("node-a").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(ClientFakeTest, WrongCaIsAClearTlsError) {
  std::unique_ptr<KubeClient> other =
      MakeClient(testing::SourcePath("tests/testdata/tls/other-ca.pem"));
  ASSERT_NE(other, nullptr);
  absl::Status s = other->GetNode("node-a").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), ::testing::ContainsRegex("[Cc]ertificate"));
  EXPECT_TRUE(api_->RequestLog().empty() ||
              api_->RequestLog().back().path != "/api/v1/nodes/node-a");
}

TEST(ClientFakeLatencyTest, SlowServerGivesDeadlineExceeded) {
  fakes::FakeApiServerOptions opts;
  opts.allow_anonymous = true;
  auto api = fakes::FakeApiServer::Create(opts);  // real clock: the latency is real
  ASSERT_TRUE(api.ok());
  ASSERT_TRUE((*api)->Start().ok());
  (*api)->SetLatency(absl::Milliseconds(800));
  HttpClientOptions http_opts;
  http_opts.retry.max_attempts = 1;
  auto http = CurlHttpClient::Create(http_opts);
  ASSERT_TRUE(http.ok());
  KubeClientOptions ko;
  ko.server = (*api)->url();
  ko.request_timeout = absl::Milliseconds(100);
  KubeClient client(**http, ko);
  absl::Status s = client.GetNode("n").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded) << s;
  (*api)->Stop();
}

}  // namespace
}  // namespace sextant::kube
