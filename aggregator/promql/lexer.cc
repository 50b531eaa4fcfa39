#include "aggregator/promql/lexer.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "prom/matcher.h"

namespace sextant::promql::internal {
namespace {

constexpr uint32_t kEofRune = 0xFFFFFFFF;
constexpr uint32_t kRuneError = 0xFFFD;

bool IsSpace(uint32_t r) { return r == ' ' || r == '\t' || r == '\n' || r == '\r'; }
bool IsDigit(uint32_t r) { return r >= '0' && r <= '9'; }
bool IsAlpha(uint32_t r) { return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'); }
bool IsAlphaNumeric(uint32_t r) { return IsAlpha(r) || IsDigit(r); }

const absl::flat_hash_map<std::string, TokenType>& Keywords() {
  static const auto* const kMap = new absl::flat_hash_map<std::string, TokenType>{
      {"and", TokenType::kLand},
      {"or", TokenType::kLor},
      {"unless", TokenType::kLunless},
      {"atan2", TokenType::kAtan2},
      {"sum", TokenType::kSum},
      {"avg", TokenType::kAvg},
      {"count", TokenType::kCount},
      {"min", TokenType::kMin},
      {"max", TokenType::kMax},
      {"group", TokenType::kGroup},
      {"stddev", TokenType::kStddev},
      {"stdvar", TokenType::kStdvar},
      {"topk", TokenType::kTopk},
      {"bottomk", TokenType::kBottomk},
      {"count_values", TokenType::kCountValues},
      {"quantile", TokenType::kQuantile},
      {"offset", TokenType::kOffset},
      {"by", TokenType::kBy},
      {"without", TokenType::kWithout},
      {"on", TokenType::kOn},
      {"ignoring", TokenType::kIgnoring},
      {"group_left", TokenType::kGroupLeft},
      {"group_right", TokenType::kGroupRight},
      {"bool", TokenType::kBool},
      {"start", TokenType::kStart},
      {"end", TokenType::kEnd},
      {"inf", TokenType::kNumber},
      {"nan", TokenType::kNumber},
  };
  return *kMap;
}

// Decodes the UTF-8 rune at s[i]; returns its width, 0 for a bad sequence.
int DecodeRune(absl::string_view s, size_t i, uint32_t* r) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    *r = c;
    return 1;
  }
  int n;
  uint32_t min;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    *r = c & 0x1F;
    min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    *r = c & 0x0F;
    min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    *r = c & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (int k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    *r = (*r << 6) | (cc & 0x3F);
  }
  if (*r < min || *r > 0x10FFFF || (*r >= 0xD800 && *r < 0xE000)) return 0;
  return n;
}

void AppendUtf8(uint32_t r, std::string* out) {
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

// Whether Go's strconv.IsPrint holds for `r` (judged by GoQuote leaving it unescaped).
bool IsPrintRune(uint32_t r) {
  if (r < 0x80) return r >= 0x20 && r < 0x7f;
  std::string s;
  AppendUtf8(r, &s);
  return prom::GoQuote(s) == absl::StrCat("\"", s, "\"");
}

// Go's %#U: "U+0071 'q'" (the quoted rune only when printable).
std::string GoRuneU(uint32_t r) {
  std::string out = absl::StrFormat("U+%04X", r);
  if (IsPrintRune(r)) {
    out += " '";
    AppendUtf8(r, &out);
    out += "'";
  }
  return out;
}

int DigitVal(uint32_t r) {
  if (r >= '0' && r <= '9') return static_cast<int>(r - '0');
  if (r >= 'a' && r <= 'f') return static_cast<int>(r - 'a' + 10);
  if (r >= 'A' && r <= 'F') return static_cast<int>(r - 'A' + 10);
  return 16;
}

// The first `n` runes of `s` (a bad byte counts as one rune), as Go's %.Nq truncates.
absl::string_view FirstRunes(absl::string_view s, int n) {
  size_t i = 0;
  for (int k = 0; k < n && i < s.size(); ++k) {
    uint32_t r;
    const int w = DecodeRune(s, i, &r);
    i += w == 0 ? 1 : w;
  }
  return s.substr(0, i);
}

}  // namespace

bool IsAggregatorToken(TokenType t) { return t >= TokenType::kAvg && t <= TokenType::kTopk; }
bool IsOperatorToken(TokenType t) { return t >= TokenType::kAdd && t <= TokenType::kAt; }
bool IsKeywordToken(TokenType t) { return t >= TokenType::kBool && t <= TokenType::kWithout; }

std::string GoQuoteRune(uint32_t r) {
  switch (r) {
    case '\a':
      return "'\\a'";
    case '\b':
      return "'\\b'";
    case '\f':
      return "'\\f'";
    case '\n':
      return "'\\n'";
    case '\r':
      return "'\\r'";
    case '\t':
      return "'\\t'";
    case '\v':
      return "'\\v'";
    case '\\':
      return "'\\\\'";
    case '\'':
      return "'\\''";
    default:
      break;
  }
  if (IsPrintRune(r)) {
    std::string out = "'";
    AppendUtf8(r, &out);
    return out + "'";
  }
  if (r < 0x80) return absl::StrFormat("'\\x%02x'", r);
  if (r < 0x10000) return absl::StrFormat("'\\u%04x'", r);
  return absl::StrFormat("'\\U%08x'", r);
}

std::string DescribeToken(const Token& t) {
  switch (t.type) {
    case TokenType::kEOF:
      return "end of input";
    case TokenType::kError:
      return absl::StrCat("error ", t.val);
    case TokenType::kComment:
      return absl::StrCat("comment ", prom::GoQuote(FirstRunes(t.val, 10)),
                          t.val.size() > 10 ? "..." : "");
    case TokenType::kIdentifier:
      return absl::StrCat("identifier ", prom::GoQuote(t.val));
    case TokenType::kMetricIdentifier:
      return absl::StrCat("metric identifier ", prom::GoQuote(t.val));
    case TokenType::kAt:
      // Prometheus 2.42 has no display name for `@`.
      return absl::StrCat("\"<Item 57385>\" <op:", t.val, ">");
    default:
      break;
  }
  std::string prefix;
  switch (t.type) {
    case TokenType::kString:
      prefix = "string ";
      break;
    case TokenType::kNumber:
      prefix = "number ";
      break;
    case TokenType::kDuration:
      prefix = "duration ";
      break;
    default:
      break;
  }
  if (IsKeywordToken(t.type)) return absl::StrCat("<", t.val, ">");
  if (IsOperatorToken(t.type)) return absl::StrCat("<op:", t.val, ">");
  if (IsAggregatorToken(t.type)) return absl::StrCat("<aggr:", t.val, ">");
  // Go's %.10q counts bytes of the string for the "..." decision via len(Val) > 10.
  if (t.val.size() > 10) return absl::StrCat(prefix, prom::GoQuote(FirstRunes(t.val, 10)), "...");
  return absl::StrCat(prefix, prom::GoQuote(t.val));
}

uint32_t Lexer::NextRune() {
  if (pos_ >= input_.size()) {
    width_ = 0;
    return kEofRune;
  }
  uint32_t r;
  const int w = DecodeRune(input_, pos_, &r);
  if (w == 0) {
    width_ = 1;
    pos_ += 1;
    return kRuneError;
  }
  width_ = w;
  pos_ += w;
  return r;
}

uint32_t Lexer::Peek() {
  const uint32_t r = NextRune();
  Backup();
  return r;
}

bool Lexer::Accept(absl::string_view valid) {
  const uint32_t r = NextRune();
  if (r < 0x80 && valid.find(static_cast<char>(r)) != absl::string_view::npos) return true;
  Backup();
  return false;
}

void Lexer::AcceptRun(absl::string_view valid) {
  while (true) {
    const uint32_t r = NextRune();
    if (r < 0x80 && valid.find(static_cast<char>(r)) != absl::string_view::npos) continue;
    Backup();
    return;
  }
}

Token Lexer::Emit(TokenType t) {
  Token tok{t, static_cast<int32_t>(start_), std::string(input_.substr(start_, pos_ - start_))};
  start_ = pos_;
  return tok;
}

Token Lexer::Errorf(std::string msg) {
  done_ = true;
  return Token{TokenType::kError, static_cast<int32_t>(start_), std::move(msg)};
}

Token Lexer::Next() {
  if (done_) return Token{TokenType::kEOF, static_cast<int32_t>(input_.size()), ""};
  if (pending_duration_) {
    pending_duration_ = false;
    return LexDuration();
  }
  return brace_open_ ? LexInsideBraces() : LexStatements();
}

Token Lexer::LexLineComment() {
  pos_ += 1;  // '#'
  uint32_t r = NextRune();
  while (r != '\n' && r != '\r' && r != kEofRune) r = NextRune();
  Backup();
  return Emit(TokenType::kComment);
}

Token Lexer::LexStatements() {
  while (true) {
    if (pos_ < input_.size() && input_[pos_] == '#') return LexLineComment();
    const uint32_t r = NextRune();
    if (r == kEofRune) {
      if (paren_depth_ != 0) return Errorf("unclosed left parenthesis");
      if (bracket_open_) return Errorf("unclosed left bracket");
      done_ = true;
      return Emit(TokenType::kEOF);
    }
    if (IsSpace(r)) {
      AcceptRun(" \t\n\r");
      start_ = pos_;
      continue;
    }
    switch (r) {
      case ',':
        return Emit(TokenType::kComma);
      case '*':
        return Emit(TokenType::kMul);
      case '/':
        return Emit(TokenType::kDiv);
      case '%':
        return Emit(TokenType::kMod);
      case '+':
        return Emit(TokenType::kAdd);
      case '-':
        return Emit(TokenType::kSub);
      case '^':
        return Emit(TokenType::kPow);
      case '=': {
        const uint32_t t = Peek();
        if (t == '=') {
          NextRune();
          return Emit(TokenType::kEqlc);
        }
        if (t == '~')
          return Errorf(absl::StrCat("unexpected character after '=': ", GoQuoteRune(t)));
        return Emit(TokenType::kEql);
      }
      case '!': {
        const uint32_t t = NextRune();
        if (t == '=') return Emit(TokenType::kNeq);
        return Errorf(absl::StrCat("unexpected character after '!': ",
                                   GoQuoteRune(t == kEofRune ? kRuneError : t)));
      }
      case '<':
        if (Peek() == '=') {
          NextRune();
          return Emit(TokenType::kLte);
        }
        return Emit(TokenType::kLss);
      case '>':
        if (Peek() == '=') {
          NextRune();
          return Emit(TokenType::kGte);
        }
        return Emit(TokenType::kGtr);
      case '"':
      case '\'':
        return LexString(r);
      case '`':
        return LexRawString(r);
      case '(':
        ++paren_depth_;
        return Emit(TokenType::kLeftParen);
      case ')':
        --paren_depth_;
        if (paren_depth_ < 0) {
          start_ = pos_;  // Prometheus reports the position after the parenthesis.
          return Errorf("unexpected right parenthesis ')'");
        }
        return Emit(TokenType::kRightParen);
      case '{':
        brace_open_ = true;
        return Emit(TokenType::kLeftBrace);
      case '[': {
        if (bracket_open_) return Errorf("unexpected left bracket '['");
        got_colon_ = false;
        Token tok = Emit(TokenType::kLeftBracket);
        AcceptRun(" \t\n\r");
        start_ = pos_;
        bracket_open_ = true;
        pending_duration_ = true;
        return tok;
      }
      case ']':
        if (!bracket_open_) return Errorf("unexpected right bracket ']'");
        bracket_open_ = false;
        return Emit(TokenType::kRightBracket);
      case '@':
        return Emit(TokenType::kAt);
      default:
        break;
    }
    if (IsDigit(r) || (r == '.' && IsDigit(Peek()))) {
      Backup();
      return LexNumberOrDuration();
    }
    if (IsAlpha(r) || r == ':') {
      if (!bracket_open_) {
        Backup();
        return LexKeywordOrIdentifier();
      }
      if (got_colon_) return Errorf(absl::StrCat("unexpected colon ", GoQuoteRune(r)));
      got_colon_ = true;
      return Emit(TokenType::kColon);
    }
    return Errorf(absl::StrCat("unexpected character: ", GoQuoteRune(r)));
  }
}

Token Lexer::LexInsideBraces() {
  while (true) {
    if (pos_ < input_.size() && input_[pos_] == '#') return LexLineComment();
    const uint32_t r = NextRune();
    if (r == kEofRune) return Errorf("unexpected end of input inside braces");
    if (IsSpace(r)) {
      AcceptRun(" \t\n\r");
      start_ = pos_;
      continue;
    }
    if (IsAlpha(r)) {
      Backup();
      return LexIdentifier();
    }
    switch (r) {
      case ',':
        return Emit(TokenType::kComma);
      case '"':
      case '\'':
        return LexString(r);
      case '`':
        return LexRawString(r);
      case '=':
        if (NextRune() == '~') return Emit(TokenType::kEqlRegex);
        Backup();
        return Emit(TokenType::kEql);
      case '!': {
        const uint32_t nr = NextRune();
        if (nr == '~') return Emit(TokenType::kNeqRegex);
        if (nr == '=') return Emit(TokenType::kNeq);
        return Errorf(absl::StrCat("unexpected character after '!' inside braces: ",
                                   GoQuoteRune(nr == kEofRune ? kRuneError : nr)));
      }
      case '{':
        return Errorf("unexpected left brace '{'");
      case '}':
        brace_open_ = false;
        return Emit(TokenType::kRightBrace);
      default:
        return Errorf(absl::StrCat("unexpected character inside braces: ", GoQuoteRune(r)));
    }
  }
}

bool Lexer::ScanNumber() {
  absl::string_view digits = "0123456789";
  if (Accept("0") && Accept("xX")) digits = "0123456789abcdefABCDEF";
  AcceptRun(digits);
  if (Accept(".")) AcceptRun(digits);
  if (Accept("eE")) {
    Accept("+-");
    AcceptRun("0123456789");
  }
  return !IsAlphaNumeric(Peek());
}

bool Lexer::AcceptRemainingDuration() {
  if (!Accept("smhdwy")) return false;
  Accept("s");
  while (Accept("0123456789")) {
    AcceptRun("0123456789");
    if (!Accept("smhdw")) return false;
    Accept("s");
  }
  return !IsAlphaNumeric(NextRune());
}

Token Lexer::LexNumberOrDuration() {
  if (ScanNumber()) return Emit(TokenType::kNumber);
  if (AcceptRemainingDuration()) {
    Backup();
    return Emit(TokenType::kDuration);
  }
  return Errorf(absl::StrCat("bad number or duration syntax: ",
                             prom::GoQuote(input_.substr(start_, pos_ - start_))));
}

Token Lexer::LexDuration() {
  if (ScanNumber()) return Errorf("missing unit character in duration");
  if (!AcceptRemainingDuration()) {
    return Errorf(
        absl::StrCat("bad duration syntax: ", prom::GoQuote(input_.substr(start_, pos_ - start_))));
  }
  Backup();
  return Emit(TokenType::kDuration);
}

std::string Lexer::LexEscape(uint32_t quote) {
  uint32_t ch = NextRune();
  int n;
  uint32_t base, max;
  switch (ch) {
    case 'a':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
    case 'v':
    case '\\':
      return "";
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
      n = 3;
      base = 8;
      max = 255;
      break;
    case 'x':
      ch = NextRune();
      n = 2;
      base = 16;
      max = 255;
      break;
    case 'u':
      ch = NextRune();
      n = 4;
      base = 16;
      max = 0x10FFFF;
      break;
    case 'U':
      ch = NextRune();
      n = 8;
      base = 16;
      max = 0x10FFFF;
      break;
    case kEofRune:
      return "escape sequence not terminated";
    default:
      if (ch == quote) return "";
      return absl::StrCat("unknown escape sequence ", GoRuneU(ch));
  }
  uint32_t x = 0;
  while (n > 0) {
    const uint32_t d = ch == kEofRune ? 16 : static_cast<uint32_t>(DigitVal(ch));
    if (d >= base) {
      if (ch == kEofRune) return "escape sequence not terminated";
      return absl::StrCat("illegal character ", GoRuneU(ch), " in escape sequence");
    }
    x = x * base + d;
    --n;
    if (n > 0) ch = NextRune();
  }
  if (x > max || (x >= 0xD800 && x < 0xE000)) {
    return "escape sequence is an invalid Unicode code point";
  }
  return "";
}

Token Lexer::LexString(uint32_t quote) {
  while (true) {
    const uint32_t r = NextRune();
    if (r == '\\') {
      std::string err = LexEscape(quote);
      if (!err.empty()) return Errorf(std::move(err));
    } else if (r == kRuneError) {
      return Errorf("invalid UTF-8 rune");
    } else if (r == kEofRune || r == '\n') {
      return Errorf("unterminated quoted string");
    } else if (r == quote) {
      return Emit(TokenType::kString);
    }
  }
}

Token Lexer::LexRawString(uint32_t quote) {
  while (true) {
    const uint32_t r = NextRune();
    if (r == kRuneError) return Errorf("invalid UTF-8 rune");
    if (r == kEofRune) return Errorf("unterminated raw string");
    if (r == quote) return Emit(TokenType::kString);
  }
}

Token Lexer::LexKeywordOrIdentifier() {
  while (true) {
    const uint32_t r = NextRune();
    if (IsAlphaNumeric(r) || r == ':') continue;
    Backup();
    break;
  }
  const absl::string_view word = input_.substr(start_, pos_ - start_);
  const auto& kw = Keywords();
  if (auto it = kw.find(absl::AsciiStrToLower(word)); it != kw.end()) return Emit(it->second);
  if (word.find(':') == absl::string_view::npos) return Emit(TokenType::kIdentifier);
  return Emit(TokenType::kMetricIdentifier);
}

Token Lexer::LexIdentifier() {
  while (IsAlphaNumeric(NextRune())) {
  }
  Backup();
  return Emit(TokenType::kIdentifier);
}

}  // namespace sextant::promql::internal
