// The head's hot paths: committing a scrape's samples (Validate + Apply), looking up existing
// series, selecting by matchers, and the memory a series costs. Counters: samples/s, and
// bytes_per_series (Head::MemoryBytes) after 480 samples per series (4 chunks).
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "aggregator/tsdb/head.h"
#include "benchmark/benchmark.h"

namespace sextant::tsdb {
namespace {

prom::Labels SeriesLabels(int i) {
  return prom::Labels{{"__name__", "container_cpu_usage_seconds_total"},
                      {"namespace", "ns-" + std::to_string(i % 20)},
                      {"pod", "pod-" + std::to_string(i)},
                      {"container", "c-" + std::to_string(i % 3)},
                      {"job", "kubelet"},
                      {"node", "node-" + std::to_string(i % 50)}};
}

std::vector<SeriesRef> CreateSeries(Head& head, int n) {
  std::vector<SeriesRef> refs;
  refs.reserve(n);
  for (int i = 0; i < n; ++i) {
    bool created = false;
    refs.push_back(*head.GetOrCreate(SeriesLabels(i), &created));
  }
  return refs;
}

// One batch per iteration: one sample for each of range(0) series, 15 s after the last.
void BM_AppendBatch(benchmark::State& state) {
  Head head(HeadOptions{});
  const std::vector<SeriesRef> refs = CreateSeries(head, static_cast<int>(state.range(0)));
  int64_t t = 0;
  std::vector<PendingSample> batch;
  for (auto _ : state) {
    batch.clear();
    for (SeriesRef ref : refs) batch.push_back({ref, t, static_cast<double>(t / 1000)});
    t += 15000;
    RejectCounts rejected;
    head.Validate(batch, &rejected);
    head.Apply(batch);
  }
  state.counters["samples/s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * refs.size()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AppendBatch)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_GetOrCreateExisting(benchmark::State& state) {
  Head head(HeadOptions{});
  constexpr int kSeries = 10000;
  CreateSeries(head, kSeries);
  std::vector<prom::Labels> labels;
  for (int i = 0; i < kSeries; ++i) labels.push_back(SeriesLabels(i));
  size_t i = 0;
  for (auto _ : state) {
    bool created = false;
    benchmark::DoNotOptimize(head.GetOrCreate(labels[i++ % kSeries], &created));
  }
}
BENCHMARK(BM_GetOrCreateExisting);

// Select of 1/20 of 10k series (namespace="ns-3", and a regex on the container), all samples.
void BM_SelectByMatchers(benchmark::State& state) {
  Head head(HeadOptions{});
  const std::vector<SeriesRef> refs = CreateSeries(head, 10000);
  for (int k = 0; k < 240; ++k) {
    for (SeriesRef ref : refs) head.Append(ref, k * 15000, k);
  }
  const std::vector<prom::Matcher> matchers = {
      *prom::Matcher::Create(prom::MatchType::kEqual, "namespace", "ns-3"),
      *prom::Matcher::Create(prom::MatchType::kRegexMatch, "container", "c-0|c-1")};
  size_t series = 0;
  for (auto _ : state) {
    auto got = head.Select(matchers, kMinTime, kMaxTime);
    series = got.size();
    benchmark::DoNotOptimize(got);
  }
  state.counters["series"] = static_cast<double>(series);
}
BENCHMARK(BM_SelectByMatchers)->Unit(benchmark::kMicrosecond);

// Memory per series with 4 chunks of 120 counter samples (not a timing).
void BM_MemoryPerSeries(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    Head head(HeadOptions{});
    const int64_t empty = head.MemoryBytes();
    const std::vector<SeriesRef> refs = CreateSeries(head, n);
    for (int k = 0; k < 480; ++k) {
      for (SeriesRef ref : refs) head.Append(ref, k * 15000, 1000.0 + k);
    }
    state.counters["bytes_per_series"] =
        static_cast<double>(head.MemoryBytes() - empty) / static_cast<double>(n);
  }
}
BENCHMARK(BM_MemoryPerSeries)->Arg(100000)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
}  // namespace sextant::tsdb

int main(int argc, char** argv) {
  // Debian's Abseil checks every lock order at run time unless told not to; a daemon's main()
  // would do the same.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
