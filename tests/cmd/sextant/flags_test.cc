#include "cmd/sextant/flags.h"

#include <map>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

ABSL_DECLARE_FLAG(std::string, data_dir);
ABSL_DECLARE_FLAG(std::vector<std::string>, remote_write_url);
ABSL_DECLARE_FLAG(bool, leader_elect);

namespace sextant::cmd {
namespace {

using ::testing::HasSubstr;

class FlagsTest : public ::testing::Test {
 protected:
  void SetUp() override { ResetFlagsForTest(); }
  void TearDown() override { ResetFlagsForTest(); }
  const RoleSpec& Role(const char* name) { return *FindRole(name); }
};

TEST_F(FlagsTest, DashedNamesEqualsAndSpaceForms) {
  absl::StatusOr<ParsedFlags> p =
      ParseRoleFlags(Role("server"), {"--data-dir=/d", "--retention", "30d", "--leader-elect"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(absl::GetFlag(FLAGS_data_dir), "/d");
  EXPECT_TRUE(absl::GetFlag(FLAGS_leader_elect));
  EXPECT_EQ(p->specified, (std::set<std::string>{"data_dir", "retention", "leader_elect"}));
  EXPECT_FALSE(p->help);
}

TEST_F(FlagsTest, NegatedBoolAndHelp) {
  absl::StatusOr<ParsedFlags> p = ParseRoleFlags(Role("server"), {"--noleader-elect", "--help"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_FALSE(absl::GetFlag(FLAGS_leader_elect));
  EXPECT_TRUE(p->help);
}

TEST_F(FlagsTest, RepeatableFlagAccumulates) {
  absl::StatusOr<ParsedFlags> p = ParseRoleFlags(
      Role("collector"), {"--remote-write-url=http://a/w", "--remote-write-url", "http://b/w"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(absl::GetFlag(FLAGS_remote_write_url),
            (std::vector<std::string>{"http://a/w", "http://b/w"}));
}

TEST_F(FlagsTest, RejectsFlagsOfOtherRolesUnknownFlagsAndPositionals) {
  absl::StatusOr<ParsedFlags> p = ParseRoleFlags(Role("collector"), {"--data-dir=/d"});
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("unknown flag --data-dir for 'sextant collector'"));
  EXPECT_THAT(ParseRoleFlags(Role("server"), {"--bogus"}).status().message(),
              HasSubstr("unknown flag --bogus"));
  EXPECT_THAT(ParseRoleFlags(Role("server"), {"extra"}).status().message(),
              HasSubstr("unexpected argument \"extra\""));
  EXPECT_THAT(ParseRoleFlags(Role("server"), {"--data-dir"}).status().message(),
              HasSubstr("flag --data-dir needs a value"));
  EXPECT_THAT(ParseRoleFlags(Role("server"), {"--leader-elect=maybe"}).status().message(),
              HasSubstr("bad value for --leader-elect"));
}

TEST_F(FlagsTest, FlagsOverrideConfigFile) {
  testing::TempDir dir;
  std::string path = dir.WriteFile(
      "c.yaml", "server:\n  dataDir: /from-file\n  listen: ':1'\ncollector:\n  interval: 10s\n");
  absl::StatusOr<ParsedFlags> p = ParseRoleFlags(
      Role("local"), {"--config", path, "--data-dir=/from-flag", "--listen=127.0.0.1:0"});
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<Config> c = LoadConfigWithFlags(Role("local"), *p);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.data_dir, "/from-flag");
  EXPECT_EQ(c->server.listen, "127.0.0.1:0");
  EXPECT_EQ(c->collector.interval, absl::Seconds(10));  // file value kept where no flag
}

TEST_F(FlagsTest, ListenMapsToTheRolesOwnKey) {
  absl::StatusOr<ParsedFlags> p =
      ParseRoleFlags(Role("collector"), {"--listen=:7000", "--interval=1s"});
  ASSERT_TRUE(p.ok());
  absl::StatusOr<Config> c = LoadConfigWithFlags(Role("collector"), *p);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->collector.listen, ":7000");
  EXPECT_EQ(c->server.listen, ":9190");
  EXPECT_EQ(c->collector.interval, absl::Seconds(1));
}

// Every flag that maps onto a config key (DESIGN.md 3.2 and 3.7) lands on that key.
TEST_F(FlagsTest, EveryConfigFlagMapsOntoItsKey) {
  absl::StatusOr<ParsedFlags> p = ParseRoleFlags(
      Role("server"), {"--data-dir=/data", "--retention=30d", "--kubeconfig=/kc", "--context=prod",
                       "--leader-elect", "--dry-run", "--listen=:7777"});
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<Config> c = LoadConfigWithFlags(Role("server"), *p);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.data_dir, "/data");
  EXPECT_EQ(c->server.retention.time, absl::Hours(24 * 30));
  EXPECT_EQ(c->kubernetes.kubeconfig, "/kc");
  EXPECT_EQ(c->kubernetes.context, "prod");
  EXPECT_TRUE(c->kubernetes.leader_election.enabled);
  EXPECT_TRUE(c->autoscaler.dry_run);
  EXPECT_EQ(c->server.listen, ":7777");
  EXPECT_EQ(c->collector.listen, ":9191");

  ResetFlagsForTest();
  p = ParseRoleFlags(
      Role("collector"),
      {"--interval=2s", "--remote-write-url=http://a/w", "--remote-write-url=http://b/w",
       "--host-root=/host", "--kubelet-url=https://10.0.0.1:10250", "--kubelet-insecure-tls",
       "--node-name=node-a", "--listen=:7778"});
  ASSERT_TRUE(p.ok()) << p.status();
  c = LoadConfigWithFlags(Role("collector"), *p);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->collector.interval, absl::Seconds(2));
  ASSERT_EQ(c->collector.remote_write.size(), 2u);
  EXPECT_EQ(c->collector.remote_write[0].url, "http://a/w");
  EXPECT_EQ(c->collector.remote_write[0].queue_bytes, 64 << 20);
  EXPECT_EQ(c->collector.remote_write[1].url, "http://b/w");
  EXPECT_EQ(c->collector.host_root, "/host");
  EXPECT_EQ(c->collector.kubelet.url, "https://10.0.0.1:10250");
  EXPECT_TRUE(c->collector.kubelet.insecure_tls);
  EXPECT_EQ(c->collector.node_name, "node-a");
  EXPECT_EQ(c->collector.listen, ":7778");
  EXPECT_EQ(c->server.listen, ":9190");

  ResetFlagsForTest();
  p = ParseRoleFlags(Role("local"),
                     {"--collector-listen=127.0.0.1:7779", "--listen=127.0.0.1:7780"});
  ASSERT_TRUE(p.ok()) << p.status();
  c = LoadConfigWithFlags(Role("local"), *p);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->collector.listen, "127.0.0.1:7779");
  EXPECT_EQ(c->server.listen, "127.0.0.1:7780");
}

TEST_F(FlagsTest, FlagsNotGivenLeaveFileValues) {
  testing::TempDir dir;
  std::string path =
      dir.WriteFile("c.yaml",
                    "kubernetes:\n  kubeconfig: /file-kc\n  leaderElection: {enabled: true}\n"
                    "collector:\n  remoteWrite: [{url: http://file/w}]\n");
  absl::StatusOr<ParsedFlags> p = ParseRoleFlags(Role("server"), {"--config=" + path});
  ASSERT_TRUE(p.ok());
  absl::StatusOr<Config> c = LoadConfigWithFlags(Role("server"), *p);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kubernetes.kubeconfig, "/file-kc");
  EXPECT_TRUE(c->kubernetes.leader_election.enabled);  // --leader-elect's default does not win
  ASSERT_EQ(c->collector.remote_write.size(), 1u);
  EXPECT_EQ(c->collector.remote_write[0].url, "http://file/w");
}

TEST_F(FlagsTest, BadFlagValueAndBadConfigNameTheirSource) {
  absl::StatusOr<ParsedFlags> p = ParseRoleFlags(Role("server"), {"--retention=15x"});
  ASSERT_TRUE(p.ok());
  EXPECT_THAT(LoadConfigWithFlags(Role("server"), *p).status().message(),
              HasSubstr("--retention: not a valid duration string: \"15x\""));

  testing::TempDir dir;
  std::string path = dir.WriteFile("bad.yaml", "server:\n  dataDri: x\n");
  ResetFlagsForTest();
  p = ParseRoleFlags(Role("server"), {"--config=" + path});
  ASSERT_TRUE(p.ok());
  EXPECT_THAT(LoadConfigWithFlags(Role("server"), *p).status().message(),
              HasSubstr("bad.yaml:2:3: server.dataDri: unknown key (did you mean \"dataDir\"?)"));
}

TEST_F(FlagsTest, HelpListsEveryFlagOfTheRoleWithDashes) {
  for (const RoleSpec& role : Roles()) {
    std::string help = RoleHelp(role);
    EXPECT_THAT(help, HasSubstr("Usage: sextant " + role.name));
    for (const std::string& f : role.flags) {
      std::string dashed = f;
      std::replace(dashed.begin(), dashed.end(), '_', '-');
      EXPECT_THAT(help, HasSubstr("--" + dashed)) << role.name;
    }
  }
  EXPECT_THAT(RoleHelp(*FindRole("collector")), HasSubstr("--remote-write-url=VALUE (repeatable)"));
  // The flags DESIGN.md 3.2 names, per role, written out independently of Roles().
  const std::map<std::string, std::vector<std::string>> kDesign = {
      {"collector",
       {"--config", "--listen", "--log-level", "--log-format", "--interval", "--remote-write-url",
        "--once", "--host-root", "--kubelet-url", "--node-name"}},
      {"server",
       {"--config", "--listen", "--log-level", "--log-format", "--data-dir", "--retention",
        "--kubeconfig", "--leader-elect"}},
      {"replay", {"--policy", "--scenario", "--from"}},
  };
  for (const auto& [role, flags] : kDesign) {
    std::string help = RoleHelp(*FindRole(role));
    for (const std::string& f : flags) EXPECT_THAT(help, HasSubstr("  " + f)) << role;
  }
  std::string top = TopHelp();
  for (const char* cmd : {"collector", "server", "local", "replay", "version"}) {
    EXPECT_THAT(top, HasSubstr(cmd));
  }
}

}  // namespace
}  // namespace sextant::cmd
