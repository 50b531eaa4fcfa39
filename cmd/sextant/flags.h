// Command-line flags of every role. Flags are absl flags (the typed storage, defaults and help
// text); this file adds what Sextant's contract needs on top: dashed names (--data-dir for the
// absl flag data_dir), the set of flags each role accepts, repeatable flags, per-role --help, and
// mapping the flags a user gave onto the config file's keys (flags win over the file).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/config.h"

namespace sextant::cmd {

// One subcommand: its name, a one-line summary, a longer description and the flags it takes
// (absl flag names, with underscores).
struct RoleSpec {
  std::string name;
  std::string summary;
  std::string description;
  std::vector<std::string> flags;
};

// The roles in the order `sextant --help` lists them.
const std::vector<RoleSpec>& Roles();
const RoleSpec* FindRole(absl::string_view name);

struct ParsedFlags {
  bool help = false;
  // absl names of the flags given on the command line.
  std::set<std::string> specified;
};

// Parses `args` (everything after the role name) for `role`: --name=value, --name value,
// --bool, --nobool, --help/-h. Sets the absl flags. InvalidArgument for an unknown flag, a flag
// of another role, a bad value, a missing value or a positional argument; the message names it.
absl::StatusOr<ParsedFlags> ParseRoleFlags(const RoleSpec& role,
                                           const std::vector<std::string>& args);

// The text of `sextant ROLE --help`: usage, description and every flag with help and default.
std::string RoleHelp(const RoleSpec& role);
// The text of `sextant --help`.
std::string TopHelp();

// Loads --config (defaults when absent), then applies the flags in `parsed.specified` onto it.
// Errors name the file and key, or the flag.
absl::StatusOr<Config> LoadConfigWithFlags(const RoleSpec& role, const ParsedFlags& parsed);

// Puts every absl flag back to its default (tests parse several command lines in one process).
void ResetFlagsForTest();

}  // namespace sextant::cmd
