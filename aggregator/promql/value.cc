#include "aggregator/promql/value.h"

#include <cstring>

namespace sextant::promql {

bool IsStaleNaN(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleNaNBits;
}

}  // namespace sextant::promql
