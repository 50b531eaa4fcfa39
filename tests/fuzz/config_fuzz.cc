// Fuzzes the configuration loader: any bytes must give a Config or an InvalidArgument error,
// never a crash, a hang or an exception escaping.
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "common/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<sextant::Config> config = sextant::ParseConfig(text, "fuzz.yaml");
  if (config.ok()) {
    (void)sextant::ValidateConfig(*config);
  } else if (config.status().code() != absl::StatusCode::kInvalidArgument) {
    __builtin_trap();
  }
  return 0;
}
