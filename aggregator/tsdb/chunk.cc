#include "aggregator/tsdb/chunk.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace sextant::tsdb {
namespace {

uint64_t Bits(double v) { return std::bit_cast<uint64_t>(v); }

// Whether `x` fits the signed bucket of `nbits` bits as Prometheus defines it:
// -(2^(nbits-1) - 1) <= x <= 2^(nbits-1).
bool InBucket(int64_t x, int nbits) {
  const int64_t half = int64_t{1} << (nbits - 1);
  return -(half - 1) <= x && x <= half;
}

}  // namespace

XorChunk::XorChunk() : data_(2, '\0') {}

void XorChunk::WriteBit(bool bit) {
  if (bit_count_ % 8 == 0) data_.push_back('\0');
  if (bit) data_.back() = static_cast<char>(data_.back() | (0x80 >> (bit_count_ % 8)));
  ++bit_count_;
}

void XorChunk::WriteBits(uint64_t value, int n) {
  // The low n bits of value, most significant first, a byte's free bits at a time.
  while (n > 0) {
    if (bit_count_ % 8 == 0) data_.push_back('\0');
    const int free = 8 - static_cast<int>(bit_count_ % 8);
    const int take = n < free ? n : free;
    const uint64_t bits = (value >> (n - take)) & ((uint64_t{1} << take) - 1);
    data_.back() = static_cast<char>(static_cast<uint8_t>(data_.back()) | (bits << (free - take)));
    bit_count_ += static_cast<uint64_t>(take);
    n -= take;
  }
}

void XorChunk::WriteUvarint(uint64_t v) {
  while (v >= 0x80) {
    WriteBits((v & 0x7f) | 0x80, 8);
    v >>= 7;
  }
  WriteBits(v, 8);
}

void XorChunk::WriteVarint(int64_t v) {
  // Zig-zag, as Go's binary.PutVarint.
  WriteUvarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void XorChunk::WriteValue(double v) {
  const uint64_t delta = Bits(v) ^ v_bits_;
  if (delta == 0) {
    WriteBit(false);
    return;
  }
  WriteBit(true);
  int leading = std::countl_zero(delta);
  const int trailing = std::countr_zero(delta);
  if (leading >= 32) leading = 31;  // 5 bits hold at most 31
  if (leading_ != 0xff && leading >= leading_ && trailing >= trailing_) {
    WriteBit(false);
    WriteBits(delta >> trailing_, 64 - leading_ - trailing_);
    return;
  }
  leading_ = leading;
  trailing_ = trailing;
  WriteBit(true);
  WriteBits(static_cast<uint64_t>(leading), 5);
  const int sigbits = 64 - leading - trailing;
  WriteBits(static_cast<uint64_t>(sigbits), 6);  // 64 is written as 0
  WriteBits(delta >> trailing, sigbits);
}

absl::Status XorChunk::Append(int64_t t, double v) {
  if (num_samples_ >= kMaxSamples) {
    return absl::FailedPreconditionError(absl::StrCat("chunk full: ", kMaxSamples, " samples"));
  }
  if (num_samples_ == 0) {
    WriteVarint(t);
    WriteBits(Bits(v), 64);
    min_t_ = t;
  } else if (num_samples_ == 1) {
    // Unsigned arithmetic throughout: wraps instead of overflowing, and decodes back exactly.
    t_delta_ = static_cast<uint64_t>(t) - static_cast<uint64_t>(t_);
    WriteUvarint(t_delta_);
    WriteValue(v);
  } else {
    const uint64_t t_delta = static_cast<uint64_t>(t) - static_cast<uint64_t>(t_);
    const int64_t dod = static_cast<int64_t>(t_delta - t_delta_);
    if (dod == 0) {
      WriteBit(false);
    } else if (InBucket(dod, 14)) {
      WriteBits(0b10, 2);
      WriteBits(static_cast<uint64_t>(dod), 14);
    } else if (InBucket(dod, 17)) {
      WriteBits(0b110, 3);
      WriteBits(static_cast<uint64_t>(dod), 17);
    } else if (InBucket(dod, 20)) {
      WriteBits(0b1110, 4);
      WriteBits(static_cast<uint64_t>(dod), 20);
    } else {
      WriteBits(0b1111, 4);
      WriteBits(static_cast<uint64_t>(dod), 64);
    }
    t_delta_ = t_delta;
    WriteValue(v);
  }
  t_ = t;
  v_bits_ = Bits(v);
  ++num_samples_;
  data_[0] = static_cast<char>(num_samples_ >> 8);
  data_[1] = static_cast<char>(num_samples_ & 0xff);
  return absl::OkStatus();
}

XorIterator::XorIterator(absl::string_view bytes) : data_(bytes) {
  if (bytes.size() < 2) {
    status_ = absl::DataLossError(absl::StrCat("chunk of ", bytes.size(), " bytes has no header"));
    return;
  }
  total_ = (static_cast<unsigned char>(bytes[0]) << 8) | static_cast<unsigned char>(bytes[1]);
}

bool XorIterator::Fail(absl::string_view what) {
  if (status_.ok()) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("chunk sample ", read_, " of ", total_, ": ", what));
  }
  read_ = total_;
  return false;
}

bool XorIterator::ReadBit(bool* bit) {
  if (pos_ >= data_.size() * 8) return false;
  *bit = (static_cast<unsigned char>(data_[pos_ / 8]) >> (7 - pos_ % 8)) & 1;
  ++pos_;
  return true;
}

bool XorIterator::ReadBits(int n, uint64_t* out) {
  if (pos_ + static_cast<uint64_t>(n) > data_.size() * 8) return false;
  if (n == 0) {
    *out = 0;
    return true;
  }
  const size_t byte = pos_ / 8;
  const int skip = static_cast<int>(pos_ % 8);
  const auto* p = reinterpret_cast<const unsigned char*>(data_.data()) + byte;
  if (n <= 56 && byte + 8 <= data_.size()) {
    // The next 8 bytes as one big-endian word hold all n bits after the `skip` bits.
    uint64_t word = 0;
    for (int i = 0; i < 8; ++i) word = (word << 8) | p[i];
    *out = (word << skip) >> (64 - n);
    pos_ += static_cast<uint64_t>(n);
    return true;
  }
  // Near the end of the chunk, or 57..64 bits: byte by byte.
  uint64_t v = 0;
  int need = n;
  while (need > 0) {
    const int avail = 8 - static_cast<int>(pos_ % 8);
    const int take = std::min(avail, need);
    const unsigned b = static_cast<unsigned char>(data_[pos_ / 8]);
    v = (v << take) | ((b >> (avail - take)) & ((1u << take) - 1));
    need -= take;
    pos_ += static_cast<uint64_t>(take);
  }
  *out = v;
  return true;
}

bool XorIterator::ReadUvarint(uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    uint64_t byte;
    if (!ReadBits(8, &byte)) return false;
    if (shift == 63 && byte > 1) return false;  // overflows 64 bits
    v |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return false;
}

bool XorIterator::ReadVarint(int64_t* out) {
  uint64_t u;
  if (!ReadUvarint(&u)) return false;
  *out = static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  return true;
}

bool XorIterator::ReadValue() {
  bool bit;
  if (!ReadBit(&bit)) return false;
  if (!bit) return true;  // same value
  if (!ReadBit(&bit)) return false;
  if (bit) {
    uint64_t leading, sigbits;
    if (!ReadBits(5, &leading) || !ReadBits(6, &sigbits)) return false;
    if (sigbits == 0) sigbits = 64;
    if (leading + sigbits > 64) return false;
    leading_ = static_cast<int>(leading);
    trailing_ = 64 - leading_ - static_cast<int>(sigbits);
    has_window_ = true;
  } else if (!has_window_) {
    return false;  // nothing to reuse: not something an appender writes
  }
  const int sigbits = 64 - leading_ - trailing_;
  uint64_t bits;
  if (!ReadBits(sigbits, &bits)) return false;
  v_bits_ ^= sigbits == 64 ? bits : bits << trailing_;
  return true;
}

bool XorIterator::Next() {
  if (!status_.ok() || read_ >= total_) return false;
  if (read_ == 0) {
    if (!ReadVarint(&t_) || !ReadBits(64, &v_bits_)) return Fail("truncated first sample");
  } else if (read_ == 1) {
    if (!ReadUvarint(&t_delta_)) return Fail("truncated timestamp delta");
    t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + t_delta_);
    if (!ReadValue()) return Fail("bad or truncated value");
  } else {
    int prefix = 0;
    bool bit = false;
    for (int i = 0; i < 4; ++i) {
      if (!ReadBit(&bit)) return Fail("truncated timestamp");
      if (!bit) break;
      ++prefix;
    }
    int64_t dod = 0;
    if (prefix == 4) {
      uint64_t raw;
      if (!ReadBits(64, &raw)) return Fail("truncated timestamp");
      dod = static_cast<int64_t>(raw);
    } else if (prefix > 0) {
      const int size = prefix == 1 ? 14 : prefix == 2 ? 17 : 20;
      uint64_t raw;
      if (!ReadBits(size, &raw)) return Fail("truncated timestamp");
      if (raw > (uint64_t{1} << (size - 1))) raw -= uint64_t{1} << size;  // negative
      dod = static_cast<int64_t>(raw);
    }
    t_delta_ += static_cast<uint64_t>(dod);
    t_ = static_cast<int64_t>(static_cast<uint64_t>(t_) + t_delta_);
    if (!ReadValue()) return Fail("bad or truncated value");
  }
  ++read_;
  return true;
}

double XorIterator::v() const { return std::bit_cast<double>(v_bits_); }

}  // namespace sextant::tsdb
