// Where the Kubernetes API server is and how to authenticate to it: from inside a pod
// (in-cluster) or from a kubeconfig file, as client-go and kubectl read them.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/config.h"
#include "common/http_client.h"

namespace sextant::kube {

// Everything a client needs to reach one API server. A value type.
struct ClusterConfig {
  // Base URL, e.g. "https://10.96.0.1:443" or "https://[fd00::1]:443"; no trailing slash.
  std::string server;
  // TLS (CA, client certificate, insecure_skip_verify) and the bearer token or token file, as
  // the HTTP client takes them. Tokens go only over https (HttpClientOptions enforces it).
  HttpClientOptions http;
  // The namespace to use when a call names none: the pod's namespace in-cluster, the context's
  // namespace from a kubeconfig, else "default".
  std::string default_namespace = "default";
  // Where this came from, for log lines: "in-cluster" or "kubeconfig FILE (context NAME)".
  std::string source;
};

// Where in-cluster configuration is read from; tests point these elsewhere.
struct InClusterOptions {
  // Environment lookups (KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT). Default: getenv.
  std::function<std::optional<std::string>(absl::string_view)> getenv;
  // The service-account directory holding token, ca.crt and namespace.
  std::string service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

// True when running in a pod: KUBERNETES_SERVICE_HOST and _PORT are set.
bool InCluster(const InClusterOptions& options = {});

// The in-cluster configuration: https://HOST:PORT (IPv6 hosts bracketed), the service-account
// token file (re-read by the HTTP client as it rotates), ca.crt and namespace. NotFound when not
// in a pod; FailedPrecondition naming the missing file otherwise.
absl::StatusOr<ClusterConfig> LoadInClusterConfig(const InClusterOptions& options = {});

// Reads a kubeconfig file (clusters, users, contexts, current-context) and resolves `context`
// ("" = current-context): server, certificate-authority(-data), insecure-skip-tls-verify (logs
// a warning), token, tokenFile, client-certificate(-data), client-key(-data), the context's
// namespace. Relative file paths are relative to the kubeconfig's directory, as kubectl does.
// InvalidArgument naming the file and the problem (unknown context, missing cluster or user,
// bad base64); Unimplemented for exec and auth-provider credential plugins.
absl::StatusOr<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context);

// The configuration the server roles use (DESIGN.md 3.7 `kubernetes:`): the kubeconfig when one
// is set, else in-cluster when in a pod, else nullopt (no cluster: those parts stay idle).
absl::StatusOr<std::optional<ClusterConfig>> LoadClusterConfig(
    const KubernetesConfig& config, const InClusterOptions& in_cluster = {});

}  // namespace sextant::kube
