#include "tests/aggregator/promql/script/script.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <fstream>
#include <limits>
#include <regex>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "aggregator/promql/go_float.h"
#include "aggregator/promql/parser.h"
#include "aggregator/promql/value.h"

namespace sextant::promql::script {
namespace {

// The staleness marker, as a double.
double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

absl::Status LineError(absl::string_view file, int line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(file, ":", line, ": ", message));
}

// Decodes the PromQL string literal that starts at text[*pos] (one of " ' `) as the parser does.
// Advances *pos past the closing quote.
absl::StatusOr<std::string> ReadQuoted(absl::string_view text, size_t* pos) {
  const char quote = text[*pos];
  size_t end = *pos + 1;
  while (end < text.size() && text[end] != quote) {
    if (quote != '`' && text[end] == '\\') ++end;  // the escaped character cannot close it
    ++end;
  }
  if (end >= text.size()) return absl::InvalidArgumentError("unterminated quoted string");
  absl::StatusOr<std::string> value = UnquoteString(text.substr(*pos, end + 1 - *pos));
  if (value.ok()) *pos = end + 1;
  return value;
}

// The token kinds of a series value item (the lexer's value-sequence mode).
enum class Tok { kNumber, kAdd, kSub, kTimes, kBlank, kIdent };
struct Token {
  Tok kind;
  std::string text;
};

absl::StatusOr<std::vector<Token>> LexItem(absl::string_view item) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < item.size()) {
    const char c = item[i];
    if (c == '+') {
      out.push_back({Tok::kAdd, "+"});
      ++i;
    } else if (c == '-') {
      out.push_back({Tok::kSub, "-"});
      ++i;
    } else if (c == 'x') {
      out.push_back({Tok::kTimes, "x"});
      ++i;
    } else if (c == '_') {
      out.push_back({Tok::kBlank, "_"});
      ++i;
    } else if (IsDigit(c) || (c == '.' && i + 1 < item.size() && IsDigit(item[i + 1]))) {
      const size_t start = i;
      while (i < item.size() && IsDigit(item[i])) ++i;
      if (i < item.size() && item[i] == '.') {
        ++i;
        while (i < item.size() && IsDigit(item[i])) ++i;
      }
      if (i < item.size() && (item[i] == 'e' || item[i] == 'E')) {
        ++i;
        if (i < item.size() && (item[i] == '+' || item[i] == '-')) ++i;
        while (i < item.size() && IsDigit(item[i])) ++i;
      }
      if (i < item.size() && item[i] != 'x' && IsAlnum(item[i])) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad number or duration syntax: \"", item.substr(start), "\""));
      }
      out.push_back({Tok::kNumber, std::string(item.substr(start, i - start))});
    } else if (IsAlpha(c)) {
      const size_t start = i;
      while (i < item.size() && (IsAlnum(item[i]) || item[i] == ':')) ++i;
      out.push_back({Tok::kIdent, std::string(item.substr(start, i - start))});
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected character in series sequence: '", std::string(1, c), "'"));
    }
  }
  return out;
}

absl::StatusOr<double> NumberToken(const Token& t) {
  absl::StatusOr<double> v = ParseGoNumber(t.text);
  if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat("bad number \"", t.text, "\""));
  return *v;
}

absl::StatusOr<uint64_t> TimesToken(const std::vector<Token>& toks, size_t i) {
  if (i >= toks.size() || toks[i].kind != Tok::kNumber) {
    return absl::InvalidArgumentError("expected a repetition count after 'x'");
  }
  uint64_t n = 0;
  for (char c : toks[i].text) {
    if (!IsDigit(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid repetition in series values: \"", toks[i].text, "\""));
    }
    n = n * 10 + static_cast<uint64_t>(c - '0');
    if (n > 10'000'000) return absl::InvalidArgumentError("repetition count too large");
  }
  if (i + 1 != toks.size()) return absl::InvalidArgumentError("unexpected tokens after repetition");
  return n;
}

// One whitespace-separated item of a series' values, expanded and appended to `out`.
absl::Status ParseItem(absl::string_view item, std::vector<SeriesValue>& out) {
  absl::StatusOr<std::vector<Token>> lexed = LexItem(item);
  if (!lexed.ok()) return lexed.status();
  const std::vector<Token>& toks = *lexed;
  if (toks.empty()) return absl::OkStatus();
  size_t i = 0;
  if (toks[0].kind == Tok::kBlank) {
    if (toks.size() == 1) {
      out.push_back(std::nullopt);
      return absl::OkStatus();
    }
    if (toks[1].kind != Tok::kTimes)
      return absl::InvalidArgumentError("unexpected token after '_'");
    absl::StatusOr<uint64_t> n = TimesToken(toks, 2);
    if (!n.ok()) return n.status();
    for (uint64_t k = 0; k < *n; ++k) out.push_back(std::nullopt);
    return absl::OkStatus();
  }
  // The first value: [+-]number, inf/nan words, or stale.
  double value = 0;
  bool negate = false;
  if (toks[i].kind == Tok::kAdd || toks[i].kind == Tok::kSub) {
    negate = toks[i].kind == Tok::kSub;
    ++i;
    if (i >= toks.size()) return absl::InvalidArgumentError("a sign must be followed by a number");
  }
  if (toks[i].kind == Tok::kNumber) {
    absl::StatusOr<double> v = NumberToken(toks[i]);
    if (!v.ok()) return v.status();
    value = *v;
  } else if (toks[i].kind == Tok::kIdent) {
    const std::string lower = absl::AsciiStrToLower(toks[i].text);
    if (lower == "stale" && !negate && i == 0) {
      value = StaleNaN();
    } else if (lower == "inf" || lower == "nan") {
      value = lower == "inf" ? std::numeric_limits<double>::infinity()
                             : std::numeric_limits<double>::quiet_NaN();
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected identifier \"", toks[i].text, "\" in series values"));
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unexpected \"", toks[i].text, "\""));
  }
  if (negate) value = -value;
  ++i;
  if (i == toks.size()) {
    out.push_back(value);
    return absl::OkStatus();
  }
  if (toks[i].kind == Tok::kTimes) {
    absl::StatusOr<uint64_t> n = TimesToken(toks, i + 1);
    if (!n.ok()) return n.status();
    for (uint64_t k = 0; k <= *n; ++k) out.push_back(value);
    return absl::OkStatus();
  }
  if (toks[i].kind != Tok::kAdd && toks[i].kind != Tok::kSub) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected \"", toks[i].text, "\""));
  }
  const bool minus = toks[i].kind == Tok::kSub;
  ++i;
  if (i >= toks.size() || toks[i].kind != Tok::kNumber) {
    return absl::InvalidArgumentError("expected a number after the sign");
  }
  absl::StatusOr<double> delta = NumberToken(toks[i]);
  if (!delta.ok()) return delta.status();
  const double step = minus ? -*delta : *delta;
  ++i;
  if (i >= toks.size() || toks[i].kind != Tok::kTimes) {
    return absl::InvalidArgumentError("expected 'x' after the increment");
  }
  absl::StatusOr<uint64_t> n = TimesToken(toks, i + 1);
  if (!n.ok()) return n.status();
  // As Prometheus: the increment is added cumulatively.
  out.push_back(value);
  for (uint64_t k = 1; k <= *n; ++k) {
    value += step;
    out.push_back(value);
  }
  return absl::OkStatus();
}

// Go's strings.TrimSpace, ASCII whitespace.
absl::string_view Trim(absl::string_view s) {
  while (!s.empty() && (IsSpace(s.front()) || s.front() == '\v' || s.front() == '\f')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (IsSpace(s.back()) || s.back() == '\v' || s.back() == '\f')) {
    s.remove_suffix(1);
  }
  return s;
}

class Parser {
 public:
  Parser(absl::string_view file, absl::string_view content) : file_(file) {
    for (absl::string_view l : absl::StrSplit(content, '\n')) {
      l = Trim(l);
      if (absl::StartsWith(l, "#")) l = "";
      lines_.push_back(l);
    }
  }

  absl::StatusOr<Script> Parse() {
    Script script;
    script.file = std::string(file_);
    for (size_t i = 0; i < lines_.size(); ++i) {
      const absl::string_view l = lines_[i];
      if (l.empty()) continue;
      const size_t sp = l.find_first_of(" \t");
      const std::string word = absl::AsciiStrToLower(l.substr(0, sp));
      Command cmd;
      cmd.line = static_cast<int>(i) + 1;
      if (word == "clear") {
        cmd.cmd = ClearCommand{};
      } else if (word == "load") {
        absl::StatusOr<LoadCommand> load = ParseLoad(i);
        if (!load.ok()) return load.status();
        cmd.cmd = std::move(*load);
      } else if (absl::StartsWith(word, "eval")) {
        absl::StatusOr<EvalCommand> eval = ParseEval(i);
        if (!eval.ok()) return eval.status();
        cmd.cmd = std::move(*eval);
      } else {
        return LineError(file_, cmd.line, absl::StrCat("invalid command \"", l, "\""));
      }
      script.commands.push_back(std::move(cmd));
    }
    return script;
  }

 private:
  absl::Status Error(size_t i, absl::string_view message) const {
    return LineError(file_, static_cast<int>(i) + 1, message);
  }

  absl::StatusOr<int64_t> Duration(size_t i, absl::string_view what, const std::string& s) const {
    absl::StatusOr<int64_t> d = ParseScriptDuration(s);
    if (!d.ok()) {
      return Error(i, absl::StrCat("invalid ", what, " \"", s, "\": ", d.status().message()));
    }
    return *d;
  }

  // `load <step>` and its series lines; *i ends on the block's last line.
  absl::StatusOr<LoadCommand> ParseLoad(size_t& i) {
    static const std::regex kLoad(R"(^load\s+(.+?)$)");
    std::smatch m;
    const std::string line(lines_[i]);
    if (!std::regex_match(line, m, kLoad)) {
      return Error(i, "invalid load command. (load <step:duration>)");
    }
    LoadCommand load;
    absl::StatusOr<int64_t> step = Duration(i, "step definition", m[1].str());
    if (!step.ok()) return step.status();
    load.step_ms = *step;
    while (i + 1 < lines_.size() && !lines_[i + 1].empty()) {
      ++i;
      absl::StatusOr<SeriesLine> s = ParseSeriesLine(lines_[i], static_cast<int>(i) + 1);
      if (!s.ok()) return Error(i, s.status().message());
      // As Prometheus: a series given twice in one load keeps the last definition.
      bool replaced = false;
      for (SeriesLine& existing : load.series) {
        if (existing.labels == s->labels) {
          existing = std::move(*s);
          replaced = true;
          break;
        }
      }
      if (!replaced) load.series.push_back(std::move(*s));
    }
    return load;
  }

  absl::StatusOr<EvalCommand> ParseEval(size_t& i) {
    static const std::regex kInstant(
        R"(^eval(?:_(fail|ordered))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$)");
    static const std::regex kRange(
        R"(^eval(?:_(fail))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$)");
    const std::string line(lines_[i]);
    std::smatch m;
    EvalCommand eval;
    std::string mod;
    if (std::regex_match(line, m, kInstant)) {
      mod = m[1].str();
      eval.expr = m[3].str();
      absl::StatusOr<int64_t> at = Duration(i, "timestamp definition", m[2].str());
      if (!at.ok()) return at.status();
      eval.at_ms = *at;
    } else if (std::regex_match(line, m, kRange)) {
      eval.range = true;
      mod = m[1].str();
      eval.expr = m[5].str();
      absl::StatusOr<int64_t> from = Duration(i, "start timestamp definition", m[2].str());
      if (!from.ok()) return from.status();
      absl::StatusOr<int64_t> to = Duration(i, "end timestamp definition", m[3].str());
      if (!to.ok()) return to.status();
      absl::StatusOr<int64_t> step = Duration(i, "step definition", m[4].str());
      if (!step.ok()) return step.status();
      if (*to < *from) {
        return Error(i, "invalid test definition, end timestamp is before start timestamp");
      }
      eval.start_ms = *from;
      eval.end_ms = *to;
      eval.step_ms = *step;
    } else {
      return Error(i,
                   "invalid evaluation command. Must be either 'eval[_fail|_ordered] instant "
                   "[at <offset:duration>] <query>' or 'eval[_fail] range from <from> to <to> "
                   "step <step> <query>'");
    }
    eval.fail = mod == "fail";
    eval.ordered = mod == "ordered";
    while (i + 1 < lines_.size() && !lines_[i + 1].empty()) {
      ++i;
      if (absl::StatusOr<double> f = ParseGoNumber(lines_[i]); f.ok()) {
        eval.expected_scalar = *f;
        break;
      }
      absl::StatusOr<SeriesLine> s = ParseSeriesLine(lines_[i], static_cast<int>(i) + 1);
      if (!s.ok()) return Error(i, s.status().message());
      if (s->native_histogram) eval.native_histogram = true;
      if (!eval.range && s->values.size() > 1) {
        return Error(i, "expecting multiple values in instant evaluation not allowed");
      }
      eval.expected.push_back(std::move(*s));
    }
    return eval;
  }

  absl::string_view file_;
  std::vector<absl::string_view> lines_;
};

}  // namespace

absl::StatusOr<double> ParseGoNumber(absl::string_view s) {
  if (std::optional<int64_t> n = ParseGoInt(s); n.has_value()) return static_cast<double>(*n);
  if (std::optional<double> f = ParseGoFloat(s); f.has_value()) return *f;
  return absl::InvalidArgumentError(absl::StrCat("error parsing number: \"", s, "\""));
}

absl::StatusOr<int64_t> ParseScriptDuration(absl::string_view s) {
  if (s == "0") return 0;
  if (s.empty()) return absl::InvalidArgumentError("empty duration string");
  const absl::Status invalid =
      absl::InvalidArgumentError(absl::StrCat("not a valid duration string: \"", s, "\""));
  struct Unit {
    absl::string_view name;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000},
                                    {"w", 7LL * 24 * 3600 * 1000},
                                    {"d", 24LL * 3600 * 1000},
                                    {"h", 3600LL * 1000},
                                    {"m", 60LL * 1000},
                                    {"s", 1000},
                                    {"ms", 1}};
  size_t next_unit = 0;
  int64_t total = 0;
  size_t i = 0;
  while (i < s.size()) {
    const size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return invalid;
    int64_t n = 0;
    for (size_t k = start; k < i; ++k) {
      if (n > (std::numeric_limits<int64_t>::max() - 9) / 10) return invalid;
      n = n * 10 + (s[k] - '0');
    }
    size_t unit_end = i;
    while (unit_end < s.size() && !IsDigit(s[unit_end])) ++unit_end;
    const absl::string_view unit = s.substr(i, unit_end - i);
    bool found = false;
    for (; next_unit < std::size(kUnits); ++next_unit) {
      if (kUnits[next_unit].name == unit) {
        found = true;
        if (n > std::numeric_limits<int64_t>::max() / kUnits[next_unit].ms) return invalid;
        total += n * kUnits[next_unit].ms;
        ++next_unit;
        break;
      }
    }
    if (!found) return invalid;
    i = unit_end;
  }
  return total;
}

bool AlmostEqual(double a, double b) {
  constexpr double kEpsilon = 0.000001;
  const double min_normal = std::numeric_limits<double>::min();  // 0x0010000000000000
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  const double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || diff < min_normal) return diff < kEpsilon * min_normal;
  // Capped as later Prometheus versions do: |a|+|b| overflowing to +Inf would make any two huge
  // values equal.
  return diff / std::min(std::fabs(a) + std::fabs(b), std::numeric_limits<double>::max()) <
         kEpsilon;
}

absl::StatusOr<SeriesLine> ParseSeriesLine(absl::string_view text, int line_number) {
  SeriesLine out;
  out.line = line_number;
  size_t i = 0;
  std::vector<prom::Label> labels;
  std::string name;
  if (i < text.size() && (IsAlpha(text[i]) || text[i] == ':')) {
    const size_t start = i;
    while (i < text.size() && (IsAlnum(text[i]) || text[i] == ':')) ++i;
    name = std::string(text.substr(start, i - start));
  }
  if (i < text.size() && text[i] == '{') {
    ++i;
    while (true) {
      while (i < text.size() && IsSpace(text[i])) ++i;
      if (i >= text.size()) return absl::InvalidArgumentError("unexpected end of label set");
      if (text[i] == '}') {
        ++i;
        break;
      }
      const size_t start = i;
      while (i < text.size() && IsAlnum(text[i])) ++i;
      if (i == start || IsDigit(text[start])) {
        return absl::InvalidArgumentError(
            absl::StrCat("unexpected character in label set: '", std::string(1, text[start]), "'"));
      }
      std::string label_name(text.substr(start, i - start));
      while (i < text.size() && IsSpace(text[i])) ++i;
      if (i >= text.size() || text[i] != '=' ||
          (i + 1 < text.size() && (text[i + 1] == '~' || text[i + 1] == '='))) {
        return absl::InvalidArgumentError(
            absl::StrCat("expected '=' after label name \"", label_name, "\""));
      }
      ++i;
      while (i < text.size() && IsSpace(text[i])) ++i;
      if (i >= text.size() || (text[i] != '"' && text[i] != '\'' && text[i] != '`')) {
        return absl::InvalidArgumentError(
            absl::StrCat("expected a quoted value for label \"", label_name, "\""));
      }
      absl::StatusOr<std::string> value = ReadQuoted(text, &i);
      if (!value.ok()) return value.status();
      labels.push_back({std::move(label_name), std::move(*value)});
      while (i < text.size() && IsSpace(text[i])) ++i;
      if (i < text.size() && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < text.size() && text[i] == '}') {
        ++i;
        break;
      }
      return absl::InvalidArgumentError("expected ',' or '}' in label set");
    }
  } else if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid series description \"", text, "\""));
  }
  if (!name.empty()) {
    for (const prom::Label& l : labels) {
      if (l.name == prom::kMetricNameLabel) {
        return absl::InvalidArgumentError("metric name given twice");
      }
    }
    labels.push_back({std::string(prom::kMetricNameLabel), name});
  }
  absl::StatusOr<prom::Labels> set = prom::Labels::FromUnsorted(std::move(labels));
  if (!set.ok()) return set.status();
  out.labels = std::move(*set);

  const absl::string_view rest = text.substr(i);
  if (!rest.empty() && !IsSpace(rest[0])) {
    return absl::InvalidArgumentError(
        absl::StrCat("unexpected \"", rest, "\" after the series selector"));
  }
  if (absl::StrContains(rest, "{{")) {
    out.native_histogram = true;
    return out;
  }
  for (absl::string_view item : absl::StrSplit(rest, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
    if (absl::Status s = ParseItem(item, out.values); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("series values \"", item, "\": ", s.message()));
    }
  }
  return out;
}

absl::StatusOr<Script> ParseScript(absl::string_view file, absl::string_view content) {
  return Parser(file, content).Parse();
}

absl::StatusOr<Script> ReadScript(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseScript(path, ss.str());
}

}  // namespace sextant::promql::script
