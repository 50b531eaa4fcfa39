// `sextant collector`: the node agent. Also the collector half of `sextant local`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/collection.h"
#include "collector/exporter.h"
#include "collector/host_fs.h"
#include "collector/shipper.h"
#include "common/clock.h"
#include "common/config.h"
#include "common/http_client.h"
#include "common/self_metrics.h"

namespace sextant::cmd {

struct CollectorPipelineOptions {
  // Ship each pass to collector.remoteWrite's URLs (off for --once; `local` points them at its
  // own server). Default on.
  bool ship = true;
};

// Wires the collector from its config: the host filesystem under collector.hostRoot, the node,
// cgroup and (when configured) kubelet sources, the pass thread, the snapshot served on /metrics
// and one remote_write shipper per URL. Create() does no I/O beyond reading the kubelet's CA;
// Start() starts the pass thread and the shippers. Not thread-safe: one owner drives it.
class CollectorPipeline {
 public:
  // `metrics` receives the snapshot collectable and the shippers' self-metrics; it must outlive
  // the pipeline. InvalidArgument for an unusable setting (a bad kubelet or remote_write URL).
  static absl::StatusOr<std::unique_ptr<CollectorPipeline>> Create(
      const Config& config, const CollectorPipelineOptions& options, SelfMetrics& metrics);
  ~CollectorPipeline();

  void Start();
  void Stop();
  collector::Collection& collection() { return *collection_; }
  const std::string& node_name() const { return node_name_; }
  // The kubelet URL in use; "" when the kubelet source is off.
  const std::string& kubelet_url() const { return kubelet_url_; }

 private:
  CollectorPipeline() = default;

  std::string node_name_;
  std::string kubelet_url_;
  std::unique_ptr<collector::RootedFilesystem> fs_;
  std::unique_ptr<collector::Collection> collection_;
  std::shared_ptr<collector::SnapshotCollectable> exported_;
  std::vector<std::unique_ptr<HttpClient>> ship_clients_;
  std::vector<std::unique_ptr<collector::RemoteWriteShipper>> shippers_;
  bool started_ = false;
};

// The node name: collector.nodeName, else $NODE_NAME, else the hostname.
std::string ResolveNodeName(const std::string& configured);
// The kubelet's base URL: collector.kubelet.url, else https://$NODE_IP:10250 when running in a
// pod ($KUBERNETES_SERVICE_HOST set), else "" (off).
std::string ResolveKubeletUrl(const std::string& configured);

// Runs the collector role until SIGINT or SIGTERM, or, with `once`, runs one pass and writes the
// exposition text to stdout. Returns the exit code.
int RunCollector(const Config& config, bool once);

}  // namespace sextant::cmd
