#include "collector/collection.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "common/logging.h"

namespace sextant::collector {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Collection::Collection(const CollectionOptions& options, Clock& clock,
                       std::vector<std::unique_ptr<Source>> sources)
    : options_(options), clock_(clock), sources_(std::move(sources)), states_(sources_.size()) {}

Collection::~Collection() { Stop(); }

void Collection::AddListener(std::function<void(const Snapshot&)> listener) {
  absl::MutexLock lock(&mu_);
  listeners_.push_back(std::move(listener));
}

std::shared_ptr<const Snapshot> Collection::RunPass(absl::Time now) {
  absl::MutexLock run_lock(&run_mu_);
  const auto pass_start = std::chrono::steady_clock::now();
  MetricSet set;
  PassContext ctx;
  ctx.now = now;
  if (options_.pods) ctx.pods = options_.pods();

  struct Result {
    double seconds;
    bool ok;
  };
  std::vector<Result> results;
  results.reserve(sources_.size());
  for (size_t i = 0; i < sources_.size(); ++i) {
    Source& source = *sources_[i];
    const auto start = std::chrono::steady_clock::now();
    absl::Status status = source.Collect(ctx, set);
    results.push_back({SecondsSince(start), status.ok()});
    if (options_.pods) ctx.pods = options_.pods();

    SourceState& state = states_[i];
    if (status.ok()) {
      if (!state.last_error.empty()) {
        LogInfo("collector source recovered", {{"source", source.name()}});
        state.last_error.clear();
      }
      continue;
    }
    ++state.errors;
    std::string error(status.message());
    if (error.empty()) error = std::string(absl::StatusCodeToString(status.code()));
    if (error != state.last_error) {
      LogWarn("collector source failed", {{"source", source.name()}, {"err", status}});
      state.last_error = std::move(error);
    }
  }

  ++passes_;
  for (size_t i = 0; i < sources_.size(); ++i) {
    const std::string name(sources_[i]->name());
    set.Gauge("sextant_collector_source_duration_seconds",
              "Seconds the source took in the last collection pass.", {{"source", name}},
              results[i].seconds);
    set.Gauge("sextant_collector_source_success",
              "Whether the source succeeded in the last collection pass (1) or failed (0).",
              {{"source", name}}, results[i].ok ? 1 : 0);
    set.Counter("sextant_collector_source_errors_total",
                "Collection passes in which the source failed.", {{"source", name}},
                static_cast<double>(states_[i].errors));
  }
  set.Counter("sextant_collector_passes_total", "Collection passes run.", {},
              static_cast<double>(passes_));
  if (set.duplicates() > 0) {
    LogWarn("collector dropped duplicate series", {{"count", set.duplicates()}});
  }
  // The series count and the pass duration include themselves: +2.
  set.Gauge("sextant_collector_series", "Series exported by the last collection pass.", {},
            static_cast<double>(set.sample_count() + 2));
  set.Gauge("sextant_collector_pass_duration_seconds",
            "Seconds the last collection pass took, all sources together.", {},
            SecondsSince(pass_start));

  auto snapshot = std::make_shared<Snapshot>();
  snapshot->time = now;
  snapshot->samples = set.sample_count();
  snapshot->families = set.TakeFamilies();
  std::vector<std::function<void(const Snapshot&)>> listeners;
  {
    absl::MutexLock lock(&mu_);
    latest_ = snapshot;
    listeners = listeners_;
  }
  for (const auto& listener : listeners) listener(*snapshot);
  return snapshot;
}

std::shared_ptr<const Snapshot> Collection::latest() const {
  absl::MutexLock lock(&mu_);
  return latest_;
}

void Collection::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void Collection::Stop() {
  if (!thread_.joinable()) return;
  if (!stop_.HasBeenNotified()) stop_.Notify();
  thread_.join();
}

void Collection::Loop() {
  // Whole milliseconds, so that ticks are exact sample timestamps.
  const absl::Time start = absl::FromUnixMillis(absl::ToUnixMillis(clock_.Now()));
  int64_t tick = 0;
  while (!stop_.HasBeenNotified()) {
    // A pass that starts within the tolerance of its tick is stamped with the tick itself, as
    // Prometheus's scrape timestamp tolerance does: regular timestamps cost a storage chunk one
    // bit per sample instead of one or two bytes.
    const absl::Time scheduled = start + tick * options_.interval;
    const absl::Time woke = clock_.Now();
    RunPass(absl::AbsDuration(woke - scheduled) <= kTimestampTolerance ? scheduled : woke);
    const absl::Time now = clock_.Now();
    // The next tick after now; ticks a slow pass overran are skipped.
    int64_t next = static_cast<int64_t>(std::floor((now - start) / options_.interval)) + 1;
    if (next <= tick) next = tick + 1;
    tick = next;
    // Never more than one interval: a wall clock stepped back must not stall collection.
    const absl::Duration wait = std::min(start + tick * options_.interval - now, options_.interval);
    if (clock_.WaitFor(stop_, wait)) break;
  }
}

}  // namespace sextant::collector
