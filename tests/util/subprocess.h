// Runs a program for a test (a real Prometheus, promtool, our own binary) and makes sure it ends.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sextant::testing {

// A child process with stdout and stderr appended to `log_path`. The destructor sends SIGTERM,
// then SIGKILL after 5 s, and reaps the child. Not thread-safe.
class Subprocess {
 public:
  // Starts `argv[0]` (looked up in PATH) with `argv`. Unavailable when it cannot start.
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const std::string& log_path);
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&&) = delete;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // True while the child has not exited (reaps it when it has).
  bool Running();
  // Sends SIGTERM and waits up to `grace` for the exit, then SIGKILL. Returns the wait status.
  int Stop(absl::Duration grace = absl::Seconds(5));

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
  int status_ = 0;
};

// Starts Debian's Prometheus listening on `listen` ("127.0.0.1:PORT"), scraping itself every
// second and remote-writing everything (metadata every second) to `remote_write_url` through one
// shard, so that each series' samples arrive in order. Its config, data directory and log
// (prometheus.log) go under `dir`.
absl::StatusOr<Subprocess> StartSelfScrapingPrometheus(const std::string& dir,
                                                       const std::string& listen,
                                                       const std::string& remote_write_url);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then closed). For peers
// that cannot report the port they bound.
absl::StatusOr<int> PickFreePort();

// Runs `command` with /bin/sh, feeding `input` on stdin; returns the exit status and fills
// `output` with stdout and stderr together.
int RunShell(const std::string& command, const std::string& input, std::string* output);

}  // namespace sextant::testing
