// The PromQL syntax tree, as Prometheus 2.42's promql/parser package defines it: the parser builds
// it, the printer renders it back (String, Prettify) and the engine evaluates it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "prom/matcher.h"

namespace sextant::promql {

// The type an expression evaluates to.
enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };

// The API's name of a value type: "scalar", "vector", "matrix", "string" ("none").
absl::string_view ValueTypeName(ValueType type);
// The documented name used in error messages: "scalar", "instant vector", "range vector",
// "string" ("none").
absl::string_view DocumentedTypeName(ValueType type);

// Byte offsets into the query: [start, end).
struct PosRange {
  int32_t start = 0;
  int32_t end = 0;
};

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAtan2,  // arithmetic
  kEql,
  kNeq,
  kGtr,
  kLss,
  kGte,
  kLte,  // comparison
  kAnd,
  kOr,
  kUnless,  // set
};
// "+", "-", "*", "/", "%", "^", "atan2", "==", "!=", ">", "<", ">=", "<=", "and", "or", "unless".
absl::string_view BinaryOpString(BinaryOp op);
bool IsComparisonOp(BinaryOp op);
bool IsSetOp(BinaryOp op);

enum class AggregateOp {
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
};
// "sum", "avg", ..., "count_values", "quantile".
absl::string_view AggregateOpString(AggregateOp op);
// topk, bottomk, count_values and quantile take a parameter.
bool AggregateOpHasParam(AggregateOp op);

// A PromQL function's signature (Prometheus's parser.Function).
struct Function {
  std::string name;
  std::vector<ValueType> arg_types;
  // 0: exactly arg_types. n > 0: the last arg type may be left out or repeated up to n times
  // (so between size-1 and size-1+n arguments). -1: the last may be repeated without limit.
  int variadic = 0;
  ValueType return_type = ValueType::kNone;
};
// The function named `name` among those of Prometheus 2.42, or null. The table is immutable.
const Function* LookupFunction(absl::string_view name);
// Every function of the table LookupFunction reads, sorted by name (for tests that cover them
// all). The pointers stay valid for the life of the process.
std::vector<const Function*> AllFunctions();

enum class ExprKind {
  kNumberLiteral,
  kStringLiteral,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kParen,
  kUnary,
  kBinary,
  kAggregate,
  kCall,
  kStepInvariant,
};

// Base of all nodes. Nodes own their children. Thread-compatible.
struct Expr {
  explicit Expr(ExprKind k) : kind(k) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  // What the expression evaluates to.
  ValueType Type() const;
  // Prometheus's rendering (parser.Expr.String()), e.g. `sum by (job) (rate(x[5m]))`.
  std::string String() const;

  const ExprKind kind;
  PosRange pos;
};
using ExprPtr = std::unique_ptr<Expr>;

struct NumberLiteral : Expr {
  NumberLiteral() : Expr(ExprKind::kNumberLiteral) {}
  double value = 0;
};

struct StringLiteral : Expr {
  StringLiteral() : Expr(ExprKind::kStringLiteral) {}
  std::string value;  // unquoted, escapes resolved
};

// Where an `@` modifier points: a fixed time, or start()/end() of the query.
enum class AtModifier { kNone, kTimestamp, kStart, kEnd };

// `name{matchers} offset d @ t`. Offsets and timestamps in milliseconds.
struct VectorSelector : Expr {
  VectorSelector() : Expr(ExprKind::kVectorSelector) {}
  std::string name;                     // the metric name written before `{`, or ""
  std::vector<prom::Matcher> matchers;  // all matchers, a __name__ matcher for `name` included
  int64_t original_offset_ms = 0;       // the offset as written (negative allowed)
  // The offset the engine evaluates with: original_offset_ms, plus the distance to the `@`
  // time relative to the query start (the engine sets it; the parser copies original).
  int64_t offset_ms = 0;
  AtModifier at = AtModifier::kNone;
  // The @ time in ms: set by the parser for kTimestamp, by the engine for start()/end().
  std::optional<int64_t> timestamp_ms;
};

// `vector_selector[range]`.
struct MatrixSelector : Expr {
  MatrixSelector() : Expr(ExprKind::kMatrixSelector) {}
  ExprPtr vector_selector;  // a VectorSelector
  int64_t range_ms = 0;
};

// `expr[range:step] offset d @ t`; step_ms 0 means the engine's default step.
struct SubqueryExpr : Expr {
  SubqueryExpr() : Expr(ExprKind::kSubquery) {}
  ExprPtr expr;
  int64_t range_ms = 0;
  int64_t step_ms = 0;
  int64_t original_offset_ms = 0;
  int64_t offset_ms = 0;  // as VectorSelector::offset_ms
  AtModifier at = AtModifier::kNone;
  std::optional<int64_t> timestamp_ms;
};

struct ParenExpr : Expr {
  ParenExpr() : Expr(ExprKind::kParen) {}
  ExprPtr expr;
};

// `-expr` or `+expr`.
struct UnaryExpr : Expr {
  UnaryExpr() : Expr(ExprKind::kUnary) {}
  bool negate = true;  // false for unary plus
  ExprPtr expr;
};

// How the two sides of a binary operation between instant vectors are matched.
struct VectorMatching {
  enum class Card { kOneToOne, kManyToOne, kOneToMany, kManyToMany };
  Card card = Card::kOneToOne;               // set operators are kManyToMany
  std::vector<std::string> matching_labels;  // the on(...) or ignoring(...) list
  bool on = false;                           // on(...) rather than ignoring(...)
  std::vector<std::string> include;          // group_left(...)/group_right(...) labels
};

struct BinaryExpr : Expr {
  BinaryExpr() : Expr(ExprKind::kBinary) {}
  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  VectorMatching matching;   // meaningful when both sides are instant vectors
  bool return_bool = false;  // the `bool` modifier of a comparison
};

struct AggregateExpr : Expr {
  AggregateExpr() : Expr(ExprKind::kAggregate) {}
  AggregateOp op = AggregateOp::kSum;
  ExprPtr expr;
  ExprPtr param;                      // topk/bottomk/quantile/count_values parameter, else null
  std::vector<std::string> grouping;  // the by(...) or without(...) labels, as written
  bool without = false;
};

struct Call : Expr {
  Call() : Expr(ExprKind::kCall) {}
  const Function* func = nullptr;
  std::vector<ExprPtr> args;
};

// Inserted by the engine around subtrees whose value does not depend on the step (those under
// `@`, and literals): evaluated once and repeated for every step. Never made by the parser.
struct StepInvariantExpr : Expr {
  StepInvariantExpr() : Expr(ExprKind::kStepInvariant) {}
  ExprPtr expr;
};

// The direct children of `e`, in order (the slots, so a caller may replace a child).
std::vector<ExprPtr*> Children(Expr& e);

// Calls `visit(node, path)` on `e` and every descendant, parents before children; `path` holds
// the ancestors, outermost first.
void Inspect(Expr& e, const std::function<void(Expr& node, const std::vector<Expr*>& path)>& visit);

// format_query's rendering (Prometheus's Prettify): String() when it fits in 100 columns,
// otherwise split over indented lines as Prometheus does.
std::string Prettify(const Expr& e);

}  // namespace sextant::promql
