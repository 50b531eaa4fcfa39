// Immutable on-disk blocks: one directory per time range holding meta.json, chunks/NNNNNN
// segment files and an index, in Prometheus's block format (index v2, chunks format 1), so
// promtool can read our blocks and we can read Prometheus's. Written into a temporary directory
// and renamed into place; read through mmap. Compaction merges small blocks; retention deletes
// old ones. Format notes in block_index.cc and chunk_files.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aggregator/tsdb/types.h"
#include "prom/matcher.h"

namespace sextant::tsdb {

// meta.json, as Prometheus writes it (version 1).
struct BlockMeta {
  std::string ulid;
  int64_t min_time = 0;  // inclusive, ms
  int64_t max_time = 0;  // exclusive, ms
  int64_t num_series = 0;
  int64_t num_samples = 0;
  int64_t num_chunks = 0;
  int compaction_level = 1;
  std::vector<std::string> sources;  // ULIDs of the level-1 blocks it was made of
};

// A new ULID (48-bit ms timestamp + 80 random bits, Crockford base32), ordered by time.
std::string NewUlid(int64_t now_ms);

// Writes `series` (sorted by labels; each series' chunks sorted, inside [min_time, max_time))
// as a block under `db_dir`: into <db_dir>/<ulid>.tmp-for-creation, fsynced, then renamed to
// <db_dir>/<ulid>. Series without chunks are skipped. Returns the meta written. Internal on I/O
// errors (the temporary directory is removed).
absl::StatusOr<BlockMeta> WriteBlock(const std::string& db_dir, int64_t min_time, int64_t max_time,
                                     const std::vector<SeriesChunks>& series, int compaction_level,
                                     std::vector<std::string> sources, int64_t now_ms);

// An open block. Files are mapped read-only; ChunkViews it hands out keep the mapping alive, so
// a block may be closed (and even deleted) while queries still read it. Thread-safe.
class Block {
 public:
  // DataLoss naming the file for a damaged index, chunk file or meta.json; NotFound when the
  // directory is not a block.
  static absl::StatusOr<std::unique_ptr<Block>> Open(const std::string& dir);
  ~Block();

  const BlockMeta& meta() const;
  const std::string& dir() const;
  // Bytes on disk (index + chunks + meta).
  int64_t size_bytes() const;

  // As Head::Select/LabelNames/LabelValues, over this block. Errors only for damaged data.
  absl::StatusOr<std::vector<SeriesChunks>> Select(const std::vector<prom::Matcher>& matchers,
                                                   int64_t mint, int64_t maxt) const;
  absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<prom::Matcher>& matchers) const;
  absl::StatusOr<std::vector<std::string>> LabelValues(
      absl::string_view name, const std::vector<prom::Matcher>& matchers) const;

 private:
  Block() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Which blocks to compact next, as Prometheus's leveled planner does over `ranges` (ms,
// ascending, e.g. 2h, 6h, 18h, ... capped by the retention): returns the indexes into `metas`
// (sorted by min_time) of one group to merge, or an empty list. Never picks the newest block
// while it may still receive data (the group must end before the last block starts... as
// Prometheus: the newest block is excluded).
std::vector<size_t> PlanCompaction(const std::vector<BlockMeta>& metas,
                                   const std::vector<int64_t>& ranges);

// Merges `blocks` into one new block under `db_dir` (level = max + 1, sources = union). Does
// not delete the inputs.
absl::StatusOr<BlockMeta> CompactBlocks(const std::string& db_dir,
                                        const std::vector<const Block*>& blocks, int64_t now_ms);

// Which blocks retention removes: those whose max_time <= newest max_time - retention_ms
// (retention_ms 0 = no time limit), then the oldest while the total size passes
// retention_bytes (0 = no size limit; `reserved_bytes`, e.g. the WAL's size, counts too).
// `metas` and `sizes` are parallel, sorted by min_time. Returns indexes to delete.
std::vector<size_t> BlocksBeyondRetention(const std::vector<BlockMeta>& metas,
                                          const std::vector<int64_t>& sizes, int64_t retention_ms,
                                          int64_t retention_bytes, int64_t reserved_bytes);

}  // namespace sextant::tsdb
