#include "common/clock.h"

namespace sextant {

RealClock& RealClock::Get() {
  static RealClock* clock = new RealClock();
  return *clock;
}

absl::Time RealClock::Now() { return absl::Now(); }

void RealClock::SleepFor(absl::Duration d) { absl::SleepFor(d); }

bool RealClock::WaitFor(absl::Notification& stop, absl::Duration d) {
  return stop.WaitForNotificationWithTimeout(d);
}

SimulatedClock::SimulatedClock(absl::Time start) : now_(start) {}

absl::Time SimulatedClock::Now() {
  absl::MutexLock lock(&mu_);
  return now_;
}

void SimulatedClock::SleepFor(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  if (d > absl::ZeroDuration()) now_ += d;
  slept_ += d;
  ++sleeps_;
}

bool SimulatedClock::WaitFor(absl::Notification& stop, absl::Duration d) {
  if (stop.HasBeenNotified()) return true;
  SleepFor(d);
  return stop.HasBeenNotified();
}

void SimulatedClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
}

void SimulatedClock::SetTime(absl::Time t) {
  absl::MutexLock lock(&mu_);
  now_ = t;
}

absl::Duration SimulatedClock::total_slept() const {
  absl::MutexLock lock(&mu_);
  return slept_;
}

int SimulatedClock::sleep_count() const {
  absl::MutexLock lock(&mu_);
  return sleeps_;
}

}  // namespace sextant
