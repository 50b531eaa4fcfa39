// Internal to the parser: PromQL's tokenizer, with the states and error messages of Prometheus
// 2.42's promql/parser/lex.go (brace and bracket contexts, durations, Go string escapes).
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace sextant::promql::internal {

enum class TokenType {
  kEOF,
  kError,  // `val` holds the message
  kComment,
  kIdentifier,
  kMetricIdentifier,
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kEql,  // `=`
  kColon,
  kNumber,
  kDuration,
  kString,
  // Operators.
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEqlc,  // `==`
  kNeq,
  kLte,
  kLss,
  kGte,
  kGtr,
  kEqlRegex,
  kNeqRegex,
  kLand,
  kLor,
  kLunless,
  kAtan2,
  kAt,
  // Aggregators.
  kAvg,
  kBottomk,
  kCount,
  kCountValues,
  kGroup,
  kMax,
  kMin,
  kQuantile,
  kStddev,
  kStdvar,
  kSum,
  kTopk,
  // Keywords.
  kBool,
  kBy,
  kGroupLeft,
  kGroupRight,
  kIgnoring,
  kOffset,
  kOn,
  kWithout,
  // The @ modifier's preprocessors.
  kStart,
  kEnd,
};

bool IsAggregatorToken(TokenType t);
bool IsOperatorToken(TokenType t);
bool IsKeywordToken(TokenType t);

struct Token {
  TokenType type = TokenType::kEOF;
  int32_t pos = 0;  // byte offset of the token's start
  std::string val;  // the token's text (the message for kError)
};

// How Prometheus names a token in "unexpected ..." messages (Item.desc()): `identifier "foo"`,
// `"("`, `<op:+>`, `<aggr:sum>`, `<by>`, `end of input`, `number "1"`.
std::string DescribeToken(const Token& t);

// Go's %q of one rune ('x', '\n', '\x01', 'é').
std::string GoQuoteRune(uint32_t r);

// Splits a query into tokens, one per Next() call; after kEOF or kError it returns kEOF forever.
// Thread-compatible.
class Lexer {
 public:
  explicit Lexer(absl::string_view input) : input_(input) {}

  // The next token, comments included.
  Token Next();

 private:
  // Reads one rune at pos_ (U+FFFD with width 1 for a bad byte); kEofRune at the end.
  uint32_t NextRune();
  void Backup() { pos_ -= width_; }
  uint32_t Peek();
  bool Accept(absl::string_view valid);
  void AcceptRun(absl::string_view valid);
  Token Emit(TokenType t);
  Token Errorf(std::string msg);

  Token LexStatements();
  Token LexInsideBraces();
  Token LexNumberOrDuration();
  Token LexDuration();
  Token LexString(uint32_t quote);
  Token LexRawString(uint32_t quote);
  Token LexKeywordOrIdentifier();
  Token LexIdentifier();
  Token LexLineComment();
  // Scans an escape after a backslash; returns an error message or "".
  std::string LexEscape(uint32_t quote);
  bool ScanNumber();
  bool AcceptRemainingDuration();

  absl::string_view input_;
  size_t start_ = 0;
  size_t pos_ = 0;
  size_t width_ = 0;
  int paren_depth_ = 0;
  bool brace_open_ = false;
  bool bracket_open_ = false;
  bool got_colon_ = false;
  bool pending_duration_ = false;  // just after `[`
  bool done_ = false;
};

}  // namespace sextant::promql::internal
