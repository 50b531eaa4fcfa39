#include "kube/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace sextant::kube {
namespace {

std::optional<std::string> RealGetenv(absl::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::optional<std::string> Env(const InClusterOptions& o, absl::string_view name) {
  return o.getenv ? o.getenv(name) : RealGetenv(name);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A host for a URL: IPv6 literals get brackets.
std::string UrlHost(const std::string& host) {
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

// Scalar `key` of map `node`, or "" when absent or null. Sets *error for a non-scalar.
std::string Scalar(const YAML::Node& node, const char* key, std::string* error) {
  const YAML::Node v = node[key];
  if (!v.IsDefined() || v.IsNull()) return "";
  if (!v.IsScalar()) {
    *error = absl::StrCat("\"", key, "\" must be a string");
    return "";
  }
  return v.Scalar();
}

// The entry named `name` in list `key` of the kubeconfig (clusters, users, contexts), as its
// inner map (cluster:, user:, context:).
absl::StatusOr<YAML::Node> Named(const YAML::Node& root, const char* list, const char* inner,
                                 const std::string& name, const std::string& path) {
  const YAML::Node entries = root[list];
  if (entries.IsDefined() && !entries.IsNull() && !entries.IsSequence()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", path, ": \"", list, "\" must be a list"));
  }
  if (entries.IsSequence()) {
    for (size_t i = 0; i < entries.size(); ++i) {
      const YAML::Node e = entries[i];
      if (!e.IsMap()) continue;
      const YAML::Node n = e["name"];
      if (n.IsDefined() && n.IsScalar() && n.Scalar() == name) {
        const YAML::Node body = e[inner];
        if (!body.IsDefined() || !body.IsMap()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "kubeconfig ", path, ": ", list, " entry \"", name, "\" has no \"", inner, "\" map"));
        }
        return body;
      }
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("kubeconfig ", path, ": no ", inner, " named \"", name, "\" in \"", list, "\""));
}

absl::StatusOr<std::string> DecodeData(const std::string& b64, absl::string_view field,
                                       const std::string& path) {
  std::string out;
  std::string cleaned;
  for (char c : b64) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) cleaned += c;
  }
  if (!absl::Base64Unescape(cleaned, &out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", path, ": ", field, " is not valid base64"));
  }
  return out;
}

// `p` relative to the kubeconfig's directory unless absolute.
std::string Resolve(const std::string& p, const std::filesystem::path& dir) {
  if (p.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (dir / p).string();
}

absl::StatusOr<ClusterConfig> ParseKubeconfig(const YAML::Node& root, const std::string& path,
                                              const std::string& context_override) {
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", path, ": not a YAML mapping"));
  }
  std::string error;
  std::string context = context_override;
  if (context.empty()) context = Scalar(root, "current-context", &error);
  if (context.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", path, ": no current-context and no --context given"));
  }
  SEXTANT_ASSIGN_OR_RETURN(YAML::Node ctx, Named(root, "contexts", "context", context, path));
  const std::string cluster_name = Scalar(ctx, "cluster", &error);
  const std::string user_name = Scalar(ctx, "user", &error);
  const std::string ns = Scalar(ctx, "namespace", &error);
  if (!error.empty())
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", path, ": context \"", context, "\": ", error));
  SEXTANT_ASSIGN_OR_RETURN(YAML::Node cluster,
                           Named(root, "clusters", "cluster", cluster_name, path));
  const std::filesystem::path dir = std::filesystem::path(path).parent_path();

  ClusterConfig out;
  out.source = absl::StrCat("kubeconfig ", path, " (context ", context, ")");
  if (!ns.empty()) out.default_namespace = ns;
  out.server = Scalar(cluster, "server", &error);
  while (!out.server.empty() && out.server.back() == '/') out.server.pop_back();
  if (out.server.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubeconfig ", path, ": cluster \"", cluster_name, "\" has no server"));
  }
  out.http.ca_file = Resolve(Scalar(cluster, "certificate-authority", &error), dir);
  if (std::string data = Scalar(cluster, "certificate-authority-data", &error); !data.empty()) {
    SEXTANT_ASSIGN_OR_RETURN(out.http.ca_pem, DecodeData(data, "certificate-authority-data", path));
    out.http.ca_file.clear();  // the -data form wins, as in client-go
  }
  const std::string insecure =
      absl::AsciiStrToLower(Scalar(cluster, "insecure-skip-tls-verify", &error));
  if (insecure == "true") {
    out.http.insecure_skip_verify = true;
    LogWarn(
        "kubeconfig disables TLS verification of the API server: anyone on the path can "
        "impersonate it",
        {{"kubeconfig", path}, {"cluster", cluster_name}});
  }

  if (!user_name.empty()) {
    SEXTANT_ASSIGN_OR_RETURN(YAML::Node user, Named(root, "users", "user", user_name, path));
    for (const char* plugin : {"exec", "auth-provider"}) {
      if (user[plugin].IsDefined() && !user[plugin].IsNull()) {
        return absl::UnimplementedError(absl::StrCat(
            "kubeconfig ", path, ": user \"", user_name, "\" uses an ", plugin,
            " credential plugin, which Sextant does not run; use a token, tokenFile or client "
            "certificate (for example a service-account token)"));
      }
    }
    if (!Scalar(user, "username", &error).empty() || !Scalar(user, "password", &error).empty()) {
      return absl::UnimplementedError(absl::StrCat("kubeconfig ", path, ": user \"", user_name,
                                                   "\" uses basic auth, which Kubernetes removed; "
                                                   "use a token or client certificate"));
    }
    out.http.bearer_token = Scalar(user, "token", &error);
    out.http.bearer_token_file = Resolve(Scalar(user, "tokenFile", &error), dir);
    // Both given: the file wins, as in client-go (its value is re-read, so it follows rotation).
    if (!out.http.bearer_token_file.empty()) out.http.bearer_token.clear();
    out.http.client_cert_file = Resolve(Scalar(user, "client-certificate", &error), dir);
    out.http.client_key_file = Resolve(Scalar(user, "client-key", &error), dir);
    if (std::string data = Scalar(user, "client-certificate-data", &error); !data.empty()) {
      SEXTANT_ASSIGN_OR_RETURN(out.http.client_cert_pem,
                               DecodeData(data, "client-certificate-data", path));
      out.http.client_cert_file.clear();
    }
    if (std::string data = Scalar(user, "client-key-data", &error); !data.empty()) {
      SEXTANT_ASSIGN_OR_RETURN(out.http.client_key_pem, DecodeData(data, "client-key-data", path));
      out.http.client_key_file.clear();
    }
  }
  if (!error.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", path, ": ", error));
  }
  return out;
}

}  // namespace

bool InCluster(const InClusterOptions& options) {
  return Env(options, "KUBERNETES_SERVICE_HOST").has_value() &&
         Env(options, "KUBERNETES_SERVICE_PORT").has_value();
}

absl::StatusOr<ClusterConfig> LoadInClusterConfig(const InClusterOptions& options) {
  std::optional<std::string> host = Env(options, "KUBERNETES_SERVICE_HOST");
  std::optional<std::string> port = Env(options, "KUBERNETES_SERVICE_PORT");
  if (!host || !port) {
    return absl::NotFoundError(
        "not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
  }
  const std::string& dir = options.service_account_dir;
  ClusterConfig out;
  out.source = "in-cluster";
  out.server = absl::StrCat("https://", UrlHost(*host), ":", *port);
  out.http.bearer_token_file = dir + "/token";
  out.http.ca_file = dir + "/ca.crt";
  for (const std::string& f : {out.http.bearer_token_file, out.http.ca_file}) {
    if (!std::filesystem::exists(f)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "in-cluster config: ", f, " is missing (is a service account token mounted?)"));
    }
  }
  if (absl::StatusOr<std::string> ns = ReadFile(dir + "/namespace"); ns.ok()) {
    std::string trimmed(absl::StripAsciiWhitespace(*ns));
    if (!trimmed.empty()) out.default_namespace = trimmed;
  }
  return out;
}

absl::StatusOr<ClusterConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  SEXTANT_ASSIGN_OR_RETURN(std::string text, ReadFile(path), _.Prepend("kubeconfig: "));
  try {
    YAML::Node root = YAML::Load(text);
    return ParseKubeconfig(root, path, context);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", path, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", path, ": ", e.what()));
  }
}

absl::StatusOr<std::optional<ClusterConfig>> LoadClusterConfig(const KubernetesConfig& config,
                                                               const InClusterOptions& in_cluster) {
  if (!config.kubeconfig.empty()) {
    SEXTANT_ASSIGN_OR_RETURN(ClusterConfig c, LoadKubeconfig(config.kubeconfig, config.context));
    return std::optional<ClusterConfig>(std::move(c));
  }
  if (InCluster(in_cluster)) {
    SEXTANT_ASSIGN_OR_RETURN(ClusterConfig c, LoadInClusterConfig(in_cluster));
    return std::optional<ClusterConfig>(std::move(c));
  }
  return std::optional<ClusterConfig>();
}

}  // namespace sextant::kube
