// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: a candidate
// takes the Lease only after it has seen the same holder record unchanged for a whole lease
// duration on its own clock (so clocks across nodes need not agree), every write is an optimistic
// update carrying the resourceVersion, a leader that cannot renew within the renew deadline steps
// down, and a clean shutdown releases the Lease so another candidate takes over at once.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "kube/client.h"
#include "kube/objects.h"

namespace sextant::kube {

struct LeaderElectionOptions {
  std::string lease_namespace;  // required
  std::string lease_name;       // required, e.g. "sextant-server"
  std::string identity;         // required and unique per candidate, e.g. the pod name
  // How long a holder's claim lasts after its last renewal, as seen by the others. Default 15 s.
  absl::Duration lease_duration = absl::Seconds(15);
  // How long a leader keeps trying to renew before it steps down. Default 10 s.
  absl::Duration renew_deadline = absl::Seconds(10);
  // Time between attempts to acquire or renew. Default 2 s.
  absl::Duration retry_period = absl::Seconds(2);
  // Called on the elector's thread (or the caller of Tick) when this candidate starts or stops
  // leading, and when the observed leader changes (with its identity, "" for none).
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& leader)> on_new_leader;
};

// One candidate. Tick() is the whole algorithm for one step at a given time; Start() runs it
// every retry_period on its own thread through the Clock until Stop(), which releases the Lease
// if this candidate holds it. Owned by its creator; the client and clock must outlive it.
// IsLeader() and observed_leader() may be called from any thread; Tick() and Release() from one
// thread at a time (the elector's own thread once Start() has run), and no lock is held across
// their API calls.
class LeaderElector {
 public:
  // InvalidArgument for missing names or durations that do not satisfy
  // lease_duration > renew_deadline > retry_period > 0.
  static absl::StatusOr<std::unique_ptr<LeaderElector>> Create(KubeClient& client, Clock& clock,
                                                               LeaderElectionOptions options);
  ~LeaderElector();

  // One attempt at `now` to acquire or renew the Lease; updates leadership and fires the
  // callbacks. Returns the error of the attempt (NotFound never: a missing Lease is created;
  // Aborted when another candidate wrote first), which the loop only logs.
  absl::Status Tick(absl::Time now);

  // Gives the Lease up if this candidate holds it (holder cleared, so others need not wait for
  // it to expire) and stops leading. Errors of the update are returned; leadership ends anyway.
  absl::Status Release(absl::Time now);

  // True while this candidate holds the Lease and its last successful renewal is younger than
  // the renew deadline (checked on the clock, so a renewal stuck in a slow call does not count).
  bool IsLeader() const;
  // The holder last observed ("" when none or unknown).
  std::string observed_leader() const;

  void Start();
  // Stops the loop and releases the Lease. Idempotent.
  void Stop();

 private:
  LeaderElector(KubeClient& client, Clock& clock, LeaderElectionOptions options);
  // Callbacks due, collected under the lock and run after it is released (a callback may call
  // IsLeader()).
  using Pending = std::vector<std::function<void()>>;
  absl::Status TryAcquireOrRenew(absl::Time now, Pending& pending);
  void Observe(const Lease& lease, absl::Time now, Pending& pending);
  void SetLeader(bool leader, Pending& pending);

  KubeClient& client_;
  Clock& clock_;
  const LeaderElectionOptions options_;

  // Written only by Tick/Release (one thread at a time); read from any thread.
  std::atomic<bool> leader_{false};
  mutable absl::Mutex mu_;
  std::string observed_leader_ ABSL_GUARDED_BY(mu_);
  // The algorithm's state, touched only by Tick/Release: the record last read or written, when
  // (on our clock) it last changed, and our last successful acquire or renew.
  std::optional<Lease> observed_;
  absl::Time observed_at_ = absl::InfinitePast();
  absl::Time last_renewed_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();

  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace sextant::kube
