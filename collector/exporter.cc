#include "collector/exporter.h"

#include <string>

namespace sextant::collector {

std::vector<prometheus::MetricFamily> ToPrometheusFamilies(
    const std::vector<prom::MetricFamily>& families) {
  std::vector<prometheus::MetricFamily> out;
  out.reserve(families.size());
  for (const prom::MetricFamily& f : families) {
    prometheus::MetricFamily pf;
    pf.name = f.name;
    pf.help = f.help;
    switch (f.type) {
      case prom::MetricType::kCounter:
        pf.type = prometheus::MetricType::Counter;
        break;
      case prom::MetricType::kGauge:
        pf.type = prometheus::MetricType::Gauge;
        break;
      default:
        pf.type = prometheus::MetricType::Untyped;
        break;
    }
    pf.metric.reserve(f.samples.size());
    for (const prom::ExpositionSample& s : f.samples) {
      prometheus::ClientMetric m;
      m.label.reserve(s.labels.size());
      for (const prom::Label& l : s.labels) {
        if (l.name == prom::kMetricNameLabel) continue;
        m.label.push_back({l.name, l.value});
      }
      switch (pf.type) {
        case prometheus::MetricType::Counter:
          m.counter.value = s.value;
          break;
        case prometheus::MetricType::Gauge:
          m.gauge.value = s.value;
          break;
        default:
          m.untyped.value = s.value;
          break;
      }
      if (s.timestamp_ms.has_value()) m.timestamp_ms = *s.timestamp_ms;
      pf.metric.push_back(std::move(m));
    }
    out.push_back(std::move(pf));
  }
  return out;
}

std::vector<prometheus::MetricFamily> SnapshotCollectable::Collect() const {
  std::shared_ptr<const Snapshot> snapshot = latest_();
  if (snapshot == nullptr) return {};
  std::shared_ptr<const std::vector<prometheus::MetricFamily>> families;
  {
    absl::MutexLock lock(&mu_);
    if (converted_from_ != snapshot) {
      families_ = std::make_shared<const std::vector<prometheus::MetricFamily>>(
          ToPrometheusFamilies(snapshot->families));
      converted_from_ = snapshot;
    }
    families = families_;
  }
  return *families;
}

std::string SnapshotCollectable::RenderText() const {
  std::shared_ptr<const Snapshot> snapshot = latest_();
  if (snapshot == nullptr) return "";
  std::shared_ptr<const std::string> text;
  {
    absl::MutexLock lock(&text_mu_);
    if (text_from_ != snapshot) {
      text_ = std::make_shared<const std::string>(prom::WriteTextFormat(snapshot->families));
      text_from_ = snapshot;
    }
    text = text_;
  }
  return *text;
}

}  // namespace sextant::collector
