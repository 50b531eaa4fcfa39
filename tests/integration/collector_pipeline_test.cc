// The collector wired as `sextant collector` wires it (cmd/sextant/collector.h), end to end on
// loopback: node files and a cgroup v2 tree from the fixtures under --host-root, a stub kubelet
// serving /pods for the pods in that tree, and a remote_write receiver. Container series come
// out named by the kubelet's pods, are served on /metrics and shipped; when the kubelet fails,
// the cgroup series fall back to pod UIDs, the kube_* series go stale, and the up gauge says so.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "cmd/sextant/collector.h"
#include "common/http_server.h"
#include "common/self_metrics.h"
#include "gtest/gtest.h"
#include "prom/remote_write.h"
#include "prom/value.h"
#include "tests/util/test_util.h"

namespace sextant {
namespace {

using testing::ReadFileOrDie;
using testing::SourcePath;
using testing::TempDir;

struct FixturePod {
  std::string uid, ns, name;
  std::vector<std::pair<std::string, std::string>> containers;  // name, runtime id
};

// tests/collector/testdata/cgroup/v2.pods.txt: uid, namespace, pod, name:id,name:id.
std::vector<FixturePod> FixturePods() {
  std::vector<FixturePod> out;
  const std::string text = ReadFileOrDie(SourcePath("tests/collector/testdata/cgroup/v2.pods.txt"));
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() < 4) continue;
    FixturePod pod{f[0], f[1], f[2], {}};
    for (absl::string_view c : absl::StrSplit(f[3], ',', absl::SkipEmpty())) {
      std::vector<std::string> nc = absl::StrSplit(c, ':');
      pod.containers.emplace_back(nc[0], nc[1]);
    }
    out.push_back(std::move(pod));
  }
  return out;
}

// A v1 PodList as the kubelet's /pods returns it, for `pods`, all Running on node-a.
std::string PodListJson(const std::vector<FixturePod>& pods) {
  std::string items;
  for (const FixturePod& p : pods) {
    std::string specs, statuses;
    for (const auto& [name, id] : p.containers) {
      absl::StrAppend(&specs, specs.empty() ? "" : ",", "{\"name\":\"", name,
                      "\",\"image\":\"registry.example/", name, ":1\"}");
      absl::StrAppend(&statuses, statuses.empty() ? "" : ",", "{\"name\":\"", name,
                      "\",\"ready\":true,\"restartCount\":2,\"image\":\"registry.example/", name,
                      ":1\",\"containerID\":\"containerd://", id,
                      "\",\"state\":{\"running\":{\"startedAt\":\"2026-11-27T10:00:00Z\"}}}");
    }
    absl::StrAppend(&items, items.empty() ? "" : ",", "{\"metadata\":{\"name\":\"", p.name,
                    "\",\"namespace\":\"", p.ns, "\",\"uid\":\"", p.uid,
                    "\",\"creationTimestamp\":\"2026-11-27T09:00:00Z\"},"
                    "\"spec\":{\"nodeName\":\"node-a\",\"containers\":[",
                    specs,
                    "]},\"status\":{\"phase\":\"Running\",\"hostIP\":\"10.0.0.5\","
                    "\"podIP\":\"10.1.0.7\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
                    "\"True\"}],\"containerStatuses\":[",
                    statuses, "]}}");
  }
  return absl::StrCat("{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[",
                      items, "]}");
}

// What the receiver got: per series (labels), the samples in arrival order.
class Receiver {
 public:
  void Add(const prom::RemoteWriteRequest& req) {
    absl::MutexLock lock(&mu_);
    ++requests_;
    for (const prom::RemoteWriteSeries& s : req.series) {
      auto labels = prom::Labels::FromUnsorted(s.labels);
      if (!labels.ok()) continue;
      auto& samples = series_[labels->ToString()];
      samples.insert(samples.end(), s.samples.begin(), s.samples.end());
    }
  }
  int requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::map<std::string, std::vector<prom::Sample>> series() {
    absl::MutexLock lock(&mu_);
    return series_;
  }

 private:
  absl::Mutex mu_;
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::vector<prom::Sample>> series_ ABSL_GUARDED_BY(mu_);
};

// The value of the one sample in `families` named `name` whose labels include all of `want`.
std::optional<double> Find(const std::vector<prom::MetricFamily>& families, absl::string_view name,
                           const std::map<std::string, std::string>& want) {
  for (const prom::MetricFamily& f : families) {
    for (const prom::ExpositionSample& s : f.samples) {
      if (s.labels.MetricName() != name) continue;
      bool match = true;
      for (const auto& [k, v] : want) match = match && s.labels.Get(k) == v;
      if (match) return s.value;
    }
  }
  return std::nullopt;
}

TEST(CollectorPipelineTest, NamesShipsAndServesAndFallsBackWhenTheKubeletFails) {
  const std::vector<FixturePod> pods = FixturePods();
  ASSERT_FALSE(pods.empty());
  const FixturePod& pod = pods[0];

  // Host root: the node fixture's /proc and the cgroup fixture's /sys.
  TempDir host;
  std::filesystem::create_directory_symlink(SourcePath("tests/collector/testdata/node/proc"),
                                            host.Path("proc"));
  std::filesystem::create_directory_symlink(SourcePath("tests/collector/testdata/cgroup/v2/sys"),
                                            host.Path("sys"));

  std::atomic<bool> kubelet_ok{true};
  const std::string pod_list = PodListJson(pods);
  HttpServerOptions kubelet_opts;
  kubelet_opts.listen = "127.0.0.1:0";
  auto kubelet = HttpServer::Create(kubelet_opts);
  ASSERT_TRUE(kubelet.ok()) << kubelet.status();
  (*kubelet)->Handle("GET", "/pods", [&](const HttpRequest&) {
    if (!kubelet_ok) return HttpResponse::Text(500, "internal error\n");
    return HttpResponse::Text(200, pod_list, "application/json");
  });
  ASSERT_TRUE((*kubelet)->Start().ok());

  Receiver received;
  HttpServerOptions receiver_opts;
  receiver_opts.listen = "127.0.0.1:0";
  auto receiver = HttpServer::Create(receiver_opts);
  ASSERT_TRUE(receiver.ok()) << receiver.status();
  (*receiver)->Handle("POST", "/api/v1/write", [&](const HttpRequest& r) {
    absl::Status headers = prom::CheckRemoteWriteHeaders(
        r.headers.Get("Content-Type"), r.headers.Get("Content-Encoding"),
        r.headers.Get("X-Prometheus-Remote-Write-Version"));
    if (!headers.ok()) return HttpResponse::Text(415, std::string(headers.message()));
    auto req = prom::DecodeWriteRequest(r.body, 64 << 20);
    if (!req.ok()) return HttpResponse::Text(400, std::string(req.status().message()));
    received.Add(*req);
    return HttpResponse::Text(204, "");
  });
  ASSERT_TRUE((*receiver)->Start().ok());

  Config config;
  config.collector.host_root = host.path();
  config.collector.interval = absl::Milliseconds(100);
  config.collector.node_name = "node-a";
  config.collector.kubelet.url = absl::StrCat("http://", (*kubelet)->address());
  config.collector.remote_write = {
      {absl::StrCat("http://", (*receiver)->address(), "/api/v1/write"), 8 << 20}};
  SelfMetrics metrics("collector");
  auto pipeline = cmd::CollectorPipeline::Create(config, {}, metrics);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status();
  collector::Collection& collection = (*pipeline)->collection();

  const std::map<std::string, std::string> named = {
      {"namespace", pod.ns}, {"pod", pod.name}, {"container", pod.containers[0].first}};
  // A pass with the kubelet answering: every kind of series, container series named.
  std::shared_ptr<const collector::Snapshot> snap = collection.RunPass(absl::Now());
  EXPECT_TRUE(Find(snap->families, "container_memory_working_set_bytes", named).has_value());
  EXPECT_EQ(Find(snap->families, "kube_pod_info", {{"pod", pod.name}, {"uid", pod.uid}}), 1);
  EXPECT_EQ(Find(snap->families, "kube_pod_container_status_restarts_total", named), 2);
  EXPECT_EQ(Find(snap->families, "sextant_collector_kubelet_up", {}), 1);
  EXPECT_EQ(Find(snap->families, "node_load1", {}), 0.58);  // the fixture's /proc/loadavg
  EXPECT_EQ(Find(snap->families, "sextant_collector_source_success", {{"source", "cgroup"}}), 1);
  EXPECT_EQ(Find(snap->families, "sextant_collector_source_success", {{"source", "kubelet"}}), 1);

  // Start: the thread's passes are shipped and served.
  (*pipeline)->Start();
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  auto shipped_named = [&] {
    for (const auto& [labels, samples] : received.series()) {
      if (labels.find("container_memory_working_set_bytes") != std::string::npos &&
          labels.find(absl::StrCat("pod=\"", pod.name, "\"")) != std::string::npos &&
          labels.find(absl::StrCat("container=\"", pod.containers[0].first, "\"")) !=
              std::string::npos) {
        return true;
      }
    }
    return false;
  };
  while (!shipped_named() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_TRUE(shipped_named()) << "no named container series arrived at the receiver";
  const std::string text = metrics.RenderText();
  EXPECT_NE(text.find("container_memory_working_set_bytes{"), std::string::npos);
  EXPECT_NE(text.find(absl::StrCat("pod=\"", pod.name, "\"")), std::string::npos);
  EXPECT_NE(text.find("sextant_shipper_samples_sent_total{"), std::string::npos);

  // The kubelet fails: the next passes carry UID-only cgroup series and kubelet_up 0, and the
  // receiver sees the kube_pod_info series go stale.
  kubelet_ok = false;
  auto stale_info = [&] {
    for (const auto& [labels, samples] : received.series()) {
      if (labels.find("kube_pod_info") != std::string::npos &&
          labels.find(pod.uid) != std::string::npos && !samples.empty() &&
          prom::IsStaleNaN(samples.back().value)) {
        return true;
      }
    }
    return false;
  };
  deadline = absl::Now() + absl::Seconds(20);
  while (!stale_info() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(stale_info()) << "kube_pod_info did not go stale after the kubelet failed";

  // After the kubelet source's grace passes, the container's series is still there, identified
  // by its cgroup path (which holds the UID) instead of its names.
  std::string uid_underscored = pod.uid;
  std::replace(uid_underscored.begin(), uid_underscored.end(), '-', '_');
  auto uid_only = [&](const collector::Snapshot& s) {
    for (const prom::MetricFamily& f : s.families) {
      if (f.name != "container_memory_working_set_bytes") continue;
      for (const prom::ExpositionSample& sample : f.samples) {
        if (sample.labels.Get("id").find(uid_underscored) != absl::string_view::npos &&
            !sample.labels.Has("pod")) {
          return true;
        }
      }
    }
    return false;
  };
  deadline = absl::Now() + absl::Seconds(20);
  while (!uid_only(*collection.latest()) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  (*pipeline)->Stop();
  snap = collection.latest();
  ASSERT_NE(snap, nullptr);
  EXPECT_TRUE(uid_only(*snap));
  EXPECT_EQ(Find(snap->families, "sextant_collector_kubelet_up", {}), 0);
  EXPECT_EQ(Find(snap->families, "sextant_collector_source_success", {{"source", "kubelet"}}), 0);
  EXPECT_FALSE(Find(snap->families, "kube_pod_info", {}).has_value());
  EXPECT_FALSE(Find(snap->families, "container_memory_working_set_bytes", named).has_value());
  (*kubelet)->Stop();
  (*receiver)->Stop();
}

}  // namespace
}  // namespace sextant
