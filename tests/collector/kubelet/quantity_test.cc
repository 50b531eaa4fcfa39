#include "collector/kubelet/quantity.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::collector {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

struct Case {
  const char* text;
  int64_t value;  // Value(): rounded up, away from zero
  int64_t milli;  // MilliValue()
};

TEST(QuantityTest, ParsesAndRoundsAsKubernetes) {
  const Case cases[] = {
      {"0", 0, 0},
      {"100m", 1, 100},
      {"250m", 1, 250},
      {"1", 1, 1000},
      {"0.5", 1, 500},
      {"1.5", 2, 1500},
      {"1.0001", 2, 1001},
      {".5", 1, 500},
      {"1.", 1, 1000},
      {"+1", 1, 1000},
      {"0001", 1, 1000},
      {"0.000", 0, 0},
      {"-0", 0, 0},
      {"-1", -1, -1000},
      {"-100m", -1, -100},
      {"100u", 1, 1},
      {"1n", 1, 1},
      {"1500n", 1, 1},
      {"2k", 2000, 2000000},
      {"1M", 1000000, 1000000000},
      {"400M", 400000000, 400000000000},
      {"1G", 1000000000, 1000000000000},
      {"1T", 1000000000000, 1000000000000000},
      {"1P", 1000000000000000, 1000000000000000000},
      {"1E", 1000000000000000000, kMax},
      {"1Ki", 1024, 1024000},
      {"512Mi", 536870912, 536870912000},
      {"1Gi", 1073741824, 1073741824000},
      {"1.5Gi", 1610612736, 1610612736000},
      {"0.1Ki", 103, 102400},  // 102.4
      {"1Ti", 1099511627776, 1099511627776000},
      {"1Pi", 1125899906842624, 1125899906842624000},
      {"1Ei", 1152921504606846976, kMax},
      {"8Ei", kMax, kMax},
      {"1e3", 1000, 1000000},
      {"1E3", 1000, 1000000},
      {"1e+3", 1000, 1000000},
      {"5e-2", 1, 50},
      {"1.5e1", 15, 15000},
      {"1e-1000", 1, 1},
      {"1e1000", kMax, kMax},
      {"-1e1000", kMin, kMin},
      {"9223372036854775807", kMax, kMax},
      {"9223372036854775808", kMax, kMax},
      {"-9223372036854775808", kMin, kMin},
      {"-9223372036854775809", kMin, kMin},
      {"123456789012345678901234567890e-20", 1234567891, 1234567890124},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<Quantity> q = ParseQuantity(c.text);
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->Value(), c.value);
    EXPECT_EQ(q->MilliValue(), c.milli);
  }
}

TEST(QuantityTest, ScaledValueDividesByPowersOfTen) {
  absl::StatusOr<Quantity> q = ParseQuantity("1.5Gi");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->ScaledValue(3), 1610613);  // 1610612.736 rounded up
  EXPECT_EQ(q->ScaledValue(-6), 1610612736000000);
  EXPECT_EQ(q->ScaledValue(30), 1);  // any non-zero remainder rounds up
}

TEST(QuantityTest, RejectsMalformedText) {
  for (const std::string& text : std::vector<std::string>{"",
                                                          "m",
                                                          "-",
                                                          ".",
                                                          "+.",
                                                          "1 ",
                                                          " 1",
                                                          "1K",
                                                          "1ki",
                                                          "1mi",
                                                          "1Mx",
                                                          "1e",
                                                          "1e+",
                                                          "1ee",
                                                          "1e3.5",
                                                          "1.2.3",
                                                          "--1",
                                                          "+-1",
                                                          "abc",
                                                          "0x10",
                                                          "1,5",
                                                          "1e99999999999",
                                                          "1e2147483648",
                                                          "Ki",
                                                          "1Gi1",
                                                          std::string(300, '1'),
                                                          std::string("1\0", 2)}) {
    SCOPED_TRACE(text);
    absl::StatusOr<Quantity> q = ParseQuantity(text);
    ASSERT_FALSE(q.ok());
    EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(q.status().message(), ::testing::HasSubstr("bad quantity"));
  }
}

TEST(QuantityTest, AcceptsExponentAtInt32Limits) {
  EXPECT_TRUE(ParseQuantity("1e2147483647").ok());
  EXPECT_TRUE(ParseQuantity("1e-2147483648").ok());
  EXPECT_EQ(ParseQuantity("0e2147483647")->Value(), 0);
}

}  // namespace
}  // namespace sextant::collector
