#include "common/units.h"

#include "gtest/gtest.h"

namespace sextant {
namespace {

TEST(ParseDurationTest, AcceptsPrometheusForms) {
  EXPECT_EQ(*ParsePromDuration("0"), absl::ZeroDuration());
  EXPECT_EQ(*ParsePromDuration("15s"), absl::Seconds(15));
  EXPECT_EQ(*ParsePromDuration("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParsePromDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParsePromDuration("15d"), absl::Hours(24 * 15));
  EXPECT_EQ(*ParsePromDuration("2w"), absl::Hours(24 * 14));
  EXPECT_EQ(*ParsePromDuration("1y"), absl::Hours(24 * 365));
  EXPECT_EQ(*ParsePromDuration("1d2h3m4s5ms"),
            absl::Hours(26) + absl::Minutes(3) + absl::Seconds(4) + absl::Milliseconds(5));
}

TEST(ParseDurationTest, RejectsBadForms) {
  for (const char* bad : {"", "5", "s", "1.5s", "-1s", "5x", "1m1h", "1s1s", " 1s", "1s ",
                          "99999999999999999999y", "1S"}) {
    EXPECT_FALSE(ParsePromDuration(bad).ok()) << bad;
  }
  EXPECT_EQ(ParsePromDuration("5x").status().message(),
            "not a valid duration string: \"5x\" (want e.g. 15s, 1h30m, 15d)");
}

TEST(FormatDurationTest, InvertsParse) {
  for (const char* s : {"15s", "1h30m", "2w1d", "1y", "1w", "500ms", "1d2h3m4s5ms"}) {
    EXPECT_EQ(FormatPromDuration(*ParsePromDuration(s)), s);
  }
  // As Prometheus's model.Duration prints it: weeks are a unit.
  EXPECT_EQ(FormatPromDuration(*ParsePromDuration("15d")), "2w1d");
  EXPECT_EQ(FormatPromDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(FormatPromDuration(-absl::Seconds(3)), "-3s");
}

TEST(ParseBytesTest, AcceptsBase2Units) {
  EXPECT_EQ(*ParseBytes("512"), 512);
  EXPECT_EQ(*ParseBytes("512B"), 512);
  EXPECT_EQ(*ParseBytes("8KiB"), 8192);
  EXPECT_EQ(*ParseBytes("8KB"), 8192);
  EXPECT_EQ(*ParseBytes("64MiB"), 64 << 20);
  EXPECT_EQ(*ParseBytes("1GiB"), 1 << 30);
  EXPECT_EQ(*ParseBytes("2TiB"), int64_t{2} << 40);
  for (const char* bad : {"", "MiB", "1.5MiB", "1 MiB", "1mib", "-1", "99999999PiB"}) {
    EXPECT_FALSE(ParseBytes(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatBytes(64 << 20), "64MiB");
  EXPECT_EQ(FormatBytes(1000), "1000B");
  EXPECT_EQ(FormatBytes(0), "0B");
}

}  // namespace
}  // namespace sextant
