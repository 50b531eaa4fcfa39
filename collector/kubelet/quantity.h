// Kubernetes resource quantities ("100m", "1.5Gi", "1e3"), parsed exactly as
// k8s.io/apimachinery's resource.ParseQuantity reads them, and rounded the way its Value() and
// MilliValue() round (up, away from zero), which is what kube-state-metrics exports.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sextant::collector {

// An exact quantity: (-1 if negative) * digits * 10^exponent10 * 2^exponent2. A value type.
struct Quantity {
  bool negative = false;
  std::string digits;      // significant decimal digits, no leading zeros; "" for zero
  int64_t exponent10 = 0;  // from fraction digits, decimal suffixes (m, k, M, ...) and eN
  int exponent2 = 0;       // 10 * n for the binary suffixes Ki, Mi, ... Ei

  // The quantity divided by 10^scale, rounded up (away from zero) to an integer and saturated
  // to the int64 range, as resource.Quantity.ScaledValue does.
  int64_t ScaledValue(int scale) const;
  // Rounded up to a whole number ("100m" -> 1, "1Ki" -> 1024).
  int64_t Value() const { return ScaledValue(0); }
  // In thousandths, rounded up ("100m" -> 100, "0.5" -> 500, "1u" -> 1).
  int64_t MilliValue() const { return ScaledValue(-3); }
};

// Parses <sign><number><suffix>: sign "+" or "-" (optional); number "12", "1.5", "1." or ".5";
// suffix one of "" (none), the decimal SI suffixes n u m k M G T P E, the binary suffixes Ki Mi
// Gi Ti Pi Ei, or an exponent "e<int>"/"E<int>" ("1e3", "5E-2"). No spaces. InvalidArgument
// naming the text for anything else, for an exponent outside the int32 range, and for text
// longer than 256 bytes.
absl::StatusOr<Quantity> ParseQuantity(absl::string_view text);

}  // namespace sextant::collector
