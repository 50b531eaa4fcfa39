// promql_script_report: runs PromQL test scripts (by default Prometheus v2.53.5's, the top-level
// promql-testdata/*.test) against the engine and prints, per file, how many evals passed,
// failed and were skipped (native histograms), and each failure's file:line and message.
//
//   promql_script_report [-q] [--dir DIR] [FILE.test...]   (DIR defaults to DefaultTestdataDir())
//
// Each file runs in a child process, so an engine crash or hang fails only the eval it happened
// in (the file then resumes after it). Exits 0 however many evals fail (it is a report).
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "tests/aggregator/promql/script/runner.h"
#include "tests/aggregator/promql/script/script.h"
#include "tests/util/test_util.h"

namespace sextant::promql::script {
namespace {

constexpr unsigned kEvalTimeoutSeconds = 60;

std::string Escape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Unescape(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      out.push_back(s[i + 1] == 'n' ? '\n' : s[i + 1]);
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n <= 0) _exit(3);
    done += static_cast<size_t>(n);
  }
}

// The child: runs the script, evaluating only evals after command `skip_through`, and writes
// "S <index>" before and "R <index> <outcome> <message>" after each eval.
[[noreturn]] void RunChild(const Script& script, int skip_through, int fd) {
  {
    ScriptRunner runner(script.file, RunOptions{});
    for (size_t i = 0; i < script.commands.size(); ++i) {
      const Command& c = script.commands[i];
      if (!std::holds_alternative<EvalCommand>(c.cmd)) {
        runner.Apply(c).IgnoreError();
        continue;
      }
      if (static_cast<int>(i) <= skip_through) continue;
      WriteAll(fd, absl::StrCat("S ", i, "\n"));
      alarm(kEvalTimeoutSeconds);
      EvalResult r = runner.Evaluate(c);
      alarm(0);
      WriteAll(fd, absl::StrCat("R ", i, " ", static_cast<int>(r.outcome), " ", Escape(r.message),
                                "\n"));
    }
  }
  _exit(0);
}

// Runs `script` in child processes; one result per eval, in order.
std::vector<EvalResult> RunIsolated(const Script& script) {
  std::map<int, EvalResult> results;
  int skip_through = -1;
  // The children's temporary directories go under this one, removed even when a child dies.
  ::sextant::testing::TempDir tmp;
  while (true) {
    int fds[2];
    if (pipe(fds) != 0) {
      perror("pipe");
      exit(2);
    }
    fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      exit(2);
    }
    if (pid == 0) {
      close(fds[0]);
      setenv("TMPDIR", tmp.path().c_str(), 1);
      RunChild(script, skip_through, fds[1]);
    }
    close(fds[1]);
    std::string buf;
    char chunk[65536];
    ssize_t n;
    while ((n = read(fds[0], chunk, sizeof(chunk))) > 0) buf.append(chunk, static_cast<size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    int started = -1;
    for (absl::string_view line : absl::StrSplit(buf, '\n', absl::SkipEmpty())) {
      std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(' ', 3));
      int index = 0;
      if (parts.size() < 2 || !absl::SimpleAtoi(parts[1], &index)) continue;
      if (parts[0] == "S") {
        started = index;
      } else if (parts[0] == "R" && parts.size() >= 3) {
        int outcome = 0;
        if (!absl::SimpleAtoi(parts[2], &outcome)) continue;
        const Command& c = script.commands[static_cast<size_t>(index)];
        EvalResult r;
        r.line = c.line;
        r.expr = std::get<EvalCommand>(c.cmd).expr;
        r.outcome = static_cast<Outcome>(outcome);
        r.message = parts.size() > 3 ? Unescape(parts[3]) : "";
        results[index] = std::move(r);
        started = -1;
      }
    }
    const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (clean || started < 0) {
      if (!clean) {
        fprintf(stderr, "%s: runner exited abnormally (status %d) outside an eval\n",
                script.file.c_str(), status);
      }
      break;
    }
    const Command& c = script.commands[static_cast<size_t>(started)];
    EvalResult r;
    r.line = c.line;
    r.expr = std::get<EvalCommand>(c.cmd).expr;
    r.outcome = Outcome::kFailed;
    const std::string why = WIFSIGNALED(status)
                                ? (WTERMSIG(status) == SIGALRM
                                       ? absl::StrCat("timed out after ", kEvalTimeoutSeconds, " s")
                                       : absl::StrCat("crashed with signal ", WTERMSIG(status),
                                                      " (", strsignal(WTERMSIG(status)), ")"))
                                : absl::StrCat("exited with status ", WEXITSTATUS(status));
    r.message = absl::StrCat(script.file, ":", c.line, ": ", r.expr, "\n  the engine ", why);
    results[started] = std::move(r);
    skip_through = started;
  }
  std::vector<EvalResult> out;
  for (auto& [index, r] : results) out.push_back(std::move(r));
  return out;
}

struct Totals {
  int evals = 0, passed = 0, failed = 0, skipped = 0;
};

void Report(const std::string& path, bool quiet, Totals& totals) {
  const std::string name = std::filesystem::path(path).filename().string();
  absl::StatusOr<Script> script = ReadScript(path);
  if (!script.ok()) {
    printf("== %s: script error: %s\n", name.c_str(),
           std::string(script.status().message()).c_str());
    return;
  }
  script->file = name;
  std::vector<EvalResult> results = RunIsolated(*script);
  Totals t;
  std::map<std::string, int> skip_reasons;
  for (const EvalResult& r : results) {
    ++t.evals;
    switch (r.outcome) {
      case Outcome::kPassed:
        ++t.passed;
        break;
      case Outcome::kFailed:
        ++t.failed;
        break;
      case Outcome::kSkipped:
        ++t.skipped;
        ++skip_reasons[r.message];
        break;
    }
  }
  printf("== %s: %d evals: %d passed, %d failed, %d skipped%s\n", name.c_str(), t.evals, t.passed,
         t.failed, t.skipped,
         t.evals > 0 && t.skipped == t.evals ? " (whole file skipped: native histograms)" : "");
  if (!skip_reasons.empty()) {
    // Group the reasons by their kind (the text before the series).
    std::map<std::string, int> kinds;
    for (const auto& [reason, count] : skip_reasons) {
      const size_t cut = std::min(reason.find(" series "), reason.find(" ("));
      kinds[cut == std::string::npos ? reason : reason.substr(0, cut)] += count;
    }
    for (const auto& [kind, count] : kinds) printf("   skipped %d: %s\n", count, kind.c_str());
  }
  if (!quiet) {
    for (const EvalResult& r : results) {
      if (r.outcome != Outcome::kFailed) continue;
      printf("   FAIL %s\n", absl::StrReplaceAll(r.message, {{"\n", "\n     "}}).c_str());
    }
  }
  fflush(stdout);
  totals.evals += t.evals;
  totals.passed += t.passed;
  totals.failed += t.failed;
  totals.skipped += t.skipped;
}

int Main(int argc, char** argv) {
  bool quiet = false;
  std::string dir = DefaultTestdataDir();
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-q") {
      quiet = true;
    } else if (arg == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (arg == "-h" || arg == "--help") {
      printf("usage: %s [-q] [--dir DIR] [FILE.test...]\n", argv[0]);
      return 0;
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".test") files.push_back(e.path().string());
    }
    if (ec || files.empty()) {
      fprintf(stderr, "no *.test files in %s\n", dir.c_str());
      return 2;
    }
    std::sort(files.begin(), files.end());
  }
  Totals totals;
  for (const std::string& f : files) Report(f, quiet, totals);
  printf("== TOTAL: %zu files, %d evals: %d passed, %d failed, %d skipped\n", files.size(),
         totals.evals, totals.passed, totals.failed, totals.skipped);
  return 0;
}

}  // namespace
}  // namespace sextant::promql::script

int main(int argc, char** argv) { return sextant::promql::script::Main(argc, argv); }
