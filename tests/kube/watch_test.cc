#include "kube/watch.h"

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
#include "tests/kube/stub_api_server.h"

namespace sextant::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string PodEvent(absl::string_view type, absl::string_view name, absl::string_view rv) {
  return absl::StrCat(R"({"type":")", type, R"(","object":{"kind":"Pod","metadata":{"name":")",
                      name, R"(","namespace":"default","resourceVersion":")", rv, "\"}}}\n");
}
std::string Bookmark(absl::string_view rv) {
  return absl::StrCat(
      R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":")", rv,
      "\"}}}\n");
}
std::string Expired() {
  return absl::StrCat(R"({"type":"ERROR","object":{"kind":"Status","status":"Failure",)",
                      R"("message":"too old resource version: 1 vs 5",)",
                      R"("reason":"Expired","code":410}})", "\n");
}
std::string PodList(absl::string_view rv, const std::vector<std::string>& names) {
  std::string items;
  for (const std::string& n : names) {
    if (!items.empty()) items += ",";
    absl::StrAppend(&items, R"({"metadata":{"name":")", n, R"(","namespace":"default"}})");
  }
  return absl::StrCat(R"({"kind":"PodList","metadata":{"resourceVersion":")", rv, R"("},"items":[)",
                      items, "]}");
}

// A streamed answer writing `pieces` one by one.
HttpResponse Stream(std::vector<std::string> pieces) {
  HttpResponse r;
  r.headers.Add("Content-Type", "application/json");
  r.stream = [pieces = std::move(pieces)](HttpStreamWriter& w) {
    for (const std::string& p : pieces) {
      if (!w.Write(p)) return;
    }
  };
  return r;
}

std::vector<std::string> Types(const std::vector<WatchEvent>& events) {
  std::vector<std::string> out;
  for (const WatchEvent& e : events) out.push_back(e.type);
  return out;
}

const RequestInfo kWatchPods{"watch", "pods", "default", ""};

TEST(WatchDecoderTest, EventsSplitAcrossChunks) {
  const std::string stream = PodEvent("ADDED", "a", "5") + PodEvent("MODIFIED", "a", "6");
  WatchDecoder d(kWatchPods);
  std::vector<WatchEvent> events;
  for (char c : stream) ASSERT_TRUE(d.Feed(absl::string_view(&c, 1), &events).ok());
  EXPECT_THAT(Types(events), ElementsAre("ADDED", "MODIFIED"));
  EXPECT_EQ(events[1].resource_version, "6");
  EXPECT_THAT(events[0].object, HasSubstr(R"("name":"a")"));
  EXPECT_EQ(d.resource_version(), "6");
}

TEST(WatchDecoderTest, SeveralEventsInOneChunkAndBookmarks) {
  WatchDecoder d(kWatchPods);
  std::vector<WatchEvent> events;
  ASSERT_TRUE(d.Feed(PodEvent("ADDED", "a", "5") + "\n" + PodEvent("DELETED", "a", "7") +
                         Bookmark("9") + PodEvent("ADDED", "b", "10").substr(0, 10),
                     &events)
                  .ok());
  EXPECT_THAT(Types(events), ElementsAre("ADDED", "DELETED", "BOOKMARK"));
  EXPECT_EQ(d.resource_version(), "9");
  ASSERT_TRUE(d.Feed(PodEvent("ADDED", "b", "10").substr(10), &events).ok());
  EXPECT_EQ(d.resource_version(), "10");
  EXPECT_EQ(events.size(), 4u);
}

TEST(WatchDecoderTest, ErrorEventsBecomeStatuses) {
  WatchDecoder d(kWatchPods);
  std::vector<WatchEvent> events;
  absl::Status s = d.Feed(PodEvent("ADDED", "a", "5") + Expired(), &events);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(s.message(), HasSubstr("too old resource version"));
  EXPECT_EQ(events.size(), 1u);

  WatchDecoder d2(kWatchPods);
  s = d2.Feed(R"({"type":"ERROR","object":{"kind":"Status","code":500,"message":"boom"}})"
              "\n",
              &events);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
}

TEST(WatchDecoderTest, MalformedLinesAreInvalidArgument) {
  WatchDecoder d(kWatchPods);
  std::vector<WatchEvent> events;
  EXPECT_EQ(d.Feed("{not json}\n", &events).code(), absl::StatusCode::kInvalidArgument);
  WatchDecoder d2(kWatchPods);
  EXPECT_EQ(d2.Feed(R"({"type":"ADDED"})"
                    "\n",
                    &events)
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(WatchDecoderTest, FinishDecodesALastLineWithoutNewline) {
  WatchDecoder d(kWatchPods);
  std::vector<WatchEvent> events;
  std::string e = PodEvent("ADDED", "a", "5");
  e.pop_back();
  ASSERT_TRUE(d.Feed(e, &events).ok());
  EXPECT_TRUE(events.empty());
  ASSERT_TRUE(d.Finish(&events).ok());
  EXPECT_EQ(events.size(), 1u);
}

class WatchTest : public ::testing::Test {
 protected:
  WatchTest() {
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
};

TEST_F(WatchTest, StreamsEventsAndSendsWatchParameters) {
  const std::string all =
      PodEvent("ADDED", "a", "11") + PodEvent("MODIFIED", "a", "12") + Bookmark("15");
  stub_.SetHandler([&](const HttpRequest&) {
    // Odd chunking: an event split in two, then the rest at once.
    return Stream({all.substr(0, 30), all.substr(30, 50), all.substr(80)});
  });
  WatchOptions wo;
  wo.resource_version = "10";
  wo.label_selector = "app=web";
  wo.timeout = absl::Seconds(90);
  std::vector<WatchEvent> events;
  auto r = Watch(*client_, PodsResource("default"), wo, [&](const WatchEvent& e) {
    events.push_back(e);
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Types(events), ElementsAre("ADDED", "MODIFIED", "BOOKMARK"));
  EXPECT_EQ(r->resource_version, "15");
  EXPECT_EQ(r->events, 3);
  EXPECT_FALSE(r->stopped);
  HttpRequest req = stub_.requests().back();
  EXPECT_EQ(req.path, "/api/v1/namespaces/default/pods");
  EXPECT_EQ(req.params.Get("watch"), "true");
  EXPECT_EQ(req.params.Get("resourceVersion"), "10");
  EXPECT_EQ(req.params.Get("allowWatchBookmarks"), "true");
  EXPECT_EQ(req.params.Get("timeoutSeconds"), "90");
  EXPECT_EQ(req.params.Get("labelSelector"), "app=web");
}

TEST_F(WatchTest, CallerCanStopAfterAnEvent) {
  stub_.SetHandler([](const HttpRequest&) {
    return Stream({PodEvent("ADDED", "a", "11"), PodEvent("ADDED", "b", "12")});
  });
  int seen = 0;
  auto r = Watch(*client_, PodsResource("default"), {}, [&](const WatchEvent&) {
    ++seen;
    return false;
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->stopped);
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(r->resource_version, "11");
}

TEST_F(WatchTest, GoneIsOutOfRange) {
  stub_.SetHandler([](const HttpRequest&) {
    return HttpResponse::Json(
        410, R"({"kind":"Status","status":"Failure","reason":"Expired","code":410})");
  });
  auto r = Watch(*client_, PodsResource("default"), {}, [](const WatchEvent&) { return true; });
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);

  stub_.SetHandler([](const HttpRequest&) { return Stream({Expired()}); });
  r = Watch(*client_, PodsResource("default"), {}, [](const WatchEvent&) { return true; });
  EXPECT_EQ(r.status().code(), absl::StatusCode::kOutOfRange);
}

// Answers lists with `list_rv` and watches with a scripted stream; counts both.
struct ScriptedServer {
  std::atomic<int> lists{0};
  std::atomic<int> watches{0};
  std::function<HttpResponse(int n)> list = [](int) {
    return HttpResponse::Json(200, PodList("5", {"a", "b"}));
  };
  std::function<HttpResponse(int n)> watch = [](int) { return Stream({}); };

  HttpResponse Serve(const HttpRequest& r) {
    if (r.params.Get("watch") == "true") return watch(++watches);
    return list(++lists);
  }
};

TEST_F(WatchTest, ReflectorListsThenWatchesAndRelistsOnExpiry) {
  ScriptedServer s;
  s.list = [](int n) { return HttpResponse::Json(200, PodList(n == 1 ? "5" : "20", {"a"})); };
  s.watch = [](int n) {
    if (n == 1) return Stream({PodEvent("ADDED", "b", "6"), Bookmark("8")});
    return Stream({Expired()});
  };
  stub_.SetHandler([&](const HttpRequest& r) { return s.Serve(r); });
  std::vector<std::string> log;
  Reflector reflector(
      *client_, PodsResource("default"), {}, clock_,
      {.on_list =
           [&](const ObjectList& l) {
             log.push_back(absl::StrCat("list@", l.resource_version, ":", l.items.size()));
           },
       .on_event = [&](const WatchEvent& e) { log.push_back(e.type); }});
  EXPECT_TRUE(reflector.Step().ok());
  EXPECT_EQ(reflector.resource_version(), "5");
  EXPECT_TRUE(reflector.Step().ok());  // watch from 5: ADDED, then a bookmark at 8
  EXPECT_EQ(reflector.resource_version(), "8");
  EXPECT_EQ(stub_.requests().back().params.Get("resourceVersion"), "5");
  EXPECT_EQ(reflector.Step().code(), absl::StatusCode::kOutOfRange);  // watch from 8: expired
  EXPECT_EQ(stub_.requests().back().params.Get("resourceVersion"), "8");
  EXPECT_EQ(reflector.resource_version(), "");
  EXPECT_TRUE(reflector.Step().ok());  // relist
  EXPECT_EQ(reflector.resource_version(), "20");
  EXPECT_THAT(log, ElementsAre("list@5:1", "ADDED", "list@20:1"));
}

TEST_F(WatchTest, ReflectorWatchesAfterAListWithoutResourceVersion) {
  ScriptedServer s;
  s.list = [](int) { return HttpResponse::Json(200, R"({"items":[]})"); };
  s.watch = [](int) { return Stream({PodEvent("ADDED", "a", "3")}); };
  stub_.SetHandler([&](const HttpRequest& r) { return s.Serve(r); });
  Reflector reflector(*client_, PodsResource("default"), {}, clock_, {});
  ASSERT_TRUE(reflector.Step().ok());
  ASSERT_TRUE(reflector.Step().ok());
  EXPECT_EQ(s.lists.load(), 1);
  EXPECT_EQ(s.watches.load(), 1);
  EXPECT_FALSE(stub_.requests().back().params.Has("resourceVersion"));
  EXPECT_EQ(reflector.resource_version(), "3");
}

TEST_F(WatchTest, WatchesScalingPolicies) {
  stub_.SetHandler([](const HttpRequest&) {
    return Stream({R"({"type":"ADDED","object":{"apiVersion":"autoscaling.sextant.dev/v1alpha1",)"
                   R"("kind":"ScalingPolicy","metadata":{"name":"web","namespace":"ns",)"
                   R"("resourceVersion":"4"},"spec":{"maxReplicas":5}}})"
                   "\n"});
  });
  std::vector<WatchEvent> events;
  auto r = Watch(*client_, ScalingPoliciesResource("ns"), {}, [&](const WatchEvent& e) {
    events.push_back(e);
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_THAT(events[0].object, HasSubstr(R"("maxReplicas":5)"));
  EXPECT_EQ(stub_.requests().back().path,
            "/apis/autoscaling.sextant.dev/v1alpha1/namespaces/ns/scalingpolicies");
}

TEST_F(WatchTest, ReflectorFollowsListPages) {
  stub_.SetHandler([](const HttpRequest& r) {
    if (r.params.Get("continue").empty()) {
      return HttpResponse::Json(
          200,
          R"({"metadata":{"resourceVersion":"3","continue":"p2"},"items":[{"metadata":{"name":"a"}}]})");
    }
    return HttpResponse::Json(
        200, R"({"metadata":{"resourceVersion":"4"},"items":[{"metadata":{"name":"b"}}]})");
  });
  ReflectorOptions ro;
  ro.page_size = 1;
  size_t items = 0;
  Reflector reflector(
      *client_, PodsResource("default"), ro, clock_,
      {.on_list = [&](const ObjectList& l) { items = l.items.size(); }, .on_event = nullptr});
  ASSERT_TRUE(reflector.Step().ok());
  EXPECT_EQ(items, 2u);
  EXPECT_EQ(reflector.resource_version(), "4");
  EXPECT_EQ(stub_.requests()[0].params.Get("limit"), "1");
}

TEST_F(WatchTest, ReflectorBacksOffExponentiallyWithCap) {
  ScriptedServer s;
  s.list = [](int n) {
    if (n <= 5) return HttpResponse::Json(500, R"({"kind":"Status","code":500})");
    return HttpResponse::Json(200, PodList("5", {}));
  };
  stub_.SetHandler([&](const HttpRequest& r) { return s.Serve(r); });
  ReflectorOptions ro;
  ro.initial_backoff = absl::Seconds(1);
  ro.max_backoff = absl::Seconds(5);
  ro.jitter = 0;  // exact totals below
  Reflector* self = nullptr;
  Reflector reflector(*client_, PodsResource("default"), ro, clock_,
                      {.on_list = [&](const ObjectList&) { self->Stop(); }, .on_event = nullptr});
  self = &reflector;
  reflector.Run();
  EXPECT_EQ(s.lists.load(), 6);
  // 1 + 2 + 4 + 5 + 5 seconds of backoff, all on the simulated clock.
  EXPECT_EQ(clock_.total_slept(), absl::Seconds(17));
  EXPECT_EQ(reflector.consecutive_failures(), 0);
}

TEST_F(WatchTest, ReflectorBackoffIsJitteredWithinBoundsAndCapped) {
  ScriptedServer s;
  s.list = [](int n) {
    if (n <= 5) return HttpResponse::Json(500, R"({"kind":"Status","code":500})");
    return HttpResponse::Json(200, PodList("5", {}));
  };
  stub_.SetHandler([&](const HttpRequest& r) { return s.Serve(r); });
  ReflectorOptions ro;
  ro.initial_backoff = absl::Seconds(1);
  ro.max_backoff = absl::Seconds(5);
  ro.jitter = 0.2;
  Reflector* self = nullptr;
  Reflector reflector(*client_, PodsResource("default"), ro, clock_,
                      {.on_list = [&](const ObjectList&) { self->Stop(); }, .on_event = nullptr});
  self = &reflector;
  reflector.Run();
  EXPECT_EQ(s.lists.load(), 6);
  // 0.8 * (1 + 2 + 4) + 4 + 4 <= total <= 1.2 * (1 + 2 + 4) + 5 + 5 (the cap holds after jitter).
  EXPECT_GE(clock_.total_slept(), absl::Milliseconds(13600));
  EXPECT_LE(clock_.total_slept(), absl::Milliseconds(18400));
  EXPECT_EQ(clock_.sleep_count(), 5);
}

TEST_F(WatchTest, ReflectorRunRelistsAfterExpiryWithoutBackoff) {
  ScriptedServer s;
  Reflector* self = nullptr;
  s.watch = [](int) { return Stream({Expired()}); };
  stub_.SetHandler([&](const HttpRequest& r) { return s.Serve(r); });
  Reflector reflector(*client_, PodsResource("default"), {}, clock_,
                      {.on_list =
                           [&](const ObjectList&) {
                             if (s.lists.load() == 2) self->Stop();
                           },
                       .on_event = nullptr});
  self = &reflector;
  reflector.Run();
  EXPECT_EQ(s.lists.load(), 2);
  EXPECT_EQ(s.watches.load(), 1);
  EXPECT_EQ(clock_.total_slept(), absl::ZeroDuration());
}

TEST_F(WatchTest, ReflectorStopEndsALiveWatchPromptly) {
  ScriptedServer s;
  s.watch = [](int) {
    HttpResponse r;
    r.stream = [](HttpStreamWriter& w) {
      if (!w.Write(PodEvent("ADDED", "c", "6"))) return;
      // A server-side heartbeat: bookmarks until the client goes away or the server stops.
      while (!w.WaitForStop(absl::Milliseconds(20))) {
        if (!w.Write(Bookmark("7"))) return;
      }
    };
    return r;
  };
  stub_.SetHandler([&](const HttpRequest& r) { return s.Serve(r); });
  absl::Notification got_event;
  Reflector reflector(*client_, PodsResource("default"), {}, RealClock::Get(),
                      {.on_list = nullptr, .on_event = [&](const WatchEvent&) {
                         if (!got_event.HasBeenNotified()) got_event.Notify();
                       }});
  std::thread t([&] { reflector.Run(); });
  ASSERT_TRUE(got_event.WaitForNotificationWithTimeout(absl::Seconds(30)));
  reflector.Stop();
  t.join();
  EXPECT_TRUE(reflector.stopping());
  EXPECT_EQ(s.watches.load(), 1);
  EXPECT_EQ(reflector.Step().code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace sextant::kube
