#include "kube/informer.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_apiserver.h"
#include "tests/kube/stub_api_server.h"

namespace sextant::kube {
namespace {

using ::testing::ElementsAre;

std::string Pod(absl::string_view name, absl::string_view rv, absl::string_view node = "n1") {
  return absl::StrCat(R"({"kind":"Pod","metadata":{"name":")", name,
                      R"(","namespace":"default","resourceVersion":")", rv,
                      R"("},"spec":{"nodeName":")", node, R"("}})");
}

ObjectList List(absl::string_view rv, std::vector<std::string> items) {
  ObjectList l;
  l.resource_version = std::string(rv);
  l.items = std::move(items);
  return l;
}

WatchEvent Event(absl::string_view type, std::string object, absl::string_view rv) {
  return WatchEvent{std::string(type), std::move(object), std::string(rv)};
}

// Records callbacks as "add:KEY@RV", "update:KEY@OLD->NEW", "delete:KEY@RV".
struct Recorder {
  absl::Mutex mu;
  absl::CondVar changed;
  std::vector<std::string> log ABSL_GUARDED_BY(mu);

  void Add(std::string entry) {
    absl::MutexLock lock(&mu);
    log.push_back(std::move(entry));
    changed.SignalAll();
  }
  // Waits until `n` entries were recorded (since the last Take); false after `timeout`.
  bool WaitFor(size_t n, absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    absl::MutexLock lock(&mu);
    while (log.size() < n) {
      if (changed.WaitWithDeadline(&mu, deadline)) return log.size() >= n;
    }
    return true;
  }

  InformerHandlers Handlers() {
    return InformerHandlers{
        .on_add =
            [this](const CachedObject& o) {
              Add(absl::StrCat("add:", o.key, "@", o.metadata.resource_version));
            },
        .on_update =
            [this](const CachedObject& a, const CachedObject& b) {
              Add(absl::StrCat("update:", a.key, "@", a.metadata.resource_version, "->",
                               b.metadata.resource_version));
            },
        .on_delete =
            [this](const CachedObject& o) {
              Add(absl::StrCat("delete:", o.key, "@", o.metadata.resource_version));
            },
    };
  }
  std::vector<std::string> Take() {
    absl::MutexLock lock(&mu);
    return std::move(log);
  }
};

class InformerTest : public ::testing::Test {
 protected:
  InformerTest() {
    HttpClientOptions opts;
    opts.retry.max_attempts = 1;
    http_ = *CurlHttpClient::Create(opts, clock_);
    client_ = std::make_unique<KubeClient>(
        *http_, KubeClientOptions{stub_.url(), "default", absl::Seconds(20)});
  }

  SimulatedClock clock_;
  StubApiServer stub_;
  std::unique_ptr<CurlHttpClient> http_;
  std::unique_ptr<KubeClient> client_;
  Recorder rec_;
};

TEST_F(InformerTest, ReplaceAddsAndMarksSynced) {
  Informer inf(*client_, PodsResource(), {}, clock_, rec_.Handlers());
  EXPECT_FALSE(inf.HasSynced());
  ASSERT_TRUE(inf.Replace(List("5", {Pod("a", "1"), Pod("b", "2")})).ok());
  EXPECT_TRUE(inf.HasSynced());
  EXPECT_EQ(inf.size(), 2u);
  EXPECT_THAT(rec_.Take(), ElementsAre("add:default/a@1", "add:default/b@2"));
  auto a = inf.Get("default/a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->metadata.name, "a");
  EXPECT_EQ(a->json, Pod("a", "1"));
  EXPECT_EQ(inf.Get("default/zzz"), nullptr);
}

TEST_F(InformerTest, WatchEventsUpdateTheCache) {
  Informer inf(*client_, PodsResource(), {}, clock_, rec_.Handlers());
  ASSERT_TRUE(inf.Replace(List("5", {})).ok());
  ASSERT_TRUE(inf.Apply(Event("ADDED", Pod("a", "6"), "6")).ok());
  ASSERT_TRUE(inf.Apply(Event("MODIFIED", Pod("a", "7", "n2"), "7")).ok());
  ASSERT_TRUE(inf.Apply(Event("BOOKMARK", R"({"metadata":{"resourceVersion":"8"}})", "8")).ok());
  ASSERT_TRUE(inf.Apply(Event("ADDED", Pod("b", "9"), "9")).ok());
  auto typed = GetTyped(inf, "default/a", &ParsePod);
  ASSERT_TRUE(typed.ok()) << typed.status();
  EXPECT_EQ(typed->node_name, "n2");
  ASSERT_TRUE(inf.Apply(Event("DELETED", Pod("a", "10"), "10")).ok());
  EXPECT_EQ(inf.Get("default/a"), nullptr);
  EXPECT_EQ(GetTyped(inf, "default/a", &ParsePod).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(rec_.Take(), ElementsAre("add:default/a@6", "update:default/a@6->7",
                                       "add:default/b@9", "delete:default/a@10"));
  EXPECT_EQ(inf.Apply(Event("ADDED", R"({"metadata":{"name":7}})", "")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(inf.size(), 1u);
}

TEST_F(InformerTest, RelistProducesSyntheticDeletes) {
  Informer inf(*client_, PodsResource(), {}, clock_, rec_.Handlers());
  ASSERT_TRUE(inf.Replace(List("5", {Pod("a", "1"), Pod("b", "2"), Pod("c", "3")})).ok());
  rec_.Take();
  // While disconnected: c was deleted, b changed, d was created; a is unchanged.
  ASSERT_TRUE(inf.Replace(List("20", {Pod("a", "1"), Pod("b", "12"), Pod("d", "15")})).ok());
  EXPECT_THAT(rec_.Take(),
              ElementsAre("delete:default/c@3", "add:default/d@15", "update:default/b@2->12"));
  std::vector<std::string> keys;
  for (const auto& o : inf.List()) keys.push_back(o.get()->key);
  EXPECT_THAT(keys, ElementsAre("default/a", "default/b", "default/d"));
}

TEST_F(InformerTest, BadListItemsAreSkippedAndReported) {
  Informer inf(*client_, PodsResource(), {}, clock_, rec_.Handlers());
  absl::Status s = inf.Replace(List("5", {Pod("a", "1"), R"({"metadata":{}})"}));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(inf.size(), 1u);
  EXPECT_TRUE(inf.HasSynced());
}

TEST_F(InformerTest, CallbacksMayReadTheInformer) {
  Informer* self = nullptr;
  size_t seen_size = 0;
  InformerHandlers h;
  h.on_add = [&](const CachedObject& o) {
    seen_size = self->size();
    EXPECT_NE(self->Get(o.key), nullptr);
  };
  Informer inf(*client_, PodsResource(), {}, clock_, h);
  self = &inf;
  ASSERT_TRUE(inf.Apply(Event("ADDED", Pod("a", "1"), "1")).ok());
  EXPECT_EQ(seen_size, 1u);
}

TEST_F(InformerTest, SyncOnceListsThenWatchesAndRelistsAfterExpiry) {
  std::atomic<int> lists{0};
  std::atomic<int> watches{0};
  stub_.SetHandler([&](const HttpRequest& r) {
    if (r.params.Get("watch") != "true") {
      ++lists;
      std::string items = lists == 1 ? Pod("a", "1") + "," + Pod("b", "2") : Pod("a", "1");
      return HttpResponse::Json(
          200, absl::StrCat(R"({"metadata":{"resourceVersion":"5"},"items":[)", items, "]}"));
    }
    ++watches;
    HttpResponse resp;
    const int n = watches;
    resp.stream = [n](HttpStreamWriter& w) {
      if (n == 1) {
        w.Write(absl::StrCat(R"({"type":"ADDED","object":)", Pod("c", "6"), "}\n"));
        w.Write(absl::StrCat(R"({"type":"DELETED","object":)", Pod("a", "7"), "}\n"));
      } else {
        w.Write(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
                "\n");
      }
    };
    return resp;
  });
  Informer inf(*client_, PodsResource("default"), {}, clock_, rec_.Handlers());
  ASSERT_TRUE(inf.SyncOnce().ok());
  EXPECT_TRUE(inf.HasSynced());
  ASSERT_TRUE(inf.SyncOnce().ok());
  EXPECT_EQ(inf.reflector().resource_version(), "7");
  EXPECT_EQ(inf.SyncOnce().code(), absl::StatusCode::kOutOfRange);
  ASSERT_TRUE(inf.SyncOnce().ok());  // relist: b and c vanished, a came back
  EXPECT_THAT(rec_.Take(), ElementsAre("add:default/a@1", "add:default/b@2", "add:default/c@6",
                                       "delete:default/a@7", "delete:default/b@2",
                                       "delete:default/c@6", "add:default/a@1"));
}

TEST_F(InformerTest, StartAndStopRunTheThread) {
  stub_.SetHandler([](const HttpRequest& r) {
    if (r.params.Get("watch") != "true") {
      return HttpResponse::Json(
          200,
          absl::StrCat(R"({"metadata":{"resourceVersion":"5"},"items":[)", Pod("a", "1"), "]}"));
    }
    HttpResponse resp;
    resp.stream = [](HttpStreamWriter& w) {
      if (!w.Write(absl::StrCat(R"({"type":"MODIFIED","object":)", Pod("a", "6", "n9"), "}\n"))) {
        return;
      }
      while (!w.WaitForStop(absl::Milliseconds(20))) {
        if (!w.Write(R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"6"}}})"
                     "\n")) {
          return;
        }
      }
    };
    return resp;
  });
  absl::Notification updated;
  InformerHandlers h;
  h.on_update = [&](const CachedObject&, const CachedObject&) {
    if (!updated.HasBeenNotified()) updated.Notify();
  };
  Informer inf(*client_, PodsResource("default"), {}, RealClock::Get(), h);
  inf.Start();
  inf.Start();  // a second Start does nothing
  ASSERT_TRUE(updated.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_TRUE(inf.HasSynced());
  auto pod = GetTyped(inf, "default/a", &ParsePod);
  ASSERT_TRUE(pod.ok()) << pod.status();
  EXPECT_EQ(pod->node_name, "n9");
  inf.Stop();
  inf.Stop();
  EXPECT_TRUE(inf.reflector().stopping());
}

TEST_F(InformerTest, ConcurrentReadersSeeConsistentObjects) {
  Informer inf(*client_, PodsResource(), {}, clock_);
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done) {
      for (const auto& o : inf.List()) {
        ASSERT_EQ(o->key, "default/" + o->metadata.name);
      }
      inf.Get("default/p1");
    }
  });
  for (int i = 0; i < 500; ++i) {
    const std::string name = absl::StrCat("p", i % 10);
    ASSERT_TRUE(inf.Apply(Event(i % 3 == 2 ? "DELETED" : "ADDED", Pod(name, absl::StrCat(i)),
                                absl::StrCat(i)))
                    .ok());
  }
  done = true;
  reader.join();
  EXPECT_LE(inf.size(), 10u);
}

// The informer against the fake API server (tests/fakes), which keeps the real watch semantics.
class InformerFakeTest : public ::testing::Test {
 protected:
  void StartFake(int watch_history) {
    fakes::FakeApiServerOptions fo;
    fo.allow_anonymous = true;
    fo.watch_history = watch_history;
    api_ = *fakes::FakeApiServer::Create(fo);
    ASSERT_TRUE(api_->Start().ok());
    HttpClientOptions opts;
    opts.retry.max_attempts = 1;
    http_ = *CurlHttpClient::Create(opts, clock_);
    client_ = std::make_unique<KubeClient>(*http_, KubeClientOptions{api_->url(), "default", {}});
  }
  void TearDown() override {
    if (api_ != nullptr) api_->Stop();
  }
  void PutPod(absl::string_view name) {
    ASSERT_TRUE(api_->PutObject(absl::StrCat(R"({"apiVersion":"v1","kind":"Pod",)",
                                             R"("metadata":{"name":")", name,
                                             R"(","namespace":"default"}})"))
                    .ok());
  }
  // Waits (bounded) until the recorder holds `n` entries.
  bool WaitForLog(size_t n) { return rec_.WaitFor(n, absl::Seconds(30)); }

  SimulatedClock clock_;
  std::unique_ptr<fakes::FakeApiServer> api_;
  std::unique_ptr<CurlHttpClient> http_;
  std::unique_ptr<KubeClient> client_;
  Recorder rec_;
};

TEST_F(InformerFakeTest, RelistAfterExpiryDeletesWhatVanished) {
  StartFake(/*watch_history=*/2);
  PutPod("a");
  PutPod("b");
  Informer inf(*client_, PodsResource("default"), {}, clock_, rec_.Handlers());
  ASSERT_TRUE(inf.SyncOnce().ok());
  EXPECT_EQ(inf.size(), 2u);
  // While the informer is not watching: a goes, c, d and e come; the fake keeps only the last
  // two events, so the watch from the list's version expires.
  ASSERT_TRUE(api_->DeleteObject("v1", "pods", "default", "a").ok());
  PutPod("c");
  PutPod("d");
  PutPod("e");
  EXPECT_EQ(inf.SyncOnce().code(), absl::StatusCode::kOutOfRange);
  ASSERT_TRUE(inf.SyncOnce().ok());
  std::vector<std::string> log = rec_.Take();
  EXPECT_EQ(log.size(), 6u);
  EXPECT_EQ(log[2].rfind("delete:default/a@", 0), 0u);
  EXPECT_EQ(log[3].rfind("add:default/c@", 0), 0u);
  EXPECT_EQ(log[5].rfind("add:default/e@", 0), 0u);
  EXPECT_EQ(inf.Get("default/a"), nullptr);
  EXPECT_NE(inf.Get("default/e"), nullptr);
  EXPECT_EQ(inf.size(), 4u);
}

TEST_F(InformerFakeTest, ThreadFollowsChangesAcrossDroppedWatches) {
  StartFake(/*watch_history=*/1000);
  PutPod("a");
  InformerOptions io;
  io.reflector.initial_backoff = absl::Milliseconds(10);
  Informer inf(*client_, PodsResource("default"), io, RealClock::Get(), rec_.Handlers());
  inf.Start();
  ASSERT_TRUE(WaitForLog(1));  // the list's add
  EXPECT_TRUE(inf.HasSynced());
  PutPod("b");
  ASSERT_TRUE(WaitForLog(2));
  api_->DropWatches();
  PutPod("c");  // delivered by the next watch, replayed from the last version seen
  ASSERT_TRUE(WaitForLog(3));
  ASSERT_TRUE(api_->DeleteObject("v1", "pods", "default", "a").ok());
  ASSERT_TRUE(WaitForLog(4));
  // Stop() ends the open, idle watch within about a second, the server still running.
  const absl::Time stop_start = absl::Now();
  inf.Stop();
  EXPECT_LT(absl::Now() - stop_start, absl::Seconds(5));
  std::vector<std::string> log = rec_.Take();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0].rfind("add:default/a@", 0), 0u);
  EXPECT_EQ(log[1].rfind("add:default/b@", 0), 0u);
  EXPECT_EQ(log[2].rfind("add:default/c@", 0), 0u);
  EXPECT_EQ(log[3].rfind("delete:default/a@", 0), 0u);
  EXPECT_EQ(inf.size(), 2u);
}

}  // namespace
}  // namespace sextant::kube
