#include "tests/util/subprocess.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace sextant::testing {

absl::StatusOr<Subprocess> Subprocess::Start(const std::vector<std::string>& argv,
                                             const std::string& log_path) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("spawn ", argv[0], ": ", std::strerror(rc)));
  }
  return Subprocess(pid);
}

Subprocess::Subprocess(Subprocess&& other) noexcept : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

Subprocess::~Subprocess() {
  if (pid_ > 0) Stop();
}

bool Subprocess::Running() {
  if (pid_ <= 0) return false;
  pid_t r = waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int Subprocess::Stop(absl::Duration grace) {
  if (pid_ <= 0) return status_;
  kill(pid_, SIGTERM);
  absl::Time deadline = absl::Now() + grace;
  while (absl::Now() < deadline) {
    if (waitpid(pid_, &status_, WNOHANG) == pid_) {
      pid_ = -1;
      return status_;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status_, 0);
  pid_ = -1;
  return status_;
}

absl::StatusOr<Subprocess> StartSelfScrapingPrometheus(const std::string& dir,
                                                       const std::string& listen,
                                                       const std::string& remote_write_url) {
  const std::string config = dir + "/prometheus.yml";
  std::ofstream(config, std::ios::trunc)
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      << "scrape_configs:\n  - job_name: prometheus\n    static_configs:\n"
      << "      - targets: ['" << listen << "']\n"
      << "remote_write:\n  - url: " << remote_write_url << "\n"
      << "    send_exemplars: false\n"
      << "    metadata_config: {send_interval: 1s}\n"
      << "    queue_config: {min_shards: 1, max_shards: 1, batch_send_deadline: 500ms,"
      << " min_backoff: 50ms, max_backoff: 500ms}\n";
  return Subprocess::Start(
      {"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir + "/prometheus-data",
       "--web.listen-address=" + listen, "--log.level=warn"},
      dir + "/prometheus.log");
}

absl::StatusOr<int> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("bind: ", std::strerror(errno)));
  }
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

int RunShell(const std::string& command, const std::string& input, std::string* output) {
  char in_path[] = "/tmp/sextant-shell-in-XXXXXX";
  int in_fd = mkstemp(in_path);
  if (in_fd < 0) return -1;
  (void)!write(in_fd, input.data(), input.size());
  close(in_fd);
  std::string cmd = absl::StrCat("(", command, ") <", in_path, " 2>&1");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    unlink(in_path);
    return -1;
  }
  output->clear();
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) output->append(buf, n);
  int status = pclose(p);
  unlink(in_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace sextant::testing
