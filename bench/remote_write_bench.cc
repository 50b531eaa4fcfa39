// remote_write 1.0 codec throughput: encode and decode of a collector-sized batch (series with
// node_exporter/cAdvisor-like label sets, one sample each), and label validation.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "prom/remote_write.h"

namespace sextant::prom {
namespace {

RemoteWriteRequest MakeBatch(int series) {
  RemoteWriteRequest req;
  req.series.reserve(series);
  for (int i = 0; i < series; ++i) {
    RemoteWriteSeries s;
    s.labels = {{"__name__", "container_cpu_usage_seconds_total"},
                {"container", absl::StrCat("app-", i % 7)},
                {"id", absl::StrCat("/kubepods/burstable/pod", i, "/cri-containerd-", i * 7919)},
                {"instance", "node-a:9191"},
                {"job", "sextant-collector"},
                {"namespace", absl::StrCat("team-", i % 13)},
                {"pod", absl::StrCat("web-", i, "-5d8f7c9b4-x2x9q")}};
    s.samples.push_back({1'700'000'000'000 + i, 1234.5 + i});
    req.series.push_back(std::move(s));
  }
  return req;
}

void BM_Encode(benchmark::State& state) {
  RemoteWriteRequest req = MakeBatch(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    absl::StatusOr<std::string> body = EncodeWriteRequest(req);
    bytes = body->size();
    benchmark::DoNotOptimize(body);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["body_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_Encode)->Arg(500)->Arg(5000);

void BM_Decode(benchmark::State& state) {
  std::string body = *EncodeWriteRequest(MakeBatch(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    absl::StatusOr<RemoteWriteRequest> req = DecodeWriteRequest(body, 64 << 20);
    benchmark::DoNotOptimize(req);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK(BM_Decode)->Arg(500)->Arg(5000);

void BM_DecodeAndValidate(benchmark::State& state) {
  std::string body = *EncodeWriteRequest(MakeBatch(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    absl::StatusOr<RemoteWriteRequest> req = DecodeWriteRequest(body, 64 << 20);
    for (RemoteWriteSeries& s : req->series) {
      absl::StatusOr<Labels> labels = ValidateSeriesLabels(std::move(s.labels));
      benchmark::DoNotOptimize(labels);
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_DecodeAndValidate)->Arg(5000);

}  // namespace
}  // namespace sextant::prom

BENCHMARK_MAIN();
