// Expr::String() and Prettify(): Prometheus 2.42's promql/parser/printer.go and prettier.go.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "aggregator/promql/ast.h"
#include "aggregator/promql/go_float.h"
#include "aggregator/promql/parser.h"

namespace sextant::promql {
namespace {

std::string OffsetString(int64_t offset_ms) {
  if (offset_ms > 0) return absl::StrCat(" offset ", FormatDuration(offset_ms));
  if (offset_ms < 0) return absl::StrCat(" offset -", FormatDuration(-offset_ms));
  return "";
}

std::string AtString(AtModifier at, const std::optional<int64_t>& ts) {
  switch (at) {
    case AtModifier::kTimestamp:
      return absl::StrFormat(" @ %.3f", static_cast<double>(ts.value_or(0)) / 1000.0);
    case AtModifier::kStart:
      return " @ start()";
    case AtModifier::kEnd:
      return " @ end()";
    case AtModifier::kNone:
      break;
  }
  return "";
}

// `name{matchers}` without offset or @.
std::string SelectorString(const VectorSelector& vs) {
  std::vector<std::string> labels;
  for (const prom::Matcher& m : vs.matchers) {
    if (m.name() == "__name__" && m.type() == prom::MatchType::kEqual && m.value() == vs.name) {
      continue;
    }
    labels.push_back(m.ToString());
  }
  if (labels.empty()) return vs.name;
  std::sort(labels.begin(), labels.end());
  return absl::StrCat(vs.name, "{", absl::StrJoin(labels, ","), "}");
}

std::string SubqueryTimeSuffix(const SubqueryExpr& sq) {
  return absl::StrCat("[", FormatDuration(sq.range_ms), ":",
                      sq.step_ms != 0 ? FormatDuration(sq.step_ms) : "", "]",
                      AtString(sq.at, sq.timestamp_ms), OffsetString(sq.original_offset_ms));
}

std::string AggregateOpPrefix(const AggregateExpr& a) {
  std::string s(AggregateOpString(a.op));
  if (a.without) {
    absl::StrAppend(&s, " without (", absl::StrJoin(a.grouping, ", "), ") ");
  } else if (!a.grouping.empty()) {
    absl::StrAppend(&s, " by (", absl::StrJoin(a.grouping, ", "), ") ");
  }
  return s;
}

// " on (a) group_left (b)" or "".
std::string MatchingString(const BinaryExpr& b) {
  const VectorMatching& vm = b.matching;
  if (vm.matching_labels.empty() && !vm.on) return "";
  std::string s =
      absl::StrCat(vm.on ? " on (" : " ignoring (", absl::StrJoin(vm.matching_labels, ", "), ")");
  if (vm.card == VectorMatching::Card::kManyToOne || vm.card == VectorMatching::Card::kOneToMany) {
    absl::StrAppend(
        &s, vm.card == VectorMatching::Card::kManyToOne ? " group_left (" : " group_right (",
        absl::StrJoin(vm.include, ", "), ")");
  }
  return s;
}

}  // namespace

namespace {

// Appends printer.go's rendering of `e` to `out` (linear in the size of the output). Stops early,
// leaving `out` incomplete, once it is longer than `limit`.
void AppendString(const Expr& e, std::string* out, size_t limit = std::string::npos) {
  if (out->size() > limit) return;
  switch (e.kind) {
    case ExprKind::kNumberLiteral:
      // Go's %v of the value (shortest digits, 'g'), as Prometheus prints number literals.
      AppendGoFloat(out, static_cast<const NumberLiteral&>(e).value, 'g');
      return;
    case ExprKind::kStringLiteral:
      out->append(prom::GoQuote(static_cast<const StringLiteral&>(e).value));
      return;
    case ExprKind::kVectorSelector: {
      const auto& vs = static_cast<const VectorSelector&>(e);
      absl::StrAppend(out, SelectorString(vs), AtString(vs.at, vs.timestamp_ms),
                      OffsetString(vs.original_offset_ms));
      return;
    }
    case ExprKind::kMatrixSelector: {
      const auto& ms = static_cast<const MatrixSelector&>(e);
      if (ms.vector_selector->kind != ExprKind::kVectorSelector) {
        AppendString(*ms.vector_selector, out, limit);
        absl::StrAppend(out, "[", FormatDuration(ms.range_ms), "]");
        return;
      }
      const auto& vs = static_cast<const VectorSelector&>(*ms.vector_selector);
      absl::StrAppend(out, SelectorString(vs), "[", FormatDuration(ms.range_ms), "]",
                      AtString(vs.at, vs.timestamp_ms), OffsetString(vs.original_offset_ms));
      return;
    }
    case ExprKind::kSubquery: {
      const auto& sq = static_cast<const SubqueryExpr&>(e);
      AppendString(*sq.expr, out, limit);
      out->append(SubqueryTimeSuffix(sq));
      return;
    }
    case ExprKind::kParen:
      out->append("(");
      AppendString(*static_cast<const ParenExpr&>(e).expr, out, limit);
      out->append(")");
      return;
    case ExprKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      out->append(u.negate ? "-" : "+");
      AppendString(*u.expr, out, limit);
      return;
    }
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      AppendString(*b.lhs, out, limit);
      absl::StrAppend(out, " ", BinaryOpString(b.op), b.return_bool ? " bool" : "",
                      MatchingString(b), " ");
      AppendString(*b.rhs, out, limit);
      return;
    }
    case ExprKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      absl::StrAppend(out, AggregateOpPrefix(a), "(");
      if (a.param != nullptr) {
        AppendString(*a.param, out, limit);
        out->append(", ");
      }
      AppendString(*a.expr, out, limit);
      out->append(")");
      return;
    }
    case ExprKind::kCall: {
      const auto& c = static_cast<const Call&>(e);
      absl::StrAppend(out, c.func != nullptr ? c.func->name : "", "(");
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i > 0) out->append(", ");
        AppendString(*c.args[i], out, limit);
      }
      out->append(")");
      return;
    }
    case ExprKind::kStepInvariant:
      AppendString(*static_cast<const StepInvariantExpr&>(e).expr, out, limit);
      return;
  }
}

}  // namespace

std::string Expr::String() const {
  std::string out;
  AppendString(*this, &out);
  return out;
}

namespace {

constexpr size_t kMaxCharactersPerLine = 100;

bool IsSpaceChar(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool NeedsSplit(const Expr& e) {
  std::string s;
  AppendString(e, &s, kMaxCharactersPerLine);
  return s.size() > kMaxCharactersPerLine;
}

void AppendIndent(int level, std::string* out) { out->append(2 * static_cast<size_t>(level), ' '); }

// Appends prettier.go's Node.Pretty(level) of `e` to `out`: `level` is the indentation the node
// starts at.
void AppendPretty(const Expr& e, int level, std::string* out) {
  switch (e.kind) {
    case ExprKind::kAggregate: {
      if (!NeedsSplit(e)) break;
      const auto& a = static_cast<const AggregateExpr&>(e);
      AppendIndent(level, out);
      absl::StrAppend(out, AggregateOpPrefix(a), "(\n");
      if (a.param != nullptr) {
        AppendPretty(*a.param, level + 1, out);
        out->append(",\n");
      }
      AppendPretty(*a.expr, level + 1, out);
      out->append("\n");
      AppendIndent(level, out);
      out->append(")");
      return;
    }
    case ExprKind::kBinary: {
      if (!NeedsSplit(e)) break;
      const auto& b = static_cast<const BinaryExpr&>(e);
      AppendPretty(*b.lhs, level + 1, out);
      out->append("\n");
      AppendIndent(level, out);
      absl::StrAppend(out, BinaryOpString(b.op), b.return_bool ? " bool" : "", MatchingString(b),
                      "\n");
      AppendPretty(*b.rhs, level + 1, out);
      return;
    }
    case ExprKind::kCall: {
      if (!NeedsSplit(e)) break;
      const auto& c = static_cast<const Call&>(e);
      AppendIndent(level, out);
      absl::StrAppend(out, c.func != nullptr ? c.func->name : "", "(\n");
      for (size_t i = 0; i < c.args.size(); ++i) {
        if (i > 0) out->append(",\n");
        AppendPretty(*c.args[i], level + 1, out);
      }
      out->append("\n");
      AppendIndent(level, out);
      out->append(")");
      return;
    }
    case ExprKind::kParen: {
      if (!NeedsSplit(e)) break;
      AppendIndent(level, out);
      out->append("(\n");
      AppendPretty(*static_cast<const ParenExpr&>(e).expr, level + 1, out);
      out->append("\n");
      AppendIndent(level, out);
      out->append(")");
      return;
    }
    case ExprKind::kStepInvariant:
      AppendPretty(*static_cast<const StepInvariantExpr&>(e).expr, level, out);
      return;
    case ExprKind::kSubquery: {
      // As Prometheus 2.42: no indentation when the subquery fits on its line.
      const auto& sq = static_cast<const SubqueryExpr&>(e);
      if (!NeedsSplit(e)) {
        AppendString(e, out);
        return;
      }
      AppendPretty(*sq.expr, level, out);
      out->append(SubqueryTimeSuffix(sq));
      return;
    }
    case ExprKind::kUnary: {
      // The operator goes before the operand's own indentation, which is dropped.
      const auto& u = static_cast<const UnaryExpr&>(e);
      AppendIndent(level, out);
      out->append(u.negate ? "-" : "+");
      const size_t child_start = out->size();
      AppendPretty(*u.expr, level, out);
      size_t first = child_start;
      while (first < out->size() && IsSpaceChar((*out)[first])) ++first;
      out->erase(child_start, first - child_start);
      while (out->size() > child_start && IsSpaceChar(out->back())) out->pop_back();
      return;
    }
    case ExprKind::kMatrixSelector:
    case ExprKind::kVectorSelector:
    case ExprKind::kNumberLiteral:
    case ExprKind::kStringLiteral:
      break;
  }
  AppendIndent(level, out);
  AppendString(e, out);
}

}  // namespace

std::string Prettify(const Expr& e) {
  std::string out;
  AppendPretty(e, 0, &out);
  return out;
}

}  // namespace sextant::promql
