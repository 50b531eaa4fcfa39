// The autoscaler's controller against the fake API server over HTTPS with bearer tokens: scaling
// through the HPA arithmetic and behavior policies, the scale write's resourceVersion, status and
// Events, 409 storms, 5xx and 429 answers, a slow API, token rotation, missing permissions, a
// deleted target, invalid and paused policies, dry runs, file policies and two instances under
// leader election. Metric values come from an in-memory QueryClient; time is simulated.
#include "autoscaler/controller.h"

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "autoscaler/policy.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "common/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kube/client.h"
#include "kube/leader_election.h"
#include "kube/objects.h"
#include "prometheus/registry.h"
#include "rapidjson/document.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/util/test_util.h"

namespace sextant::autoscaler {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

constexpr char kNs[] = "default";
constexpr char kTokenA[] = "token-a";
constexpr char kTokenB[] = "token-b";
constexpr char kAdminToken[] = "token-admin";
constexpr char kWebScalePath[] = "/apis/apps/v1/namespaces/default/deployments/web/scale";
constexpr char kApiScalePath[] = "/apis/apps/v1/namespaces/default/deployments/api/scale";

std::string PolicyStatusPath(const std::string& name) {
  return absl::StrCat("/apis/autoscaling.sextant.dev/v1alpha1/namespaces/default/scalingpolicies/",
                      name, "/status");
}

// Answers queries from a table set by the test: query text -> samples, or an error.
class FakeQueryClient : public QueryClient {
 public:
  absl::StatusOr<std::vector<QuerySample>> Query(const std::string& query, absl::Time) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    auto it = answers_.find(query);
    if (it == answers_.end()) return std::vector<QuerySample>{};
    return it->second;
  }
  // Every pod of `pods` gets `value` for `query` (a Pods metric).
  void SetPods(const std::string& query, const std::vector<std::string>& pods, double value) {
    std::vector<QuerySample> samples;
    for (const std::string& pod : pods) {
      absl::StatusOr<prom::Labels> labels =
          prom::Labels::FromUnsorted({{"namespace", kNs}, {"pod", pod}});
      samples.push_back({*labels, value});
    }
    absl::MutexLock lock(&mu_);
    answers_[query] = std::move(samples);
  }
  void SetError(const std::string& query, absl::Status error) {
    absl::MutexLock lock(&mu_);
    answers_[query] = std::move(error);
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, absl::StatusOr<std::vector<QuerySample>>> answers_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

// One request as the controller's HTTP client sent it, with its answer's status.
struct SentRequest {
  std::string method;
  std::string url;
  std::string body;
  int status = 0;
};

void PrintTo(const SentRequest& r, std::ostream* os) {
  *os << r.method << " " << r.url << " -> " << r.status;
}

// Passes requests to a real client, recording them (bodies included, which the fake's request log
// lacks) and running an optional hook before each one.
class RecordingHttpClient : public HttpClient {
 public:
  explicit RecordingHttpClient(HttpClient& inner) : inner_(inner) {}
  absl::StatusOr<HttpClientResponse> Send(const HttpClientRequest& request) override {
    std::function<void(const HttpClientRequest&)> hook;
    {
      absl::MutexLock lock(&mu_);
      hook = hook_;
    }
    if (hook) hook(request);
    absl::StatusOr<HttpClientResponse> response = inner_.Send(request);
    absl::MutexLock lock(&mu_);
    sent_.push_back(
        {request.method, request.url, request.body, response.ok() ? response->status : 0});
    return response;
  }
  void SetHook(std::function<void(const HttpClientRequest&)> hook) {
    absl::MutexLock lock(&mu_);
    hook_ = std::move(hook);
  }
  // The requests whose URL path ends with `path_suffix` and whose method is `method`.
  std::vector<SentRequest> Sent(const std::string& method, const std::string& path_suffix) const {
    std::vector<SentRequest> out;
    absl::MutexLock lock(&mu_);
    for (const SentRequest& r : sent_) {
      absl::string_view url = r.url;
      url = url.substr(0, url.find('?'));
      if (r.method == method && absl::EndsWith(url, path_suffix)) out.push_back(r);
    }
    return out;
  }

 private:
  HttpClient& inner_;
  mutable absl::Mutex mu_;
  std::function<void(const HttpClientRequest&)> hook_ ABSL_GUARDED_BY(mu_);
  std::vector<SentRequest> sent_ ABSL_GUARDED_BY(mu_);
};

// Collects log lines while alive.
class LogCapture {
 public:
  LogCapture() {
    SetLogSink([this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      lines_.emplace_back(line);
    });
  }
  ~LogCapture() { SetLogSink(nullptr); }
  // The lines containing every one of `parts`.
  std::vector<std::string> Find(std::initializer_list<absl::string_view> parts) const {
    std::vector<std::string> out;
    absl::MutexLock lock(&mu_);
    for (const std::string& line : lines_) {
      bool all = true;
      for (absl::string_view p : parts) all = all && absl::StrContains(line, p);
      if (all) out.push_back(line);
    }
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

std::string Deployment(const std::string& name, int replicas) {
  return absl::StrCat(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":")", name,
                      R"(","namespace":"default"},"spec":{"replicas":)", replicas,
                      R"(,"selector":{"matchLabels":{"app":")", name,
                      R"("}},"template":{"metadata":{"labels":{"app":")", name,
                      R"("}}}},"status":{"replicas":)", replicas, "}}");
}

std::string Pod(const std::string& name, const std::string& app) {
  return absl::StrCat(
      R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")", name,
      R"(","namespace":"default","labels":{"app":")", app,
      R"("}},"spec":{"nodeName":"node-a","containers":[{"name":"app","resources":{"requests":{"cpu":"500m"}}}]},)",
      R"("status":{"phase":"Running","startTime":"2023-11-14T20:00:00Z",)",
      R"("conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2023-11-14T20:01:00Z"}]}})");
}

// A ScalingPolicy on Deployment `target` with one Pods metric `query` targeting an average of 100
// per pod; `extra` is added to the spec (",\"behavior\":{...}").
std::string Policy(const std::string& name, const std::string& target, const std::string& query,
                   const std::string& extra = "", int min_replicas = 1, int max_replicas = 10) {
  return absl::StrCat(
      R"({"apiVersion":"autoscaling.sextant.dev/v1alpha1","kind":"ScalingPolicy","metadata":{"name":")",
      name,
      R"(","namespace":"default"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":")",
      target, R"("},"minReplicas":)", min_replicas, R"(,"maxReplicas":)", max_replicas,
      R"(,"metrics":[{"type":"Pods","pods":{"query":")", query,
      R"(","target":{"type":"AverageValue","averageValue":"100"}}}])", extra, "}}");
}

// One controller with its own HTTP and Kubernetes clients, as one sextant process has.
struct Instance {
  std::string token;
  std::unique_ptr<CurlHttpClient> curl;
  std::unique_ptr<RecordingHttpClient> http;
  std::unique_ptr<kube::KubeClient> client;
  prometheus::Registry registry;
  std::unique_ptr<Controller> controller;
  std::unique_ptr<kube::LeaderElector> elector;
};

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fakes::FakeApiServerOptions opts;
    opts.tls = true;
    opts.tls_cert_file = testing::SourcePath("tests/testdata/tls/server.pem");
    opts.tls_key_file = testing::SourcePath("tests/testdata/tls/server-key.pem");
    absl::StatusOr<std::unique_ptr<fakes::FakeApiServer>> api =
        fakes::FakeApiServer::Create(opts, *api_clock_);
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = *std::move(api);
    ASSERT_TRUE(api_->Start().ok());
    api_->AddToken(kTokenA, "sextant-a");
    api_->AddToken(kTokenB, "sextant-b");
    api_->AddToken(kAdminToken, "admin");
    Put(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"default"}})");
    Put(Deployment("web", 2));
    Put(Pod("web-0", "web"));
    Put(Pod("web-1", "web"));
    token_file_ = dir_.WriteFile("token", kTokenA);

    HttpClientOptions admin_http;
    admin_http.ca_file = testing::SourcePath("tests/testdata/tls/ca.pem");
    admin_http.bearer_token = kAdminToken;
    absl::StatusOr<std::unique_ptr<CurlHttpClient>> curl =
        CurlHttpClient::Create(admin_http, clock_);
    ASSERT_TRUE(curl.ok()) << curl.status();
    admin_http_ = *std::move(curl);
    kube::KubeClientOptions ko;
    ko.server = api_->url();
    admin_ = std::make_unique<kube::KubeClient>(*admin_http_, ko);
  }

  void TearDown() override {
    // Ending the watches first lets the informers stop at once (an open watch notices a stop
    // only at its next poll); closing the clients' kept-alive connections lets the server stop
    // at once too.
    if (api_ == nullptr) return;
    api_->DropWatches();
    for (auto& i : instances_) {
      i->elector.reset();
      i->controller.reset();
    }
    instances_.clear();
    admin_.reset();
    admin_http_.reset();
    api_->Stop();
  }

  void Put(const std::string& json) {
    absl::StatusOr<std::string> put = api_->PutObject(json);
    ASSERT_TRUE(put.ok()) << put.status() << "\n" << json;
  }

  // A controller whose client reads its token from `token_file` ("" = token_file_).
  Instance& AddInstance(ControllerOptions options = {}, const std::string& token_file = "",
                        std::optional<absl::Duration> request_timeout = std::nullopt) {
    auto inst = std::make_unique<Instance>();
    HttpClientOptions http_opts;
    http_opts.ca_file = testing::SourcePath("tests/testdata/tls/ca.pem");
    http_opts.bearer_token_file = token_file.empty() ? token_file_ : token_file;
    http_opts.retry.max_attempts = 2;
    absl::StatusOr<std::unique_ptr<CurlHttpClient>> curl =
        CurlHttpClient::Create(http_opts, clock_);
    EXPECT_TRUE(curl.ok()) << curl.status();
    inst->curl = *std::move(curl);
    inst->http = std::make_unique<RecordingHttpClient>(*inst->curl);
    kube::KubeClientOptions ko;
    ko.server = api_->url();
    ko.request_timeout = request_timeout;
    inst->client = std::make_unique<kube::KubeClient>(*inst->http, ko);
    // The informers run on real time (their threads wait on it); syncs get simulated times.
    inst->controller = std::make_unique<Controller>(*inst->client, query_, RealClock::Get(),
                                                    std::move(options), inst->registry);
    instances_.push_back(std::move(inst));
    return *instances_.back();
  }

  // Starts the informers and waits (bounded) until they have listed and their watches are open.
  void StartInformers(Instance& inst) {
    const int watches_before = api_->open_watches();
    inst.controller->StartInformers();
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline &&
           !(inst.controller->HasSynced() && api_->open_watches() >= watches_before + 2)) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    ASSERT_TRUE(inst.controller->HasSynced());
    ASSERT_GE(api_->open_watches(), watches_before + 2);
  }

  // The default controller, started.
  Instance& Started(ControllerOptions options = {}) {
    Instance& inst = AddInstance(std::move(options));
    StartInformers(inst);
    return inst;
  }

  int Replicas(const std::string& deployment) {
    absl::StatusOr<std::string> json = api_->GetObject("apps/v1", "deployments", kNs, deployment);
    if (!json.ok()) return -1;
    rapidjson::Document doc;
    doc.Parse(json->c_str());
    return doc["spec"]["replicas"].GetInt();
  }

  std::string ResourceVersion(const std::string& deployment) {
    absl::StatusOr<std::string> json = api_->GetObject("apps/v1", "deployments", kNs, deployment);
    if (!json.ok()) return "";
    absl::StatusOr<kube::ObjectMeta> meta = kube::ParseObjectMeta(*json);
    return meta.ok() ? meta->resource_version : "";
  }

  // The stored policy (its status as the controller wrote it).
  ScalingPolicy StoredPolicy(const std::string& name) {
    absl::StatusOr<std::string> json =
        api_->GetObject("autoscaling.sextant.dev/v1alpha1", "scalingpolicies", kNs, name);
    EXPECT_TRUE(json.ok()) << json.status();
    if (!json.ok()) return {};
    absl::StatusOr<ScalingPolicy> policy = ParseScalingPolicy(*json, "stored");
    EXPECT_TRUE(policy.ok()) << policy.status();
    return policy.ok() ? *policy : ScalingPolicy{};
  }

  std::vector<kube::Event> Events(const std::string& reason = "") {
    std::vector<kube::Event> out;
    absl::StatusOr<std::string> body = admin_->List(kube::EventsResource(kNs));
    EXPECT_TRUE(body.ok()) << body.status();
    if (!body.ok()) return out;
    absl::StatusOr<kube::ObjectList> list = kube::ParseObjectList(*body);
    EXPECT_TRUE(list.ok()) << list.status();
    if (!list.ok()) return out;
    for (const std::string& item : list->items) {
      absl::StatusOr<kube::Event> e = kube::ParseEvent(item);
      EXPECT_TRUE(e.ok()) << e.status();
      if (e.ok() && (reason.empty() || e->reason == reason)) out.push_back(*e);
    }
    return out;
  }

  // Requests in the fake's log with `method` on `path` (and `token` unless empty).
  int Count(const std::string& method, const std::string& path, const std::string& token = "") {
    int n = 0;
    for (const fakes::FakeApiRequestLogEntry& e : api_->RequestLog()) {
      if (e.method == method && e.path == path && (token.empty() || e.token == token)) ++n;
    }
    return n;
  }

  // The value of the gauge `name` with label policy=`policy`, or -1.
  static double Gauge(const prometheus::Registry& registry, const std::string& name,
                      const std::string& policy) {
    for (const prometheus::MetricFamily& f : registry.Collect()) {
      if (f.name != name) continue;
      for (const prometheus::ClientMetric& m : f.metric) {
        for (const prometheus::ClientMetric::Label& l : m.label) {
          if (l.name == "policy" && l.value == policy) return m.gauge.value;
        }
      }
    }
    return -1;
  }

  void Sync(Instance& inst, absl::Time now) {
    absl::Status s = inst.controller->SyncOnce(now);
    ASSERT_TRUE(s.ok()) << s;
  }

  static std::optional<PolicyCondition> Condition(const ScalingPolicyStatus& status,
                                                  const std::string& type) {
    for (const PolicyCondition& c : status.conditions) {
      if (c.type == type) return c;
    }
    return std::nullopt;
  }

  static std::string ResourceVersionOfBody(const std::string& body) {
    absl::StatusOr<kube::ObjectMeta> meta = kube::ParseObjectMeta(body);
    return meta.ok() ? meta->resource_version : "";
  }
  static int ReplicasOfBody(const std::string& body) {
    absl::StatusOr<kube::Scale> scale = kube::ParseScale(body);
    return scale.ok() ? scale->spec_replicas : -1;
  }

  const absl::Time t0_ = absl::FromUnixSeconds(1'700'000'000);
  SimulatedClock clock_{t0_};
  Clock* api_clock_ = &clock_;  // the fake's clock (its injected latency sleeps on it)
  testing::TempDir dir_;
  std::string token_file_;
  std::unique_ptr<fakes::FakeApiServer> api_;
  std::unique_ptr<CurlHttpClient> admin_http_;
  std::unique_ptr<kube::KubeClient> admin_;
  FakeQueryClient query_;
  std::vector<std::unique_ptr<Instance>> instances_;
};

TEST_F(ControllerTest, ScalesUpOnAPodsMetricWithAPutCarryingTheResourceVersion) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);  // ratio 2 over 2 pods: 4 replicas
  Instance& inst = Started();
  const std::string rv_before = ResourceVersion("web");
  Sync(inst, t0_);
  EXPECT_EQ(Replicas("web"), 4);
  std::vector<SentRequest> puts = inst.http->Sent("PUT", kWebScalePath);
  ASSERT_THAT(puts, SizeIs(1));
  EXPECT_EQ(ResourceVersionOfBody(puts[0].body), rv_before);
  EXPECT_EQ(ReplicasOfBody(puts[0].body), 4);
  EXPECT_EQ(puts[0].status, 200);

  std::vector<PolicyReport> report = inst.controller->Report();
  ASSERT_THAT(report, SizeIs(1));
  EXPECT_EQ(report[0].name, "web");
  EXPECT_EQ(report[0].source, "api");
  EXPECT_EQ(report[0].current_replicas, 2);
  EXPECT_EQ(report[0].desired_replicas, 4);
  EXPECT_EQ(report[0].last_code, "scale_up");
  EXPECT_EQ(report[0].error, "");
  EXPECT_EQ(Gauge(inst.registry, "sextant_autoscaler_desired_replicas", "web"), 4);
  EXPECT_EQ(Gauge(inst.registry, "sextant_autoscaler_current_replicas", "web"), 2);

  ScalingPolicy stored = StoredPolicy("web");
  EXPECT_EQ(stored.status.desired_replicas, 4);
  EXPECT_EQ(stored.status.current_replicas, 2);
  ASSERT_TRUE(stored.status.last_scale_time.has_value());
  EXPECT_EQ(*stored.status.last_scale_time, t0_);
  std::optional<PolicyCondition> able = Condition(stored.status, "AbleToScale");
  ASSERT_TRUE(able.has_value());
  EXPECT_EQ(able->status, "True");
  EXPECT_EQ(able->reason, "SucceededRescale");

  // The next sync sees 4 replicas and the same per-pod load: nothing to do.
  Sync(inst, t0_ + absl::Seconds(15));
  EXPECT_THAT(inst.http->Sent("PUT", kWebScalePath), SizeIs(1));
  EXPECT_EQ(Replicas("web"), 4);
}

TEST_F(ControllerTest, ScaleDownWaitsForTheStabilizationWindow) {
  Put(Deployment("web", 4));
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 50);  // ratio 0.5 over 2 pods: 1 replica
  Instance& inst = Started();
  Sync(inst, t0_);
  Sync(inst, t0_ + absl::Seconds(150));
  Sync(inst, t0_ + absl::Seconds(299));
  EXPECT_EQ(Replicas("web"), 4);
  EXPECT_THAT(inst.http->Sent("PUT", kWebScalePath), IsEmpty());
  std::vector<PolicyReport> report = inst.controller->Report();
  ASSERT_THAT(report, SizeIs(1));
  EXPECT_EQ(report[0].last_code, "stabilized");
  std::optional<PolicyCondition> able = Condition(StoredPolicy("web").status, "AbleToScale");
  ASSERT_TRUE(able.has_value());
  EXPECT_EQ(able->reason, "ScaleDownStabilized");

  Sync(inst, t0_ + absl::Seconds(301));
  EXPECT_EQ(Replicas("web"), 1);
  EXPECT_THAT(inst.http->Sent("PUT", kWebScalePath), SizeIs(1));
}

TEST_F(ControllerTest, ScaleUpPolicyStepsOnePodPerMinute) {
  Put(Policy(
      "web", "web", "rps_web",
      R"(,"behavior":{"scaleUp":{"policies":[{"type":"Pods","value":1,"periodSeconds":60}]}})"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 300);  // ratio 3 over 2 pods: 6 replicas
  Instance& inst = Started();
  std::vector<int> seen;
  for (int i = 0; i < 6; ++i) {
    Sync(inst, t0_ + absl::Seconds(61 * i));
    seen.push_back(Replicas("web"));
    // Half a minute later the policy still holds.
    Sync(inst, t0_ + absl::Seconds(61 * i + 30));
    EXPECT_EQ(Replicas("web"), seen.back()) << i;
  }
  EXPECT_EQ(seen, (std::vector<int>{3, 4, 5, 6, 6, 6}));
  std::optional<PolicyCondition> limited = Condition(StoredPolicy("web").status, "ScalingLimited");
  ASSERT_TRUE(limited.has_value());
  EXPECT_EQ(limited->status, "False");
}

TEST_F(ControllerTest, ScaleDownPercentPolicyHalvesPerMinute) {
  Put(Deployment("web", 8));
  Put(Policy(
      "web", "web", "rps_web",
      R"(,"behavior":{"scaleDown":{"stabilizationWindowSeconds":0,"policies":[{"type":"Percent","value":50,"periodSeconds":60}]}})"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 10);  // 1 replica
  Instance& inst = Started();
  std::vector<int> seen;
  for (int i = 0; i < 4; ++i) {
    Sync(inst, t0_ + absl::Seconds(61 * i));
    seen.push_back(Replicas("web"));
  }
  EXPECT_EQ(seen, (std::vector<int>{4, 2, 1, 1}));
  std::vector<SentRequest> puts = inst.http->Sent("PUT", kWebScalePath);
  ASSERT_THAT(puts, SizeIs(3));
  EXPECT_EQ(ReplicasOfBody(puts[0].body), 4);
  EXPECT_EQ(ReplicasOfBody(puts[1].body), 2);
  EXPECT_EQ(ReplicasOfBody(puts[2].body), 1);
}

TEST_F(ControllerTest, StatusIsWrittenOnlyWhenItChanges) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 100);  // on target: no change
  Instance& inst = Started();
  const std::string status_path = PolicyStatusPath("web");
  for (int i = 0; i < 5; ++i) Sync(inst, t0_ + absl::Seconds(15 * i));
  EXPECT_EQ(Count("PUT", status_path), 1);
  EXPECT_THAT(inst.http->Sent("PUT", kWebScalePath), IsEmpty());
  ScalingPolicy stored = StoredPolicy("web");
  EXPECT_EQ(stored.status.current_replicas, 2);
  EXPECT_EQ(stored.status.desired_replicas, 2);
  ASSERT_THAT(stored.status.current_metrics, SizeIs(1));
  EXPECT_EQ(stored.status.current_metrics[0].average_value_milli, 100'000);
  EXPECT_EQ(stored.status.observed_generation, stored.metadata.generation);
  std::optional<PolicyCondition> active = Condition(stored.status, "ScalingActive");
  ASSERT_TRUE(active.has_value());
  EXPECT_EQ(active->status, "True");
  EXPECT_EQ(active->reason, "ValidMetricFound");

  // A new value changes currentMetrics: one more write, then quiet again.
  query_.SetPods("rps_web", {"web-0", "web-1"}, 105);
  for (int i = 5; i < 8; ++i) Sync(inst, t0_ + absl::Seconds(15 * i));
  EXPECT_EQ(Count("PUT", status_path), 2);
  EXPECT_EQ(StoredPolicy("web").status.current_metrics[0].average_value_milli, 105'000);
}

TEST_F(ControllerTest, OwnStatusWriteIsNotRolledBackByTheInformersOlderCopy) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 100);
  Instance& inst = Started();
  // Cut the watches: for a second (the reflector's backoff) the informers keep the objects as
  // listed, so they do not see our status writes.
  api_->DropWatches();
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (api_->open_watches() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_EQ(api_->open_watches(), 0);
  for (int i = 0; i < 3; ++i) Sync(inst, t0_ + absl::Seconds(15 * i));
  std::vector<SentRequest> writes = inst.http->Sent("PUT", PolicyStatusPath("web"));
  ASSERT_THAT(writes, SizeIs(1));
  EXPECT_EQ(writes[0].status, 200);
  EXPECT_EQ(StoredPolicy("web").status.desired_replicas, 2);
}

TEST_F(ControllerTest, RescaleRecordsEventsAndCountsRepeats) {
  // The Deployment is above maxReplicas after each outside change: the same rescale repeats.
  Put(Policy("web", "web", "rps_web", "", 1, 4));
  Put(Deployment("web", 6));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  Instance& inst = Started();
  Sync(inst, t0_);
  EXPECT_EQ(Replicas("web"), 4);
  std::vector<kube::Event> events = Events("SuccessfulRescale");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, "Normal");
  EXPECT_EQ(events[0].count, 1);
  EXPECT_THAT(events[0].message, HasSubstr("New size: 4"));
  EXPECT_EQ(events[0].involved_object.kind, "ScalingPolicy");
  EXPECT_EQ(events[0].involved_object.name, "web");
  EXPECT_EQ(events[0].involved_object.api_version, "autoscaling.sextant.dev/v1alpha1");
  EXPECT_EQ(events[0].source_component, "sextant-autoscaler");

  // Someone scales it out again; the same decision again bumps the same Event.
  Put(Deployment("web", 6));
  Sync(inst, t0_ + absl::Seconds(15));
  EXPECT_EQ(Replicas("web"), 4);
  events = Events("SuccessfulRescale");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].count, 2);
  ASSERT_TRUE(events[0].last_timestamp.has_value());
  EXPECT_EQ(*events[0].last_timestamp, t0_ + absl::Seconds(15));
}

TEST_F(ControllerTest, ConflictStormGivesUpAfterTheAttemptsThenSucceedsLater) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  ControllerOptions options;
  options.conflict_attempts = 3;
  Instance& inst = Started(options);
  api_->ForceConflictOnNextWrite(3);
  Sync(inst, t0_);
  // Each attempt re-read the scale before writing again.
  EXPECT_EQ(Count("GET", kWebScalePath), 3);
  EXPECT_EQ(Count("PUT", kWebScalePath), 3);
  EXPECT_EQ(Replicas("web"), 2);
  std::vector<kube::Event> failed = Events("FailedRescale");
  ASSERT_THAT(failed, SizeIs(1));
  EXPECT_EQ(failed[0].type, "Warning");
  EXPECT_THAT(failed[0].message, HasSubstr("New size: 4"));
  std::optional<PolicyCondition> able = Condition(StoredPolicy("web").status, "AbleToScale");
  ASSERT_TRUE(able.has_value());
  EXPECT_EQ(able->status, "False");
  EXPECT_EQ(able->reason, "FailedUpdateScale");
  EXPECT_THAT(Events("SuccessfulRescale"), IsEmpty());

  Sync(inst, t0_ + absl::Seconds(15));
  EXPECT_EQ(Replicas("web"), 4);
  EXPECT_THAT(Events("SuccessfulRescale"), SizeIs(1));
  for (const SentRequest& put : inst.http->Sent("PUT", kWebScalePath)) {
    EXPECT_EQ(ReplicasOfBody(put.body), 4);
  }
}

TEST_F(ControllerTest, ConflictRereadsTheScaleAndRecomputesFromTheNewReplicas) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);  // 4 replicas
  Instance& inst = Started();
  // Someone scales the Deployment to 3 between our read and our write: our write is stale.
  std::atomic<bool> fired{false};
  inst.http->SetHook([&](const HttpClientRequest& r) {
    if (r.method == "PUT" && absl::StrContains(r.url, "/deployments/web/scale") &&
        !fired.exchange(true)) {
      Put(Deployment("web", 3));
    }
  });
  Sync(inst, t0_);
  inst.http->SetHook(nullptr);
  std::vector<SentRequest> puts = inst.http->Sent("PUT", kWebScalePath);
  ASSERT_THAT(puts, SizeIs(2));
  EXPECT_EQ(puts[0].status, 409);
  EXPECT_EQ(puts[1].status, 200);
  EXPECT_FALSE(ResourceVersionOfBody(puts[0].body).empty());
  EXPECT_NE(ResourceVersionOfBody(puts[1].body), ResourceVersionOfBody(puts[0].body));
  EXPECT_EQ(ReplicasOfBody(puts[1].body), 4);
  EXPECT_EQ(Replicas("web"), 4);
  EXPECT_EQ(Count("GET", kWebScalePath), 2);
  std::vector<kube::Event> events = Events("SuccessfulRescale");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_THAT(events[0].message, HasSubstr("New size: 4"));
  EXPECT_THAT(Events("FailedRescale"), IsEmpty());
  ScalingPolicy stored = StoredPolicy("web");
  EXPECT_EQ(stored.status.current_replicas, 3);  // what the successful attempt read
  EXPECT_EQ(stored.status.desired_replicas, 4);
}

TEST_F(ControllerTest, ConflictOnAStaleReadNeverWritesASizeTheNewReadDoesNotJustify) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);  // 4 replicas
  Instance& inst = Started();
  // Someone scales to 5 between our read and write: 4 would now be a scale-down inside the
  // stabilization window, so nothing is written.
  std::atomic<bool> fired{false};
  inst.http->SetHook([&](const HttpClientRequest& r) {
    if (r.method == "PUT" && absl::StrContains(r.url, "/deployments/web/scale") &&
        !fired.exchange(true)) {
      Put(Deployment("web", 5));
    }
  });
  Sync(inst, t0_);
  inst.http->SetHook(nullptr);
  EXPECT_THAT(inst.http->Sent("PUT", kWebScalePath), SizeIs(1));
  EXPECT_EQ(Replicas("web"), 5);
  EXPECT_THAT(Events("FailedRescale"), IsEmpty());
  std::vector<PolicyReport> report = inst.controller->Report();
  ASSERT_THAT(report, SizeIs(1));
  EXPECT_EQ(report[0].current_replicas, 5);
  EXPECT_EQ(report[0].last_code, "stabilized");
}

TEST_F(ControllerTest, ServerErrorsAreRetriedThenBackedOffThenSucceed) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  ControllerOptions options;
  options.backoff_initial = absl::Seconds(10);
  Instance& inst = Started(options);

  // One 503: the HTTP client's own retry absorbs it.
  api_->FailNextRequests(1, 503);
  Sync(inst, t0_);
  EXPECT_EQ(Replicas("web"), 4);

  // More 503s than the client's attempts: the policy backs off (no request while it waits).
  query_.SetPods("rps_web", {"web-0", "web-1"}, 300);  // 6 replicas
  api_->FailNextRequests(2, 503);
  Sync(inst, t0_ + absl::Seconds(15));
  EXPECT_EQ(Replicas("web"), 4);
  std::vector<PolicyReport> report = inst.controller->Report();
  ASSERT_THAT(report, SizeIs(1));
  EXPECT_THAT(report[0].error, HasSubstr("unable to get the target's current scale"));
  const int gets = Count("GET", kWebScalePath);
  Sync(inst, t0_ + absl::Seconds(20));  // within the 10 s (+-20%) backoff
  EXPECT_EQ(Count("GET", kWebScalePath), gets);
  Sync(inst, t0_ + absl::Seconds(30));
  EXPECT_EQ(Replicas("web"), 6);
  EXPECT_EQ(inst.controller->Report()[0].error, "");
}

TEST_F(ControllerTest, ThrottledRequestsBackOffThenSucceed) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  ControllerOptions options;
  options.backoff_initial = absl::Seconds(10);
  Instance& inst = Started(options);
  api_->ThrottleNextRequests(2, 1);
  Sync(inst, t0_);
  EXPECT_EQ(Replicas("web"), 2);
  EXPECT_THAT(inst.controller->Report()[0].error, HasSubstr("429"));
  const int gets = Count("GET", kWebScalePath);
  Sync(inst, t0_ + absl::Seconds(5));
  EXPECT_EQ(Count("GET", kWebScalePath), gets);
  Sync(inst, t0_ + absl::Seconds(15));
  EXPECT_EQ(Replicas("web"), 4);
}

TEST_F(ControllerTest, SlowApiStillScales) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  ControllerOptions options;
  options.backoff_initial = absl::Seconds(10);
  Instance& inst = Started(options);
  // Latency on the simulated clock: every request takes 2 s of its time; the sync still works.
  api_->SetLatency(absl::Seconds(2));
  const absl::Time before = clock_.Now();
  Sync(inst, t0_);
  EXPECT_EQ(Replicas("web"), 4);
  EXPECT_GE(clock_.Now() - before, absl::Seconds(4));  // at least the GET and the PUT
  api_->SetLatency(absl::ZeroDuration());
}

// The fake's latency in real time, so that the client's request timeout fires.
class ControllerRealLatencyTest : public ControllerTest {
 protected:
  ControllerRealLatencyTest() { api_clock_ = &RealClock::Get(); }
};

TEST_F(ControllerRealLatencyTest, TimedOutCallsBackOffThenSucceed) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  ControllerOptions options;
  options.backoff_initial = absl::Seconds(10);
  Instance& inst = AddInstance(options, "", absl::Milliseconds(100));
  StartInformers(inst);
  api_->SetLatency(absl::Milliseconds(300));
  Sync(inst, t0_);
  api_->SetLatency(absl::ZeroDuration());
  EXPECT_EQ(Replicas("web"), 2);
  std::vector<PolicyReport> report = inst.controller->Report();
  ASSERT_THAT(report, SizeIs(1));
  EXPECT_THAT(report[0].error, HasSubstr("unable to get the target's current scale"));
  const int gets = Count("GET", kWebScalePath);
  Sync(inst, t0_ + absl::Seconds(5));  // backing off: no call
  EXPECT_EQ(Count("GET", kWebScalePath), gets);
  Sync(inst, t0_ + absl::Seconds(15));
  EXPECT_EQ(Replicas("web"), 4);
  EXPECT_EQ(inst.controller->Report()[0].error, "");
}

TEST_F(ControllerTest, TokenRotationIsPickedUpAfterA401) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  Instance& inst = Started();
  Sync(inst, t0_);
  EXPECT_EQ(Replicas("web"), 4);
  EXPECT_EQ(Count("PUT", kWebScalePath, kTokenA), 1);

  // The bound token rotates: the server accepts only the new one, the file holds it.
  api_->AddToken("token-a2", "sextant-a");
  api_->RemoveToken(kTokenA);
  dir_.WriteFile("token", "token-a2");
  query_.SetPods("rps_web", {"web-0", "web-1"}, 300);
  Sync(inst, t0_ + absl::Seconds(15));
  EXPECT_EQ(Replicas("web"), 6);
  EXPECT_EQ(Count("PUT", kWebScalePath, "token-a2"), 1);
  EXPECT_EQ(inst.controller->Report()[0].error, "");
}

TEST_F(ControllerTest, ForbiddenScaleLogsTheMissingPermissionAndSetsAbleToScaleFalse) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  Instance& inst = Started();
  // Everything but the scale subresource.
  api_->SetPermissions(kTokenA, {{"*", "", "*", "*"},
                                 {"*", "autoscaling.sextant.dev", "*", "*"},
                                 {"*", "apps", "deployments", "*"},
                                 {"*", "coordination.k8s.io", "*", "*"},
                                 {"*", "events.k8s.io", "*", "*"}});
  LogCapture logs;
  Sync(inst, t0_);
  EXPECT_EQ(Replicas("web"), 2);
  EXPECT_EQ(Count("PUT", kWebScalePath), 0);
  EXPECT_THAT(logs.Find({"missing RBAC permission", "get", "deployments.apps/scale"}),
              Not(IsEmpty()));
  std::optional<PolicyCondition> able = Condition(StoredPolicy("web").status, "AbleToScale");
  ASSERT_TRUE(able.has_value());
  EXPECT_EQ(able->status, "False");
  EXPECT_EQ(able->reason, "FailedGetScale");
  EXPECT_THAT(able->message, HasSubstr("forbidden"));
  EXPECT_THAT(Events("FailedGetScale"), SizeIs(1));
}

TEST_F(ControllerTest, DeletedTargetIsReportedWhileOtherPoliciesStillScale) {
  Put(Deployment("api", 2));
  Put(Pod("api-0", "api"));
  Put(Pod("api-1", "api"));
  Put(Policy("web", "web", "rps_web"));
  Put(Policy("api", "api", "rps_api"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  query_.SetPods("rps_api", {"api-0", "api-1"}, 200);
  Instance& inst = Started();
  ASSERT_TRUE(api_->DeleteObject("apps/v1", "deployments", kNs, "web").ok());
  Sync(inst, t0_);
  Sync(inst, t0_ + absl::Seconds(15));
  EXPECT_EQ(Count("PUT", kWebScalePath), 0);
  EXPECT_EQ(Replicas("api"), 4);
  ScalingPolicy web = StoredPolicy("web");
  std::optional<PolicyCondition> able = Condition(web.status, "AbleToScale");
  ASSERT_TRUE(able.has_value());
  EXPECT_EQ(able->status, "False");
  EXPECT_EQ(able->reason, "FailedGetScale");
  std::vector<kube::Event> events = Events("FailedGetScale");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].involved_object.name, "web");
  EXPECT_EQ(events[0].count, 2);
  std::vector<PolicyReport> report = inst.controller->Report();
  ASSERT_THAT(report, SizeIs(2));
  EXPECT_EQ(report[0].name, "api");
  EXPECT_EQ(report[0].error, "");
  EXPECT_EQ(report[1].name, "web");
  EXPECT_THAT(report[1].error, HasSubstr("not found"));
}

TEST_F(ControllerTest, InvalidPolicyIsReportedWhileOthersKeepRunning) {
  Put(Deployment("api", 2));
  Put(Pod("api-0", "api"));
  Put(Policy("bad", "web", "rps_web", "", 5, 3));  // minReplicas above maxReplicas
  Put(Policy("api", "api", "rps_api"));
  query_.SetPods("rps_api", {"api-0"}, 300);  // 3 replicas
  Instance& inst = Started();
  Sync(inst, t0_);
  Sync(inst, t0_ + absl::Seconds(15));
  EXPECT_EQ(Replicas("api"), 3);
  EXPECT_EQ(Replicas("web"), 2);
  EXPECT_EQ(Count("GET", kWebScalePath), 0);
  ScalingPolicy bad = StoredPolicy("bad");
  std::optional<PolicyCondition> active = Condition(bad.status, "ScalingActive");
  ASSERT_TRUE(active.has_value());
  EXPECT_EQ(active->status, "False");
  EXPECT_EQ(active->reason, "InvalidPolicy");
  EXPECT_THAT(active->message, HasSubstr("maxReplicas"));
  std::vector<kube::Event> events = Events("InvalidPolicy");
  ASSERT_THAT(events, SizeIs(1));
  EXPECT_EQ(events[0].type, "Warning");
  EXPECT_EQ(events[0].count, 1);  // reported once per generation
  EXPECT_EQ(Count("PUT", PolicyStatusPath("bad")), 1);
  std::vector<PolicyReport> report = inst.controller->Report();
  ASSERT_THAT(report, SizeIs(2));
  EXPECT_EQ(report[1].name, "bad");
  EXPECT_THAT(report[1].error, HasSubstr("invalid policy"));
}

TEST_F(ControllerTest, DryRunLogsTheDecisionAndWritesNothing) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  ControllerOptions options;
  options.dry_run = true;
  Instance& inst = Started(options);
  api_->ClearRequestLog();
  LogCapture logs;
  Sync(inst, t0_);
  Sync(inst, t0_ + absl::Seconds(15));
  EXPECT_EQ(Replicas("web"), 2);
  for (const fakes::FakeApiRequestLogEntry& e : api_->RequestLog()) {
    EXPECT_EQ(e.method, "GET") << e.path;
  }
  EXPECT_THAT(Events(), IsEmpty());
  EXPECT_THAT(logs.Find({"dry run", "web"}), Not(IsEmpty()));
  std::vector<PolicyReport> report = inst.controller->Report();
  ASSERT_THAT(report, SizeIs(1));
  EXPECT_EQ(report[0].desired_replicas, 4);
}

TEST_F(ControllerTest, PausedPolicyDoesNotScale) {
  Put(Policy("web", "web", "rps_web", R"(,"paused":true)"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 500);
  Instance& inst = Started();
  Sync(inst, t0_);
  Sync(inst, t0_ + absl::Seconds(15));
  EXPECT_EQ(Replicas("web"), 2);
  EXPECT_EQ(Count("PUT", kWebScalePath), 0);
  EXPECT_EQ(query_.calls(), 0);
  std::optional<PolicyCondition> active = Condition(StoredPolicy("web").status, "ScalingActive");
  ASSERT_TRUE(active.has_value());
  EXPECT_EQ(active->status, "False");
  EXPECT_EQ(active->reason, "ScalingPaused");
  std::vector<PolicyReport> report = inst.controller->Report();
  ASSERT_THAT(report, SizeIs(1));
  EXPECT_TRUE(report[0].paused);
  EXPECT_EQ(report[0].last_code, "paused");
}

TEST_F(ControllerTest, FilePolicyScalesItsTarget) {
  absl::StatusOr<ScalingPolicy> policy = ParseScalingPolicy(R"(
apiVersion: autoscaling.sextant.dev/v1alpha1
kind: ScalingPolicy
metadata: {name: web-file, namespace: default}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Pods
    pods: {query: rps_web, target: {type: AverageValue, averageValue: "100"}}
)",
                                                            "web.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status();
  query_.SetPods("rps_web", {"web-0", "web-1"}, 400);  // 8, capped at 5
  Instance& inst = Started();
  inst.controller->SetFilePolicies({{*policy, "web.yaml"}});
  Sync(inst, t0_);
  EXPECT_EQ(Replicas("web"), 4);  // the HPA's scale-up limit without behavior: max(2 x 2, 4)
  Sync(inst, t0_ + absl::Seconds(15));
  EXPECT_EQ(Replicas("web"), 5);
  // A file policy has no object: no status and no Events.
  EXPECT_THAT(Events(), IsEmpty());
  for (const fakes::FakeApiRequestLogEntry& e : api_->RequestLog()) {
    EXPECT_FALSE(absl::StrContains(e.path, "scalingpolicies/web-file")) << e.path;
  }
  std::vector<PolicyReport> report = inst.controller->Report();
  ASSERT_THAT(report, SizeIs(1));
  EXPECT_EQ(report[0].source, "web.yaml");
  EXPECT_EQ(report[0].desired_replicas, 5);
}

TEST_F(ControllerTest, PolicyChangesAndDeletionReachTheNextSyncs) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  Instance& inst = Started();
  Sync(inst, t0_);
  EXPECT_EQ(Replicas("web"), 4);
  // maxReplicas lowered to 3: once the informer has the new spec, the next sync scales down.
  Put(Policy("web", "web", "rps_web", "", 1, 3));
  absl::Time t = t0_;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Replicas("web") != 3 && absl::Now() < deadline) {
    t += absl::Seconds(15);
    Sync(inst, t);
  }
  EXPECT_EQ(Replicas("web"), 3);
  EXPECT_EQ(inst.controller->Report()[0].max_replicas, 3);
  EXPECT_EQ(Gauge(inst.registry, "sextant_autoscaler_desired_replicas", "web"), 3);
  // Deleted: forgotten, its self-metrics removed.
  ASSERT_TRUE(
      api_->DeleteObject("autoscaling.sextant.dev/v1alpha1", "scalingpolicies", kNs, "web").ok());
  while (!inst.controller->Report().empty() && absl::Now() < deadline) {
    t += absl::Seconds(15);
    Sync(inst, t);
  }
  EXPECT_THAT(inst.controller->Report(), IsEmpty());
  EXPECT_EQ(Gauge(inst.registry, "sextant_autoscaler_desired_replicas", "web"), -1);
}

TEST_F(ControllerTest, StartRunsTheSyncLoopUntilStop) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  ControllerOptions options;
  options.sync_interval = absl::Seconds(1);
  Instance& inst = AddInstance(options);
  inst.controller->Start();
  inst.controller->Start();  // idempotent
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Replicas("web") != 4 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(Replicas("web"), 4);
  api_->DropWatches();
  inst.controller->Stop();
  inst.controller->Stop();
  EXPECT_THAT(Events("SuccessfulRescale"), SizeIs(1));
}

// Where ScalingPolicies cannot be listed (no CRD, no RBAC), the loop does not wait for them:
// file policies act.
TEST_F(ControllerTest, FilePoliciesActWhenScalingPoliciesCannotBeListed) {
  absl::StatusOr<ScalingPolicy> policy = ParseScalingPolicy(R"(
apiVersion: autoscaling.sextant.dev/v1alpha1
kind: ScalingPolicy
metadata: {name: web-file, namespace: default}
spec:
  scaleTargetRef: {kind: Deployment, name: web}
  maxReplicas: 5
  metrics:
  - type: Pods
    pods: {query: rps_web, target: {type: AverageValue, averageValue: "100"}}
)",
                                                            "web.yaml");
  ASSERT_TRUE(policy.ok()) << policy.status();
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  // Everything but the scalingpolicies.
  api_->SetPermissions(kTokenA, {{"*", "", "*", "*"},
                                 {"*", "apps", "*", "*"},
                                 {"*", "coordination.k8s.io", "*", "*"},
                                 {"*", "events.k8s.io", "*", "*"}});
  ControllerOptions options;
  options.sync_interval = absl::Seconds(1);
  Instance& inst = AddInstance(options);
  inst.controller->SetFilePolicies({{*policy, "web.yaml"}});
  inst.controller->Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Replicas("web") != 4 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(1));
  EXPECT_EQ(Replicas("web"), 4);
  EXPECT_FALSE(inst.controller->HasSynced());
  EXPECT_TRUE(inst.controller->PodsSynced());
  api_->DropWatches();
  inst.controller->Stop();
}

TEST_F(ControllerTest, LeadershipLostDuringASyncWritesNothing) {
  Put(Policy("web", "web", "rps_web"));
  query_.SetPods("rps_web", {"web-0", "web-1"}, 200);
  Instance& inst = Started();
  // The leader at the start of the sync, no longer by the time it would write.
  std::atomic<int> asked{0};
  inst.controller->SetLeaderCheck([&asked] { return asked.fetch_add(1) == 0; });
  Sync(inst, t0_);
  inst.controller->SetLeaderCheck([] { return true; });
  EXPECT_GE(asked.load(), 2);
  EXPECT_EQ(Count("GET", kWebScalePath), 1);
  EXPECT_EQ(Count("PUT", kWebScalePath), 0);
  EXPECT_EQ(Count("PUT", PolicyStatusPath("web")), 0);
  EXPECT_THAT(Events(), IsEmpty());
  EXPECT_EQ(Replicas("web"), 2);
}

TEST_F(ControllerTest, TwoInstancesUnderLeaderElectionNeverBothWrite) {
  // Scale between 2 and 6 every round, so that every round the leader writes.
  Put(Policy(
      "web", "web", "rps_web",
      R"(,"behavior":{"scaleUp":{"policies":[{"type":"Pods","value":10,"periodSeconds":1}]},)"
      R"("scaleDown":{"stabilizationWindowSeconds":0,"policies":[{"type":"Pods","value":10,"periodSeconds":1}]}})"));
  const std::string token_b_file = dir_.WriteFile("token-b", kTokenB);
  Instance& a = AddInstance({}, token_file_);
  a.token = kTokenA;
  Instance& b = AddInstance({}, token_b_file);
  b.token = kTokenB;
  for (Instance* inst : {&a, &b}) {
    StartInformers(*inst);
    kube::LeaderElectionOptions lo;
    lo.lease_namespace = kNs;
    lo.lease_name = "sextant-autoscaler";
    lo.identity = inst->token;
    absl::StatusOr<std::unique_ptr<kube::LeaderElector>> elector =
        kube::LeaderElector::Create(*inst->client, clock_, lo);
    ASSERT_TRUE(elector.ok()) << elector.status();
    inst->elector = *std::move(elector);
    kube::LeaderElector* raw = inst->elector.get();
    inst->controller->SetLeaderCheck([raw] { return raw->IsLeader(); });
  }

  absl::Time t = t0_;
  std::vector<std::string> writers;  // per round, the tokens that wrote the scale
  auto round = [&](int r) {
    t += absl::Seconds(5);
    clock_.SetTime(t);
    // The candidate that does not hold the Lease may fail its attempt; that is its business.
    a.elector->Tick(t).IgnoreError();
    b.elector->Tick(t).IgnoreError();
    query_.SetPods("rps_web", {"web-0", "web-1"}, r % 2 == 0 ? 300 : 50);  // 6, then 1
    const size_t before = api_->RequestLog().size();
    Sync(a, t);
    Sync(b, t);
    std::vector<fakes::FakeApiRequestLogEntry> log = api_->RequestLog();
    std::set<std::string> tokens;
    for (size_t i = before; i < log.size(); ++i) {
      if (log[i].method == "PUT" && log[i].path == kWebScalePath) tokens.insert(log[i].token);
    }
    EXPECT_LE(tokens.size(), 1u) << "round " << r;
    writers.push_back(tokens.empty() ? "" : *tokens.begin());
  };
  // a ticks first and takes the Lease.
  for (int r = 0; r < 10; ++r) round(r);
  EXPECT_TRUE(a.elector->IsLeader());
  EXPECT_FALSE(b.elector->IsLeader());
  for (int r = 0; r < 10; ++r) EXPECT_EQ(writers[r], kTokenA) << r;

  // a steps down cleanly; b takes the free Lease at once and writes, a never again.
  ASSERT_TRUE(a.elector->Release(t).ok());
  ASSERT_TRUE(b.elector->Tick(t).ok());
  EXPECT_TRUE(b.elector->IsLeader());
  for (int r = 10; r < 20; ++r) round(r);
  EXPECT_TRUE(b.elector->IsLeader());
  EXPECT_FALSE(a.elector->IsLeader());
  for (int r = 10; r < 20; ++r) EXPECT_EQ(writers[r], kTokenB) << r;
  EXPECT_EQ(Count("PUT", kWebScalePath, kTokenA), 10);
  EXPECT_EQ(Count("PUT", kWebScalePath, kTokenB), 10);
}

}  // namespace
}  // namespace sextant::autoscaler
