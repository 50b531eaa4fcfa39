// XOR chunk (aggregator/tsdb/chunk.h) size and speed on node_exporter-like data
// (bench/node_data.h) scraped every 15 s: each series' 120 samples (one chunk, a 30-minute
// window) are appended to a XorChunk, then read back with XorIterator. The counter
// bytes_per_sample is the encoded chunk size (header included) over the samples in it.
//
// Benchmarks come per slice of a 20-node fleet: all of it, each value model (counter, gauge,
// noise, constant) and each metric group (cpu, memory, disk, ...). Before running, a short table
// of the costliest metric names goes to stderr.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/tsdb/chunk.h"
#include "bench/node_data.h"
#include "benchmark/benchmark.h"

namespace sextant::bench {
namespace {

constexpr int kNodes = 20;
constexpr int kSamples = tsdb::XorChunk::kTargetSamples;
constexpr int64_t kIntervalMs = 15'000;
constexpr int64_t kStartMs = 1'700'000'000'000;

struct SeriesData {
  const NodeSeries* series;
  std::vector<int64_t> t;
  std::vector<double> v;
};

const std::vector<NodeSeries>& Fleet() {
  static const auto* fleet =
      new std::vector<NodeSeries>(MakeNodeFleet(kNodes * NodeSeriesPerNode(), kStartMs));
  return *fleet;
}

// Samples of every fleet series; timestamps step exactly kIntervalMs, or vary by up to
// +-jitter_ms around that (a scraper that does not align its timestamps).
std::vector<SeriesData> MakeData(int64_t jitter_ms) {
  const std::vector<NodeSeries>& fleet = Fleet();
  std::vector<SeriesData> data;
  data.reserve(fleet.size());
  for (size_t i = 0; i < fleet.size(); ++i) {
    SeriesData d;
    d.series = &fleet[i];
    NodeValueStream values(fleet[i].model, NodeSeed(static_cast<int>(i)), kIntervalMs);
    SplitMix jitter(i + 1);
    for (int k = 0; k < kSamples; ++k) {
      d.t.push_back(kStartMs + k * kIntervalMs + jitter.Symmetric(jitter_ms));
      d.v.push_back(values.Next());
    }
    data.push_back(std::move(d));
  }
  return data;
}

const std::vector<SeriesData>& Data(int64_t jitter_ms) {
  static auto* cache = new std::map<int64_t, std::vector<SeriesData>>();
  auto it = cache->find(jitter_ms);
  if (it == cache->end()) it = cache->emplace(jitter_ms, MakeData(jitter_ms)).first;
  return it->second;
}

const char* KindName(NodeValueModel::Kind kind) {
  switch (kind) {
    case NodeValueModel::Kind::kConstant:
      return "constant";
    case NodeValueModel::Kind::kCounter:
      return "counter";
    case NodeValueModel::Kind::kGauge:
      return "gauge";
    case NodeValueModel::Kind::kNoise:
      return "noise";
  }
  return "?";
}

// A chunk of the series' first `samples` samples.
tsdb::XorChunk Encode(const SeriesData& d, int samples = kSamples) {
  tsdb::XorChunk chunk;
  for (int k = 0; k < samples; ++k) {
    if (!chunk.Append(d.t[k], d.v[k]).ok()) std::abort();
  }
  return chunk;
}

using Filter = std::function<bool(const NodeSeries&)>;

std::vector<const SeriesData*> Select(int64_t jitter_ms, const Filter& filter) {
  std::vector<const SeriesData*> out;
  for (const SeriesData& d : Data(jitter_ms)) {
    if (filter(*d.series)) out.push_back(&d);
  }
  return out;
}

void BM_XorAppend(benchmark::State& state, int64_t jitter_ms, const Filter& filter,
                  int samples_per_chunk = kSamples) {
  std::vector<const SeriesData*> selected = Select(jitter_ms, filter);
  size_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    for (const SeriesData* d : selected) {
      tsdb::XorChunk chunk = Encode(*d, samples_per_chunk);
      bytes += chunk.bytes().size();
      benchmark::DoNotOptimize(chunk);
    }
  }
  const double samples = static_cast<double>(selected.size()) * samples_per_chunk;
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(samples));
  state.counters["series"] = static_cast<double>(selected.size());
  state.counters["bytes_per_sample"] = static_cast<double>(bytes) / samples;
}

void BM_XorIterate(benchmark::State& state, int64_t jitter_ms, const Filter& filter) {
  std::vector<std::string> chunks;
  for (const SeriesData* d : Select(jitter_ms, filter)) {
    chunks.emplace_back(Encode(*d).bytes());
  }
  for (auto _ : state) {
    double sum = 0;
    for (const std::string& c : chunks) {
      tsdb::XorIterator it(c);
      while (it.Next()) sum += it.v();
      if (!it.status().ok()) std::abort();
    }
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(chunks.size()) * kSamples);
}

void RegisterAll() {
  std::vector<std::pair<std::string, Filter>> slices = {
      {"fleet", [](const NodeSeries&) { return true; }}};
  for (auto kind : {NodeValueModel::Kind::kCounter, NodeValueModel::Kind::kGauge,
                    NodeValueModel::Kind::kNoise, NodeValueModel::Kind::kConstant}) {
    slices.push_back({absl::StrCat("kind:", KindName(kind)),
                      [kind](const NodeSeries& s) { return s.model.kind == kind; }});
  }
  for (const char* group :
       {"cpu", "memory", "disk", "network", "filesystem", "system", "exporter", "scrape"}) {
    slices.push_back({absl::StrCat("group:", group),
                      [group](const NodeSeries& s) { return std::string_view(s.group) == group; }});
  }
  for (const auto& [name, filter] : slices) {
    benchmark::RegisterBenchmark(absl::StrCat("BM_XorAppend/", name).c_str(),
                                 [f = filter](benchmark::State& s) { BM_XorAppend(s, 0, f); })
        ->Unit(benchmark::kMillisecond);
  }
  // The same fleet with timestamps that wander by a few milliseconds around the interval.
  for (int64_t jitter : {2, 50}) {
    benchmark::RegisterBenchmark(absl::StrCat("BM_XorAppend/fleet_ts_jitter_ms:", jitter).c_str(),
                                 [jitter](benchmark::State& s) {
                                   BM_XorAppend(s, jitter, [](const NodeSeries&) { return true; });
                                 })
        ->Unit(benchmark::kMillisecond);
  }
  // Chunks of 30 samples, as the head holds after bench/ingest_vs_prometheus.sh's default run
  // (the chunk header and first sample weigh four times as much per sample).
  benchmark::RegisterBenchmark("BM_XorAppend/fleet_30_samples_per_chunk", [](benchmark::State& s) {
    BM_XorAppend(
        s, 0, [](const NodeSeries&) { return true; }, 30);
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("BM_XorIterate/fleet", [](benchmark::State& s) {
    BM_XorIterate(s, 0, [](const NodeSeries&) { return true; });
  })->Unit(benchmark::kMillisecond);
}

// Prints, per metric name, bytes per sample and its share of the fleet's chunk bytes: the
// costliest ten by share.
void PrintCostliest() {
  struct Cost {
    size_t bytes = 0;
    size_t samples = 0;
    const char* kind = "";
  };
  std::map<std::string, Cost> by_name;
  size_t total = 0;
  for (const SeriesData& d : Data(0)) {
    size_t bytes = Encode(d).bytes().size();
    Cost& c = by_name[d.series->labels[0].value];
    c.bytes += bytes;
    c.samples += kSamples;
    c.kind = KindName(d.series->model.kind);
    total += bytes;
  }
  std::vector<std::pair<std::string, Cost>> sorted(by_name.begin(), by_name.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.second.bytes > b.second.bytes; });
  std::fprintf(stderr, "fleet: %zu series (%d per node), %d samples each, %.3f bytes/sample\n",
               Data(0).size(), NodeSeriesPerNode(), kSamples,
               static_cast<double>(total) / (static_cast<double>(Data(0).size()) * kSamples));
  std::fprintf(stderr, "costliest metric names (share of chunk bytes, bytes/sample):\n");
  for (size_t i = 0; i < sorted.size() && i < 12; ++i) {
    const Cost& c = sorted[i].second;
    std::fprintf(stderr, "  %-44s %-8s %5.1f%%  %5.2f\n", sorted[i].first.c_str(), c.kind,
                 100.0 * static_cast<double>(c.bytes) / static_cast<double>(total),
                 static_cast<double>(c.bytes) / static_cast<double>(c.samples));
  }
}

}  // namespace
}  // namespace sextant::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  sextant::bench::RegisterAll();
  sextant::bench::PrintCostliest();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
