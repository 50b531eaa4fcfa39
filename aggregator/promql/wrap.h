// Internal to the engine: int64 time arithmetic that wraps on overflow (two's complement), as
// Go's int64 and time.Duration arithmetic in Prometheus 2.42 does, without C++'s undefined
// behaviour. Prometheus keeps offsets and ranges as time.Duration (nanoseconds), so offsets
// derived from `@` times wrap at +-2^63 ns (about 292 years) before they become milliseconds:
// MsToNs and NsToMs reproduce that. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <limits>

namespace sextant::promql::internal {

inline int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
inline int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
inline int64_t WrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

inline constexpr int64_t kNanosPerMilli = 1'000'000;

// Milliseconds as a Go time.Duration (`time.Duration(ms) * time.Millisecond`), wrapping.
inline int64_t MsToNs(int64_t ms) { return WrapMul(ms, kNanosPerMilli); }
// A Go time.Duration in milliseconds, truncated toward zero (Prometheus's durationMilliseconds).
inline int64_t NsToMs(int64_t ns) { return ns / kNanosPerMilli; }

// Advances the step time `ts` by `interval` (> 0); false when the steps are done: the next step
// is past `end`, or would be past the largest int64 (where Go's loop would wrap around and run
// until the sample limit or the timeout stops it; such times are out of reach of the HTTP API,
// whose times wrap at +-2^63 ns).
inline bool NextStep(int64_t& ts, int64_t interval, int64_t end) {
  return !__builtin_add_overflow(ts, interval, &ts) && ts <= end;
}

// The number of steps start, start+interval, ..., <= end (0 when end < start), saturated to
// the largest int64.
inline int64_t StepCount(int64_t start, int64_t end, int64_t interval) {
  if (end < start) return 0;
  const uint64_t n =
      (static_cast<uint64_t>(end) - static_cast<uint64_t>(start)) / static_cast<uint64_t>(interval);
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  return n >= kMax ? std::numeric_limits<int64_t>::max() : static_cast<int64_t>(n) + 1;
}

}  // namespace sextant::promql::internal
