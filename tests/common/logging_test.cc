#include "common/logging.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sextant {
namespace {

class LoggingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogSink([this](absl::string_view line) { lines_.emplace_back(line); });
    SetLogTimeSource([] { return absl::FromUnixMillis(1700000000123); });
    SetLogLevel(LogLevel::kInfo);
    SetLogFormat(LogFormat::kLogfmt);
  }
  void TearDown() override {
    SetLogSink(nullptr);
    SetLogTimeSource(nullptr);
    SetLogFormat(LogFormat::kLogfmt);
    SetLogLevel(LogLevel::kInfo);
  }
  std::vector<std::string> lines_;
};

TEST_F(LoggingTest, LogfmtLineWithFieldsAndQuoting) {
  LogInfo("listening", {{"addr", "127.0.0.1:9190"}, {"role", "server"}, {"n", 3}});
  LogWarn("bad input", {{"err", "line 3: \"x\" = y"}, {"empty", ""}, {"ok", true}});
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_EQ(lines_[0],
            "ts=2023-11-14T22:13:20.123Z level=info msg=listening addr=127.0.0.1:9190 "
            "role=server n=3");
  EXPECT_EQ(lines_[1],
            "ts=2023-11-14T22:13:20.123Z level=warn msg=\"bad input\" "
            "err=\"line 3: \\\"x\\\" = y\" empty=\"\" ok=true");
}

TEST_F(LoggingTest, NewlinesNeverSplitALine) {
  LogError("multi\nline", {{"v", "a\nb"}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0].find('\n'), std::string::npos);
  EXPECT_NE(lines_[0].find("msg=\"multi\\nline\""), std::string::npos);
}

TEST_F(LoggingTest, JsonFormat) {
  SetLogFormat(LogFormat::kJson);
  LogInfo("started", {{"port", 9190}, {"path", "/a\"b"}, {"took", absl::Milliseconds(1500)}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_EQ(lines_[0],
            "{\"ts\":\"2023-11-14T22:13:20.123Z\",\"level\":\"info\",\"msg\":\"started\","
            "\"port\":9190,\"path\":\"/a\\\"b\",\"took\":\"1.5s\"}");
}

TEST_F(LoggingTest, LevelFiltersBelow) {
  SetLogLevel(LogLevel::kWarn);
  LogDebug("d");
  LogInfo("i");
  LogWarn("w");
  LogError("e");
  ASSERT_EQ(lines_.size(), 2u);
  EXPECT_FALSE(LogEnabled(LogLevel::kInfo));
  EXPECT_TRUE(LogEnabled(LogLevel::kError));
}

TEST_F(LoggingTest, StatusAndDoubleValues) {
  LogInfo("x",
          {{"err", absl::NotFoundError("no such pod")}, {"v", 0.25}, {"ok", absl::OkStatus()}});
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("err=\"no such pod\" v=0.25 ok=OK"), std::string::npos) << lines_[0];
}

TEST(LogParseTest, LevelsAndFormats) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("WARNING"), LogLevel::kWarn);
  EXPECT_FALSE(ParseLogLevel("loud").ok());
  EXPECT_EQ(*ParseLogFormat("json"), LogFormat::kJson);
  EXPECT_EQ(ParseLogFormat("xml").status().message(),
            "unknown log format \"xml\" (want logfmt or json)");
}

}  // namespace
}  // namespace sextant
