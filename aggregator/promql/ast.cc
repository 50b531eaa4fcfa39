#include "aggregator/promql/ast.h"

namespace sextant::promql {

absl::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case ValueType::kScalar:
      return "scalar";
    case ValueType::kVector:
      return "vector";
    case ValueType::kMatrix:
      return "matrix";
    case ValueType::kString:
      return "string";
    case ValueType::kNone:
      break;
  }
  return "none";
}

absl::string_view DocumentedTypeName(ValueType type) {
  switch (type) {
    case ValueType::kScalar:
      return "scalar";
    case ValueType::kVector:
      return "instant vector";
    case ValueType::kMatrix:
      return "range vector";
    case ValueType::kString:
      return "string";
    case ValueType::kNone:
      break;
  }
  return "none";
}

absl::string_view BinaryOpString(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSub:
      return "-";
    case BinaryOp::kMul:
      return "*";
    case BinaryOp::kDiv:
      return "/";
    case BinaryOp::kMod:
      return "%";
    case BinaryOp::kPow:
      return "^";
    case BinaryOp::kAtan2:
      return "atan2";
    case BinaryOp::kEql:
      return "==";
    case BinaryOp::kNeq:
      return "!=";
    case BinaryOp::kGtr:
      return ">";
    case BinaryOp::kLss:
      return "<";
    case BinaryOp::kGte:
      return ">=";
    case BinaryOp::kLte:
      return "<=";
    case BinaryOp::kAnd:
      return "and";
    case BinaryOp::kOr:
      return "or";
    case BinaryOp::kUnless:
      return "unless";
  }
  return "?";
}

bool IsComparisonOp(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEql:
    case BinaryOp::kNeq:
    case BinaryOp::kGtr:
    case BinaryOp::kLss:
    case BinaryOp::kGte:
    case BinaryOp::kLte:
      return true;
    default:
      return false;
  }
}

bool IsSetOp(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

absl::string_view AggregateOpString(AggregateOp op) {
  switch (op) {
    case AggregateOp::kSum:
      return "sum";
    case AggregateOp::kAvg:
      return "avg";
    case AggregateOp::kCount:
      return "count";
    case AggregateOp::kMin:
      return "min";
    case AggregateOp::kMax:
      return "max";
    case AggregateOp::kGroup:
      return "group";
    case AggregateOp::kStddev:
      return "stddev";
    case AggregateOp::kStdvar:
      return "stdvar";
    case AggregateOp::kTopk:
      return "topk";
    case AggregateOp::kBottomk:
      return "bottomk";
    case AggregateOp::kCountValues:
      return "count_values";
    case AggregateOp::kQuantile:
      return "quantile";
  }
  return "?";
}

bool AggregateOpHasParam(AggregateOp op) {
  return op == AggregateOp::kTopk || op == AggregateOp::kBottomk ||
         op == AggregateOp::kCountValues || op == AggregateOp::kQuantile;
}

ValueType Expr::Type() const {
  switch (kind) {
    case ExprKind::kNumberLiteral:
      return ValueType::kScalar;
    case ExprKind::kStringLiteral:
      return ValueType::kString;
    case ExprKind::kVectorSelector:
      return ValueType::kVector;
    case ExprKind::kMatrixSelector:
    case ExprKind::kSubquery:
      return ValueType::kMatrix;
    case ExprKind::kParen:
      return static_cast<const ParenExpr*>(this)->expr->Type();
    case ExprKind::kUnary:
      return static_cast<const UnaryExpr*>(this)->expr->Type();
    case ExprKind::kStepInvariant:
      return static_cast<const StepInvariantExpr*>(this)->expr->Type();
    case ExprKind::kBinary: {
      const auto* b = static_cast<const BinaryExpr*>(this);
      if (b->lhs->Type() == ValueType::kScalar && b->rhs->Type() == ValueType::kScalar) {
        return ValueType::kScalar;
      }
      return ValueType::kVector;
    }
    case ExprKind::kAggregate:
      return ValueType::kVector;
    case ExprKind::kCall: {
      const auto* c = static_cast<const Call*>(this);
      return c->func != nullptr ? c->func->return_type : ValueType::kNone;
    }
  }
  return ValueType::kNone;
}

std::vector<ExprPtr*> Children(Expr& e) {
  std::vector<ExprPtr*> out;
  auto add = [&](ExprPtr& p) {
    if (p != nullptr) out.push_back(&p);
  };
  switch (e.kind) {
    case ExprKind::kNumberLiteral:
    case ExprKind::kStringLiteral:
    case ExprKind::kVectorSelector:
      break;
    case ExprKind::kMatrixSelector:
      add(static_cast<MatrixSelector&>(e).vector_selector);
      break;
    case ExprKind::kSubquery:
      add(static_cast<SubqueryExpr&>(e).expr);
      break;
    case ExprKind::kParen:
      add(static_cast<ParenExpr&>(e).expr);
      break;
    case ExprKind::kUnary:
      add(static_cast<UnaryExpr&>(e).expr);
      break;
    case ExprKind::kStepInvariant:
      add(static_cast<StepInvariantExpr&>(e).expr);
      break;
    case ExprKind::kBinary: {
      auto& b = static_cast<BinaryExpr&>(e);
      add(b.lhs);
      add(b.rhs);
      break;
    }
    case ExprKind::kAggregate: {
      // Prometheus visits the parameter before the aggregated expression.
      auto& a = static_cast<AggregateExpr&>(e);
      add(a.param);
      add(a.expr);
      break;
    }
    case ExprKind::kCall:
      for (auto& arg : static_cast<Call&>(e).args) add(arg);
      break;
  }
  return out;
}

namespace {

void InspectRec(Expr& e, std::vector<Expr*>& path,
                const std::function<void(Expr&, const std::vector<Expr*>&)>& visit) {
  visit(e, path);
  path.push_back(&e);
  for (ExprPtr* child : Children(e)) InspectRec(**child, path, visit);
  path.pop_back();
}

}  // namespace

void Inspect(Expr& e,
             const std::function<void(Expr& node, const std::vector<Expr*>& path)>& visit) {
  std::vector<Expr*> path;
  InspectRec(e, path, visit);
}

}  // namespace sextant::promql
