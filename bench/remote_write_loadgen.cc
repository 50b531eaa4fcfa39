// remote_write_loadgen: sends node_exporter-like series (bench/node_data.h) to a remote_write 1.0
// receiver as fast as it takes them, and prints one summary line:
//   samples=N seconds=S samples_per_second=R requests=Q failed=F series=... rounds=... ...
// It exits 1 if any request failed (a connection error or a non-2xx answer), 2 on bad flags.
//
// Every request is encoded before the clock starts. Rounds go in order: round r carries one
// sample (timestamp start + r * interval) for each series, split into requests of
// --batch-series series that --senders connections send concurrently, and round r+1 starts only
// once round r is answered, so each series' samples arrive in order, as from Prometheus.
//
// usage: remote_write_loadgen --url=http://127.0.0.1:9190/api/v1/write [--series=100000]
//          [--senders=4] [--batch-series=2000] [--samples-per-series=30] [--interval-ms=15000]
//          [--start-ms=MS (default: now - samples * interval)] [--time-limit-s=0 (none)]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "bench/node_data.h"
#include "common/http_client.h"
#include "prom/remote_write.h"

namespace sextant::bench {
namespace {

struct Flags {
  std::string url;
  int64_t series = 100'000;
  int64_t senders = 4;
  int64_t batch_series = 2'000;
  int64_t samples_per_series = 30;
  int64_t interval_ms = 15'000;
  int64_t start_ms = -1;    // -1: now - samples_per_series * interval_ms
  double time_limit_s = 0;  // 0: none
};

bool ParseFlags(int argc, char** argv, Flags& f) {
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (!absl::ConsumePrefix(&arg, "--")) {
      std::fprintf(stderr, "unexpected argument %s\n", argv[i]);
      return false;
    }
    std::string name, value;
    if (size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
    } else if (i + 1 < argc) {
      name = std::string(arg);
      value = argv[++i];
    } else {
      std::fprintf(stderr, "flag --%s needs a value\n", std::string(arg).c_str());
      return false;
    }
    bool ok = true;
    if (name == "url") {
      f.url = value;
    } else if (name == "series") {
      ok = absl::SimpleAtoi(value, &f.series) && f.series > 0;
    } else if (name == "senders") {
      ok = absl::SimpleAtoi(value, &f.senders) && f.senders > 0;
    } else if (name == "batch-series") {
      ok = absl::SimpleAtoi(value, &f.batch_series) && f.batch_series > 0;
    } else if (name == "samples-per-series") {
      ok = absl::SimpleAtoi(value, &f.samples_per_series) && f.samples_per_series > 0;
    } else if (name == "interval-ms") {
      ok = absl::SimpleAtoi(value, &f.interval_ms) && f.interval_ms > 0;
    } else if (name == "start-ms") {
      ok = absl::SimpleAtoi(value, &f.start_ms);
    } else if (name == "time-limit-s") {
      ok = absl::SimpleAtod(value, &f.time_limit_s) && f.time_limit_s >= 0;
    } else {
      std::fprintf(stderr, "unknown flag --%s\n", name.c_str());
      return false;
    }
    if (!ok) {
      std::fprintf(stderr, "bad value for --%s: %s\n", name.c_str(), value.c_str());
      return false;
    }
  }
  if (f.url.empty()) {
    std::fprintf(stderr, "--url is required (e.g. http://127.0.0.1:9190/api/v1/write)\n");
    return false;
  }
  return true;
}

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The encoded bodies, [round][batch], and the series count of each batch.
struct Workload {
  std::vector<std::vector<std::string>> bodies;
  std::vector<int64_t> batch_series;
  int64_t bytes = 0;
};

// Encodes every request, batches split over the machine's cores (each batch's series and value
// streams belong to one thread).
Workload Encode(const Flags& f) {
  std::vector<NodeSeries> fleet = MakeNodeFleet(static_cast<int>(f.series), f.start_ms);
  const int64_t batches = (f.series + f.batch_series - 1) / f.batch_series;
  Workload w;
  w.bodies.assign(f.samples_per_series, std::vector<std::string>(batches));
  for (int64_t b = 0; b < batches; ++b) {
    w.batch_series.push_back(std::min(f.batch_series, f.series - b * f.batch_series));
  }
  std::atomic<int64_t> next{0};
  auto worker = [&] {
    for (int64_t b = next++; b < batches; b = next++) {
      const int64_t first = b * f.batch_series;
      prom::RemoteWriteRequest req;
      std::vector<NodeValueStream> streams;
      for (int64_t i = first; i < first + w.batch_series[b]; ++i) {
        prom::RemoteWriteSeries s;
        s.labels = std::move(fleet[i].labels);  // the model stays for the stream
        s.samples.resize(1);
        req.series.push_back(std::move(s));
        streams.emplace_back(fleet[i].model, NodeSeed(static_cast<int>(i)), f.interval_ms);
      }
      for (int64_t r = 0; r < f.samples_per_series; ++r) {
        for (size_t k = 0; k < streams.size(); ++k) {
          req.series[k].samples[0] = {f.start_ms + r * f.interval_ms, streams[k].Next()};
        }
        absl::StatusOr<std::string> body = prom::EncodeWriteRequest(req);
        if (!body.ok()) {
          std::fprintf(stderr, "encode: %s\n", body.status().ToString().c_str());
          std::exit(1);
        }
        w.bodies[r][b] = *std::move(body);
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t) {
    threads.emplace_back(worker);
  }
  for (std::thread& t : threads) t.join();
  for (const auto& round : w.bodies) {
    for (const std::string& body : round) w.bytes += static_cast<int64_t>(body.size());
  }
  return w;
}

int Main(int argc, char** argv) {
  Flags f;
  if (!ParseFlags(argc, argv, f)) return 2;
  if (f.start_ms < 0) {
    int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    f.start_ms = (now_ms - f.samples_per_series * f.interval_ms) / f.interval_ms * f.interval_ms;
  }

  auto t_encode = std::chrono::steady_clock::now();
  Workload w = Encode(f);
  const size_t batches = w.batch_series.size();
  std::fprintf(stderr,
               "encoded %lld series (%d per node) x %lld rounds: %zu requests, %lld bytes, "
               "%.2f s\n",
               static_cast<long long>(f.series), NodeSeriesPerNode(),
               static_cast<long long>(f.samples_per_series), batches * w.bodies.size(),
               static_cast<long long>(w.bytes), Since(t_encode));

  HttpClientOptions options;
  options.timeout = absl::Seconds(120);
  options.retry.max_attempts = 1;
  options.max_idle_handles = static_cast<int>(f.senders);
  options.user_agent = "sextant-remote-write-loadgen";
  absl::StatusOr<std::unique_ptr<CurlHttpClient>> client = CurlHttpClient::Create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "http client: %s\n", client.status().ToString().c_str());
    return 1;
  }

  std::atomic<int64_t> samples{0}, requests{0}, failed{0};
  std::atomic<bool> out_of_time{false};
  absl::Mutex log_mu;
  int logged = 0;
  int64_t rounds_done = 0;
  double first_round_s = 0;  // the round that creates every series
  int64_t first_round_samples = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int64_t r = 0; r < f.samples_per_series && !out_of_time; ++r) {
    std::atomic<size_t> next{0};
    auto sender = [&] {
      for (size_t b = next++; b < batches; b = next++) {
        if (f.time_limit_s > 0 && Since(t0) > f.time_limit_s) {
          out_of_time = true;
          return;
        }
        HttpClientRequest req;
        req.method = "POST";
        req.url = f.url;
        req.headers.Add("Content-Type", prom::kRemoteWriteContentType);
        req.headers.Add("Content-Encoding", prom::kRemoteWriteContentEncoding);
        req.headers.Add(prom::kRemoteWriteVersionHeader, prom::kRemoteWriteVersion);
        req.body = w.bodies[r][b];
        req.retryable = false;
        absl::StatusOr<HttpClientResponse> resp = (*client)->Send(req);
        ++requests;
        if (resp.ok() && resp->status / 100 == 2) {
          samples += w.batch_series[b];
          continue;
        }
        ++failed;
        absl::MutexLock lock(&log_mu);
        if (logged++ < 5) {
          std::string why =
              resp.ok() ? absl::StrCat("HTTP ", resp->status, ": ", resp->body.substr(0, 300))
                        : resp.status().ToString();
          std::fprintf(stderr, "round %lld request %zu failed: %s\n", static_cast<long long>(r), b,
                       why.c_str());
        }
      }
    };
    std::vector<std::thread> threads;
    for (int64_t s = 0; s < f.senders; ++s) threads.emplace_back(sender);
    for (std::thread& t : threads) t.join();
    if (!out_of_time) ++rounds_done;
    if (r == 0) {
      first_round_s = Since(t0);
      first_round_samples = samples;
    }
  }
  const double seconds = Since(t0);
  // Samples per second once every series exists (rounds after the first).
  const double later_sps = rounds_done > 1 ? static_cast<double>(samples - first_round_samples) /
                                                 (seconds - first_round_s)
                                           : 0;
  std::printf(
      "samples=%lld seconds=%.3f samples_per_second=%.0f requests=%lld failed=%lld series=%lld "
      "rounds=%lld senders=%lld batch_series=%lld body_bytes=%lld first_round_seconds=%.3f "
      "later_rounds_samples_per_second=%.0f truncated=%d\n",
      static_cast<long long>(samples.load()), seconds,
      static_cast<double>(samples.load()) / seconds, static_cast<long long>(requests.load()),
      static_cast<long long>(failed.load()), static_cast<long long>(f.series),
      static_cast<long long>(rounds_done), static_cast<long long>(f.senders),
      static_cast<long long>(f.batch_series), static_cast<long long>(w.bytes), first_round_s,
      later_sps, out_of_time ? 1 : 0);
  std::fflush(stdout);
  return failed > 0 ? 1 : 0;
}

}  // namespace
}  // namespace sextant::bench

int main(int argc, char** argv) { return sextant::bench::Main(argc, argv); }
