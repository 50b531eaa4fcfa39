#include "common/utf8.h"

#include <cstring>

namespace sextant {

int DecodeUtf8Rune(absl::string_view s, size_t i, uint32_t* rune) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *rune = c;
    return 1;
  }
  int len;
  uint32_t cp;
  if ((c & 0xe0) == 0xc0) {
    len = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (int k = 1; k < len; ++k) {
    const unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    return 0;
  }
  *rune = cp;
  return len;
}

bool IsValidUtf8(absl::string_view s) {
  uint32_t rune;
  for (size_t i = 0; i < s.size();) {
    // ASCII runs are the common case: eight bytes at a time while no high bit is set.
    uint64_t word;
    if (i + 8 <= s.size() &&
        (std::memcpy(&word, s.data() + i, 8), (word & 0x8080808080808080ULL) == 0)) {
      i += 8;
      continue;
    }
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const int width = DecodeUtf8Rune(s, i, &rune);
    if (width == 0) return false;
    i += width;
  }
  return true;
}

std::string SanitizeUtf8(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  uint32_t rune;
  for (size_t i = 0; i < s.size();) {
    const int width = DecodeUtf8Rune(s, i, &rune);
    if (width == 0) {
      out.append(kUtf8Replacement.data(), kUtf8Replacement.size());
      ++i;
    } else {
      out.append(s.data() + i, width);
      i += width;
    }
  }
  return out;
}

}  // namespace sextant
