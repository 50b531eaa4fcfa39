// Time as a dependency: components take a Clock& so tests drive time without sleeping.
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace sextant {

// The source of "now" and of waiting. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
  // Blocks for `d` (a simulated clock advances instead).
  virtual void SleepFor(absl::Duration d) = 0;
  // Waits until `stop` is notified or `d` has passed; returns true if `stop` was notified.
  // Loops use this so that Stop() wakes them at once.
  virtual bool WaitFor(absl::Notification& stop, absl::Duration d) = 0;
};

// The system clock. Stateless and thread-safe; Get() returns a process-wide instance.
class RealClock final : public Clock {
 public:
  static RealClock& Get();
  absl::Time Now() override;
  void SleepFor(absl::Duration d) override;
  bool WaitFor(absl::Notification& stop, absl::Duration d) override;
};

// A clock that moves only when told. SleepFor and WaitFor advance the time by the full duration
// at once (unless `stop` is already notified) and record the sleep, so code that backs off or
// waits runs instantly and deterministically in tests. Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000));
  absl::Time Now() override;
  void SleepFor(absl::Duration d) override;
  bool WaitFor(absl::Notification& stop, absl::Duration d) override;

  void Advance(absl::Duration d);
  void SetTime(absl::Time t);
  // Total time spent in SleepFor/WaitFor so far, and how many calls made it.
  absl::Duration total_slept() const;
  int sleep_count() const;

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  absl::Duration slept_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  int sleeps_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sextant
