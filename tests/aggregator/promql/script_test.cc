// Prometheus 2.42's own PromQL test scripts (promql-testdata/v2.42.0/*.test), one gtest case per
// eval: suite = the file's stem, name = `L<line>` (ctest: `functions.L123`). Each case replays its
// file's loads up to its eval and checks that eval; the loaded storage is kept per file, so a run
// of the whole binary loads each file once, and a run of one case loads only what it needs.
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/aggregator/promql/script/runner.h"
#include "tests/util/test_util.h"

namespace sextant::promql::script {
namespace {

// A file's runner, advanced command by command. A case whose eval comes before the runner's
// position (tests run out of order) starts the file over.
struct FileState {
  Script script;
  std::unique_ptr<ScriptRunner> runner;
  size_t next = 0;  // the next command the runner has not seen
};

std::map<std::string, std::unique_ptr<FileState>>& Files() {
  static auto* files = new std::map<std::string, std::unique_ptr<FileState>>();
  return *files;
}

// Runs the loads and clears before `index` (skipping the other evals) and checks eval `index`.
EvalResult RunEval(FileState& f, size_t index) {
  if (f.runner == nullptr || f.next > index) {
    f.runner = std::make_unique<ScriptRunner>(f.script.file, RunOptions{});
    f.next = 0;
  }
  for (; f.next < index; ++f.next) {
    const Command& c = f.script.commands[f.next];
    if (!std::holds_alternative<EvalCommand>(c.cmd)) f.runner->Apply(c).IgnoreError();
  }
  f.next = index + 1;
  return f.runner->Evaluate(f.script.commands[index]);
}

class ScriptEvalTest : public ::testing::Test {
 public:
  ScriptEvalTest(FileState* file, size_t index) : file_(file), index_(index) {}
  void TestBody() override {
    EvalResult r = RunEval(*file_, index_);
    switch (r.outcome) {
      case Outcome::kPassed:
        break;
      case Outcome::kSkipped:
        GTEST_SKIP() << r.message;
        break;
      case Outcome::kFailed:
        ADD_FAILURE() << r.message;
        break;
    }
  }

 private:
  FileState* file_;
  size_t index_;
};

class ScriptParseFailure : public ::testing::Test {
 public:
  explicit ScriptParseFailure(std::string message) : message_(std::move(message)) {}
  void TestBody() override { ADD_FAILURE() << message_; }

 private:
  std::string message_;
};

// Drops the files' storage (temporary directories) before the process exits.
class CleanupEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { Files().clear(); }
};

void RegisterScriptTests(const std::string& dir) {
  std::vector<std::filesystem::path> paths;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".test") paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  if (paths.empty()) {
    const std::string message = absl::StrCat("no *.test files in ", dir);
    ::testing::RegisterTest(
        "PromqlScripts", "FilesPresent", nullptr, nullptr, __FILE__, __LINE__,
        [message]() -> ::testing::Test* { return new ScriptParseFailure(message); });
    return;
  }
  for (const std::filesystem::path& path : paths) {
    const std::string suite = path.stem().string();
    absl::StatusOr<Script> script = ReadScript(path.string());
    if (!script.ok()) {
      const std::string message = script.status().ToString();
      ::testing::RegisterTest(
          suite.c_str(), "ParseScript", nullptr, nullptr, __FILE__, __LINE__,
          [message]() -> ::testing::Test* { return new ScriptParseFailure(message); });
      continue;
    }
    auto state = std::make_unique<FileState>();
    state->script = std::move(*script);
    FileState* file = state.get();
    Files()[suite] = std::move(state);
    for (size_t i = 0; i < file->script.commands.size(); ++i) {
      const Command& c = file->script.commands[i];
      if (!std::holds_alternative<EvalCommand>(c.cmd)) continue;
      const std::string name = absl::StrCat("L", c.line);
      ::testing::RegisterTest(
          suite.c_str(), name.c_str(), nullptr, nullptr, file->script.file.c_str(), c.line,
          [file, i]() -> ::testing::Test* { return new ScriptEvalTest(file, i); });
    }
  }
}

}  // namespace
}  // namespace sextant::promql::script

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  ::testing::AddGlobalTestEnvironment(new sextant::promql::script::CleanupEnvironment());
  sextant::promql::script::RegisterScriptTests(
      absl::StrCat(sextant::promql::script::DefaultTestdataDir(), "/v2.42.0"));
  return RUN_ALL_TESTS();
}
