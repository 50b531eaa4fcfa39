// The remote_write 1.0 codec (https://prometheus.io/docs/concepts/remote_write_spec/): a
// protobuf WriteRequest, snappy block compressed, over HTTP POST. Our own structs; the protobuf
// classes stay inside remote_write.cc.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prom/labels.h"
#include "prom/value.h"

namespace sextant::prom {

// What a 1.0 sender puts in Content-Type, Content-Encoding and the version header.
inline constexpr absl::string_view kRemoteWriteVersionHeader = "X-Prometheus-Remote-Write-Version";
inline constexpr absl::string_view kRemoteWriteContentType = "application/x-protobuf";
inline constexpr absl::string_view kRemoteWriteContentEncoding = "snappy";
inline constexpr absl::string_view kRemoteWriteVersion = "0.1.0";

// One series as received: labels in the sender's order and unvalidated (see
// ValidateSeriesLabels), samples in the sender's order.
struct RemoteWriteSeries {
  std::vector<Label> labels;
  std::vector<Sample> samples;
};

// Metric family metadata (TYPE, HELP, UNIT) sent alongside the series.
struct RemoteWriteMetadata {
  // The protobuf's MetricType, same numbers.
  enum class Type {
    kUnknown = 0,
    kCounter = 1,
    kGauge = 2,
    kHistogram = 3,
    kGaugeHistogram = 4,
    kSummary = 5,
    kInfo = 6,
    kStateset = 7,
  };
  Type type = Type::kUnknown;
  std::string metric_family_name;
  std::string help;
  std::string unit;
};

struct RemoteWriteRequest {
  std::vector<RemoteWriteSeries> series;
  std::vector<RemoteWriteMetadata> metadata;
};

// Serializes `request` as a protobuf WriteRequest and snappy block compresses it: a body to
// POST with the headers above. ResourceExhausted when the protobuf would pass 2 GiB.
absl::StatusOr<std::string> EncodeWriteRequest(const RemoteWriteRequest& request);

// Decodes a request body (snappy block compressed protobuf WriteRequest). The decompressed size
// is read from the snappy header and checked before anything is allocated.
//   ResourceExhausted: the decompressed size is over `max_decoded_bytes` (HTTP 413).
//   InvalidArgument:   "snappy: ..." for a corrupt body, "protobuf: ..." for bytes that do not
//                      parse as a WriteRequest (HTTP 400).
// Exemplars and native histograms are skipped: a series that carries only histograms comes
// back with no samples. Unknown enum values in metadata read as kUnknown.
absl::StatusOr<RemoteWriteRequest> DecodeWriteRequest(absl::string_view body,
                                                      size_t max_decoded_bytes);

// A decoded request as views into its own decompressed bytes, for the receiver's hot path: no
// allocation per series or label, and the vectors keep their capacity when the object is reused.
// Series i has labels [series[i].labels_begin, labels_end) and samples [samples_begin,
// samples_end). Not thread-safe; the views are valid until the next decode into it.
struct FlatWriteRequest {
  struct Series {
    uint32_t labels_begin = 0;
    uint32_t labels_end = 0;
    uint32_t samples_begin = 0;
    uint32_t samples_end = 0;
    uint32_t labels_sent = 0;  // may exceed labels_end - labels_begin, see FlatDecodeLimits
  };
  std::string raw;  // the decompressed protobuf
  std::vector<LabelView> labels;
  std::vector<Sample> samples;
  std::vector<Series> series;
  std::vector<RemoteWriteMetadata> metadata;
};

// Bounds on what a decode keeps, so that a small body of many tiny records cannot make it
// allocate far more than the body. 0 = no bound.
struct FlatDecodeLimits {
  // More series than this: ResourceExhausted (HTTP 413), nothing kept.
  size_t max_series = 0;
  // A series keeps at most this many label views plus one; Series::labels_sent has the count.
  size_t max_labels_per_series = 0;
};

// DecodeWriteRequest into `out`, with the same errors and the same acceptance as protobuf's own
// parser (unknown fields and groups skipped, a known field of another wire type treated as
// unknown, the last occurrence of a singular field wins).
absl::Status DecodeWriteRequestFlat(absl::string_view body, size_t max_decoded_bytes,
                                    FlatWriteRequest* out, const FlatDecodeLimits& limits = {});

// Checks a request's Content-Type, Content-Encoding and X-Prometheus-Remote-Write-Version,
// as leniently as Prometheus's receiver: an empty header means the 1.0 default; the media type
// and encoding compare case-insensitively; Content-Type parameters other than `proto` are
// ignored, and `proto` must name prometheus.WriteRequest; any 0.x or 1.x version is accepted.
// On failure: InvalidArgument that IsUnsupportedMediaType() recognizes (answer HTTP 415), for
// another media type, another encoding, a remote_write 2.x message or version, or a malformed
// Content-Type parameter.
absl::Status CheckRemoteWriteHeaders(absl::string_view content_type,
                                     absl::string_view content_encoding, absl::string_view version);

// Whether `status` came from CheckRemoteWriteHeaders for a body we cannot read (HTTP 415).
bool IsUnsupportedMediaType(const absl::Status& status);

// Validates one received series' labels and returns them as a label set (sorted, empty values
// dropped: Prometheus treats `a=""` as no label a). Labels out of order are accepted and sorted,
// as Prometheus does (some senders, vmagent among them, append labels unsorted). Rules:
// every name matches [a-zA-Z_][a-zA-Z0-9_]*, names are unique, every value is valid UTF-8,
// __name__ is present, not empty and a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
// InvalidArgument otherwise, naming the series and the rule, for example
//   series {__name__="x", 1a="b"}: invalid label name "1a"
// With LabelOrder::kRequireSorted, labels out of order are refused as the spec says senders
// MUST sort them ("label names not sorted: "a" after "b""); duplicates are still named as such.
// Takes the labels by value: std::move them in to avoid copying strings.
enum class LabelOrder { kAcceptUnsorted, kRequireSorted };
absl::StatusOr<Labels> ValidateSeriesLabels(std::vector<Label> labels,
                                            LabelOrder order = LabelOrder::kAcceptUnsorted);

// ValidateSeriesLabels(labels, kRequireSorted) on views, without building the set: OK, or the
// same InvalidArgument.
absl::Status ValidateSortedSeriesLabels(const LabelView* labels, size_t n);

}  // namespace sextant::prom
