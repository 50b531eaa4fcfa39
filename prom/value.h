// Sample values and the staleness marker of the Prometheus data model.
#pragma once

#include <bit>
#include <cstdint>

namespace sextant::prom {

// The NaN that Prometheus writes to mark a series stale (a "stale NaN"). It is distinct from the
// ordinary NaN (0x7ff8000000000001 in Prometheus), and only its exact bits mean "stale".
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;

inline double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }
inline bool IsStaleNaN(double v) { return std::bit_cast<uint64_t>(v) == kStaleNaNBits; }

// One sample: milliseconds since the Unix epoch and a float value.
struct Sample {
  int64_t timestamp_ms = 0;
  double value = 0;
};

}  // namespace sextant::prom
