// Go's float64 conversions, which Prometheus's output and input follow byte for byte: strconv's
// FormatFloat with the shortest round-trip digits, fmt's %f, strconv.ParseFloat and the
// float64 -> int64 conversion of amd64. Used by the PromQL engine and the HTTP API.
//
//   GoFormatFloat(std::pow(2, 63), 'f')  // "9223372036854776000"
//   GoFormatFloat(1e-7, 'e')             // "1e-07"
//   ParseGoFloat("0x_1p3")               // 8
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace sextant::promql {

// strconv.FormatFloat(v, format, -1, 64) for `format` 'f', 'e' or 'g' (fmt's %v of a float64 is
// 'g'): the shortest digits that read back as `v`, laid out as
//   'f': without exponent, padded with zeros ("9223372036854776000", "0.0000001");
//   'e': d[.ddd]e±dd, at least two exponent digits ("1e-07", "1.5e+300");
//   'g': 'e' when the decimal exponent is below -4 or at least 6 ("1e+06"), else 'f'.
// NaN, +Inf and -Inf are "NaN", "+Inf" and "-Inf"; -0 keeps its sign ("-0").
std::string GoFormatFloat(double v, char format);
// GoFormatFloat appended to `out`.
void AppendGoFloat(std::string* out, double v, char format);

// fmt.Sprintf("%f", v): exactly six decimals, rounded from the exact binary value
// ("0.100000", "9223372036854775808.000000"); "NaN", "+Inf", "-Inf".
std::string GoFormatPercentF(double v);

// strconv.ParseFloat(s, 64): an optional sign, then decimal digits with an optional fraction
// and e exponent, or 0x and hexadecimal digits with an optional fraction and a required p
// exponent; '_' only between digits (or after 0x); "Inf", "Infinity" (either signed) and
// "NaN" in any case. Underflow reads as zero. nullopt on a syntax error or on overflow (Go's
// ErrRange).
std::optional<double> ParseGoFloat(absl::string_view s);

// strconv.ParseInt(s, 0, 64): an optional sign, then a 0x, 0o, 0b or 0 (octal) prefix or none,
// and digits of that base, with '_' as ParseGoFloat allows it. nullopt on a syntax error or a
// value outside the int64 range.
std::optional<int64_t> ParseGoInt(absl::string_view s);

// Go's int64(f) on amd64: truncation towards zero, and the smallest int64 for NaN and values
// outside the int64 range.
int64_t GoFloatToInt64(double f);

}  // namespace sextant::promql
