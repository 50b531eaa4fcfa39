// Record format (close to Prometheus's tsdb/record package; all integers big-endian, varints as
// Go's encoding/binary: uvarint = LEB128, varint = zig-zag then uvarint):
//
//   series:   0x01, then per series:   be64 ref, uvarint n, n x (uvarint len, name,
//                                      uvarint len, value)
//   samples:  0x02, then, when there are samples, be64 base ref, be64 base t (the first
//             sample's), then per sample: varint(ref - base ref), varint(t - base t),
//             be64 IEEE-754 bits of the value (exact: NaN payloads, the stale marker and -0
//             survive)
//   metadata: 0x06, then per entry:    uvarint len, metric family name, type byte,
//                                      uvarint len, unit, uvarint len, help
//
// Entries run to the end of the record; a record whose last entry is cut short is malformed.
#include "aggregator/tsdb/record.h"

#include <bit>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace sextant::tsdb {
namespace {

void PutBe64(uint64_t v, std::string* out) {
  char b[8];
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  out->append(b, 8);
}

void PutUvarint(uint64_t v, std::string* out) {
  char b[10];
  int n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  out->append(b, n);
}

void PutVarint(int64_t v, std::string* out) {
  PutUvarint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63), out);
}

void PutString(absl::string_view s, std::string* out) {
  PutUvarint(s.size(), out);
  out->append(s.data(), s.size());
}

// A bounds-checked reader over a record. Every getter returns false (and reads nothing more)
// once the input is exhausted or malformed.
class Decoder {
 public:
  explicit Decoder(absl::string_view in)
      : p_(reinterpret_cast<const uint8_t*>(in.data())), end_(p_ + in.size()) {}

  bool done() const { return p_ == end_; }

  bool Byte(uint8_t* v) {
    if (p_ == end_) return false;
    *v = *p_++;
    return true;
  }

  bool Be64(uint64_t* v) {
    if (end_ - p_ < 8) return false;
    uint64_t x;
    std::memcpy(&x, p_, 8);
    if constexpr (std::endian::native == std::endian::little) x = __builtin_bswap64(x);
    *v = x;
    p_ += 8;
    return true;
  }

  // As Go's binary.Uvarint: at most 10 bytes, the 10th at most 1.
  bool Uvarint(uint64_t* v) {
    if (p_ != end_ && *p_ < 0x80) {  // the common one-byte case
      *v = *p_++;
      return true;
    }
    uint64_t x = 0;
    int shift = 0;
    for (int i = 0; i < 10; ++i) {
      if (p_ == end_) return false;
      const uint8_t b = *p_++;
      if (b < 0x80) {
        if (i == 9 && b > 1) return false;
        *v = x | (uint64_t{b} << shift);
        return true;
      }
      x |= uint64_t{b & 0x7fu} << shift;
      shift += 7;
    }
    return false;
  }

  bool Varint(int64_t* v) {
    uint64_t u;
    if (!Uvarint(&u)) return false;
    *v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }

  bool String(std::string* s) {
    uint64_t n;
    if (!Uvarint(&n) || n > static_cast<uint64_t>(end_ - p_)) return false;
    s->assign(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

absl::Status CheckType(absl::string_view record, RecordType want, absl::string_view what) {
  if (record.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " record: empty"));
  if (static_cast<uint8_t>(record[0]) != static_cast<uint8_t>(want)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " record: wrong type byte ", static_cast<uint8_t>(record[0])));
  }
  return absl::OkStatus();
}

absl::Status Malformed(absl::string_view what, size_t entry) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, " record: entry ", entry, " is truncated or malformed"));
}

}  // namespace

void EncodeSeries(const std::vector<RefSeries>& series, std::string* out) {
  out->push_back(static_cast<char>(RecordType::kSeries));
  for (const RefSeries& s : series) {
    PutBe64(s.ref, out);
    PutUvarint(s.labels.size(), out);
    for (const prom::Label& l : s.labels) {
      PutString(l.name, out);
      PutString(l.value, out);
    }
  }
}

void EncodeSamples(const std::vector<RefSample>& samples, std::string* out) {
  out->push_back(static_cast<char>(RecordType::kSamples));
  if (samples.empty()) return;
  const uint64_t base_ref = samples[0].ref;
  const uint64_t base_t = static_cast<uint64_t>(samples[0].t);
  PutBe64(base_ref, out);
  PutBe64(base_t, out);
  for (const RefSample& s : samples) {
    // Differences in unsigned arithmetic: wrap-around, never undefined.
    PutVarint(static_cast<int64_t>(s.ref - base_ref), out);
    PutVarint(static_cast<int64_t>(static_cast<uint64_t>(s.t) - base_t), out);
    PutBe64(std::bit_cast<uint64_t>(s.v), out);
  }
}

void EncodeMetadata(const std::vector<RefMetadata>& metadata, std::string* out) {
  out->push_back(static_cast<char>(RecordType::kMetadata));
  for (const RefMetadata& m : metadata) {
    PutString(m.metric_family_name, out);
    out->push_back(static_cast<char>(m.type));
    PutString(m.unit, out);
    PutString(m.help, out);
  }
}

absl::StatusOr<RecordType> PeekRecordType(absl::string_view record) {
  if (record.empty()) return absl::InvalidArgumentError("empty record");
  const uint8_t t = static_cast<uint8_t>(record[0]);
  switch (t) {
    case static_cast<uint8_t>(RecordType::kSeries):
    case static_cast<uint8_t>(RecordType::kSamples):
    case static_cast<uint8_t>(RecordType::kMetadata):
      return static_cast<RecordType>(t);
    default:
      return absl::InvalidArgumentError(absl::StrCat("unknown record type ", t));
  }
}

static absl::Status DecodeSeriesInto(absl::string_view record, std::vector<RefSeries>* out) {
  if (absl::Status s = CheckType(record, RecordType::kSeries, "series"); !s.ok()) return s;
  Decoder d(record.substr(1));
  std::vector<prom::Label> labels;
  while (!d.done()) {
    RefSeries series;
    uint64_t n;
    if (!d.Be64(&series.ref) || !d.Uvarint(&n)) return Malformed("series", out->size());
    // Each label takes at least two bytes: bound the count before reserving.
    if (n > record.size() / 2) return Malformed("series", out->size());
    labels.clear();
    labels.reserve(n);
    bool sorted = true;
    for (uint64_t i = 0; i < n; ++i) {
      prom::Label& l = labels.emplace_back();
      if (!d.String(&l.name) || !d.String(&l.value)) return Malformed("series", out->size());
      if (l.value.empty() || (i > 0 && !(labels[i - 1].name < l.name))) sorted = false;
    }
    if (sorted) {
      series.labels = prom::Labels::FromSortedUnchecked(std::move(labels));
    } else {
      absl::StatusOr<prom::Labels> parsed = prom::Labels::FromUnsorted(std::move(labels));
      if (!parsed.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("series record: entry ", out->size(), ": ", parsed.status().message()));
      }
      series.labels = *std::move(parsed);
    }
    labels = {};
    out->push_back(std::move(series));
  }
  return absl::OkStatus();
}

static absl::Status DecodeSamplesInto(absl::string_view record, std::vector<RefSample>* out) {
  if (absl::Status s = CheckType(record, RecordType::kSamples, "samples"); !s.ok()) return s;
  Decoder d(record.substr(1));
  if (d.done()) return absl::OkStatus();
  uint64_t base_ref, base_t;
  if (!d.Be64(&base_ref) || !d.Be64(&base_t)) {
    return absl::InvalidArgumentError("samples record: truncated header");
  }
  if (d.done()) return absl::InvalidArgumentError("samples record: header without samples");
  // Each sample takes at least 10 bytes.
  out->reserve((record.size() - 17) / 10);
  while (!d.done()) {
    int64_t dref, dt;
    uint64_t bits;
    if (!d.Varint(&dref) || !d.Varint(&dt) || !d.Be64(&bits)) {
      return Malformed("samples", out->size());
    }
    out->push_back(RefSample{base_ref + static_cast<uint64_t>(dref),
                             static_cast<int64_t>(base_t + static_cast<uint64_t>(dt)),
                             std::bit_cast<double>(bits)});
  }
  return absl::OkStatus();
}

static absl::Status DecodeMetadataInto(absl::string_view record, std::vector<RefMetadata>* out) {
  if (absl::Status s = CheckType(record, RecordType::kMetadata, "metadata"); !s.ok()) return s;
  Decoder d(record.substr(1));
  while (!d.done()) {
    RefMetadata& m = out->emplace_back();
    if (!d.String(&m.metric_family_name) || !d.Byte(&m.type) || !d.String(&m.unit) ||
        !d.String(&m.help)) {
      return Malformed("metadata", out->size() - 1);
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeSeries(absl::string_view record, std::vector<RefSeries>* out) {
  out->clear();
  absl::Status status = DecodeSeriesInto(record, out);
  if (!status.ok()) out->clear();
  return status;
}

absl::Status DecodeSamples(absl::string_view record, std::vector<RefSample>* out) {
  out->clear();
  absl::Status status = DecodeSamplesInto(record, out);
  if (!status.ok()) out->clear();
  return status;
}

absl::Status DecodeMetadata(absl::string_view record, std::vector<RefMetadata>* out) {
  out->clear();
  absl::Status status = DecodeMetadataInto(record, out);
  if (!status.ok()) out->clear();
  return status;
}

}  // namespace sextant::tsdb
