#include "cmd/sextant/replay.h"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "aggregator/promql/engine.h"
#include "aggregator/tsdb/db.h"
#include "autoscaler/history_replay.h"
#include "autoscaler/metrics_source.h"
#include "autoscaler/policy.h"
#include "autoscaler/replay.h"
#include "common/status_macros.h"
#include "common/units.h"

ABSL_DECLARE_FLAG(std::string, policy);
ABSL_DECLARE_FLAG(std::string, scenario);
ABSL_DECLARE_FLAG(std::string, from);

namespace sextant::cmd {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// The whole file; the message names `what` and the path.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, absl::string_view what) {
  std::error_code ec;
  const std::filesystem::file_status st = std::filesystem::status(path, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat("read ", what, " file ", path, ": ", ec.message()));
  }
  if (!std::filesystem::is_regular_file(st)) {
    return absl::InvalidArgumentError(
        absl::StrCat("read ", what, " file ", path, ": not a regular file"));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  if (in) ss << in.rdbuf();
  if (!in || in.bad()) {
    return absl::PermissionDeniedError(
        absl::StrCat("read ", what, " file ", path, ": cannot read"));
  }
  return ss.str();
}

absl::StatusOr<autoscaler::ScalingPolicy> LoadPolicy(const std::string& path) {
  SEXTANT_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path, "policy"));
  SEXTANT_ASSIGN_OR_RETURN(std::vector<autoscaler::ScalingPolicy> policies,
                           autoscaler::ParseScalingPolicies(text, path));
  if (policies.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", policies.size(), " ScalingPolicy documents found; replay runs exactly one"));
  }
  SEXTANT_RETURN_IF_ERROR(autoscaler::ValidateScalingPolicy(policies[0]),
                          _.Prepend(absl::StrCat(path, ": ")));
  return std::move(policies[0]);
}

absl::StatusOr<std::vector<autoscaler::ReplayStep>> RunFiles(const ReplayFlags& flags) {
  SEXTANT_ASSIGN_OR_RETURN(autoscaler::ScalingPolicy policy, LoadPolicy(flags.policy));
  SEXTANT_ASSIGN_OR_RETURN(std::string json, ReadWholeFile(flags.scenario, "scenario"));
  SEXTANT_ASSIGN_OR_RETURN(autoscaler::Scenario scenario,
                           autoscaler::ParseScenario(json, flags.scenario));
  SEXTANT_ASSIGN_OR_RETURN(std::vector<autoscaler::ReplayStep> steps,
                           autoscaler::RunScenario(policy, scenario),
                           _.Prepend(absl::StrCat(flags.scenario, ": ")));
  return steps;
}

// Stored history from `ago` ago until now, from the data directory; a --scenario given with it
// only lends its options.
absl::StatusOr<std::vector<autoscaler::ReplayStep>> RunHistory(const ReplayFlags& flags,
                                                               absl::Duration ago) {
  SEXTANT_ASSIGN_OR_RETURN(autoscaler::ScalingPolicy policy, LoadPolicy(flags.policy));
  autoscaler::ScenarioOptions options;
  if (!flags.scenario.empty()) {
    SEXTANT_ASSIGN_OR_RETURN(std::string json, ReadWholeFile(flags.scenario, "scenario"));
    SEXTANT_ASSIGN_OR_RETURN(autoscaler::Scenario scenario,
                             autoscaler::ParseScenario(json, flags.scenario));
    options = scenario.options;
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(flags.data_dir, ec)) {
    return absl::NotFoundError(
        absl::StrCat("--from: no data directory ", flags.data_dir, " (see --data-dir)"));
  }
  tsdb::DbOptions db_options;
  db_options.dir = flags.data_dir;
  db_options.fsync = FsyncPolicy::kNever;
  db_options.retention_time = absl::ZeroDuration();  // read only: nothing is deleted
  absl::StatusOr<std::unique_ptr<tsdb::Db>> db = tsdb::Db::Open(db_options);
  if (db.status().code() == absl::StatusCode::kFailedPrecondition) {
    // A running server holds the directory: replay a copy of it.
    return absl::FailedPreconditionError(
        absl::StrCat("--from: ", db.status().message(),
                     "; replay a copy of it (cp -r) or stop the server first"));
  }
  if (!db.ok()) return Annotate(db.status(), absl::StrCat("--from: ", flags.data_dir, ": "));
  promql::DbQueryable queryable(**db);
  promql::Engine engine(queryable, promql::EngineOptions{});
  autoscaler::EngineQueryClient query(engine);
  autoscaler::HistoryReplayOptions o;
  o.end = absl::Now();
  o.start = o.end - ago;
  o.step = absl::Seconds(options.sync_seconds);
  o.hpa = autoscaler::HpaOptionsFromScenario(options);
  o.metrics.metric_window = absl::Seconds(options.metric_window_seconds);
  return autoscaler::ReplayHistory(policy, query, o);
}

}  // namespace

int Replay(const ReplayFlags& flags, std::ostream& out, std::ostream& err) {
  auto usage = [&](absl::string_view message) {
    err << "sextant replay: " << message << " (see 'sextant replay --help')\n";
    return kExitUsage;
  };
  if (flags.policy.empty()) return usage("--policy is required");
  absl::StatusOr<std::vector<autoscaler::ReplayStep>> steps;
  if (!flags.from.empty()) {
    absl::string_view ago = flags.from;
    absl::ConsumePrefix(&ago, "-");
    absl::StatusOr<absl::Duration> d = ParsePromDuration(ago);
    if (!d.ok() || *d <= absl::ZeroDuration()) {
      return usage(absl::StrCat("--from: want how long ago, e.g. -24h, not \"", flags.from, "\""));
    }
    steps = RunHistory(flags, *d);
  } else {
    if (flags.scenario.empty()) return usage("--scenario (or --from) is required");
    steps = RunFiles(flags);
  }
  if (!steps.ok()) {
    err << "sextant replay: " << steps.status().message() << "\n";
    return kExitFailure;
  }
  for (const autoscaler::ReplayStep& step : *steps) {
    out << autoscaler::ReplayStepToJson(step) << "\n";
  }
  out.flush();
  if (!out) {
    err << "sextant replay: cannot write the output\n";
    return kExitFailure;
  }
  return 0;
}

int RunReplay(const Config& config) {
  return Replay(ReplayFlags{absl::GetFlag(FLAGS_policy), absl::GetFlag(FLAGS_scenario),
                            absl::GetFlag(FLAGS_from), config.server.data_dir},
                std::cout, std::cerr);
}

}  // namespace sextant::cmd
