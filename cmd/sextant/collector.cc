#include "cmd/sextant/collector.h"

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <iostream>

#include "cmd/sextant/run_role.h"
#include "collector/cgroup/cgroup_source.h"
#include "collector/kubelet/kubelet_source.h"
#include "collector/node/node_sources.h"
#include "common/build_info.h"
#include "common/http_server.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "prom/text_format.h"

namespace sextant::cmd {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

}  // namespace

std::string ResolveNodeName(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (std::string env = Env("NODE_NAME"); !env.empty()) return env;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) return host;
  return "";
}

std::string ResolveKubeletUrl(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (Env("KUBERNETES_SERVICE_HOST").empty()) return "";
  std::string ip = Env("NODE_IP");
  if (ip.empty()) return "";
  if (ip.find(':') != std::string::npos) ip = "[" + ip + "]";  // IPv6
  return "https://" + ip + ":10250";
}

absl::StatusOr<std::unique_ptr<CollectorPipeline>> CollectorPipeline::Create(
    const Config& config, const CollectorPipelineOptions& options, SelfMetrics& metrics) {
  std::unique_ptr<CollectorPipeline> p(new CollectorPipeline());
  const CollectorConfig& cc = config.collector;
  p->node_name_ = ResolveNodeName(cc.node_name);
  p->kubelet_url_ = ResolveKubeletUrl(cc.kubelet.url);
  p->fs_ = std::make_unique<collector::RootedFilesystem>(cc.host_root);

  std::vector<std::unique_ptr<collector::Source>> sources;
  collector::CollectionOptions collection_options;
  collection_options.interval = cc.interval;
  if (!p->kubelet_url_.empty()) {
    collector::KubeletSourceOptions kubelet_options;
    kubelet_options.url = p->kubelet_url_;
    kubelet_options.insecure_tls = cc.kubelet.insecure_tls;
    kubelet_options.node_name = p->node_name_;
    // A slow kubelet must not make every pass late: one attempt, within half an interval.
    kubelet_options.timeout = std::min(absl::Seconds(3), cc.interval / 2);
    kubelet_options.max_attempts = 1;
    SEXTANT_ASSIGN_OR_RETURN(std::unique_ptr<collector::KubeletSource> kubelet,
                             collector::KubeletSource::Create(kubelet_options),
                             _.Prepend("kubelet: "));
    collector::KubeletSource* raw = kubelet.get();
    collection_options.pods = [raw] { return raw->pods(); };
    sources.push_back(std::move(kubelet));
  }
  for (auto& s : collector::NewNodeSources(*p->fs_, collector::NodeSourceOptions{})) {
    sources.push_back(std::move(s));
  }
  sources.push_back(collector::NewCgroupSource(*p->fs_, collector::CgroupSourceOptions{}));
  p->collection_ = std::make_unique<collector::Collection>(collection_options, RealClock::Get(),
                                                           std::move(sources));

  collector::Collection* collection = p->collection_.get();
  p->exported_ = std::make_shared<collector::SnapshotCollectable>(
      [collection] { return collection->latest(); });
  collector::SnapshotCollectable* exported = p->exported_.get();
  metrics.AddCollectable(p->exported_, [exported] { return exported->RenderText(); });

  if (options.ship) {
    for (const RemoteWriteConfig& rw : cc.remote_write) {
      HttpClientOptions client_options;
      client_options.retry.max_attempts = 1;  // the shipper owns retries and keeps queueing
      client_options.timeout = absl::Seconds(10);
      SEXTANT_ASSIGN_OR_RETURN(std::unique_ptr<CurlHttpClient> client,
                               CurlHttpClient::Create(client_options, RealClock::Get()),
                               _.Prepend(absl::StrCat("remote_write ", rw.url, ": ")));
      collector::ShipperOptions shipper_options;
      shipper_options.url = rw.url;
      shipper_options.queue_bytes = rw.queue_bytes;
      shipper_options.metrics = &metrics.registry();
      SEXTANT_ASSIGN_OR_RETURN(
          std::unique_ptr<collector::RemoteWriteShipper> shipper,
          collector::RemoteWriteShipper::Create(shipper_options, *client, RealClock::Get()),
          _.Prepend(absl::StrCat("remote_write ", rw.url, ": ")));
      collector::RemoteWriteShipper* raw = shipper.get();
      p->collection_->AddListener(
          [raw](const collector::Snapshot& s) { raw->Enqueue(s.families, s.time); });
      p->ship_clients_.push_back(std::move(client));
      p->shippers_.push_back(std::move(shipper));
    }
  }
  return p;
}

CollectorPipeline::~CollectorPipeline() { Stop(); }

void CollectorPipeline::Start() {
  if (started_) return;
  started_ = true;
  for (auto& shipper : shippers_) {
    if (absl::Status s = shipper->Start(); !s.ok()) {
      LogError("remote_write shipper did not start", {{"err", s}});
    }
  }
  collection_->Start();
  LogInfo("collector started", {{"node", node_name_},
                                {"host_root", fs_->root().empty() ? "/" : fs_->root()},
                                {"kubelet", kubelet_url_.empty() ? "off" : kubelet_url_},
                                {"remote_write_urls", static_cast<int64_t>(shippers_.size())}});
  if (kubelet_url_.empty()) {
    LogInfo("kubelet source off",
            {{"reason", "no collector.kubelet.url and not in a pod with NODE_IP set"}});
  }
}

void CollectorPipeline::Stop() {
  if (!started_) return;
  started_ = false;
  collection_->Stop();
  for (auto& shipper : shippers_) shipper->Stop();
}

int RunCollector(const Config& config, bool once) {
  if (once) {
    SelfMetrics metrics("collector");
    CollectorPipelineOptions options;
    options.ship = false;
    absl::StatusOr<std::unique_ptr<CollectorPipeline>> pipeline =
        CollectorPipeline::Create(config, options, metrics);
    if (!pipeline.ok()) {
      LogError("cannot start", {{"role", "collector"}, {"err", pipeline.status()}});
      return 1;
    }
    std::shared_ptr<const collector::Snapshot> snapshot =
        (*pipeline)->collection().RunPass(absl::Now());
    std::cout << prom::WriteTextFormat(snapshot->families);
    std::cout.flush();
    return std::cout.good() ? 0 : 1;
  }

  const sigset_t stop_signals = BlockStopSignals();
  LogInfo("starting",
          {{"role", "collector"}, {"version", SEXTANT_VERSION}, {"revision", SEXTANT_REVISION}});

  SelfMetrics metrics("collector");
  Readiness readiness;
  absl::StatusOr<std::unique_ptr<CollectorPipeline>> pipeline =
      CollectorPipeline::Create(config, CollectorPipelineOptions{}, metrics);
  if (!pipeline.ok()) {
    LogError("cannot start", {{"role", "collector"}, {"err", pipeline.status()}});
    return 1;
  }
  HttpServerOptions server_options;
  server_options.listen = config.collector.listen;
  server_options.threads = 4;
  server_options.metrics = &metrics.registry();
  absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::Create(server_options);
  if (!server.ok()) {
    LogError("cannot start", {{"role", "collector"}, {"err", server.status()}});
    return 1;
  }
  AddAdminRoutes(**server, metrics, readiness);
  // Ready once the first pass is served, so that a scrape never sees an empty collector.
  (*pipeline)->collection().AddListener([&readiness](const collector::Snapshot&) {
    if (readiness.Get()) return;
    readiness.Set(true);
    LogInfo("ready", {{"role", "collector"}});
  });
  if (absl::Status s = (*server)->Start(); !s.ok()) {
    LogError("cannot start", {{"role", "collector"}, {"err", s}});
    return 1;
  }
  LogInfo("listening", {{"role", "collector"}, {"addr", (*server)->address()}});
  (*pipeline)->Start();

  LogInfo("stopping", {{"role", "collector"}, {"signal", WaitForStopSignal(stop_signals)}});
  readiness.Set(false);
  (*pipeline)->Stop();
  (*server)->Stop();
  LogInfo("stopped", {{"role", "collector"}});
  return 0;
}

}  // namespace sextant::cmd
