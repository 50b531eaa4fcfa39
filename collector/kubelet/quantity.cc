#include "collector/kubelet/quantity.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sextant::collector {
namespace {

constexpr size_t kMaxQuantityBytes = 256;

absl::Status Bad(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("bad quantity \"", absl::CEscape(text), "\": ", why));
}

// Multiplies the decimal number in `digits` (most significant first) by `factor` (small).
void MultiplyDecimal(std::string& digits, uint32_t factor) {
  uint64_t carry = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    uint64_t v = static_cast<uint64_t>(*it - '0') * factor + carry;
    *it = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  while (carry > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + carry % 10));
    carry /= 10;
  }
}

// The decimal digit string as an unsigned magnitude, saturated at `limit`.
uint64_t ToMagnitude(absl::string_view digits, uint64_t limit) {
  uint64_t v = 0;
  for (char c : digits) {
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (limit - d) / 10) return limit;
    v = v * 10 + d;
  }
  return v;
}

}  // namespace

int64_t Quantity::ScaledValue(int scale) const {
  if (digits.empty()) return 0;
  // Saturation bounds for the magnitude: |INT64_MIN| = INT64_MAX + 1.
  const uint64_t limit = negative ? uint64_t{1} << 63 : std::numeric_limits<int64_t>::max();
  std::string n = digits;
  for (int i = 0; i < exponent2; i += 10) MultiplyDecimal(n, 1024);
  const int64_t k = exponent10 - scale;  // value = n * 10^k
  uint64_t magnitude;
  if (k >= 0) {
    if (static_cast<int64_t>(n.size()) + k > 20) {
      magnitude = limit;
    } else {
      magnitude = ToMagnitude(n, limit);
      for (int64_t i = 0; i < k && magnitude < limit; ++i) {
        magnitude = magnitude > limit / 10 ? limit : magnitude * 10;
      }
    }
  } else {
    const uint64_t drop = static_cast<uint64_t>(-k);
    if (drop >= n.size()) {
      magnitude = 1;  // 0.something, rounded away from zero
    } else {
      const absl::string_view whole = absl::string_view(n).substr(0, n.size() - drop);
      const absl::string_view rest = absl::string_view(n).substr(n.size() - drop);
      magnitude = ToMagnitude(whole, limit);
      if (rest.find_first_not_of('0') != absl::string_view::npos && magnitude < limit) {
        ++magnitude;
      }
    }
  }
  if (!negative) return static_cast<int64_t>(magnitude);
  if (magnitude == (uint64_t{1} << 63)) return std::numeric_limits<int64_t>::min();
  return -static_cast<int64_t>(magnitude);
}

absl::StatusOr<Quantity> ParseQuantity(absl::string_view text) {
  if (text.empty()) return Bad(text, "empty");
  if (text.size() > kMaxQuantityBytes) return Bad(text.substr(0, 32), "too long");
  Quantity q;
  size_t pos = 0;
  if (text[pos] == '+' || text[pos] == '-') {
    q.negative = text[pos] == '-';
    ++pos;
  }
  std::string mantissa;
  int64_t fraction_digits = 0;
  bool seen_point = false;
  for (; pos < text.size(); ++pos) {
    const char c = text[pos];
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      mantissa.push_back(c);
      if (seen_point) ++fraction_digits;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (mantissa.empty()) return Bad(text, "no digits");

  const absl::string_view suffix = text.substr(pos);
  int64_t exponent = 0;
  if (suffix.empty()) {
  } else if (suffix == "n") {
    exponent = -9;
  } else if (suffix == "u") {
    exponent = -6;
  } else if (suffix == "m") {
    exponent = -3;
  } else if (suffix == "k") {
    exponent = 3;
  } else if (suffix == "M") {
    exponent = 6;
  } else if (suffix == "G") {
    exponent = 9;
  } else if (suffix == "T") {
    exponent = 12;
  } else if (suffix == "P") {
    exponent = 15;
  } else if (suffix == "E") {
    exponent = 18;
  } else if (suffix.size() == 2 && suffix[1] == 'i') {
    const absl::string_view binary = "KMGTPE";
    const size_t index = binary.find(suffix[0]);
    if (index == absl::string_view::npos) return Bad(text, "unknown suffix");
    q.exponent2 = static_cast<int>(10 * (index + 1));
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    absl::string_view e = suffix.substr(1);
    size_t digits_from = (!e.empty() && (e[0] == '+' || e[0] == '-')) ? 1 : 0;
    if (e.size() == digits_from) return Bad(text, "exponent without digits");
    for (size_t i = digits_from; i < e.size(); ++i) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(e[i]))) {
        return Bad(text, "unknown suffix");
      }
    }
    int32_t e32;
    if (!absl::SimpleAtoi(e, &e32)) return Bad(text, "exponent out of range");
    exponent = e32;
  } else {
    return Bad(text, "unknown suffix");
  }

  const size_t first = mantissa.find_first_not_of('0');
  if (first == std::string::npos) {
    q.negative = false;  // -0 is 0
    q.exponent2 = 0;
    return q;
  }
  q.digits = mantissa.substr(first);
  q.exponent10 = exponent - fraction_digits;
  return q;
}

}  // namespace sextant::collector
