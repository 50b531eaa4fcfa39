// The index file of a block in Prometheus's index format v2: symbols, series with their chunk
// metas, postings per label pair and the offset tables. Format note in block_index.cc.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aggregator/tsdb/chunk_files.h"
#include "prom/labels.h"

namespace sextant::tsdb {

// Where one chunk of a series is, and the times of its first and last samples (inclusive).
struct IndexChunkMeta {
  int64_t min_time = 0;
  int64_t max_time = 0;
  uint64_t ref = 0;  // MakeChunkRef(segment, offset)
  friend bool operator==(const IndexChunkMeta&, const IndexChunkMeta&) = default;
};

// One series to index. `labels` must outlive the call that takes it.
struct IndexSeries {
  const prom::Labels* labels = nullptr;
  std::vector<IndexChunkMeta> chunks;  // sorted by min_time
};

// The index file for `series`, which must be sorted by labels with no duplicates
// (InvalidArgument otherwise, or when the index would pass the format's 32-bit limits).
absl::StatusOr<std::string> EncodeIndex(const std::vector<IndexSeries>& series);

// Reads an index. Every read is bounds- and checksum-checked: damage gives DataLoss naming the
// file and what is wrong, never a crash. Immutable after Open; thread-safe.
class IndexReader {
 public:
  // Maps and checks the file (header, TOC, symbols, postings offset table). DataLoss for damage,
  // NotFound when there is no file.
  static absl::StatusOr<std::unique_ptr<IndexReader>> Open(const std::string& path);
  // As Open, over bytes in memory that must outlive the reader; `name` is used in errors.
  static absl::StatusOr<std::unique_ptr<IndexReader>> FromBytes(absl::string_view data,
                                                                std::string name);

  // Label names, sorted (the all-postings key excluded).
  std::vector<std::string> LabelNames() const;
  // Values of `name`, sorted.
  std::vector<std::string> LabelValues(absl::string_view name) const;
  // The ascending series references holding name=value (empty when none); Postings("", "") is
  // every series. DataLoss for a damaged list.
  absl::StatusOr<std::vector<uint32_t>> Postings(absl::string_view name,
                                                 absl::string_view value) const;
  // Labels and chunk metas of the series with reference `ref` (from Postings). DataLoss for a
  // bad reference or a damaged entry.
  absl::Status Series(uint32_t ref, prom::Labels* labels,
                      std::vector<IndexChunkMeta>* chunks) const;

  int64_t size_bytes() const { return static_cast<int64_t>(data_.size()); }

 private:
  IndexReader() = default;
  absl::Status Parse();
  absl::Status Fail(absl::string_view what) const;

  std::shared_ptr<const MappedFile> file_;  // null for FromBytes
  absl::string_view data_;
  std::string name_;
  std::vector<absl::string_view> symbols_;
  // Label name -> its values (sorted) with the offset of their postings list.
  std::map<std::string, std::vector<std::pair<absl::string_view, uint64_t>>, std::less<>> postings_;
};

}  // namespace sextant::tsdb
