#include "common/config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sextant {
namespace {

using ::testing::HasSubstr;

TEST(ConfigTest, EmptyDocumentGivesContractDefaults) {
  absl::StatusOr<Config> c = ParseConfig("", "empty.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->collector.interval, absl::Seconds(5));
  EXPECT_EQ(c->collector.listen, ":9191");
  EXPECT_EQ(c->collector.host_root, "/");
  ASSERT_EQ(c->collector.remote_write.size(), 1u);
  EXPECT_EQ(c->collector.remote_write[0].url, "http://sextant-server:9190/api/v1/write");
  EXPECT_EQ(c->collector.remote_write[0].queue_bytes, 64 << 20);
  EXPECT_EQ(c->server.listen, ":9190");
  EXPECT_EQ(c->server.data_dir, "./sextant-data");
  EXPECT_EQ(c->server.retention.time, absl::Hours(24 * 15));
  EXPECT_EQ(c->server.retention.size, 0);
  EXPECT_EQ(c->server.wal.fsync, FsyncPolicy::kInterval);
  EXPECT_EQ(c->server.wal.fsync_interval, absl::Seconds(1));
  EXPECT_EQ(c->server.limits.body_bytes, 32 << 20);
  EXPECT_EQ(c->server.limits.series_per_request, 100000);
  EXPECT_EQ(c->server.limits.labels_per_series, 64);
  EXPECT_EQ(c->server.limits.label_value_bytes, 4096);
  EXPECT_EQ(c->server.limits.active_series, 5000000);
  EXPECT_EQ(c->server.limits.query_samples, 50000000);
  EXPECT_EQ(c->server.limits.query_timeout, absl::Minutes(2));
  EXPECT_TRUE(c->server.remote_write.empty());
  EXPECT_FALSE(c->kubernetes.leader_election.enabled);
  EXPECT_EQ(c->kubernetes.leader_election.name, "sextant-server");
  EXPECT_EQ(c->kubernetes.leader_election.lease_duration, absl::Seconds(15));
  EXPECT_EQ(c->kubernetes.leader_election.renew_deadline, absl::Seconds(10));
  EXPECT_EQ(c->kubernetes.leader_election.retry_period, absl::Seconds(2));
  EXPECT_TRUE(c->autoscaler.enabled);
  EXPECT_EQ(c->autoscaler.sync_interval, absl::Seconds(5));
  EXPECT_FALSE(c->autoscaler.dry_run);
  EXPECT_EQ(c->alerting.evaluation_interval, absl::Seconds(15));
  EXPECT_TRUE(c->alerting.kubernetes_events);
  EXPECT_TRUE(c->alerting.crash_loop.enabled);
  EXPECT_EQ(c->alerting.crash_loop.restarts, 3);
  EXPECT_EQ(c->alerting.crash_loop.window, absl::Minutes(10));
  EXPECT_EQ(c->alerting.crash_loop.resolve_after, absl::Minutes(10));
  EXPECT_EQ(c->alerting.crash_loop.log_lines, 20);
  EXPECT_EQ(c->alerting.crash_loop.log_bytes, 8 << 10);
  EXPECT_TRUE(ValidateConfig(*c).ok());
}

TEST(ConfigTest, ReadsEveryKeyOfTheContract) {
  const char* kYaml = R"(
collector:
  interval: 10s
  listen: "127.0.0.1:19191"
  hostRoot: /host
  nodeName: node-a
  kubelet: {url: "https://10.0.0.1:10250", insecureTLS: true}
  remoteWrite: [{url: "http://a/api/v1/write", queueBytes: 1MiB}, {url: "http://b/w"}]
server:
  listen: ":19190"
  dataDir: /var/lib/sextant
  retention: {time: 30d, size: 10GiB}
  wal: {fsync: always, fsyncInterval: 250ms}
  limits: {bodyBytes: 1MiB, seriesPerRequest: 10, labelsPerSeries: 8, labelValueBytes: 128,
           activeSeries: 1000, querySamples: 5000, queryTimeout: 30s}
  remoteWrite:
    - url: http://mimir/api/v1/push
kubernetes:
  kubeconfig: /etc/kubeconfig
  context: prod
  leaderElection: {enabled: true, namespace: ops, name: sx, leaseDuration: 30s, renewDeadline: 20s, retryPeriod: 5s}
autoscaler:
  enabled: false
  syncInterval: 1s
  policyFiles: [a.yaml, b.yaml]
  watchNamespaces: [web]
  dryRun: true
  queryURL: http://prometheus:9090
alerting:
  evaluationInterval: 1m
  ruleFiles: ["rules/*.yaml"]
  alertmanagers: ["http://alertmanager:9093"]
  webhooks: [{url: "http://hook", hmacSecretFile: /secret}]
  kubernetesEvents: false
  outboxDir: /outbox
  crashLoop: {enabled: false, restarts: 5, window: 5m, resolveAfter: 1h, logLines: 50, logBytes: 16KiB}
)";
  absl::StatusOr<Config> c = ParseConfig(kYaml, "full.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->collector.interval, absl::Seconds(10));
  EXPECT_EQ(c->collector.listen, "127.0.0.1:19191");
  EXPECT_EQ(c->collector.host_root, "/host");
  EXPECT_EQ(c->collector.node_name, "node-a");
  EXPECT_EQ(c->collector.kubelet.url, "https://10.0.0.1:10250");
  EXPECT_TRUE(c->collector.kubelet.insecure_tls);
  ASSERT_EQ(c->collector.remote_write.size(), 2u);
  EXPECT_EQ(c->collector.remote_write[0].url, "http://a/api/v1/write");
  EXPECT_EQ(c->collector.remote_write[0].queue_bytes, 1 << 20);
  EXPECT_EQ(c->collector.remote_write[1].url, "http://b/w");
  EXPECT_EQ(c->collector.remote_write[1].queue_bytes, 64 << 20);
  EXPECT_EQ(c->server.data_dir, "/var/lib/sextant");
  EXPECT_EQ(c->server.retention.time, absl::Hours(24 * 30));
  EXPECT_EQ(c->server.retention.size, int64_t{10} << 30);
  EXPECT_EQ(c->server.wal.fsync, FsyncPolicy::kAlways);
  EXPECT_EQ(c->server.wal.fsync_interval, absl::Milliseconds(250));
  EXPECT_EQ(c->server.listen, ":19190");
  EXPECT_EQ(c->server.limits.body_bytes, 1 << 20);
  EXPECT_EQ(c->server.limits.series_per_request, 10);
  EXPECT_EQ(c->server.limits.labels_per_series, 8);
  EXPECT_EQ(c->server.limits.label_value_bytes, 128);
  EXPECT_EQ(c->server.limits.active_series, 1000);
  EXPECT_EQ(c->server.limits.query_samples, 5000);
  EXPECT_EQ(c->server.limits.query_timeout, absl::Seconds(30));
  ASSERT_EQ(c->server.remote_write.size(), 1u);
  EXPECT_EQ(c->server.remote_write[0].url, "http://mimir/api/v1/push");
  EXPECT_EQ(c->kubernetes.kubeconfig, "/etc/kubeconfig");
  EXPECT_EQ(c->kubernetes.context, "prod");
  const LeaderElectionConfig& le = c->kubernetes.leader_election;
  EXPECT_TRUE(le.enabled);
  EXPECT_EQ(le.lease_namespace, "ops");
  EXPECT_EQ(le.name, "sx");
  EXPECT_EQ(le.lease_duration, absl::Seconds(30));
  EXPECT_EQ(le.renew_deadline, absl::Seconds(20));
  EXPECT_EQ(le.retry_period, absl::Seconds(5));
  EXPECT_FALSE(c->autoscaler.enabled);
  EXPECT_EQ(c->autoscaler.sync_interval, absl::Seconds(1));
  EXPECT_EQ(c->autoscaler.policy_files, (std::vector<std::string>{"a.yaml", "b.yaml"}));
  EXPECT_EQ(c->autoscaler.watch_namespaces, (std::vector<std::string>{"web"}));
  EXPECT_TRUE(c->autoscaler.dry_run);
  EXPECT_EQ(c->autoscaler.query_url, "http://prometheus:9090");
  EXPECT_EQ(c->alerting.evaluation_interval, absl::Minutes(1));
  EXPECT_EQ(c->alerting.rule_files, (std::vector<std::string>{"rules/*.yaml"}));
  EXPECT_EQ(c->alerting.alertmanagers, (std::vector<std::string>{"http://alertmanager:9093"}));
  ASSERT_EQ(c->alerting.webhooks.size(), 1u);
  EXPECT_EQ(c->alerting.webhooks[0].url, "http://hook");
  EXPECT_EQ(c->alerting.webhooks[0].hmac_secret_file, "/secret");
  EXPECT_FALSE(c->alerting.kubernetes_events);
  EXPECT_EQ(c->alerting.outbox_dir, "/outbox");
  const CrashLoopConfig& cl = c->alerting.crash_loop;
  EXPECT_FALSE(cl.enabled);
  EXPECT_EQ(cl.restarts, 5);
  EXPECT_EQ(cl.window, absl::Minutes(5));
  EXPECT_EQ(cl.resolve_after, absl::Hours(1));
  EXPECT_EQ(cl.log_lines, 50);
  EXPECT_EQ(cl.log_bytes, 16 << 10);
  EXPECT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c);
}

TEST(ConfigTest, UnknownKeyNamesKeyFileAndLineWithSuggestion) {
  absl::StatusOr<Config> c =
      ParseConfig("collector:\n  interval: 5s\n  intervl: 6s\n", "/etc/sx.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("/etc/sx.yaml:3:3: collector.intervl: unknown key"));
  EXPECT_THAT(c.status().message(), HasSubstr("did you mean \"interval\""));
}

TEST(ConfigTest, UnknownTopLevelSectionListsKnownKeys) {
  absl::StatusOr<Config> c = ParseConfig("\n\nnotasection:\n  a: 1\n", "c.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(),
              HasSubstr("c.yaml:3:1: notasection: unknown key (known keys: "));
}

TEST(ConfigTest, ReportsEveryBadValueWithItsPosition) {
  absl::StatusOr<Config> c = ParseConfig(
      "server:\n  retention:\n    time: 15x\n  wal: {fsync: sometimes}\n"
      "autoscaler:\n  dryRun: maybe\n  policyFiles: notalist\n",
      "c.yaml");
  ASSERT_FALSE(c.ok());
  const std::string msg(c.status().message());
  EXPECT_THAT(
      msg, HasSubstr("c.yaml:3:11: server.retention.time: not a valid duration string: \"15x\""));
  EXPECT_THAT(msg, HasSubstr("server.wal.fsync: unknown fsync policy \"sometimes\""));
  EXPECT_THAT(msg, HasSubstr("c.yaml:6:11: autoscaler.dryRun: want true or false, got \"maybe\""));
  EXPECT_THAT(msg, HasSubstr("autoscaler.policyFiles: want a list of strings"));
}

TEST(ConfigTest, DuplicateKeyIsAnError) {
  absl::StatusOr<Config> c = ParseConfig("server:\n  listen: a\n  listen: b\n", "c.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("c.yaml:3:3: server.listen: duplicate key"));
}

TEST(ConfigTest, SyntaxErrorNamesLine) {
  absl::StatusOr<Config> c = ParseConfig("server:\n  listen: [unclosed\n", "c.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("c.yaml:"));
}

TEST(ConfigTest, NonMappingDocumentIsAnError) {
  absl::StatusOr<Config> c = ParseConfig("- a\n- b\n", "c.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("want a mapping"));
}

TEST(ConfigTest, RemoteWriteEntryNeedsUrl) {
  absl::StatusOr<Config> c =
      ParseConfig("collector:\n  remoteWrite: [{queueBytes: 1MiB}]\n", "c.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("collector.remoteWrite[0]: url is required"));
}

TEST(ConfigTest, NullValueKeepsDefault) {
  absl::StatusOr<Config> c = ParseConfig("collector:\n  interval:\nserver:\n", "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->collector.interval, absl::Seconds(5));
}

TEST(ConfigTest, DeepNestingIsRefused) {
  std::string deep(1000, '[');
  absl::StatusOr<Config> c = ParseConfig(deep, "c.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("nested deeper"));
}

TEST(ConfigTest, BracketsInQuotedStringsAndCommentsDoNotCountAsNesting) {
  std::string many(200, '[');
  absl::StatusOr<Config> c =
      ParseConfig("server:\n  dataDir: \"" + many + "\"  # " + many + "\n", "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.data_dir, many);
}

TEST(ConfigTest, EmptyListClearsDefaultRemoteWrite) {
  absl::StatusOr<Config> c = ParseConfig("collector:\n  remoteWrite: []\n", "c.yaml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->collector.remote_write.empty());
}

TEST(ConfigTest, ValidateRejectsZeroLimits) {
  Config c;
  c.server.limits.body_bytes = 0;
  c.collector.remote_write[0].queue_bytes = 0;
  c.alerting.crash_loop.resolve_after = absl::ZeroDuration();
  const std::string msg(ValidateConfig(c).message());
  EXPECT_THAT(msg, HasSubstr("server.limits.bodyBytes: must be at least 1"));
  EXPECT_THAT(msg, HasSubstr("collector.remoteWrite[0].queueBytes: must be at least 1"));
  EXPECT_THAT(msg, HasSubstr("alerting.crashLoop.resolveAfter: must be positive"));
}

TEST(ConfigTest, ValidateRejectsInconsistentLeaderElection) {
  Config c;
  c.kubernetes.leader_election.renew_deadline = absl::Seconds(20);
  absl::Status s = ValidateConfig(c);
  EXPECT_THAT(s.message(), HasSubstr("renewDeadline: must be shorter than leaseDuration"));
  Config d;
  d.autoscaler.sync_interval = absl::Milliseconds(500);
  EXPECT_THAT(ValidateConfig(d).message(),
              HasSubstr("autoscaler.syncInterval: must be at least 1s"));
}

TEST(ConfigTest, LoadConfigFileReadsFileAndReportsMissingOne) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("c.yaml", "server:\n  dataDir: /d\n");
  absl::StatusOr<Config> c = LoadConfigFile(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.data_dir, "/d");
  absl::StatusOr<Config> missing = LoadConfigFile(dir.Path("nope.yaml"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.yaml"));
  // A directory is not silently read as an empty document.
  absl::StatusOr<Config> directory = LoadConfigFile(dir.path());
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(directory.status().message(), HasSubstr("not a regular file"));
}

}  // namespace
}  // namespace sextant
