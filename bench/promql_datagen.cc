// Writes the PromQL comparison data sets (bench/promql_data.h) as Prometheus-format blocks into
// a data directory, for bench/promql_vs_prometheus.sh and for trying queries by hand against
// Prometheus and `sextant server`.
//
// usage: promql_datagen --out=DIR [--profile=bench|differential] [--targets=200]
//                       [--hours=6] [--start-ms=MS] [--seed=1]
// The bench profile writes one block spanning the whole range (so that neither store compacts
// during the benchmark); differential writes 2 h blocks. Prints "series=N samples=N start_ms=MS
// end_ms=MS". Exits 1 on errors, 2 on bad flags.
#include <cstdio>
#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/string_view.h"
#include "bench/promql_data.h"

namespace {

struct Flags {
  std::string out;
  std::string profile = "bench";
  int targets = 200;
  int hours = 6;
  int64_t start_ms = 0;  // 0: the profile's default
  uint64_t seed = 1;
};

bool ParseFlags(int argc, char** argv, Flags& f) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    auto value = [&](absl::string_view name, absl::string_view* v) {
      if (!absl::StartsWith(arg, name)) return false;
      *v = arg.substr(name.size());
      return true;
    };
    absl::string_view v;
    bool ok = true;
    if (value("--out=", &v)) {
      f.out = std::string(v);
    } else if (value("--profile=", &v)) {
      f.profile = std::string(v);
      ok = f.profile == "bench" || f.profile == "differential";
    } else if (value("--targets=", &v)) {
      ok = absl::SimpleAtoi(v, &f.targets) && f.targets > 0;
    } else if (value("--hours=", &v)) {
      ok = absl::SimpleAtoi(v, &f.hours) && f.hours > 0;
    } else if (value("--start-ms=", &v)) {
      ok = absl::SimpleAtoi(v, &f.start_ms);
    } else if (value("--seed=", &v)) {
      ok = absl::SimpleAtoi(v, &f.seed);
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr, "bad argument %s\n", argv[i]);
      return false;
    }
  }
  if (f.out.empty()) {
    std::fprintf(stderr, "--out=DIR is required\n");
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  if (!ParseFlags(argc, argv, f)) return 2;
  namespace bench = sextant::bench;
  std::vector<bench::PromqlSeriesSpec> specs;
  int64_t start = f.start_ms, end = 0, block_range = 0;
  if (f.profile == "bench") {
    const int64_t range = int64_t{f.hours} * 3600 * 1000;
    // Aligned to the block range, so that the data is one block.
    if (start == 0) start = bench::kPromqlDiffStartMs / range * range;
    start = start / range * range;
    end = start + range;
    block_range = range;
    specs = bench::BenchSeries(f.targets, start, range, 15000, f.seed);
  } else {
    if (start == 0) start = bench::kPromqlDiffStartMs;
    end = start + bench::kPromqlDiffDurationMs;
    block_range = 2 * 3600 * 1000;
    specs = bench::DifferentialSeries(start, f.seed);
  }
  const size_t series = specs.size();
  std::error_code ec;
  std::filesystem::create_directories(f.out, ec);
  if (ec) {
    std::fprintf(stderr, "creating %s: %s\n", f.out.c_str(), ec.message().c_str());
    return 1;
  }
  absl::StatusOr<int64_t> samples = bench::WritePromqlBlocks(f.out, std::move(specs), block_range);
  if (!samples.ok()) {
    std::fprintf(stderr, "writing blocks: %s\n", samples.status().ToString().c_str());
    return 1;
  }
  std::printf("series=%zu samples=%lld start_ms=%lld end_ms=%lld\n", series,
              static_cast<long long>(*samples), static_cast<long long>(start),
              static_cast<long long>(end));
  return 0;
}
