// The head: the in-memory, writable part of the store. It holds every active series (label set,
// interned strings, an inverted index of postings per label pair) and the recent samples as XOR
// chunks. Older chunks are cut into blocks by the DB, which then truncates the head.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aggregator/tsdb/types.h"
#include "prom/labels.h"
#include "prom/matcher.h"

namespace sextant::tsdb {

struct HeadOptions {
  // Creating a series past this many active series fails with ResourceExhausted. 0 = unlimited.
  // Default 0.
  int64_t max_active_series = 0;
  // Chunks never straddle a multiple of this (ms), so blocks of this range cut whole chunks.
  // Default 2 h.
  int64_t chunk_range_ms = 2 * 3600 * 1000;
};

// A sample on its way into the head.
struct PendingSample {
  SeriesRef ref = 0;
  int64_t t = 0;
  double v = 0;
  // The series' handle from Find, when no Truncate has run since (Generation() unchanged);
  // saves Validate a lookup. Else null.
  void* handle = nullptr;
};

// Why a sample was not appended. kDuplicate (same timestamp, same value bits) is not an error:
// the sample is already stored and is dropped silently, as Prometheus does.
enum class AppendOutcome {
  kOk,
  kDuplicate,
  kOutOfOrder,       // older than the series' newest sample
  kDuplicateDiffer,  // same timestamp as the newest sample, different value
  kOutOfBounds,      // older than the head's minimum valid time (already cut to a block)
  kUnknownSeries,    // no such ref
};

// Counts of rejected samples by reason, filled by Head::Validate.
struct RejectCounts {
  int64_t out_of_order = 0;
  int64_t duplicate_differ = 0;
  int64_t out_of_bounds = 0;
  int64_t unknown_series = 0;
  int64_t too_far_in_future = 0;  // counted by the DB, past its clock's now plus a grace
  int64_t total() const {
    return out_of_order + duplicate_differ + out_of_bounds + unknown_series + too_far_in_future;
  }
};

// The in-memory series and chunks. Owned by the DB. Appends and queries run concurrently without
// a global lock (series are striped; the postings index has its own reader/writer lock).
// Validate() followed by Apply() of the same batch must not interleave with another batch that
// touches the same series: the DB serializes commits. Thread-safe.
class Head {
 public:
  explicit Head(const HeadOptions& options);
  ~Head();
  Head(const Head&) = delete;
  Head& operator=(const Head&) = delete;

  // The ref of the series with these labels, creating it (and indexing it) when new;
  // `*created` says which. ResourceExhausted when creating would pass max_active_series.
  absl::StatusOr<SeriesRef> GetOrCreate(const prom::Labels& labels, bool* created);

  // The ref of the series with these sorted, unique labels (empty values skipped) whose
  // prom::Labels::HashOf is `hash`, or 0 when there is none. Creates nothing.
  // With `handle`, also returns the series' handle (see PendingSample::handle).
  SeriesRef Find(uint64_t hash, const prom::LabelView* labels, size_t n,
                 void** handle = nullptr) const;
  // Counts Truncate calls, each counted before it removes anything: handles taken while it was
  // g stay valid while it is still g.
  uint32_t Generation() const;

  // WAL replay: creates the series with the given ref, or, when a series with these labels
  // exists already, returns its ref (the caller maps `ref` onto it). Later refs handed out by
  // GetOrCreate are above every ref seen here. Ignores max_active_series.
  SeriesRef CreateWithRef(SeriesRef ref, const prom::Labels& labels);

  // Checks a batch against each series' newest sample and against earlier samples of the batch,
  // and removes (in place, order kept) the samples that cannot be appended, counting the reasons
  // in `rejected` (kDuplicate samples are removed but not counted). After this, Apply(batch)
  // appends everything left.
  // With `unlogged`, also lists (once per series, ever) the refs in the batch whose series record
  // is not in the WAL yet (created by GetOrCreate, not CreateWithRef), marking them logged: the
  // caller must write their records before the samples.
  // With `handles`, also returns one opaque series handle per kept sample, for Apply.
  void Validate(std::vector<PendingSample>& batch, RejectCounts* rejected,
                std::vector<SeriesRef>* unlogged = nullptr,
                std::vector<void*>* handles = nullptr) const;
  // Appends validated samples to their series' open chunks, cutting a new chunk at
  // XorChunk::kTargetSamples samples or at a chunk_range_ms boundary.
  // `handles` from the Validate of this batch skip the series lookups; they are valid only if no
  // Truncate ran in between (the DB holds its commit lock across both and Truncate).
  void Apply(const std::vector<PendingSample>& batch, const std::vector<void*>* handles = nullptr);
  // Validate + Apply of one sample (WAL replay, tests).
  AppendOutcome Append(SeriesRef ref, int64_t t, double v);

  // Series matching every matcher (none = all series) that have samples in [mint, maxt], sorted
  // by labels, with their chunks overlapping that range. A consistent snapshot per series: the
  // open chunk is copied, completed chunks are shared.
  std::vector<SeriesChunks> Select(const std::vector<prom::Matcher>& matchers, int64_t mint,
                                   int64_t maxt) const;
  // Label names (sorted) of series matching `matchers` (none = all series).
  std::vector<std::string> LabelNames(const std::vector<prom::Matcher>& matchers) const;
  // Values (sorted, non-empty) of `name` among series matching `matchers` (none = all).
  std::vector<std::string> LabelValues(absl::string_view name,
                                       const std::vector<prom::Matcher>& matchers) const;

  // Drops every chunk whose samples are all before `mint` and every series left without
  // samples, and refuses later samples before `mint` (kOutOfBounds).
  void Truncate(int64_t mint);
  // Whether a series with this ref is in the head (WAL checkpoints keep only those).
  bool HasSeries(SeriesRef ref) const;
  // The labels of a series, for WAL checkpoints; NotFound when absent.
  absl::StatusOr<prom::Labels> SeriesLabels(SeriesRef ref) const;

  // Oldest and newest sample timestamps in the head; kMaxTime / kMinTime when empty.
  int64_t MinTime() const;
  int64_t MaxTime() const;
  int64_t MinValidTime() const;
  int64_t NumSeries() const;
  int64_t NumChunks() const;
  // Encoded bytes of the head's chunks (completed and open), as a block would store them.
  int64_t ChunkBytes() const;
  // Bytes of memory the head holds (labels, strings, index, chunks), estimated.
  int64_t MemoryBytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sextant::tsdb
