#include "kube/leader_election.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace sextant::kube {
namespace {

// Whether two records are the same claim: holder, duration, times and transitions (what
// client-go compares to decide whether the holder is still renewing).
bool SameRecord(const Lease& a, const Lease& b) {
  return a.holder_identity == b.holder_identity &&
         a.lease_duration_seconds == b.lease_duration_seconds && a.acquire_time == b.acquire_time &&
         a.renew_time == b.renew_time && a.lease_transitions == b.lease_transitions &&
         a.metadata.resource_version == b.metadata.resource_version;
}

}  // namespace

absl::StatusOr<std::unique_ptr<LeaderElector>> LeaderElector::Create(
    KubeClient& client, Clock& clock, LeaderElectionOptions options) {
  if (options.lease_namespace.empty() || options.lease_name.empty() || options.identity.empty()) {
    return absl::InvalidArgumentError(
        "leader election needs a lease namespace, a lease name and an identity");
  }
  if (!(options.retry_period > absl::ZeroDuration() &&
        options.renew_deadline > options.retry_period &&
        options.lease_duration > options.renew_deadline)) {
    return absl::InvalidArgumentError(
        absl::StrCat("leader election needs leaseDuration > renewDeadline > retryPeriod > 0, got ",
                     absl::FormatDuration(options.lease_duration), ", ",
                     absl::FormatDuration(options.renew_deadline), ", ",
                     absl::FormatDuration(options.retry_period)));
  }
  return std::unique_ptr<LeaderElector>(new LeaderElector(client, clock, std::move(options)));
}

LeaderElector::LeaderElector(KubeClient& client, Clock& clock, LeaderElectionOptions options)
    : client_(client), clock_(clock), options_(std::move(options)) {}

LeaderElector::~LeaderElector() { Stop(); }

bool LeaderElector::IsLeader() const {
  if (!leader_.load()) return false;
  // A renewal stuck in a slow API call must not outlive the renew deadline: past it, others may
  // soon take the Lease, so this candidate no longer counts itself leader even before Tick()
  // returns and steps down.
  absl::MutexLock lock(&mu_);
  return clock_.Now() - last_renewed_ < options_.renew_deadline;
}

std::string LeaderElector::observed_leader() const {
  absl::MutexLock lock(&mu_);
  return observed_leader_;
}

void LeaderElector::SetLeader(bool leader, Pending& pending) {
  if (leader == leader_.load()) return;
  leader_.store(leader);
  LogInfo(leader ? "started leading" : "stopped leading",
          {{"lease", absl::StrCat(options_.lease_namespace, "/", options_.lease_name)},
           {"identity", options_.identity}});
  if (leader && options_.on_started_leading) pending.push_back(options_.on_started_leading);
  if (!leader && options_.on_stopped_leading) pending.push_back(options_.on_stopped_leading);
}

void LeaderElector::Observe(const Lease& lease, absl::Time now, Pending& pending) {
  if (!observed_.has_value() || !SameRecord(*observed_, lease)) {
    observed_ = lease;
    // When the record was seen, on our clock: after the call that brought it returned, as
    // client-go does (a slow answer must not shorten the wait of a candidate).
    observed_at_ = std::max(now, clock_.Now());
  }
  absl::MutexLock lock(&mu_);
  if (lease.holder_identity != observed_leader_) {
    observed_leader_ = lease.holder_identity;
    if (options_.on_new_leader) {
      pending.push_back([cb = options_.on_new_leader, who = observed_leader_] { cb(who); });
    }
  }
}

absl::Status LeaderElector::TryAcquireOrRenew(absl::Time now, Pending& pending) {
  const int32_t duration_s = static_cast<int32_t>(
      absl::ToInt64Seconds(absl::Ceil(options_.lease_duration, absl::Seconds(1))));
  absl::StatusOr<Lease> current = client_.GetLease(options_.lease_namespace, options_.lease_name);
  if (current.status().code() == absl::StatusCode::kNotFound) {
    Lease fresh;
    fresh.metadata.name = options_.lease_name;
    fresh.metadata.namespace_name = options_.lease_namespace;
    fresh.holder_identity = options_.identity;
    fresh.lease_duration_seconds = duration_s;
    fresh.acquire_time = now;
    fresh.renew_time = now;
    fresh.lease_transitions = 0;
    SEXTANT_ASSIGN_OR_RETURN(Lease created, client_.CreateLease(fresh));
    Observe(created, now, pending);
    return absl::OkStatus();
  }
  if (!current.ok()) return current.status();
  Observe(*current, now, pending);

  const std::string& holder = current->holder_identity;
  const bool held_by_other = !holder.empty() && holder != options_.identity;
  // Another holder's claim lasts its duration from when we last saw the record change.
  const absl::Duration their_duration = current->lease_duration_seconds.has_value()
                                            ? absl::Seconds(*current->lease_duration_seconds)
                                            : options_.lease_duration;
  if (held_by_other && observed_at_ + their_duration > now) {
    return absl::FailedPreconditionError(
        absl::StrCat("lease held by ", holder, " and not expired"));
  }
  Lease next = *current;
  next.holder_identity = options_.identity;
  next.lease_duration_seconds = duration_s;
  next.renew_time = now;
  if (holder != options_.identity) {
    next.acquire_time = now;
    next.lease_transitions = current->lease_transitions + 1;
  }
  SEXTANT_ASSIGN_OR_RETURN(Lease updated, client_.UpdateLease(next));
  Observe(updated, now, pending);
  return absl::OkStatus();
}

absl::Status LeaderElector::Tick(absl::Time now) {
  Pending pending;
  absl::Status s;
  {
    s = TryAcquireOrRenew(now, pending);
    if (s.ok()) {
      absl::MutexLock lock(&mu_);
      last_renewed_ = now;  // the round's start: renewals count from before the write
      SetLeader(true, pending);
    } else if (leader_.load()) {
      // Another candidate holds it now (we were gone too long), or we could not renew in time.
      const bool taken = observed_.has_value() && !observed_->holder_identity.empty() &&
                         observed_->holder_identity != options_.identity;
      absl::Time renewed;
      {
        absl::MutexLock lock(&mu_);
        renewed = last_renewed_;
      }
      if (taken || now - renewed >= options_.renew_deadline) {
        LogWarn("leader election: lost the lease",
                {{"identity", options_.identity}, {"err", s}, {"taken", taken}});
        SetLeader(false, pending);
      }
    }
  }
  for (const auto& f : pending) f();
  return s;
}

absl::Status LeaderElector::Release(absl::Time now) {
  Pending pending;
  absl::Status result = absl::OkStatus();
  {
    // Also after stepping down: the Lease may still name us, and clearing it spares the others
    // the wait for it to expire.
    if (observed_.has_value() && observed_->holder_identity == options_.identity) {
      Lease released = *observed_;
      released.holder_identity = "";
      released.lease_duration_seconds = 1;
      released.renew_time = now;
      absl::StatusOr<Lease> updated = client_.UpdateLease(released);
      if (updated.ok()) {
        Observe(*updated, now, pending);
      } else {
        result = Annotate(updated.status(), "release lease: ");
      }
    }
    SetLeader(false, pending);
  }
  for (const auto& f : pending) f();
  return result;
}

void LeaderElector::Start() {
  thread_ = std::thread([this] {
    do {
      if (absl::Status s = Tick(clock_.Now()); !s.ok() && IsLeader()) {
        LogWarn("leader election: renew failed", {{"identity", options_.identity}, {"err", s}});
      }
    } while (!clock_.WaitFor(stop_, options_.retry_period));
  });
}

void LeaderElector::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
  if (absl::Status s = Release(clock_.Now()); !s.ok()) {
    LogWarn("leader election: release failed", {{"identity", options_.identity}, {"err", s}});
  }
}

}  // namespace sextant::kube
