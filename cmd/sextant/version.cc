#include "cmd/sextant/version.h"

#include "absl/strings/str_cat.h"
#include "common/build_info.h"

namespace sextant::cmd {

std::string VersionText() {
  return absl::StrCat("sextant, version ", SEXTANT_VERSION, " (revision: ", SEXTANT_REVISION,
                      ")\n  build type: ", SEXTANT_BUILD_TYPE, "\n  compiler:   ",
#if defined(__clang__)
                      "clang ", __clang_version__,
#else
                      "gcc ", __VERSION__,
#endif
                      "\n  c++:        ", __cplusplus, "\n");
}

}  // namespace sextant::cmd
