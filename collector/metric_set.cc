#include "collector/metric_set.h"

#include <algorithm>

#include "common/utf8.h"

namespace sextant::collector {
namespace {

std::string ValidValue(absl::string_view v) {
  if (IsValidUtf8(v)) return std::string(v);
  return SanitizeUtf8(v);
}

}  // namespace

void MetricSet::Add(absl::string_view name, absl::string_view help, prom::MetricType type,
                    LabelList labels, double value) {
  std::vector<prom::Label> v;
  v.reserve(labels.size() + 1);
  for (const auto& [n, val] : labels) {
    if (!val.empty()) v.push_back(prom::Label{std::string(n), ValidValue(val)});
  }
  AddChecked(name, help, type, std::move(v), value);
}

void MetricSet::Add(absl::string_view name, absl::string_view help, prom::MetricType type,
                    std::vector<prom::Label> labels, double value) {
  labels.erase(std::remove_if(labels.begin(), labels.end(),
                              [](const prom::Label& l) { return l.value.empty(); }),
               labels.end());
  for (prom::Label& l : labels) {
    if (!IsValidUtf8(l.value)) l.value = SanitizeUtf8(l.value);
  }
  AddChecked(name, help, type, std::move(labels), value);
}

void MetricSet::AddChecked(absl::string_view name, absl::string_view help, prom::MetricType type,
                           std::vector<prom::Label> labels, double value) {
  labels.push_back(prom::Label{std::string(prom::kMetricNameLabel), std::string(name)});
  // Insertion sort: label sets are small.
  for (size_t i = 1; i < labels.size(); ++i) {
    for (size_t j = i; j > 0 && labels[j].name < labels[j - 1].name; --j) {
      std::swap(labels[j], labels[j - 1]);
    }
  }
  // Our code names the labels; a repeated name keeps the last value, as Labels's builder does.
  size_t out = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (out > 0 && labels[out - 1].name == labels[i].name) {
      labels[out - 1] = std::move(labels[i]);
    } else {
      if (out != i) labels[out] = std::move(labels[i]);
      ++out;
    }
  }
  labels.resize(out);
  prom::Labels set = prom::Labels::FromSortedUnchecked(std::move(labels));

  auto [it, inserted] = index_.try_emplace(name);
  if (inserted) {
    it->second.index = families_.size();
    prom::MetricFamily f;
    f.name = std::string(name);
    f.help = std::string(help);
    f.type = type;
    families_.push_back(std::move(f));
  }
  prom::MetricFamily& family = families_[it->second.index];
  if (!it->second.hashes.insert(set.Hash()).second) {
    for (const prom::ExpositionSample& s : family.samples) {
      if (s.labels == set) {
        ++duplicates_;
        return;
      }
    }
  }
  family.samples.push_back(prom::ExpositionSample{std::move(set), value, std::nullopt});
  ++samples_;
}

std::vector<prom::MetricFamily> MetricSet::TakeFamilies() {
  std::vector<prom::MetricFamily> out = std::move(families_);
  families_.clear();
  index_.clear();
  samples_ = 0;
  duplicates_ = 0;
  return out;
}

}  // namespace sextant::collector
