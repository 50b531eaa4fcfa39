// Test helpers for the kubelet tests: series of a MetricSet or an exposition file as a map from
// their labels (name included) to value, and a series-by-series comparison.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "collector/metric_set.h"
#include "gtest/gtest.h"
#include "prom/text_format.h"

namespace sextant::collector::kubelet_test {

using SeriesMap = std::map<std::string, double>;  // {__name__="x", a="b"} -> value

inline SeriesMap ToSeries(const std::vector<prom::MetricFamily>& families) {
  SeriesMap out;
  for (const prom::MetricFamily& f : families) {
    for (const prom::ExpositionSample& s : f.samples) out[s.labels.ToString()] = s.value;
  }
  return out;
}

// The set's series after a round trip through the text format (so they are exportable).
inline SeriesMap ExportedSeries(const MetricSet& set) {
  auto parsed = prom::ParseTextFormat(prom::WriteTextFormat(set.families()),
                                      prom::ExpositionFormat::kText004);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? ToSeries(*parsed) : SeriesMap();
}

inline SeriesMap ParseSeries(const std::string& text) {
  auto parsed = prom::ParseTextFormat(text, prom::ExpositionFormat::kText004);
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? ToSeries(*parsed) : SeriesMap();
}

// Series whose name starts with `prefix`.
inline SeriesMap WithPrefix(const SeriesMap& series, const std::string& prefix) {
  SeriesMap out;
  for (const auto& [labels, value] : series) {
    if (absl::StartsWith(labels, absl::StrCat("{__name__=\"", prefix))) out[labels] = value;
  }
  return out;
}

// Lists every missing, extra and different series (empty when they match).
inline std::string DiffSeries(const SeriesMap& want, const SeriesMap& got) {
  std::string diff;
  for (const auto& [labels, value] : want) {
    auto it = got.find(labels);
    if (it == got.end()) {
      absl::StrAppend(&diff, "missing: ", labels, " ", value, "\n");
    } else if (it->second != value) {
      absl::StrAppend(&diff, "different: ", labels, " want ", value, " got ", it->second, "\n");
    }
  }
  for (const auto& [labels, value] : got) {
    if (!want.contains(labels)) absl::StrAppend(&diff, "extra: ", labels, " ", value, "\n");
  }
  return diff;
}

}  // namespace sextant::collector::kubelet_test
