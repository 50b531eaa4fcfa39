// Binary operators at one step, as Prometheus 2.42: scalar/scalar, vector/scalar and
// vector/vector with on/ignoring, group_left/group_right and the set operators.
#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "aggregator/promql/evaluator.h"

namespace sextant::promql::internal {
namespace {

bool Contains(const std::vector<std::string>& names, absl::string_view name) {
  for (const std::string& n : names) {
    if (n == name) return true;
  }
  return false;
}

void AppendLabel(std::string& key, const prom::Label& l) {
  absl::StrAppend(&key, l.name, "\xff", l.value, "\xff");
}

// Arithmetic drops the metric name; comparisons and atan2 keep it.
bool ShouldDropMetricName(BinaryOp op) {
  switch (op) {
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kPow:
    case BinaryOp::kMod:
      return true;
    default:
      return false;
  }
}

// The value of `lhs op rhs` and whether a comparison keeps it (Prometheus's vectorElemBinop).
std::pair<double, bool> VectorElemBinop(BinaryOp op, double lhs, double rhs) {
  switch (op) {
    case BinaryOp::kAdd:
      return {lhs + rhs, true};
    case BinaryOp::kSub:
      return {lhs - rhs, true};
    case BinaryOp::kMul:
      return {lhs * rhs, true};
    case BinaryOp::kDiv:
      return {lhs / rhs, true};
    case BinaryOp::kPow:
      return {std::pow(lhs, rhs), true};
    case BinaryOp::kMod:
      return {std::fmod(lhs, rhs), true};
    case BinaryOp::kAtan2:
      return {std::atan2(lhs, rhs), true};
    case BinaryOp::kEql:
      return {lhs, lhs == rhs};
    case BinaryOp::kNeq:
      return {lhs, lhs != rhs};
    case BinaryOp::kGtr:
      return {lhs, lhs > rhs};
    case BinaryOp::kLss:
      return {lhs, lhs < rhs};
    case BinaryOp::kGte:
      return {lhs, lhs >= rhs};
    case BinaryOp::kLte:
      return {lhs, lhs <= rhs};
    default:
      return {0, false};
  }
}

// The labels of `l` matched on (on) or not ignored (ignoring, which also ignores __name__).
prom::Labels MatchLabels(const prom::Labels& l, const VectorMatching& m) {
  std::vector<prom::Label> out;
  for (const prom::Label& lab : l) {
    const bool listed = Contains(m.matching_labels, lab.name);
    if (m.on ? listed : (!listed && lab.name != prom::kMetricNameLabel)) out.push_back(lab);
  }
  return prom::Labels::FromSortedUnchecked(std::move(out));
}

// The labels of a vector/vector result: the "many" side's, reduced by the matching, plus the
// group_x labels from the "one" side (Prometheus's resultMetric).
prom::Labels ResultMetric(const prom::Labels& many, const prom::Labels& one, BinaryOp op,
                          const VectorMatching& m) {
  const bool drop_name = ShouldDropMetricName(op);
  const bool one_to_one = m.card == VectorMatching::Card::kOneToOne;
  std::vector<prom::Label> out;
  out.reserve(many.size() + m.include.size());
  for (const prom::Label& l : many) {
    if (drop_name && l.name == prom::kMetricNameLabel) continue;
    if (one_to_one) {
      const bool listed = Contains(m.matching_labels, l.name);
      if (m.on != listed) continue;
    }
    if (Contains(m.include, l.name)) continue;  // set from the "one" side below
    out.push_back(l);
  }
  for (const std::string& name : m.include) {
    absl::string_view v = one.Get(name);
    if (v.empty()) continue;
    bool dup = false;
    for (const prom::Label& l : out) dup = dup || l.name == name;
    if (!dup) out.push_back(prom::Label{name, std::string(v)});
  }
  std::sort(out.begin(), out.end(),
            [](const prom::Label& a, const prom::Label& b) { return a.name < b.name; });
  return prom::Labels::FromSortedUnchecked(std::move(out));
}

void VectorAnd(const StepInput& in, Vector& out) {
  const Vector& lhs = in.vectors[0];
  const Vector& rhs = in.vectors[1];
  if (lhs.empty() || rhs.empty()) return;
  absl::flat_hash_set<const std::string*> right(in.keys[1].begin(), in.keys[1].end());
  for (size_t i = 0; i < lhs.size(); ++i) {
    if (right.contains(in.keys[0][i])) out.push_back(lhs[i]);
  }
}

void VectorOr(const StepInput& in, Vector& out) {
  const Vector& lhs = in.vectors[0];
  const Vector& rhs = in.vectors[1];
  if (lhs.empty() || rhs.empty()) {
    out.insert(out.end(), lhs.begin(), lhs.end());
    out.insert(out.end(), rhs.begin(), rhs.end());
    return;
  }
  absl::flat_hash_set<const std::string*> left(in.keys[0].begin(), in.keys[0].end());
  out.insert(out.end(), lhs.begin(), lhs.end());
  for (size_t j = 0; j < rhs.size(); ++j) {
    if (!left.contains(in.keys[1][j])) out.push_back(rhs[j]);
  }
}

void VectorUnless(const StepInput& in, Vector& out) {
  const Vector& lhs = in.vectors[0];
  const Vector& rhs = in.vectors[1];
  if (lhs.empty() || rhs.empty()) {
    out.insert(out.end(), lhs.begin(), lhs.end());
    return;
  }
  absl::flat_hash_set<const std::string*> right(in.keys[1].begin(), in.keys[1].end());
  for (size_t i = 0; i < lhs.size(); ++i) {
    if (!right.contains(in.keys[0][i])) out.push_back(lhs[i]);
  }
}

}  // namespace

std::string MatchSignature(const VectorMatching& m, const prom::Labels& l) {
  std::string key;
  for (const prom::Label& lab : l) {
    const bool listed = Contains(m.matching_labels, lab.name);
    if (m.on ? listed : (!listed && lab.name != prom::kMetricNameLabel)) AppendLabel(key, lab);
  }
  return key;
}

double ScalarBinop(BinaryOp op, double lhs, double rhs) {
  switch (op) {
    case BinaryOp::kEql:
      return lhs == rhs ? 1 : 0;
    case BinaryOp::kNeq:
      return lhs != rhs ? 1 : 0;
    case BinaryOp::kGtr:
      return lhs > rhs ? 1 : 0;
    case BinaryOp::kLss:
      return lhs < rhs ? 1 : 0;
    case BinaryOp::kGte:
      return lhs >= rhs ? 1 : 0;
    case BinaryOp::kLte:
      return lhs <= rhs ? 1 : 0;
    default:
      return VectorElemBinop(op, lhs, rhs).first;
  }
}

absl::Status VectorScalarBinop(const BinaryExpr& e, const Vector& vec,
                               const std::vector<size_t>& series, double scalar, bool scalar_left,
                               BinopCache& cache, Vector& out) {
  const bool drop_name = ShouldDropMetricName(e.op) || e.return_bool;
  for (size_t i = 0; i < vec.size(); ++i) {
    const Sample& s = vec[i];
    double lv = s.v;
    double rv = scalar;
    if (scalar_left) std::swap(lv, rv);
    auto [value, keep] = VectorElemBinop(e.op, lv, rv);
    // A comparison keeps the vector's value, whichever side it is on.
    if (IsComparisonOp(e.op) && scalar_left) value = rv;
    if (e.return_bool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    if (!drop_name) {
      out.push_back(Sample{s.metric, s.t, value});
      continue;
    }
    auto [it, inserted] = cache.metric.try_emplace(series[i]);
    if (inserted) it->second = DropMetricName(s.metric);
    out.push_back(Sample{it->second, s.t, value});
  }
  return absl::OkStatus();
}

absl::Status VectorBinop(const BinaryExpr& e, const StepInput& in, BinopCache& cache, Vector& out) {
  const VectorMatching& m = e.matching;
  switch (e.op) {
    case BinaryOp::kAnd:
      VectorAnd(in, out);
      return absl::OkStatus();
    case BinaryOp::kOr:
      VectorOr(in, out);
      return absl::OkStatus();
    case BinaryOp::kUnless:
      VectorUnless(in, out);
      return absl::OkStatus();
    default:
      break;
  }
  if (m.card == VectorMatching::Card::kManyToMany) {
    return absl::InternalError("many-to-many only allowed for set operators");
  }
  const Vector* lhs = &in.vectors[0];
  const Vector* rhs = &in.vectors[1];
  if (lhs->empty() || rhs->empty()) return absl::OkStatus();
  const std::vector<const std::string*>* lkeys = &in.keys[0];
  const std::vector<const std::string*>* rkeys = &in.keys[1];
  const std::vector<size_t>* lseries = &in.series[0];
  const std::vector<size_t>* rseries = &in.series[1];
  const bool one_to_many = m.card == VectorMatching::Card::kOneToMany;
  // Below, `rhs` is the "one" side.
  if (one_to_many) {
    std::swap(lhs, rhs);
    std::swap(lkeys, rkeys);
    std::swap(lseries, rseries);
  }

  // Signatures are interned (StepInput::keys): compared by address.
  absl::flat_hash_map<const std::string*, size_t> right_sigs;
  right_sigs.reserve(rhs->size());
  for (size_t i = 0; i < rhs->size(); ++i) {
    auto [it, inserted] = right_sigs.try_emplace((*rkeys)[i], i);
    if (!inserted) {
      const Sample& rs = (*rhs)[i];
      const Sample& dup = (*rhs)[it->second];
      return EvalError(absl::StrCat(
          "found duplicate series for the match group ", MatchLabels(rs.metric, m).ToString(),
          " on the ", one_to_many ? "left" : "right", " hand-side of the operation: [",
          rs.metric.ToString(), ", ", dup.metric.ToString(),
          "];many-to-many matching not allowed: matching labels must be unique on one side"));
    }
  }

  // For one-to-one: the signatures matched so far. For many-to-one: the hashes of the result
  // label sets produced per signature (as Prometheus, which compares hashes).
  const bool one_to_one = m.card == VectorMatching::Card::kOneToOne;
  absl::flat_hash_set<const std::string*> matched_one;
  absl::flat_hash_map<const std::string*, absl::flat_hash_set<uint64_t>> matched_many;
  if (one_to_one) matched_one.reserve(lhs->size());
  for (size_t i = 0; i < lhs->size(); ++i) {
    const Sample& ls = (*lhs)[i];
    const std::string* sig = (*lkeys)[i];
    auto r = right_sigs.find(sig);
    if (r == right_sigs.end()) continue;
    const Sample& rs = (*rhs)[r->second];
    double vl = ls.v;
    double vr = rs.v;
    if (one_to_many) std::swap(vl, vr);
    auto [value, keep] = VectorElemBinop(e.op, vl, vr);
    if (e.return_bool) {
      value = keep ? 1 : 0;
    } else if (!keep) {
      continue;
    }
    auto [cached, inserted] =
        cache.pair_metric.try_emplace(std::make_pair((*lseries)[i], (*rseries)[r->second]));
    if (inserted) {
      cached->second = ResultMetric(ls.metric, rs.metric, e.op, m);
      if (e.return_bool) cached->second = DropMetricName(cached->second);
    }
    const prom::Labels& metric = cached->second;
    if (one_to_one) {
      if (!matched_one.insert(sig).second) {
        return EvalError(
            "multiple matches for labels: many-to-one matching must be explicit "
            "(group_left/group_right)");
      }
    } else if (!matched_many[sig].insert(metric.Hash()).second) {
      return EvalError("multiple matches for labels: grouping labels must ensure unique matches");
    }
    out.push_back(Sample{metric, 0, value});
  }
  return absl::OkStatus();
}

}  // namespace sextant::promql::internal
