#include "common/units.h"

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace sextant {
namespace {

struct Unit {
  absl::string_view name;
  int64_t ms;
};
// In the order Prometheus requires them.
constexpr Unit kUnits[] = {
    {"y", 365LL * 24 * 3600 * 1000},
    {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
};

absl::Status BadDuration(absl::string_view s) {
  return absl::InvalidArgumentError(
      absl::StrCat("not a valid duration string: \"", s, "\" (want e.g. 15s, 1h30m, 15d)"));
}

}  // namespace

absl::StatusOr<absl::Duration> ParsePromDuration(absl::string_view s) {
  if (s == "0") return absl::ZeroDuration();
  if (s.empty()) return BadDuration(s);
  size_t pos = 0;
  size_t next_unit = 0;  // index into kUnits of the smallest unit still allowed
  int64_t total_ms = 0;
  while (pos < s.size()) {
    size_t digits_start = pos;
    int64_t n = 0;
    while (pos < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[pos]))) {
      int d = s[pos] - '0';
      if (n > (std::numeric_limits<int64_t>::max() - d) / 10) return BadDuration(s);
      n = n * 10 + d;
      ++pos;
    }
    if (pos == digits_start) return BadDuration(s);
    size_t unit_start = pos;
    while (pos < s.size() && absl::ascii_isalpha(static_cast<unsigned char>(s[pos]))) ++pos;
    absl::string_view unit = s.substr(unit_start, pos - unit_start);
    size_t i = next_unit;
    while (i < std::size(kUnits) && kUnits[i].name != unit) ++i;
    if (i == std::size(kUnits)) return BadDuration(s);
    if (n > std::numeric_limits<int64_t>::max() / kUnits[i].ms) return BadDuration(s);
    int64_t add = n * kUnits[i].ms;
    if (total_ms > std::numeric_limits<int64_t>::max() - add) return BadDuration(s);
    total_ms += add;
    next_unit = i + 1;
  }
  return absl::Milliseconds(total_ms);
}

std::string FormatPromDuration(absl::Duration d) {
  int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  for (const Unit& u : kUnits) {
    if (ms >= u.ms) {
      absl::StrAppend(&out, ms / u.ms, u.name);
      ms %= u.ms;
    }
  }
  return out;
}

absl::StatusOr<int64_t> ParseBytes(absl::string_view s) {
  size_t pos = 0;
  int64_t n = 0;
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid byte size: \"", s, "\" (want e.g. 512, 64KiB, 32MiB, 1GiB)"));
  };
  while (pos < s.size() && absl::ascii_isdigit(static_cast<unsigned char>(s[pos]))) {
    int d = s[pos] - '0';
    if (n > (std::numeric_limits<int64_t>::max() - d) / 10) return bad();
    n = n * 10 + d;
    ++pos;
  }
  if (pos == 0) return bad();
  absl::string_view unit = s.substr(pos);
  int shift;
  if (unit.empty() || unit == "B") {
    shift = 0;
  } else if (unit == "KiB" || unit == "KB") {
    shift = 10;
  } else if (unit == "MiB" || unit == "MB") {
    shift = 20;
  } else if (unit == "GiB" || unit == "GB") {
    shift = 30;
  } else if (unit == "TiB" || unit == "TB") {
    shift = 40;
  } else if (unit == "PiB" || unit == "PB") {
    shift = 50;
  } else {
    return bad();
  }
  if (n > (std::numeric_limits<int64_t>::max() >> shift)) return bad();
  return n << shift;
}

std::string FormatBytes(int64_t bytes) {
  constexpr absl::string_view kNames[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int i = 0;
  while (i < 5 && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++i;
  }
  return absl::StrCat(bytes, kNames[i]);
}

}  // namespace sextant
