#include "common/clock.h"

#include "gtest/gtest.h"

namespace sextant {
namespace {

TEST(SimulatedClockTest, SleepAdvancesTimeAtOnceAndIsRecorded) {
  SimulatedClock clock(absl::FromUnixSeconds(100));
  clock.SleepFor(absl::Seconds(3));
  clock.SleepFor(absl::Milliseconds(500));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100) + absl::Milliseconds(3500));
  EXPECT_EQ(clock.total_slept(), absl::Milliseconds(3500));
  EXPECT_EQ(clock.sleep_count(), 2);
}

TEST(SimulatedClockTest, WaitForReturnsAtOnceWhenStopped) {
  SimulatedClock clock(absl::FromUnixSeconds(100));
  absl::Notification stop;
  EXPECT_FALSE(clock.WaitFor(stop, absl::Seconds(5)));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(105));
  stop.Notify();
  EXPECT_TRUE(clock.WaitFor(stop, absl::Seconds(5)));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(105));
}

TEST(SimulatedClockTest, AdvanceAndSetTime) {
  SimulatedClock clock(absl::FromUnixSeconds(0));
  clock.Advance(absl::Minutes(1));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(60));
  clock.SetTime(absl::FromUnixSeconds(7));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(7));
}

TEST(RealClockTest, WaitForReturnsWhenNotified) {
  absl::Notification stop;
  stop.Notify();
  EXPECT_TRUE(RealClock::Get().WaitFor(stop, absl::Hours(1)));
  EXPECT_GT(RealClock::Get().Now(), absl::FromUnixSeconds(1'600'000'000));
}

}  // namespace
}  // namespace sextant
