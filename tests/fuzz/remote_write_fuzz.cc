// libFuzzer target for the remote_write codec: any body must decode to a request or to
// InvalidArgument / ResourceExhausted, never crash; a decoded request must survive validation of
// every series and an encode/decode round trip unchanged (sample values compared bit for bit).
// Seeds: tests/fuzz/corpus/remote_write/.
#include <bit>
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "prom/remote_write.h"

namespace sextant::prom {
namespace {

constexpr size_t kMaxDecodedBytes = 1 << 20;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckValidation(const RemoteWriteSeries& series) {
  absl::StatusOr<Labels> labels = ValidateSeriesLabels(series.labels);
  if (!labels.ok()) {
    Check(labels.status().code() == absl::StatusCode::kInvalidArgument);
    Check(absl::StartsWith(labels.status().message(), "series {"));
    return;
  }
  Check(IsValidMetricName(labels->MetricName()));
  const Label* previous = nullptr;
  for (const Label& l : *labels) {
    Check(IsValidLabelName(l.name) && !l.value.empty() && IsValidUtf8(l.value));
    Check(previous == nullptr || previous->name < l.name);
    previous = &l;
  }
  // Validating the result again gives the same set.
  absl::StatusOr<Labels> again = ValidateSeriesLabels(labels->labels());
  Check(again.ok() && *again == *labels);
}

bool SameRequest(const RemoteWriteRequest& a, const RemoteWriteRequest& b) {
  if (a.series.size() != b.series.size() || a.metadata.size() != b.metadata.size()) return false;
  for (size_t i = 0; i < a.series.size(); ++i) {
    const RemoteWriteSeries& x = a.series[i];
    const RemoteWriteSeries& y = b.series[i];
    if (x.labels != y.labels || x.samples.size() != y.samples.size()) return false;
    for (size_t j = 0; j < x.samples.size(); ++j) {
      if (x.samples[j].timestamp_ms != y.samples[j].timestamp_ms ||
          std::bit_cast<uint64_t>(x.samples[j].value) !=
              std::bit_cast<uint64_t>(y.samples[j].value)) {
        return false;
      }
    }
  }
  for (size_t i = 0; i < a.metadata.size(); ++i) {
    const RemoteWriteMetadata& x = a.metadata[i];
    const RemoteWriteMetadata& y = b.metadata[i];
    if (x.type != y.type || x.metric_family_name != y.metric_family_name || x.help != y.help ||
        x.unit != y.unit) {
      return false;
    }
  }
  return true;
}

}  // namespace
}  // namespace sextant::prom

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sextant::prom;  // NOLINT: a fuzz entry point outside our namespace.
  const absl::string_view body(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<RemoteWriteRequest> request = DecodeWriteRequest(body, kMaxDecodedBytes);
  if (!request.ok()) {
    const absl::StatusCode code = request.status().code();
    Check(code == absl::StatusCode::kInvalidArgument ||
          code == absl::StatusCode::kResourceExhausted);
    return 0;
  }
  for (const RemoteWriteSeries& series : request->series) CheckValidation(series);

  absl::StatusOr<std::string> encoded = EncodeWriteRequest(*request);
  Check(encoded.ok());
  // The re-encoding is canonical and drops skipped fields (exemplars, histograms, unknown
  // fields), so it is no larger than the first body; the higher limit only leaves room.
  absl::StatusOr<RemoteWriteRequest> decoded = DecodeWriteRequest(*encoded, 4 * kMaxDecodedBytes);
  Check(decoded.ok());
  Check(SameRequest(*request, *decoded));
  return 0;
}
