// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as Go's crc32.Checksum with
// crc32.MakeTable(crc32.Castagnoli): the WAL's fragment checksum.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace sextant::tsdb {

// Extends `crc` (the result of an earlier call, 0 to start) over `data`. Uses the SSE4.2
// instruction where the CPU has it, slice-by-8 tables otherwise. Thread-safe.
uint32_t Crc32cExtend(uint32_t crc, absl::string_view data);
inline uint32_t Crc32c(absl::string_view data) { return Crc32cExtend(0, data); }

// The portable implementation alone (for tests comparing both paths).
uint32_t Crc32cExtendPortable(uint32_t crc, absl::string_view data);

}  // namespace sextant::tsdb
