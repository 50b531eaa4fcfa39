#include "cmd/sextant/local.h"

#include <csignal>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "cmd/sextant/run_role.h"
#include "common/build_info.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace sextant::cmd {

std::string LoopbackIfNoHost(const std::string& listen) {
  if (!listen.empty() && listen[0] == ':') return "127.0.0.1" + listen;
  return listen;
}

absl::StatusOr<std::unique_ptr<LocalRole>> LocalRole::Create(const Config& config) {
  std::unique_ptr<LocalRole> role(new LocalRole());
  role->config_ = config;
  SEXTANT_ASSIGN_OR_RETURN(role->cluster_, kube::LoadClusterConfig(config.kubernetes));

  SEXTANT_ASSIGN_OR_RETURN(
      role->server_, CreateServerListener(config.server, LoopbackIfNoHost(config.server.listen),
                                          role->metrics_, role->readiness_));

  HttpServerOptions collector_opts;
  collector_opts.listen = LoopbackIfNoHost(config.collector.listen);
  collector_opts.threads = 4;
  SEXTANT_ASSIGN_OR_RETURN(role->collector_, HttpServer::Create(collector_opts),
                           _.Prepend("collector listener: "));
  AddAdminRoutes(*role->collector_, role->collector_metrics_, role->readiness_);

  SEXTANT_ASSIGN_OR_RETURN(role->storage_, Storage::Open(config.server, role->metrics_));
  role->storage_->Register(*role->server_);
  SEXTANT_ASSIGN_OR_RETURN(
      role->autoscaler_,
      AutoscalerPiece::Create(config, role->cluster_, role->storage_->db(), role->metrics_));
  role->autoscaler_->Register(*role->server_);
  return role;
}

absl::Status LocalRole::Start() {
  SEXTANT_RETURN_IF_ERROR(server_->Start(), _.Prepend("server listener: "));
  LogInfo("listening", {{"role", "server"}, {"addr", server_->address()}});
  if (absl::Status s = collector_->Start(); !s.ok()) {
    server_->Stop();
    return Annotate(s, "collector listener: ");
  }
  LogInfo("listening", {{"role", "collector"}, {"addr", collector_->address()}});
  storage_->Start();
  // The collector ships every pass to this process's own server.
  Config pipeline_config = config_;
  const int64_t queue_bytes = config_.collector.remote_write.empty()
                                  ? RemoteWriteConfig{}.queue_bytes
                                  : config_.collector.remote_write.front().queue_bytes;
  pipeline_config.collector.remote_write = {
      {absl::StrCat("http://", server_->address(), "/api/v1/write"), queue_bytes}};
  absl::StatusOr<std::unique_ptr<CollectorPipeline>> pipeline =
      CollectorPipeline::Create(pipeline_config, CollectorPipelineOptions{}, collector_metrics_);
  if (!pipeline.ok()) {
    collector_->Stop();
    server_->Stop();
    storage_->Stop();
    return Annotate(pipeline.status(), "collector: ");
  }
  pipeline_ = std::move(*pipeline);
  // Ready once the collector's first pass is served as well.
  auto first_pass = std::make_shared<absl::Notification>();
  pipeline_->collection().AddListener([first_pass](const collector::Snapshot&) {
    if (!first_pass->HasBeenNotified()) first_pass->Notify();
  });
  pipeline_->Start();
  first_pass->WaitForNotificationWithTimeout(absl::Seconds(30));
  LogClusterState(cluster_);
  autoscaler_->Start();
  readiness_.Set(true);
  LogInfo("ready", {{"role", "local"}});
  return absl::OkStatus();
}

void LocalRole::Stop() {
  readiness_.Set(false);
  if (autoscaler_ != nullptr) autoscaler_->Stop();
  if (pipeline_ != nullptr) pipeline_->Stop();
  collector_->Stop();
  server_->Stop();
  storage_->Stop();
}

int RunLocal(const Config& config) {
  return RunRoleUntilStopSignal("local", [&config] { return LocalRole::Create(config); });
}

}  // namespace sextant::cmd
