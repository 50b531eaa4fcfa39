#include "collector/exporter.h"

#include <sstream>

#include "gtest/gtest.h"
#include "prometheus/text_serializer.h"

namespace sextant::collector {
namespace {

Snapshot MakeSnapshot() {
  MetricSet set;
  set.Counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.",
              {{"cpu", "0"}, {"mode", "user"}}, 1234.56);
  set.Gauge("container_memory_working_set_bytes", "Working set.",
            {{"namespace", "default"}, {"pod", "web-1"}, {"container", "app"}, {"id", "/k/x"}},
            123456789);
  set.Add("node_vmstat_oom_kill", "/proc/vmstat information field oom_kill.",
          prom::MetricType::kUntyped, MetricSet::LabelList{}, 3);
  Snapshot snap;
  snap.samples = set.sample_count();
  snap.families = set.TakeFamilies();
  return snap;
}

TEST(ExporterTest, ServesTheSameSeriesAsTheSnapshot) {
  Snapshot snap = MakeSnapshot();
  std::shared_ptr<const Snapshot> latest;
  SnapshotCollectable collectable([&] { return latest; });
  EXPECT_TRUE(collectable.Collect().empty());
  latest = std::make_shared<const Snapshot>(snap);
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, collectable.Collect());
  absl::StatusOr<std::vector<prom::MetricFamily>> parsed =
      prom::ParseTextFormat(text.str(), prom::ExpositionFormat::kText004);
  ASSERT_TRUE(parsed.ok()) << parsed.status() << "\n" << text.str();
  ASSERT_EQ(parsed->size(), snap.families.size());
  for (size_t i = 0; i < snap.families.size(); ++i) {
    const prom::MetricFamily& want = snap.families[i];
    const prom::MetricFamily& got = (*parsed)[i];
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.help, want.help);
    EXPECT_EQ(got.type, want.type);
    ASSERT_EQ(got.samples.size(), want.samples.size());
    for (size_t j = 0; j < want.samples.size(); ++j) {
      EXPECT_EQ(got.samples[j].labels, want.samples[j].labels);
      EXPECT_EQ(got.samples[j].value, want.samples[j].value);
    }
  }
}

TEST(ExporterTest, RendersTheSnapshotAsTextOncePerPass) {
  std::shared_ptr<const Snapshot> latest;
  SnapshotCollectable collectable([&] { return latest; });
  EXPECT_EQ(collectable.RenderText(), "");
  latest = std::make_shared<const Snapshot>(MakeSnapshot());
  const std::string text = collectable.RenderText();
  EXPECT_EQ(text, prom::WriteTextFormat(latest->families));
  EXPECT_NE(text.find("node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 1234.56\n"),
            std::string::npos);
  // And it is what serializing Collect() gives, series for series.
  std::ostringstream serialized;
  prometheus::TextSerializer().Serialize(serialized, collectable.Collect());
  auto a = prom::ParseTextFormat(text, prom::ExpositionFormat::kText004);
  auto b = prom::ParseTextFormat(serialized.str(), prom::ExpositionFormat::kText004);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  for (size_t i = 0; i < a->size(); ++i) {
    EXPECT_EQ((*a)[i].name, (*b)[i].name);
    EXPECT_EQ((*a)[i].type, (*b)[i].type);
    ASSERT_EQ((*a)[i].samples.size(), (*b)[i].samples.size());
    for (size_t j = 0; j < (*a)[i].samples.size(); ++j) {
      EXPECT_EQ((*a)[i].samples[j].labels, (*b)[i].samples[j].labels);
      EXPECT_EQ((*a)[i].samples[j].value, (*b)[i].samples[j].value);
    }
  }
}

TEST(ExporterTest, ScrapesSeeTheLatestPass) {
  std::shared_ptr<const Snapshot> latest;
  SnapshotCollectable collectable([&] { return latest; });
  Snapshot snap = MakeSnapshot();
  latest = std::make_shared<const Snapshot>(snap);
  EXPECT_EQ(collectable.Collect().size(), 3u);
  EXPECT_EQ(collectable.Collect().size(), 3u);  // the same pass, from the cached conversion
  snap.families.pop_back();
  latest = std::make_shared<const Snapshot>(snap);
  EXPECT_EQ(collectable.Collect().size(), 2u);
}

}  // namespace
}  // namespace sextant::collector
