#include "cmd/sextant/server.h"

#include <csignal>

#include "absl/strings/str_cat.h"
#include "cmd/sextant/run_role.h"
#include "common/build_info.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace sextant::cmd {

tsdb::DbOptions DbOptionsFromConfig(const ServerConfig& config) {
  tsdb::DbOptions o;
  o.dir = config.data_dir;
  o.fsync = config.wal.fsync;
  o.fsync_interval = config.wal.fsync_interval;
  o.retention_time = config.retention.time;
  o.retention_bytes = config.retention.size;
  o.max_active_series = config.limits.active_series;
  return o;
}

api::QueryApiOptions QueryApiOptionsFromConfig(const ServerConfig& config) {
  api::QueryApiOptions o;
  o.engine.max_samples = config.limits.query_samples;
  o.engine.timeout = config.limits.query_timeout;
  return o;
}

absl::StatusOr<std::unique_ptr<HttpServer>> CreateServerListener(const ServerConfig& config,
                                                                 const std::string& listen,
                                                                 SelfMetrics& metrics,
                                                                 const Readiness& readiness) {
  HttpServerOptions options;
  options.listen = listen;
  options.max_body_bytes = config.limits.body_bytes;
  options.metrics = &metrics.registry();
  SEXTANT_ASSIGN_OR_RETURN(std::unique_ptr<HttpServer> server, HttpServer::Create(options),
                           _.Prepend("server listener: "));
  AddAdminRoutes(*server, metrics, readiness);
  return server;
}

void LogClusterState(const std::optional<kube::ClusterConfig>& cluster) {
  if (cluster.has_value()) {
    LogInfo("kubernetes cluster configured",
            {{"source", cluster->source}, {"server", cluster->server}});
  } else {
    LogInfo("autoscaler idle",
            {{"reason", "no cluster configured (no --kubeconfig, not in a pod)"}});
  }
}

absl::StatusOr<std::unique_ptr<Storage>> Storage::Open(const ServerConfig& config,
                                                       SelfMetrics& metrics) {
  std::unique_ptr<Storage> s(new Storage());
  LogInfo("opening storage", {{"dir", config.data_dir}});
  SEXTANT_ASSIGN_OR_RETURN(s->db_, tsdb::Db::Open(DbOptionsFromConfig(config)),
                           _.Prepend(absl::StrCat("storage ", config.data_dir, ": ")));
  metrics.AddCollectable(s->db_->metrics());
  api::WriteHandlerOptions write_options;
  write_options.limits = config.limits;
  s->write_ = std::make_unique<api::WriteHandler>(*s->db_, write_options, metrics.registry());
  s->query_ = std::make_unique<api::QueryApi>(*s->db_, QueryApiOptionsFromConfig(config),
                                              metrics.registry());
  return s;
}

Storage::~Storage() { Stop(); }

void Storage::Register(HttpServer& server) {
  write_->Register(server);
  query_->Register(server);
}

void Storage::Start() { db_->Start(); }

void Storage::Stop() {
  if (db_ != nullptr) db_->Stop();
}

absl::StatusOr<std::unique_ptr<ServerRole>> ServerRole::Create(const Config& config) {
  std::unique_ptr<ServerRole> role(new ServerRole());
  role->config_ = config;
  SEXTANT_ASSIGN_OR_RETURN(role->cluster_, kube::LoadClusterConfig(config.kubernetes));
  SEXTANT_ASSIGN_OR_RETURN(role->server_, CreateServerListener(config.server, config.server.listen,
                                                               role->metrics_, role->readiness_));
  SEXTANT_ASSIGN_OR_RETURN(role->storage_, Storage::Open(config.server, role->metrics_));
  role->storage_->Register(*role->server_);
  SEXTANT_ASSIGN_OR_RETURN(
      role->autoscaler_,
      AutoscalerPiece::Create(config, role->cluster_, role->storage_->db(), role->metrics_));
  role->autoscaler_->Register(*role->server_);
  return role;
}

absl::Status ServerRole::Start() {
  storage_->Start();
  SEXTANT_RETURN_IF_ERROR(server_->Start(), _.Prepend("server listener: "));
  LogInfo("listening", {{"role", "server"}, {"addr", server_->address()}});
  LogClusterState(cluster_);
  autoscaler_->Start();
  readiness_.Set(true);
  LogInfo("ready", {{"role", "server"}});
  return absl::OkStatus();
}

void ServerRole::Stop() {
  readiness_.Set(false);
  autoscaler_->Stop();
  server_->Stop();
  storage_->Stop();
}

int RunServer(const Config& config) {
  return RunRoleUntilStopSignal("server", [&config] { return ServerRole::Create(config); });
}

}  // namespace sextant::cmd
