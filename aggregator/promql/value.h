// The values PromQL computes: scalars, strings, instant vectors (one sample per series) and
// range vectors (matrices: many points per series). Value types; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "prom/labels.h"

namespace sextant::promql {

// One sample of a series, timestamp in ms.
struct Point {
  int64_t t = 0;
  double v = 0;
};

// An instant-vector element.
struct Sample {
  prom::Labels metric;
  int64_t t = 0;
  double v = 0;
};
using Vector = std::vector<Sample>;

// A range-vector element: points in increasing time.
struct Series {
  prom::Labels metric;
  std::vector<Point> points;
};
using Matrix = std::vector<Series>;

struct Scalar {
  int64_t t = 0;
  double v = 0;
};

struct String {
  int64_t t = 0;
  std::string v;
};

// A query's result: an instant query gives any of the four; a range query always a Matrix
// (sorted by labels).
using Value = std::variant<Scalar, String, Vector, Matrix>;

// The staleness marker: a NaN with this bit pattern ends a series (Prometheus's StaleNaN).
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
bool IsStaleNaN(double v);

}  // namespace sextant::promql
