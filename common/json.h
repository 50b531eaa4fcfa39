// Small JSON helpers (RapidJSON underneath, not visible here): quoting, a streaming writer, and
// validation.
//
//   JsonWriter w;
//   w.StartObject();
//   w.Key("status");
//   w.String("success");
//   w.EndObject();
//   std::string json = w.TakeString();  // {"status":"success"}
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace sextant {

// `s` as a quoted JSON string with the needed escapes. Valid JSON for any bytes: each byte that
// is not part of valid UTF-8 becomes U+FFFD, as Go's encoding/json does (SanitizeUtf8 in
// common/utf8.h).
std::string JsonQuote(absl::string_view s);

// OK when `json` is one well-formed JSON value (surrounding whitespace allowed) in valid UTF-8.
// InvalidArgument otherwise; the message gives the byte offset and what is wrong.
absl::Status ValidateJson(absl::string_view json);

// Builds a compact JSON document by calls in document order. Strings and keys are escaped and
// made valid UTF-8 (see JsonQuote). The caller keeps the calls balanced (a Key before each value
// in an object); an unbalanced sequence gives malformed output. Owned by its user; not
// thread-safe.
class JsonWriter {
 public:
  JsonWriter();
  ~JsonWriter();
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void StartObject();
  void EndObject();
  void StartArray();
  void EndArray();
  void Key(absl::string_view key);
  void String(absl::string_view value);
  void Int(int64_t value);
  void Uint(uint64_t value);
  // Shortest representation that reads back the same double. NaN and infinities, which JSON
  // cannot hold, are written as null.
  void Double(double value);
  void Bool(bool value);
  void Null();
  // Inserts `json` as one value without checking it; it must be a complete JSON value.
  void RawValue(absl::string_view json);

  // The document written so far; the writer is reset and can build a new one.
  std::string TakeString();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sextant
