#include "cmd/sextant/commands.h"

#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cmd/sextant/collector.h"
#include "cmd/sextant/flags.h"
#include "cmd/sextant/local.h"
#include "cmd/sextant/replay.h"
#include "cmd/sextant/server.h"
#include "cmd/sextant/version.h"
#include "common/logging.h"
#include "common/status_macros.h"

ABSL_DECLARE_FLAG(std::string, log_level);
ABSL_DECLARE_FLAG(std::string, log_format);
ABSL_DECLARE_FLAG(bool, once);

namespace sextant::cmd {
namespace {

constexpr int kExitUsage = 2;

absl::Status ConfigureLogging() {
  absl::StatusOr<LogLevel> level = ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) return Annotate(level.status(), "--log-level: ");
  absl::StatusOr<LogFormat> format = ParseLogFormat(absl::GetFlag(FLAGS_log_format));
  if (!format.ok()) return Annotate(format.status(), "--log-format: ");
  SetLogLevel(*level);
  SetLogFormat(*format);
  return absl::OkStatus();
}

}  // namespace

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << TopHelp();
    return kExitUsage;
  }
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    std::cout << TopHelp();
    return 0;
  }
  if (command == "--version") {
    std::cout << VersionText();
    return 0;
  }
  const RoleSpec* role = FindRole(command);
  if (role == nullptr) {
    std::cerr << "sextant: unknown command \"" << command << "\"\n\n" << TopHelp();
    return kExitUsage;
  }
  absl::StatusOr<ParsedFlags> parsed =
      ParseRoleFlags(*role, std::vector<std::string>(args.begin() + 1, args.end()));
  if (!parsed.ok()) {
    std::cerr << "sextant " << role->name << ": " << parsed.status().message() << "\n";
    return kExitUsage;
  }
  if (parsed->help) {
    std::cout << RoleHelp(*role);
    return 0;
  }
  if (role->name == "version") {
    std::cout << VersionText();
    return 0;
  }
  if (absl::Status s = ConfigureLogging(); !s.ok()) {
    std::cerr << "sextant " << role->name << ": " << s.message() << "\n";
    return kExitUsage;
  }
  absl::StatusOr<Config> config = LoadConfigWithFlags(*role, *parsed);
  if (!config.ok()) {
    std::cerr << "sextant " << role->name << ": " << config.status().message() << "\n";
    return kExitUsage;
  }
  if (role->name == "local") return RunLocal(*config);
  if (role->name == "server") return RunServer(*config);
  if (role->name == "collector") return RunCollector(*config, absl::GetFlag(FLAGS_once));
  if (role->name == "replay") return RunReplay(*config);
  std::cerr << "sextant " << role->name << ": not available yet: this build does not include the "
            << role->name << " role (try 'sextant local')\n";
  return kExitUsage;
}

}  // namespace sextant::cmd
