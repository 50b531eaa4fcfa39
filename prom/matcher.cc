#include "prom/matcher.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/utf8.h"
#include "re2/re2.h"

namespace sextant::prom {
namespace {

// Code points that Go's unicode.IsPrint rejects and that people meet in practice: C1 controls,
// non-ASCII spaces, line and paragraph separators, format characters, private use areas and
// noncharacters. (Unassigned code points, which Go also escapes, pass through.)
bool IsNonPrintable(uint32_t r) {
  if (r >= 0x80 && r <= 0xa0) return true;
  if ((r & 0xfffe) == 0xfffe || (r >= 0xfdd0 && r <= 0xfdef)) return true;
  if ((r >= 0xe000 && r <= 0xf8ff) || r >= 0xf0000) return true;
  static constexpr std::pair<uint32_t, uint32_t> kRanges[] = {
      {0x00ad, 0x00ad},   {0x0600, 0x0605},   {0x061c, 0x061c},   {0x06dd, 0x06dd},
      {0x070f, 0x070f},   {0x08e2, 0x08e2},   {0x1680, 0x1680},   {0x180e, 0x180e},
      {0x2000, 0x200f},   {0x2028, 0x202f},   {0x205f, 0x2064},   {0x2066, 0x206f},
      {0x3000, 0x3000},   {0xfeff, 0xfeff},   {0xfff9, 0xfffb},   {0x110bd, 0x110bd},
      {0x110cd, 0x110cd}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001},
      {0xe0020, 0xe007f},
  };
  for (const auto& [lo, hi] : kRanges) {
    if (r >= lo && r <= hi) return true;
  }
  return false;
}

// Go's regexp rejects \C (any byte); RE2 accepts it. Finds it outside \Q...\E quoting. (Inside
// a character class RE2 rejects \C and \Q itself.)
bool HasAnyByteEscape(absl::string_view p) {
  for (size_t i = 0; i + 1 < p.size(); ++i) {
    if (p[i] != '\\') continue;
    if (p[i + 1] == 'C') return true;
    if (p[i + 1] == 'Q') {
      const size_t end = p.find("\\E", i + 2);
      if (end == absl::string_view::npos) return false;
      i = end + 1;
      continue;
    }
    ++i;  // Skip the escaped character.
  }
  return false;
}

// Go's regexp/syntax wording of RE2's error codes (RE2 and Go's parser share their lineage and
// their codes).
absl::string_view GoRegexpErrorText(RE2::ErrorCode code) {
  switch (code) {
    case RE2::ErrorBadEscape:
      return "invalid escape sequence";
    case RE2::ErrorBadCharClass:
      return "invalid character class";
    case RE2::ErrorBadCharRange:
      return "invalid character class range";
    case RE2::ErrorMissingBracket:
      return "missing closing ]";
    case RE2::ErrorMissingParen:
      return "missing closing )";
    case RE2::ErrorUnexpectedParen:
      return "unexpected )";
    case RE2::ErrorTrailingBackslash:
      return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument:
      return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize:
      return "invalid repeat count";
    case RE2::ErrorRepeatOp:
      return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp:
      return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8:
      return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture:
      return "invalid named capture";
    case RE2::ErrorPatternTooLarge:
      return "expression too large";
    default:
      return "regexp/syntax: internal error";
  }
}

// The error Prometheus reports for a pattern Go's regexp rejects, from `failed`, the RE2 that
// failed to compile. Go parses the anchored form ^(?:pattern)$, so the quoted fragment comes
// from that, e.g. "error parsing regexp: missing closing ): `^(?:()$`".
std::string GoRegexpError(const RE2& failed) {
  return absl::StrCat("error parsing regexp: ", GoRegexpErrorText(failed.error_code()), ": `",
                      failed.error_arg(), "`");
}

constexpr absl::string_view kAnyByteEscapeError =
    "error parsing regexp: invalid escape sequence: `\\C`";

RE2::Options GoRegexpOptions() {
  RE2::Options options;
  options.set_log_errors(false);
  return options;
}

std::shared_ptr<const RE2> CompileAnchored(absl::string_view pattern) {
  const std::string anchored = absl::StrCat("^(?:", pattern, ")$");
  return std::make_shared<const RE2>(re2::StringPiece(anchored.data(), anchored.size()),
                                     GoRegexpOptions());
}

bool IsAsciiPunct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

bool IsRegexMeta(char c) {
  return absl::string_view("\\.+*?()|[]{}^$").find(c) != absl::string_view::npos;
}

// One piece of a pattern in the shapes that have fast paths.
enum class Token { kLiteral, kDotStar, kDotPlus };

// Splits one alternative (no '|') into literal runs and `.*` / `.+`. False when it holds any
// other syntax. Literal text collects into `literals` (one entry per run).
bool Tokenize(absl::string_view p, std::vector<Token>* tokens, std::vector<std::string>* literals) {
  for (size_t i = 0; i < p.size();) {
    const char c = p[i];
    if (c == '.' && i + 1 < p.size() && (p[i + 1] == '*' || p[i + 1] == '+')) {
      // `.*?`, `.**`, `.*{2}` and the like are left to RE2.
      if (i + 2 < p.size() && absl::string_view("?*+{").find(p[i + 2]) != absl::string_view::npos) {
        return false;
      }
      tokens->push_back(p[i + 1] == '*' ? Token::kDotStar : Token::kDotPlus);
      i += 2;
      continue;
    }
    char lit;
    if (c == '\\') {
      if (i + 1 >= p.size() || !IsAsciiPunct(p[i + 1])) return false;
      lit = p[i + 1];
      i += 2;
    } else if (IsRegexMeta(c)) {
      return false;
    } else {
      lit = c;
      ++i;
    }
    // A quantifier after a literal applies to it alone; leave that to RE2.
    if (i < p.size() && absl::string_view("?*+{").find(p[i]) != absl::string_view::npos) {
      return false;
    }
    if (tokens->empty() || tokens->back() != Token::kLiteral) {
      tokens->push_back(Token::kLiteral);
      literals->emplace_back();
    }
    literals->back().push_back(lit);
  }
  return true;
}

// Splits `p` at top-level '|' (only meaningful when it has no groups or classes, which
// Tokenize rejects anyway).
std::vector<absl::string_view> SplitAlternatives(absl::string_view p) {
  std::vector<absl::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      ++i;
    } else if (p[i] == '|') {
      out.push_back(p.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(p.substr(start));
  return out;
}

}  // namespace

// The compiled form of a regex matcher: RE2 always (for validation and the general case), plus
// a shortcut for common shapes. Each shortcut gives the same answers as RE2 on Go's view of the
// text; those that involve `.` apply only to values without '\n', and no literal holds U+FFFD.
struct Matcher::Regex {
  enum class Kind {
    kGeneral,     // RE2 only.
    kLiteralSet,  // a|b|c of plain literals: the value equals one of `literals`.
    kAny,         // .*
    kNonEmpty,    // .+
    kPrefix,      // lit.*
    kSuffix,      // .*lit
    kContains,    // .*lit.*
  };

  Regex(absl::string_view pattern, const RE2::Options& options)
      : re(re2::StringPiece(pattern.data(), pattern.size()), options) {
    ChooseShortcut(pattern);
  }

  // Sets `kind` and `literals` for the shapes listed in Kind; leaves kGeneral otherwise.
  void ChooseShortcut(absl::string_view pattern) {
    std::vector<absl::string_view> alternatives = SplitAlternatives(pattern);
    std::vector<std::string> lits;
    std::vector<Token> tokens;
    if (alternatives.size() > 1) {
      for (absl::string_view alt : alternatives) {
        tokens.clear();
        const size_t before = lits.size();
        if (!Tokenize(alt, &tokens, &lits)) return;
        if (tokens.size() > 1 || (tokens.size() == 1 && tokens[0] != Token::kLiteral)) return;
        if (lits.size() == before) lits.emplace_back();  // An empty alternative.
      }
      SetLiterals(Kind::kLiteralSet, std::move(lits));
      return;
    }
    if (!Tokenize(pattern, &tokens, &lits)) return;
    using T = Token;
    if (tokens.empty()) {
      SetLiterals(Kind::kLiteralSet, {std::string()});
    } else if (tokens == std::vector<T>{T::kLiteral}) {
      SetLiterals(Kind::kLiteralSet, std::move(lits));
    } else if (tokens == std::vector<T>{T::kDotStar}) {
      kind = Kind::kAny;
    } else if (tokens == std::vector<T>{T::kDotPlus}) {
      kind = Kind::kNonEmpty;
    } else if (tokens == std::vector<T>{T::kLiteral, T::kDotStar}) {
      SetLiterals(Kind::kPrefix, std::move(lits));
    } else if (tokens == std::vector<T>{T::kDotStar, T::kLiteral}) {
      SetLiterals(Kind::kSuffix, std::move(lits));
    } else if (tokens == std::vector<T>{T::kDotStar, T::kLiteral, T::kDotStar}) {
      SetLiterals(Kind::kContains, std::move(lits));
    }
  }

  void SetLiterals(Kind k, std::vector<std::string> lits) {
    for (const std::string& l : lits) {
      if (absl::StrContains(l, kUtf8Replacement)) return;  // Bad bytes read as U+FFFD would match.
    }
    std::sort(lits.begin(), lits.end());
    lits.erase(std::unique(lits.begin(), lits.end()), lits.end());
    kind = k;
    literals = std::move(lits);
  }

  bool FullMatch(absl::string_view value) const {
    if (!IsValidUtf8(value)) {
      const std::string sanitized = SanitizeUtf8(value);
      return RE2::FullMatch(re2::StringPiece(sanitized.data(), sanitized.size()), re);
    }
    return RE2::FullMatch(re2::StringPiece(value.data(), value.size()), re);
  }

  bool Matches(absl::string_view value) const {
    switch (kind) {
      case Kind::kGeneral:
        break;
      case Kind::kLiteralSet:
        return std::binary_search(literals.begin(), literals.end(), value);
      case Kind::kAny:
        return !absl::StrContains(value, '\n');
      case Kind::kNonEmpty:
        return !value.empty() && !absl::StrContains(value, '\n');
      case Kind::kPrefix:
        if (absl::StrContains(value, '\n')) break;
        return absl::StartsWith(value, literals[0]);
      case Kind::kSuffix:
        if (absl::StrContains(value, '\n')) break;
        return absl::EndsWith(value, literals[0]);
      case Kind::kContains:
        if (absl::StrContains(value, '\n')) break;
        return absl::StrContains(value, literals[0]);
    }
    return FullMatch(value);
  }

  RE2 re;
  Kind kind = Kind::kGeneral;
  std::vector<std::string> literals;  // Sorted and unique for kLiteralSet; one otherwise.
};

absl::string_view MatchTypeToString(MatchType type) {
  switch (type) {
    case MatchType::kEqual:
      return "=";
    case MatchType::kNotEqual:
      return "!=";
    case MatchType::kRegexMatch:
      return "=~";
    case MatchType::kRegexNoMatch:
      return "!~";
  }
  return "?";
}

Matcher::Matcher(MatchType type, std::string name, std::string value,
                 std::shared_ptr<const Regex> re)
    : type_(type), name_(std::move(name)), value_(std::move(value)), re_(std::move(re)) {
  matches_empty_ = Matches("");
}

absl::StatusOr<Matcher> Matcher::Create(MatchType type, std::string name, std::string value) {
  switch (type) {
    case MatchType::kEqual:
    case MatchType::kNotEqual:
      return Matcher(type, std::move(name), std::move(value), nullptr);
    case MatchType::kRegexMatch:
    case MatchType::kRegexNoMatch:
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("invalid match type ", static_cast<int>(type)));
  }
  if (HasAnyByteEscape(value)) return absl::InvalidArgumentError(kAnyByteEscapeError);
  auto re = std::make_shared<const Regex>(value, GoRegexpOptions());
  if (!re->re.ok()) {
    // Go reports the anchored form's error; the bare pattern can fail where that one parses.
    std::shared_ptr<const RE2> anchored = CompileAnchored(value);
    return absl::InvalidArgumentError(GoRegexpError(anchored->ok() ? re->re : *anchored));
  }
  return Matcher(type, std::move(name), std::move(value), std::move(re));
}

bool Matcher::RegexMatches(absl::string_view value) const { return re_->Matches(value); }

bool Matcher::Matches(absl::string_view value) const {
  switch (type_) {
    case MatchType::kEqual:
      return value == value_;
    case MatchType::kNotEqual:
      return value != value_;
    case MatchType::kRegexMatch:
      return RegexMatches(value);
    case MatchType::kRegexNoMatch:
      return !RegexMatches(value);
  }
  return false;
}

std::string Matcher::ToString() const {
  return absl::StrCat(name_, MatchTypeToString(type_), GoQuote(value_));
}

absl::StatusOr<std::shared_ptr<const RE2>> CompileAnchoredGoRegexp(absl::string_view pattern) {
  if (HasAnyByteEscape(pattern)) return absl::InvalidArgumentError(kAnyByteEscapeError);
  std::shared_ptr<const RE2> re = CompileAnchored(pattern);
  if (!re->ok()) return absl::InvalidArgumentError(GoRegexpError(*re));
  return re;
}

bool MatchesAll(const std::vector<Matcher>& matchers, const Labels& labels) {
  for (const Matcher& m : matchers) {
    if (!m.Matches(labels.Get(m.name()))) return false;
  }
  return true;
}

std::string GoQuote(absl::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back('"');
  for (size_t i = 0; i < s.size();) {
    uint32_t r;
    const int width = DecodeUtf8Rune(s, i, &r);
    if (width == 0) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (r == '"' || r == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(r));
    } else if (r >= 0x20 && r < 0x7f) {
      out.push_back(static_cast<char>(r));
    } else if (r < 0x80) {
      switch (r) {
        case '\a':
          out += "\\a";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
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
        case '\v':
          out += "\\v";
          break;
        default:
          absl::StrAppendFormat(&out, "\\x%02x", r);
      }
    } else if (IsNonPrintable(r)) {
      if (r < 0x10000) {
        absl::StrAppendFormat(&out, "\\u%04x", r);
      } else {
        absl::StrAppendFormat(&out, "\\U%08x", r);
      }
    } else {
      out.append(s.data() + i, width);
    }
    i += width;
  }
  out.push_back('"');
  return out;
}

}  // namespace sextant::prom
