// Parse and write of a 10k-series exposition (prom/text_format.h): what a collector's /metrics
// page and a scrape of it cost.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "prom/text_format.h"

namespace sextant::prom {
namespace {

// 10,000 series: 80 counter families of 100 series (3 labels each) and 20 histograms of
// 10 label sets x (8 buckets + sum + count).
std::vector<MetricFamily> MakeFamilies() {
  std::vector<MetricFamily> fams;
  for (int f = 0; f < 80; ++f) {
    MetricFamily fam;
    fam.name = absl::StrCat("container_cpu_usage_seconds_", f, "_total");
    fam.help = "Cumulative CPU time consumed, in seconds.";
    fam.type = MetricType::kCounter;
    for (int s = 0; s < 100; ++s) {
      std::string pod = absl::StrCat("web-7d9f8c6b5-", s);
      fam.samples.push_back(ExpositionSample{Labels{{"__name__", fam.name},
                                                    {"container", "app"},
                                                    {"namespace", "production"},
                                                    {"pod", pod}},
                                             12345.678 + s * 0.125, std::nullopt});
    }
    fams.push_back(std::move(fam));
  }
  const char* bounds[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.5", "1", "+Inf"};
  for (int f = 0; f < 20; ++f) {
    MetricFamily fam;
    fam.name = absl::StrCat("http_request_duration_seconds_", f);
    fam.help = "Request latency.";
    fam.type = MetricType::kHistogram;
    for (int s = 0; s < 10; ++s) {
      std::string handler = absl::StrCat("/api/v1/handler", s);
      double count = 0;
      for (const char* le : bounds) {
        count += 17;
        fam.samples.push_back(ExpositionSample{
            Labels{{"__name__", fam.name + "_bucket"}, {"handler", handler}, {"le", le}}, count,
            std::nullopt});
      }
      fam.samples.push_back(ExpositionSample{
          Labels{{"__name__", fam.name + "_sum"}, {"handler", handler}}, 42.5, std::nullopt});
      fam.samples.push_back(ExpositionSample{
          Labels{{"__name__", fam.name + "_count"}, {"handler", handler}}, count, std::nullopt});
    }
    fams.push_back(std::move(fam));
  }
  return fams;
}

void BM_WriteText004(benchmark::State& state) {
  std::vector<MetricFamily> fams = MakeFamilies();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = WriteTextFormat(fams);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["series"] = 10000;
}
BENCHMARK(BM_WriteText004);

void BM_ParseText004(benchmark::State& state) {
  std::string text = WriteTextFormat(MakeFamilies());
  for (auto _ : state) {
    auto fams = ParseTextFormat(text, ExpositionFormat::kText004);
    if (!fams.ok()) {
      state.SkipWithError(std::string(fams.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(fams);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["series"] = 10000;
}
BENCHMARK(BM_ParseText004);

void BM_ParseOpenMetrics(benchmark::State& state) {
  // The same series in OpenMetrics: counters named without _total, "# EOF" at the end.
  std::vector<MetricFamily> fams = MakeFamilies();
  std::string text;
  for (const MetricFamily& f : fams) {
    bool counter = f.type == MetricType::kCounter;
    absl::string_view name = f.name;
    if (counter) name.remove_suffix(6);  // "_total"
    absl::StrAppend(&text, "# HELP ", name, " ", f.help, "\n# TYPE ", name, " ",
                    counter ? "counter" : "histogram", "\n");
    std::string body = WriteTextFormat({MetricFamily{f.name, "", f.type, "", f.samples}});
    // Drop the 0.0.4 TYPE line the writer put first.
    absl::StrAppend(&text, absl::string_view(body).substr(body.find('\n') + 1));
  }
  text += "# EOF\n";
  for (auto _ : state) {
    auto parsed = ParseTextFormat(text, ExpositionFormat::kOpenMetrics);
    if (!parsed.ok()) {
      state.SkipWithError(std::string(parsed.status().message()).c_str());
      break;
    }
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["series"] = 10000;
}
BENCHMARK(BM_ParseOpenMetrics);

}  // namespace
}  // namespace sextant::prom

BENCHMARK_MAIN();
