// A recursive-descent parser with precedence climbing that accepts exactly Prometheus 2.42's
// PromQL grammar (promql/parser/generated_parser.y) and reports its errors with the same
// messages and positions: the first error wins, as in Prometheus, so parsing stops at it.
#include "aggregator/promql/parser.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/charconv.h"
#include "absl/strings/str_cat.h"
#include "aggregator/promql/go_float.h"
#include "aggregator/promql/lexer.h"

namespace sextant::promql {
namespace {

using internal::Lexer;
using internal::Token;
using internal::TokenType;

// Deepest syntax tree the parser builds, so that no recursive walk over it (printing,
// evaluation, destruction) can exhaust the stack.
constexpr int kMaxDepth = 1000;

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;
constexpr int64_t kMsPerWeek = 7 * kMsPerDay;
constexpr int64_t kMsPerYear = 365 * kMsPerDay;

bool IsSpaceChar(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Go's strconv.ParseInt(s, 0, 64) for the unsigned forms the lexer produces; nullopt when it
// fails (syntax or range).
std::optional<int64_t> GoParseIntBase0(absl::string_view s) {
  int base = 10;
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  } else if (s.size() >= 2 && s[0] == '0') {
    base = 8;
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    if (v > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - d) / base) {
      return std::nullopt;
    }
    v = v * base + d;
  }
  return static_cast<int64_t>(v);
}

// Whether the decimal literal `s` (digits, optional fraction and exponent) is at least 1 in
// magnitude, ignoring a value of zero.
bool DecimalMagnitudeAtLeastOne(absl::string_view s) {
  const size_t e = s.find_first_of("eE");
  const absl::string_view mantissa = s.substr(0, e);
  int64_t exp = 0;
  if (e != absl::string_view::npos) {
    absl::string_view digits = s.substr(e + 1);
    const bool negative = !digits.empty() && digits[0] == '-';
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) digits.remove_prefix(1);
    for (char c : digits) {
      exp = std::min<int64_t>(exp * 10 + (c - '0'), int64_t{1} << 40);
    }
    if (negative) exp = -exp;
  }
  // The power of ten of the first nonzero digit.
  const size_t dot = mantissa.find('.');
  const absl::string_view int_part = mantissa.substr(0, dot);
  const size_t first_int = int_part.find_first_not_of('0');
  int64_t lead;
  if (first_int != absl::string_view::npos) {
    lead = static_cast<int64_t>(int_part.size() - first_int) - 1;
  } else {
    const absl::string_view frac =
        dot == absl::string_view::npos ? absl::string_view() : mantissa.substr(dot + 1);
    const size_t first_frac = frac.find_first_not_of('0');
    if (first_frac == absl::string_view::npos) return false;
    lead = -static_cast<int64_t>(first_frac) - 1;
  }
  return lead + exp >= 0;
}

// Go's strconv.ParseFloat(s, 64) for the forms the lexer produces (decimal with optional
// fraction and exponent, "Inf", "NaN"; hex mantissas lack the required 'p' exponent and fail).
absl::StatusOr<double> GoParseFloat(absl::string_view s) {
  auto syntax = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("strconv.ParseFloat: parsing ", prom::GoQuote(s), ": invalid syntax"));
  };
  const std::string lower = absl::AsciiStrToLower(s);
  if (lower == "inf" || lower == "infinity") return std::numeric_limits<double>::infinity();
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  size_t i = 0;
  size_t mantissa_digits = 0;
  while (i < s.size() && absl::ascii_isdigit(s[i])) ++i, ++mantissa_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && absl::ascii_isdigit(s[i])) ++i, ++mantissa_digits;
  }
  if (mantissa_digits == 0) return syntax();
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && absl::ascii_isdigit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return syntax();
  }
  if (i != s.size()) return syntax();
  double v = 0;
  const absl::from_chars_result r = absl::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec == std::errc::result_out_of_range) {
    // Go fails only on overflow; an underflow reads as zero.
    if (DecimalMagnitudeAtLeastOne(s)) {
      return absl::InvalidArgumentError(
          absl::StrCat("strconv.ParseFloat: parsing ", prom::GoQuote(s), ": value out of range"));
    }
    return 0.0;
  }
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return syntax();
  return v;
}

// Go's strconv.Unquote as Prometheus's strutil.Unquote (single quotes may hold any string).
std::optional<std::string> GoUnquote(absl::string_view s) {
  const size_t n = s.size();
  if (n < 2) return std::nullopt;
  const char quote = s[0];
  if (quote != s[n - 1]) return std::nullopt;
  s = s.substr(1, n - 2);
  if (quote == '`') {
    if (s.find('`') != absl::string_view::npos) return std::nullopt;
    return std::string(s);
  }
  if (quote != '"' && quote != '\'') return std::nullopt;
  if (s.find('\n') != absl::string_view::npos) return std::nullopt;
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  auto append_rune = [&out](uint32_t r) {
    if (r < 0x80) {
      out.push_back(static_cast<char>(r));
    } else if (r < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (r >> 6)));
      out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
    } else if (r < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (r >> 12)));
      out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (r >> 18)));
      out.push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (r & 0x3F)));
    }
  };
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == quote) return std::nullopt;
    if (c != '\\') {
      out.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 >= s.size()) return std::nullopt;
    const char e = s[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\'':
      case '"':
        if (e != quote) return std::nullopt;
        out.push_back(e);
        break;
      case 'x':
      case 'u':
      case 'U': {
        const int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + digits > s.size()) return std::nullopt;
        uint32_t v = 0;
        for (int k = 0; k < digits; ++k) {
          const int d = hex(s[i + k]);
          if (d < 0) return std::nullopt;
          v = v * 16 + d;
        }
        i += digits;
        if (e == 'x') {
          out.push_back(static_cast<char>(v));
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v < 0xE000)) return std::nullopt;
          append_rune(v);
        }
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        if (i + 2 > s.size()) return std::nullopt;
        uint32_t v = e - '0';
        for (int k = 0; k < 2; ++k) {
          const char d = s[i + k];
          if (d < '0' || d > '7') return std::nullopt;
          v = v * 8 + (d - '0');
        }
        if (v > 255) return std::nullopt;
        i += 2;
        out.push_back(static_cast<char>(v));
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

bool IsValidLabelName(absl::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool ok = c == '_' || absl::ascii_isalpha(c) || (i > 0 && absl::ascii_isdigit(c));
    if (!ok) return false;
  }
  return true;
}

// Tokens that may name a metric (generated_parser.y's metric_identifier).
bool IsMetricIdentifier(TokenType t) {
  switch (t) {
    case TokenType::kIdentifier:
    case TokenType::kMetricIdentifier:
    case TokenType::kBy:
    case TokenType::kLand:
    case TokenType::kLor:
    case TokenType::kLunless:
    case TokenType::kOffset:
    case TokenType::kWithout:
    case TokenType::kStart:
    case TokenType::kEnd:
      return true;
    default:
      return internal::IsAggregatorToken(t);
  }
}

// Tokens that may be a label in grouping options (maybe_label): the metric identifiers but
// `without`, and a few more keywords.
bool IsMaybeLabel(TokenType t) {
  if (t == TokenType::kWithout) return false;
  if (IsMetricIdentifier(t)) return true;
  switch (t) {
    case TokenType::kBool:
    case TokenType::kGroupLeft:
    case TokenType::kGroupRight:
    case TokenType::kIgnoring:
    case TokenType::kOn:
    case TokenType::kAtan2:
      return true;
    default:
      return false;
  }
}

// Tokens that can start an expression.
bool StartsExpr(TokenType t) {
  if (IsMetricIdentifier(t)) return true;
  switch (t) {
    case TokenType::kLeftBrace:
    case TokenType::kLeftParen:
    case TokenType::kNumber:
    case TokenType::kString:
    case TokenType::kAdd:
    case TokenType::kSub:
      return true;
    default:
      return false;
  }
}

// Binary operator precedence (higher binds tighter); 0 for tokens that are not one.
int Precedence(TokenType t) {
  switch (t) {
    case TokenType::kLor:
      return 1;
    case TokenType::kLand:
    case TokenType::kLunless:
      return 2;
    case TokenType::kEqlc:
    case TokenType::kNeq:
    case TokenType::kLte:
    case TokenType::kLss:
    case TokenType::kGte:
    case TokenType::kGtr:
      return 3;
    case TokenType::kAdd:
    case TokenType::kSub:
      return 4;
    case TokenType::kMul:
    case TokenType::kDiv:
    case TokenType::kMod:
    case TokenType::kAtan2:
      return 5;
    case TokenType::kPow:
      return 6;
    default:
      return 0;
  }
}
constexpr int kPowPrecedence = 6;

BinaryOp ToBinaryOp(TokenType t) {
  switch (t) {
    case TokenType::kAdd:
      return BinaryOp::kAdd;
    case TokenType::kSub:
      return BinaryOp::kSub;
    case TokenType::kMul:
      return BinaryOp::kMul;
    case TokenType::kDiv:
      return BinaryOp::kDiv;
    case TokenType::kMod:
      return BinaryOp::kMod;
    case TokenType::kPow:
      return BinaryOp::kPow;
    case TokenType::kAtan2:
      return BinaryOp::kAtan2;
    case TokenType::kEqlc:
      return BinaryOp::kEql;
    case TokenType::kNeq:
      return BinaryOp::kNeq;
    case TokenType::kGtr:
      return BinaryOp::kGtr;
    case TokenType::kLss:
      return BinaryOp::kLss;
    case TokenType::kGte:
      return BinaryOp::kGte;
    case TokenType::kLte:
      return BinaryOp::kLte;
    case TokenType::kLand:
      return BinaryOp::kAnd;
    case TokenType::kLor:
      return BinaryOp::kOr;
    default:
      return BinaryOp::kUnless;
  }
}

AggregateOp ToAggregateOp(TokenType t) {
  switch (t) {
    case TokenType::kAvg:
      return AggregateOp::kAvg;
    case TokenType::kBottomk:
      return AggregateOp::kBottomk;
    case TokenType::kCount:
      return AggregateOp::kCount;
    case TokenType::kCountValues:
      return AggregateOp::kCountValues;
    case TokenType::kGroup:
      return AggregateOp::kGroup;
    case TokenType::kMax:
      return AggregateOp::kMax;
    case TokenType::kMin:
      return AggregateOp::kMin;
    case TokenType::kQuantile:
      return AggregateOp::kQuantile;
    case TokenType::kStddev:
      return AggregateOp::kStddev;
    case TokenType::kStdvar:
      return AggregateOp::kStdvar;
    case TokenType::kTopk:
      return AggregateOp::kTopk;
    default:
      return AggregateOp::kSum;
  }
}

// A parsed subtree and its depth.
struct Parsed {
  ExprPtr expr;
  int depth = 0;
};

// One parse of one input, owned by the ParseExpr/ParseMetricSelector call that makes it. Parse
// functions return an empty Parsed once an error is recorded; the first error recorded is the
// one reported (as Prometheus reports only its first). Not thread-safe.
class Parser {
 public:
  explicit Parser(absl::string_view input) : input_(input), lexer_(input) {}

  absl::StatusOr<ExprPtr> ParseQuery() {
    if (Peek().type == TokenType::kEOF) {
      AddError(0, "no expression found in input");
      return Result();
    }
    Parsed p = ParseBinary(0);
    if (failed()) return Result();
    if (Peek().type != TokenType::kEOF) {
      Unexpected("", "");
      return Result();
    }
    CheckAST(*p.expr);
    if (failed()) return Result();
    return std::move(p.expr);
  }

  absl::StatusOr<std::vector<prom::Matcher>> ParseSelector() {
    const Token& t = Peek();
    Parsed p;
    if (IsMetricIdentifier(t.type) || t.type == TokenType::kLeftBrace) {
      p = ParseVectorSelector();
    } else {
      Unexpected("", "");
    }
    if (!failed() && Peek().type != TokenType::kEOF) Unexpected("", "");
    if (failed()) return Result();
    return std::move(static_cast<VectorSelector&>(*p.expr).matchers);
  }

 private:
  bool failed() const { return error_.has_value(); }

  absl::Status Result() const {
    const int32_t pos = error_->first;
    int line = 1;
    int last_break = -1;
    for (int32_t i = 0; i < pos && i < static_cast<int32_t>(input_.size()); ++i) {
      if (input_[i] == '\n') {
        last_break = i;
        ++line;
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat(line, ":", pos - last_break, ": parse error: ", error_->second));
  }

  void AddError(int32_t pos, std::string msg) {
    if (!error_) error_.emplace(pos, std::move(msg));
  }

  // The lookahead token, comments skipped. Reading a lexer error records it.
  const Token& Peek() {
    if (!have_peek_) {
      do {
        peek_ = lexer_.Next();
      } while (peek_.type == TokenType::kComment);
      have_peek_ = true;
      if (peek_.type == TokenType::kError) AddError(peek_.pos, peek_.val);
    }
    return peek_;
  }

  Token Consume() {
    Peek();
    have_peek_ = false;
    last_end_ = peek_.pos + static_cast<int32_t>(peek_.val.size());
    return std::move(peek_);
  }

  // Prometheus's parser.unexpected(): "unexpected <token>[ in <context>][, expected <what>]"
  // about the lookahead token (nothing when it is a lexer error, already recorded).
  void Unexpected(absl::string_view context, absl::string_view expected) {
    const Token& t = Peek();
    if (t.type == TokenType::kError) return;
    std::string msg = absl::StrCat("unexpected ", internal::DescribeToken(t));
    if (!context.empty()) absl::StrAppend(&msg, " in ", context);
    if (!expected.empty()) absl::StrAppend(&msg, ", expected ", expected);
    AddError(t.pos, std::move(msg));
  }

  // A syntax error with no rule of its own: inside an aggregation Prometheus's grammar reports
  // it "in aggregation".
  void UnexpectedHere() { Unexpected(aggregation_depth_ > 0 ? "aggregation" : "", ""); }

  bool CheckDepth(int depth, int32_t pos) {
    if (depth > kMaxDepth) {
      AddError(pos, absl::StrCat("expression nests deeper than ", kMaxDepth, " levels"));
      return false;
    }
    return true;
  }

  // expr with binary operators of precedence >= min_prec.
  Parsed ParseBinary(int min_prec) {
    if (++recursion_ > kMaxDepth) {
      AddError(Peek().pos, absl::StrCat("expression nests deeper than ", kMaxDepth, " levels"));
      --recursion_;
      return {};
    }
    Parsed lhs = ParseUnary();
    while (!failed()) {
      const TokenType op_type = Peek().type;
      const int prec = Precedence(op_type);
      if (prec == 0 || prec < min_prec) break;
      Consume();
      auto bin = std::make_unique<BinaryExpr>();
      bin->op = ToBinaryOp(op_type);
      if (!ParseBinModifiers(bin->matching, bin->return_bool)) break;
      Parsed rhs = ParseBinary(op_type == TokenType::kPow ? prec : prec + 1);
      if (failed()) break;
      bin->pos = {lhs.expr->pos.start, rhs.expr->pos.end};
      const int depth = std::max(lhs.depth, rhs.depth) + 1;
      bin->lhs = std::move(lhs.expr);
      bin->rhs = std::move(rhs.expr);
      lhs = {std::move(bin), depth};
      if (!CheckDepth(depth, lhs.expr->pos.start)) break;
    }
    --recursion_;
    if (failed()) return {};
    return lhs;
  }

  // bool? ((on|ignoring) labels ((group_left|group_right) labels?)?)?
  bool ParseBinModifiers(VectorMatching& vm, bool& return_bool) {
    if (Peek().type == TokenType::kBool) {
      Consume();
      return_bool = true;
    }
    const TokenType t = Peek().type;
    if (t != TokenType::kOn && t != TokenType::kIgnoring) return true;
    Consume();
    vm.on = t == TokenType::kOn;
    if (!ParseGroupingLabels(vm.matching_labels)) return false;
    const TokenType g = Peek().type;
    if (g != TokenType::kGroupLeft && g != TokenType::kGroupRight) return true;
    Consume();
    vm.card = g == TokenType::kGroupLeft ? VectorMatching::Card::kManyToOne
                                         : VectorMatching::Card::kOneToMany;
    if (Peek().type == TokenType::kLeftParen) return ParseGroupingLabels(vm.include);
    // The labels are optional, but only an expression may follow instead.
    if (!StartsExpr(Peek().type)) {
      Unexpected("grouping opts", "\"(\"");
      return false;
    }
    return true;
  }

  // "(" label, ... [","] ")"
  bool ParseGroupingLabels(std::vector<std::string>& out) {
    if (Peek().type != TokenType::kLeftParen) {
      Unexpected("grouping opts", "\"(\"");
      return false;
    }
    Consume();
    if (Peek().type == TokenType::kRightParen) {
      Consume();
      return true;
    }
    while (true) {
      const Token& t = Peek();
      if (!IsMaybeLabel(t.type)) {
        Unexpected("grouping opts", "label");
        return false;
      }
      if (!IsValidLabelName(t.val)) {
        Unexpected("grouping opts", "label");
        return false;
      }
      out.push_back(Consume().val);
      const TokenType next = Peek().type;
      if (next == TokenType::kRightParen) {
        Consume();
        return true;
      }
      if (next != TokenType::kComma) {
        Unexpected("grouping opts", "\",\" or \")\"");
        return false;
      }
      Consume();
      if (Peek().type == TokenType::kRightParen) {
        Consume();
        return true;
      }
    }
  }

  // A unary expression, or a primary expression with its postfix modifiers.
  Parsed ParseUnary() {
    const Token& t = Peek();
    if (t.type != TokenType::kAdd && t.type != TokenType::kSub) {
      Parsed p = ParsePrimary();
      if (failed()) return {};
      return ParsePostfix(std::move(p));
    }
    const Token op = Consume();
    // The operand binds like `*`: only `^` binds tighter than a unary operator.
    Parsed operand = ParseBinary(kPowPrecedence);
    if (failed()) return {};
    if (operand.expr->kind == ExprKind::kNumberLiteral) {
      auto& nl = static_cast<NumberLiteral&>(*operand.expr);
      if (op.type == TokenType::kSub) nl.value = -nl.value;
      nl.pos.start = op.pos;
      return operand;
    }
    auto u = std::make_unique<UnaryExpr>();
    u->negate = op.type == TokenType::kSub;
    u->pos = {op.pos, operand.expr->pos.end};
    u->expr = std::move(operand.expr);
    const int depth = operand.depth + 1;
    if (!CheckDepth(depth, op.pos)) return {};
    return {std::move(u), depth};
  }

  Parsed ParsePostfix(Parsed p) {
    while (!failed()) {
      const TokenType t = Peek().type;
      if (t == TokenType::kOffset) {
        ParseOffset(*p.expr);
      } else if (t == TokenType::kAt) {
        ParseAt(*p.expr);
      } else if (t == TokenType::kLeftBracket) {
        p = ParseRangeOrSubquery(std::move(p));
      } else {
        break;
      }
    }
    if (failed()) return {};
    return p;
  }

  // A duration token's value; records Prometheus's error for a bad or zero one.
  std::optional<int64_t> DurationValue(const Token& t) {
    absl::StatusOr<int64_t> d = ParseDuration(t.val);
    if (!d.ok()) {
      AddError(t.pos, std::string(d.status().message()));
      return std::nullopt;
    }
    if (*d == 0) {
      AddError(t.pos, "duration must be greater than 0");
      return std::nullopt;
    }
    return *d;
  }

  void ParseOffset(Expr& e) {
    Consume();  // offset
    bool negative = false;
    if (Peek().type == TokenType::kSub) {
      Consume();
      negative = true;
    }
    if (Peek().type != TokenType::kDuration) {
      Unexpected("offset", "duration");
      return;
    }
    const Token dt = Consume();
    std::optional<int64_t> d = DurationValue(dt);
    if (!d) return;
    const int64_t offset = negative ? -*d : *d;
    int64_t* orig = nullptr;
    int64_t* eval = nullptr;
    switch (e.kind) {
      case ExprKind::kVectorSelector: {
        auto& vs = static_cast<VectorSelector&>(e);
        orig = &vs.original_offset_ms;
        eval = &vs.offset_ms;
        break;
      }
      case ExprKind::kMatrixSelector: {
        auto& ms = static_cast<MatrixSelector&>(e);
        if (ms.vector_selector->kind != ExprKind::kVectorSelector) {
          AddError(e.pos.start, "ranges only allowed for vector selectors");
          return;
        }
        auto& vs = static_cast<VectorSelector&>(*ms.vector_selector);
        orig = &vs.original_offset_ms;
        eval = &vs.offset_ms;
        break;
      }
      case ExprKind::kSubquery: {
        auto& sq = static_cast<SubqueryExpr&>(e);
        orig = &sq.original_offset_ms;
        eval = &sq.offset_ms;
        break;
      }
      default:
        AddError(e.pos.start,
                 "offset modifier must be preceded by an instant vector selector or range "
                 "vector selector or a subquery");
        return;
    }
    if (*orig != 0) {
      AddError(e.pos.start, "offset may not be set multiple times");
      return;
    }
    *orig = offset;
    *eval = offset;
    e.pos.end = last_end_;
  }

  // The @ fields of `e`, or null after recording Prometheus's error.
  struct AtVars {
    AtModifier* at;
    std::optional<int64_t>* ts;
  };
  std::optional<AtVars> GetAtVars(Expr& e) {
    AtVars v{};
    switch (e.kind) {
      case ExprKind::kVectorSelector: {
        auto& vs = static_cast<VectorSelector&>(e);
        v = {&vs.at, &vs.timestamp_ms};
        break;
      }
      case ExprKind::kMatrixSelector: {
        auto& ms = static_cast<MatrixSelector&>(e);
        if (ms.vector_selector->kind != ExprKind::kVectorSelector) {
          AddError(e.pos.start, "ranges only allowed for vector selectors");
          return std::nullopt;
        }
        auto& vs = static_cast<VectorSelector&>(*ms.vector_selector);
        v = {&vs.at, &vs.timestamp_ms};
        break;
      }
      case ExprKind::kSubquery: {
        auto& sq = static_cast<SubqueryExpr&>(e);
        v = {&sq.at, &sq.timestamp_ms};
        break;
      }
      default:
        AddError(e.pos.start,
                 "@ modifier must be preceded by an instant vector selector or range vector "
                 "selector or a subquery");
        return std::nullopt;
    }
    if (*v.at != AtModifier::kNone) {
      AddError(e.pos.start, "@ <timestamp> may not be set multiple times");
      return std::nullopt;
    }
    return v;
  }

  void ParseAt(Expr& e) {
    Consume();  // @
    const TokenType t = Peek().type;
    if (t == TokenType::kStart || t == TokenType::kEnd) {
      Consume();
      if (Peek().type != TokenType::kLeftParen) {
        Unexpected("@", "timestamp");
        return;
      }
      Consume();
      if (Peek().type != TokenType::kRightParen) {
        Unexpected("@", "timestamp");
        return;
      }
      Consume();
      std::optional<AtVars> v = GetAtVars(e);
      if (!v) return;
      *v->at = t == TokenType::kStart ? AtModifier::kStart : AtModifier::kEnd;
      e.pos.end = last_end_;
      return;
    }
    bool negative = false;
    if (t == TokenType::kAdd || t == TokenType::kSub) {
      Consume();
      negative = t == TokenType::kSub;
    }
    if (Peek().type != TokenType::kNumber) {
      Unexpected("@", "timestamp");
      return;
    }
    std::optional<double> num = NumberValue(Consume());
    if (!num) return;
    const double ts = negative ? -*num : *num;
    if (std::isnan(ts) || std::isinf(ts) ||
        ts >= static_cast<double>(std::numeric_limits<int64_t>::max()) ||
        ts <= static_cast<double>(std::numeric_limits<int64_t>::min())) {
      AddError(e.pos.start,
               absl::StrCat("timestamp out of bounds for @ modifier: ", GoFormatPercentF(ts)));
      return;
    }
    std::optional<AtVars> v = GetAtVars(e);
    if (!v) return;
    *v->at = AtModifier::kTimestamp;
    const double ms = std::round(ts * 1000);
    // Go converts an out-of-range float to the minimum int64 on amd64.
    *v->ts = (ms >= 9.2233720368547758e18 || ms < -9.2233720368547758e18)
                 ? std::numeric_limits<int64_t>::min()
                 : static_cast<int64_t>(ms);
    e.pos.end = last_end_;
  }

  // `[range]` or `[range:step]` after `p`.
  Parsed ParseRangeOrSubquery(Parsed p) {
    const Token open = Consume();  // [
    if (Peek().type != TokenType::kDuration) {
      Unexpected("subquery selector", "duration");
      return {};
    }
    std::optional<int64_t> range = DurationValue(Consume());
    if (!range) return {};
    const TokenType t = Peek().type;
    if (t == TokenType::kRightBracket) {
      Consume();
      const char* err = nullptr;
      if (p.expr->kind != ExprKind::kVectorSelector) {
        err = "ranges only allowed for vector selectors";
      } else {
        const auto& vs = static_cast<const VectorSelector&>(*p.expr);
        if (vs.original_offset_ms != 0) {
          err = "no offset modifiers allowed before range";
        } else if (vs.timestamp_ms.has_value()) {
          err = "no @ modifiers allowed before range";
        }
      }
      if (err != nullptr) {
        AddError(open.pos, err);
        return {};
      }
      auto ms = std::make_unique<MatrixSelector>();
      ms->pos = {p.expr->pos.start, last_end_};
      ms->range_ms = *range;
      ms->vector_selector = std::move(p.expr);
      return {std::move(ms), p.depth + 1};
    }
    if (t != TokenType::kColon) {
      Unexpected("subquery or range", "\":\" or \"]\"");
      return {};
    }
    Consume();
    int64_t step = 0;
    if (Peek().type == TokenType::kDuration) {
      std::optional<int64_t> s = DurationValue(Consume());
      if (!s) return {};
      step = *s;
      if (Peek().type != TokenType::kRightBracket) {
        Unexpected("subquery selector", "\"]\"");
        return {};
      }
    } else if (Peek().type != TokenType::kRightBracket) {
      Unexpected("subquery selector", "duration or \"]\"");
      return {};
    }
    Consume();
    auto sq = std::make_unique<SubqueryExpr>();
    sq->pos = {p.expr->pos.start, last_end_};
    sq->range_ms = *range;
    sq->step_ms = step;
    sq->expr = std::move(p.expr);
    const int depth = p.depth + 1;
    if (!CheckDepth(depth, sq->pos.start)) return {};
    return {std::move(sq), depth};
  }

  // Prometheus's parser.number(): ParseInt with base prefixes, else ParseFloat.
  std::optional<double> NumberValue(const Token& t) {
    if (std::optional<int64_t> i = GoParseIntBase0(t.val)) return static_cast<double>(*i);
    absl::StatusOr<double> f = GoParseFloat(t.val);
    if (!f.ok()) {
      AddError(t.pos, absl::StrCat("error parsing number: ", f.status().message()));
      return std::nullopt;
    }
    return *f;
  }

  std::optional<std::string> StringValue(const Token& t) {
    absl::StatusOr<std::string> s = UnquoteString(t.val);
    if (!s.ok()) {
      AddError(t.pos, std::string(s.status().message()));
      return std::nullopt;
    }
    return *std::move(s);
  }

  Parsed ParsePrimary() {
    const Token& t = Peek();
    switch (t.type) {
      case TokenType::kNumber: {
        const Token tok = Consume();
        std::optional<double> v = NumberValue(tok);
        if (!v) return {};
        auto nl = std::make_unique<NumberLiteral>();
        nl->value = *v;
        nl->pos = {tok.pos, last_end_};
        return {std::move(nl), 1};
      }
      case TokenType::kString: {
        const Token tok = Consume();
        std::optional<std::string> v = StringValue(tok);
        if (!v) return {};
        auto sl = std::make_unique<StringLiteral>();
        sl->value = std::move(*v);
        sl->pos = {tok.pos, last_end_};
        return {std::move(sl), 1};
      }
      case TokenType::kLeftParen: {
        const Token open = Consume();
        Parsed inner = ParseBinary(0);
        if (failed()) return {};
        if (Peek().type != TokenType::kRightParen) {
          UnexpectedHere();
          return {};
        }
        Consume();
        auto pe = std::make_unique<ParenExpr>();
        pe->pos = {open.pos, last_end_};
        pe->expr = std::move(inner.expr);
        const int depth = inner.depth + 1;
        if (!CheckDepth(depth, open.pos)) return {};
        return {std::move(pe), depth};
      }
      case TokenType::kLeftBrace:
        return ParseVectorSelector();
      case TokenType::kIdentifier: {
        Token name = Consume();
        if (Peek().type == TokenType::kLeftParen) return ParseCall(std::move(name));
        return ParseVectorSelectorAfterName(std::move(name));
      }
      default:
        break;
    }
    if (internal::IsAggregatorToken(t.type)) {
      Token op = Consume();
      const TokenType next = Peek().type;
      if (next == TokenType::kLeftParen || next == TokenType::kBy || next == TokenType::kWithout) {
        return ParseAggregate(std::move(op));
      }
      return ParseVectorSelectorAfterName(std::move(op));
    }
    if (IsMetricIdentifier(t.type)) return ParseVectorSelectorAfterName(Consume());
    UnexpectedHere();
    return {};
  }

  // `(args)` after a function name.
  bool ParseCallArgs(std::vector<Parsed>& args) {
    Consume();  // (
    if (Peek().type == TokenType::kRightParen) {
      Consume();
      return true;
    }
    while (true) {
      Parsed arg = ParseBinary(0);
      if (failed()) return false;
      args.push_back(std::move(arg));
      const TokenType t = Peek().type;
      if (t == TokenType::kRightParen) {
        Consume();
        return true;
      }
      if (t != TokenType::kComma) {
        UnexpectedHere();
        return false;
      }
      const Token comma = Consume();
      if (!StartsExpr(Peek().type)) {
        if (Peek().type == TokenType::kError) return false;
        AddError(comma.pos, "trailing commas not allowed in function call args");
        return false;
      }
    }
  }

  Parsed ParseCall(Token name) {
    std::vector<Parsed> args;
    if (!ParseCallArgs(args)) return {};
    const Function* fn = LookupFunction(name.val);
    if (fn == nullptr) {
      AddError(name.pos, absl::StrCat("unknown function with name ", prom::GoQuote(name.val)));
      return {};
    }
    auto call = std::make_unique<Call>();
    call->func = fn;
    call->pos = {name.pos, last_end_};
    int depth = 0;
    for (Parsed& a : args) {
      depth = std::max(depth, a.depth);
      call->args.push_back(std::move(a.expr));
    }
    ++depth;
    if (!CheckDepth(depth, name.pos)) return {};
    return {std::move(call), depth};
  }

  // by (labels) | without (labels)
  bool ParseAggregateModifier(AggregateExpr& agg) {
    agg.without = Consume().type == TokenType::kWithout;
    return ParseGroupingLabels(agg.grouping);
  }

  Parsed ParseAggregate(Token op) {
    ++aggregation_depth_;
    Parsed result = ParseAggregateBody(op);
    --aggregation_depth_;
    return result;
  }

  Parsed ParseAggregateBody(const Token& op) {
    auto agg = std::make_unique<AggregateExpr>();
    agg->op = ToAggregateOp(op.type);
    bool modifier_first = false;
    if (Peek().type == TokenType::kBy || Peek().type == TokenType::kWithout) {
      if (!ParseAggregateModifier(*agg)) return {};
      modifier_first = true;
      if (Peek().type != TokenType::kLeftParen) {
        Unexpected("aggregation", "");
        return {};
      }
    }
    std::vector<Parsed> args;
    if (!ParseCallArgs(args)) return {};
    int32_t end = last_end_;
    if (!modifier_first) {
      const TokenType t = Peek().type;  // Prometheus reads the lookahead here.
      if (failed()) return {};
      if (t == TokenType::kBy || t == TokenType::kWithout) {
        if (!ParseAggregateModifier(*agg)) return {};
        end = last_end_;
      }
    }
    agg->pos = {op.pos, end};
    if (args.empty()) {
      AddError(op.pos, "no arguments for aggregate expression provided");
      return {};
    }
    const size_t want = AggregateOpHasParam(agg->op) ? 2 : 1;
    if (args.size() != want) {
      AddError(op.pos, absl::StrCat(
                           "wrong number of arguments for aggregate expression provided, expected ",
                           want, ", got ", args.size()));
      return {};
    }
    int depth = 0;
    for (const Parsed& a : args) depth = std::max(depth, a.depth);
    ++depth;
    if (want == 2) agg->param = std::move(args[0].expr);
    agg->expr = std::move(args[want - 1].expr);
    if (!CheckDepth(depth, op.pos)) return {};
    return {std::move(agg), depth};
  }

  Parsed ParseVectorSelector() {
    const Token& t = Peek();
    if (t.type == TokenType::kLeftBrace) {
      auto vs = std::make_unique<VectorSelector>();
      vs->pos.start = t.pos;
      if (!ParseLabelMatchers(vs->matchers)) return {};
      vs->pos.end = last_end_;
      return {std::move(vs), 1};
    }
    return ParseVectorSelectorAfterName(Consume());
  }

  Parsed ParseVectorSelectorAfterName(Token name) {
    auto vs = std::make_unique<VectorSelector>();
    vs->pos = {name.pos, last_end_};
    if (Peek().type == TokenType::kLeftBrace) {
      if (!ParseLabelMatchers(vs->matchers)) return {};
      vs->pos.end = last_end_;
    }
    absl::StatusOr<prom::Matcher> m =
        prom::Matcher::Create(prom::MatchType::kEqual, "__name__", name.val);
    if (!m.ok()) {
      AddError(name.pos, std::string(m.status().message()));
      return {};
    }
    vs->matchers.push_back(*std::move(m));
    vs->name = std::move(name.val);
    return {std::move(vs), 1};
  }

  // `{` matcher, ... [","] `}`
  bool ParseLabelMatchers(std::vector<prom::Matcher>& out) {
    Consume();  // {
    if (Peek().type == TokenType::kRightBrace) {
      Consume();
      return true;
    }
    while (true) {
      if (Peek().type != TokenType::kIdentifier) {
        Unexpected("label matching", "identifier or \"}\"");
        return false;
      }
      const Token label = Consume();
      prom::MatchType type;
      switch (Peek().type) {
        case TokenType::kEql:
          type = prom::MatchType::kEqual;
          break;
        case TokenType::kNeq:
          type = prom::MatchType::kNotEqual;
          break;
        case TokenType::kEqlRegex:
          type = prom::MatchType::kRegexMatch;
          break;
        case TokenType::kNeqRegex:
          type = prom::MatchType::kRegexNoMatch;
          break;
        default:
          Unexpected("label matching", "label matching operator");
          return false;
      }
      Consume();
      if (Peek().type != TokenType::kString) {
        Unexpected("label matching", "string");
        return false;
      }
      const Token value_tok = Consume();
      std::optional<std::string> value = StringValue(value_tok);
      if (!value) return false;
      absl::StatusOr<prom::Matcher> m = prom::Matcher::Create(type, label.val, *std::move(value));
      if (!m.ok()) {
        AddError(label.pos, std::string(m.status().message()));
        return false;
      }
      out.push_back(*std::move(m));
      const TokenType next = Peek().type;
      if (next == TokenType::kRightBrace) {
        Consume();
        return true;
      }
      if (next != TokenType::kComma) {
        Unexpected("label matching", "\",\" or \"}\"");
        return false;
      }
      Consume();
      if (Peek().type == TokenType::kRightBrace) {
        Consume();
        return true;
      }
    }
  }

  // --- Type checks after a successful parse (parse.go's checkAST). ---

  // The position of a binary expression's operator: the first non-space after its LHS.
  int32_t OpPos(const BinaryExpr& b) const {
    int32_t p = b.lhs->pos.end;
    while (p < static_cast<int32_t>(input_.size()) && IsSpaceChar(input_[p])) ++p;
    return p;
  }

  void ExpectType(Expr& e, ValueType want, absl::string_view context) {
    const ValueType t = CheckAST(e);
    if (t != want) {
      AddError(e.pos.start, absl::StrCat("expected type ", DocumentedTypeName(want), " in ",
                                         context, ", got ", DocumentedTypeName(t)));
    }
  }

  ValueType CheckAST(Expr& node) {
    const ValueType type = node.Type();
    switch (node.kind) {
      case ExprKind::kAggregate: {
        auto& a = static_cast<AggregateExpr&>(node);
        ExpectType(*a.expr, ValueType::kVector, "aggregation expression");
        if (a.op == AggregateOp::kTopk || a.op == AggregateOp::kBottomk ||
            a.op == AggregateOp::kQuantile) {
          ExpectType(*a.param, ValueType::kScalar, "aggregation parameter");
        }
        if (a.op == AggregateOp::kCountValues) {
          ExpectType(*a.param, ValueType::kString, "aggregation parameter");
        }
        break;
      }
      case ExprKind::kBinary: {
        auto& b = static_cast<BinaryExpr&>(node);
        const ValueType lt = CheckAST(*b.lhs);
        const ValueType rt = CheckAST(*b.rhs);
        if (b.return_bool && !IsComparisonOp(b.op)) {
          AddError(OpPos(b), "bool modifier can only be used on comparison operators");
        }
        if (IsComparisonOp(b.op) && !b.return_bool && rt == ValueType::kScalar &&
            lt == ValueType::kScalar) {
          AddError(OpPos(b), "comparisons between scalars must use BOOL modifier");
        }
        if (IsSetOp(b.op) && b.matching.card == VectorMatching::Card::kOneToOne) {
          b.matching.card = VectorMatching::Card::kManyToMany;
        }
        if (b.matching.on) {
          for (const std::string& l1 : b.matching.matching_labels) {
            for (const std::string& l2 : b.matching.include) {
              if (l1 == l2) {
                AddError(OpPos(b), absl::StrCat("label ", prom::GoQuote(l1),
                                                " must not occur in ON and GROUP clause at once"));
              }
            }
          }
        }
        if (lt != ValueType::kScalar && lt != ValueType::kVector) {
          AddError(b.lhs->pos.start,
                   "binary expression must contain only scalar and instant vector types");
        }
        if (rt != ValueType::kScalar && rt != ValueType::kVector) {
          AddError(b.rhs->pos.start,
                   "binary expression must contain only scalar and instant vector types");
        }
        if (lt != ValueType::kVector || rt != ValueType::kVector) {
          if (!b.matching.matching_labels.empty()) {
            AddError(b.pos.start, "vector matching only allowed between instant vectors");
          }
          b.matching = VectorMatching{};  // Prometheus drops the matching here.
        } else if (IsSetOp(b.op)) {
          if (b.matching.card == VectorMatching::Card::kOneToMany ||
              b.matching.card == VectorMatching::Card::kManyToOne) {
            AddError(b.pos.start, absl::StrCat("no grouping allowed for \"", BinaryOpString(b.op),
                                               "\" operation"));
          }
          if (b.matching.card != VectorMatching::Card::kManyToMany) {
            AddError(b.pos.start, "set operations must always be many-to-many");
          }
        }
        if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && IsSetOp(b.op)) {
          AddError(b.pos.start, absl::StrCat("set operator \"", BinaryOpString(b.op),
                                             "\" not allowed in binary scalar expression"));
        }
        break;
      }
      case ExprKind::kCall: {
        auto& c = static_cast<Call&>(node);
        const Function& f = *c.func;
        const int nargs = static_cast<int>(f.arg_types.size());
        const int got = static_cast<int>(c.args.size());
        if (f.variadic == 0) {
          if (nargs != got) {
            AddError(c.pos.start, absl::StrCat("expected ", nargs, " argument(s) in call to \"",
                                               f.name, "\", got ", got));
          }
        } else {
          const int na = nargs - 1;
          if (na > got) {
            AddError(c.pos.start,
                     absl::StrCat("expected at least ", na, " argument(s) in call to \"", f.name,
                                  "\", got ", got));
          } else if (f.variadic > 0 && na + f.variadic < got) {
            AddError(c.pos.start,
                     absl::StrCat("expected at most ", na + f.variadic,
                                  " argument(s) in call to \"", f.name, "\", got ", got));
          }
        }
        for (int i = 0; i < got; ++i) {
          int k = i;
          if (k >= nargs) {
            if (f.variadic == 0) break;
            k = nargs - 1;
          }
          ExpectType(*c.args[i], f.arg_types[k], absl::StrCat("call to function \"", f.name, "\""));
        }
        break;
      }
      case ExprKind::kParen:
        CheckAST(*static_cast<ParenExpr&>(node).expr);
        break;
      case ExprKind::kUnary: {
        const ValueType t = CheckAST(*static_cast<UnaryExpr&>(node).expr);
        if (t != ValueType::kScalar && t != ValueType::kVector) {
          AddError(node.pos.start,
                   absl::StrCat("unary expression only allowed on expressions of type scalar or "
                                "instant vector, got \"",
                                DocumentedTypeName(t), "\""));
        }
        break;
      }
      case ExprKind::kSubquery: {
        const ValueType t = CheckAST(*static_cast<SubqueryExpr&>(node).expr);
        if (t != ValueType::kVector) {
          AddError(node.pos.start, absl::StrCat("subquery is only allowed on instant vector, got ",
                                                ValueTypeName(t), " instead"));
        }
        break;
      }
      case ExprKind::kMatrixSelector:
        CheckAST(*static_cast<MatrixSelector&>(node).vector_selector);
        break;
      case ExprKind::kVectorSelector: {
        auto& vs = static_cast<VectorSelector&>(node);
        if (!vs.name.empty()) {
          for (size_t i = 0; i + 1 < vs.matchers.size(); ++i) {
            if (vs.matchers[i].name() == "__name__") {
              AddError(vs.pos.start,
                       absl::StrCat("metric name must not be set twice: ", prom::GoQuote(vs.name),
                                    " or ", prom::GoQuote(vs.matchers[i].value())));
            }
          }
          break;
        }
        bool not_empty = false;
        for (const prom::Matcher& m : vs.matchers) {
          if (!m.MatchesEmpty()) {
            not_empty = true;
            break;
          }
        }
        if (!not_empty) {
          AddError(vs.pos.start, "vector selector must contain at least one non-empty matcher");
        }
        break;
      }
      case ExprKind::kNumberLiteral:
      case ExprKind::kStringLiteral:
      case ExprKind::kStepInvariant:
        break;
    }
    return type;
  }

  absl::string_view input_;
  Lexer lexer_;
  Token peek_;
  bool have_peek_ = false;
  int32_t last_end_ = 0;  // end of the last consumed token
  int recursion_ = 0;
  int aggregation_depth_ = 0;
  std::optional<std::pair<int32_t, std::string>> error_;
};

}  // namespace

absl::StatusOr<std::string> UnquoteString(absl::string_view quoted) {
  std::optional<std::string> s = GoUnquote(quoted);
  if (!s) {
    return absl::InvalidArgumentError(
        absl::StrCat("error unquoting string ", prom::GoQuote(quoted), ": invalid syntax"));
  }
  return *std::move(s);
}

// Positions are 32-bit; Prometheus itself has no limit.
constexpr size_t kMaxQueryBytes = size_t{1} << 30;

absl::StatusOr<ExprPtr> ParseExpr(absl::string_view query) {
  if (query.size() > kMaxQueryBytes) {
    return absl::InvalidArgumentError("1:1: parse error: query too long");
  }
  return Parser(query).ParseQuery();
}

absl::StatusOr<std::vector<prom::Matcher>> ParseMetricSelector(absl::string_view selector) {
  if (selector.size() > kMaxQueryBytes) {
    return absl::InvalidArgumentError("1:1: parse error: selector too long");
  }
  return Parser(selector).ParseSelector();
}

absl::StatusOr<int64_t> ParseDuration(absl::string_view s) {
  if (s == "0") return 0;
  if (s.empty()) return absl::InvalidArgumentError("empty duration string");
  auto invalid = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid duration string: ", prom::GoQuote(s)));
  };
  struct Unit {
    absl::string_view name;
    int64_t ms;
  };
  static constexpr Unit kUnits[] = {{"y", kMsPerYear}, {"w", kMsPerWeek},   {"d", kMsPerDay},
                                    {"h", kMsPerHour}, {"m", kMsPerMinute}, {"s", kMsPerSecond},
                                    {"ms", 1}};
  size_t next_unit = 0;
  size_t i = 0;
  __int128 total_ns = 0;
  bool overflow = false;
  while (i < s.size()) {
    const size_t digits_start = i;
    while (i < s.size() && absl::ascii_isdigit(s[i])) ++i;
    if (i == digits_start) return invalid();
    const absl::string_view digits = s.substr(digits_start, i - digits_start);
    const size_t unit_start = i;
    while (i < s.size() && absl::ascii_isalpha(s[i])) ++i;
    const absl::string_view unit = s.substr(unit_start, i - unit_start);
    size_t k = next_unit;
    while (k < std::size(kUnits) && kUnits[k].name != unit) ++k;
    if (k == std::size(kUnits)) return invalid();
    next_unit = k + 1;
    // Go's Atoi saturates an out-of-range number, which then overflows below.
    int64_t n = 0;
    for (char c : digits) {
      if (n > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) {
        n = std::numeric_limits<int64_t>::max();
        break;
      }
      n = n * 10 + (c - '0');
    }
    // Go's model.ParseDuration sums in nanoseconds, so ~292 years is the limit.
    constexpr int64_t kNsPerMs = 1000000;
    if (n > std::numeric_limits<int64_t>::max() / kUnits[k].ms / kNsPerMs) {
      overflow = true;
    } else {
      total_ns += static_cast<__int128>(n) * kUnits[k].ms * kNsPerMs;
      if (total_ns > std::numeric_limits<int64_t>::max()) overflow = true;
    }
  }
  if (overflow) return absl::InvalidArgumentError("duration out of range");
  return static_cast<int64_t>(total_ns / 1000000);
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  auto unit = [&](absl::string_view name, int64_t mult, bool exact) {
    if (exact && ms % mult != 0) return;
    const int64_t v = ms / mult;
    if (v > 0) {
      absl::StrAppend(&out, v, name);
      ms -= v * mult;
    }
  };
  unit("y", kMsPerYear, true);
  unit("w", kMsPerWeek, true);
  unit("d", kMsPerDay, false);
  unit("h", kMsPerHour, false);
  unit("m", kMsPerMinute, false);
  unit("s", kMsPerSecond, false);
  unit("ms", 1, false);
  return out;
}

}  // namespace sextant::promql
