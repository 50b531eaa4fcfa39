// Replays a parsed PromQL test script (script.h) against a real tsdb::Db and the PromQL engine,
// checking each eval the way Prometheus 2.42's promql/test.go does: the instant query at t, the
// same as a range query t-1m..t+1m (middle step), and, unless the expression is time-dependent,
// again with `@ t` set on every selector and subquery at -10t, 0, t/5, t and 10t.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "aggregator/promql/engine.h"
#include "aggregator/tsdb/db.h"
#include "prom/labels.h"
#include "tests/aggregator/promql/script/script.h"
#include "tests/util/test_util.h"

namespace sextant::promql::script {

struct RunOptions {
  // Check that range queries return their series sorted by labels (the v2.53 runner does; the
  // engine promises it). Default true.
  bool check_matrix_sorted = true;
};

enum class Outcome { kPassed, kFailed, kSkipped };

struct EvalResult {
  int line = 0;
  std::string expr;
  Outcome outcome = Outcome::kPassed;
  // For kFailed: `file:line: <eval line>: <check>: <expected vs got>`. For kSkipped: the reason.
  std::string message;
};

struct FileResult {
  std::string file;
  std::vector<EvalResult> evals;
};

// One script's storage and engine: a fresh tsdb::Db in a temporary directory (reopened empty on
// `clear`), queried through DbQueryable and an Engine with the runner's settings (lookback 5m,
// 10000 samples, subquery step 1m). Not thread-safe.
class ScriptRunner {
 public:
  ScriptRunner(std::string file, RunOptions options);
  ~ScriptRunner();

  // Runs a load or clear command (an eval is a no-op here). A load's error (a sample refused by
  // the storage, a storage failure) is also remembered: evals fail with it until the next clear.
  absl::Status Apply(const Command& command);
  // Checks one eval against the data loaded so far.
  EvalResult Evaluate(const Command& command);

 private:
  absl::Status Reset();

  std::string file_;
  RunOptions options_;
  ::sextant::testing::TempDir root_;
  int generation_ = 0;
  std::unique_ptr<tsdb::Db> db_;
  std::unique_ptr<DbQueryable> queryable_;
  std::unique_ptr<Engine> engine_;
  absl::Status load_error_;
  // Series of the loads that hold native histograms (not loaded): evals reading them are skipped.
  std::vector<prom::Labels> histogram_series_;
};

// Runs a whole script and reports every eval.
FileResult RunScript(const Script& script, const RunOptions& options = {});

// The engine settings of Prometheus's test runner.
EngineOptions ScriptEngineOptions();

// Where the scripts are: $PROMQL_TESTDATA when set; else tests/testdata/promql in the source tree
// when it holds them; else /work/shared/promql-testdata. The v2.42.0 set is its v2.42.0/
// subdirectory, the v2.53.5 set its top level.
std::string DefaultTestdataDir();

}  // namespace sextant::promql::script
