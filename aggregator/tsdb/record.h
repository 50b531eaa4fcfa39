// The WAL's record payloads: series definitions, samples and metric metadata, each a type byte
// followed by its entries (format note in record.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "aggregator/tsdb/types.h"
#include "prom/labels.h"

namespace sextant::tsdb {

enum class RecordType : uint8_t {
  kSeries = 1,
  kSamples = 2,
  kMetadata = 6,
};

struct RefSeries {
  SeriesRef ref = 0;
  prom::Labels labels;
};

struct RefSample {
  SeriesRef ref = 0;
  int64_t t = 0;
  double v = 0;
};

struct RefMetadata {
  std::string metric_family_name;
  uint8_t type = 0;  // prom::RemoteWriteMetadata::Type's number
  std::string unit;
  std::string help;
};

// Appends an encoded record to `out`.
void EncodeSeries(const std::vector<RefSeries>& series, std::string* out);
void EncodeSamples(const std::vector<RefSample>& samples, std::string* out);
void EncodeMetadata(const std::vector<RefMetadata>& metadata, std::string* out);

// The type of an encoded record; InvalidArgument for an empty record or an unknown type.
absl::StatusOr<RecordType> PeekRecordType(absl::string_view record);
// Decode a record of the matching type into `out` (cleared first). InvalidArgument naming what
// is wrong for a truncated or malformed record; never reads outside `record`.
absl::Status DecodeSeries(absl::string_view record, std::vector<RefSeries>* out);
absl::Status DecodeSamples(absl::string_view record, std::vector<RefSample>* out);
absl::Status DecodeMetadata(absl::string_view record, std::vector<RefMetadata>* out);

}  // namespace sextant::tsdb
