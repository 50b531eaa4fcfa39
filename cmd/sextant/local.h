// `sextant local`: the collector and the server in one process, on loopback by default.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "cmd/sextant/autoscaler.h"
#include "cmd/sextant/collector.h"
#include "cmd/sextant/server.h"
#include "common/config.h"
#include "common/http_server.h"
#include "common/self_metrics.h"
#include "kube/config.h"

namespace sextant::cmd {

// Owns the listeners and the collector of the local role. Create() does no I/O; Start() binds
// both listeners, starts collecting and marks the role ready; Stop() stops and closes them. Not
// thread-safe: one owner drives it.
class LocalRole {
 public:
  // Reads the cluster configuration (DESIGN.md 3.7 `kubernetes:`); InvalidArgument or NotFound
  // for a kubeconfig that cannot be used.
  static absl::StatusOr<std::unique_ptr<LocalRole>> Create(const Config& config);

  // Unavailable when a listener cannot bind (the message names the address). The collector is
  // built here, shipping to this process's own /api/v1/write (collector.remoteWrite is ignored).
  absl::Status Start();
  void Stop();

  // Bound addresses ("127.0.0.1:9190"), valid after Start().
  std::string server_address() const { return server_->address(); }
  std::string collector_address() const { return collector_->address(); }

 private:
  LocalRole() = default;

  Config config_;
  std::optional<kube::ClusterConfig> cluster_;  // none: the parts that need a cluster stay idle
  SelfMetrics metrics_{"local"};
  // The collector listener's own registry: the collection snapshot is served there only.
  SelfMetrics collector_metrics_{"local"};
  Readiness readiness_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<AutoscalerPiece> autoscaler_;
  std::unique_ptr<CollectorPipeline> pipeline_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<HttpServer> collector_;
};

// In `local`, a listen address without a host ("":9190") binds loopback, not every interface.
std::string LoopbackIfNoHost(const std::string& listen);

// Runs the local role until SIGINT or SIGTERM. Returns the exit code.
int RunLocal(const Config& config);

}  // namespace sextant::cmd
