// The store as the server uses it: a head (recent samples in memory) behind a write-ahead log,
// plus immutable blocks on disk, with compaction and retention. Appends are acknowledged only
// once their records are in the WAL; a restart replays the WAL (checkpoint first) into the head.
//
// Directory layout (as Prometheus's):
//   <dir>/wal/00000012, checkpoint.00000011/   the write-ahead log (wal.h)
//   <dir>/<ULID>/{meta.json,index,chunks/}     one block per time range (block.h)
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "aggregator/tsdb/block.h"
#include "aggregator/tsdb/head.h"
#include "aggregator/tsdb/record.h"
#include "aggregator/tsdb/types.h"
#include "aggregator/tsdb/wal.h"
#include "common/clock.h"
#include "common/config.h"
#include "prom/labels.h"
#include "prom/matcher.h"
#include "prometheus/collectable.h"

namespace sextant::tsdb {

struct DbOptions {
  // The data directory (created when missing). Required.
  std::string dir;
  // WAL fsync policy and, for kInterval, how often the background thread syncs. Default
  // interval, 1 s.
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  absl::Duration fsync_interval = absl::Seconds(1);
  // Blocks entirely older than this (measured from the newest block's end) are deleted.
  // Default 15 d; zero = keep forever.
  absl::Duration retention_time = absl::Hours(24 * 15);
  // The oldest blocks are deleted while blocks plus WAL pass this many bytes. 0 = unlimited.
  int64_t retention_bytes = 0;
  // The head is cut into blocks of this range (ms), once it spans 1.5 times it. Default 2 h.
  int64_t block_range_ms = 2 * 3600 * 1000;
  // Creating a series past this many fails (HTTP 429 upstream). 0 = unlimited. Default 0.
  int64_t max_active_series = 0;
  // WAL segment size. Default 128 MiB.
  int64_t wal_segment_bytes = int64_t{128} << 20;
  // Snappy-compress WAL records (as Prometheus does by default). Default on.
  bool wal_compression = true;
  // Samples more than this far past the clock's now are refused (a sender writing seconds or
  // nanoseconds for milliseconds would otherwise push every other series out of the head's
  // window). Default 10 min.
  int64_t max_future_ms = 10 * 60 * 1000;
  // How often the background thread tries compaction and retention. Default 1 min.
  absl::Duration compaction_interval = absl::Minutes(1);
  // Time source for the background loops and block ULIDs. Default RealClock.
  Clock* clock = nullptr;
};

// What one commit did.
struct CommitResult {
  int64_t appended = 0;
  RejectCounts rejected;
};

// A snapshot of the store's state, for metrics and tests.
struct DbStats {
  int64_t head_series = 0;
  int64_t head_chunks = 0;
  int64_t head_memory_bytes = 0;
  int64_t head_chunk_bytes = 0;
  int64_t head_min_time = 0;
  int64_t head_max_time = 0;
  int64_t blocks = 0;
  int64_t blocks_bytes = 0;
  int64_t samples_appended = 0;
  int64_t wal_fsyncs = 0;
  double wal_last_fsync_seconds = 0;
};

class Db;

// Collects series and samples for one commit. Not thread-safe: one request's handler owns it.
class Appender {
 public:
  explicit Appender(Db& db) : db_(db) {}

  // The ref for `labels`, creating the series when new. ResourceExhausted past the active
  // series limit.
  absl::StatusOr<SeriesRef> GetOrCreate(const prom::Labels& labels);
  // The same for sorted, unique, validated labels borrowed from a decoded request; builds the
  // label set only when the series is new.
  absl::StatusOr<SeriesRef> GetOrCreate(const prom::LabelView* labels, size_t n);
  void Add(SeriesRef ref, int64_t t, double v) {
    samples_.push_back({ref, t, v, ref == last_ref_ ? last_handle_ : nullptr});
  }
  void AddMetadata(RefMetadata m) { metadata_.push_back(std::move(m)); }
  size_t pending() const { return samples_.size(); }

  // Validates the samples (out-of-order and out-of-bounds ones are dropped and counted), writes
  // the records to the WAL and then makes them visible to queries. Internal when the WAL write
  // failed: then nothing of this commit is visible nor acknowledged. The appender is empty after.
  absl::StatusOr<CommitResult> Commit();

 private:
  Db& db_;
  // The head generation when the first handle was taken, and the last series looked up.
  bool have_generation_ = false;
  uint32_t generation_ = 0;
  SeriesRef last_ref_ = 0;
  void* last_handle_ = nullptr;
  std::vector<PendingSample> samples_;
  std::vector<RefMetadata> metadata_;
};

// Metric family metadata as received (the newest wins).
struct MetricMetadata {
  uint8_t type = 0;  // prom::RemoteWriteMetadata::Type's number
  std::string help;
  std::string unit;
};

// The store. Open() recovers it from disk; Start() runs the WAL fsync and compaction loops;
// Stop() ends them. Thread-safe: appends, queries and the loops run concurrently.
class Db {
 public:
  // Creates or opens `options.dir`: removes leftover temporary block directories and blocks
  // that a finished compaction replaced, opens the blocks, replays the WAL checkpoint and
  // segments into the head (a damaged tail is cut at the last good record, logged), and opens a
  // new WAL segment. Logs replay progress. Errors name the path; FailedPrecondition when
  // another process has the directory open.
  static absl::StatusOr<std::unique_ptr<Db>> Open(const DbOptions& options);
  ~Db();  // Stop(), then a final WAL sync.

  void Start();
  void Stop();

  Appender NewAppender() { return Appender(*this); }

  // Series matching `matchers` with samples in [mint, maxt] (ms, inclusive), from the blocks and
  // the head, merged, sorted by labels. Consistent under concurrent appends and compaction.
  absl::StatusOr<std::vector<SeriesChunks>> Select(const std::vector<prom::Matcher>& matchers,
                                                   int64_t mint, int64_t maxt) const;
  // Label names / values of series matching `matchers` (none = all) with data overlapping
  // [mint, maxt]; sorted, unique.
  absl::StatusOr<std::vector<std::string>> LabelNames(const std::vector<prom::Matcher>& matchers,
                                                      int64_t mint, int64_t maxt) const;
  absl::StatusOr<std::vector<std::string>> LabelValues(absl::string_view name,
                                                       const std::vector<prom::Matcher>& matchers,
                                                       int64_t mint, int64_t maxt) const;
  // Metadata by metric family name; `metric` empty = all.
  std::map<std::string, MetricMetadata> Metadata(absl::string_view metric) const;

  // One round of the background work, for tests and the loop: cuts the head's oldest range into
  // a block when the head spans more than 1.5 block ranges (then truncates the head and
  // checkpoints the WAL), compacts blocks, applies retention.
  absl::Status CompactOnce();
  // Cuts every whole block range of the head that ends at or before `maxt` into blocks now
  // (tests, tooling).
  absl::Status CutHeadBefore(int64_t maxt);
  absl::Status SyncWal();

  DbStats Stats() const;
  const std::string& dir() const { return options_.dir; }
  // The store's metrics (sextant_tsdb_*), read when collected; add it to the process's
  // SelfMetrics. It refers to this Db: stop serving it before the Db goes.
  std::shared_ptr<prometheus::Collectable> metrics() const { return collectable_; }

 private:
  friend class Appender;
  class Collector;
  using BlockList = std::vector<std::shared_ptr<Block>>;

  explicit Db(const DbOptions& options);
  absl::Status Recover();
  absl::Status OpenBlocks();
  absl::Status ReplayWal();
  absl::StatusOr<CommitResult> Commit(std::vector<PendingSample>& samples,
                                      std::vector<RefMetadata>& metadata,
                                      std::optional<uint32_t> generation);
  absl::StatusOr<SeriesRef> GetOrCreate(const prom::Labels& labels);
  absl::StatusOr<SeriesRef> GetOrCreate(const prom::LabelView* labels, size_t n, void** handle);
  absl::Status CutBlock(int64_t mint, int64_t maxt);
  absl::Status CheckpointWal(int64_t mint);
  absl::Status MergeBlocks();
  absl::Status ApplyRetention();
  std::shared_ptr<const BlockList> blocks() const;
  void SetBlocks(std::shared_ptr<const BlockList> blocks);
  void FsyncLoop();
  void CompactionLoop();

  DbOptions options_;
  Clock* clock_;
  Head head_;
  std::unique_ptr<Wal> wal_;
  std::shared_ptr<prometheus::Collectable> collectable_;

  // Serializes commits (validate, log, apply) so the WAL's order is the head's order.
  absl::Mutex commit_mu_;
  // Commits refuse samples older than this (ms): the range already cut into blocks.
  int64_t min_valid_ms_ ABSL_GUARDED_BY(commit_mu_) = kMinTime;
  // Serializes CompactOnce / CutHeadBefore.
  absl::Mutex compact_mu_;
  // WAL ref -> head ref for series records replayed twice (a series re-created under a new ref
  // before a crash); checkpoints rewrite the old refs' samples, then it is cleared.
  absl::flat_hash_map<SeriesRef, SeriesRef> replay_ref_map_ ABSL_GUARDED_BY(compact_mu_);
  mutable absl::Mutex blocks_mu_;
  std::shared_ptr<const BlockList> blocks_ ABSL_GUARDED_BY(blocks_mu_);

  mutable absl::Mutex metadata_mu_;
  std::map<std::string, MetricMetadata, std::less<>> metadata_ ABSL_GUARDED_BY(metadata_mu_);

  // Counters for the metrics.
  std::atomic<int64_t> samples_appended_{0};
  std::atomic<int64_t> rejected_out_of_order_{0};
  std::atomic<int64_t> rejected_duplicate_{0};
  std::atomic<int64_t> rejected_out_of_bounds_{0};
  std::atomic<int64_t> rejected_unknown_series_{0};
  std::atomic<int64_t> rejected_future_{0};
  std::atomic<int64_t> wal_corruptions_{0};
  std::atomic<int64_t> wal_write_failures_{0};
  std::atomic<int64_t> head_truncations_{0};
  std::atomic<int64_t> checkpoints_{0};
  std::atomic<int64_t> compactions_{0};
  std::atomic<int64_t> compaction_failures_{0};
  std::atomic<int64_t> retention_deleted_{0};
  absl::Notification stop_;
  std::thread fsync_thread_;
  std::thread compaction_thread_;
  bool started_ = false;
  int lock_fd_ = -1;  // flock'ed <dir>/lock
};

}  // namespace sextant::tsdb
