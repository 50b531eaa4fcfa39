#include "prom/text_format.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace sextant::prom {
namespace {

// The NaN Prometheus stores for a parsed "NaN" (value.NormalNaN); distinct from StaleNaN().
constexpr uint64_t kNormalNaNBits = 0x7ff8000000000001ULL;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLabelNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsLabelNameChar(char c) { return IsLabelNameStart(c) || IsDigit(c); }
bool IsMetricNameStart(char c) { return IsLabelNameStart(c) || c == ':'; }
bool IsMetricNameChar(char c) { return IsMetricNameStart(c) || IsDigit(c); }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// ---------------------------------------------------------------------------------------------
// Numbers.

enum class FloatParse { kOk, kSyntax, kRange };

// Go's strconv.ParseFloat(s, 64) without the forms Prometheus refuses (hex floats and `_`, both
// of which need a 'p' or '_'): [+-]digits[.digits][e[+-]digits] with at least one mantissa digit,
// [+-]inf, [+-]infinity, nan (letters in any case). Overflow is an error (kRange), underflow
// gives zero, as in Go.
FloatParse ParseGoFloat(absl::string_view s, double* out) {
  size_t i = 0;
  const size_t n = s.size();
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  absl::string_view rest = s.substr(i);
  if (absl::EqualsIgnoreCase(rest, "inf") || absl::EqualsIgnoreCase(rest, "infinity")) {
    *out = neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return FloatParse::kOk;
  }
  if (i == 0 && absl::EqualsIgnoreCase(rest, "nan")) {
    *out = std::bit_cast<double>(kNormalNaNBits);
    return FloatParse::kOk;
  }
  // Validate the decimal grammar and note the magnitude, for telling overflow from underflow.
  size_t j = i;
  bool digits = false;
  int64_t int_digits = 0;  // digits before the point after leading zeros
  int64_t leading_frac_zeros = 0;
  bool nonzero_seen = false;
  while (j < n && IsDigit(s[j])) {
    digits = true;
    if (s[j] != '0') nonzero_seen = true;
    if (nonzero_seen) ++int_digits;
    ++j;
  }
  if (j < n && s[j] == '.') {
    ++j;
    while (j < n && IsDigit(s[j])) {
      digits = true;
      if (s[j] != '0') nonzero_seen = true;
      if (!nonzero_seen) ++leading_frac_zeros;
      ++j;
    }
  }
  if (!digits) return FloatParse::kSyntax;
  int64_t exp = 0;
  if (j < n && (s[j] == 'e' || s[j] == 'E')) {
    ++j;
    bool eneg = false;
    if (j < n && (s[j] == '+' || s[j] == '-')) {
      eneg = s[j] == '-';
      ++j;
    }
    if (j >= n || !IsDigit(s[j])) return FloatParse::kSyntax;
    while (j < n && IsDigit(s[j])) {
      if (exp < 1000000) exp = exp * 10 + (s[j] - '0');
      ++j;
    }
    if (eneg) exp = -exp;
  }
  if (j != n) return FloatParse::kSyntax;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data() + i, s.data() + n, v, std::chars_format::general);
  if (ec == std::errc::result_out_of_range) {
    if (!nonzero_seen) {
      v = 0;
    } else {
      // Decimal exponent of the leading digit.
      int64_t mag = (int_digits > 0 ? int_digits - 1 : -(leading_frac_zeros + 1)) + exp;
      if (mag > 0) return FloatParse::kRange;
      v = 0;
    }
  } else if (ec != std::errc() || ptr != s.data() + n) {
    return FloatParse::kSyntax;
  }
  *out = neg ? -v : v;
  return FloatParse::kOk;
}

// Appends v as Go's strconv.FormatFloat(v, 'g', -1, 64), for finite non-zero v.
void AppendGoFloat(double v, std::string* out) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  absl::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  // sci is [-]d[.ddd]e(+|-)dd...: split into digits and the decimal exponent.
  bool neg = false;
  if (!sci.empty() && sci[0] == '-') {
    neg = true;
    sci.remove_prefix(1);
  }
  size_t e = sci.find('e');
  absl::string_view mant = sci.substr(0, e);
  int exp10 = 0;
  std::from_chars(sci.data() + e + 2, sci.data() + sci.size(), exp10);
  if (sci[e + 1] == '-') exp10 = -exp10;
  char digs[32];
  int nd = 0;
  for (char c : mant) {
    if (c != '.') digs[nd++] = c;
  }
  if (neg) out->push_back('-');
  // Go: %e when exp < -4 || exp >= eprec, eprec = 6 for the shortest form.
  if (exp10 < -4 || exp10 >= 6) {
    out->push_back(digs[0]);
    if (nd > 1) {
      out->push_back('.');
      out->append(digs + 1, static_cast<size_t>(nd - 1));
    }
    out->push_back('e');
    out->push_back(exp10 < 0 ? '-' : '+');
    int a = exp10 < 0 ? -exp10 : exp10;
    if (a < 10) out->push_back('0');
    absl::StrAppend(out, a);
    return;
  }
  // %f with max(nd - dp, 0) decimals, dp = exp10 + 1 digits before the point.
  int dp = exp10 + 1;
  if (dp > 0) {
    for (int k = 0; k < dp; ++k) out->push_back(k < nd ? digs[k] : '0');
  } else {
    out->push_back('0');
  }
  int decimals = nd - dp;
  if (decimals > 0) {
    out->push_back('.');
    for (int k = 0; k < decimals; ++k) {
      int idx = dp + k;
      out->push_back(idx >= 0 && idx < nd ? digs[idx] : '0');
    }
  }
}

void AppendPromFloat(double v, std::string* out) {
  if (v == 1) {
    out->push_back('1');
  } else if (v == 0) {
    out->push_back('0');
  } else if (v == -1) {
    out->append("-1");
  } else if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    AppendGoFloat(v, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Writer.

// Appends `v` with `\` and newline escaped, and `"` too when `quote`.
void AppendEscaped(absl::string_view v, bool quote, std::string* out) {
  size_t start = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    const char* rep = nullptr;
    if (c == '\\') {
      rep = "\\\\";
    } else if (c == '\n') {
      rep = "\\n";
    } else if (c == '"' && quote) {
      rep = "\\\"";
    } else {
      continue;
    }
    out->append(v.data() + start, i - start);
    out->append(rep);
    start = i + 1;
  }
  out->append(v.data() + start, v.size() - start);
}

// The TYPE word 0.0.4 writes: OpenMetrics' own name for the types both formats have, "untyped"
// for unknown, and "gauge" for the OpenMetrics-only types (see WriteTextFormat).
absl::string_view Text004TypeName(MetricType t) {
  switch (t) {
    case MetricType::kUntyped:
      return "untyped";
    case MetricType::kInfo:
    case MetricType::kStateSet:
    case MetricType::kGaugeHistogram:
      return "gauge";
    default:
      return MetricTypeName(t);
  }
}

MetricType Text004Type(MetricType t) {
  switch (t) {
    case MetricType::kInfo:
    case MetricType::kStateSet:
    case MetricType::kGaugeHistogram:
      return MetricType::kGauge;
    default:
      return t;
  }
}

// True when name == base + suffix.
bool IsSuffixed(absl::string_view name, absl::string_view base, absl::string_view suffix) {
  return name.size() == base.size() + suffix.size() && absl::StartsWith(name, base) &&
         absl::EndsWith(name, suffix);
}

// One 0.0.4 family of the output: a name, a type and the samples written under them.
struct OutGroup {
  absl::string_view name;
  MetricType type;
  std::vector<const ExpositionSample*> samples;
};

// The 0.0.4 family (name, type) that sample `n` of `fam` is written in; see WriteTextFormat.
std::pair<absl::string_view, MetricType> GroupFor(const MetricFamily& fam, absl::string_view n) {
  absl::string_view f = fam.name;
  switch (fam.type) {
    case MetricType::kCounter:
      if (n == f || IsSuffixed(n, f, "_total")) return {n, MetricType::kCounter};
      if (IsSuffixed(n, f, "_created")) return {n, MetricType::kGauge};
      return {n, MetricType::kUntyped};
    case MetricType::kGauge:
      if (n == f) return {f, MetricType::kGauge};
      return {n, MetricType::kUntyped};
    case MetricType::kUntyped:
      return {n, MetricType::kUntyped};
    case MetricType::kHistogram:
      if (IsSuffixed(n, f, "_bucket") || IsSuffixed(n, f, "_sum") || IsSuffixed(n, f, "_count")) {
        return {f, MetricType::kHistogram};
      }
      if (IsSuffixed(n, f, "_created")) return {n, MetricType::kGauge};
      return {n, MetricType::kUntyped};
    case MetricType::kSummary:
      if (n == f || IsSuffixed(n, f, "_sum") || IsSuffixed(n, f, "_count")) {
        return {f, MetricType::kSummary};
      }
      if (IsSuffixed(n, f, "_created")) return {n, MetricType::kGauge};
      return {n, MetricType::kUntyped};
    case MetricType::kInfo:
    case MetricType::kStateSet:
    case MetricType::kGaugeHistogram:
      return {n, MetricType::kGauge};
  }
  return {n, MetricType::kUntyped};
}

void WriteSample(const ExpositionSample& s, absl::string_view fallback_name, const OutGroup& g,
                 std::string* out) {
  absl::string_view name = s.labels.MetricName();
  if (name.empty()) name = fallback_name;
  // client_golang writes the bucket bound and the quantile after the other labels.
  absl::string_view last;
  if (g.type == MetricType::kHistogram && IsSuffixed(name, g.name, "_bucket")) {
    last = "le";
  } else if (g.type == MetricType::kSummary && name == g.name) {
    last = "quantile";
  }
  out->append(name.data(), name.size());
  bool open = false;
  const Label* deferred = nullptr;
  for (const Label& l : s.labels) {
    if (l.name == kMetricNameLabel) continue;
    if (!last.empty() && l.name == last) {
      deferred = &l;
      continue;
    }
    out->push_back(open ? ',' : '{');
    open = true;
    absl::StrAppend(out, l.name, "=\"");
    AppendEscaped(l.value, true, out);
    out->push_back('"');
  }
  if (deferred != nullptr) {
    out->push_back(open ? ',' : '{');
    open = true;
    absl::StrAppend(out, deferred->name, "=\"");
    AppendEscaped(deferred->value, true, out);
    out->push_back('"');
  }
  if (open) out->push_back('}');
  out->push_back(' ');
  AppendPromFloat(s.value, out);
  if (s.timestamp_ms.has_value()) absl::StrAppend(out, " ", *s.timestamp_ms);
  out->push_back('\n');
}

void WriteGroup(const MetricFamily& fam, const OutGroup& g, std::string* out) {
  bool blank_help = std::all_of(fam.help.begin(), fam.help.end(), IsBlank);
  if (!blank_help) {
    absl::StrAppend(out, "# HELP ", g.name, " ");
    AppendEscaped(fam.help, false, out);
    out->push_back('\n');
  }
  absl::StrAppend(out, "# TYPE ", g.name, " ", Text004TypeName(g.type), "\n");
  for (const ExpositionSample* s : g.samples) WriteSample(*s, fam.name, g, out);
}

void WriteFamily(const MetricFamily& fam, std::string* out) {
  absl::InlinedVector<OutGroup, 2> groups;
  if (fam.samples.empty()) {
    groups.push_back(OutGroup{fam.name, Text004Type(fam.type), {}});
  }
  for (const ExpositionSample& s : fam.samples) {
    absl::string_view n = s.labels.MetricName();
    if (n.empty()) n = fam.name;
    auto [gname, gtype] = GroupFor(fam, n);
    OutGroup* g = nullptr;
    for (OutGroup& cand : groups) {
      if (cand.name == gname) {
        g = &cand;
        break;
      }
    }
    if (g == nullptr) {
      groups.push_back(OutGroup{gname, gtype, {}});
      g = &groups.back();
    }
    g->samples.push_back(&s);
  }
  for (const OutGroup& g : groups) WriteGroup(fam, g, out);
}

// ---------------------------------------------------------------------------------------------
// Parser.

// Go's strings.Replacer over `\\`, `\n` and, when `quote`, `\"`: other backslashes stay.
std::string Unescape(absl::string_view raw, bool quote) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      char nx = raw[i + 1];
      if (nx == '\\') {
        out.push_back('\\');
        ++i;
        continue;
      }
      if (nx == 'n') {
        out.push_back('\n');
        ++i;
        continue;
      }
      if (nx == '"' && quote) {
        out.push_back('"');
        ++i;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

// A quoted, escaped, length-limited rendering of input text for error messages.
std::string Quote(absl::string_view s) {
  constexpr size_t kMax = 64;
  bool cut = s.size() > kMax;
  if (cut) s = s.substr(0, kMax);
  return absl::StrCat("\"", absl::CHexEscape(s), cut ? "...\"" : "\"");
}

// A label as read, before validation: where it was, for error messages.
struct RawLabel {
  absl::string_view name;
  std::string value;
  size_t pos;  // offset of the name in the input
};

// Per-family parsing state, parallel to the output families.
struct FamilyState {
  bool has_help = false;
  bool has_type = false;
  bool has_unit = false;
  bool has_samples = false;
};

// The suffixes of a family's sample names in OpenMetrics ("" is the family name itself).
absl::InlinedVector<absl::string_view, 4> OmSuffixes(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return {"_total", "_created"};
    case MetricType::kHistogram:
      return {"_bucket", "_count", "_sum", "_created"};
    case MetricType::kGaugeHistogram:
      return {"_bucket", "_gcount", "_gsum"};
    case MetricType::kSummary:
      return {"", "_count", "_sum", "_created"};
    case MetricType::kInfo:
      return {"_info"};
    case MetricType::kGauge:
    case MetricType::kStateSet:
    case MetricType::kUntyped:
      return {""};
  }
  return {""};
}

// Parses one exposition. Single use; not thread-safe.
class ExpositionParser {
 public:
  ExpositionParser(absl::string_view in, ExpositionFormat format)
      : in_(in), om_(format == ExpositionFormat::kOpenMetrics) {}

  absl::StatusOr<std::vector<MetricFamily>> Run() {
    if (om_) {
      SEXTANT_RETURN_IF_ERROR(RunOpenMetrics());
    } else {
      SEXTANT_RETURN_IF_ERROR(RunText());
    }
    return std::move(families_);
  }

 private:
  // ----- Scanning helpers.

  bool AtEnd() const { return pos_ >= in_.size(); }
  char Peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  void SkipBlanks() {
    while (pos_ < in_.size() && IsBlank(in_[pos_])) ++pos_;
  }
  bool LookingAt(absl::string_view s) const {
    return in_.size() - pos_ >= s.size() && in_.compare(pos_, s.size(), s) == 0;
  }
  size_t LineEnd(size_t from) const {
    size_t e = in_.find('\n', from);
    return e == absl::string_view::npos ? in_.size() : e;
  }
  // The run of characters from `from` that are not in `stops` (nor newline or the end).
  absl::string_view WordAt(size_t from, absl::string_view stops) const {
    size_t e = from;
    while (e < in_.size() && in_[e] != '\n' && stops.find(in_[e]) == absl::string_view::npos) ++e;
    return in_.substr(from, e - from);
  }

  // What is at `at`, for "expected X, found Y" messages.
  std::string Found(size_t at) const {
    if (at >= in_.size()) return "end of input";
    char c = in_[at];
    if (c == '\n') return "end of line";
    return Quote(in_.substr(at, 1));
  }

  absl::Status ErrorAt(size_t at, absl::string_view what) const {
    at = std::min(at, in_.size());
    size_t line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < at; ++i) {
      if (in_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat("line ", line, " col ", at - line_start + 1, ": ", what));
  }

  absl::Status ExpectedAt(size_t at, absl::string_view expected) const {
    return ErrorAt(at, absl::StrCat("expected ", expected, ", found ", Found(at)));
  }

  absl::Status OmEndOfInput() const {
    return ErrorAt(in_.size(),
                   "unexpected end of input: OpenMetrics input must end with a \"# EOF\" line");
  }

  // Reads a metric name at pos_; `context` says where ("after HELP").
  absl::StatusOr<absl::string_view> MetricName(absl::string_view context) {
    size_t start = pos_;
    if (AtEnd() || !IsMetricNameStart(in_[pos_])) {
      absl::string_view word = WordAt(start, " \t{}=,\"#");
      if (!word.empty()) {
        return ErrorAt(start, absl::StrCat("invalid metric name ", Quote(word)));
      }
      return ExpectedAt(start, absl::StrCat("metric name", context));
    }
    while (pos_ < in_.size() && IsMetricNameChar(in_[pos_])) ++pos_;
    return in_.substr(start, pos_ - start);
  }

  // ----- Text 0.0.4.

  absl::Status RunText() {
    while (true) {
      SkipBlanks();
      if (AtEnd()) return absl::OkStatus();
      char c = in_[pos_];
      if (c == '\n') {
        ++pos_;
        continue;
      }
      if (c == '#') {
        SEXTANT_RETURN_IF_ERROR(TextComment());
      } else {
        SEXTANT_RETURN_IF_ERROR(SampleLine());
      }
    }
  }

  // Consumes the end of a text line: newline or end of input.
  absl::Status TextLineEnd(absl::string_view after) {
    if (AtEnd()) return absl::OkStatus();
    if (in_[pos_] == '\n') {
      ++pos_;
      return absl::OkStatus();
    }
    return ExpectedAt(pos_, absl::StrCat("end of line after ", after));
  }

  absl::Status TextComment() {
    ++pos_;                                // '#'
    if (AtEnd() || !IsBlank(in_[pos_])) {  // "#foo" is a plain comment
      pos_ = LineEnd(pos_);
      return absl::OkStatus();
    }
    SkipBlanks();
    bool help = LookingAt("HELP");
    bool type = LookingAt("TYPE");
    if ((!help && !type) || pos_ + 4 >= in_.size() || !IsBlank(in_[pos_ + 4])) {
      pos_ = LineEnd(pos_);
      return absl::OkStatus();
    }
    absl::string_view kw = help ? "HELP" : "TYPE";
    pos_ += 4;
    SkipBlanks();
    size_t name_pos = pos_;
    SEXTANT_ASSIGN_OR_RETURN(absl::string_view name, MetricName(absl::StrCat(" after ", kw)));
    if (!AtEnd() && in_[pos_] != '\n' && !IsBlank(in_[pos_])) {
      return ErrorAt(name_pos,
                     absl::StrCat("invalid metric name ", Quote(WordAt(name_pos, " \t"))));
    }
    size_t eol = LineEnd(pos_);
    absl::string_view rest = in_.substr(pos_, eol - pos_);
    // Prometheus drops the one blank after the name; a rest of blanks only is empty.
    size_t text_pos = pos_;
    absl::string_view text;
    if (!std::all_of(rest.begin(), rest.end(), IsBlank)) {
      text = rest.substr(1);
      text_pos = pos_ + 1;
    }
    pos_ = eol;
    SEXTANT_RETURN_IF_ERROR(TextLineEnd("metadata"));
    if (help) {
      if (!IsValidUtf8(text)) {
        return ErrorAt(text_pos, absl::StrCat("help text of ", Quote(name), " is not valid UTF-8"));
      }
      return TextHelp(name, name_pos, Unescape(text, /*quote=*/false));
    }
    MetricType t;
    if (text == "counter") {
      t = MetricType::kCounter;
    } else if (text == "gauge") {
      t = MetricType::kGauge;
    } else if (text == "histogram") {
      t = MetricType::kHistogram;
    } else if (text == "summary") {
      t = MetricType::kSummary;
    } else if (text == "untyped") {
      t = MetricType::kUntyped;
    } else {
      return ErrorAt(text_pos, absl::StrCat("invalid metric type ", Quote(text)));
    }
    return TextType(name, name_pos, t);
  }

  absl::Status TextHelp(absl::string_view name, size_t name_pos, std::string help) {
    size_t idx = FindOrAddFamily(name);
    if (state_[idx].has_help) {
      return ErrorAt(name_pos, absl::StrCat("second HELP line for metric name ", Quote(name)));
    }
    state_[idx].has_help = true;
    families_[idx].help = std::move(help);
    return absl::OkStatus();
  }

  absl::Status TextType(absl::string_view name, size_t name_pos, MetricType t) {
    size_t idx = FindOrAddFamily(name);
    if (state_[idx].has_type) {
      return ErrorAt(name_pos, absl::StrCat("second TYPE line for metric name ", Quote(name)));
    }
    if (state_[idx].has_samples) {
      return ErrorAt(name_pos,
                     absl::StrCat("TYPE line for metric name ", Quote(name), " after its samples"));
    }
    state_[idx].has_type = true;
    families_[idx].type = t;
    return absl::OkStatus();
  }

  // The family a 0.0.4 sample called `n` joins, as expfmt.TextParser picks it.
  size_t TextFamilyFor(absl::string_view n) {
    if (auto it = by_name_.find(n); it != by_name_.end()) return it->second;
    for (absl::string_view suffix : {"_sum", "_count"}) {
      if (absl::EndsWith(n, suffix)) {
        auto it = by_name_.find(n.substr(0, n.size() - suffix.size()));
        if (it != by_name_.end() && families_[it->second].type == MetricType::kSummary) {
          return it->second;
        }
      }
    }
    for (absl::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (absl::EndsWith(n, suffix)) {
        auto it = by_name_.find(n.substr(0, n.size() - suffix.size()));
        if (it != by_name_.end() && families_[it->second].type == MetricType::kHistogram) {
          return it->second;
        }
      }
    }
    return AddFamily(n);
  }

  size_t FindOrAddFamily(absl::string_view name) {
    if (auto it = by_name_.find(name); it != by_name_.end()) return it->second;
    return AddFamily(name);
  }

  size_t AddFamily(absl::string_view name) {
    size_t idx = families_.size();
    families_.emplace_back();
    families_.back().name = std::string(name);
    state_.emplace_back();
    by_name_.emplace(std::string(name), idx);
    return idx;
  }

  // ----- Samples (both formats).

  // Parses a `{...}` label set at pos_ into `out`.
  absl::Status LabelSet(std::vector<RawLabel>* out) {
    size_t open = pos_;
    ++pos_;  // '{'
    while (true) {
      if (!om_) SkipBlanks();
      if (AtEnd() || in_[pos_] == '\n') {
        return ErrorAt(pos_, absl::StrCat("expected label name or '}', found ", Found(pos_),
                                          " (label set opened at col ", ColOf(open), ")"));
      }
      if (in_[pos_] == '}') {
        ++pos_;
        return absl::OkStatus();
      }
      size_t name_pos = pos_;
      if (!IsLabelNameStart(in_[pos_])) {
        absl::string_view word = WordAt(pos_, " \t=,{}\"");
        if (!word.empty()) {
          return ErrorAt(name_pos, absl::StrCat("invalid label name ", Quote(word)));
        }
        return ExpectedAt(pos_, "label name or '}'");
      }
      while (pos_ < in_.size() && IsLabelNameChar(in_[pos_])) ++pos_;
      absl::string_view name = in_.substr(name_pos, pos_ - name_pos);
      if (absl::string_view word = WordAt(name_pos, " \t=,{}\""); word.size() != name.size()) {
        return ErrorAt(name_pos, absl::StrCat("invalid label name ", Quote(word)));
      }
      if (!om_) SkipBlanks();
      if (Peek() != '=' || AtEnd()) {
        return ExpectedAt(pos_, absl::StrCat("'=' after label name ", Quote(name)));
      }
      ++pos_;
      if (!om_) SkipBlanks();
      if (Peek() != '"' || AtEnd()) {
        return ExpectedAt(pos_, absl::StrCat("'\"' to start the value of label ", Quote(name)));
      }
      size_t quote_pos = pos_;
      ++pos_;
      size_t value_start = pos_;
      bool escaped = false;
      while (true) {
        if (AtEnd() || (om_ && in_[pos_] == '\n')) {
          return ErrorAt(quote_pos,
                         absl::StrCat("unterminated quoted value of label ", Quote(name)));
        }
        char c = in_[pos_];
        if (c == '"') break;
        if (c == '\\') {
          if (pos_ + 1 >= in_.size() || in_[pos_ + 1] == '\n') {
            return ErrorAt(pos_, absl::StrCat("invalid escape at the end of a line in the value "
                                              "of label ",
                                              Quote(name)));
          }
          escaped = true;
          pos_ += 2;
          continue;
        }
        ++pos_;
      }
      absl::string_view raw = in_.substr(value_start, pos_ - value_start);
      ++pos_;  // closing quote
      if (!IsValidUtf8(raw)) {
        return ErrorAt(value_start,
                       absl::StrCat("value of label ", Quote(name), " is not valid UTF-8"));
      }
      out->push_back(
          RawLabel{name, escaped ? Unescape(raw, /*quote=*/true) : std::string(raw), name_pos});
      if (!om_) SkipBlanks();
      char c = Peek();
      if (!AtEnd() && c == ',') {
        ++pos_;
      } else if (!AtEnd() && (c == '}' || (!om_ && IsLabelNameStart(c)))) {
        // '}' closes the set on the next turn; Prometheus's 0.0.4 lexer also takes a label
        // name without a comma before it.
      } else {
        return ExpectedAt(pos_, "',' or '}' after label value");
      }
    }
  }

  size_t ColOf(size_t at) const {
    size_t nl = at == 0 ? absl::string_view::npos : in_.rfind('\n', at - 1);
    return nl == absl::string_view::npos ? at + 1 : at - nl;
  }

  // Parses a sample line starting at pos_ (the metric name).
  absl::Status SampleLine() {
    size_t line_pos = pos_;
    SEXTANT_ASSIGN_OR_RETURN(absl::string_view name, MetricName(""));
    labels_.clear();
    if (!om_) SkipBlanks();
    if (Peek() == '{' && !AtEnd()) {
      SEXTANT_RETURN_IF_ERROR(LabelSet(&labels_));
    }
    // The value.
    if (om_) {
      if (AtEnd()) return OmEndOfInput();
      if (in_[pos_] != ' ') return ExpectedAt(pos_, "' ' and a value after the metric");
      ++pos_;
    } else {
      SkipBlanks();
    }
    size_t value_pos = pos_;
    absl::string_view value_text = WordAt(pos_, om_ ? " " : " \t");
    if (value_text.empty()) {
      if (om_ && AtEnd()) return OmEndOfInput();
      return ExpectedAt(pos_, "value after the metric");
    }
    pos_ += value_text.size();
    double value = 0;
    switch (ParseGoFloat(value_text, &value)) {
      case FloatParse::kOk:
        break;
      case FloatParse::kSyntax:
        return ErrorAt(value_pos, absl::StrCat("invalid value ", Quote(value_text)));
      case FloatParse::kRange:
        return ErrorAt(value_pos,
                       absl::StrCat("value ", Quote(value_text), " is out of the float64 range"));
    }
    std::optional<int64_t> ts;
    if (om_) {
      SEXTANT_RETURN_IF_ERROR(OmSampleEnd(name, &ts));
    } else {
      SEXTANT_RETURN_IF_ERROR(TextSampleEnd(&ts));
    }
    return AddSample(name, line_pos, value, ts);
  }

  absl::Status TextSampleEnd(std::optional<int64_t>* ts) {
    SkipBlanks();
    if (AtEnd() || in_[pos_] == '\n') return TextLineEnd("sample");
    size_t ts_pos = pos_;
    absl::string_view t = WordAt(pos_, " \t");
    pos_ += t.size();
    int64_t v = 0;
    absl::string_view digits = absl::StartsWith(t, "-") ? t.substr(1) : t;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), IsDigit) ||
        ec != std::errc() || ptr != t.data() + t.size()) {
      if (ec == std::errc::result_out_of_range) {
        return ErrorAt(ts_pos, absl::StrCat("timestamp ", Quote(t), " is out of range"));
      }
      return ErrorAt(
          ts_pos, absl::StrCat("invalid timestamp ", Quote(t), ": expected integer milliseconds"));
    }
    *ts = v;
    SkipBlanks();
    return TextLineEnd("timestamp");
  }

  // Parses an OpenMetrics timestamp (float seconds) at `at`.
  absl::StatusOr<int64_t> OmTimestamp(size_t at, absl::string_view t) {
    double secs = 0;
    if (ParseGoFloat(t, &secs) != FloatParse::kOk || std::isnan(secs) || std::isinf(secs)) {
      return ErrorAt(at, absl::StrCat("invalid timestamp ", Quote(t)));
    }
    double ms = secs * 1000;
    // Truncation, as Prometheus's int64(ts * 1000); out-of-range values are refused.
    if (!(std::fabs(ms) < 9.2233720368547758e18)) {
      return ErrorAt(at, absl::StrCat("timestamp ", Quote(t), " is out of range"));
    }
    return static_cast<int64_t>(ms);
  }

  // The rest of an OpenMetrics sample line after the value: [ timestamp][ # exemplar]\n.
  absl::Status OmSampleEnd(absl::string_view name, std::optional<int64_t>* ts) {
    if (AtEnd()) return OmEndOfInput();
    if (in_[pos_] == '\n') {
      ++pos_;
      return absl::OkStatus();
    }
    if (in_[pos_] != ' ') return ExpectedAt(pos_, "' ' or end of line after the value");
    ++pos_;
    if (!LookingAt("# {")) {
      size_t ts_pos = pos_;
      absl::string_view t = WordAt(pos_, " ");
      if (t.empty()) {
        if (AtEnd()) return OmEndOfInput();
        return ExpectedAt(pos_, "timestamp or exemplar");
      }
      pos_ += t.size();
      SEXTANT_ASSIGN_OR_RETURN(*ts, OmTimestamp(ts_pos, t));
      if (AtEnd()) return OmEndOfInput();
      if (in_[pos_] == '\n') {
        ++pos_;
        return absl::OkStatus();
      }
      if (!LookingAt(" # {")) return ExpectedAt(pos_, "end of line or exemplar after timestamp");
      ++pos_;
    }
    return OmExemplar(name);
  }

  // Checks and drops an exemplar `# {labels} value [timestamp]\n` at pos_.
  absl::Status OmExemplar(absl::string_view name) {
    size_t start = pos_;
    if (!absl::EndsWith(name, "_total") && !absl::EndsWith(name, "_bucket")) {
      return ErrorAt(start, absl::StrCat("metric name ", Quote(name),
                                         " does not support exemplars (only _total and _bucket)"));
    }
    pos_ += 2;  // "# "
    exemplar_labels_.clear();
    SEXTANT_RETURN_IF_ERROR(LabelSet(&exemplar_labels_));
    SEXTANT_RETURN_IF_ERROR(CheckDuplicates(exemplar_labels_));
    if (AtEnd()) return OmEndOfInput();
    if (in_[pos_] != ' ') return ExpectedAt(pos_, "' ' and a value after the exemplar labels");
    ++pos_;
    size_t value_pos = pos_;
    absl::string_view v = WordAt(pos_, " ");
    if (v.empty()) {
      if (AtEnd()) return OmEndOfInput();
      return ExpectedAt(pos_, "exemplar value");
    }
    pos_ += v.size();
    double value = 0;
    if (ParseGoFloat(v, &value) != FloatParse::kOk) {
      return ErrorAt(value_pos, absl::StrCat("invalid exemplar value ", Quote(v)));
    }
    if (AtEnd()) return OmEndOfInput();
    if (in_[pos_] == ' ') {
      ++pos_;
      size_t ts_pos = pos_;
      absl::string_view t = WordAt(pos_, " ");
      if (t.empty()) {
        if (AtEnd()) return OmEndOfInput();
        return ExpectedAt(pos_, "exemplar timestamp");
      }
      pos_ += t.size();
      SEXTANT_RETURN_IF_ERROR(OmTimestamp(ts_pos, t));
    }
    if (AtEnd()) return OmEndOfInput();
    if (in_[pos_] != '\n') return ExpectedAt(pos_, "end of line after the exemplar");
    ++pos_;
    return absl::OkStatus();
  }

  // InvalidArgument for the first repeated label name (in input order) of `labels`.
  absl::Status CheckDuplicates(const std::vector<RawLabel>& labels) {
    if (labels.size() < 2) return absl::OkStatus();
    if (labels.size() <= 8) {
      for (size_t i = 1; i < labels.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (labels[i].name == labels[j].name) {
            return ErrorAt(labels[i].pos,
                           absl::StrCat("duplicate label name ", Quote(labels[i].name)));
          }
        }
      }
      return absl::OkStatus();
    }
    std::vector<size_t> order(labels.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (labels[a].name != labels[b].name) return labels[a].name < labels[b].name;
      return labels[a].pos < labels[b].pos;
    });
    size_t first_dup = labels.size();
    for (size_t k = 1; k < order.size(); ++k) {
      if (labels[order[k]].name == labels[order[k - 1]].name &&
          (first_dup == labels.size() || labels[order[k]].pos < labels[first_dup].pos)) {
        first_dup = order[k];
      }
    }
    if (first_dup == labels.size()) return absl::OkStatus();
    return ErrorAt(labels[first_dup].pos,
                   absl::StrCat("duplicate label name ", Quote(labels[first_dup].name)));
  }

  const RawLabel* FindLabel(absl::string_view name) const {
    for (const RawLabel& l : labels_) {
      if (l.name == name) return &l;
    }
    return nullptr;
  }

  // Checks that label `label` (le or quantile) is present and a float.
  absl::Status FloatLabel(absl::string_view label, absl::string_view name, size_t line_pos,
                          absl::string_view what) {
    const RawLabel* l = FindLabel(label);
    if (l == nullptr) {
      return ErrorAt(line_pos,
                     absl::StrCat(what, " ", Quote(name), " has no \"", label, "\" label"));
    }
    double v = 0;
    if (ParseGoFloat(l->value, &v) != FloatParse::kOk) {
      return ErrorAt(l->pos, absl::StrCat("invalid \"", label, "\" value ", Quote(l->value), " in ",
                                          what, " ", Quote(name), ": expected a float"));
    }
    return absl::OkStatus();
  }

  // Checks the sample `name` against the type of family `idx`.
  absl::Status CheckSampleFits(size_t idx, absl::string_view name, size_t line_pos) {
    const MetricFamily& fam = families_[idx];
    absl::string_view f = fam.name;
    switch (fam.type) {
      case MetricType::kHistogram:
        if (name == f) {
          return ErrorAt(line_pos,
                         absl::StrCat("sample ", Quote(name), " does not fit histogram ", Quote(f),
                                      ": expected ", f, "_bucket, ", f, "_sum or ", f, "_count"));
        }
        [[fallthrough]];
      case MetricType::kGaugeHistogram:
        if (IsSuffixed(name, f, "_bucket")) {
          return FloatLabel("le", name, line_pos, "histogram bucket");
        }
        return absl::OkStatus();
      case MetricType::kSummary:
        if (name == f) return FloatLabel("quantile", name, line_pos, "summary quantile");
        return absl::OkStatus();
      case MetricType::kStateSet:
        if (FindLabel(f) == nullptr) {
          return ErrorAt(line_pos, absl::StrCat("stateset sample ", Quote(name),
                                                " has no label named after its family"));
        }
        return absl::OkStatus();
      default:
        return absl::OkStatus();
    }
  }

  absl::Status AddSample(absl::string_view name, size_t line_pos, double value,
                         std::optional<int64_t> ts) {
    // The metric name goes first so that a `__name__` in the braces is the reported duplicate.
    labels_.push_back(RawLabel{kMetricNameLabel, std::string(name), line_pos});
    std::rotate(labels_.begin(), labels_.end() - 1, labels_.end());
    SEXTANT_RETURN_IF_ERROR(CheckDuplicates(labels_));
    size_t idx;
    if (om_) {
      SEXTANT_ASSIGN_OR_RETURN(idx, OmFamilyFor(name, line_pos));
    } else {
      idx = TextFamilyFor(name);
    }
    SEXTANT_RETURN_IF_ERROR(CheckSampleFits(idx, name, line_pos));
    state_[idx].has_samples = true;

    std::vector<Label> sorted;
    sorted.reserve(labels_.size());
    for (RawLabel& l : labels_) {
      if (l.value.empty()) continue;  // an empty value is the same as no label
      sorted.push_back(Label{std::string(l.name), std::move(l.value)});
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const Label& a, const Label& b) { return a.name < b.name; });
    families_[idx].samples.push_back(
        ExpositionSample{Labels::FromSortedUnchecked(std::move(sorted)), value, ts});
    return absl::OkStatus();
  }

  // ----- OpenMetrics.

  absl::Status RunOpenMetrics() {
    while (true) {
      if (AtEnd()) return OmEndOfInput();
      char c = in_[pos_];
      if (c == '#') {
        bool eof = false;
        SEXTANT_RETURN_IF_ERROR(OmComment(&eof));
        if (eof) return absl::OkStatus();
      } else if (IsMetricNameStart(c)) {
        SEXTANT_RETURN_IF_ERROR(SampleLine());
      } else if (c == '\n') {
        return ErrorAt(pos_, "empty line: OpenMetrics has no blank lines");
      } else {
        SEXTANT_RETURN_IF_ERROR(MetricName("").status());
        return ExpectedAt(pos_, "metric name or '#'");  // not reached: MetricName failed
      }
    }
  }

  absl::Status OmComment(bool* eof) {
    size_t hash = pos_;
    if (!LookingAt("# ")) {
      return ErrorAt(hash,
                     "expected \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\": "
                     "OpenMetrics has no other comments");
    }
    pos_ += 2;
    if (LookingAt("EOF")) {
      pos_ += 3;
      if (!AtEnd() && in_[pos_] == '\n') ++pos_;
      if (!AtEnd()) return ErrorAt(pos_, "unexpected data after \"# EOF\"");
      *eof = true;
      return absl::OkStatus();
    }
    absl::string_view kw;
    for (absl::string_view k : {"HELP ", "TYPE ", "UNIT "}) {
      if (LookingAt(k)) kw = k.substr(0, 4);
    }
    if (kw.empty()) {
      return ErrorAt(hash,
                     "expected \"# HELP\", \"# TYPE\", \"# UNIT\" or \"# EOF\": "
                     "OpenMetrics has no other comments");
    }
    pos_ += 5;
    size_t name_pos = pos_;
    SEXTANT_ASSIGN_OR_RETURN(absl::string_view name, MetricName(absl::StrCat(" after ", kw)));
    if (AtEnd()) return OmEndOfInput();
    if (in_[pos_] != ' ') {
      if (in_[pos_] == '\n') {
        return ExpectedAt(pos_, absl::StrCat("' ' and text after the metric name in ", kw));
      }
      return ErrorAt(name_pos, absl::StrCat("invalid metric name ", Quote(WordAt(name_pos, " "))));
    }
    ++pos_;
    size_t text_pos = pos_;
    size_t eol = in_.find('\n', pos_);
    if (eol == absl::string_view::npos) return OmEndOfInput();
    absl::string_view text = in_.substr(pos_, eol - pos_);
    pos_ = eol + 1;
    SEXTANT_ASSIGN_OR_RETURN(size_t idx, OmMetadataFamily(name, name_pos, kw));
    FamilyState& st = state_[idx];
    MetricFamily& fam = families_[idx];
    if (kw == "HELP") {
      if (!IsValidUtf8(text)) {
        return ErrorAt(text_pos, absl::StrCat("help text of ", Quote(name), " is not valid UTF-8"));
      }
      st.has_help = true;
      fam.help = Unescape(text, /*quote=*/true);
      return absl::OkStatus();
    }
    if (kw == "UNIT") {
      if (!text.empty() && !absl::EndsWith(name, absl::StrCat("_", text))) {
        return ErrorAt(text_pos, absl::StrCat("unit ", Quote(text),
                                              " is not a suffix of metric name ", Quote(name)));
      }
      st.has_unit = true;
      fam.unit = std::string(text);
      return absl::OkStatus();
    }
    static constexpr std::pair<absl::string_view, MetricType> kTypes[] = {
        {"counter", MetricType::kCounter},     {"gauge", MetricType::kGauge},
        {"histogram", MetricType::kHistogram}, {"gaugehistogram", MetricType::kGaugeHistogram},
        {"summary", MetricType::kSummary},     {"info", MetricType::kInfo},
        {"stateset", MetricType::kStateSet},   {"unknown", MetricType::kUntyped},
    };
    const MetricType* t = nullptr;
    for (const auto& [tname, type] : kTypes) {
      if (text == tname) t = &type;
    }
    if (t == nullptr) return ErrorAt(text_pos, absl::StrCat("invalid metric type ", Quote(text)));
    SEXTANT_RETURN_IF_ERROR(OmSetType(idx, *t, name_pos));
    st.has_type = true;
    return absl::OkStatus();
  }

  // The family a `# kw name` line describes, created when new. Errors for metadata given twice,
  // after the family's samples, away from the rest of the family, or clashing with another
  // family's sample names.
  absl::StatusOr<size_t> OmMetadataFamily(absl::string_view name, size_t name_pos,
                                          absl::string_view kw) {
    if (auto it = by_name_.find(name); it != by_name_.end()) {
      size_t idx = it->second;
      const FamilyState& st = state_[idx];
      if (current_ != idx) {
        return ErrorAt(name_pos, absl::StrCat("# ", kw, " for ", Quote(name),
                                              " after another family: families must not be "
                                              "interleaved"));
      }
      if (st.has_samples) {
        return ErrorAt(name_pos,
                       absl::StrCat("# ", kw, " for ", Quote(name), " after its samples"));
      }
      bool twice = (kw == "HELP" && st.has_help) || (kw == "TYPE" && st.has_type) ||
                   (kw == "UNIT" && st.has_unit);
      if (twice) return ErrorAt(name_pos, absl::StrCat("second # ", kw, " for ", Quote(name)));
      return idx;
    }
    SEXTANT_RETURN_IF_ERROR(CheckClaim(name, families_.size(), name_pos));
    size_t idx = AddFamily(name);
    claims_.emplace(std::string(name), idx);
    current_ = idx;
    return idx;
  }

  // Error when sample name `n` belongs to a family other than `idx`.
  absl::Status CheckClaim(absl::string_view n, size_t idx, size_t at) {
    size_t other = idx;
    if (auto it = claims_.find(n); it != claims_.end()) other = it->second;
    if (auto it = by_name_.find(n); other == idx && it != by_name_.end()) other = it->second;
    if (other == idx) return absl::OkStatus();
    return ErrorAt(
        at, absl::StrCat("name ", Quote(n), " clashes with family ", Quote(families_[other].name)));
  }

  // Sets the type of family `idx` (which has no samples yet) and re-claims its sample names.
  absl::Status OmSetType(size_t idx, MetricType t, size_t at) {
    std::string f = families_[idx].name;
    for (absl::string_view suffix : OmSuffixes(t)) {
      SEXTANT_RETURN_IF_ERROR(CheckClaim(absl::StrCat(f, suffix), idx, at));
    }
    for (absl::string_view suffix : OmSuffixes(families_[idx].type)) {
      claims_.erase(absl::StrCat(f, suffix));
    }
    for (absl::string_view suffix : OmSuffixes(t)) claims_.emplace(absl::StrCat(f, suffix), idx);
    families_[idx].type = t;
    return absl::OkStatus();
  }

  // The family an OpenMetrics sample called `n` belongs to: the current one when the name fits
  // its type, else a new unknown family. Errors for a name of another family.
  absl::StatusOr<size_t> OmFamilyFor(absl::string_view n, size_t at) {
    if (current_.has_value()) {
      const MetricFamily& cur = families_[*current_];
      auto suffixes = OmSuffixes(cur.type);
      for (absl::string_view suffix : suffixes) {
        if (IsSuffixed(n, cur.name, suffix)) return *current_;
      }
      if (n == cur.name) {
        std::string expected;
        for (absl::string_view suffix : suffixes) {
          absl::StrAppend(&expected, expected.empty() ? "" : " or ", cur.name, suffix);
        }
        return ErrorAt(
            at, absl::StrCat("sample ", Quote(n), " does not fit ", MetricTypeName(cur.type), " ",
                             Quote(cur.name), ": expected ", expected));
      }
    }
    size_t other = families_.size();
    if (auto it = claims_.find(n); it != claims_.end()) other = it->second;
    if (auto it = by_name_.find(n); other == families_.size() && it != by_name_.end()) {
      other = it->second;
    }
    if (other != families_.size()) {
      return ErrorAt(at,
                     absl::StrCat("sample ", Quote(n), " of family ", Quote(families_[other].name),
                                  " after another family: families must not be interleaved"));
    }
    size_t idx = AddFamily(n);
    claims_.emplace(std::string(n), idx);
    current_ = idx;
    return idx;
  }

  absl::string_view in_;
  size_t pos_ = 0;
  const bool om_;
  std::vector<MetricFamily> families_;
  std::vector<FamilyState> state_;  // parallel to families_
  absl::flat_hash_map<std::string, size_t> by_name_;
  // OpenMetrics: every sample name a family may use -> the family.
  absl::flat_hash_map<std::string, size_t> claims_;
  // OpenMetrics: the family of the latest line.
  std::optional<size_t> current_;
  // Scratch space reused across lines.
  std::vector<RawLabel> labels_;
  std::vector<RawLabel> exemplar_labels_;
};

}  // namespace

absl::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kUntyped:
      return "unknown";
    case MetricType::kInfo:
      return "info";
    case MetricType::kStateSet:
      return "stateset";
    case MetricType::kGaugeHistogram:
      return "gaugehistogram";
  }
  return "unknown";
}

ExpositionFormat FormatFromContentType(absl::string_view content_type) {
  absl::string_view media = content_type.substr(0, content_type.find(';'));
  media = absl::StripAsciiWhitespace(media);
  if (absl::EqualsIgnoreCase(media, "application/openmetrics-text")) {
    return ExpositionFormat::kOpenMetrics;
  }
  return ExpositionFormat::kText004;
}

std::string FormatPromFloat(double v) {
  std::string out;
  AppendPromFloat(v, &out);
  return out;
}

std::string WriteTextFormat(const std::vector<MetricFamily>& families) {
  std::string out;
  size_t samples = 0;
  for (const MetricFamily& f : families) samples += f.samples.size();
  out.reserve(families.size() * 96 + samples * 64);
  for (const MetricFamily& f : families) WriteFamily(f, &out);
  return out;
}

absl::StatusOr<std::vector<MetricFamily>> ParseTextFormat(absl::string_view text,
                                                          ExpositionFormat format) {
  return ExpositionParser(text, format).Run();
}

}  // namespace sextant::prom
