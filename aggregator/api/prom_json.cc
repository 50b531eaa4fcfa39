#include "aggregator/api/prom_json.h"

#include <cmath>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "aggregator/promql/go_float.h"
#include "common/utf8.h"

namespace sextant::api {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendPoint(std::string* out, int64_t t, double v) {
  out->push_back('[');
  AppendSampleTimestamp(out, t);
  out->push_back(',');
  AppendSampleValue(out, v);
  out->push_back(']');
}

}  // namespace

void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  size_t start = 0;  // first byte not yet copied
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
        ++i;
        continue;
      }
      out->append(s.data() + start, i - start);
      switch (c) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        default:
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
      }
      start = ++i;
      continue;
    }
    uint32_t rune = 0;
    const int width = DecodeUtf8Rune(s, i, &rune);
    if (width == 0) {
      out->append(s.data() + start, i - start);
      out->append("\\ufffd");
      start = ++i;
      continue;
    }
    if (rune == 0x2028 || rune == 0x2029) {
      out->append(s.data() + start, i - start);
      out->append(rune == 0x2028 ? "\\u2028" : "\\u2029");
      i += static_cast<size_t>(width);
      start = i;
      continue;
    }
    i += static_cast<size_t>(width);
  }
  out->append(s.data() + start, s.size() - start);
  out->push_back('"');
}

std::string FormatFloatPlain(double v) { return promql::GoFormatFloat(v, 'f'); }

void AppendSampleValue(std::string* out, double v) {
  out->push_back('"');
  const double abs = std::fabs(v);
  const bool exponent = abs != 0 && (abs < 1e-6 || abs >= 1e21);  // NaN: neither
  promql::AppendGoFloat(out, v, exponent ? 'e' : 'f');
  out->push_back('"');
}

void AppendSampleTimestamp(std::string* out, int64_t ms) {
  // In unsigned arithmetic so that the most negative timestamp negates as Go's int64 does.
  uint64_t magnitude = static_cast<uint64_t>(ms);
  if (ms < 0) {
    out->push_back('-');
    magnitude = 0 - magnitude;
  }
  absl::StrAppend(out, magnitude / 1000);
  const uint64_t fraction = magnitude % 1000;
  if (fraction != 0) {
    out->push_back('.');
    out->push_back(static_cast<char>('0' + fraction / 100));
    out->push_back(static_cast<char>('0' + fraction / 10 % 10));
    out->push_back(static_cast<char>('0' + fraction % 10));
  }
}

void AppendFloatTimestamp(std::string* out, int64_t ms) {
  // |ms / 1000| is below 1e21 and, unless zero, at least 1e-3: Go writes it without exponent.
  promql::AppendGoFloat(out, static_cast<double>(ms) / 1000, 'f');
}

void AppendLabels(std::string* out, const prom::Labels& labels) {
  out->push_back('{');
  bool first = true;
  for (const prom::Label& l : labels) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(out, l.name);
    out->push_back(':');
    AppendJsonString(out, l.value);
  }
  out->push_back('}');
}

std::string EncodeQueryData(const promql::Value& value) {
  std::string out;
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, promql::Scalar>) {
          out.append(R"({"resultType":"scalar","result":[)");
          AppendFloatTimestamp(&out, v.t);
          out.append(",\"");
          promql::AppendGoFloat(&out, v.v, 'f');
          out.append("\"]}");
        } else if constexpr (std::is_same_v<T, promql::String>) {
          out.append(R"({"resultType":"string","result":[)");
          AppendFloatTimestamp(&out, v.t);
          out.push_back(',');
          AppendJsonString(&out, v.v);
          out.append("]}");
        } else if constexpr (std::is_same_v<T, promql::Vector>) {
          out.append(R"({"resultType":"vector","result":[)");
          for (size_t i = 0; i < v.size(); ++i) {
            if (i > 0) out.push_back(',');
            out.append(R"({"metric":)");
            AppendLabels(&out, v[i].metric);
            out.append(R"(,"value":)");
            AppendPoint(&out, v[i].t, v[i].v);
            out.push_back('}');
          }
          out.append("]}");
        } else {
          static_assert(std::is_same_v<T, promql::Matrix>);
          out.append(R"({"resultType":"matrix","result":[)");
          for (size_t i = 0; i < v.size(); ++i) {
            if (i > 0) out.push_back(',');
            out.append(R"({"metric":)");
            AppendLabels(&out, v[i].metric);
            out.append(R"(,"values":[)");
            for (size_t j = 0; j < v[i].points.size(); ++j) {
              if (j > 0) out.push_back(',');
              AppendPoint(&out, v[i].points[j].t, v[i].points[j].v);
            }
            out.append("]}");
          }
          out.append("]}");
        }
      },
      value);
  return out;
}

std::string SuccessEnvelope(absl::string_view data_json, const std::vector<std::string>& warnings) {
  std::string out = R"({"status":"success","data":)";
  out.append(data_json.data(), data_json.size());
  if (!warnings.empty()) {
    out.append(R"(,"warnings":[)");
    for (size_t i = 0; i < warnings.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendJsonString(&out, warnings[i]);
    }
    out.push_back(']');
  }
  out.push_back('}');
  return out;
}

std::string ErrorEnvelope(absl::string_view error_type, absl::string_view message) {
  std::string out = R"({"status":"error","errorType":)";
  AppendJsonString(&out, error_type);
  out.append(R"(,"error":)");
  AppendJsonString(&out, message);
  out.push_back('}');
  return out;
}

}  // namespace sextant::api
