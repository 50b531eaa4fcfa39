// `sextant replay`: runs one ScalingPolicy over a scenario file (DESIGN.md 3.6) and prints one
// JSON line per step, or over the stored history of --data-dir (--from=-24h).
#pragma once

#include <iosfwd>
#include <string>

#include "common/config.h"

namespace sextant::cmd {

// The flags of `sextant replay`.
struct ReplayFlags {
  std::string policy;    // --policy: a ScalingPolicy file, YAML or JSON
  std::string scenario;  // --scenario: a scenario file, JSON
  std::string from;      // --from: replay stored history from this long ago ("-24h")
  std::string data_dir;  // --data-dir (server.dataDir): where --from reads the history
};

// Runs the replay the flags describe: reads the policy file (exactly one ScalingPolicy, valid),
// reads and parses the scenario and runs it, or with --from replays the stored history of
// data_dir up to now (a --scenario then only lends its options), and writes one JSON line per
// step to `out`. Errors go
// to `err` as "sextant replay: MESSAGE", nothing to `out`. Returns the exit code: 0 success,
// 1 an unreadable or invalid file or data directory, 2 a usage error (a missing flag, a bad
// --from).
int Replay(const ReplayFlags& flags, std::ostream& out, std::ostream& err);

// `sextant replay` from the parsed command line (--policy, --scenario, --from), on stdout and
// stderr. `config` is for --from's data directory.
int RunReplay(const Config& config);

}  // namespace sextant::cmd
