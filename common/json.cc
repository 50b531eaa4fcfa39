#include "common/json.h"

#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"
#include "rapidjson/error/en.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sextant {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

rapidjson::SizeType Size(absl::string_view s) { return static_cast<rapidjson::SizeType>(s.size()); }

// Calls `write` with `s`, made valid UTF-8 first when needed.
template <typename F>
void WithValidUtf8(absl::string_view s, F write) {
  if (IsValidUtf8(s)) {
    write(s);
  } else {
    const std::string clean = SanitizeUtf8(s);
    write(absl::string_view(clean));
  }
}

}  // namespace

std::string JsonQuote(absl::string_view s) {
  rapidjson::StringBuffer buffer;
  Writer writer(buffer);
  WithValidUtf8(s, [&](absl::string_view v) { writer.String(v.data(), Size(v)); });
  return std::string(buffer.GetString(), buffer.GetSize());
}

absl::Status ValidateJson(absl::string_view json) {
  rapidjson::MemoryStream stream(json.data(), json.size());
  rapidjson::BaseReaderHandler<rapidjson::UTF8<>> handler;
  rapidjson::Reader reader;
  // Iterative parsing keeps deeply nested input from exhausting the stack.
  constexpr unsigned kFlags =
      rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  const rapidjson::ParseResult result = reader.Parse<kFlags>(stream, handler);
  if (!result) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON at offset ", result.Offset(), ": ",
                                                   rapidjson::GetParseError_En(result.Code())));
  }
  // The reader treats a NUL byte as the end of the input; anything left means one was there.
  if (stream.Tell() != json.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid JSON at offset ", stream.Tell(), ": unexpected NUL byte"));
  }
  return absl::OkStatus();
}

struct JsonWriter::Impl {
  rapidjson::StringBuffer buffer;
  Writer writer{buffer};
};

JsonWriter::JsonWriter() : impl_(std::make_unique<Impl>()) {}
JsonWriter::~JsonWriter() = default;

void JsonWriter::StartObject() { impl_->writer.StartObject(); }
void JsonWriter::EndObject() { impl_->writer.EndObject(); }
void JsonWriter::StartArray() { impl_->writer.StartArray(); }
void JsonWriter::EndArray() { impl_->writer.EndArray(); }

void JsonWriter::Key(absl::string_view key) {
  WithValidUtf8(key, [&](absl::string_view v) { impl_->writer.Key(v.data(), Size(v)); });
}

void JsonWriter::String(absl::string_view value) {
  WithValidUtf8(value, [&](absl::string_view v) { impl_->writer.String(v.data(), Size(v)); });
}

void JsonWriter::Int(int64_t value) { impl_->writer.Int64(value); }
void JsonWriter::Uint(uint64_t value) { impl_->writer.Uint64(value); }

void JsonWriter::Double(double value) {
  if (std::isfinite(value)) {
    impl_->writer.Double(value);
  } else {
    impl_->writer.Null();
  }
}

void JsonWriter::Bool(bool value) { impl_->writer.Bool(value); }
void JsonWriter::Null() { impl_->writer.Null(); }

void JsonWriter::RawValue(absl::string_view json) {
  // The type only matters to RapidJSON's key/value bookkeeping; any non-string type will do.
  impl_->writer.RawValue(json.data(), json.size(), rapidjson::kObjectType);
}

std::string JsonWriter::TakeString() {
  std::string out(impl_->buffer.GetString(), impl_->buffer.GetSize());
  impl_->buffer.Clear();
  impl_->writer.Reset(impl_->buffer);
  return out;
}

}  // namespace sextant
