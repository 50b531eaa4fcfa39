#include "tests/fakes/fake_apiserver.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tests/util/test_util.h"

namespace sextant::fakes {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kToken[] = "admin-token";

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  EXPECT_FALSE(doc.HasParseError()) << json;
  return doc;
}

std::string Str(const rapidjson::Value& v, std::initializer_list<const char*> path) {
  const rapidjson::Value* cur = &v;
  for (const char* key : path) {
    if (!cur->IsObject() || !cur->HasMember(key)) return "";
    cur = &(*cur)[key];
  }
  return cur->IsString() ? cur->GetString() : "";
}

int Int(const rapidjson::Value& v, std::initializer_list<const char*> path) {
  const rapidjson::Value* cur = &v;
  for (const char* key : path) {
    if (!cur->IsObject() || !cur->HasMember(key)) return -1;
    cur = &(*cur)[key];
  }
  return cur->IsInt() ? cur->GetInt() : -1;
}

std::vector<std::string> Names(const std::string& list_json) {
  rapidjson::Document doc = Parse(list_json);
  std::vector<std::string> names;
  if (!doc.IsObject() || !doc.HasMember("items")) return names;
  for (const auto& item : doc["items"].GetArray()) names.push_back(Str(item, {"metadata", "name"}));
  return names;
}

std::string Pod(const std::string& name, const std::string& labels, const std::string& node,
                const std::string& phase) {
  return absl::StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")", name,
                      R"(","namespace":"web","labels":{)", labels, R"(}},"spec":{"nodeName":")",
                      node, R"(","containers":[{"name":"app"}]},)", R"("status":{"phase":")", phase,
                      R"("}})");
}

constexpr char kDeployment[] =
    R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"api","namespace":"web"},)"
    R"("spec":{"replicas":2,"selector":{"matchLabels":{"app":"api","tier":"be"}}},)"
    R"("status":{"replicas":2}})";

constexpr char kPolicy[] =
    R"({"apiVersion":"autoscaling.sextant.dev/v1alpha1","kind":"ScalingPolicy",)"
    R"("metadata":{"name":"api","namespace":"web"},"spec":{"maxReplicas":5},)"
    R"("status":{"desiredReplicas":2}})";

class FakeApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(FakeApiServerOptions()); }

  void StartServer(FakeApiServerOptions options) {
    if (api_ != nullptr) api_->Stop();
    auto api = FakeApiServer::Create(options, clock_);
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = *std::move(api);
    api_->AddToken(kToken, "admin");
    ASSERT_TRUE(api_->Start().ok());
    ASSERT_TRUE(
        api_->PutObject(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"web"}})")
            .ok());
    HttpClientOptions copts;
    copts.allow_token_over_http = true;
    copts.bearer_token = kToken;
    copts.retry.max_attempts = 1;
    copts.timeout = absl::Seconds(10);
    auto client = CurlHttpClient::Create(copts);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }

  HttpClientResponse Call(const std::string& method, const std::string& path,
                          const std::string& body = "",
                          const std::string& content_type = "application/json",
                          const std::string& token = kToken) {
    HttpClientRequest req;
    req.method = method;
    req.url = api_->url() + path;
    req.body = body;
    if (!body.empty()) req.headers.Add("Content-Type", content_type);
    if (token != kToken) {
      if (!token.empty()) req.headers.Add("Authorization", "Bearer " + token);
    }
    HttpClientResponse resp;
    if (token.empty()) {
      // No Authorization header at all: use a client without a token.
      HttpClientOptions copts;
      copts.retry.max_attempts = 1;
      auto anon = CurlHttpClient::Create(copts);
      EXPECT_TRUE(anon.ok());
      auto r = (*anon)->Send(req);
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() ? *r : resp;
    }
    auto r = client_->Send(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : resp;
  }

  // Opens a watch at `path` and collects event lines until `max_events` arrived or the stream
  // ends; `on_event(n)` runs after the n-th event (1-based).
  std::vector<std::string> Watch(const std::string& path, int max_events,
                                 std::function<void(int)> on_event = nullptr) {
    std::vector<std::string> events;
    std::string buffer;
    HttpClientRequest req;
    req.url = api_->url() + path;
    req.timeout = absl::Seconds(10);
    req.on_body = [&](absl::string_view chunk) {
      buffer.append(chunk.data(), chunk.size());
      size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        events.push_back(buffer.substr(0, nl));
        buffer.erase(0, nl + 1);
        if (on_event) on_event(static_cast<int>(events.size()));
        if (static_cast<int>(events.size()) >= max_events) return false;
      }
      return true;
    };
    auto r = client_->Send(req);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) {
      EXPECT_EQ(r->status, 200) << r->body;
    }
    return events;
  }

  SimulatedClock clock_;
  std::unique_ptr<FakeApiServer> api_;
  std::unique_ptr<CurlHttpClient> client_;
};

TEST_F(FakeApiServerTest, CreateSetsServerFieldsAndBumpsResourceVersion) {
  int64_t before = api_->resource_version();
  HttpClientResponse r = Call("POST", "/apis/apps/v1/namespaces/web/deployments", kDeployment);
  ASSERT_EQ(r.status, 201) << r.body;
  rapidjson::Document d = Parse(r.body);
  EXPECT_EQ(Str(d, {"metadata", "resourceVersion"}), absl::StrCat(before + 1));
  EXPECT_EQ(api_->resource_version(), before + 1);
  EXPECT_FALSE(Str(d, {"metadata", "uid"}).empty());
  EXPECT_EQ(Str(d, {"metadata", "creationTimestamp"}), "2023-11-14T22:13:20Z");
  EXPECT_EQ(Int(d, {"metadata", "generation"}), 1);
  EXPECT_EQ(Str(d, {"kind"}), "Deployment");
  EXPECT_FALSE(d.HasMember("status"));  // a create ignores the status subresource

  HttpClientResponse get = Call("GET", "/apis/apps/v1/namespaces/web/deployments/api");
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(get.body, r.body);
}

TEST_F(FakeApiServerTest, CreateExistingGivesAlreadyExistsStatus) {
  ASSERT_EQ(Call("POST", "/apis/apps/v1/namespaces/web/deployments", kDeployment).status, 201);
  HttpClientResponse r = Call("POST", "/apis/apps/v1/namespaces/web/deployments", kDeployment);
  ASSERT_EQ(r.status, 409);
  rapidjson::Document d = Parse(r.body);
  EXPECT_EQ(Str(d, {"kind"}), "Status");
  EXPECT_EQ(Str(d, {"status"}), "Failure");
  EXPECT_EQ(Str(d, {"reason"}), "AlreadyExists");
  EXPECT_EQ(Str(d, {"message"}), "deployments.apps \"api\" already exists");
  EXPECT_EQ(Int(d, {"code"}), 409);
  EXPECT_EQ(Str(d, {"details", "name"}), "api");
}

TEST_F(FakeApiServerTest, CreateInMissingNamespaceIsNotFound) {
  HttpClientResponse r =
      Call("POST", "/api/v1/namespaces/nope/pods", R"({"metadata":{"name":"p"}})");
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(r.body, HasSubstr(R"(namespaces \"nope\" not found)"));
}

TEST_F(FakeApiServerTest, StalePutGivesConflictAndFreshPutBumpsGeneration) {
  HttpClientResponse created =
      Call("POST", "/apis/apps/v1/namespaces/web/deployments", kDeployment);
  rapidjson::Document d = Parse(created.body);
  std::string rv = Str(d, {"metadata", "resourceVersion"});
  std::string update = absl::StrCat(R"({"apiVersion":"apps/v1","kind":"Deployment",)",
                                    R"("metadata":{"name":"api","resourceVersion":")", rv,
                                    R"("},"spec":{"replicas":4}})");
  HttpClientResponse ok = Call("PUT", "/apis/apps/v1/namespaces/web/deployments/api", update);
  ASSERT_EQ(ok.status, 200) << ok.body;
  rapidjson::Document u = Parse(ok.body);
  EXPECT_EQ(Int(u, {"spec", "replicas"}), 4);
  EXPECT_EQ(Int(u, {"metadata", "generation"}), 2);
  EXPECT_NE(Str(u, {"metadata", "resourceVersion"}), rv);
  EXPECT_EQ(Str(u, {"metadata", "uid"}), Str(d, {"metadata", "uid"}));

  HttpClientResponse stale = Call("PUT", "/apis/apps/v1/namespaces/web/deployments/api", update);
  ASSERT_EQ(stale.status, 409);
  rapidjson::Document s = Parse(stale.body);
  EXPECT_EQ(Str(s, {"reason"}), "Conflict");
  EXPECT_THAT(Str(s, {"message"}),
              HasSubstr("Operation cannot be fulfilled on deployments.apps \"api\""));
}

TEST_F(FakeApiServerTest, PutOnMissingObjectIsNotFound) {
  HttpClientResponse r = Call("PUT", "/apis/apps/v1/namespaces/web/deployments/none",
                              R"({"metadata":{"name":"none"}})");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Str(Parse(r.body), {"reason"}), "NotFound");
}

TEST_F(FakeApiServerTest, MergePatchFollowsRfc7386) {
  ASSERT_TRUE(api_->PutObject(Pod("p1", R"("app":"a","drop":"me")", "n1", "Running")).ok());
  HttpClientResponse r =
      Call("PATCH", "/api/v1/namespaces/web/pods/p1",
           R"({"metadata":{"labels":{"drop":null,"new":"x"}}})", "application/merge-patch+json");
  ASSERT_EQ(r.status, 200) << r.body;
  rapidjson::Document d = Parse(r.body);
  EXPECT_EQ(Str(d, {"metadata", "labels", "app"}), "a");
  EXPECT_EQ(Str(d, {"metadata", "labels", "new"}), "x");
  EXPECT_FALSE(d["metadata"]["labels"].HasMember("drop"));
  EXPECT_EQ(Str(d, {"spec", "nodeName"}), "n1");

  HttpClientResponse smp =
      Call("PATCH", "/api/v1/namespaces/web/pods/p1", R"({"metadata":{"annotations":{"k":"v"}}})",
           "application/strategic-merge-patch+json");
  ASSERT_EQ(smp.status, 200);
  EXPECT_EQ(Str(Parse(smp.body), {"metadata", "annotations", "k"}), "v");

  EXPECT_EQ(Call("PATCH", "/api/v1/namespaces/web/pods/p1", R"([{"op":"remove"}])",
                 "application/json-patch+json")
                .status,
            415);
}

TEST_F(FakeApiServerTest, NoOpUpdateKeepsResourceVersion) {
  ASSERT_TRUE(api_->PutObject(Pod("p1", R"("app":"a")", "n1", "Running")).ok());
  int64_t rv = api_->resource_version();
  HttpClientResponse r =
      Call("PATCH", "/api/v1/namespaces/web/pods/p1", R"({"metadata":{"labels":{"app":"a"}}})",
           "application/merge-patch+json");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(api_->resource_version(), rv);
}

TEST_F(FakeApiServerTest, ListFiltersByLabelAndFieldSelectors) {
  ASSERT_TRUE(api_->PutObject(Pod("a", R"("app":"web","tier":"fe")", "n1", "Running")).ok());
  ASSERT_TRUE(api_->PutObject(Pod("b", R"("app":"web","tier":"be")", "n2", "Pending")).ok());
  ASSERT_TRUE(api_->PutObject(Pod("c", R"("app":"db")", "n1", "Running")).ok());
  auto list = [&](const std::string& query) {
    HttpClientResponse r = Call("GET", "/api/v1/namespaces/web/pods?" + query);
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    return Names(r.body);
  };
  EXPECT_THAT(list(""), ElementsAre("a", "b", "c"));
  EXPECT_THAT(list("labelSelector=app%3Dweb"), ElementsAre("a", "b"));
  EXPECT_THAT(list("labelSelector=app%3D%3Dweb"), ElementsAre("a", "b"));
  EXPECT_THAT(list("labelSelector=app%21%3Dweb"), ElementsAre("c"));
  EXPECT_THAT(list("labelSelector=tier%20in%20(fe%2Cx)"), ElementsAre("a"));
  EXPECT_THAT(list("labelSelector=tier%20notin%20(fe)"), ElementsAre("b", "c"));
  EXPECT_THAT(list("labelSelector=tier"), ElementsAre("a", "b"));
  EXPECT_THAT(list("labelSelector=%21tier"), ElementsAre("c"));
  EXPECT_THAT(list("labelSelector=app%3Dweb%2Ctier%21%3Dfe"), ElementsAre("b"));
  EXPECT_THAT(list("fieldSelector=spec.nodeName%3Dn1"), ElementsAre("a", "c"));
  EXPECT_THAT(list("fieldSelector=status.phase%21%3DRunning"), ElementsAre("b"));
  EXPECT_THAT(list("fieldSelector=metadata.name%3Db"), ElementsAre("b"));
  EXPECT_THAT(list("fieldSelector=metadata.namespace%3Dweb%2Cspec.nodeName%3Dn2"),
              ElementsAre("b"));

  HttpClientResponse all = Call("GET", "/api/v1/pods");
  rapidjson::Document d = Parse(all.body);
  EXPECT_EQ(Str(d, {"kind"}), "PodList");
  EXPECT_EQ(Str(d, {"apiVersion"}), "v1");
  EXPECT_EQ(Str(d, {"metadata", "resourceVersion"}), absl::StrCat(api_->resource_version()));
  EXPECT_EQ(d["items"].Size(), 3u);

  HttpClientResponse bad = Call("GET", "/api/v1/pods?fieldSelector=spec.other%3Dx");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("field label not supported: spec.other"));
}

TEST_F(FakeApiServerTest, ListPagesWithLimitAndContinue) {
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(api_->PutObject(Pod(name, "", "n1", "Running")).ok());
  }
  HttpClientResponse first = Call("GET", "/api/v1/namespaces/web/pods?limit=2");
  EXPECT_THAT(Names(first.body), ElementsAre("a", "b"));
  std::string cont = Str(Parse(first.body), {"metadata", "continue"});
  ASSERT_FALSE(cont.empty());
  HttpClientResponse second =
      Call("GET", "/api/v1/namespaces/web/pods?limit=2&continue=" + UrlEncode(cont));
  EXPECT_THAT(Names(second.body), ElementsAre("c"));
  EXPECT_EQ(Str(Parse(second.body), {"metadata", "continue"}), "");
}

// Pages across namespaces whose names share a prefix: "team" then "team-a" (in the store's
// order), with a page boundary inside "team".
TEST_F(FakeApiServerTest, ListPagesAcrossNamespacesWithSharedPrefix) {
  for (const char* ns : {"team", "team-a"}) {
    ASSERT_TRUE(api_->PutObject(absl::StrCat(R"({"apiVersion":"v1","kind":"Namespace",)",
                                             R"("metadata":{"name":")", ns, R"("}})"))
                    .ok());
    for (const char* name : {"p1", "p2"}) {
      ASSERT_TRUE(api_->PutObject(absl::StrCat(R"({"apiVersion":"v1","kind":"Pod","metadata":)",
                                               R"({"name":")", ns, "-", name, R"(","namespace":")",
                                               ns, R"("}})"))
                      .ok());
    }
  }
  std::vector<std::string> all;
  std::string cont;
  for (int page = 0; page < 10; ++page) {
    HttpClientResponse r =
        Call("GET", "/api/v1/pods?limit=1&labelSelector=&continue=" + UrlEncode(cont));
    ASSERT_EQ(r.status, 200) << r.body;
    for (std::string& n : Names(r.body)) all.push_back(std::move(n));
    cont = Str(Parse(r.body), {"metadata", "continue"});
    if (cont.empty()) break;
  }
  // Every pod of both namespaces (plus the fixture's own pods, if any), none skipped.
  for (const char* want : {"team-p1", "team-p2", "team-a-p1", "team-a-p2"}) {
    EXPECT_NE(std::find(all.begin(), all.end(), want), all.end()) << want;
  }
}

TEST_F(FakeApiServerTest, DeleteReturnsObjectAndThenNotFound) {
  ASSERT_TRUE(api_->PutObject(Pod("p1", "", "n1", "Running")).ok());
  HttpClientResponse del = Call("DELETE", "/api/v1/namespaces/web/pods/p1");
  ASSERT_EQ(del.status, 200);
  EXPECT_EQ(Str(Parse(del.body), {"metadata", "name"}), "p1");
  HttpClientResponse get = Call("GET", "/api/v1/namespaces/web/pods/p1");
  ASSERT_EQ(get.status, 404);
  rapidjson::Document d = Parse(get.body);
  EXPECT_EQ(Str(d, {"message"}), "pods \"p1\" not found");
  EXPECT_EQ(Str(d, {"details", "kind"}), "pods");
}

TEST_F(FakeApiServerTest, WatchReplaysEventsAfterResourceVersion) {
  ASSERT_TRUE(api_->PutObject(Pod("p1", R"("app":"a")", "n1", "Pending")).ok());
  int64_t rv = api_->resource_version();
  ASSERT_TRUE(api_->PutObject(Pod("other", R"("app":"b")", "n1", "Pending")).ok());
  ASSERT_TRUE(api_->PutObject(Pod("p1", R"("app":"a")", "n1", "Running")).ok());
  ASSERT_TRUE(api_->DeleteObject("v1", "pods", "web", "p1").ok());
  std::vector<std::string> events =
      Watch(absl::StrCat(
                "/api/v1/namespaces/web/pods?watch=1&labelSelector=app%3Da&resourceVersion=", rv),
            2);
  ASSERT_EQ(events.size(), 2u);
  rapidjson::Document modified = Parse(events[0]);
  EXPECT_EQ(Str(modified, {"type"}), "MODIFIED");
  EXPECT_EQ(Str(modified, {"object", "status", "phase"}), "Running");
  rapidjson::Document deleted = Parse(events[1]);
  EXPECT_EQ(Str(deleted, {"type"}), "DELETED");
  EXPECT_EQ(Str(deleted, {"object", "metadata", "resourceVersion"}),
            absl::StrCat(api_->resource_version()));
}

TEST_F(FakeApiServerTest, WatchWithoutResourceVersionStartsWithAddedThenLiveEvents) {
  ASSERT_TRUE(api_->PutObject(Pod("p1", "", "n1", "Pending")).ok());
  std::vector<std::string> events = Watch("/api/v1/namespaces/web/pods?watch=true", 2, [&](int n) {
    if (n == 1) {
      EXPECT_TRUE(api_->PutObject(Pod("p2", "", "n1", "Pending")).ok());
    }
  });
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(Str(Parse(events[0]), {"object", "metadata", "name"}), "p1");
  EXPECT_EQ(Str(Parse(events[0]), {"type"}), "ADDED");
  EXPECT_EQ(Str(Parse(events[1]), {"object", "metadata", "name"}), "p2");
}

TEST_F(FakeApiServerTest, WatchSendsBookmarksWhenAsked) {
  ASSERT_TRUE(api_->PutObject(Pod("p1", "", "n1", "Pending")).ok());
  std::vector<std::string> events =
      Watch("/api/v1/namespaces/web/pods?watch=1&allowWatchBookmarks=true", 2, [&](int n) {
        if (n == 1) api_->TriggerBookmarks();
      });
  ASSERT_EQ(events.size(), 2u);
  rapidjson::Document bookmark = Parse(events[1]);
  EXPECT_EQ(Str(bookmark, {"type"}), "BOOKMARK");
  EXPECT_EQ(Str(bookmark, {"object", "kind"}), "Pod");
  EXPECT_EQ(Str(bookmark, {"object", "metadata", "resourceVersion"}),
            absl::StrCat(api_->resource_version()));
}

TEST_F(FakeApiServerTest, WatchTurnsSelectorTransitionsIntoAddedAndDeleted) {
  ASSERT_TRUE(api_->PutObject(Pod("p1", "", "", "Pending")).ok());
  int64_t rv = api_->resource_version();
  ASSERT_TRUE(api_->PutObject(Pod("p1", "", "n1", "Pending")).ok());  // scheduled onto n1
  ASSERT_TRUE(api_->PutObject(Pod("p1", "", "n1", "Running")).ok());
  ASSERT_TRUE(api_->PutObject(Pod("p1", "", "n2", "Running")).ok());  // moved away
  std::vector<std::string> events = Watch(
      absl::StrCat("/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dn1&resourceVersion=", rv),
      3);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(Str(Parse(events[0]), {"type"}), "ADDED");
  EXPECT_EQ(Str(Parse(events[1]), {"type"}), "MODIFIED");
  EXPECT_EQ(Str(Parse(events[2]), {"type"}), "DELETED");
  EXPECT_EQ(Str(Parse(events[2]), {"object", "spec", "nodeName"}), "n2");
}

TEST_F(FakeApiServerTest, WatchSendsPeriodicBookmarks) {
  FakeApiServerOptions options;
  options.bookmark_interval = absl::Milliseconds(1);
  StartServer(options);
  std::vector<std::string> events =
      Watch(absl::StrCat("/api/v1/pods?watch=1&allowWatchBookmarks=true&resourceVersion=",
                         api_->resource_version()),
            2);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(Str(Parse(events[0]), {"type"}), "BOOKMARK");
  EXPECT_EQ(Str(Parse(events[1]), {"type"}), "BOOKMARK");
}

TEST_F(FakeApiServerTest, WatchFromExpiredResourceVersionGets410) {
  FakeApiServerOptions options;
  options.watch_history = 2;
  StartServer(options);
  for (const char* name : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(api_->PutObject(Pod(name, "", "n1", "Running")).ok());
  }
  std::vector<std::string> events = Watch("/api/v1/pods?watch=1&resourceVersion=2", 5);
  ASSERT_EQ(events.size(), 1u);
  rapidjson::Document d = Parse(events[0]);
  EXPECT_EQ(Str(d, {"type"}), "ERROR");
  EXPECT_EQ(Str(d, {"object", "kind"}), "Status");
  EXPECT_EQ(Int(d, {"object", "code"}), 410);
  EXPECT_EQ(Str(d, {"object", "reason"}), "Expired");
  EXPECT_THAT(Str(d, {"object", "message"}), HasSubstr("too old resource version: 2"));
}

TEST_F(FakeApiServerTest, DroppedWatchEndsTheStream) {
  ASSERT_TRUE(api_->PutObject(Pod("p1", "", "n1", "Pending")).ok());
  int open_during = -1;
  std::vector<std::string> events = Watch("/api/v1/namespaces/web/pods?watch=1", 5, [&](int n) {
    if (n == 1) {
      open_during = api_->open_watches();
      api_->DropWatches();
    }
  });
  EXPECT_EQ(events.size(), 1u);
  EXPECT_EQ(open_during, 1);
}

TEST_F(FakeApiServerTest, ScaleSubresourceStaysInStepWithDeployment) {
  ASSERT_TRUE(api_->PutObject(kDeployment).ok());
  const std::string path = "/apis/apps/v1/namespaces/web/deployments/api/scale";
  HttpClientResponse get = Call("GET", path);
  ASSERT_EQ(get.status, 200) << get.body;
  rapidjson::Document scale = Parse(get.body);
  EXPECT_EQ(Str(scale, {"kind"}), "Scale");
  EXPECT_EQ(Str(scale, {"apiVersion"}), "autoscaling/v1");
  EXPECT_EQ(Int(scale, {"spec", "replicas"}), 2);
  EXPECT_EQ(Int(scale, {"status", "replicas"}), 2);
  EXPECT_EQ(Str(scale, {"status", "selector"}), "app=api,tier=be");
  std::string rv = Str(scale, {"metadata", "resourceVersion"});

  HttpClientResponse put = Call(
      "PUT", path,
      absl::StrCat(R"({"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"api",)",
                   R"("namespace":"web","resourceVersion":")", rv, R"("},"spec":{"replicas":5}})"));
  ASSERT_EQ(put.status, 200) << put.body;
  rapidjson::Document dep = Parse(*api_->GetObject("apps/v1", "deployments", "web", "api"));
  EXPECT_EQ(Int(dep, {"spec", "replicas"}), 5);
  EXPECT_EQ(Str(dep, {"metadata", "resourceVersion"}), absl::StrCat(api_->resource_version()));
  EXPECT_EQ(Str(Parse(put.body), {"metadata", "resourceVersion"}),
            Str(dep, {"metadata", "resourceVersion"}));

  HttpClientResponse stale = Call("PUT", path,
                                  absl::StrCat(R"({"metadata":{"name":"api","resourceVersion":")",
                                               rv, R"("},"spec":{"replicas":1}})"));
  EXPECT_EQ(stale.status, 409);

  HttpClientResponse patch =
      Call("PATCH", path, R"({"spec":{"replicas":3}})", "application/merge-patch+json");
  ASSERT_EQ(patch.status, 200);
  EXPECT_EQ(Int(Parse(patch.body), {"spec", "replicas"}), 3);
  EXPECT_EQ(
      Int(Parse(*api_->GetObject("apps/v1", "deployments", "web", "api")), {"spec", "replicas"}),
      3);
}

TEST_F(FakeApiServerTest, StatusSubresourceIsSeparateFromMainResource) {
  ASSERT_TRUE(api_->PutObject(kPolicy).ok());
  const std::string path =
      "/apis/autoscaling.sextant.dev/v1alpha1/namespaces/web/scalingpolicies/api";
  // A custom resource needs a resourceVersion on update.
  HttpClientResponse unconditional =
      Call("PUT", path, R"({"metadata":{"name":"api"},"spec":{"maxReplicas":7}})");
  EXPECT_EQ(unconditional.status, 422);
  EXPECT_THAT(unconditional.body, HasSubstr("must be specified for an update"));
  auto rv = [&] { return absl::StrCat(api_->resource_version()); };
  HttpClientResponse main =
      Call("PUT", path,
           absl::StrCat(R"({"metadata":{"name":"api","resourceVersion":")", rv(),
                        R"("},"spec":{"maxReplicas":7},"status":{"desiredReplicas":9}})"));
  ASSERT_EQ(main.status, 200) << main.body;
  rapidjson::Document m = Parse(main.body);
  EXPECT_EQ(Int(m, {"spec", "maxReplicas"}), 7);
  EXPECT_EQ(Int(m, {"status", "desiredReplicas"}), 2);
  EXPECT_EQ(Int(m, {"metadata", "generation"}), 2);

  HttpClientResponse status =
      Call("PUT", path + "/status",
           absl::StrCat(R"({"metadata":{"name":"api","resourceVersion":")", rv(),
                        R"("},"spec":{"maxReplicas":1},"status":{"desiredReplicas":4}})"));
  ASSERT_EQ(status.status, 200) << status.body;
  rapidjson::Document s = Parse(status.body);
  EXPECT_EQ(Int(s, {"spec", "maxReplicas"}), 7);
  EXPECT_EQ(Int(s, {"status", "desiredReplicas"}), 4);
  EXPECT_EQ(Int(s, {"metadata", "generation"}), 2);

  HttpClientResponse patch = Call("PATCH", path + "/status", R"({"status":{"desiredReplicas":5}})",
                                  "application/merge-patch+json");
  ASSERT_EQ(patch.status, 200);
  EXPECT_EQ(Int(Parse(patch.body), {"status", "desiredReplicas"}), 5);
}

TEST_F(FakeApiServerTest, MissingOrUnknownTokenGets401Status) {
  for (const std::string& token : {std::string(), std::string("wrong")}) {
    HttpClientResponse r = Call("GET", "/api/v1/pods", "", "", token);
    ASSERT_EQ(r.status, 401) << token;
    rapidjson::Document d = Parse(r.body);
    EXPECT_EQ(Str(d, {"kind"}), "Status");
    EXPECT_EQ(Str(d, {"reason"}), "Unauthorized");
    EXPECT_EQ(Int(d, {"code"}), 401);
  }
  FakeApiServerOptions options;
  options.allow_anonymous = true;
  StartServer(options);
  EXPECT_EQ(Call("GET", "/api/v1/pods", "", "", "").status, 200);
}

TEST_F(FakeApiServerTest, PermissionTableGives403WithKubernetesMessage) {
  api_->AddToken("viewer-token", "viewer");
  api_->SetPermissions("viewer-token",
                       {{"list", "", "pods", "web"}, {"*", "apps", "deployments/scale", "*"}});
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/web/pods", "", "", "viewer-token").status, 200);
  HttpClientResponse r = Call("GET", "/api/v1/namespaces/other/pods", "", "", "viewer-token");
  ASSERT_EQ(r.status, 403);
  rapidjson::Document d = Parse(r.body);
  EXPECT_EQ(Str(d, {"reason"}), "Forbidden");
  EXPECT_EQ(Str(d, {"message"}),
            "pods is forbidden: User \"viewer\" cannot list resource \"pods\" in API group \"\" "
            "in the namespace \"other\"");
  HttpClientResponse node = Call("GET", "/api/v1/nodes/n1", "", "", "viewer-token");
  ASSERT_EQ(node.status, 403);
  EXPECT_EQ(Str(Parse(node.body), {"message"}),
            "nodes \"n1\" is forbidden: User \"viewer\" cannot get resource \"nodes\" in API "
            "group \"\" at the cluster scope");
  ASSERT_TRUE(api_->PutObject(kDeployment).ok());
  EXPECT_EQ(
      Call("GET", "/apis/apps/v1/namespaces/web/deployments/api/scale", "", "", "viewer-token")
          .status,
      200);
  EXPECT_EQ(
      Call("GET", "/apis/apps/v1/namespaces/web/deployments/api", "", "", "viewer-token").status,
      403);
}

TEST_F(FakeApiServerTest, InjectedServerErrorsThenRecovery) {
  api_->FailNextRequests(2, 503);
  EXPECT_EQ(Call("GET", "/api/v1/pods").status, 503);
  HttpClientResponse second = Call("GET", "/api/v1/pods");
  EXPECT_EQ(second.status, 503);
  EXPECT_EQ(Str(Parse(second.body), {"kind"}), "Status");
  EXPECT_EQ(Call("GET", "/api/v1/pods").status, 200);
}

TEST_F(FakeApiServerTest, InjectedThrottlingSendsRetryAfter) {
  api_->ThrottleNextRequests(1, 7);
  HttpClientResponse r = Call("GET", "/api/v1/pods");
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.headers.Get("retry-after"), "7");
  EXPECT_EQ(Str(Parse(r.body), {"reason"}), "TooManyRequests");
  EXPECT_EQ(Call("GET", "/api/v1/pods").status, 200);
}

TEST_F(FakeApiServerTest, InjectedLatencyWaitsOnTheClock) {
  api_->SetLatency(absl::Seconds(3));
  absl::Duration before = clock_.total_slept();
  EXPECT_EQ(Call("GET", "/api/v1/pods").status, 200);
  EXPECT_EQ(clock_.total_slept() - before, absl::Seconds(3));
}

TEST_F(FakeApiServerTest, ForcedConflictHitsOnlyTheNextWrite) {
  ASSERT_TRUE(api_->PutObject(kDeployment).ok());
  api_->ForceConflictOnNextWrite();
  const std::string path = "/apis/apps/v1/namespaces/web/deployments/api";
  EXPECT_EQ(Call("GET", path).status, 200);  // reads are not writes
  HttpClientResponse r =
      Call("PATCH", path, R"({"spec":{"replicas":9}})", "application/merge-patch+json");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Str(Parse(r.body), {"reason"}), "Conflict");
  EXPECT_EQ(
      Call("PATCH", path, R"({"spec":{"replicas":9}})", "application/merge-patch+json").status,
      200);
}

TEST_F(FakeApiServerTest, ForcedConflictsHitTheNextNWrites) {
  ASSERT_TRUE(api_->PutObject(kDeployment).ok());
  api_->ForceConflictOnNextWrite(3);
  const std::string path = "/apis/apps/v1/namespaces/web/deployments/api";
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Call("GET", path).status, 200);
    EXPECT_EQ(
        Call("PATCH", path, R"({"spec":{"replicas":9}})", "application/merge-patch+json").status,
        409)
        << i;
  }
  EXPECT_EQ(
      Call("PATCH", path, R"({"spec":{"replicas":9}})", "application/merge-patch+json").status,
      200);
}

TEST_F(FakeApiServerTest, RequestLogRecordsMethodPathQueryAndToken) {
  api_->ClearRequestLog();
  Call("GET", "/api/v1/namespaces/web/pods?labelSelector=a%3Db");
  Call("GET", "/api/v1/pods", "", "", "wrong");
  std::vector<FakeApiRequestLogEntry> log = api_->RequestLog();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].method, "GET");
  EXPECT_EQ(log[0].path, "/api/v1/namespaces/web/pods");
  EXPECT_EQ(log[0].query, "labelSelector=a%3Db");
  EXPECT_EQ(log[0].token, kToken);
  EXPECT_EQ(log[1].token, "wrong");
}

TEST_F(FakeApiServerTest, PodLogsHonourPreviousTailLinesAndLimitBytes) {
  ASSERT_TRUE(api_->PutObject(Pod("p1", "", "n1", "Running")).ok());
  api_->SetPodLogs("web", "p1", "app", "one\ntwo\nthree\n", "old\n");
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/web/pods/p1/log").body, "one\ntwo\nthree\n");
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/web/pods/p1/log?container=app&tailLines=2").body,
            "two\nthree\n");
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/web/pods/p1/log?tailLines=9").body,
            "one\ntwo\nthree\n");
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/web/pods/p1/log?limitBytes=5").body, "one\nt");
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/web/pods/p1/log?previous=true").body, "old\n");
  api_->SetPodLogs("web", "p1", "app", "now\n");
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/web/pods/p1/log?previous=true").status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/web/pods/none/log").status, 404);
}

TEST_F(FakeApiServerTest, DiscoveryDocumentsDescribeServedResources) {
  HttpClientResponse core = Call("GET", "/api/v1");
  ASSERT_EQ(core.status, 200);
  rapidjson::Document d = Parse(core.body);
  EXPECT_EQ(Str(d, {"kind"}), "APIResourceList");
  bool pods = false, log = false;
  for (const auto& r : d["resources"].GetArray()) {
    if (Str(r, {"name"}) == "pods") {
      pods = true;
      EXPECT_TRUE(r["namespaced"].GetBool());
      EXPECT_EQ(Str(r, {"kind"}), "Pod");
      EXPECT_EQ(std::string(r["shortNames"][0].GetString()), "po");
    }
    if (Str(r, {"name"}) == "pods/log") log = true;
  }
  EXPECT_TRUE(pods);
  EXPECT_TRUE(log);
  HttpClientResponse groups = Call("GET", "/apis");
  EXPECT_THAT(groups.body, HasSubstr(R"("name":"apps")"));
  EXPECT_THAT(groups.body, HasSubstr(R"("groupVersion":"autoscaling.sextant.dev/v1alpha1")"));
  EXPECT_THAT(groups.body, HasSubstr(R"("name":"coordination.k8s.io")"));
  HttpClientResponse apps = Call("GET", "/apis/apps/v1");
  EXPECT_THAT(apps.body, HasSubstr(R"("name":"deployments/scale")"));
  EXPECT_THAT(apps.body, HasSubstr(R"("deploy")"));
  EXPECT_EQ(Call("GET", "/version").status, 200);
  EXPECT_EQ(Call("GET", "/openapi/v2").status, 404);
}

TEST_F(FakeApiServerTest, TableOutputForKubectl) {
  ASSERT_TRUE(api_->PutObject(Pod("p1", "", "n1", "Running")).ok());
  HttpClientRequest req;
  req.url = api_->url() + "/api/v1/namespaces/web/pods";
  req.headers.Add("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  auto r = client_->Send(req);
  ASSERT_TRUE(r.ok());
  rapidjson::Document d = Parse(r->body);
  EXPECT_EQ(Str(d, {"kind"}), "Table");
  EXPECT_EQ(Str(d, {"apiVersion"}), "meta.k8s.io/v1");
  ASSERT_EQ(d["rows"].Size(), 1u);
  EXPECT_EQ(Str(d["rows"][0], {"object", "metadata", "name"}), "p1");
}

TEST_F(FakeApiServerTest, LeasesAndEventsAreStored) {
  HttpClientResponse lease = Call(
      "POST", "/apis/coordination.k8s.io/v1/namespaces/web/leases",
      R"({"metadata":{"name":"leader"},"spec":{"holderIdentity":"a","leaseDurationSeconds":15}})");
  ASSERT_EQ(lease.status, 201) << lease.body;
  EXPECT_EQ(Str(Parse(lease.body), {"kind"}), "Lease");
  HttpClientResponse event =
      Call("POST", "/api/v1/namespaces/web/events",
           R"({"metadata":{"generateName":"scale-"},"reason":"Scaled","count":1})");
  ASSERT_EQ(event.status, 201) << event.body;
  EXPECT_TRUE(absl::StartsWith(Str(Parse(event.body), {"metadata", "name"}), "scale-"));
}

TEST(FakeApiServerTlsTest, ServesHttpsWithTestCertificates) {
  FakeApiServerOptions options;
  options.tls = true;
  options.tls_cert_file = testing::SourcePath("tests/testdata/tls/server.pem");
  options.tls_key_file = testing::SourcePath("tests/testdata/tls/server-key.pem");
  auto api = FakeApiServer::Create(options);
  ASSERT_TRUE(api.ok()) << api.status();
  (*api)->AddToken("t", "u");
  ASSERT_TRUE((*api)->Start().ok());
  EXPECT_TRUE(absl::StartsWith((*api)->url(), "https://127.0.0.1:"));

  HttpClientOptions good;
  good.ca_file = testing::SourcePath("tests/testdata/tls/ca.pem");
  good.bearer_token = "t";
  good.retry.max_attempts = 1;
  auto client = CurlHttpClient::Create(good);
  ASSERT_TRUE(client.ok());
  HttpClientRequest req;
  req.url = (*api)->url() + "/api/v1/namespaces";
  auto r = (*client)->Send(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);

  HttpClientOptions bad = good;
  bad.ca_file = testing::SourcePath("tests/testdata/tls/other-ca.pem");
  auto wrong = CurlHttpClient::Create(bad);
  ASSERT_TRUE(wrong.ok());
  auto refused = (*wrong)->Send(req);
  EXPECT_FALSE(refused.ok());
}

}  // namespace
}  // namespace sextant::fakes
