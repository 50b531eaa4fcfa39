// XorIterator over arbitrary bytes (a chunk read back from a damaged disk): never reads outside
// the input, never crashes; and what an appender writes from the decoded samples reads back the
// same.
#include <bit>
#include <cstdint>
#include <vector>

#include "aggregator/tsdb/chunk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sextant::tsdb::XorChunk;
  using sextant::tsdb::XorIterator;
  XorIterator it(absl::string_view(reinterpret_cast<const char*>(data), size));
  std::vector<std::pair<int64_t, double>> samples;
  while (it.Next() && samples.size() < XorChunk::kMaxSamples) samples.emplace_back(it.t(), it.v());
  XorChunk chunk;
  for (const auto& [t, v] : samples) {
    if (!chunk.Append(t, v).ok()) __builtin_trap();
  }
  XorIterator again(chunk.bytes());
  for (const auto& [t, v] : samples) {
    if (!again.Next() || again.t() != t ||
        std::bit_cast<uint64_t>(again.v()) != std::bit_cast<uint64_t>(v)) {
      __builtin_trap();
    }
  }
  if (again.Next() || !again.status().ok()) __builtin_trap();
  return 0;
}
