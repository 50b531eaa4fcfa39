#include <malloc.h>

#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "cmd/sextant/commands.h"

int main(int argc, char** argv) {
  // Debian's Abseil checks every lock acquisition against a global lock graph (deadlock
  // detection), which costs the ingest path a fifth of its time; the tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // glibc gives every thread that allocates its own arena (up to 8 per core) and keeps freed
  // memory in each: the HTTP workers running queries then hold several times the memory one
  // query needs. Two arenas keep the resident size near the working set. MALLOC_ARENA_MAX in
  // the environment still wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  return sextant::cmd::Main(argc, argv);
}
