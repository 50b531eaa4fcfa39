// Linked into every target of a ThreadSanitizer build (SEXTANT_SANITIZE=thread) only.
//
// Debian's Abseil is built without TSan, so the synchronization absl::Mutex provides is
// invisible to it and every guarded access would be reported as a race. These definitions
// interpose the library's entry points (an executable's symbols win over a shared library's,
// for the library's own calls too), tell TSan about each acquire and release, and call the real
// functions, found with dlsym(RTLD_NEXT). Waits (Await, LockWhen, CondVar::Wait) are a release
// before and an acquire after, which is what they are to the caller.
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace {

template <typename F>
F Real(const char* mangled) {
  void* p = dlsym(RTLD_NEXT, mangled);
  if (p == nullptr) {
    std::fprintf(stderr, "tsan shim: %s not found in Abseil\n", mangled);
    std::abort();
  }
  return reinterpret_cast<F>(p);
}

constexpr unsigned kRead = __tsan_mutex_read_lock;
constexpr unsigned kTry = __tsan_mutex_try_lock;
constexpr unsigned kTryFailed = __tsan_mutex_try_lock_failed;

void Acquired(void* m, unsigned flags) {
  __tsan_mutex_pre_lock(m, flags);
  __tsan_mutex_post_lock(m, flags, 0);
}
void Released(void* m, unsigned flags) {
  __tsan_mutex_pre_unlock(m, flags);
  __tsan_mutex_post_unlock(m, flags);
}

}  // namespace

// The library's names: absl::debian3 is Debian's inline namespace.
#define SEXTANT_REAL(type, mangled) static const auto real = Real<type>(mangled)

namespace absl {
ABSL_NAMESPACE_BEGIN

void Mutex::Lock() {
  SEXTANT_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex4LockEv");
  __tsan_mutex_pre_lock(this, 0);
  real(this);
  __tsan_mutex_post_lock(this, 0, 0);
}

void Mutex::Unlock() {
  SEXTANT_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex6UnlockEv");
  __tsan_mutex_pre_unlock(this, 0);
  real(this);
  __tsan_mutex_post_unlock(this, 0);
}

void Mutex::ReaderLock() {
  SEXTANT_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex10ReaderLockEv");
  __tsan_mutex_pre_lock(this, kRead);
  real(this);
  __tsan_mutex_post_lock(this, kRead, 0);
}

void Mutex::ReaderUnlock() {
  SEXTANT_REAL(void (*)(Mutex*), "_ZN4absl7debian35Mutex12ReaderUnlockEv");
  __tsan_mutex_pre_unlock(this, kRead);
  real(this);
  __tsan_mutex_post_unlock(this, kRead);
}

bool Mutex::TryLock() {
  SEXTANT_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex7TryLockEv");
  __tsan_mutex_pre_lock(this, kTry);
  const bool ok = real(this);
  __tsan_mutex_post_lock(this, ok ? kTry : kTry | kTryFailed, 0);
  return ok;
}

bool Mutex::ReaderTryLock() {
  SEXTANT_REAL(bool (*)(Mutex*), "_ZN4absl7debian35Mutex13ReaderTryLockEv");
  __tsan_mutex_pre_lock(this, kRead | kTry);
  const bool ok = real(this);
  __tsan_mutex_post_lock(this, ok ? kRead | kTry : kRead | kTry | kTryFailed, 0);
  return ok;
}

void Mutex::LockWhen(const Condition& cond) {
  SEXTANT_REAL(void (*)(Mutex*, const Condition&),
               "_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE");
  real(this, cond);
  Acquired(this, 0);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  SEXTANT_REAL(void (*)(Mutex*, const Condition&),
               "_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE");
  real(this, cond);
  Acquired(this, kRead);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, absl::Duration timeout) {
  SEXTANT_REAL(bool (*)(Mutex*, const Condition&, absl::Duration),
               "_ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  const bool ok = real(this, cond, timeout);
  Acquired(this, 0);
  return ok;
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, absl::Time deadline) {
  SEXTANT_REAL(bool (*)(Mutex*, const Condition&, absl::Time),
               "_ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  const bool ok = real(this, cond, deadline);
  Acquired(this, 0);
  return ok;
}

void Mutex::Await(const Condition& cond) {
  SEXTANT_REAL(void (*)(Mutex*, const Condition&),
               "_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE");
  Released(this, 0);
  real(this, cond);
  Acquired(this, 0);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, absl::Duration timeout) {
  SEXTANT_REAL(bool (*)(Mutex*, const Condition&, absl::Duration),
               "_ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  Released(this, 0);
  const bool ok = real(this, cond, timeout);
  Acquired(this, 0);
  return ok;
}

bool Mutex::AwaitWithDeadline(const Condition& cond, absl::Time deadline) {
  SEXTANT_REAL(bool (*)(Mutex*, const Condition&, absl::Time),
               "_ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  Released(this, 0);
  const bool ok = real(this, cond, deadline);
  Acquired(this, 0);
  return ok;
}

void CondVar::Wait(Mutex* mu) {
  SEXTANT_REAL(void (*)(CondVar*, Mutex*), "_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE");
  Released(mu, 0);
  real(this, mu);
  Acquired(mu, 0);
}

bool CondVar::WaitWithTimeout(Mutex* mu, absl::Duration timeout) {
  SEXTANT_REAL(bool (*)(CondVar*, Mutex*, absl::Duration),
               "_ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  Released(mu, 0);
  const bool ok = real(this, mu, timeout);
  Acquired(mu, 0);
  return ok;
}

bool CondVar::WaitWithDeadline(Mutex* mu, absl::Time deadline) {
  SEXTANT_REAL(bool (*)(CondVar*, Mutex*, absl::Time),
               "_ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  Released(mu, 0);
  const bool ok = real(this, mu, deadline);
  Acquired(mu, 0);
  return ok;
}

// Notification: a release on its flag when notified, an acquire when a wait sees it set (the
// fast paths read it without the mutex). HasBeenNotified() is inline and cannot be interposed:
// code that hands data over through it alone would still be reported.
void Notification::Notify() {
  SEXTANT_REAL(void (*)(Notification*), "_ZN4absl7debian312Notification6NotifyEv");
  __tsan_release(const_cast<std::atomic<bool>*>(&notified_yet_));
  real(this);
}

void Notification::WaitForNotification() const {
  SEXTANT_REAL(void (*)(const Notification*),
               "_ZNK4absl7debian312Notification19WaitForNotificationEv");
  real(this);
  __tsan_acquire(const_cast<std::atomic<bool>*>(&notified_yet_));
}

bool Notification::WaitForNotificationWithTimeout(absl::Duration timeout) const {
  SEXTANT_REAL(bool (*)(const Notification*, absl::Duration),
               "_ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE");
  const bool notified = real(this, timeout);
  if (notified) __tsan_acquire(const_cast<std::atomic<bool>*>(&notified_yet_));
  return notified;
}

bool Notification::WaitForNotificationWithDeadline(absl::Time deadline) const {
  SEXTANT_REAL(bool (*)(const Notification*, absl::Time),
               "_ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE");
  const bool notified = real(this, deadline);
  if (notified) __tsan_acquire(const_cast<std::atomic<bool>*>(&notified_yet_));
  return notified;
}

ABSL_NAMESPACE_END
}  // namespace absl
