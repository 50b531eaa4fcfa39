// The subcommands of the `sextant` binary. Each parses its flags, loads the config, and runs a
// role until a signal; the logic lives in the modules.
#pragma once

namespace sextant::cmd {

// Entry point of the binary: dispatches on argv[1]. Returns the process exit code: 0 success,
// 1 runtime failure, 2 usage error.
int Main(int argc, char** argv);

}  // namespace sextant::cmd
