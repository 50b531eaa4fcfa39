#include "common/http_types.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/json.h"

namespace sextant {

void HttpHeaders::Add(absl::string_view name, absl::string_view value) {
  headers_.emplace_back(absl::AsciiStrToLower(name), std::string(value));
}

absl::string_view HttpHeaders::Get(absl::string_view name) const {
  for (const auto& [n, v] : headers_) {
    if (absl::EqualsIgnoreCase(n, name)) return v;
  }
  return "";
}

bool HttpHeaders::Has(absl::string_view name) const {
  for (const auto& [n, v] : headers_) {
    if (absl::EqualsIgnoreCase(n, name)) return true;
  }
  return false;
}

void HttpParams::Add(std::string name, std::string value) {
  params_.emplace_back(std::move(name), std::move(value));
}

absl::string_view HttpParams::Get(absl::string_view name) const {
  for (const auto& [n, v] : params_) {
    if (n == name) return v;
  }
  return "";
}

bool HttpParams::Has(absl::string_view name) const {
  for (const auto& [n, v] : params_) {
    if (n == name) return true;
  }
  return false;
}

std::vector<std::string> HttpParams::GetAll(absl::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [n, v] : params_) {
    if (n == name) out.push_back(v);
  }
  return out;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

absl::StatusOr<std::string> UrlDecode(absl::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      const int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid URL escape ", JsonQuote(s.substr(i, 3))));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string UrlEncode(absl::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(c);
    } else {
      const auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
  return out;
}

absl::StatusOr<HttpParams> ParseUrlEncoded(absl::string_view text) {
  HttpParams params;
  for (absl::string_view pair : absl::StrSplit(text, '&', absl::SkipEmpty())) {
    const size_t eq = pair.find('=');
    absl::string_view raw_name = pair.substr(0, eq);
    absl::string_view raw_value = eq == absl::string_view::npos ? "" : pair.substr(eq + 1);
    absl::StatusOr<std::string> name = UrlDecode(raw_name, /*plus_is_space=*/true);
    if (!name.ok()) return name.status();
    absl::StatusOr<std::string> value = UrlDecode(raw_value, /*plus_is_space=*/true);
    if (!value.ok()) return value.status();
    params.Add(*std::move(name), *std::move(value));
  }
  return params;
}

}  // namespace sextant
