// `sextant version`.
#pragma once

#include <string>

namespace sextant::cmd {

// "sextant, version 0.1.0 (revision: abc123)\n  build type: ...\n  compiler: ...\n".
std::string VersionText();

}  // namespace sextant::cmd
