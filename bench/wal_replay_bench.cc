// WAL replay at start: how long Db::Open takes to bring back 10 million samples (issue 5's
// target: under 10 s on the 2-core machine), and the store's footprint for node-like data.
//
//   build/bench/wal_replay_bench [--series=N] [--samples=N]
// Writes the WAL through the normal commit path (100 series per commit, as a collector's
// request would be split), then times Open() with a cold head, then prints bytes per sample of
// the WAL and, after cutting blocks, of the blocks.
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "aggregator/tsdb/db.h"
#include "bench/node_data.h"
#include "common/logging.h"

namespace {

namespace fs = std::filesystem;
using sextant::tsdb::Appender;
using sextant::tsdb::Db;
using sextant::tsdb::DbOptions;

int64_t DirBytes(const std::string& dir) {
  int64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += static_cast<int64_t>(e.file_size());
  }
  return total;
}

int64_t FlagValue(int argc, char** argv, const std::string& name, int64_t def) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const std::string prefix = "--" + name + "=";
    int64_t v;
    if (a.rfind(prefix, 0) == 0 && absl::SimpleAtoi(a.substr(prefix.size()), &v)) return v;
  }
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  const int64_t n_series = FlagValue(argc, argv, "series", 100000);
  const int64_t n_samples = FlagValue(argc, argv, "samples", 100);  // per series
  sextant::SetLogLevel(sextant::LogLevel::kWarn);
  const std::string dir =
      (fs::temp_directory_path() / absl::StrCat("wal-replay-bench-", getpid())).string();
  fs::remove_all(dir);
  DbOptions options;
  options.dir = dir;
  options.fsync = sextant::FsyncPolicy::kNever;
  options.retention_time = absl::ZeroDuration();

  const int64_t start_ms = 1'700'000'000'000;
  constexpr int64_t kStepMs = 15000;
  const std::vector<sextant::bench::NodeSeries> fleet =
      sextant::bench::MakeNodeFleet(static_cast<int>(n_series), start_ms);
  std::vector<sextant::bench::NodeValueStream> values;
  values.reserve(fleet.size());
  for (size_t i = 0; i < fleet.size(); ++i) {
    values.emplace_back(fleet[i].model, sextant::bench::NodeSeed(static_cast<int>(i)), kStepMs);
  }
  {
    auto db = Db::Open(options);
    if (!db.ok()) {
      std::cerr << db.status() << "\n";
      return 1;
    }
    std::vector<sextant::tsdb::SeriesRef> refs;
    refs.reserve(n_series);
    {
      Appender app = (*db)->NewAppender();
      for (int64_t i = 0; i < n_series; ++i) {
        refs.push_back(
            *app.GetOrCreate(sextant::prom::Labels::FromSortedUnchecked(fleet[i].labels)));
      }
    }
    const absl::Time t0 = absl::Now();
    for (int64_t r = 0; r < n_samples; ++r) {
      const int64_t t = start_ms + r * kStepMs;
      for (int64_t i = 0; i < n_series; i += 100) {
        Appender app = (*db)->NewAppender();
        for (int64_t j = i; j < std::min(n_series, i + 100); ++j) {
          app.Add(refs[j], t, values[j].Next());
        }
        if (!app.Commit().ok()) return 1;
      }
    }
    const double secs = absl::ToDoubleSeconds(absl::Now() - t0);
    std::cout << absl::StrFormat("append: %d samples in %.2f s (%.0f samples/s, commit path)\n",
                                 n_series * n_samples, secs, n_series * n_samples / secs);
  }
  const int64_t wal_bytes = DirBytes(dir + "/wal");
  const absl::Time t0 = absl::Now();
  auto db = Db::Open(options);
  const double replay = absl::ToDoubleSeconds(absl::Now() - t0);
  if (!db.ok()) {
    std::cerr << db.status() << "\n";
    return 1;
  }
  const auto stats = (*db)->Stats();
  std::cout << absl::StrFormat(
      "replay: %d series, %d samples in %.2f s (%.1f M samples/s); WAL %.2f bytes/sample\n",
      stats.head_series, n_series * n_samples, replay, n_series * n_samples / replay / 1e6,
      static_cast<double>(wal_bytes) / static_cast<double>(n_series * n_samples));
  std::cout << absl::StrFormat("head: %.0f bytes of memory per series (estimate)\n",
                               static_cast<double>(stats.head_memory_bytes) / stats.head_series);
  if (!(*db)->CutHeadBefore(sextant::tsdb::kMaxTime).ok()) return 1;
  const auto after = (*db)->Stats();
  std::cout << absl::StrFormat(
      "blocks: %d, %.3f bytes/sample on disk (index + chunks + meta)\n", after.blocks,
      static_cast<double>(after.blocks_bytes) / static_cast<double>(n_series * n_samples));
  db->reset();
  fs::remove_all(dir);
  return 0;
}
