#include "aggregator/promql/go_float.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace sextant::promql {
namespace {

bool AppendNonFinite(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    return false;
  }
  return true;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char Lower(char c) { return absl::ascii_tolower(static_cast<unsigned char>(c)); }
bool IsHexLetter(char c) { return Lower(c) >= 'a' && Lower(c) <= 'f'; }

// Go's rule for '_' in a number: only between digits, or between a base prefix and a digit.
bool UnderscoresOk(absl::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  char saw = '^';  // the last character's class: ^ start, 0 digit or prefix, _ underscore, ! other
  size_t i = 0;
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (Lower(s[1]) == 'b' || Lower(s[1]) == 'o' || Lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = Lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    if (IsDigit(s[i]) || (hex && IsHexLetter(s[i]))) {
      saw = '0';
    } else if (s[i] == '_') {
      if (saw != '0') return false;
      saw = '_';
    } else {
      if (saw == '_') return false;
      saw = '!';
    }
  }
  return saw != '_';
}

// Length of the common prefix of `s` and the lowercase `word`, ignoring the case of `s`.
size_t CommonPrefixLenIgnoreCase(absl::string_view s, absl::string_view word) {
  size_t n = 0;
  while (n < s.size() && n < word.size() && Lower(s[n]) == word[n]) ++n;
  return n;
}

// The "Inf", "Infinity" (optionally signed) and "NaN" forms, exactly as the whole of `s`.
std::optional<double> ParseSpecial(absl::string_view s) {
  absl::string_view rest = s;
  double sign = 1;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    if (rest[0] == '-') sign = -1;
    rest.remove_prefix(1);
  }
  const size_t inf = CommonPrefixLenIgnoreCase(rest, "infinity");
  if ((inf == 3 || inf == 8) && inf == rest.size()) {
    return sign * std::numeric_limits<double>::infinity();
  }
  if (rest.size() == s.size() && rest.size() == 3 && CommonPrefixLenIgnoreCase(rest, "nan") == 3) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return std::nullopt;
}

}  // namespace

void AppendGoFloat(std::string* out, double v, char format) {
  if (AppendNonFinite(out, v)) return;
  // The shortest round-trip digits, as "-d.ddde-dd".
  char buf[32];
  const std::to_chars_result r =
      std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  absl::string_view sci(buf, static_cast<size_t>(r.ptr - buf));
  if (sci[0] == '-') {
    out->push_back('-');
    sci.remove_prefix(1);
  }
  const size_t e = sci.find('e');
  int exp = 0;
  for (size_t i = e + 2; i < sci.size(); ++i) exp = exp * 10 + (sci[i] - '0');
  if (sci[e + 1] == '-') exp = -exp;
  if (format == 'e' || (format == 'g' && (exp < -4 || exp >= 6))) {
    out->append(sci.data(), sci.size());
    return;
  }
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  if (exp < 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-exp - 1), '0');
    out->append(digits);
  } else if (static_cast<size_t>(exp) + 1 >= digits.size()) {
    out->append(digits);
    out->append(static_cast<size_t>(exp) + 1 - digits.size(), '0');
  } else {
    out->append(digits, 0, static_cast<size_t>(exp) + 1);
    out->push_back('.');
    out->append(digits, static_cast<size_t>(exp) + 1);
  }
}

std::string GoFormatFloat(double v, char format) {
  std::string out;
  AppendGoFloat(&out, v, format);
  return out;
}

std::string GoFormatPercentF(double v) {
  std::string out;
  if (!AppendNonFinite(&out, v)) out = absl::StrFormat("%f", v);
  return out;
}

std::optional<double> ParseGoFloat(absl::string_view s) {
  if (std::optional<double> special = ParseSpecial(s)) return special;
  // Check Go's syntax (strtod accepts more: spaces, "0x1" without exponent, "nan(...)").
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool hex = false;
  if (i + 2 < s.size() && s[i] == '0' && Lower(s[i + 1]) == 'x') {
    hex = true;
    i += 2;
  }
  bool underscores = false;
  bool saw_dot = false;
  bool saw_digits = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      underscores = true;
    } else if (c == '.' && !saw_dot) {
      saw_dot = true;
    } else if (IsDigit(c) || (hex && IsHexLetter(c))) {
      saw_digits = true;
    } else {
      break;
    }
  }
  if (!saw_digits) return std::nullopt;
  if (i < s.size() && Lower(s[i]) == (hex ? 'p' : 'e')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !IsDigit(s[i])) return std::nullopt;
    for (; i < s.size() && (IsDigit(s[i]) || s[i] == '_'); ++i) {
      if (s[i] == '_') underscores = true;
    }
  } else if (hex) {
    return std::nullopt;  // a hexadecimal mantissa needs a p exponent
  }
  if (i != s.size()) return std::nullopt;
  if (underscores && !UnderscoresOk(s)) return std::nullopt;
  std::string clean;
  clean.reserve(s.size());
  for (char c : s) {
    if (c != '_') clean.push_back(c);
  }
  // strtod rounds correctly, decimal and hexadecimal alike (the process keeps the C locale).
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  if (errno == ERANGE && std::isinf(v)) return std::nullopt;  // overflow; underflow is fine
  return v;
}

std::optional<int64_t> ParseGoInt(absl::string_view s) {
  if (s.empty()) return std::nullopt;
  const absl::string_view orig = s;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    switch (Lower(s[1])) {
      case 'x':
        base = 16;
        s.remove_prefix(2);
        break;
      case 'o':
        base = 8;
        s.remove_prefix(2);
        break;
      case 'b':
        base = 2;
        s.remove_prefix(2);
        break;
      default:
        base = 8;
        s.remove_prefix(1);
        break;
    }
  }
  if (s.empty()) return std::nullopt;
  bool underscores = false;
  uint64_t n = 0;
  for (char c : s) {
    if (c == '_') {
      underscores = true;
      continue;
    }
    int d;
    if (IsDigit(c)) {
      d = c - '0';
    } else if (Lower(c) >= 'a' && Lower(c) <= 'z') {
      d = Lower(c) - 'a' + 10;
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    if (n > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(d)) /
                static_cast<uint64_t>(base)) {
      return std::nullopt;
    }
    n = n * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  if (underscores && !UnderscoresOk(orig)) return std::nullopt;
  const uint64_t limit = uint64_t{1} << 63;
  if (neg) {
    if (n > limit) return std::nullopt;
    return n == limit ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(n);
  }
  if (n >= limit) return std::nullopt;
  return static_cast<int64_t>(n);
}

int64_t GoFloatToInt64(double f) {
  if (std::isnan(f) || f >= 9223372036854775808.0 || f < -9223372036854775808.0) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(f);
}

}  // namespace sextant::promql
