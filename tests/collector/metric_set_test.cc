#include "collector/metric_set.h"

#include "gtest/gtest.h"

namespace sextant::collector {
namespace {

TEST(MetricSetTest, GroupsSamplesIntoFamiliesInFirstUseOrder) {
  MetricSet set;
  set.Gauge("b_metric", "B.", {{"x", "1"}}, 1);
  set.Counter("a_total", "A.", {}, 2);
  set.Gauge("b_metric", "ignored help", {{"x", "2"}}, 3);
  ASSERT_EQ(set.families().size(), 2u);
  EXPECT_EQ(set.families()[0].name, "b_metric");
  EXPECT_EQ(set.families()[0].help, "B.");
  EXPECT_EQ(set.families()[0].type, prom::MetricType::kGauge);
  ASSERT_EQ(set.families()[0].samples.size(), 2u);
  EXPECT_EQ(set.families()[0].samples[1].labels.ToString(), "{__name__=\"b_metric\", x=\"2\"}");
  EXPECT_EQ(set.families()[1].type, prom::MetricType::kCounter);
  EXPECT_EQ(set.sample_count(), 3u);
}

TEST(MetricSetTest, DropsEmptyLabelValuesAndSortsLabels) {
  MetricSet set;
  set.Gauge("m", "", {{"pod", "p"}, {"container", ""}, {"id", "/x"}}, 1);
  const prom::Labels& labels = set.families()[0].samples[0].labels;
  EXPECT_EQ(labels.ToString(), "{__name__=\"m\", id=\"/x\", pod=\"p\"}");
}

TEST(MetricSetTest, RepairsInvalidUtf8InLabelValues) {
  MetricSet set;
  set.Gauge("m", "", {{"mountpoint", "/mnt/\xff\xfe"}}, 1);
  std::vector<prom::Label> labels = {{"device", "sd\xc3"}};
  set.Add("m", "", prom::MetricType::kGauge, std::move(labels), 2);
  for (const prom::ExpositionSample& s : set.families()[0].samples) {
    for (const prom::Label& l : s.labels) EXPECT_TRUE(IsValidUtf8(l.value)) << l.value;
  }
  EXPECT_EQ(set.families()[0].samples[0].labels.Get("mountpoint"), "/mnt/\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(MetricSetTest, DropsAndCountsDuplicateSeries) {
  MetricSet set;
  set.Gauge("m", "", {{"a", "1"}}, 1);
  set.Gauge("m", "", {{"a", "1"}}, 2);
  set.Gauge("m", "", {{"a", "2"}}, 3);
  EXPECT_EQ(set.sample_count(), 2u);
  EXPECT_EQ(set.duplicates(), 1u);
  EXPECT_EQ(set.families()[0].samples[0].value, 1);
}

TEST(MetricSetTest, TakeFamiliesEmptiesTheSet) {
  MetricSet set;
  set.Gauge("m", "", {}, 1);
  std::vector<prom::MetricFamily> families = set.TakeFamilies();
  EXPECT_EQ(families.size(), 1u);
  EXPECT_TRUE(set.families().empty());
  EXPECT_EQ(set.sample_count(), 0u);
  set.Gauge("m", "", {}, 1);  // no duplicate after the take
  EXPECT_EQ(set.duplicates(), 0u);
}

TEST(MetricSetTest, OutputIsValidExposition) {
  MetricSet set;
  set.Counter("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.",
              {{"cpu", "0"}, {"mode", "idle"}}, 12.5);
  set.Gauge("node_filesystem_avail_bytes", "Avail.", {{"mountpoint", "/with \"quote\"\nnewline"}},
            1e12);
  std::string text = prom::WriteTextFormat(set.families());
  absl::StatusOr<std::vector<prom::MetricFamily>> parsed =
      prom::ParseTextFormat(text, prom::ExpositionFormat::kText004);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[1].samples[0].labels.Get("mountpoint"), "/with \"quote\"\nnewline");
}

}  // namespace
}  // namespace sextant::collector
