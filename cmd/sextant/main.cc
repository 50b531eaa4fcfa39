#include "absl/synchronization/mutex.h"
#include "cmd/sextant/commands.h"

int main(int argc, char** argv) {
  // Debian's Abseil checks every lock acquisition against a global lock graph (deadlock
  // detection), which costs the ingest path a fifth of its time; the tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return sextant::cmd::Main(argc, argv);
}
