// Watching the Kubernetes API: the newline-delimited JSON event stream of a `?watch=true` GET,
// decoded as bytes arrive (WatchDecoder, Watch), and Reflector, the list-then-watch loop that
// keeps a consumer in step with the server (relisting after 410 Gone, reconnecting with backoff).
//
//   Reflector reflector(client, PodsResource("default"), {}, RealClock::Get(),
//                       {.on_list = ..., .on_event = ...});
//   std::thread t([&] { reflector.Run(); });
//   ...
//   reflector.Stop();
//   t.join();
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "kube/client.h"
#include "kube/errors.h"
#include "kube/objects.h"

namespace sextant::kube {

// One event of a watch stream. A value type.
struct WatchEvent {
  std::string type;              // "ADDED", "MODIFIED", "DELETED", "BOOKMARK"
  std::string object;            // the object's JSON text
  std::string resource_version;  // the object's metadata.resourceVersion
};

// Splits a watch stream into events, whatever the chunking: an event may span chunks and a chunk
// may hold several. Owned by one watch; not thread-safe.
class WatchDecoder {
 public:
  // `request` names the watch in error messages.
  explicit WatchDecoder(RequestInfo request) : request_(std::move(request)) {}

  // Appends `chunk` and appends each complete event to `events`. Errors (the events before the
  // error are still appended): an ERROR event becomes the Status its code maps to (OutOfRange
  // for 410: the resourceVersion is too old, relist); InvalidArgument for a line that is not a
  // watch event.
  absl::Status Feed(absl::string_view chunk, std::vector<WatchEvent>* events);
  // Decodes what is left once the stream has ended (a last line without a newline).
  absl::Status Finish(std::vector<WatchEvent>* events);

  // The resourceVersion of the last event (bookmarks included); "" before any.
  const std::string& resource_version() const { return resource_version_; }

 private:
  absl::Status DecodeLine(absl::string_view line, std::vector<WatchEvent>* events);

  const RequestInfo request_;
  std::string buffer_;  // bytes after the last newline
  std::string resource_version_;
};

// Query parameters of a watch. A value type.
struct WatchOptions {
  std::string resource_version;  // start after this version; "" = from the current state
  std::string label_selector;
  std::string field_selector;
  // The server ends the watch after this long (timeoutSeconds); the request itself may last a
  // minute longer before the client gives up. Default 5 min.
  absl::Duration timeout = absl::Minutes(5);
  bool allow_bookmarks = true;  // allowWatchBookmarks=true. Default true.
  // Polled while the watch is open (about once a second): true ends it with Cancelled.
  // Default unset.
  std::function<bool()> cancelled;
};

// How one watch ended. A value type.
struct WatchResult {
  std::string resource_version;  // of the last event received, or the one the watch began at
  int events = 0;                // events received, bookmarks included
  bool stopped = false;          // `on_event` returned false
};

// Runs one watch request on `ref` (a collection) until the server ends it, `on_event` returns
// false, or an error. `on_event` sees every event, bookmarks included, on the calling thread.
// Errors: OutOfRange when the server answers 410 or sends an ERROR event with code 410 (relist);
// others as StatusFromHttp and the HTTP client give them; InvalidArgument for a malformed stream.
absl::StatusOr<WatchResult> Watch(KubeClient& client, const ResourceRef& ref,
                                  const WatchOptions& options,
                                  const std::function<bool(const WatchEvent&)>& on_event);

// Reflector's settings. A value type.
struct ReflectorOptions {
  std::string label_selector;  // default none
  std::string field_selector;  // default none
  int64_t page_size = 500;     // list page size (limit); 0 = unpaged. Default 500.
  absl::Duration watch_timeout = absl::Minutes(5);    // per watch request. Default 5 min.
  absl::Duration initial_backoff = absl::Seconds(1);  // after the first failure. Default 1 s.
  absl::Duration max_backoff = absl::Seconds(30);     // cap of the doubling. Default 30 s.
  // Each backoff is scaled by a random factor in [1 - jitter, 1 + jitter] (then capped).
  // Default 0.2.
  double jitter = 0.2;
};

// What a Reflector feeds. Both are called on the reflector's thread, never at once.
struct ReflectorCallbacks {
  // The complete current state (every page joined), after each (re)list.
  std::function<void(const ObjectList& list)> on_list;
  // ADDED, MODIFIED and DELETED events (bookmarks only move the resourceVersion).
  std::function<void(const WatchEvent& event)> on_event;
};

// Lists `ref`, then watches from the list's resourceVersion, relisting when the server says the
// version is gone (410) and reconnecting with capped exponential backoff after other errors.
// Owned by its user; `client` and `clock` must outlive it. Step() and Run() are for one thread;
// Stop() and resource_version() may be called from any thread.
class Reflector {
 public:
  Reflector(KubeClient& client, ResourceRef ref, ReflectorOptions options, Clock& clock,
            ReflectorCallbacks callbacks);
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  // One step: a full list on the first step and after OutOfRange, else one watch from the
  // resourceVersion held. Returns the step's error: OutOfRange means the next step relists; others
  // keep the resourceVersion (the next step watches again). Cancelled once stopping.
  absl::Status Step();

  // Steps until Stop(), waiting on the clock between failed steps: initial_backoff doubling to
  // max_backoff, reset after a step that succeeds; a watch that ends cleanly without any event
  // waits initial_backoff too (no busy loop against a server that closes at once).
  void Run();

  // Makes Run() return: at once when it is waiting between steps, else within about a second
  // (the open watch polls for it and ends). Idempotent.
  void Stop();
  bool stopping() const { return stop_.HasBeenNotified(); }

  // The resourceVersion the next watch starts from; "" before the first list and after
  // OutOfRange (the next step lists).
  std::string resource_version() const;
  // Steps that failed in a row (the backoff exponent).
  int consecutive_failures() const;

 private:
  absl::Status List();
  absl::Status WatchOnce(bool* empty);
  // Step(), telling whether it listed and whether a watch ended without any event.
  absl::Status StepInternal(bool* listed, bool* empty);

  KubeClient& client_;
  const ResourceRef ref_;
  const ReflectorOptions options_;
  Clock& clock_;
  const ReflectorCallbacks callbacks_;
  absl::Notification stop_;
  absl::BitGen rng_;  // Run()'s thread only

  mutable absl::Mutex mu_;
  std::string resource_version_ ABSL_GUARDED_BY(mu_);
  bool need_list_ ABSL_GUARDED_BY(mu_) = true;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace sextant::kube
