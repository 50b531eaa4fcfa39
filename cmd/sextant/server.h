// `sextant server`: the central server. It stores what collectors send (remote_write into the
// TSDB), answers PromQL through the Prometheus HTTP API, runs the autoscaler (with a cluster) and
// serves its own metrics; alerting comes with a later issue. Also the storage piece `sextant
// local` shares.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "aggregator/api/query_api.h"
#include "aggregator/api/write_handler.h"
#include "aggregator/tsdb/db.h"
#include "cmd/sextant/autoscaler.h"
#include "common/config.h"
#include "common/http_server.h"
#include "common/self_metrics.h"
#include "kube/config.h"

namespace sextant::cmd {

// The TSDB opened from server.* settings plus its HTTP endpoints (remote_write and the query
// API, with the engine limits of server.limits). Open() recovers the data directory (WAL
// replay); Start() runs the WAL fsync and compaction loops. Not thread-safe: one owner drives it
// (the Db and handlers it owns are thread-safe).
class Storage {
 public:
  // Errors name the data directory (a damaged block, an unreadable WAL, no permission).
  static absl::StatusOr<std::unique_ptr<Storage>> Open(const ServerConfig& config,
                                                       SelfMetrics& metrics);
  ~Storage();

  // Adds POST /api/v1/write and the query API (/api/v1/query, query_range, series, ...).
  void Register(HttpServer& server);
  void Start();
  void Stop();
  tsdb::Db& db() { return *db_; }

 private:
  Storage() = default;
  std::unique_ptr<tsdb::Db> db_;
  std::unique_ptr<api::WriteHandler> write_;
  std::unique_ptr<api::QueryApi> query_;
};

// The QueryApiOptions that server.limits (querySamples, queryTimeout) mean.
api::QueryApiOptions QueryApiOptionsFromConfig(const ServerConfig& config);

// The DbOptions that server.* settings (DESIGN.md 3.7) mean.
tsdb::DbOptions DbOptionsFromConfig(const ServerConfig& config);

// The server's listener on `listen` (body limit from server.limits, requests counted in
// `metrics`) with the admin routes; `metrics` and `readiness` must outlive it.
absl::StatusOr<std::unique_ptr<HttpServer>> CreateServerListener(const ServerConfig& config,
                                                                 const std::string& listen,
                                                                 SelfMetrics& metrics,
                                                                 const Readiness& readiness);

// One log line on whether the parts that need the Kubernetes API have a cluster to talk to.
void LogClusterState(const std::optional<kube::ClusterConfig>& cluster);

// Owns the server role's listener and storage. Create() opens the storage; Start() binds the
// listener and marks the role ready; Stop() stops and closes. Not thread-safe: one owner.
class ServerRole {
 public:
  static absl::StatusOr<std::unique_ptr<ServerRole>> Create(const Config& config);
  absl::Status Start();
  void Stop();
  std::string address() const { return server_->address(); }

 private:
  ServerRole() = default;
  Config config_;
  std::optional<kube::ClusterConfig> cluster_;
  SelfMetrics metrics_{"server"};
  Readiness readiness_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<AutoscalerPiece> autoscaler_;
  std::unique_ptr<HttpServer> server_;
};

// Runs the server role until SIGINT or SIGTERM. Returns the exit code.
int RunServer(const Config& config);

}  // namespace sextant::cmd
