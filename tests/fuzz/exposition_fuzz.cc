// libFuzzer target for prom/text_format.h. Each input is parsed as text 0.0.4 and as
// OpenMetrics; whatever parses is written back (0.0.4) and parsed again, and the target traps
// when that second parse fails or reads something else. `make fuzz` builds and runs it.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "prom/text_format.h"

namespace {

using sextant::prom::ExpositionFormat;
using sextant::prom::MetricFamily;
using sextant::prom::ParseTextFormat;
using sextant::prom::WriteTextFormat;

bool SameValue(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// Equal families, with NaN equal to NaN and 0 to -0 (0.0.4 writes both zeros as "0").
bool SameFamilies(const std::vector<MetricFamily>& a, const std::vector<MetricFamily>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].help != b[i].help || a[i].type != b[i].type ||
        a[i].unit != b[i].unit || a[i].samples.size() != b[i].samples.size()) {
      return false;
    }
    for (size_t k = 0; k < a[i].samples.size(); ++k) {
      const auto& x = a[i].samples[k];
      const auto& y = b[i].samples[k];
      if (!(x.labels == y.labels) || !SameValue(x.value, y.value) ||
          x.timestamp_ms != y.timestamp_ms) {
        return false;
      }
    }
  }
  return true;
}

size_t SampleCount(const std::vector<MetricFamily>& fams) {
  size_t n = 0;
  for (const MetricFamily& f : fams) n += f.samples.size();
  return n;
}

[[noreturn]] void Fail(const char* what, const std::string& text) {
  fprintf(stderr, "exposition_fuzz: %s\n--- written text ---\n%s\n---\n", what, text.c_str());
  __builtin_trap();
}

void Check(absl::string_view in, ExpositionFormat format) {
  auto parsed = ParseTextFormat(in, format);
  if (!parsed.ok()) return;
  std::string text = WriteTextFormat(*parsed);
  auto again = ParseTextFormat(text, ExpositionFormat::kText004);
  if (!again.ok()) Fail(std::string(again.status().message()).c_str(), text);
  if (SampleCount(*parsed) != SampleCount(*again)) Fail("sample count differs", text);
  // 0.0.4 input must come back exactly; OpenMetrics input is regrouped by the 0.0.4 mapping,
  // so there the written text must be a fixed point.
  if (format == ExpositionFormat::kText004 && !SameFamilies(*parsed, *again)) {
    Fail("re-parsed families differ", text);
  }
  if (WriteTextFormat(*again) != text) Fail("second write differs", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view in(reinterpret_cast<const char*>(data), size);
  Check(in, ExpositionFormat::kText004);
  Check(in, ExpositionFormat::kOpenMetrics);
  return 0;
}
