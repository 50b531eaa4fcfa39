#include "autoscaler/policy.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "aggregator/promql/ast.h"
#include "aggregator/promql/parser.h"
#include "common/config.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace sextant::autoscaler {
namespace {

constexpr absl::string_view kApiVersion = "autoscaling.sextant.dev/v1alpha1";
constexpr absl::string_view kKind = "ScalingPolicy";
constexpr absl::string_view kListKind = "ScalingPolicyList";

// ---------------------------------------------------------------------------------------------
// Quantities.

// A parsed quantity: (-1)^negative x digits x 10^exp10, exactly. `digits` has no leading or
// trailing zeros; empty means zero. Binary suffixes are multiplied into the digits.
struct Decimal {
  bool negative = false;
  std::string digits;
  int64_t exp10 = 0;
};

// Exponents beyond this are clamped; the value then overflows or rounds to the smallest unit.
constexpr int64_t kMaxExponent = 1000000000;

absl::Status NotAQuantity(absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat("not a quantity: \"", absl::CHexEscape(text), "\""));
}

// digits x= factor, on decimal digit text (most significant first).
void MultiplyDigits(std::string& digits, int factor) {
  int carry = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int v = (*it - '0') * factor + carry;
    *it = static_cast<char>('0' + v % 10);
    carry = v / 10;
  }
  while (carry > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + carry % 10));
    carry /= 10;
  }
}

// The grammar of resource.Quantity: [+-] (digits [. digits] | . digits) suffix, where suffix is
// one of Ki Mi Gi Ti Pi Ei, n u m "" k M G T P E, or e/E followed by a signed integer.
absl::StatusOr<Decimal> ParseDecimal(absl::string_view text) {
  Decimal d;
  size_t i = 0;
  const size_t n = text.size();
  if (i < n && (text[i] == '+' || text[i] == '-')) {
    d.negative = text[i] == '-';
    ++i;
  }
  bool any_digit = false;
  int64_t fraction_digits = 0;
  while (i < n && absl::ascii_isdigit(text[i])) {
    d.digits.push_back(text[i++]);
    any_digit = true;
  }
  if (i < n && text[i] == '.') {
    ++i;
    while (i < n && absl::ascii_isdigit(text[i])) {
      d.digits.push_back(text[i++]);
      ++fraction_digits;
      any_digit = true;
    }
  }
  if (!any_digit) return NotAQuantity(text);

  const absl::string_view suffix = text.substr(i);
  int64_t exp = 0;
  int binary_exp = 0;  // multiples of 10 bits
  static constexpr std::pair<absl::string_view, int> kDecimal[] = {
      {"", 0},  {"n", -9}, {"u", -6}, {"m", -3}, {"k", 3},
      {"M", 6}, {"G", 9},  {"T", 12}, {"P", 15}, {"E", 18}};
  static constexpr std::pair<absl::string_view, int> kBinary[] = {{"Ki", 1}, {"Mi", 2}, {"Gi", 3},
                                                                  {"Ti", 4}, {"Pi", 5}, {"Ei", 6}};
  bool known = false;
  for (const auto& [s, e] : kDecimal) {
    if (suffix == s) {
      exp = e;
      known = true;
    }
  }
  for (const auto& [s, b] : kBinary) {
    if (suffix == s) {
      binary_exp = b;
      known = true;
    }
  }
  if (!known) {
    if (suffix.size() < 2 || (suffix[0] != 'e' && suffix[0] != 'E')) return NotAQuantity(text);
    size_t j = 1;
    bool negative_exp = false;
    if (suffix[j] == '+' || suffix[j] == '-') {
      negative_exp = suffix[j] == '-';
      ++j;
    }
    if (j == suffix.size()) return NotAQuantity(text);
    for (; j < suffix.size(); ++j) {
      if (!absl::ascii_isdigit(suffix[j])) return NotAQuantity(text);
      exp = std::min(kMaxExponent, exp * 10 + (suffix[j] - '0'));
    }
    if (negative_exp) exp = -exp;
  }

  for (int k = 0; k < binary_exp; ++k) MultiplyDigits(d.digits, 1024);
  const size_t first = d.digits.find_first_not_of('0');
  if (first == std::string::npos) {
    d.digits.clear();
    d.negative = false;
    return d;
  }
  d.digits.erase(0, first);
  d.exp10 = exp - fraction_digits;
  while (d.digits.back() == '0') {
    d.digits.pop_back();
    ++d.exp10;
  }
  return d;
}

absl::StatusOr<int64_t> DecimalToMilli(const Decimal& d, absl::string_view text) {
  if (d.digits.empty()) return 0;
  using U = unsigned __int128;
  const U limit = d.negative ? (U{1} << 63) : ((U{1} << 63) - 1);
  auto out_of_range = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("quantity out of range: \"", absl::CHexEscape(text), "\""));
  };
  const int64_t n = static_cast<int64_t>(d.digits.size());
  const int64_t e = d.exp10 + 3;  // in milli-units
  U magnitude = 0;
  if (e >= 0) {
    // The value is at least 10^(n-1+e); 10^19 is beyond 2^63.
    if (n + e > 20) return out_of_range();
    for (char c : d.digits) magnitude = magnitude * 10 + static_cast<U>(c - '0');
    for (int64_t k = 0; k < e; ++k) magnitude *= 10;
  } else {
    // Trailing digits are non-zero, so a fraction remains: round away from zero, as
    // Quantity.MilliValue() does.
    const int64_t int_digits = n + e;
    if (int_digits > 20) return out_of_range();
    for (int64_t k = 0; k < int_digits; ++k) {
      magnitude = magnitude * 10 + static_cast<U>(d.digits[k] - '0');
    }
    magnitude += 1;
  }
  if (magnitude > limit) return out_of_range();
  if (d.negative) {
    return magnitude == (U{1} << 63) ? std::numeric_limits<int64_t>::min()
                                     : -static_cast<int64_t>(magnitude);
  }
  return static_cast<int64_t>(magnitude);
}

// The quantity as a double (for tolerances). InvalidArgument when it is not finite.
absl::StatusOr<double> ParseQuantityDouble(absl::string_view text) {
  SEXTANT_ASSIGN_OR_RETURN(Decimal d, ParseDecimal(text));
  if (d.digits.empty()) return 0.0;
  std::string s = absl::StrCat(d.negative ? "-" : "", d.digits, "e", d.exp10);
  double v = std::strtod(s.c_str(), nullptr);
  if (!std::isfinite(v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("quantity out of range: \"", absl::CHexEscape(text), "\""));
  }
  return v;
}

// ---------------------------------------------------------------------------------------------
// YAML reading.

// Collects the errors of one document, each "source: path: what".
struct ReadContext {
  std::string source;
  std::vector<std::string> errors;

  void Error(absl::string_view path, absl::string_view what) {
    errors.push_back(absl::StrCat(source, ": ", path, ": ", what));
  }
};

bool Present(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

// One YAML mapping checked against its known keys: unknown keys (unless `lenient`), duplicate
// and non-string keys are errors. Get() returns a present, non-null value or an undefined node.
class MapView {
 public:
  MapView(ReadContext& ctx, const YAML::Node& node, std::string path,
          std::initializer_list<absl::string_view> known, bool lenient = false)
      : ctx_(ctx), path_(std::move(path)) {
    if (!Present(node)) return;
    if (!node.IsMap()) {
      ctx_.Error(PathOrTop(), "want a mapping of keys to values");
      return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      if (!key_node.IsScalar()) {
        ctx_.Error(PathOrTop(), "keys must be plain strings");
        continue;
      }
      const std::string& key = key_node.Scalar();
      const std::string path = Path(key);
      if (std::any_of(fields_.begin(), fields_.end(),
                      [&](const auto& f) { return f.first == key; })) {
        ctx_.Error(path, "duplicate key");
        continue;
      }
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        if (!lenient) ctx_.Error(path, absl::StrCat("unknown key", Suggestion(key, known)));
        continue;
      }
      fields_.emplace_back(key, value);
    }
  }

  YAML::Node Get(absl::string_view key) const {
    for (const auto& [k, v] : fields_) {
      if (k == key && Present(v)) return v;
    }
    return YAML::Node(YAML::NodeType::Undefined);
  }
  bool Has(absl::string_view key) const { return Present(Get(key)); }
  std::string Path(absl::string_view key) const {
    return path_.empty() ? std::string(key) : absl::StrCat(path_, ".", key);
  }
  ReadContext& ctx() const { return ctx_; }

 private:
  std::string PathOrTop() const { return path_.empty() ? "(top level)" : path_; }

  static std::string Suggestion(absl::string_view key,
                                std::initializer_list<absl::string_view> known) {
    std::string best;
    size_t best_d = std::max<size_t>(2, key.size() / 3) + 1;
    for (absl::string_view k : known) {
      size_t d = EditDistance(key, k);
      if (d < best_d) {
        best_d = d;
        best = std::string(k);
      }
    }
    if (best.empty()) return absl::StrCat(" (known keys: ", absl::StrJoin(known, ", "), ")");
    return absl::StrCat(" (did you mean \"", best, "\"?)");
  }

  ReadContext& ctx_;
  std::string path_;
  std::vector<std::pair<std::string, YAML::Node>> fields_;
};

// Value readers: each reads m.Get(key) when present, reports a type error naming the field, and
// returns whether it stored a value.
bool ReadString(const MapView& m, absl::string_view key, std::string* out) {
  YAML::Node v = m.Get(key);
  if (!Present(v)) return false;
  if (!v.IsScalar()) {
    m.ctx().Error(m.Path(key), "want a string");
    return false;
  }
  *out = v.Scalar();
  return true;
}

// A plain (unquoted) scalar, as JSON numbers and booleans are; quoted text is a string.
bool IsPlainScalar(const YAML::Node& v) {
  return v.IsScalar() && v.Tag() != "!" && v.Tag() != "tag:yaml.org,2002:str";
}

bool ReadInt64(const MapView& m, absl::string_view key, int64_t min, int64_t max, int64_t* out) {
  YAML::Node v = m.Get(key);
  if (!Present(v)) return false;
  int64_t n = 0;
  if (!IsPlainScalar(v) || !absl::SimpleAtoi(v.Scalar(), &n)) {
    m.ctx().Error(m.Path(key), v.IsScalar() ? absl::StrCat("want an integer, got \"",
                                                           absl::CHexEscape(v.Scalar()), "\"")
                                            : "want an integer");
    return false;
  }
  if (n < min || n > max) {
    m.ctx().Error(m.Path(key), absl::StrCat("want an integer in [", min, ", ", max, "], got ", n));
    return false;
  }
  *out = n;
  return true;
}

bool ReadInt32(const MapView& m, absl::string_view key, int32_t* out) {
  int64_t n = 0;
  if (!ReadInt64(m, key, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(),
                 &n)) {
    return false;
  }
  *out = static_cast<int32_t>(n);
  return true;
}

bool ReadOptionalInt32(const MapView& m, absl::string_view key, std::optional<int32_t>* out) {
  int32_t n = 0;
  if (!ReadInt32(m, key, &n)) return false;
  *out = n;
  return true;
}

bool ReadBool(const MapView& m, absl::string_view key, bool* out) {
  YAML::Node v = m.Get(key);
  if (!Present(v)) return false;
  const std::string s = v.IsScalar() ? absl::AsciiStrToLower(v.Scalar()) : "";
  if (IsPlainScalar(v) && (s == "true" || s == "false")) {
    *out = s == "true";
    return true;
  }
  m.ctx().Error(m.Path(key), "want true or false");
  return false;
}

bool ReadQuantity(const MapView& m, absl::string_view key, std::optional<int64_t>* out) {
  YAML::Node v = m.Get(key);
  if (!Present(v)) return false;
  if (!v.IsScalar()) {
    m.ctx().Error(m.Path(key), "want a quantity such as \"100\" or \"250m\"");
    return false;
  }
  absl::StatusOr<int64_t> q = ParseMilliQuantity(v.Scalar());
  if (!q.ok()) {
    m.ctx().Error(m.Path(key), q.status().message());
    return false;
  }
  *out = *q;
  return true;
}

bool ReadTime(const MapView& m, absl::string_view key, absl::Time* out) {
  std::string s;
  if (!ReadString(m, key, &s)) return false;
  absl::StatusOr<absl::Time> t = kube::ParseKubeTime(s);
  if (!t.ok()) {
    m.ctx().Error(m.Path(key), t.status().message());
    return false;
  }
  *out = *t;
  return true;
}

void ReadStringMap(const MapView& m, absl::string_view key,
                   std::map<std::string, std::string>* out) {
  YAML::Node v = m.Get(key);
  if (!Present(v)) return;
  if (!v.IsMap()) {
    m.ctx().Error(m.Path(key), "want a mapping of strings to strings");
    return;
  }
  for (auto it = v.begin(); it != v.end(); ++it) {
    const YAML::Node k = it->first;
    const YAML::Node val = it->second;
    if (!k.IsScalar() || !(val.IsScalar() || val.IsNull())) {
      m.ctx().Error(m.Path(key), "want a mapping of strings to strings");
      return;
    }
    (*out)[k.Scalar()] = val.IsNull() ? "" : val.Scalar();
  }
}

// Calls `each(node, path, index)` for every element of the list at `key`.
template <typename F>
void ReadList(const MapView& m, absl::string_view key, F each) {
  YAML::Node v = m.Get(key);
  if (!Present(v)) return;
  if (!v.IsSequence()) {
    m.ctx().Error(m.Path(key), "want a list");
    return;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    each(v[i], absl::StrCat(m.Path(key), "[", i, "]"), i);
  }
}

// Reads a string field that must be one of the names in `choices`; stores the matching value.
template <typename T>
bool ReadEnum(const MapView& m, absl::string_view key,
              std::initializer_list<std::pair<absl::string_view, T>> choices, T* out) {
  std::string s;
  if (!ReadString(m, key, &s)) return false;
  std::vector<absl::string_view> names;
  for (const auto& [name, value] : choices) {
    if (s == name) {
      *out = value;
      return true;
    }
    names.push_back(name);
  }
  m.ctx().Error(m.Path(key), absl::StrCat("want one of ", absl::StrJoin(names, ", "), ", got \"",
                                          absl::CHexEscape(s), "\""));
  return false;
}

void ReadMetadata(ReadContext& ctx, const YAML::Node& node, kube::ObjectMeta& meta) {
  // The API server adds fields Sextant does not read (managedFields, finalizers, ...).
  MapView m(ctx, node, "metadata",
            {"name", "namespace", "uid", "resourceVersion", "generation", "labels", "annotations",
             "creationTimestamp", "deletionTimestamp"},
            /*lenient=*/true);
  ReadString(m, "name", &meta.name);
  ReadString(m, "namespace", &meta.namespace_name);
  ReadString(m, "uid", &meta.uid);
  ReadString(m, "resourceVersion", &meta.resource_version);
  ReadInt64(m, "generation", 0, std::numeric_limits<int64_t>::max(), &meta.generation);
  ReadStringMap(m, "labels", &meta.labels);
  ReadStringMap(m, "annotations", &meta.annotations);
  absl::Time t;
  if (ReadTime(m, "creationTimestamp", &t)) meta.creation_timestamp = t;
  if (ReadTime(m, "deletionTimestamp", &t)) meta.deletion_timestamp = t;
  if (meta.namespace_name.empty()) meta.namespace_name = "default";
}

void ReadTarget(ReadContext& ctx, const YAML::Node& node, const std::string& path,
                MetricTarget& t) {
  MapView m(ctx, node, path, {"type", "averageUtilization", "averageValue", "value"});
  bool typed = false;
  if (!m.Has("type")) {
    ctx.Error(m.Path("type"), "required");
  } else {
    typed = ReadEnum<MetricTarget::Type>(m, "type",
                                         {{"Utilization", MetricTarget::Type::kUtilization},
                                          {"Value", MetricTarget::Type::kValue},
                                          {"AverageValue", MetricTarget::Type::kAverageValue}},
                                         &t.type);
  }
  ReadOptionalInt32(m, "averageUtilization", &t.average_utilization);
  ReadQuantity(m, "averageValue", &t.average_value_milli);
  ReadQuantity(m, "value", &t.value_milli);
  if (!typed) return;
  // The API server accepts a target that also sets the field of another type; only the field of
  // its own type counts, so the others are dropped (MetricTarget holds one value).
  if (t.type != MetricTarget::Type::kUtilization) t.average_utilization.reset();
  if (t.type != MetricTarget::Type::kValue) t.value_milli.reset();
  if (t.type != MetricTarget::Type::kAverageValue) t.average_value_milli.reset();
}

MetricSpec ReadMetric(ReadContext& ctx, const YAML::Node& node, const std::string& path,
                      size_t index) {
  MetricSpec metric;
  metric.name = absl::StrCat("m", index);
  MapView m(ctx, node, path, {"type", "name", "resource", "pods", "external"});
  ReadString(m, "name", &metric.name);
  bool typed = false;
  if (!m.Has("type")) {
    ctx.Error(m.Path("type"), "required");
  } else {
    typed = ReadEnum<MetricSpec::Type>(m, "type",
                                       {{"Resource", MetricSpec::Type::kResource},
                                        {"Pods", MetricSpec::Type::kPods},
                                        {"External", MetricSpec::Type::kExternal}},
                                       &metric.type);
  }
  if (!typed) return metric;
  static constexpr std::pair<absl::string_view, MetricSpec::Type> kBlocks[] = {
      {"resource", MetricSpec::Type::kResource},
      {"pods", MetricSpec::Type::kPods},
      {"external", MetricSpec::Type::kExternal}};
  std::string type_name;
  ReadString(m, "type", &type_name);
  for (const auto& [block, type] : kBlocks) {
    if (type == metric.type && !m.Has(block)) {
      ctx.Error(m.Path(block), absl::StrCat("required for type ", type_name));
    } else if (type != metric.type && m.Has(block)) {
      ctx.Error(m.Path(block), absl::StrCat("not allowed with type ", type_name));
    }
  }
  switch (metric.type) {
    case MetricSpec::Type::kResource: {
      MapView r(ctx, m.Get("resource"), m.Path("resource"), {"name", "container", "target"});
      if (!ReadString(r, "name", &metric.resource) && m.Has("resource")) {
        ctx.Error(r.Path("name"), "required");
      }
      ReadString(r, "container", &metric.container);
      if (r.Has("target")) {
        ReadTarget(ctx, r.Get("target"), r.Path("target"), metric.target);
      } else if (m.Has("resource")) {
        ctx.Error(r.Path("target"), "required");
      }
      break;
    }
    case MetricSpec::Type::kPods:
    case MetricSpec::Type::kExternal: {
      const bool pods = metric.type == MetricSpec::Type::kPods;
      const absl::string_view block = pods ? "pods" : "external";
      MapView q(ctx, m.Get(block), m.Path(block),
                pods ? std::initializer_list<absl::string_view>{"query", "target"}
                     : std::initializer_list<absl::string_view>{"query", "target",
                                                                "activationThreshold"});
      ReadString(q, "query", &metric.query);
      if (q.Has("target")) {
        ReadTarget(ctx, q.Get("target"), q.Path("target"), metric.target);
      } else if (m.Has(block)) {
        ctx.Error(q.Path("target"), "required");
      }
      if (!pods) ReadQuantity(q, "activationThreshold", &metric.activation_threshold_milli);
      break;
    }
  }
  return metric;
}

ScalingRules ReadRules(ReadContext& ctx, const YAML::Node& node, const std::string& path,
                       ScalingRules rules) {
  MapView m(ctx, node, path,
            {"stabilizationWindowSeconds", "selectPolicy", "policies", "tolerance"});
  ReadOptionalInt32(m, "stabilizationWindowSeconds", &rules.stabilization_window_seconds);
  ReadEnum<ScalingRules::Select>(m, "selectPolicy",
                                 {{"Max", ScalingRules::Select::kMax},
                                  {"Min", ScalingRules::Select::kMin},
                                  {"Disabled", ScalingRules::Select::kDisabled}},
                                 &rules.select_policy);
  if (m.Has("policies")) {
    // A given list replaces the defaults, even an empty one (which validation rejects).
    rules.policies.clear();
    ReadList(m, "policies", [&](const YAML::Node& item, const std::string& p, size_t) {
      ScalingRulePolicy policy;
      MapView pm(ctx, item, p, {"type", "value", "periodSeconds"});
      if (!pm.Has("type")) ctx.Error(pm.Path("type"), "required");
      ReadEnum<ScalingRulePolicy::Type>(pm, "type",
                                        {{"Pods", ScalingRulePolicy::Type::kPods},
                                         {"Percent", ScalingRulePolicy::Type::kPercent}},
                                        &policy.type);
      ReadInt32(pm, "value", &policy.value);
      ReadInt32(pm, "periodSeconds", &policy.period_seconds);
      rules.policies.push_back(policy);
    });
  }
  YAML::Node tolerance = m.Get("tolerance");
  if (Present(tolerance)) {
    if (!tolerance.IsScalar()) {
      ctx.Error(m.Path("tolerance"), "want a quantity such as \"0.05\" or \"50m\"");
    } else if (absl::StatusOr<double> t = ParseQuantityDouble(tolerance.Scalar()); t.ok()) {
      rules.tolerance = *t;
    } else {
      ctx.Error(m.Path("tolerance"), t.status().message());
    }
  }
  return rules;
}

void ReadSpec(ReadContext& ctx, const YAML::Node& node, ScalingPolicySpec& spec) {
  MapView m(ctx, node, "spec",
            {"scaleTargetRef", "minReplicas", "maxReplicas", "metrics", "behavior", "fallback",
             "paused"});
  MapView ref(ctx, m.Get("scaleTargetRef"), m.Path("scaleTargetRef"),
              {"apiVersion", "kind", "name"});
  ReadString(ref, "apiVersion", &spec.target.api_version);
  ReadString(ref, "kind", &spec.target.kind);
  ReadString(ref, "name", &spec.target.name);
  if (spec.target.api_version.empty() &&
      (spec.target.kind == "Deployment" || spec.target.kind == "StatefulSet" ||
       spec.target.kind == "ReplicaSet")) {
    spec.target.api_version = "apps/v1";
  }
  ReadInt32(m, "minReplicas", &spec.min_replicas);
  if (!m.Has("maxReplicas")) {
    ctx.Error(m.Path("maxReplicas"), "required");
  } else {
    ReadInt32(m, "maxReplicas", &spec.max_replicas);
  }
  ReadList(m, "metrics", [&](const YAML::Node& item, const std::string& path, size_t i) {
    spec.metrics.push_back(ReadMetric(ctx, item, path, i));
  });
  if (spec.metrics.empty()) {
    // The HPA's SetDefaults: no metrics means cpu at 80 % of the requests.
    MetricSpec cpu;
    cpu.name = "m0";
    cpu.type = MetricSpec::Type::kResource;
    cpu.resource = "cpu";
    cpu.target.type = MetricTarget::Type::kUtilization;
    cpu.target.average_utilization = 80;
    spec.metrics.push_back(std::move(cpu));
  }
  if (m.Has("behavior")) {
    MapView b(ctx, m.Get("behavior"), m.Path("behavior"), {"scaleUp", "scaleDown"});
    Behavior behavior;
    behavior.scale_up = ReadRules(ctx, b.Get("scaleUp"), b.Path("scaleUp"), DefaultScaleUpRules());
    behavior.scale_down =
        ReadRules(ctx, b.Get("scaleDown"), b.Path("scaleDown"), DefaultScaleDownRules());
    spec.behavior = std::move(behavior);
  }
  if (m.Has("fallback")) {
    MapView f(ctx, m.Get("fallback"), m.Path("fallback"), {"failureThreshold", "replicas"});
    Fallback fallback;
    ReadInt32(f, "failureThreshold", &fallback.failure_threshold);
    if (!f.Has("replicas")) {
      ctx.Error(f.Path("replicas"), "required");
    } else {
      ReadInt32(f, "replicas", &fallback.replicas);
    }
    spec.fallback = fallback;
  }
  ReadBool(m, "paused", &spec.paused);
}

void ReadMetricStatus(ReadContext& ctx, const YAML::Node& node, const std::string& path,
                      MetricStatus& ms) {
  MapView m(ctx, node, path, {"type", "name", "resource", "pods", "external"}, /*lenient=*/true);
  ReadString(m, "name", &ms.name);
  if (!m.Has("type")) {
    ctx.Error(m.Path("type"), "required");
    return;
  }
  if (!ReadEnum<MetricSpec::Type>(m, "type",
                                  {{"Resource", MetricSpec::Type::kResource},
                                   {"Pods", MetricSpec::Type::kPods},
                                   {"External", MetricSpec::Type::kExternal}},
                                  &ms.type)) {
    return;
  }
  const absl::string_view block = ms.type == MetricSpec::Type::kResource ? "resource"
                                  : ms.type == MetricSpec::Type::kPods   ? "pods"
                                                                         : "external";
  MapView b(ctx, m.Get(block), m.Path(block), {"name", "metric", "current"}, /*lenient=*/true);
  if (ms.type == MetricSpec::Type::kResource) {
    ReadString(b, "name", &ms.resource);
  } else if (ms.name.empty()) {
    MapView metric(ctx, b.Get("metric"), b.Path("metric"), {"name"}, /*lenient=*/true);
    ReadString(metric, "name", &ms.name);
  }
  MapView cur(ctx, b.Get("current"), b.Path("current"),
              {"averageUtilization", "averageValue", "value"}, /*lenient=*/true);
  ReadOptionalInt32(cur, "averageUtilization", &ms.average_utilization);
  ReadQuantity(cur, "averageValue", &ms.average_value_milli);
  ReadQuantity(cur, "value", &ms.value_milli);
}

void ReadStatus(ReadContext& ctx, const YAML::Node& node, ScalingPolicyStatus& status) {
  // Written by the controller; fields added by a newer version are skipped.
  MapView m(ctx, node, "status",
            {"currentReplicas", "desiredReplicas", "currentMetrics", "conditions", "lastScaleTime",
             "observedGeneration"},
            /*lenient=*/true);
  ReadInt32(m, "currentReplicas", &status.current_replicas);
  ReadInt32(m, "desiredReplicas", &status.desired_replicas);
  ReadList(m, "currentMetrics", [&](const YAML::Node& item, const std::string& path, size_t) {
    MetricStatus ms;
    ReadMetricStatus(ctx, item, path, ms);
    status.current_metrics.push_back(std::move(ms));
  });
  ReadList(m, "conditions", [&](const YAML::Node& item, const std::string& path, size_t) {
    PolicyCondition c;
    MapView cm(ctx, item, path, {"type", "status", "reason", "message", "lastTransitionTime"},
               /*lenient=*/true);
    ReadString(cm, "type", &c.type);
    ReadString(cm, "status", &c.status);
    ReadString(cm, "reason", &c.reason);
    ReadString(cm, "message", &c.message);
    ReadTime(cm, "lastTransitionTime", &c.last_transition_time);
    status.conditions.push_back(std::move(c));
  });
  absl::Time t;
  if (ReadTime(m, "lastScaleTime", &t)) status.last_scale_time = t;
  ReadInt64(m, "observedGeneration", std::numeric_limits<int64_t>::min(),
            std::numeric_limits<int64_t>::max(), &status.observed_generation);
}

// Reads one ScalingPolicy object. `in_list`: an item of a List, whose apiVersion and kind may be
// left out.
void ReadPolicy(ReadContext& ctx, const YAML::Node& node, bool in_list, ScalingPolicy& policy) {
  MapView m(ctx, node, "", {"apiVersion", "kind", "metadata", "spec", "status"});
  if (!node.IsMap()) return;  // reported by MapView
  std::string api_version, kind;
  if (ReadString(m, "apiVersion", &api_version)) {
    if (api_version != kApiVersion) {
      ctx.Error("apiVersion", absl::StrCat("want ", kApiVersion, ", got \"",
                                           absl::CHexEscape(api_version), "\""));
    }
  } else if (!in_list) {
    ctx.Error("apiVersion", absl::StrCat("required (", kApiVersion, ")"));
  }
  if (ReadString(m, "kind", &kind)) {
    if (kind != kKind) {
      ctx.Error("kind", absl::StrCat("want ", kKind, ", got \"", absl::CHexEscape(kind), "\""));
    }
  } else if (!in_list) {
    ctx.Error("kind", absl::StrCat("required (", kKind, ")"));
  }
  ReadMetadata(ctx, m.Get("metadata"), policy.metadata);
  if (!m.Has("spec")) {
    ctx.Error("spec", "required");
  } else {
    ReadSpec(ctx, m.Get("spec"), policy.spec);
  }
  policy.spec.target.namespace_name = policy.metadata.namespace_name;
  ReadStatus(ctx, m.Get("status"), policy.status);
}

// One YAML document of a stream: its text and the 0-based line where it starts.
struct DocumentText {
  absl::string_view text;
  int first_line = 0;
};

// Splits a YAML stream at its document markers: a line starting with "---" begins a document
// (the marker stays with it: "--- {a: 1}" is allowed), a line starting with "..." ends one. In
// YAML these markers cannot appear inside a document at the start of a line. Done here because
// yaml-cpp 0.7's LoadAll loops forever on some inputs (a stray "," at the top level).
std::vector<DocumentText> SplitDocuments(absl::string_view text) {
  auto is_marker = [](absl::string_view line, absl::string_view marker) {
    return absl::StartsWith(line, marker) &&
           (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r' ||
            line[3] == '\n');
  };
  std::vector<DocumentText> docs;
  size_t doc_start = 0;
  int doc_line = 0;
  size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    const size_t next = eol == absl::string_view::npos ? text.size() : eol + 1;
    const absl::string_view line = text.substr(pos, next - pos);
    if (is_marker(line, "---")) {
      docs.push_back({text.substr(doc_start, pos - doc_start), doc_line});
      doc_start = pos;
      doc_line = line_no;
    } else if (is_marker(line, "...")) {
      docs.push_back({text.substr(doc_start, pos - doc_start), doc_line});
      doc_start = next;
      doc_line = line_no + 1;
    }
    pos = next;
    ++line_no;
  }
  docs.push_back({text.substr(doc_start), doc_line});
  return docs;
}

// The non-empty documents of `text`.
absl::StatusOr<std::vector<YAML::Node>> LoadDocuments(absl::string_view text,
                                                      absl::string_view source) {
  SEXTANT_RETURN_IF_ERROR(CheckYamlNesting(text, source));
  std::vector<YAML::Node> docs;
  for (const DocumentText& d : SplitDocuments(text)) {
    try {
      YAML::Node doc = YAML::Load(std::string(d.text));
      if (Present(doc)) docs.push_back(doc);
    } catch (const YAML::Exception& e) {
      if (e.mark.is_null()) return absl::InvalidArgumentError(absl::StrCat(source, ": ", e.msg));
      return absl::InvalidArgumentError(absl::StrCat(source, ":", d.first_line + e.mark.line + 1,
                                                     ":", e.mark.column + 1, ": ", e.msg));
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", e.what()));
    }
  }
  return docs;
}

absl::StatusOr<ScalingPolicy> PolicyFromNode(const YAML::Node& node, std::string source,
                                             bool in_list) {
  ScalingPolicy policy;
  ReadContext ctx{std::move(source), {}};
  try {
    ReadPolicy(ctx, node, in_list, policy);
  } catch (const std::exception& e) {
    // yaml-cpp throws on malformed node access; keep it from escaping.
    return absl::InvalidArgumentError(absl::StrCat(ctx.source, ": ", e.what()));
  }
  if (!ctx.errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(ctx.errors, "; "));
  return policy;
}

// The kind of a document, "" when absent or not a string.
std::string KindOf(const YAML::Node& node) {
  if (!node.IsMap()) return "";
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node k = it->first;
    const YAML::Node v = it->second;
    if (k.IsScalar() && k.Scalar() == "kind" && v.IsScalar()) return v.Scalar();
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Validation.

// Longest metric name, in bytes (a DNS subdomain's limit, as Kubernetes names).
constexpr size_t kMaxMetricNameBytes = 253;

bool IsMetricName(absl::string_view s) {
  if (s.empty() || s.size() > kMaxMetricNameBytes) return false;
  return std::none_of(s.begin(), s.end(), [](char c) { return absl::ascii_iscntrl(c); });
}

absl::string_view TargetTypeName(MetricTarget::Type t) {
  switch (t) {
    case MetricTarget::Type::kUtilization:
      return "Utilization";
    case MetricTarget::Type::kValue:
      return "Value";
    case MetricTarget::Type::kAverageValue:
      return "AverageValue";
  }
  return "?";
}

absl::string_view BlockName(MetricSpec::Type t) {
  switch (t) {
    case MetricSpec::Type::kResource:
      return "resource";
    case MetricSpec::Type::kPods:
      return "pods";
    case MetricSpec::Type::kExternal:
      return "external";
  }
  return "?";
}

void ValidateTarget(const MetricSpec& m, const std::string& path,
                    std::vector<std::string>& errors) {
  const MetricTarget& t = m.target;
  const std::string tp = absl::StrCat(path, ".target");
  bool allowed = false;
  switch (m.type) {
    case MetricSpec::Type::kResource:
      allowed = t.type != MetricTarget::Type::kValue;
      break;
    case MetricSpec::Type::kPods:
      allowed = t.type == MetricTarget::Type::kAverageValue;
      break;
    case MetricSpec::Type::kExternal:
      allowed = t.type != MetricTarget::Type::kUtilization;
      break;
  }
  if (!allowed) {
    static constexpr absl::string_view kWant[] = {"Utilization or AverageValue", "AverageValue",
                                                  "Value or AverageValue"};
    errors.push_back(absl::StrCat(tp, ".type: ", TargetTypeName(t.type), " is not allowed for ",
                                  MetricTypeName(m.type), " metrics (want ",
                                  kWant[static_cast<int>(m.type)], ")"));
  }
  struct Slot {
    MetricTarget::Type type;
    absl::string_view key;
    bool set;
    bool positive;
  };
  const Slot slots[] = {
      {MetricTarget::Type::kUtilization, "averageUtilization", t.average_utilization.has_value(),
       t.average_utilization.value_or(0) > 0},
      {MetricTarget::Type::kValue, "value", t.value_milli.has_value(),
       t.value_milli.value_or(0) > 0},
      {MetricTarget::Type::kAverageValue, "averageValue", t.average_value_milli.has_value(),
       t.average_value_milli.value_or(0) > 0},
  };
  for (const Slot& s : slots) {
    const std::string p = absl::StrCat(tp, ".", s.key);
    if (s.type == t.type) {
      if (!s.set) {
        errors.push_back(absl::StrCat(p, ": required for target type ", TargetTypeName(t.type)));
      } else if (!s.positive) {
        std::string got = s.type == MetricTarget::Type::kUtilization
                              ? absl::StrCat(*t.average_utilization)
                              : FormatMilliQuantity(s.type == MetricTarget::Type::kValue
                                                        ? *t.value_milli
                                                        : *t.average_value_milli);
        errors.push_back(absl::StrCat(p, ": must be greater than 0, got ", got));
      }
    }
    // A field of another type is ignored (ParseScalingPolicy drops it), as the API server
    // accepts it.
  }
}

void ValidateQuery(absl::string_view query, const std::string& path,
                   std::vector<std::string>& errors) {
  if (query.empty()) {
    errors.push_back(absl::StrCat(path, ": required"));
    return;
  }
  absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(query);
  if (!expr.ok()) {
    errors.push_back(absl::StrCat(path, ": ", expr.status().message()));
    return;
  }
  const promql::ValueType type = (*expr)->Type();
  if (type != promql::ValueType::kVector && type != promql::ValueType::kScalar) {
    errors.push_back(absl::StrCat(path, ": must return an instant vector or a scalar, not ",
                                  promql::DocumentedTypeName(type)));
  }
}

void ValidateRules(const ScalingRules& rules, const std::string& path,
                   std::vector<std::string>& errors) {
  if (rules.stabilization_window_seconds.has_value() &&
      (*rules.stabilization_window_seconds < 0 || *rules.stabilization_window_seconds > 3600)) {
    errors.push_back(absl::StrCat(path, ".stabilizationWindowSeconds: must be in [0, 3600], got ",
                                  *rules.stabilization_window_seconds));
  }
  if (rules.policies.empty()) {
    errors.push_back(absl::StrCat(path, ".policies: must have at least one policy"));
  }
  for (size_t i = 0; i < rules.policies.size(); ++i) {
    const ScalingRulePolicy& p = rules.policies[i];
    const std::string pp = absl::StrCat(path, ".policies[", i, "]");
    if (p.value <= 0) {
      errors.push_back(absl::StrCat(pp, ".value: must be greater than 0, got ", p.value));
    }
    if (p.period_seconds < 1 || p.period_seconds > 1800) {
      errors.push_back(
          absl::StrCat(pp, ".periodSeconds: must be in [1, 1800], got ", p.period_seconds));
    }
  }
  if (rules.tolerance.has_value() && !(*rules.tolerance >= 0)) {
    errors.push_back(
        absl::StrCat(path, ".tolerance: must not be negative, got ", *rules.tolerance));
  }
}

void WriteQuantityIfSet(JsonWriter& w, absl::string_view key, const std::optional<int64_t>& v) {
  if (!v.has_value()) return;
  w.Key(key);
  w.String(FormatMilliQuantity(*v));
}

}  // namespace

absl::string_view MetricTypeName(MetricSpec::Type t) {
  switch (t) {
    case MetricSpec::Type::kResource:
      return "Resource";
    case MetricSpec::Type::kPods:
      return "Pods";
    case MetricSpec::Type::kExternal:
      return "External";
  }
  return "?";
}

absl::StatusOr<int64_t> ParseMilliQuantity(absl::string_view text) {
  SEXTANT_ASSIGN_OR_RETURN(Decimal d, ParseDecimal(text));
  return DecimalToMilli(d, text);
}

absl::StatusOr<int64_t> MilliFromDouble(double value) {
  if (!std::isfinite(value)) {
    return absl::InvalidArgumentError(absl::StrCat("not a finite number: ", value));
  }
  double m = value * 1000.0;
  const double nearest = std::round(m);
  // 1e-9 of a unit, or a few ulps where the product itself is that coarse.
  const double slack = std::max(1e-6, std::fabs(m) * 1e-15);
  if (std::fabs(m - nearest) <= slack) {
    m = nearest;
  } else {
    m = m > 0 ? std::ceil(m) : std::floor(m);  // away from zero, as ParseMilliQuantity
  }
  // 2^63: the first double beyond int64.
  constexpr double kLimit = 9223372036854775808.0;
  if (m >= kLimit || m < -kLimit) {
    return absl::InvalidArgumentError(absl::StrCat("value out of range: ", value));
  }
  return static_cast<int64_t>(m);
}

std::string FormatMilliQuantity(int64_t milli) {
  if (milli % 1000 == 0) return absl::StrCat(milli / 1000);
  return absl::StrCat(milli, "m");
}

ScalingRules DefaultScaleUpRules() {
  ScalingRules r;
  r.stabilization_window_seconds = 0;
  r.select_policy = ScalingRules::Select::kMax;
  r.policies = {{ScalingRulePolicy::Type::kPods, 4, 15},
                {ScalingRulePolicy::Type::kPercent, 100, 15}};
  return r;
}

ScalingRules DefaultScaleDownRules() {
  ScalingRules r;
  r.select_policy = ScalingRules::Select::kMax;
  r.policies = {{ScalingRulePolicy::Type::kPercent, 100, 15}};
  return r;
}

absl::StatusOr<ScalingPolicy> ParseScalingPolicy(absl::string_view text, absl::string_view source) {
  SEXTANT_ASSIGN_OR_RETURN(std::vector<YAML::Node> docs, LoadDocuments(text, source));
  if (docs.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": want one ScalingPolicy document, got ", docs.size()));
  }
  return PolicyFromNode(docs[0], std::string(source), /*in_list=*/false);
}

absl::StatusOr<std::vector<ScalingPolicy>> ParseScalingPolicies(absl::string_view text,
                                                                absl::string_view source) {
  SEXTANT_ASSIGN_OR_RETURN(std::vector<YAML::Node> docs, LoadDocuments(text, source));
  std::vector<ScalingPolicy> policies;
  for (size_t i = 0; i < docs.size(); ++i) {
    const std::string doc_source =
        docs.size() == 1 ? std::string(source) : absl::StrCat(source, ": document ", i);
    std::string kind;
    try {
      kind = KindOf(docs[i]);
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(doc_source, ": ", e.what()));
    }
    if (kind != "List" && kind != kListKind) {
      SEXTANT_ASSIGN_OR_RETURN(ScalingPolicy p,
                               PolicyFromNode(docs[i], doc_source, /*in_list=*/false));
      policies.push_back(std::move(p));
      continue;
    }
    ReadContext ctx{doc_source, {}};
    std::vector<YAML::Node> items;
    try {
      MapView list(ctx, docs[i], "", {"apiVersion", "kind", "metadata", "items"});
      ReadList(list, "items",
               [&](const YAML::Node& item, const std::string&, size_t) { items.push_back(item); });
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(doc_source, ": ", e.what()));
    }
    if (!ctx.errors.empty()) return absl::InvalidArgumentError(absl::StrJoin(ctx.errors, "; "));
    for (size_t j = 0; j < items.size(); ++j) {
      SEXTANT_ASSIGN_OR_RETURN(
          ScalingPolicy p, PolicyFromNode(items[j], absl::StrCat(doc_source, ": items[", j, "]"),
                                          /*in_list=*/true));
      policies.push_back(std::move(p));
    }
  }
  return policies;
}

absl::Status ValidateScalingPolicy(const ScalingPolicy& policy) {
  std::vector<std::string> errors;
  const ScalingPolicySpec& spec = policy.spec;
  if (spec.target.api_version.empty()) {
    errors.push_back(
        spec.target.kind.empty()
            ? std::string("spec.scaleTargetRef.apiVersion: required")
            : absl::StrCat("spec.scaleTargetRef.apiVersion: required for kind ", spec.target.kind));
  }
  if (spec.target.kind.empty()) errors.push_back("spec.scaleTargetRef.kind: required");
  if (spec.target.name.empty()) errors.push_back("spec.scaleTargetRef.name: required");
  if (spec.min_replicas < 0) {
    errors.push_back(absl::StrCat("spec.minReplicas: must be at least 0, got ", spec.min_replicas));
  }
  if (spec.max_replicas < 1) {
    errors.push_back(absl::StrCat("spec.maxReplicas: must be at least 1, got ", spec.max_replicas));
  } else if (spec.max_replicas < spec.min_replicas) {
    errors.push_back(absl::StrCat("spec.maxReplicas: must be at least minReplicas (",
                                  spec.min_replicas, "), got ", spec.max_replicas));
  }
  if (spec.metrics.empty()) errors.push_back("spec.metrics: must have at least one metric");
  bool has_external = false;
  std::map<std::string, size_t> names;
  for (size_t i = 0; i < spec.metrics.size(); ++i) {
    const MetricSpec& m = spec.metrics[i];
    const std::string path = absl::StrCat("spec.metrics[", i, "]");
    if (!IsMetricName(m.name)) {
      errors.push_back(absl::StrCat(
          path, ".name: \"", absl::CHexEscape(m.name.substr(0, kMaxMetricNameBytes + 1)),
          "\" is not a valid name (1 to ", kMaxMetricNameBytes, " bytes, no control characters)"));
    } else if (auto [it, inserted] = names.emplace(m.name, i); !inserted) {
      errors.push_back(absl::StrCat(path, ".name: \"", absl::CHexEscape(m.name),
                                    "\" is also the name of spec.metrics[", it->second, "]"));
    }
    const std::string block = absl::StrCat(path, ".", BlockName(m.type));
    switch (m.type) {
      case MetricSpec::Type::kResource:
        if (m.resource != "cpu" && m.resource != "memory") {
          errors.push_back(absl::StrCat(block, ".name: want cpu or memory, got \"",
                                        absl::CHexEscape(m.resource), "\""));
        }
        break;
      case MetricSpec::Type::kPods:
        ValidateQuery(m.query, absl::StrCat(block, ".query"), errors);
        break;
      case MetricSpec::Type::kExternal:
        has_external = true;
        ValidateQuery(m.query, absl::StrCat(block, ".query"), errors);
        if (m.activation_threshold_milli.value_or(0) < 0) {
          errors.push_back(absl::StrCat(block, ".activationThreshold: must not be negative, got ",
                                        FormatMilliQuantity(*m.activation_threshold_milli)));
        }
        break;
    }
    if (m.type != MetricSpec::Type::kExternal && m.activation_threshold_milli.has_value()) {
      errors.push_back(absl::StrCat(block, ".activationThreshold: only for External metrics"));
    }
    ValidateTarget(m, block, errors);
  }
  if (spec.min_replicas == 0 && !has_external) {
    errors.push_back(
        "spec.minReplicas: 0 (scale to zero) needs at least one External metric to wake the "
        "target");
  }
  if (spec.behavior.has_value()) {
    ValidateRules(spec.behavior->scale_up, "spec.behavior.scaleUp", errors);
    ValidateRules(spec.behavior->scale_down, "spec.behavior.scaleDown", errors);
  }
  if (spec.fallback.has_value()) {
    if (spec.fallback->failure_threshold < 1) {
      errors.push_back(absl::StrCat("spec.fallback.failureThreshold: must be at least 1, got ",
                                    spec.fallback->failure_threshold));
    }
    if (spec.fallback->replicas < spec.min_replicas ||
        spec.fallback->replicas > spec.max_replicas) {
      errors.push_back(absl::StrCat(
          "spec.fallback.replicas: must be in [minReplicas, maxReplicas] = [", spec.min_replicas,
          ", ", spec.max_replicas, "], got ", spec.fallback->replicas));
    }
  }
  if (errors.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
}

std::string PolicyKey(const ScalingPolicy& policy) {
  return absl::StrCat(policy.metadata.namespace_name, "/", policy.metadata.name);
}

void WriteConditionJson(JsonWriter& w, const PolicyCondition& c) {
  w.StartObject();
  w.Key("type");
  w.String(c.type);
  w.Key("status");
  w.String(c.status);
  w.Key("reason");
  w.String(c.reason);
  w.Key("message");
  w.String(c.message);
  if (c.last_transition_time != absl::UnixEpoch()) {
    w.Key("lastTransitionTime");
    w.String(kube::FormatKubeTime(c.last_transition_time));
  }
  w.EndObject();
}

std::string PolicyStatusToJson(const ScalingPolicyStatus& status) {
  JsonWriter w;
  w.StartObject();
  w.Key("currentReplicas");
  w.Int(status.current_replicas);
  w.Key("desiredReplicas");
  w.Int(status.desired_replicas);
  if (!status.current_metrics.empty()) {
    w.Key("currentMetrics");
    w.StartArray();
    for (const MetricStatus& m : status.current_metrics) {
      w.StartObject();
      w.Key("type");
      w.String(MetricTypeName(m.type));
      // Sextant's: the metric's name (spec.metrics[].name), also for Resource metrics.
      if (!m.name.empty()) {
        w.Key("name");
        w.String(m.name);
      }
      w.Key(BlockName(m.type));
      w.StartObject();
      if (m.type == MetricSpec::Type::kResource) {
        w.Key("name");
        w.String(m.resource);
      } else {
        w.Key("metric");
        w.StartObject();
        w.Key("name");
        w.String(m.name);
        w.EndObject();
      }
      w.Key("current");
      w.StartObject();
      if (m.average_utilization.has_value()) {
        w.Key("averageUtilization");
        w.Int(*m.average_utilization);
      }
      WriteQuantityIfSet(w, "averageValue", m.average_value_milli);
      WriteQuantityIfSet(w, "value", m.value_milli);
      w.EndObject();
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
  }
  if (!status.conditions.empty()) {
    w.Key("conditions");
    w.StartArray();
    for (const PolicyCondition& c : status.conditions) {
      WriteConditionJson(w, c);
    }
    w.EndArray();
  }
  if (status.last_scale_time.has_value()) {
    w.Key("lastScaleTime");
    w.String(kube::FormatKubeTime(*status.last_scale_time));
  }
  w.Key("observedGeneration");
  w.Int(status.observed_generation);
  w.EndObject();
  return w.TakeString();
}

}  // namespace sextant::autoscaler
