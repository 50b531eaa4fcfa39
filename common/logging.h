// Structured logging: one line per event, `msg` plus key=value fields.
//
//   LogInfo("listening", {{"addr", addr}, {"role", "server"}});
//   LogWarn("scrape failed", {{"target", url}, {"err", status}});
//
// logfmt by default (ts=... level=info msg="listening" addr=127.0.0.1:9190), JSON when chosen.
// Lines below the configured level are dropped before they are formatted. Thread-safe: each
// line is formatted, then written with one write(2) call, and no lock is held while writing.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sextant {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kLogfmt, kJson };

// Parses "debug", "info", "warn" (or "warning"), "error". InvalidArgument otherwise.
absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view s);
// Parses "logfmt" or "json". InvalidArgument otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view s);
absl::string_view LogLevelName(LogLevel level);

// A field value; numbers stay unquoted in JSON. A value type, thread-compatible.
class LogValue {
 public:
  LogValue(absl::string_view s) : text_(s) {}   // NOLINT: implicit by design.
  LogValue(const char* s) : text_(s) {}         // NOLINT
  LogValue(const std::string& s) : text_(s) {}  // NOLINT
  LogValue(bool b) : text_(b ? "true" : "false"), is_number_(true) {}  // NOLINT
  template <typename T,
            typename = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>>
  LogValue(T v) : text_(std::to_string(v)), is_number_(true) {}  // NOLINT
  LogValue(double v);                                            // NOLINT
  LogValue(absl::Duration d);                                    // NOLINT
  LogValue(const absl::Status& s);                               // NOLINT

  const std::string& text() const { return text_; }
  bool is_number() const { return is_number_; }

 private:
  std::string text_;
  bool is_number_ = false;
};

struct LogField {
  absl::string_view key;
  LogValue value;
};

using LogFields = std::initializer_list<LogField>;

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
void SetLogFormat(LogFormat format);
// Replaces where lines go (default: stderr); nullptr restores stderr. For tests.
void SetLogSink(std::function<void(absl::string_view line)> sink);
// Makes timestamps come from `now` (default: absl::Now). For tests.
void SetLogTimeSource(std::function<absl::Time()> now);

bool LogEnabled(LogLevel level);
void Log(LogLevel level, absl::string_view msg, LogFields fields = {});
inline void LogDebug(absl::string_view msg, LogFields fields = {}) {
  Log(LogLevel::kDebug, msg, fields);
}
inline void LogInfo(absl::string_view msg, LogFields fields = {}) {
  Log(LogLevel::kInfo, msg, fields);
}
inline void LogWarn(absl::string_view msg, LogFields fields = {}) {
  Log(LogLevel::kWarn, msg, fields);
}
inline void LogError(absl::string_view msg, LogFields fields = {}) {
  Log(LogLevel::kError, msg, fields);
}

// Formats one line without writing it (what Log writes, less the newline).
std::string FormatLogLine(LogFormat format, absl::Time ts, LogLevel level, absl::string_view msg,
                          LogFields fields);

}  // namespace sextant
