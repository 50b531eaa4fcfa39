#include "common/logging.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace sextant {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kLogfmt)};

struct SinkState {
  absl::Mutex mu;
  std::function<void(absl::string_view)> sink ABSL_GUARDED_BY(mu);
  std::function<absl::Time()> now ABSL_GUARDED_BY(mu);
};

SinkState& State() {
  static SinkState* state = new SinkState();
  return *state;
}

// logfmt values need quotes when empty or when they hold a space, '=', '"' or a control byte.
bool NeedsQuotes(absl::string_view v) {
  if (v.empty()) return true;
  for (unsigned char c : v) {
    if (c <= ' ' || c == '=' || c == '"' || c == 0x7f) return true;
  }
  return false;
}

void AppendEscaped(std::string& out, absl::string_view v) {
  for (unsigned char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

void AppendLogfmt(std::string& out, absl::string_view key, absl::string_view value, bool number) {
  if (!out.empty()) out += ' ';
  out.append(key.data(), key.size());
  out += '=';
  if (!number && NeedsQuotes(value)) {
    out += '"';
    AppendEscaped(out, value);
    out += '"';
  } else {
    out.append(value.data(), value.size());
  }
}

void AppendJson(std::string& out, absl::string_view key, absl::string_view value, bool number) {
  out += out.size() == 1 ? "\"" : ",\"";
  AppendEscaped(out, key);
  out += "\":";
  if (number) {
    out.append(value.data(), value.size());
  } else {
    out += '"';
    AppendEscaped(out, value);
    out += '"';
  }
}

}  // namespace

LogValue::LogValue(double v) : is_number_(std::isfinite(v)) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  text_.assign(buf, res.ptr);
}

LogValue::LogValue(absl::Duration d) : text_(absl::FormatDuration(d)) {}

LogValue::LogValue(const absl::Status& s)
    : text_(s.ok() ? std::string("OK") : std::string(s.message())) {}

absl::StatusOr<LogLevel> ParseLogLevel(absl::string_view s) {
  std::string l = absl::AsciiStrToLower(s);
  if (l == "debug") return LogLevel::kDebug;
  if (l == "info") return LogLevel::kInfo;
  if (l == "warn" || l == "warning") return LogLevel::kWarn;
  if (l == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log level \"", s, "\" (want debug, info, warn or error)"));
}

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view s) {
  if (s == "logfmt") return LogFormat::kLogfmt;
  if (s == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown log format \"", s, "\" (want logfmt or json)"));
}

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel GetLogLevel() { return static_cast<LogLevel>(g_level.load()); }
void SetLogFormat(LogFormat format) { g_format.store(static_cast<int>(format)); }

void SetLogSink(std::function<void(absl::string_view line)> sink) {
  SinkState& st = State();
  absl::MutexLock lock(&st.mu);
  st.sink = std::move(sink);
}

void SetLogTimeSource(std::function<absl::Time()> now) {
  SinkState& st = State();
  absl::MutexLock lock(&st.mu);
  st.now = std::move(now);
}

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

std::string FormatLogLine(LogFormat format, absl::Time ts, LogLevel level, absl::string_view msg,
                          LogFields fields) {
  std::string out;
  std::string time = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", ts, absl::UTCTimeZone());
  if (format == LogFormat::kJson) {
    out = "{";
    AppendJson(out, "ts", time, false);
    AppendJson(out, "level", LogLevelName(level), false);
    AppendJson(out, "msg", msg, false);
    for (const LogField& f : fields) AppendJson(out, f.key, f.value.text(), f.value.is_number());
    out += '}';
  } else {
    AppendLogfmt(out, "ts", time, true);
    AppendLogfmt(out, "level", LogLevelName(level), true);
    AppendLogfmt(out, "msg", msg, false);
    for (const LogField& f : fields) AppendLogfmt(out, f.key, f.value.text(), f.value.is_number());
  }
  return out;
}

void Log(LogLevel level, absl::string_view msg, LogFields fields) {
  if (!LogEnabled(level)) return;
  SinkState& st = State();
  std::function<void(absl::string_view)> sink;
  std::function<absl::Time()> now_fn;
  {
    absl::MutexLock lock(&st.mu);
    sink = st.sink;
    now_fn = st.now;
  }
  // Formatting and writing happen outside the lock: a blocked stderr or a slow sink must not
  // stall other threads' logging, and a sink may log itself.
  const absl::Time now = now_fn ? now_fn() : absl::Now();
  std::string line =
      FormatLogLine(static_cast<LogFormat>(g_format.load()), now, level, msg, fields);
  if (sink) {
    sink(line);
    return;
  }
  line += '\n';
  // One write per line, so lines from several threads (and processes sharing stderr) do not
  // interleave.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace sextant
