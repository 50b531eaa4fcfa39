// The configuration file shared by every role (DESIGN.md 3.7): one YAML document whose sections
// each role reads. Every key has a default (the member initialisers below, which are the
// contract's defaults); unknown keys are errors that name the key and its line.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sextant {

struct RemoteWriteConfig {
  std::string url;
  int64_t queue_bytes = int64_t{64} << 20;  // queueBytes: 64MiB
};

struct KubeletConfig {
  std::string url;            // "" = https://$NODE_IP:10250 in a pod, off outside
  bool insecure_tls = false;  // insecureTLS
};

struct CollectorConfig {
  absl::Duration interval = absl::Seconds(5);
  std::string listen = ":9191";
  std::string host_root = "/";  // hostRoot
  std::string node_name;        // nodeName: "" = $NODE_NAME, then the hostname
  KubeletConfig kubelet;
  std::vector<RemoteWriteConfig> remote_write = {
      {"http://sextant-server:9190/api/v1/write", int64_t{64} << 20}};
};

struct RetentionConfig {
  absl::Duration time = absl::Hours(24 * 15);  // 15d
  int64_t size = 0;                            // bytes; 0 = unlimited
};

enum class FsyncPolicy { kAlways, kInterval, kNever };

struct WalConfig {
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  absl::Duration fsync_interval = absl::Seconds(1);  // fsyncInterval
};

struct LimitsConfig {
  int64_t body_bytes = int64_t{32} << 20;           // bodyBytes: 32MiB
  int64_t series_per_request = 100000;              // seriesPerRequest
  int64_t labels_per_series = 64;                   // labelsPerSeries
  int64_t label_value_bytes = 4096;                 // labelValueBytes
  int64_t active_series = 5000000;                  // activeSeries
  int64_t query_samples = 50000000;                 // querySamples
  absl::Duration query_timeout = absl::Minutes(2);  // queryTimeout
};

struct ServerConfig {
  std::string listen = ":9190";
  std::string data_dir = "./sextant-data";  // dataDir
  RetentionConfig retention;
  WalConfig wal;
  LimitsConfig limits;
  std::vector<RemoteWriteConfig> remote_write;  // forwarding to external stores
};

struct LeaderElectionConfig {
  bool enabled = false;
  std::string lease_namespace;  // namespace: "" = the pod's namespace
  std::string name = "sextant-server";
  absl::Duration lease_duration = absl::Seconds(15);  // leaseDuration
  absl::Duration renew_deadline = absl::Seconds(10);  // renewDeadline
  absl::Duration retry_period = absl::Seconds(2);     // retryPeriod
};

struct KubernetesConfig {
  std::string kubeconfig;  // "" = in-cluster when in a pod, else none
  std::string context;
  LeaderElectionConfig leader_election;  // leaderElection
};

struct AutoscalerConfig {
  bool enabled = true;                              // idle without a cluster
  absl::Duration sync_interval = absl::Seconds(5);  // syncInterval
  std::vector<std::string> policy_files;            // policyFiles
  std::vector<std::string> watch_namespaces;        // watchNamespaces: [] = all
  bool dry_run = false;                             // dryRun
  std::string query_url;                            // queryURL: "" = the embedded engine
};

struct WebhookConfig {
  std::string url;
  std::string hmac_secret_file;  // hmacSecretFile
};

struct CrashLoopConfig {
  bool enabled = true;
  int64_t restarts = 3;
  absl::Duration window = absl::Minutes(10);
  absl::Duration resolve_after = absl::Minutes(10);  // resolveAfter
  int64_t log_lines = 20;                            // logLines
  int64_t log_bytes = 8 << 10;                       // logBytes: 8KiB
};

struct AlertingConfig {
  absl::Duration evaluation_interval = absl::Seconds(15);  // evaluationInterval
  std::vector<std::string> rule_files;                     // ruleFiles (globs allowed)
  std::vector<std::string> alertmanagers;
  std::vector<WebhookConfig> webhooks;
  bool kubernetes_events = true;  // kubernetesEvents
  std::string outbox_dir;         // outboxDir: "" = <dataDir>/outbox
  CrashLoopConfig crash_loop;     // crashLoop
};

struct Config {
  CollectorConfig collector;
  ServerConfig server;
  KubernetesConfig kubernetes;
  AutoscalerConfig autoscaler;
  AlertingConfig alerting;
};

// Flow collections ([...] and {...}) nested deeper than this are refused before yaml-cpp sees
// them: its parser recurses per level.
inline constexpr int kMaxYamlNesting = 64;
// InvalidArgument "SOURCE:LINE: nested deeper than 64 levels" for YAML text whose flow
// collections nest deeper than kMaxYamlNesting (brackets counted outside quoted scalars and
// comments: a cheap guard, not a parser). Block nesting is bounded by yaml-cpp's own guard.
absl::Status CheckYamlNesting(absl::string_view yaml, absl::string_view source);

// Levenshtein distance, ASCII case-insensitive: for "did you mean" suggestions.
size_t EditDistance(absl::string_view a, absl::string_view b);

// Parses a configuration document. `source` names it in errors (usually the file path). An empty
// document gives the defaults. InvalidArgument listing every problem found, each as
// "SOURCE:LINE:COL: PATH: what", e.g.
//   config.yaml:4:3: collector.intervl: unknown key (did you mean "interval"?)
//   config.yaml:7:13: server.retention.time: not a valid duration string: "15x" ...
absl::StatusOr<Config> ParseConfig(absl::string_view yaml, absl::string_view source);

// Reads and parses the file at `path`. NotFound / PermissionDenied when it cannot be read,
// otherwise as ParseConfig.
absl::StatusOr<Config> LoadConfigFile(const std::string& path);

// Checks cross-field rules the parser cannot (positive intervals, renewDeadline < leaseDuration,
// and so on). InvalidArgument naming the key.
absl::Status ValidateConfig(const Config& config);

absl::string_view FsyncPolicyName(FsyncPolicy p);
absl::StatusOr<FsyncPolicy> ParseFsyncPolicy(absl::string_view s);

}  // namespace sextant
