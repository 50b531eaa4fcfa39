// How a long-running role runs until it is told to stop: SIGINT and SIGTERM are blocked in every
// thread and waited for by the main thread, which then stops the role.
#pragma once

#include <signal.h>

#include <memory>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/build_info.h"
#include "common/logging.h"

namespace sextant::cmd {

// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread it starts later. Call
// it before any thread exists.
sigset_t BlockStopSignals();

// Waits for SIGINT or SIGTERM (blocked with BlockStopSignals) and returns its name.
const char* WaitForStopSignal(const sigset_t& signals);

// Runs a role made by `create` (Create(): no threads yet; Start(); Stop()) until SIGINT or
// SIGTERM, logging starting, stopping and stopped. Returns the exit code: 0 after a clean stop,
// 1 when the role cannot be created or started.
template <typename Create>
int RunRoleUntilStopSignal(absl::string_view name, Create create) {
  const sigset_t signals = BlockStopSignals();
  LogInfo("starting",
          {{"role", name}, {"version", SEXTANT_VERSION}, {"revision", SEXTANT_REVISION}});
  auto role = create();
  if (!role.ok()) {
    LogError("cannot start", {{"role", name}, {"err", role.status()}});
    return 1;
  }
  if (absl::Status s = (*role)->Start(); !s.ok()) {
    LogError("cannot start", {{"role", name}, {"err", s}});
    return 1;
  }
  const char* sig = WaitForStopSignal(signals);
  LogInfo("stopping", {{"role", name}, {"signal", sig}});
  (*role)->Stop();
  role->reset();
  LogInfo("stopped", {{"role", name}});
  return 0;
}

}  // namespace sextant::cmd
