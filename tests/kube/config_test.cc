#include "kube/config.h"

#include <filesystem>
#include <map>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sextant::kube {
namespace {

using ::testing::HasSubstr;

InClusterOptions FakePod(const testing::TempDir& dir, std::map<std::string, std::string> env) {
  InClusterOptions o;
  o.getenv = [env](absl::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  o.service_account_dir = dir.path();
  return o;
}

TEST(InClusterConfigTest, ReadsServiceAccountAndEnvironment) {
  testing::TempDir dir;
  dir.WriteFile("token", "tok");
  dir.WriteFile("ca.crt", "pem");
  dir.WriteFile("namespace", "monitoring\n");
  InClusterOptions o =
      FakePod(dir, {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  EXPECT_TRUE(InCluster(o));
  absl::StatusOr<ClusterConfig> c = LoadInClusterConfig(o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://10.96.0.1:443");
  EXPECT_EQ(c->http.bearer_token_file, dir.Path("token"));  // re-read by the client as it rotates
  EXPECT_EQ(c->http.ca_file, dir.Path("ca.crt"));
  EXPECT_EQ(c->default_namespace, "monitoring");
  EXPECT_EQ(c->source, "in-cluster");
}

TEST(InClusterConfigTest, BracketsIpv6Hosts) {
  testing::TempDir dir;
  dir.WriteFile("token", "tok");
  dir.WriteFile("ca.crt", "pem");
  absl::StatusOr<ClusterConfig> c = LoadInClusterConfig(FakePod(
      dir, {{"KUBERNETES_SERVICE_HOST", "fd00:10:96::1"}, {"KUBERNETES_SERVICE_PORT", "6443"}}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://[fd00:10:96::1]:6443");
  EXPECT_EQ(c->default_namespace, "default");
}

TEST(InClusterConfigTest, OutsideAPodOrWithoutToken) {
  testing::TempDir dir;
  InClusterOptions none = FakePod(dir, {});
  EXPECT_FALSE(InCluster(none));
  EXPECT_EQ(LoadInClusterConfig(none).status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<ClusterConfig> c = LoadInClusterConfig(
      FakePod(dir, {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}}));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(c.status().message(), HasSubstr("token is missing"));
}

constexpr char kKubeconfig[] = R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority: certs/ca.pem
- name: prod-cluster
  cluster:
    server: https://prod.example:443
    certificate-authority-data: UEVNIERBVEE=
- name: lab-cluster
  cluster:
    server: https://lab:443
    insecure-skip-tls-verify: true
users:
- name: dev-user
  user:
    token: abc123
- name: prod-user
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
- name: lab-user
  user:
    tokenFile: /var/run/token
    client-certificate: lab.crt
    client-key: lab.key
- name: both-user
  user:
    token: static
    tokenFile: /var/run/rotating
- name: sso-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: aws
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user}
- name: prod
  context: {cluster: prod-cluster, user: prod-user, namespace: web}
- name: lab
  context: {cluster: lab-cluster, user: lab-user}
- name: sso
  context: {cluster: dev-cluster, user: sso-user}
- name: broken
  context: {cluster: nowhere, user: dev-user}
- name: both
  context: {cluster: dev-cluster, user: both-user}
)";

TEST(KubeconfigTest, CurrentContextWithRelativeCaAndToken) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("config", kKubeconfig);
  absl::StatusOr<ClusterConfig> c = LoadKubeconfig(path, "");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://127.0.0.1:6443");
  EXPECT_EQ(c->http.ca_file, dir.Path("certs/ca.pem"));
  EXPECT_EQ(c->http.bearer_token, "abc123");
  EXPECT_EQ(c->default_namespace, "default");
  EXPECT_THAT(c->source, HasSubstr("(context dev)"));
}

TEST(KubeconfigTest, ContextOverrideAndDataForms) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("config", kKubeconfig);
  absl::StatusOr<ClusterConfig> c = LoadKubeconfig(path, "prod");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://prod.example:443");
  EXPECT_EQ(c->http.ca_pem, "PEM DATA");
  EXPECT_TRUE(c->http.ca_file.empty());
  EXPECT_EQ(c->http.client_cert_pem, "CERT");
  EXPECT_EQ(c->http.client_key_pem, "KEY");
  EXPECT_EQ(c->default_namespace, "web");
  EXPECT_FALSE(c->http.insecure_skip_verify);
}

TEST(KubeconfigTest, TokenFileClientCertFilesAndInsecure) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("config", kKubeconfig);
  absl::StatusOr<ClusterConfig> c = LoadKubeconfig(path, "lab");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->http.insecure_skip_verify);
  EXPECT_EQ(c->http.bearer_token_file, "/var/run/token");
  EXPECT_EQ(c->http.client_cert_file, dir.Path("lab.crt"));
  EXPECT_EQ(c->http.client_key_file, dir.Path("lab.key"));
}

TEST(KubeconfigTest, TokenFileWinsOverTokenSoRotationIsFollowed) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("config", kKubeconfig);
  absl::StatusOr<ClusterConfig> c = LoadKubeconfig(path, "both");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->http.bearer_token_file, "/var/run/rotating");
  EXPECT_EQ(c->http.bearer_token, "");
}

TEST(KubeconfigTest, RefusesCredentialPluginsClearly) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("config", kKubeconfig);
  absl::StatusOr<ClusterConfig> c = LoadKubeconfig(path, "sso");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(c.status().message(), HasSubstr("exec credential plugin"));
}

TEST(KubeconfigTest, NamesWhatIsMissing) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("config", kKubeconfig);
  EXPECT_THAT(LoadKubeconfig(path, "nope").status().message(),
              HasSubstr("no context named \"nope\""));
  EXPECT_THAT(LoadKubeconfig(path, "broken").status().message(),
              HasSubstr("no cluster named \"nowhere\""));
  std::string bad = dir.WriteFile(
      "bad",
      "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
      "clusters: [{name: c, cluster: {server: 'https://x', certificate-authority-data: '!!'}}]\n");
  EXPECT_THAT(LoadKubeconfig(bad, "").status().message(),
              HasSubstr("certificate-authority-data is not valid base64"));
  std::string syntax = dir.WriteFile("syntax", "clusters: [unclosed\n");
  EXPECT_EQ(LoadKubeconfig(syntax, "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadKubeconfig(dir.Path("missing"), "").status().code(), absl::StatusCode::kNotFound);
}

TEST(LoadClusterConfigTest, KubeconfigThenInClusterThenNone) {
  testing::TempDir dir;
  std::string path = dir.WriteFile("config", kKubeconfig);
  KubernetesConfig k;
  InClusterOptions outside = FakePod(dir, {});
  absl::StatusOr<std::optional<ClusterConfig>> none = LoadClusterConfig(k, outside);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  k.kubeconfig = path;
  k.context = "prod";
  absl::StatusOr<std::optional<ClusterConfig>> from_file = LoadClusterConfig(k, outside);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ((*from_file)->server, "https://prod.example:443");

  dir.WriteFile("token", "t");
  dir.WriteFile("ca.crt", "c");
  InClusterOptions pod =
      FakePod(dir, {{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}});
  absl::StatusOr<std::optional<ClusterConfig>> in_pod = LoadClusterConfig(KubernetesConfig{}, pod);
  ASSERT_TRUE(in_pod.ok()) << in_pod.status();
  EXPECT_EQ((*in_pod)->server, "https://10.0.0.1:443");
}

}  // namespace
}  // namespace sextant::kube
