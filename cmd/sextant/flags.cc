#include "cmd/sextant/flags.h"

#include <algorithm>
#include <map>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "common/units.h"

// Common to the roles that run.
ABSL_FLAG(std::string, config, "",
          "YAML configuration file (DESIGN.md 3.7); flags override its keys.");
ABSL_FLAG(std::string, listen, "",
          "HOST:PORT to serve on (collector: collector.listen, default :9191; server and local: "
          "server.listen, default :9190; in local an empty host means 127.0.0.1).");
ABSL_FLAG(std::string, log_level, "info", "Log level: debug, info, warn or error.");
ABSL_FLAG(std::string, log_format, "logfmt", "Log line format: logfmt or json.");
// Server.
ABSL_FLAG(std::string, data_dir, "",
          "Where the time series are stored (server.dataDir, default ./sextant-data).");
ABSL_FLAG(std::string, retention, "",
          "How long samples are kept (server.retention.time, default 15d).");
ABSL_FLAG(std::string, kubeconfig, "",
          "kubeconfig file (kubernetes.kubeconfig); without it, in-cluster config when in a pod.");
ABSL_FLAG(std::string, context, "", "kubeconfig context to use (kubernetes.context).");
ABSL_FLAG(bool, leader_elect, false,
          "Elect a leader through a Lease before scaling (kubernetes.leaderElection.enabled).");
ABSL_FLAG(bool, dry_run, false,
          "Autoscaler: log scaling decisions without writing any scale, status or Event "
          "(autoscaler.dryRun).");
// Collector.
ABSL_FLAG(std::string, interval, "",
          "Time between collection passes (collector.interval, default 5s).");
ABSL_FLAG(std::vector<std::string>, remote_write_url, {},
          "remote_write endpoint to ship samples to; repeatable (collector.remoteWrite).");
ABSL_FLAG(bool, once, false, "Run one collection pass, print the exposition text to stdout, exit.");
ABSL_FLAG(std::string, host_root, "",
          "Prefix for /proc, /sys and mounts when the host is mounted into the pod "
          "(collector.hostRoot).");
ABSL_FLAG(std::string, kubelet_url, "", "The kubelet's base URL (collector.kubelet.url).");
ABSL_FLAG(bool, kubelet_insecure_tls, false,
          "Skip verifying the kubelet's serving certificate (collector.kubelet.insecureTLS).");
ABSL_FLAG(std::string, node_name, "",
          "This node's name (collector.nodeName; default $NODE_NAME, then hostname).");
// Local.
ABSL_FLAG(
    std::string, collector_listen, "",
    "HOST:PORT for the collector's endpoint in local (collector.listen, default 127.0.0.1:9191).");
// Replay.
ABSL_FLAG(std::string, policy, "", "ScalingPolicy file (YAML or JSON).");
ABSL_FLAG(std::string, scenario, "", "Scenario file (JSON, DESIGN.md 3.6).");
ABSL_FLAG(std::string, from, "",
          "Replay stored history from this long ago instead of a scenario, e.g. -24h.");

namespace sextant::cmd {
namespace {

const std::vector<std::string> kCommonFlags = {"config", "listen", "log_level", "log_format"};

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Flags that may be given more than once; their values accumulate.
bool IsRepeatable(absl::string_view name) { return name == "remote_write_url"; }

std::string Dashed(absl::string_view absl_name) {
  return absl::StrReplaceAll(absl_name, {{"_", "-"}});
}

absl::Status ApplyFlag(const std::string& name, Config& c) {
  auto str = [](const absl::Flag<std::string>& f) { return absl::GetFlag(f); };
  auto duration = [&](const absl::Flag<std::string>& f, absl::Duration* out) -> absl::Status {
    SEXTANT_ASSIGN_OR_RETURN(*out, ParsePromDuration(str(f)),
                             _.Prepend(absl::StrCat("--", Dashed(name), ": ")));
    return absl::OkStatus();
  };
  if (name == "data_dir") {
    c.server.data_dir = str(FLAGS_data_dir);
  } else if (name == "retention") {
    return duration(FLAGS_retention, &c.server.retention.time);
  } else if (name == "kubeconfig") {
    c.kubernetes.kubeconfig = str(FLAGS_kubeconfig);
  } else if (name == "context") {
    c.kubernetes.context = str(FLAGS_context);
  } else if (name == "leader_elect") {
    c.kubernetes.leader_election.enabled = absl::GetFlag(FLAGS_leader_elect);
  } else if (name == "dry_run") {
    c.autoscaler.dry_run = absl::GetFlag(FLAGS_dry_run);
  } else if (name == "interval") {
    return duration(FLAGS_interval, &c.collector.interval);
  } else if (name == "remote_write_url") {
    c.collector.remote_write.clear();
    for (const std::string& url : absl::GetFlag(FLAGS_remote_write_url)) {
      c.collector.remote_write.push_back(RemoteWriteConfig{url});
    }
  } else if (name == "host_root") {
    c.collector.host_root = str(FLAGS_host_root);
  } else if (name == "kubelet_url") {
    c.collector.kubelet.url = str(FLAGS_kubelet_url);
  } else if (name == "kubelet_insecure_tls") {
    c.collector.kubelet.insecure_tls = absl::GetFlag(FLAGS_kubelet_insecure_tls);
  } else if (name == "node_name") {
    c.collector.node_name = str(FLAGS_node_name);
  } else if (name == "collector_listen") {
    c.collector.listen = str(FLAGS_collector_listen);
  }
  // config, listen (role-dependent, applied by the caller), log_*, once and the replay flags
  // are not config keys.
  return absl::OkStatus();
}

}  // namespace

const std::vector<RoleSpec>& Roles() {
  static const std::vector<RoleSpec>* roles = new std::vector<RoleSpec>{
      {"collector", "node agent: node, container, pod and GPU metrics",
       "Runs on every node (a DaemonSet). Collects node, cgroup, kubelet and GPU metrics every\n"
       "--interval, serves them on /metrics (:9191) and ships them with remote_write.",
       Concat(kCommonFlags, {"interval", "remote_write_url", "once", "host_root", "kubelet_url",
                             "kubelet_insecure_tls", "node_name"})},
      {"server", "aggregator, PromQL API, autoscaler and alerting",
       "The central server (a Deployment). Stores samples received with remote_write, answers the\n"
       "Prometheus HTTP API on :9190, scales workloads and raises alerts.",
       Concat(kCommonFlags,
              {"data_dir", "retention", "kubeconfig", "context", "leader_elect", "dry_run"})},
      {"local", "collector and server in one process, for one machine",
       "Runs the collector and the server in one process on 127.0.0.1:9190 (server) and\n"
       "127.0.0.1:9191 (collector), with data in ./sextant-data. The autoscaler stays idle unless\n"
       "a cluster is configured.",
       Concat(kCommonFlags, {"collector_listen", "data_dir", "retention", "interval", "host_root",
                             "node_name", "kubeconfig", "context", "dry_run"})},
      {"replay",
       "autoscaler what-if over a scenario or stored history",
       "Runs a ScalingPolicy over a scenario file (DESIGN.md 3.6) or stored history and prints "
       "one\n"
       "JSON object per step.",
       {"config", "log_level", "log_format", "policy", "scenario", "from", "data_dir"}},
      {"version",
       "print version and build information",
       "Prints the version and build information.",
       {}},
  };
  return *roles;
}

const RoleSpec* FindRole(absl::string_view name) {
  for (const RoleSpec& r : Roles()) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

absl::StatusOr<ParsedFlags> ParseRoleFlags(const RoleSpec& role,
                                           const std::vector<std::string>& args) {
  ParsedFlags parsed;
  std::map<std::string, std::vector<std::string>> repeated;
  auto usage = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " (see 'sextant ", role.name, " --help')"));
  };
  for (size_t i = 0; i < args.size(); ++i) {
    absl::string_view arg = args[i];
    if (arg == "-h" || arg == "--help" || arg == "-help" || arg == "--helpfull") {
      parsed.help = true;
      continue;
    }
    if (!absl::ConsumePrefix(&arg, "--") && !absl::ConsumePrefix(&arg, "-")) {
      return usage(absl::StrCat("unexpected argument \"", args[i], "\""));
    }
    if (arg.empty()) return usage("unexpected argument \"--\"");
    std::string name(arg);
    std::optional<std::string> value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    std::string absl_name = absl::StrReplaceAll(name, {{"-", "_"}});
    bool negated = false;
    if (std::find(role.flags.begin(), role.flags.end(), absl_name) == role.flags.end() &&
        absl::StartsWith(absl_name, "no") && !value.has_value()) {
      negated = true;
      absl_name = absl_name.substr(2);
    }
    if (std::find(role.flags.begin(), role.flags.end(), absl_name) == role.flags.end()) {
      return usage(absl::StrCat("unknown flag --", name, " for 'sextant ", role.name, "'"));
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(absl_name);
    if (flag == nullptr) return usage(absl::StrCat("unknown flag --", name));
    const bool is_bool = flag->IsOfType<bool>();
    if (negated && !is_bool) {
      return usage(absl::StrCat("unknown flag --", name, " for 'sextant ", role.name, "'"));
    }
    if (!value.has_value()) {
      if (is_bool) {
        value = negated ? "false" : "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return usage(absl::StrCat("flag --", name, " needs a value"));
      }
    }
    if (IsRepeatable(absl_name)) {
      repeated[absl_name].push_back(*value);
    } else {
      std::string error;
      if (!flag->ParseFrom(*value, &error)) {
        return usage(absl::StrCat("bad value for --", name, ": ", error));
      }
    }
    parsed.specified.insert(absl_name);
  }
  for (const auto& [absl_name, values] : repeated) {
    std::string error;
    for (const std::string& v : values) {
      if (v.find(',') != std::string::npos) {
        return usage(absl::StrCat("--", Dashed(absl_name), " value \"", v,
                                  "\" must not contain a comma; give the flag once per value"));
      }
    }
    if (!absl::FindCommandLineFlag(absl_name)->ParseFrom(absl::StrJoin(values, ","), &error)) {
      return usage(absl::StrCat("bad value for --", Dashed(absl_name), ": ", error));
    }
  }
  return parsed;
}

std::string RoleHelp(const RoleSpec& role) {
  std::string out = absl::StrCat("Usage: sextant ", role.name, role.flags.empty() ? "" : " [flags]",
                                 "\n\n", role.description, "\n");
  if (role.flags.empty()) return out;
  out += "\nFlags:\n";
  for (const std::string& name : role.flags) {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr) continue;
    std::string def = flag->DefaultValue();
    absl::StrAppend(&out, "  --", Dashed(name), flag->IsOfType<bool>() ? "" : "=VALUE",
                    IsRepeatable(name) ? " (repeatable)" : "", "\n      ", flag->Help(),
                    def.empty() || def == "false" ? "" : absl::StrCat(" (default ", def, ")"),
                    "\n");
  }
  absl::StrAppend(&out, "  --help\n      Show this help.\n");
  return out;
}

std::string TopHelp() {
  std::string out =
      "Sextant: cluster observability and autoscaling for Kubernetes.\n\n"
      "Usage: sextant <command> [flags]\n\nCommands:\n";
  for (const RoleSpec& r : Roles())
    absl::StrAppend(&out, "  ", r.name, std::string(12 - r.name.size(), ' '), r.summary, "\n");
  out += "\n'sextant <command> --help' lists the flags of a command.\n";
  return out;
}

absl::StatusOr<Config> LoadConfigWithFlags(const RoleSpec& role, const ParsedFlags& parsed) {
  Config config;
  if (std::string path = absl::GetFlag(FLAGS_config); !path.empty()) {
    SEXTANT_ASSIGN_OR_RETURN(config, LoadConfigFile(path));
  }
  for (const std::string& name : parsed.specified) {
    SEXTANT_RETURN_IF_ERROR(ApplyFlag(name, config));
  }
  if (parsed.specified.count("listen")) {
    (role.name == "collector" ? config.collector.listen : config.server.listen) =
        absl::GetFlag(FLAGS_listen);
  }
  SEXTANT_RETURN_IF_ERROR(ValidateConfig(config));
  return config;
}

void ResetFlagsForTest() {
  std::set<std::string> all;
  for (const RoleSpec& r : Roles()) all.insert(r.flags.begin(), r.flags.end());
  for (const std::string& name : all) {
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    std::string error;
    if (flag != nullptr) flag->ParseFrom(flag->DefaultValue(), &error);
  }
}

}  // namespace sextant::cmd
