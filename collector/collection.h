// The collection pass: runs every source in order, adds the collector's own per-source status
// series, and publishes the result as an immutable snapshot that /metrics serves and the
// shippers send. A thread repeats the pass every interval.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "collector/source.h"
#include "common/clock.h"
#include "prom/text_format.h"

namespace sextant::collector {

// One completed pass. Immutable once published; shared with scrapes and shippers.
struct Snapshot {
  absl::Time time;  // when the pass started; the timestamp its samples are shipped with
  std::vector<prom::MetricFamily> families;
  size_t samples = 0;
};

// A pass starting this close to its tick is stamped with the tick time.
inline constexpr absl::Duration kTimestampTolerance = absl::Milliseconds(25);

struct CollectionOptions {
  // Time between pass starts (collector.interval). Default 5 s.
  absl::Duration interval = absl::Seconds(5);
  // The pods the kubelet source found, asked after each source has run so that the sources
  // after the kubelet's see this pass's pods. Empty function (the default): no kubelet, sources
  // see null.
  std::function<std::shared_ptr<const PodIndex>()> pods;
};

// Owns the sources and the pass thread. RunPass is the tick (tests call it with simulated time);
// Start/Stop run it every interval, aligned to multiples of the interval since Start, skipping
// ticks a slow pass overran. Thread-safe: latest() and the listeners may be used from any
// thread; RunPass runs on one thread at a time.
class Collection {
 public:
  Collection(const CollectionOptions& options, Clock& clock,
             std::vector<std::unique_ptr<Source>> sources);
  ~Collection();

  // Called with each new snapshot on the pass thread, in the order added (the shippers' Enqueue).
  // Add listeners before Start.
  void AddListener(std::function<void(const Snapshot&)> listener);

  // Runs every source once at `now` and publishes the snapshot (also returned). The snapshot
  // holds what each source appended even when it failed, and the sextant_collector_* series:
  // per source its duration, success (0/1) and error count, and the pass's duration, count and
  // series. A failing source logs one line when it starts failing or its error changes, and one
  // when it recovers. Never fails.
  std::shared_ptr<const Snapshot> RunPass(absl::Time now);

  // The last published snapshot; null before the first pass.
  std::shared_ptr<const Snapshot> latest() const;

  // Runs the first pass at once, then every interval, on a thread. Stop() waits for a running
  // pass to end.
  void Start();
  void Stop();

 private:
  struct SourceState {
    uint64_t errors = 0;
    std::string last_error;  // "" while succeeding
  };
  void Loop();

  const CollectionOptions options_;
  Clock& clock_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<SourceState> states_;  // per source; touched only by RunPass
  uint64_t passes_ = 0;              // touched only by RunPass
  absl::Mutex run_mu_;               // one RunPass at a time

  mutable absl::Mutex mu_;
  std::shared_ptr<const Snapshot> latest_ ABSL_GUARDED_BY(mu_);
  std::vector<std::function<void(const Snapshot&)>> listeners_ ABSL_GUARDED_BY(mu_);

  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace sextant::collector
