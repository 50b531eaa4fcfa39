// The signatures of Prometheus 2.42's PromQL functions (promql/parser/functions.go).
#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "aggregator/promql/ast.h"

namespace sextant::promql {
namespace {

using VT = ValueType;

const absl::flat_hash_map<std::string, Function>& FunctionTable() {
  static const auto* const kTable = [] {
    auto* table = new absl::flat_hash_map<std::string, Function>();
    auto add = [table](std::string name, std::vector<VT> args, int variadic, VT ret) {
      Function f{name, std::move(args), variadic, ret};
      table->emplace(std::move(name), std::move(f));
    };
    const VT s = VT::kScalar, v = VT::kVector, m = VT::kMatrix, str = VT::kString;
    add("abs", {v}, 0, v);
    add("absent", {v}, 0, v);
    add("absent_over_time", {m}, 0, v);
    add("acos", {v}, 0, v);
    add("acosh", {v}, 0, v);
    add("asin", {v}, 0, v);
    add("asinh", {v}, 0, v);
    add("atan", {v}, 0, v);
    add("atanh", {v}, 0, v);
    add("avg_over_time", {m}, 0, v);
    add("ceil", {v}, 0, v);
    add("changes", {m}, 0, v);
    add("clamp", {v, s, s}, 0, v);
    add("clamp_max", {v, s}, 0, v);
    add("clamp_min", {v, s}, 0, v);
    add("cos", {v}, 0, v);
    add("cosh", {v}, 0, v);
    add("count_over_time", {m}, 0, v);
    add("days_in_month", {v}, 1, v);
    add("day_of_month", {v}, 1, v);
    add("day_of_week", {v}, 1, v);
    add("day_of_year", {v}, 1, v);
    add("deg", {v}, 0, v);
    add("delta", {m}, 0, v);
    add("deriv", {m}, 0, v);
    add("exp", {v}, 0, v);
    add("floor", {v}, 0, v);
    add("histogram_count", {v}, 0, v);
    add("histogram_sum", {v}, 0, v);
    add("histogram_fraction", {s, s, v}, 0, v);
    add("histogram_quantile", {s, v}, 0, v);
    add("holt_winters", {m, s, s}, 0, v);
    add("hour", {v}, 1, v);
    add("idelta", {m}, 0, v);
    add("increase", {m}, 0, v);
    add("irate", {m}, 0, v);
    add("label_replace", {v, str, str, str, str}, 0, v);
    add("label_join", {v, str, str, str}, -1, v);
    add("last_over_time", {m}, 0, v);
    add("ln", {v}, 0, v);
    add("log10", {v}, 0, v);
    add("log2", {v}, 0, v);
    add("max_over_time", {m}, 0, v);
    add("min_over_time", {m}, 0, v);
    add("minute", {v}, 1, v);
    add("month", {v}, 1, v);
    add("pi", {}, 0, s);
    add("predict_linear", {m, s}, 0, v);
    add("present_over_time", {m}, 0, v);
    add("quantile_over_time", {s, m}, 0, v);
    add("rad", {v}, 0, v);
    add("rate", {m}, 0, v);
    add("resets", {m}, 0, v);
    add("round", {v, s}, 1, v);
    add("scalar", {v}, 0, s);
    add("sgn", {v}, 0, v);
    add("sin", {v}, 0, v);
    add("sinh", {v}, 0, v);
    add("sort", {v}, 0, v);
    add("sort_desc", {v}, 0, v);
    add("sqrt", {v}, 0, v);
    add("stddev_over_time", {m}, 0, v);
    add("stdvar_over_time", {m}, 0, v);
    add("sum_over_time", {m}, 0, v);
    add("tan", {v}, 0, v);
    add("tanh", {v}, 0, v);
    add("time", {}, 0, s);
    add("timestamp", {v}, 0, v);
    add("vector", {s}, 0, v);
    add("year", {v}, 1, v);
    return table;
  }();
  return *kTable;
}

}  // namespace

const Function* LookupFunction(absl::string_view name) {
  const auto& table = FunctionTable();
  auto it = table.find(name);
  return it == table.end() ? nullptr : &it->second;
}

std::vector<const Function*> AllFunctions() {
  std::vector<const Function*> all;
  for (const auto& [name, f] : FunctionTable()) all.push_back(&f);
  std::sort(all.begin(), all.end(),
            [](const Function* a, const Function* b) { return a->name < b->name; });
  return all;
}

}  // namespace sextant::promql
