#include "common/config.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/units.h"
#include "yaml-cpp/yaml.h"

namespace sextant {
namespace {

// Collects errors while a document is read, each with its position.
struct ReadContext {
  std::string source;
  std::vector<std::string> errors;

  void Error(const YAML::Mark& mark, absl::string_view path, absl::string_view what) {
    if (mark.is_null()) {
      errors.push_back(absl::StrCat(source, ": ", path, ": ", what));
    } else {
      errors.push_back(
          absl::StrCat(source, ":", mark.line + 1, ":", mark.column + 1, ": ", path, ": ", what));
    }
  }
};

using ValueReader = std::function<void(const YAML::Node& value, const std::string& path)>;

// Reads one YAML mapping against a fixed set of keys. Unknown and duplicate keys are errors; a
// key whose value is null keeps its default.
class MapReader {
 public:
  MapReader(ReadContext& ctx, std::string path) : ctx_(ctx), path_(std::move(path)) {}

  void Field(absl::string_view key, ValueReader reader) {
    fields_.emplace_back(std::string(key), std::move(reader));
  }

  void Read(const YAML::Node& node) {
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) {
      ctx_.Error(node.Mark(), PathOrTop(), "want a mapping of keys to values");
      return;
    }
    std::vector<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      // yaml-cpp's iterator yields a temporary pair: copy the nodes (they are handles).
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      if (!key_node.IsScalar()) {
        ctx_.Error(key_node.Mark(), PathOrTop(), "keys must be plain strings");
        continue;
      }
      const std::string& key = key_node.Scalar();
      std::string path = path_.empty() ? key : absl::StrCat(path_, ".", key);
      if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
        ctx_.Error(key_node.Mark(), path, "duplicate key");
        continue;
      }
      seen.push_back(key);
      auto field = std::find_if(fields_.begin(), fields_.end(),
                                [&](const auto& f) { return f.first == key; });
      if (field == fields_.end()) {
        ctx_.Error(key_node.Mark(), path, absl::StrCat("unknown key", Suggestion(key)));
        continue;
      }
      if (value.IsNull()) continue;
      field->second(value, path);
    }
  }

 private:
  std::string PathOrTop() const { return path_.empty() ? "(top level)" : path_; }

  std::string Suggestion(absl::string_view key) const {
    std::string best;
    size_t best_d = std::max<size_t>(2, key.size() / 3) + 1;
    for (const auto& f : fields_) {
      size_t d = EditDistance(key, f.first);
      if (d < best_d) {
        best_d = d;
        best = f.first;
      }
    }
    if (best.empty()) {
      std::vector<std::string> names;
      for (const auto& f : fields_) names.push_back(f.first);
      return absl::StrCat(" (known keys: ", absl::StrJoin(names, ", "), ")");
    }
    return absl::StrCat(" (did you mean \"", best, "\"?)");
  }

  ReadContext& ctx_;
  std::string path_;
  std::vector<std::pair<std::string, ValueReader>> fields_;
};

// Value readers. Each reports a type error at the value's position and leaves the default.
bool RequireScalar(ReadContext& ctx, const YAML::Node& v, const std::string& path,
                   absl::string_view want) {
  if (v.IsScalar()) return true;
  ctx.Error(v.Mark(), path, absl::StrCat("want ", want));
  return false;
}

ValueReader String(ReadContext& ctx, std::string* out) {
  return [&ctx, out](const YAML::Node& v, const std::string& path) {
    if (RequireScalar(ctx, v, path, "a string")) *out = v.Scalar();
  };
}

ValueReader Bool(ReadContext& ctx, bool* out) {
  return [&ctx, out](const YAML::Node& v, const std::string& path) {
    if (!RequireScalar(ctx, v, path, "true or false")) return;
    std::string s = absl::AsciiStrToLower(v.Scalar());
    if (s == "true") {
      *out = true;
    } else if (s == "false") {
      *out = false;
    } else {
      ctx.Error(v.Mark(), path, absl::StrCat("want true or false, got \"", v.Scalar(), "\""));
    }
  };
}

ValueReader Int(ReadContext& ctx, int64_t* out, int64_t min) {
  return [&ctx, out, min](const YAML::Node& v, const std::string& path) {
    if (!RequireScalar(ctx, v, path, "an integer")) return;
    int64_t n;
    if (!absl::SimpleAtoi(v.Scalar(), &n)) {
      ctx.Error(v.Mark(), path, absl::StrCat("want an integer, got \"", v.Scalar(), "\""));
    } else if (n < min) {
      ctx.Error(v.Mark(), path, absl::StrCat("must be at least ", min, ", got ", n));
    } else {
      *out = n;
    }
  };
}

ValueReader Duration(ReadContext& ctx, absl::Duration* out) {
  return [&ctx, out](const YAML::Node& v, const std::string& path) {
    if (!RequireScalar(ctx, v, path, "a duration such as 15s")) return;
    absl::StatusOr<absl::Duration> d = ParsePromDuration(v.Scalar());
    if (d.ok()) {
      *out = *d;
    } else {
      ctx.Error(v.Mark(), path, d.status().message());
    }
  };
}

ValueReader Bytes(ReadContext& ctx, int64_t* out) {
  return [&ctx, out](const YAML::Node& v, const std::string& path) {
    if (!RequireScalar(ctx, v, path, "a byte size such as 64MiB")) return;
    absl::StatusOr<int64_t> b = ParseBytes(v.Scalar());
    if (b.ok()) {
      *out = *b;
    } else {
      ctx.Error(v.Mark(), path, b.status().message());
    }
  };
}

ValueReader StringList(ReadContext& ctx, std::vector<std::string>* out) {
  return [&ctx, out](const YAML::Node& v, const std::string& path) {
    if (!v.IsSequence()) {
      ctx.Error(v.Mark(), path, "want a list of strings");
      return;
    }
    out->clear();
    for (size_t i = 0; i < v.size(); ++i) {
      const YAML::Node& e = v[i];
      std::string p = absl::StrCat(path, "[", i, "]");
      if (RequireScalar(ctx, e, p, "a string")) out->push_back(e.Scalar());
    }
  };
}

// A list of mappings, each read into a fresh T by `read_one`.
template <typename T>
ValueReader MapList(ReadContext& ctx, std::vector<T>* out,
                    std::function<void(MapReader&, T&)> fields,
                    std::function<void(const T&, const YAML::Mark&, const std::string&)> check) {
  return [&ctx, out, fields, check](const YAML::Node& v, const std::string& path) {
    if (!v.IsSequence()) {
      ctx.Error(v.Mark(), path, "want a list");
      return;
    }
    out->clear();
    for (size_t i = 0; i < v.size(); ++i) {
      T item;
      std::string p = absl::StrCat(path, "[", i, "]");
      MapReader r(ctx, p);
      fields(r, item);
      r.Read(v[i]);
      check(item, v[i].Mark(), p);
      out->push_back(std::move(item));
    }
  };
}

// A nested mapping read by `fields`.
ValueReader Map(ReadContext& ctx, std::function<void(MapReader&)> fields) {
  return [&ctx, fields](const YAML::Node& v, const std::string& path) {
    MapReader r(ctx, path);
    fields(r);
    r.Read(v);
  };
}

ValueReader RemoteWriteList(ReadContext& ctx, std::vector<RemoteWriteConfig>* out) {
  return MapList<RemoteWriteConfig>(
      ctx, out,
      [&ctx](MapReader& r, RemoteWriteConfig& c) {
        r.Field("url", String(ctx, &c.url));
        r.Field("queueBytes", Bytes(ctx, &c.queue_bytes));
      },
      [&ctx](const RemoteWriteConfig& c, const YAML::Mark& mark, const std::string& path) {
        if (c.url.empty()) ctx.Error(mark, path, "url is required");
      });
}

void ReadCollector(ReadContext& ctx, MapReader& r, CollectorConfig& c) {
  r.Field("interval", Duration(ctx, &c.interval));
  r.Field("listen", String(ctx, &c.listen));
  r.Field("hostRoot", String(ctx, &c.host_root));
  r.Field("nodeName", String(ctx, &c.node_name));
  r.Field("kubelet", Map(ctx, [&ctx, &c](MapReader& k) {
            k.Field("url", String(ctx, &c.kubelet.url));
            k.Field("insecureTLS", Bool(ctx, &c.kubelet.insecure_tls));
          }));
  r.Field("remoteWrite", RemoteWriteList(ctx, &c.remote_write));
}

ValueReader Fsync(ReadContext& ctx, FsyncPolicy* out) {
  return [&ctx, out](const YAML::Node& v, const std::string& path) {
    if (!RequireScalar(ctx, v, path, "always, interval or never")) return;
    absl::StatusOr<FsyncPolicy> p = ParseFsyncPolicy(v.Scalar());
    if (p.ok()) {
      *out = *p;
    } else {
      ctx.Error(v.Mark(), path, p.status().message());
    }
  };
}

void ReadServer(ReadContext& ctx, MapReader& r, ServerConfig& c) {
  r.Field("listen", String(ctx, &c.listen));
  r.Field("dataDir", String(ctx, &c.data_dir));
  r.Field("retention", Map(ctx, [&ctx, &c](MapReader& m) {
            m.Field("time", Duration(ctx, &c.retention.time));
            m.Field("size", Bytes(ctx, &c.retention.size));
          }));
  r.Field("wal", Map(ctx, [&ctx, &c](MapReader& m) {
            m.Field("fsync", Fsync(ctx, &c.wal.fsync));
            m.Field("fsyncInterval", Duration(ctx, &c.wal.fsync_interval));
          }));
  r.Field("limits", Map(ctx, [&ctx, &c](MapReader& m) {
            LimitsConfig& l = c.limits;
            m.Field("bodyBytes", Bytes(ctx, &l.body_bytes));
            m.Field("seriesPerRequest", Int(ctx, &l.series_per_request, 1));
            m.Field("labelsPerSeries", Int(ctx, &l.labels_per_series, 1));
            m.Field("labelValueBytes", Bytes(ctx, &l.label_value_bytes));
            m.Field("activeSeries", Int(ctx, &l.active_series, 1));
            m.Field("querySamples", Int(ctx, &l.query_samples, 1));
            m.Field("queryTimeout", Duration(ctx, &l.query_timeout));
          }));
  r.Field("remoteWrite", RemoteWriteList(ctx, &c.remote_write));
}

void ReadKubernetes(ReadContext& ctx, MapReader& r, KubernetesConfig& c) {
  r.Field("kubeconfig", String(ctx, &c.kubeconfig));
  r.Field("context", String(ctx, &c.context));
  r.Field("leaderElection", Map(ctx, [&ctx, &c](MapReader& m) {
            LeaderElectionConfig& le = c.leader_election;
            m.Field("enabled", Bool(ctx, &le.enabled));
            m.Field("namespace", String(ctx, &le.lease_namespace));
            m.Field("name", String(ctx, &le.name));
            m.Field("leaseDuration", Duration(ctx, &le.lease_duration));
            m.Field("renewDeadline", Duration(ctx, &le.renew_deadline));
            m.Field("retryPeriod", Duration(ctx, &le.retry_period));
          }));
}

void ReadAutoscaler(ReadContext& ctx, MapReader& r, AutoscalerConfig& c) {
  r.Field("enabled", Bool(ctx, &c.enabled));
  r.Field("syncInterval", Duration(ctx, &c.sync_interval));
  r.Field("policyFiles", StringList(ctx, &c.policy_files));
  r.Field("watchNamespaces", StringList(ctx, &c.watch_namespaces));
  r.Field("dryRun", Bool(ctx, &c.dry_run));
  r.Field("queryURL", String(ctx, &c.query_url));
}

void ReadAlerting(ReadContext& ctx, MapReader& r, AlertingConfig& c) {
  r.Field("evaluationInterval", Duration(ctx, &c.evaluation_interval));
  r.Field("ruleFiles", StringList(ctx, &c.rule_files));
  r.Field("alertmanagers", StringList(ctx, &c.alertmanagers));
  r.Field("webhooks",
          MapList<WebhookConfig>(
              ctx, &c.webhooks,
              [&ctx](MapReader& m, WebhookConfig& w) {
                m.Field("url", String(ctx, &w.url));
                m.Field("hmacSecretFile", String(ctx, &w.hmac_secret_file));
              },
              [&ctx](const WebhookConfig& w, const YAML::Mark& mark, const std::string& path) {
                if (w.url.empty()) ctx.Error(mark, path, "url is required");
              }));
  r.Field("kubernetesEvents", Bool(ctx, &c.kubernetes_events));
  r.Field("outboxDir", String(ctx, &c.outbox_dir));
  r.Field("crashLoop", Map(ctx, [&ctx, &c](MapReader& m) {
            CrashLoopConfig& cl = c.crash_loop;
            m.Field("enabled", Bool(ctx, &cl.enabled));
            m.Field("restarts", Int(ctx, &cl.restarts, 1));
            m.Field("window", Duration(ctx, &cl.window));
            m.Field("resolveAfter", Duration(ctx, &cl.resolve_after));
            m.Field("logLines", Int(ctx, &cl.log_lines, 0));
            m.Field("logBytes", Bytes(ctx, &cl.log_bytes));
          }));
}

}  // namespace

size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t sub =
          prev[j - 1] + (absl::ascii_tolower(a[i - 1]) == absl::ascii_tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

absl::Status CheckYamlNesting(absl::string_view yaml, absl::string_view source) {
  int flow = 0;
  int line = 1;
  char quote = 0;        // the open quote character, or 0
  bool comment = false;  // inside a # comment up to the end of the line
  char prev = '\n';
  for (char c : yaml) {
    if (c == '\n') {
      ++line;
      comment = false;
    } else if (comment) {
      // skip
    } else if (quote != 0) {
      if (c == quote) quote = 0;  // '' and \" escapes re-open at once; good enough for counting
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#' && (prev == ' ' || prev == '\t' || prev == '\n')) {
      comment = true;
    } else if (c == '[' || c == '{') {
      if (++flow > kMaxYamlNesting) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ":", line, ": nested deeper than ", kMaxYamlNesting, " levels"));
      }
    } else if ((c == ']' || c == '}') && flow > 0) {
      --flow;
    }
    prev = c;
  }
  return absl::OkStatus();
}

absl::string_view FsyncPolicyName(FsyncPolicy p) {
  switch (p) {
    case FsyncPolicy::kAlways:
      return "always";
    case FsyncPolicy::kInterval:
      return "interval";
    case FsyncPolicy::kNever:
      return "never";
  }
  return "interval";
}

absl::StatusOr<FsyncPolicy> ParseFsyncPolicy(absl::string_view s) {
  if (s == "always") return FsyncPolicy::kAlways;
  if (s == "interval") return FsyncPolicy::kInterval;
  if (s == "never") return FsyncPolicy::kNever;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown fsync policy \"", s, "\" (want always, interval or never)"));
}

absl::StatusOr<Config> ParseConfig(absl::string_view yaml, absl::string_view source) {
  if (absl::Status s = CheckYamlNesting(yaml, source); !s.ok()) return s;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", e.what()));
  }

  Config config;
  ReadContext ctx{std::string(source), {}};
  try {
    MapReader top(ctx, "");
    top.Field("collector",
              Map(ctx, [&](MapReader& r) { ReadCollector(ctx, r, config.collector); }));
    top.Field("server", Map(ctx, [&](MapReader& r) { ReadServer(ctx, r, config.server); }));
    top.Field("kubernetes",
              Map(ctx, [&](MapReader& r) { ReadKubernetes(ctx, r, config.kubernetes); }));
    top.Field("autoscaler",
              Map(ctx, [&](MapReader& r) { ReadAutoscaler(ctx, r, config.autoscaler); }));
    top.Field("alerting", Map(ctx, [&](MapReader& r) { ReadAlerting(ctx, r, config.alerting); }));
    top.Read(root);
  } catch (const std::exception& e) {
    // yaml-cpp throws on malformed node access; keep it from escaping.
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", e.what()));
  }
  if (!ctx.errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(ctx.errors, "; "));
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec) {
    std::string msg = absl::StrCat("read config file ", path, ": ", ec.message());
    if (ec == std::errc::no_such_file_or_directory) return absl::NotFoundError(msg);
    if (ec == std::errc::permission_denied) return absl::PermissionDeniedError(msg);
    return absl::UnavailableError(msg);
  }
  if (!std::filesystem::is_regular_file(st)) {
    return absl::InvalidArgumentError(
        absl::StrCat("read config file ", path, ": not a regular file"));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  if (!in || in.bad()) {
    return absl::PermissionDeniedError(absl::StrCat("read config file ", path, ": cannot read"));
  }
  return ParseConfig(ss.str(), path);
}

absl::Status ValidateConfig(const Config& c) {
  std::vector<std::string> errors;
  auto positive = [&](absl::Duration d, absl::string_view key) {
    if (d <= absl::ZeroDuration()) errors.push_back(absl::StrCat(key, ": must be positive"));
  };
  positive(c.collector.interval, "collector.interval");
  positive(c.server.wal.fsync_interval, "server.wal.fsyncInterval");
  positive(c.server.limits.query_timeout, "server.limits.queryTimeout");
  positive(c.autoscaler.sync_interval, "autoscaler.syncInterval");
  positive(c.alerting.evaluation_interval, "alerting.evaluationInterval");
  positive(c.alerting.crash_loop.window, "alerting.crashLoop.window");
  const LeaderElectionConfig& le = c.kubernetes.leader_election;
  positive(le.lease_duration, "kubernetes.leaderElection.leaseDuration");
  positive(le.renew_deadline, "kubernetes.leaderElection.renewDeadline");
  positive(le.retry_period, "kubernetes.leaderElection.retryPeriod");
  if (c.autoscaler.sync_interval < absl::Seconds(1)) {
    errors.push_back("autoscaler.syncInterval: must be at least 1s");
  }
  if (le.renew_deadline >= le.lease_duration) {
    errors.push_back("kubernetes.leaderElection.renewDeadline: must be shorter than leaseDuration");
  }
  if (le.retry_period >= le.renew_deadline) {
    errors.push_back("kubernetes.leaderElection.retryPeriod: must be shorter than renewDeadline");
  }
  auto at_least_one = [&](int64_t v, absl::string_view key) {
    if (v < 1) errors.push_back(absl::StrCat(key, ": must be at least 1"));
  };
  at_least_one(c.server.limits.body_bytes, "server.limits.bodyBytes");
  at_least_one(c.server.limits.label_value_bytes, "server.limits.labelValueBytes");
  for (size_t i = 0; i < c.collector.remote_write.size(); ++i) {
    at_least_one(c.collector.remote_write[i].queue_bytes,
                 absl::StrCat("collector.remoteWrite[", i, "].queueBytes"));
  }
  for (size_t i = 0; i < c.server.remote_write.size(); ++i) {
    at_least_one(c.server.remote_write[i].queue_bytes,
                 absl::StrCat("server.remoteWrite[", i, "].queueBytes"));
  }
  positive(c.alerting.crash_loop.resolve_after, "alerting.crashLoop.resolveAfter");
  if (c.collector.host_root.empty()) errors.push_back("collector.hostRoot: must not be empty");
  if (c.server.data_dir.empty()) errors.push_back("server.dataDir: must not be empty");
  if (c.server.retention.time < absl::ZeroDuration()) {
    errors.push_back("server.retention.time: must not be negative");
  }
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
  return absl::OkStatus();
}

}  // namespace sextant
