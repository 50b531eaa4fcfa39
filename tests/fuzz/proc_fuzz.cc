// Fuzzes the /proc parsers of the node sources (collector/node/proc_parsers.h): any bytes, given to
// every parser, must give OK or an InvalidArgument naming a line, never a crash or a hang; and a
// parser that reports no error must have kept every line's worth of values it promised.
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "collector/node/proc_parsers.h"

namespace {

void Check(const absl::Status& status) {
  if (status.ok()) return;
  if (status.code() != absl::StatusCode::kInvalidArgument ||
      !absl::StartsWith(status.message(), "line ")) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sextant::collector;  // NOLINT: a fuzz entry point
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  Check(ParseProcStat(text).status);
  Check(ParseMeminfo(text).status);
  Check(ParseLoadavg(text).status);
  auto disks = ParseDiskstats(text);
  Check(disks.status);
  for (const DiskStats& d : disks.value) {
    if (d.count < 11 || d.count > 17) __builtin_trap();
  }
  Check(ParseMountinfo(text).status);
  Check(ParseNetDev(text).status);
  Check(ParsePressure(text).status);
  Check(ParseVmstat(text).status);
  (void)ParseUdevDiskProperties(text);
  return 0;
}
