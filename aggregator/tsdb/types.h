// What the storage hands to queries: series as label sets plus encoded chunks, and an iterator
// over their samples. The head, the blocks and the DB's querier all answer in these types.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "aggregator/tsdb/chunk.h"
#include "prom/labels.h"

namespace sextant::tsdb {

// Identifies a series in the head and in the WAL. Assigned by the head, increasing, never 0.
using SeriesRef = uint64_t;

inline constexpr int64_t kMinTime = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kMaxTime = std::numeric_limits<int64_t>::max();

// One encoded XOR chunk as a query sees it. `bytes` stays valid while `owner` is held (a copy of
// a head chunk, or a mapped block file). Value type; immutable once built.
struct ChunkView {
  int64_t min_time = 0;  // first sample's timestamp (ms)
  int64_t max_time = 0;  // last sample's timestamp (ms), inclusive
  absl::string_view bytes;
  std::shared_ptr<const void> owner;
};

// One selected series: its labels and its chunks ordered by min_time. Chunks of one source never
// overlap; after merging sources (head and blocks) they may, and SampleIterator copes.
struct SeriesChunks {
  prom::Labels labels;
  std::vector<ChunkView> chunks;
};

// Iterates the samples of a series' chunks with mint <= t <= maxt in increasing time, each
// timestamp once. Chunks that overlap in time are merged sample by sample (where two hold the
// same timestamp, the one earlier in the list wins); without overlap they are streamed. A corrupt
// chunk ends the iteration with status() DataLoss naming the series. Holds references to `series`,
// which must outlive it. Thread-compatible.
class SampleIterator {
 public:
  SampleIterator(const SeriesChunks& series, int64_t mint, int64_t maxt);

  // Advances; false at the end or on error.
  bool Next();
  int64_t t() const { return t_; }
  double v() const { return v_; }
  absl::Status status() const { return status_; }

 private:
  bool NextInChunks();
  bool MergeOverlapping();

  const SeriesChunks& series_;
  int64_t mint_;
  int64_t maxt_;
  size_t next_chunk_ = 0;
  std::unique_ptr<XorIterator> it_;
  bool merged_ = false;  // the chunks overlap: samples_ holds them all, merged
  std::vector<std::pair<int64_t, double>> samples_;
  size_t next_sample_ = 0;
  bool have_last_ = false;
  int64_t t_ = 0;
  double v_ = 0;
  absl::Status status_;
};

// Merges per-source results (each sorted by labels) into one list sorted by labels; entries with
// equal labels become one entry whose chunks are all of theirs ordered by min_time.
std::vector<SeriesChunks> MergeSeries(std::vector<std::vector<SeriesChunks>> sources);

// Merges sorted, deduplicated string lists into one sorted, deduplicated list.
std::vector<std::string> MergeSortedStrings(std::vector<std::vector<std::string>> lists);

}  // namespace sextant::tsdb
