// `promtool check metrics` (Prometheus 2.42's client_golang parser plus its lint) accepts what our
// text-format writer writes, including families read from OpenMetrics and awkward label values.
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "prom/text_format.h"
#include "tests/util/subprocess.h"
#include "tests/util/test_util.h"

namespace sextant::prom {
namespace {

std::vector<MetricFamily> MustParse(absl::string_view text, ExpositionFormat format) {
  absl::StatusOr<std::vector<MetricFamily>> fams = ParseTextFormat(text, format);
  EXPECT_TRUE(fams.ok()) << fams.status();
  return fams.ok() ? *std::move(fams) : std::vector<MetricFamily>{};
}

TEST(PromtoolTextFormatTest, PromtoolAcceptsWriterOutput) {
  std::vector<MetricFamily> fams = MustParse(
      "# HELP sextant_http_requests_total HTTP requests served, by handler and code.\n"
      "# TYPE sextant_http_requests_total counter\n"
      "sextant_http_requests_total{code=\"200\",handler=\"/api/v1/query\"} 1027\n"
      "sextant_http_requests_total{code=\"400\",handler=\"/api/v1/query\"} 3 1686547200123\n"
      "# HELP sextant_head_series Series in the head block.\n"
      "# TYPE sextant_head_series gauge\n"
      "sextant_head_series 123456\n"
      "# HELP sextant_query_duration_seconds Query latency.\n"
      "# TYPE sextant_query_duration_seconds histogram\n"
      "sextant_query_duration_seconds_bucket{le=\"0.005\"} 10\n"
      "sextant_query_duration_seconds_bucket{le=\"0.1\"} 200\n"
      "sextant_query_duration_seconds_bucket{le=\"+Inf\"} 250\n"
      "sextant_query_duration_seconds_sum 12.75\n"
      "sextant_query_duration_seconds_count 250\n"
      "# HELP sextant_wal_fsync_duration_seconds WAL fsync latency.\n"
      "# TYPE sextant_wal_fsync_duration_seconds summary\n"
      "sextant_wal_fsync_duration_seconds{quantile=\"0.5\"} 0.0012\n"
      "sextant_wal_fsync_duration_seconds{quantile=\"0.99\"} 0.0309\n"
      "sextant_wal_fsync_duration_seconds_sum 4.5\n"
      "sextant_wal_fsync_duration_seconds_count 2000\n"
      "# HELP sextant_node_info Labels with awkward values.\n"
      "# TYPE sextant_node_info gauge\n"
      "sextant_node_info{kernel=\"#1 SMP \\\"PREEMPT\\\" \\\\ x\\ny\",node=\"worker-1\"} 1\n",
      ExpositionFormat::kText004);
  ASSERT_EQ(fams.size(), 5u);
  std::vector<MetricFamily> om = MustParse(
      testing::ReadFileOrDie(testing::SourcePath("tests/testdata/exposition/openmetrics.txt")),
      ExpositionFormat::kOpenMetrics);
  // OpenMetrics families, mapped to 0.0.4, with help text so that lint has nothing to say.
  for (MetricFamily& f : om) {
    if (f.help.empty()) f.help = "Test family.";
    if (f.name == "http_requests" || f.name == "request_duration_seconds") fams.push_back(f);
  }
  const std::string text = WriteTextFormat(fams);

  std::string output;
  int status = testing::RunShell("promtool check metrics", text, &output);
  EXPECT_EQ(status, 0) << "promtool said:\n" << output << "\ninput:\n" << text;
  EXPECT_EQ(output, "");

  // And promtool does fail on bad input, so the check above can fail.
  status =
      testing::RunShell("promtool check metrics",
                        "# TYPE x_total counter\n# TYPE x_total counter\nx_total 1\n", &output);
  EXPECT_NE(status, 0) << output;
}

}  // namespace
}  // namespace sextant::prom
