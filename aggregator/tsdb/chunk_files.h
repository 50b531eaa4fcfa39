// The chunk segment files of a block (chunks/000001, chunks/000002, ...) in Prometheus's chunks
// format 1, and the pieces the block's other files share: read-only file mappings, CRC32C and
// durable file writes. Format note in chunk_files.cc.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sextant::tsdb {

// A whole file mapped read-only; unmapped when the last reference goes. Immutable; thread-safe.
class MappedFile {
 public:
  // NotFound when the file does not exist, Internal for other errors. An empty file maps to an
  // empty view.
  static absl::StatusOr<std::shared_ptr<const MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  absl::string_view data() const {
    return absl::string_view(static_cast<const char*>(addr_), size_);
  }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, void* addr, size_t size)
      : path_(std::move(path)), addr_(addr), size_(size) {}
  std::string path_;
  void* addr_;
  size_t size_;
};

// Writes `contents` to `path` (created or truncated) and fsyncs it. Internal naming the path.
absl::Status WriteFileSynced(const std::string& path, absl::string_view contents);
// fsyncs a directory, so that entries created or renamed in it are durable.
absl::Status SyncDir(const std::string& dir);

// A chunk reference: segment index (0 for 000001) << 32 | byte offset in the segment.
inline uint64_t MakeChunkRef(uint32_t segment, uint32_t offset) {
  return (uint64_t{segment} << 32) | offset;
}

// Appends XOR chunks to the segment files of one block's chunks/ directory, starting a new
// segment when the next chunk would pass `max_segment_bytes`. Owned by the block writer; not
// thread-safe.
class ChunkSegmentWriter {
 public:
  static constexpr uint64_t kDefaultMaxSegmentBytes = uint64_t{512} << 20;

  // `dir` must exist. Does no I/O until the first Write.
  explicit ChunkSegmentWriter(std::string dir,
                              uint64_t max_segment_bytes = kDefaultMaxSegmentBytes);
  ~ChunkSegmentWriter();
  ChunkSegmentWriter(const ChunkSegmentWriter&) = delete;
  ChunkSegmentWriter& operator=(const ChunkSegmentWriter&) = delete;

  // Appends one encoded XOR chunk (XorChunk::bytes()) and returns its reference. Internal on
  // I/O errors.
  absl::StatusOr<uint64_t> Write(absl::string_view xor_chunk);
  // Flushes, fsyncs and closes the open segment. Internal on I/O errors.
  absl::Status Finish();

 private:
  absl::Status Cut();
  absl::Status Flush();
  absl::Status CloseSegment();

  std::string dir_;
  uint64_t max_segment_bytes_;
  int fd_ = -1;
  std::string path_;      // of the open segment
  uint32_t segment_ = 0;  // number of segments started
  uint64_t size_ = 0;     // bytes in the open segment, buffer included
  std::string buffer_;
};

// The mapped segment files of one block. Immutable after Open; thread-safe.
class ChunkSegmentReader {
 public:
  // Maps every segment file in `dir` (named by 6 digits, numbered from 000001 without gaps).
  // DataLoss naming the file for a bad header or a gap, NotFound when `dir` does not exist.
  static absl::StatusOr<std::unique_ptr<ChunkSegmentReader>> Open(const std::string& dir);

  // The XOR chunk bytes at `ref` (CRC checked) and the mapping that holds them. DataLoss naming
  // the segment for a reference out of range, a bad length or checksum, or an encoding other
  // than XOR.
  absl::Status Chunk(uint64_t ref, absl::string_view* bytes,
                     std::shared_ptr<const void>* owner) const;

  int64_t size_bytes() const;

 private:
  std::vector<std::shared_ptr<const MappedFile>> segments_;
};

}  // namespace sextant::tsdb
