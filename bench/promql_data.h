// Series for comparing our PromQL engine with Prometheus 2.42: the differential test's small data
// set, which exercises every function family (counters with resets, negative gauges, NaN and
// infinities, awkward floats, staleness markers and gaps, classic and malformed histograms,
// info metrics for joins, label values that need escaping, series that start and stop
// mid-range, samples exactly on window boundaries), and the query benchmark's
// dashboard-shaped fleet. Both are written as Prometheus-format blocks with our block writer, so
// the same directory contents load into Prometheus and into `sextant server`. Shared by
// tests/integration/promql_differential_test.cc and bench/promql_datagen.cc.
//
// Everything is deterministic: a series' samples depend only on the seed and its place in the
// data set.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "aggregator/tsdb/block.h"
#include "aggregator/tsdb/chunk.h"
#include "aggregator/tsdb/types.h"
#include "bench/node_data.h"
#include "prom/labels.h"
#include "prom/value.h"

namespace sextant::bench {

struct PromqlSample {
  int64_t t = 0;  // ms
  double v = 0;
};

// One series of a data set: its labels and how to make its samples (increasing timestamps).
// Samples are made on demand so that a large data set never sits in memory uncompressed.
struct PromqlSeriesSpec {
  prom::Labels labels;
  std::function<std::vector<PromqlSample>()> make;
};

// The differential data set spans this long from its start.
inline constexpr int64_t kPromqlDiffDurationMs = 3 * 3600 * 1000;
// The differential data set's default start: 2023-11-14T22:00:00Z, a multiple of 2 h, so that
// the data crosses midnight (date functions) and a block boundary (at start + 2 h).
inline constexpr int64_t kPromqlDiffStartMs = 1'699'999'200'000;

namespace promql_data_internal {

inline uint64_t Mix(uint64_t seed, uint64_t salt) {
  SplitMix m(seed ^ (salt * 0x9e3779b97f4a7c15ULL));
  return m.Next();
}

// Scrape times: every `interval` ms from `start` + a per-series phase, each with a few ms of
// jitter, up to `end` (exclusive).
inline std::vector<int64_t> ScrapeTimes(SplitMix& rng, int64_t start, int64_t end, int64_t interval,
                                        bool jitter = true) {
  std::vector<int64_t> out;
  const int64_t phase = static_cast<int64_t>(rng.Next() % static_cast<uint64_t>(interval));
  int64_t last = std::numeric_limits<int64_t>::min();
  for (int64_t t = start + phase; t < end; t += interval) {
    int64_t at = std::max(start, t + (jitter ? rng.Symmetric(25) : 0));
    if (at <= last) at = last + 1;
    if (at >= end) break;
    out.push_back(at);
    last = at;
  }
  return out;
}

// A counter: integer increments averaging `rate` per second, reset to a small value with
// probability `reset_p` per sample.
inline std::vector<PromqlSample> Counter(SplitMix& rng, const std::vector<int64_t>& times,
                                         double rate, double reset_p, double initial) {
  std::vector<PromqlSample> out;
  double v = initial;
  int64_t prev = times.empty() ? 0 : times[0];
  for (int64_t t : times) {
    const double mean = rate * static_cast<double>(t - prev) / 1000.0;
    v += std::floor(mean * 2 * rng.Uniform() + 0.5);
    if (rng.Uniform() < reset_p) v = std::floor(rng.Uniform() * 5);
    out.push_back({t, v});
    prev = t;
  }
  return out;
}

// A gauge wandering around `center` by steps up to `step`, rounded to 1/100.
inline std::vector<PromqlSample> Gauge(SplitMix& rng, const std::vector<int64_t>& times,
                                       double center, double step) {
  std::vector<PromqlSample> out;
  double v = center;
  for (int64_t t : times) {
    v += (rng.Uniform() * 2 - 1) * step + (center - v) * 0.05;
    out.push_back({t, std::round(v * 100) / 100});
  }
  return out;
}

// Keeps the samples of `s` outside [from, to); with `stale_marker`, one staleness marker goes
// where the first dropped sample was.
inline std::vector<PromqlSample> Cut(std::vector<PromqlSample> s, int64_t from, int64_t to,
                                     bool stale_marker) {
  std::vector<PromqlSample> out;
  bool marked = false;
  for (const PromqlSample& x : s) {
    if (x.t >= from && x.t < to) {
      if (stale_marker && !marked) out.push_back({x.t, prom::StaleNaN()});
      marked = true;
      continue;
    }
    out.push_back(x);
  }
  return out;
}

// Classic histogram buckets (upper bounds, +Inf last) as Go's client formats them.
inline const std::vector<std::pair<double, std::string>>& DiffBuckets() {
  static const auto* b = new std::vector<std::pair<double, std::string>>{
      {0.005, "0.005"}, {0.01, "0.01"}, {0.025, "0.025"}, {0.05, "0.05"},
      {0.1, "0.1"},     {0.25, "0.25"}, {0.5, "0.5"},     {1, "1"},
      {2.5, "2.5"},     {5, "5"},       {10, "10"},       {INFINITY, "+Inf"}};
  return *b;
}

// One histogram's series over `times`: for each bucket index (and then _sum, _count) its
// cumulative values. Latencies are log-uniform over [1 ms, 20 s) scaled by `slowness`; the whole
// histogram resets to zero with probability `reset_p` per sample.
struct HistogramColumns {
  std::vector<std::vector<PromqlSample>> buckets;  // parallel to the bounds
  std::vector<PromqlSample> sum, count;
};
inline HistogramColumns Histogram(uint64_t seed, const std::vector<int64_t>& times,
                                  const std::vector<double>& bounds, double obs_per_sample,
                                  double slowness, double reset_p) {
  SplitMix rng(seed + 1);
  HistogramColumns h;
  h.buckets.resize(bounds.size());
  std::vector<double> counts(bounds.size(), 0);
  double sum = 0, count = 0;
  for (int64_t t : times) {
    if (rng.Uniform() < reset_p) {
      std::fill(counts.begin(), counts.end(), 0);
      sum = count = 0;
    }
    const int n = static_cast<int>(rng.Uniform() * 2 * obs_per_sample);
    for (int i = 0; i < n; ++i) {
      const double latency = 0.001 * std::pow(20000.0, rng.Uniform()) * slowness;
      sum += latency;
      count += 1;
      for (size_t b = 0; b < bounds.size(); ++b) {
        if (latency <= bounds[b]) counts[b] += 1;
      }
    }
    for (size_t b = 0; b < bounds.size(); ++b) h.buckets[b].push_back({t, counts[b]});
    h.sum.push_back({t, std::round(sum * 1e6) / 1e6});
    h.count.push_back({t, count});
  }
  return h;
}

}  // namespace promql_data_internal

// The differential test's data set: about 230 series from `start_ms` for
// kPromqlDiffDurationMs at a 15 s interval (some sparser, one exactly aligned), from `seed`.
inline std::vector<PromqlSeriesSpec> DifferentialSeries(int64_t start_ms, uint64_t seed) {
  using namespace promql_data_internal;  // NOLINT(build/namespaces)
  constexpr int64_t kMin = 60 * 1000;
  const int64_t start = start_ms, end = start_ms + kPromqlDiffDurationMs;
  std::vector<PromqlSeriesSpec> out;
  uint64_t salt = 0;
  // Adds a series whose samples `f(rng)` makes from its own random stream.
  auto add = [&](prom::Labels labels, std::function<std::vector<PromqlSample>(SplitMix&)> f) {
    const uint64_t s = Mix(seed, ++salt);
    out.push_back({std::move(labels), [s, f = std::move(f)] {
                     SplitMix rng(s);
                     return f(rng);
                   }});
  };
  const std::vector<std::string> jobs = {"api", "web"};
  const std::vector<std::string> instances = {"10.0.0.1:8080", "10.0.0.2:8080", "10.0.0.3:8080"};

  // Counters with resets; web/10.0.0.3 starts 40 min in; api/10.0.0.2 ends with a staleness
  // marker at 2h20m; api/10.0.0.1 POST has a gap (no marker) from 1h to 1h30m.
  for (const std::string& job : jobs) {
    for (const std::string& inst : instances) {
      for (const std::string method : {"GET", "POST"}) {
        for (const std::string code : {"200", "404", "500"}) {
          const double rate = (code == "200"   ? 10.0
                               : code == "404" ? 1.0
                                               : 0.2) *
                              (method == "GET" ? 1.0 : 0.3) * (job == "api" ? 1.0 : 2.5);
          add(prom::Labels{{"__name__", "http_requests_total"},
                           {"job", job},
                           {"instance", inst},
                           {"method", method},
                           {"code", code}},
              [=](SplitMix& rng) {
                int64_t from = start;
                if (job == "web" && inst == "10.0.0.3:8080") from = start + 40 * kMin;
                std::vector<PromqlSample> s = Counter(rng, ScrapeTimes(rng, from, end, 15000), rate,
                                                      1.0 / 250, rng.Next() % 1000);
                if (job == "api" && inst == "10.0.0.2:8080") {
                  s = Cut(std::move(s), start + 140 * kMin, end, true);
                }
                if (job == "api" && inst == "10.0.0.1:8080" && method == "POST") {
                  s = Cut(std::move(s), start + 60 * kMin, start + 90 * kMin, false);
                }
                return s;
              });
        }
      }
    }
  }

  // Classic histograms per (job, instance), sharing one simulation per histogram; api/10.0.0.1
  // resets now and then.
  std::vector<double> bounds;
  for (const auto& [b, name] : DiffBuckets()) bounds.push_back(b);
  for (const std::string& job : jobs) {
    for (const std::string& inst : instances) {
      const uint64_t hs = Mix(seed, 1000 + ++salt);
      const double reset_p = (job == "api" && inst == "10.0.0.1:8080") ? 1.0 / 200 : 0;
      const double slowness = job == "api" ? 0.05 : 0.2;
      auto columns = [=] {
        SplitMix rng(hs);
        return Histogram(hs, ScrapeTimes(rng, start, end, 15000), bounds, 8, slowness, reset_p);
      };
      for (size_t b = 0; b < bounds.size(); ++b) {
        out.push_back({prom::Labels{{"__name__", "http_request_duration_seconds_bucket"},
                                    {"job", job},
                                    {"instance", inst},
                                    {"le", DiffBuckets()[b].second}},
                       [=] { return columns().buckets[b]; }});
      }
      out.push_back(
          {prom::Labels{
               {"__name__", "http_request_duration_seconds_sum"}, {"job", job}, {"instance", inst}},
           [=] { return columns().sum; }});
      out.push_back({prom::Labels{{"__name__", "http_request_duration_seconds_count"},
                                  {"job", job},
                                  {"instance", inst}},
                     [=] { return columns().count; }});
    }
  }
  // A histogram without a +Inf bucket and one whose buckets are not monotonic.
  for (const std::string le : {"0.1", "1", "10"}) {
    add(prom::Labels{{"__name__", "broken_histogram_bucket"}, {"case", "no_inf"}, {"le", le}},
        [=](SplitMix& rng) {
          return Counter(rng, ScrapeTimes(rng, start, end, 15000), std::stod(le), 0, 0);
        });
  }
  for (const std::string le : {"0.1", "1", "10", "+Inf"}) {
    add(
        prom::Labels{
            {"__name__", "broken_histogram_bucket"}, {"case", "non_monotonic"}, {"le", le}},
        [=](SplitMix& rng) {
          const double r = le == "1" ? 3.0 : le == "0.1" ? 1.0 : le == "10" ? 2.0 : 4.0;
          return Counter(rng, ScrapeTimes(rng, start, end, 15000), r, 0, 0);
        });
  }

  // Buckets with the same bound written twice, an unparsable bound, and only a +Inf bucket.
  for (const auto& [hcase, le, rate] :
       std::vector<std::tuple<std::string, std::string, double>>{{"dup_le", "1", 1},
                                                                 {"dup_le", "1.0", 2},
                                                                 {"dup_le", "+Inf", 4},
                                                                 {"bad_le", "abc", 1},
                                                                 {"bad_le", "1", 2},
                                                                 {"bad_le", "+Inf", 3},
                                                                 {"only_inf", "+Inf", 2}}) {
    add(prom::Labels{{"__name__", "broken_histogram_bucket"}, {"case", hcase}, {"le", le}},
        [=, rate = rate](SplitMix& rng) {
          return Counter(rng, ScrapeTimes(rng, start, end, 15000), rate, 0, 0);
        });
  }

  // Gauges with negative values.
  for (const std::string& inst : instances) {
    for (const std::string sensor : {"cpu", "gpu", "ambient"}) {
      const double center = sensor == "ambient" ? -12.5 : sensor == "cpu" ? 45 : 3;
      add(
          prom::Labels{
              {"__name__", "node_temperature_celsius"}, {"instance", inst}, {"sensor", sensor}},
          [=](SplitMix& rng) {
            return Gauge(rng, ScrapeTimes(rng, start, end, 15000), center, 4);
          });
    }
  }
  // Values in [-1, 1] for the trigonometric functions, and some beyond.
  for (const std::string& inst : instances) {
    add(prom::Labels{{"__name__", "ratio_gauge"}, {"instance", inst}}, [=](SplitMix& rng) {
      std::vector<PromqlSample> s;
      for (int64_t t : ScrapeTimes(rng, start, end, 15000)) {
        s.push_back({t, std::round((rng.Uniform() * 2 - 1) * 1e4) / 1e4});
      }
      if (inst == "10.0.0.3:8080") {
        for (size_t i = 0; i < s.size(); i += 7) s[i].v = (i % 2 ? 2.5 : -3);
      }
      return s;
    });
  }

  // NaN and infinities.
  for (const std::string kind : {"nan", "inf", "neginf", "mixed"}) {
    add(prom::Labels{{"__name__", "special_values"}, {"kind", kind}}, [=](SplitMix& rng) {
      std::vector<PromqlSample> s;
      int i = 0;
      for (int64_t t : ScrapeTimes(rng, start, end, 15000)) {
        double v = std::round(rng.Uniform() * 1000) / 10;
        if (kind == "nan" && i % 10 == 3) v = std::nan("");
        if (kind == "inf" && i % 13 == 5) v = INFINITY;
        if (kind == "neginf" && i % 17 == 2) v = -INFINITY;
        if (kind == "mixed") {
          const double cycle[] = {1, std::nan(""), INFINITY, -INFINITY, -1, 0, 2.5};
          v = cycle[i % 7];
        }
        s.push_back({t, v});
        ++i;
      }
      return s;
    });
  }

  // Staleness and gaps.
  add(prom::Labels{{"__name__", "stale_series"}, {"case", "marker"}}, [=](SplitMix& rng) {
    return Cut(Gauge(rng, ScrapeTimes(rng, start, end, 15000), 10, 1), start + 30 * kMin,
               start + 45 * kMin, true);
  });
  add(prom::Labels{{"__name__", "stale_series"}, {"case", "gap_short"}}, [=](SplitMix& rng) {
    return Cut(Gauge(rng, ScrapeTimes(rng, start, end, 15000), 20, 1), start + 50 * kMin,
               start + 53 * kMin, false);
  });
  add(prom::Labels{{"__name__", "stale_series"}, {"case", "gap_long"}}, [=](SplitMix& rng) {
    return Cut(Gauge(rng, ScrapeTimes(rng, start, end, 15000), 30, 1), start + 70 * kMin,
               start + 80 * kMin, false);
  });
  add(prom::Labels{{"__name__", "stale_series"}, {"case", "ends"}}, [=](SplitMix& rng) {
    return Cut(Gauge(rng, ScrapeTimes(rng, start, end, 15000), 40, 1), start + 100 * kMin, end,
               true);
  });
  add(prom::Labels{{"__name__", "stale_series"}, {"case", "starts_late"}}, [=](SplitMix& rng) {
    return Gauge(rng, ScrapeTimes(rng, start + 130 * kMin, end, 15000), 50, 1);
  });
  add(prom::Labels{{"__name__", "stale_counter"}, {"case", "marker"}}, [=](SplitMix& rng) {
    return Cut(Counter(rng, ScrapeTimes(rng, start, end, 15000), 3, 0, 0), start + 30 * kMin,
               start + 45 * kMin, true);
  });

  // Info metrics for joins: one per target; api/10.0.0.2 changes version at 1h (the old series
  // goes stale).
  for (const std::string& job : jobs) {
    for (const std::string& inst : instances) {
      const bool upgrade = job == "api" && inst == "10.0.0.2:8080";
      add(prom::Labels{{"__name__", "service_info"},
                       {"job", job},
                       {"instance", inst},
                       {"version", "1.2.3"},
                       {"team", job == "api" ? "backend" : "frontend"}},
          [=](SplitMix& rng) {
            std::vector<PromqlSample> s;
            for (int64_t t : ScrapeTimes(rng, start, end, 15000)) s.push_back({t, 1});
            return upgrade ? Cut(std::move(s), start + 60 * kMin, end, true) : s;
          });
      if (upgrade) {
        add(prom::Labels{{"__name__", "service_info"},
                         {"job", job},
                         {"instance", inst},
                         {"version", "1.3.0"},
                         {"team", "backend"}},
            [=](SplitMix& rng) {
              std::vector<PromqlSample> s;
              for (int64_t t : ScrapeTimes(rng, start + 60 * kMin, end, 15000)) s.push_back({t, 1});
              return s;
            });
      }
      add(prom::Labels{{"__name__", "up"}, {"job", job}, {"instance", inst}}, [=](SplitMix& rng) {
        std::vector<PromqlSample> s;
        for (int64_t t : ScrapeTimes(rng, start, end, 15000)) {
          s.push_back({t, rng.Uniform() < 0.05 ? 0.0 : 1.0});
        }
        return s;
      });
    }
  }
  // Two info series per job value "api": group_left against them is many-to-many.
  for (const std::string zone : {"a", "b"}) {
    add(prom::Labels{{"__name__", "dup_info"}, {"job", "api"}, {"zone", zone}}, [=](SplitMix& rng) {
      std::vector<PromqlSample> s;
      for (int64_t t : ScrapeTimes(rng, start, end, 15000)) s.push_back({t, 1});
      return s;
    });
  }
  add(prom::Labels{{"__name__", "dup_info"}, {"job", "web"}, {"zone", "a"}}, [=](SplitMix& rng) {
    std::vector<PromqlSample> s;
    for (int64_t t : ScrapeTimes(rng, start, end, 15000)) s.push_back({t, 2});
    return s;
  });

  // Label values that need escaping in JSON and in PromQL strings.
  const std::vector<std::string> paths = {"a\"quoted\"b",      "back\\slash", "new\nline",
                                          "unicode ünïcødé ✓", "tab\there",   "{braces}=,",
                                          "/api/v1/x"};
  for (size_t i = 0; i < paths.size(); ++i) {
    add(prom::Labels{{"__name__", "escape_metric"}, {"path", paths[i]}}, [=](SplitMix& rng) {
      return Gauge(rng, ScrapeTimes(rng, start, end, 15000), static_cast<double>(i), 0.5);
    });
  }

  // Integer gauges with many ties (count_values, quantile, group).
  for (const std::string& job : jobs) {
    for (const std::string& inst : instances) {
      for (const std::string queue : {"q1", "q2"}) {
        add(
            prom::Labels{
                {"__name__", "queue_length"}, {"job", job}, {"instance", inst}, {"queue", queue}},
            [=](SplitMix& rng) {
              std::vector<PromqlSample> s;
              for (int64_t t : ScrapeTimes(rng, start, end, 15000)) {
                s.push_back({t, static_cast<double>(rng.Next() % 6)});
              }
              return s;
            });
      }
    }
  }

  // Unix times as values, for the date functions: epoch, a leap day, before 1970, fractions, far
  // future; and the current-ish time moving with the samples.
  const std::vector<std::pair<std::string, double>> dates = {{"epoch", 0},
                                                             {"leap_day", 951782400},
                                                             {"before_1970", -31536000.5},
                                                             {"frac", 1700000000.5},
                                                             {"y2100", 4102444800},
                                                             {"end_of_feb", 1709251199},
                                                             {"new_year", 1704067199.999}};
  for (const auto& [name, value] : dates) {
    add(prom::Labels{{"__name__", "date_input"}, {"case", name}}, [=](SplitMix& rng) {
      std::vector<PromqlSample> s;
      for (int64_t t : ScrapeTimes(rng, start, end, 60000)) s.push_back({t, value});
      return s;
    });
  }
  add(prom::Labels{{"__name__", "date_input"}, {"case", "moving"}}, [=](SplitMix& rng) {
    std::vector<PromqlSample> s;
    for (int64_t t : ScrapeTimes(rng, start, end, 60000)) {
      s.push_back({t, static_cast<double>(t) / 1000 + 86400.0 * 40 * ((t - start) / 3600000)});
    }
    return s;
  });

  // Sparse series: every 2.5 min (inside the lookback) and every 7 min (beyond it).
  for (const auto& [name, every] :
       std::vector<std::pair<std::string, int64_t>>{{"2m30s", 150000}, {"7m", 420000}}) {
    add(prom::Labels{{"__name__", "sparse_gauge"}, {"every", name}},
        [=](SplitMix& rng) { return Gauge(rng, ScrapeTimes(rng, start, end, every), 100, 10); });
  }
  // Constant and linear series (holt_winters, deriv, predict_linear are exact on them).
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, double>>{{"zero", 0}, {"fortytwo", 42}, {"neg", -7.5}}) {
    add(prom::Labels{{"__name__", "constant_gauge"}, {"value", name}}, [=](SplitMix& rng) {
      std::vector<PromqlSample> s;
      for (int64_t t : ScrapeTimes(rng, start, end, 15000, false)) s.push_back({t, value});
      return s;
    });
  }
  add(prom::Labels{{"__name__", "linear_gauge"}}, [=](SplitMix&) {
    std::vector<PromqlSample> s;
    for (int64_t t = start; t < end; t += 15000) {
      s.push_back({t, 0.5 * static_cast<double>(t - start) / 1000 - 300});
    }
    return s;
  });
  // A counter scraped exactly every 15 s from the start (no phase, no jitter), so that samples
  // sit exactly on range window boundaries; it resets twice.
  add(prom::Labels{{"__name__", "aligned_counter_total"}}, [=](SplitMix& rng) {
    std::vector<int64_t> times;
    for (int64_t t = start; t < end; t += 15000) times.push_back(t);
    std::vector<PromqlSample> s = Counter(rng, times, 2, 0, 0);
    double base = 0;
    for (PromqlSample& x : s) {
      if (x.t == start + 50 * kMin || x.t == start + 125 * kMin) base = x.v - 1;
      x.v -= base;
    }
    return s;
  });
  // Values whose decimal forms are awkward (count_values labels, JSON).
  const std::vector<std::pair<std::string, double>> tricky = {{"big", 1e21},
                                                              {"tiny", 1e-7},
                                                              {"third", 1.0 / 3},
                                                              {"sum", 0.1 + 0.2},
                                                              {"negzero", -0.0},
                                                              {"denormal", 5e-324},
                                                              {"max", 1.7976931348623157e308},
                                                              {"int", 123456789012345680000.0},
                                                              {"neg", -2.5e-10}};
  for (const auto& [name, value] : tricky) {
    add(prom::Labels{{"__name__", "tricky_values"}, {"case", name}}, [=](SplitMix& rng) {
      std::vector<PromqlSample> s;
      for (int64_t t : ScrapeTimes(rng, start, end, 30000)) s.push_back({t, value});
      return s;
    });
  }

  // A large counter, where float precision matters.
  add(prom::Labels{{"__name__", "big_counter_total"}}, [=](SplitMix& rng) {
    return Counter(rng, ScrapeTimes(rng, start, end, 15000), 1e6, 0, 1e15);
  });
  // A single-sample series and a two-sample series.
  add(prom::Labels{{"__name__", "few_samples"}, {"n", "1"}}, [=](SplitMix&) {
    return std::vector<PromqlSample>{{start + 61 * kMin, 5}};
  });
  add(prom::Labels{{"__name__", "few_samples"}, {"n", "2"}}, [=](SplitMix&) {
    return std::vector<PromqlSample>{{start + 61 * kMin, 5}, {start + 62 * kMin, 8}};
  });
  return out;
}

// The benchmark's data set: `targets` scrape targets (jobs of 20 instances) of 50 series each,
// from `start_ms` for `duration_ms` at `interval_ms`: http_requests_total (4 methods x 4
// codes), a latency histogram for 2 handlers (10 buckets + +Inf, _sum, _count), service_info,
// up, process CPU and memory, and 4 queue depths.
inline std::vector<PromqlSeriesSpec> BenchSeries(int targets, int64_t start_ms, int64_t duration_ms,
                                                 int64_t interval_ms, uint64_t seed) {
  using namespace promql_data_internal;  // NOLINT(build/namespaces)
  const int64_t start = start_ms, end = start_ms + duration_ms;
  std::vector<PromqlSeriesSpec> out;
  out.reserve(static_cast<size_t>(targets) * 50);
  const std::vector<std::pair<double, std::string>> buckets = {
      {0.005, "0.005"}, {0.01, "0.01"}, {0.025, "0.025"},  {0.05, "0.05"},
      {0.1, "0.1"},     {0.25, "0.25"}, {0.5, "0.5"},      {1, "1"},
      {2.5, "2.5"},     {5, "5"},       {INFINITY, "+Inf"}};
  std::vector<double> bounds;
  for (const auto& [b, name] : buckets) bounds.push_back(b);
  uint64_t salt = 0;
  for (int target = 0; target < targets; ++target) {
    const std::string job = absl::StrCat("job-", target / 20);
    const std::string inst = absl::StrCat("10.1.", target / 20, ".", target % 20, ":9090");
    auto add = [&](prom::Labels labels, std::function<std::vector<PromqlSample>(SplitMix&)> f) {
      const uint64_t s = Mix(seed, ++salt);
      out.push_back({std::move(labels), [s, f = std::move(f)] {
                       SplitMix rng(s);
                       return f(rng);
                     }});
    };
    auto times = [=](SplitMix& rng) { return ScrapeTimes(rng, start, end, interval_ms); };
    for (const std::string method : {"GET", "POST", "PUT", "DELETE"}) {
      for (const std::string code : {"200", "201", "404", "500"}) {
        add(prom::Labels{{"__name__", "http_requests_total"},
                         {"job", job},
                         {"instance", inst},
                         {"method", method},
                         {"code", code}},
            [=](SplitMix& rng) {
              return Counter(rng, times(rng), code == "200" ? 20 : 1, 1.0 / 2000, 0);
            });
      }
    }
    for (const std::string handler : {"/api", "/static"}) {
      const uint64_t hs = Mix(seed, 1'000'000 + ++salt);
      auto columns = [=] {
        SplitMix rng(hs);
        return Histogram(hs, times(rng), bounds, 4, handler == "/api" ? 0.05 : 0.01, 0);
      };
      for (size_t b = 0; b < bounds.size(); ++b) {
        out.push_back({prom::Labels{{"__name__", "http_request_duration_seconds_bucket"},
                                    {"job", job},
                                    {"instance", inst},
                                    {"handler", handler},
                                    {"le", buckets[b].second}},
                       [=] { return columns().buckets[b]; }});
      }
      out.push_back({prom::Labels{{"__name__", "http_request_duration_seconds_sum"},
                                  {"job", job},
                                  {"instance", inst},
                                  {"handler", handler}},
                     [=] { return columns().sum; }});
      out.push_back({prom::Labels{{"__name__", "http_request_duration_seconds_count"},
                                  {"job", job},
                                  {"instance", inst},
                                  {"handler", handler}},
                     [=] { return columns().count; }});
    }
    add(prom::Labels{{"__name__", "service_info"},
                     {"job", job},
                     {"instance", inst},
                     {"version", absl::StrCat("1.", target % 3, ".0")},
                     {"team", absl::StrCat("team-", target % 7)}},
        [=](SplitMix& rng) {
          std::vector<PromqlSample> s;
          for (int64_t t : times(rng)) s.push_back({t, 1});
          return s;
        });
    add(prom::Labels{{"__name__", "up"}, {"job", job}, {"instance", inst}}, [=](SplitMix& rng) {
      std::vector<PromqlSample> s;
      for (int64_t t : times(rng)) s.push_back({t, 1});
      return s;
    });
    add(prom::Labels{{"__name__", "process_cpu_seconds_total"}, {"job", job}, {"instance", inst}},
        [=](SplitMix& rng) {
          std::vector<PromqlSample> s = Counter(rng, times(rng), 50, 0, 0);
          for (PromqlSample& x : s) x.v /= 100;
          return s;
        });
    add(
        prom::Labels{
            {"__name__", "process_resident_memory_bytes"}, {"job", job}, {"instance", inst}},
        [=](SplitMix& rng) {
          std::vector<PromqlSample> s = Gauge(rng, times(rng), 2e8, 1e6);
          for (PromqlSample& x : s) x.v = std::round(x.v / 4096) * 4096;
          return s;
        });
    for (int q = 0; q < 4; ++q) {
      add(prom::Labels{{"__name__", "queue_depth"},
                       {"job", job},
                       {"instance", inst},
                       {"queue", absl::StrCat("q", q)}},
          [=](SplitMix& rng) { return Gauge(rng, times(rng), 10 * q, 3); });
    }
  }
  return out;
}

// Writes `specs` as blocks of `block_range_ms` (aligned to multiples of it) under `dir` (created
// when missing), each series' samples in XOR chunks of at most 120 samples. Returns the number
// of samples written. Internal on I/O errors.
inline absl::StatusOr<int64_t> WritePromqlBlocks(const std::string& dir,
                                                 std::vector<PromqlSeriesSpec> specs,
                                                 int64_t block_range_ms) {
  std::sort(specs.begin(), specs.end(), [](const PromqlSeriesSpec& a, const PromqlSeriesSpec& b) {
    return a.labels < b.labels;
  });
  // Block start -> its series.
  std::vector<std::pair<int64_t, std::vector<tsdb::SeriesChunks>>> blocks;
  auto block_for = [&](int64_t t) -> std::vector<tsdb::SeriesChunks>& {
    const int64_t b = t >= 0 ? t / block_range_ms * block_range_ms
                             : -((-t + block_range_ms - 1) / block_range_ms) * block_range_ms;
    for (auto& [start, series] : blocks) {
      if (start == b) return series;
    }
    blocks.push_back({b, {}});
    return blocks.back().second;
  };
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", dir, ": ", ec.message()));
  int64_t total = 0;
  for (const PromqlSeriesSpec& spec : specs) {
    const std::vector<PromqlSample> samples = spec.make();
    total += static_cast<int64_t>(samples.size());
    size_t i = 0;
    while (i < samples.size()) {
      std::vector<tsdb::SeriesChunks>& series = block_for(samples[i].t);
      if (series.empty() || !(series.back().labels == spec.labels)) {
        series.push_back({spec.labels, {}});
      }
      const int64_t block_end =
          (samples[i].t >= 0 ? samples[i].t / block_range_ms + 1
                             : -((-samples[i].t + block_range_ms - 1) / block_range_ms) + 1) *
          block_range_ms;
      tsdb::XorChunk chunk;
      while (i < samples.size() && samples[i].t < block_end &&
             chunk.num_samples() < tsdb::XorChunk::kTargetSamples) {
        absl::Status s = chunk.Append(samples[i].t, samples[i].v);
        if (!s.ok()) return s;
        ++i;
      }
      auto bytes = std::make_shared<const std::string>(chunk.bytes());
      tsdb::ChunkView view;
      view.min_time = chunk.min_time();
      view.max_time = chunk.max_time();
      view.bytes = *bytes;
      view.owner = bytes;
      series.back().chunks.push_back(std::move(view));
    }
  }
  for (auto& [start, series] : blocks) {
    absl::StatusOr<tsdb::BlockMeta> meta =
        tsdb::WriteBlock(dir, start, start + block_range_ms, series, 1, {}, start + block_range_ms);
    if (!meta.ok()) return meta.status();
  }
  return total;
}

}  // namespace sextant::bench
