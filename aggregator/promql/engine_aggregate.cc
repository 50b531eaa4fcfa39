// Aggregation operators at one step, as Prometheus 2.42's evaluator.aggregation(): groups in
// order of first appearance, the running mean of avg, the running variance of stddev/stdvar,
// topk/bottomk through Go's container/heap (so ties come out in Prometheus's order).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_set.h"
#include "absl/strings/str_cat.h"
#include "aggregator/promql/evaluator.h"
#include "aggregator/promql/functions.h"
#include "aggregator/promql/go_float.h"
#include "prom/matcher.h"

namespace sextant::promql::internal {
namespace {

// The largest and smallest floats convertible to int64 without overflow.
constexpr double kMaxInt64 = 9223372036854774784.0;
constexpr double kMinInt64 = -9223372036854775808.0;

// Go's container/heap over a vector ordered by `less` (up, down, Push, Pop as Go has them).
template <typename Less>
void HeapUp(std::vector<Sample>& h, int64_t j, Less less) {
  for (;;) {
    int64_t i = (j - 1) / 2;  // parent
    if (i == j || !less(h[j], h[i])) break;
    std::swap(h[i], h[j]);
    j = i;
  }
}

template <typename Less>
void HeapDown(std::vector<Sample>& h, int64_t i0, int64_t n, Less less) {
  int64_t i = i0;
  for (;;) {
    int64_t j1 = 2 * i + 1;
    if (j1 >= n || j1 < 0) break;
    int64_t j = j1;
    if (int64_t j2 = j1 + 1; j2 < n && less(h[j2], h[j1])) j = j2;
    if (!less(h[j], h[i])) break;
    std::swap(h[i], h[j]);
    i = j;
  }
}

template <typename Less>
void HeapPush(std::vector<Sample>& h, Sample s, Less less) {
  h.push_back(std::move(s));
  HeapUp(h, static_cast<int64_t>(h.size()) - 1, less);
}

template <typename Less>
void HeapPop(std::vector<Sample>& h, Less less) {
  const int64_t n = static_cast<int64_t>(h.size()) - 1;
  std::swap(h[0], h[n]);
  HeapDown(h, 0, n, less);
  h.pop_back();
}

// Go's sort.Sort(sort.Reverse(h)): insertion sort for up to 12 elements as Go's pdqsort does
// (which decides the order of ties), a stable sort beyond.
template <typename Less>
void SortReverse(std::vector<Sample>& h, Less less) {
  const size_t n = h.size();
  if (n <= 12) {
    for (size_t i = 1; i < n; ++i) {
      for (size_t j = i; j > 0 && less(h[j - 1], h[j]); --j) std::swap(h[j], h[j - 1]);
    }
    return;
  }
  std::stable_sort(h.begin(), h.end(), [&](const Sample& a, const Sample& b) {
    if (std::isnan(a.v)) return false;
    if (std::isnan(b.v)) return true;
    return less(b, a);
  });
}

bool TopLess(const Sample& a, const Sample& b) { return std::isnan(a.v) || a.v < b.v; }
bool BottomLess(const Sample& a, const Sample& b) { return std::isnan(a.v) || a.v > b.v; }

bool Listed(const std::vector<std::string>& names, absl::string_view name) {
  return std::binary_search(names.begin(), names.end(), name,
                            [](absl::string_view a, absl::string_view b) { return a < b; });
}

// The labels of a group: `by` keeps the grouping labels, `without` drops them and __name__.
prom::Labels GroupLabels(const prom::Labels& metric, const std::vector<std::string>& grouping,
                         bool without) {
  std::vector<prom::Label> out;
  for (const prom::Label& l : metric) {
    const bool listed = Listed(grouping, l.name);
    if (without ? (!listed && l.name != prom::kMetricNameLabel) : listed) out.push_back(l);
  }
  return prom::Labels::FromSortedUnchecked(std::move(out));
}

struct Group {
  prom::Labels labels;
  double value = 0;
  double mean = 0;
  int64_t count = 0;
  std::vector<Sample> heap;    // topk, bottomk
  std::vector<double> values;  // quantile
};

}  // namespace

std::string GroupingKey(const prom::Labels& l, const std::vector<std::string>& grouping,
                        bool without) {
  std::string key;
  if (!without && grouping.empty()) return key;
  for (const prom::Label& lab : l) {
    const bool listed = Listed(grouping, lab.name);
    if (without ? (!listed && lab.name != prom::kMetricNameLabel) : listed) {
      absl::StrAppend(&key, lab.name, "\xff", lab.value, "\xff");
    }
  }
  return key;
}

absl::Status Aggregate(AggregateOp op, const std::vector<std::string>& sorted_grouping,
                       bool without, double param, const std::string& label, const Vector& vec,
                       const std::vector<const std::string*>& keys, Vector& out) {
  int64_t k = 0;
  if (op == AggregateOp::kTopk || op == AggregateOp::kBottomk) {
    if (!(param <= kMaxInt64 && param >= kMinInt64)) {
      return EvalError(
          absl::StrCat("Scalar value ", GoFormatFloat(param, 'g'), " overflows int64"));
    }
    k = static_cast<int64_t>(param);
    if (k < 1) return absl::OkStatus();
  }
  const std::vector<std::string>* grouping = &sorted_grouping;
  std::vector<std::string> cv_grouping;
  bool recompute_key = false;
  if (op == AggregateOp::kCountValues) {
    if (!prom::IsValidLabelName(label)) {
      return EvalError(absl::StrCat("invalid label name ", prom::GoQuote(label)));
    }
    if (!without) {
      cv_grouping = sorted_grouping;
      cv_grouping.push_back(label);
      std::sort(cv_grouping.begin(), cv_grouping.end());
      grouping = &cv_grouping;
    }
    recompute_key = true;
  }

  // Groups by key address: `keys` are interned (StepInput), and count_values interns the keys it
  // computes in `recomputed`.
  absl::flat_hash_map<const std::string*, size_t> index;
  absl::node_hash_set<std::string> recomputed;
  std::vector<Group> groups;
  for (size_t si = 0; si < vec.size(); ++si) {
    const Sample& s = vec[si];
    prom::Labels cv_metric;
    const prom::Labels* metric = &s.metric;
    if (op == AggregateOp::kCountValues) {
      cv_metric = s.metric.With(label, GoFormatFloat(s.v, 'f'));
      metric = &cv_metric;
    }
    const std::string* key =
        recompute_key ? &*recomputed.insert(GroupingKey(*metric, *grouping, without)).first
                      : keys[si];
    auto [it, inserted] = index.try_emplace(key, groups.size());
    if (inserted) {
      Group g;
      g.labels = GroupLabels(*metric, *grouping, without);
      g.value = s.v;
      g.mean = s.v;
      g.count = 1;
      switch (op) {
        case AggregateOp::kStdvar:
        case AggregateOp::kStddev:
          g.value = 0;
          break;
        case AggregateOp::kTopk:
        case AggregateOp::kBottomk:
          g.heap.push_back(Sample{s.metric, 0, s.v});
          break;
        case AggregateOp::kQuantile:
          g.values.push_back(s.v);
          break;
        case AggregateOp::kGroup:
          g.value = 1;
          break;
        default:
          break;
      }
      groups.push_back(std::move(g));
      continue;
    }
    Group& g = groups[it->second];
    switch (op) {
      case AggregateOp::kSum:
        g.value += s.v;
        break;
      case AggregateOp::kAvg: {
        ++g.count;
        if (std::isinf(g.mean)) {
          // An infinite mean stays as it is unless a NaN or an opposite infinity arrives.
          if (std::isinf(s.v) && (g.mean > 0) == (s.v > 0)) break;
          if (!std::isinf(s.v) && !std::isnan(s.v)) break;
        }
        const double c = static_cast<double>(g.count);
        g.mean += s.v / c - g.mean / c;
        break;
      }
      case AggregateOp::kGroup:
        break;
      case AggregateOp::kMax:
        if (g.value < s.v || std::isnan(g.value)) g.value = s.v;
        break;
      case AggregateOp::kMin:
        if (g.value > s.v || std::isnan(g.value)) g.value = s.v;
        break;
      case AggregateOp::kCount:
      case AggregateOp::kCountValues:
        ++g.count;
        break;
      case AggregateOp::kStdvar:
      case AggregateOp::kStddev: {
        ++g.count;
        const double delta = s.v - g.mean;
        g.mean += delta / static_cast<double>(g.count);
        g.value += delta * (s.v - g.mean);
        break;
      }
      case AggregateOp::kTopk:
        if (static_cast<int64_t>(g.heap.size()) < k || g.heap[0].v < s.v ||
            std::isnan(g.heap[0].v)) {
          if (static_cast<int64_t>(g.heap.size()) == k) {
            if (k == 1) {
              g.heap[0] = Sample{s.metric, 0, s.v};
              break;
            }
            HeapPop(g.heap, TopLess);
          }
          HeapPush(g.heap, Sample{s.metric, 0, s.v}, TopLess);
        }
        break;
      case AggregateOp::kBottomk:
        if (static_cast<int64_t>(g.heap.size()) < k || g.heap[0].v > s.v ||
            std::isnan(g.heap[0].v)) {
          if (static_cast<int64_t>(g.heap.size()) == k) {
            if (k == 1) {
              g.heap[0] = Sample{s.metric, 0, s.v};
              break;
            }
            HeapPop(g.heap, BottomLess);
          }
          HeapPush(g.heap, Sample{s.metric, 0, s.v}, BottomLess);
        }
        break;
      case AggregateOp::kQuantile:
        g.values.push_back(s.v);
        break;
    }
  }

  for (Group& g : groups) {
    switch (op) {
      case AggregateOp::kAvg:
        g.value = g.mean;
        break;
      case AggregateOp::kCount:
      case AggregateOp::kCountValues:
        g.value = static_cast<double>(g.count);
        break;
      case AggregateOp::kStdvar:
        g.value = g.value / static_cast<double>(g.count);
        break;
      case AggregateOp::kStddev:
        g.value = std::sqrt(g.value / static_cast<double>(g.count));
        break;
      case AggregateOp::kTopk:
      case AggregateOp::kBottomk:
        // The heap keeps the weakest element on top: reverse it.
        if (g.heap.size() > 1) {
          if (op == AggregateOp::kTopk) {
            SortReverse(g.heap, TopLess);
          } else {
            SortReverse(g.heap, BottomLess);
          }
        }
        for (Sample& s : g.heap) out.push_back(Sample{std::move(s.metric), 0, s.v});
        continue;
      case AggregateOp::kQuantile:
        g.value = Quantile(param, std::move(g.values));
        break;
      default:
        break;
    }
    out.push_back(Sample{std::move(g.labels), 0, g.value});
  }
  return absl::OkStatus();
}

}  // namespace sextant::promql::internal
