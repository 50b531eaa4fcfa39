// The autoscaler as the server and local roles run it: the Kubernetes client, the query client
// (the embedded engine, or autoscaler.queryURL), the policy files, leader election and the
// controller, wired from the configuration. Idle (one log line) without a cluster or when
// autoscaler.enabled is false; /api/v1/scaling answers either way.
#pragma once

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "aggregator/promql/engine.h"
#include "aggregator/tsdb/db.h"
#include "autoscaler/controller.h"
#include "common/config.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/self_metrics.h"
#include "kube/client.h"
#include "kube/config.h"
#include "kube/leader_election.h"

namespace sextant::cmd {

// The ControllerOptions that autoscaler.* means.
autoscaler::ControllerOptions ControllerOptionsFromConfig(const AutoscalerConfig& config);

// Owns everything the autoscaler runs on. Not thread-safe: one owner drives it.
class AutoscalerPiece {
 public:
  // InvalidArgument for a bad queryURL or leader-election settings; errors of the Kubernetes
  // client. Unreadable policy files are logged and skipped (the others still run). `db` and
  // `metrics` must outlive it.
  static absl::StatusOr<std::unique_ptr<AutoscalerPiece>> Create(
      const Config& config, const std::optional<kube::ClusterConfig>& cluster, tsdb::Db& db,
      SelfMetrics& metrics);
  ~AutoscalerPiece();

  // Adds GET /api/v1/scaling.
  void Register(HttpServer& server);
  void Start();
  void Stop();
  autoscaler::Controller* controller() { return controller_.get(); }

 private:
  AutoscalerPiece() = default;
  std::unique_ptr<promql::DbQueryable> queryable_;
  std::unique_ptr<promql::Engine> engine_;
  std::unique_ptr<HttpClient> query_http_;
  std::unique_ptr<autoscaler::QueryClient> query_;
  std::unique_ptr<kube::KubeClient> client_;
  std::unique_ptr<kube::LeaderElector> elector_;
  std::unique_ptr<autoscaler::Controller> controller_;
};

}  // namespace sextant::cmd
