// Float sample chunks in Prometheus's XOR encoding (Gorilla compression, as Prometheus's
// tsdb/chunkenc/xor.go lays it out), so that about 120 samples of a regular series take about
// 1.4 bytes each.
//
// Format (all bit fields most significant bit first; see chunk.cc for the buckets):
//   bytes 0-1   number of samples, big-endian uint16
//   sample 0    timestamp as a signed varint (zig-zag), value as its 64 raw bits
//   sample 1    timestamp delta as an unsigned varint, value XOR-encoded
//   sample n>1  timestamp delta-of-delta in one of five buckets, value XOR-encoded
// XOR encoding of a value against the previous one: '0' when equal; else '1' then either
// '0' + the meaningful bits when they fit the previous window of leading/trailing zeros, or
// '1' + 5 bits of leading zeros (capped at 31) + 6 bits of meaningful length (0 means 64) +
// the meaningful bits. Every float bit pattern round-trips exactly (NaNs, the staleness marker,
// infinities, -0).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sextant::tsdb {

// A chunk being appended to, or read back. Value type; thread-compatible.
class XorChunk {
 public:
  // Chunks are cut at about this many samples, and hold at most kMaxSamples.
  static constexpr int kTargetSamples = 120;
  static constexpr int kMaxSamples = 240;

  XorChunk();

  // Appends a sample. Timestamps should increase (the head rejects anything else before it
  // gets here), but any sequence encodes and decodes exactly. FailedPrecondition when the chunk
  // already holds kMaxSamples.
  absl::Status Append(int64_t t, double v);

  int num_samples() const { return num_samples_; }
  bool full() const { return num_samples_ >= kMaxSamples; }
  // The encoded chunk (header included), valid until the next Append.
  absl::string_view bytes() const { return absl::string_view(data_.data(), bytes_used()); }
  // The first and last timestamps; meaningless while empty.
  int64_t min_time() const { return min_t_; }
  int64_t max_time() const { return t_; }

 private:
  void WriteBit(bool bit);
  void WriteBits(uint64_t value, int n);
  void WriteVarint(int64_t v);
  void WriteUvarint(uint64_t v);
  void WriteValue(double v);
  size_t bytes_used() const { return (bit_count_ + 7) / 8; }

  std::string data_;  // header + bit stream; bit_count_ counts bits after byte 0
  uint64_t bit_count_ = 16;
  int num_samples_ = 0;
  int64_t min_t_ = 0;
  int64_t t_ = 0;
  uint64_t t_delta_ = 0;
  uint64_t v_bits_ = 0;
  int leading_ = 0xff;  // 0xff: no window yet
  int trailing_ = 0;
};

// Reads the samples of an encoded chunk in order. Never reads outside `bytes`: a truncated or
// corrupt chunk ends iteration with status() InvalidArgument (or DataLoss for a bad header).
// `bytes` must outlive the iterator. Thread-compatible.
class XorIterator {
 public:
  explicit XorIterator(absl::string_view bytes);

  // Advances to the next sample; false at the end or on an error (see status()).
  bool Next();
  int64_t t() const { return t_; }
  double v() const;
  absl::Status status() const { return status_; }
  // The sample count the header declares.
  int num_samples() const { return total_; }

 private:
  bool ReadBit(bool* bit);
  bool ReadBits(int n, uint64_t* out);
  bool ReadVarint(int64_t* out);
  bool ReadUvarint(uint64_t* out);
  bool ReadValue();
  bool Fail(absl::string_view what);

  absl::string_view data_;
  uint64_t pos_ = 16;  // bit position
  int total_ = 0;
  int read_ = 0;
  int64_t t_ = 0;
  uint64_t t_delta_ = 0;
  uint64_t v_bits_ = 0;
  int leading_ = 0;
  int trailing_ = 0;
  bool has_window_ = false;  // a value window was read, so a '0' control may reuse it
  absl::Status status_;
};

}  // namespace sextant::tsdb
