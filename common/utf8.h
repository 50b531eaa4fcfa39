// UTF-8 checks with Go's rules (Prometheus is written in Go, and label values, regex input and
// JSON output must be judged exactly as it judges them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace sextant {

// The UTF-8 encoding of U+FFFD, which replaces each invalid byte.
inline constexpr absl::string_view kUtf8Replacement = "\xEF\xBF\xBD";

// Decodes the code point at s[i] (i < s.size()) as Go's utf8.DecodeRuneInString does: returns its
// width in bytes and stores it in *rune, or returns 0 when the bytes there are not a valid
// encoding (overlong forms, surrogates, values past U+10FFFF and truncated sequences included).
int DecodeUtf8Rune(absl::string_view s, size_t i, uint32_t* rune);

// True when every byte of `s` belongs to a valid UTF-8 sequence.
bool IsValidUtf8(absl::string_view s);

// `s` with each byte that does not start a valid sequence replaced by U+FFFD, as Go's
// strings.ToValidUTF8-per-byte and its regexp see invalid input.
std::string SanitizeUtf8(absl::string_view s);

}  // namespace sextant
