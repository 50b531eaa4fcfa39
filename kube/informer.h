// Informer: a local, thread-safe cache of one resource's objects kept current by a Reflector
// (list, then watch), with add/update/delete callbacks. After a relist it reports the objects
// that vanished while the watch was down as synthetic deletes.
//
//   Informer pods(client, PodsResource(), {}, RealClock::Get(),
//                 {.on_add = [](const CachedObject& o) { ... }});
//   pods.Start();
//   ... if (pods.HasSynced()) for (auto& o : pods.List()) ...
//   pods.Stop();
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "kube/client.h"
#include "kube/objects.h"
#include "kube/watch.h"

namespace sextant::kube {

// One cached object: its key ("namespace/name"), metadata and JSON text. Immutable once cached
// and shared by pointer, so readers keep a consistent snapshot without locks.
struct CachedObject {
  std::string key;
  ObjectMeta metadata;
  std::string json;
};

// Informer callbacks, called on the informer's thread (or the thread calling Replace/Apply) in
// event order, with no lock held: they may read the informer.
struct InformerHandlers {
  std::function<void(const CachedObject& object)> on_add;
  std::function<void(const CachedObject& old_object, const CachedObject& new_object)> on_update;
  // For deletes seen on the watch (the object is the final state the server sent) and for
  // objects gone from a relist (synthetic deletes: the last state the cache held).
  std::function<void(const CachedObject& object)> on_delete;
};

// Informer's settings. A value type.
struct InformerOptions {
  ReflectorOptions reflector;  // selectors, page size, watch timeout, backoff
};

// The cache and the thread that fills it. Owned by its user; `client` and `clock` must outlive
// it. Start() and Stop() are for the owner; every other method is thread-safe.
class Informer {
 public:
  Informer(KubeClient& client, ResourceRef ref, InformerOptions options, Clock& clock,
           InformerHandlers handlers = {});
  ~Informer();  // Stops.
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Starts the thread running the reflector. Calling it again, or after Stop(), does nothing.
  void Start();
  // Stops the reflector and joins the thread; the open watch notices within about a second (see
  // Reflector::Stop). Idempotent.
  void Stop();

  // True once a first list has been applied.
  bool HasSynced() const;
  // The cached object under `key` ("namespace/name", or "name" when cluster-scoped), or null.
  std::shared_ptr<const CachedObject> Get(absl::string_view key) const;
  // Every cached object, ordered by key.
  std::vector<std::shared_ptr<const CachedObject>> List() const;
  size_t size() const;

  // The tick functions, public so tests can drive the cache without the thread.
  //
  // Replaces the cache with a full list: on_add for new keys, on_update for keys whose
  // resourceVersion changed, on_delete for keys no longer listed; marks the cache synced.
  // InvalidArgument for items whose metadata cannot be read (they are skipped; the rest apply).
  absl::Status Replace(const ObjectList& list);
  // Applies one watch event (ADDED, MODIFIED, DELETED; others are ignored). InvalidArgument
  // when the object's metadata cannot be read.
  absl::Status Apply(const WatchEvent& event);
  // One reflector step on the calling thread (list or one watch); see Reflector::Step.
  absl::Status SyncOnce() { return reflector_.Step(); }

  const Reflector& reflector() const { return reflector_; }

 private:
  const InformerHandlers handlers_;
  Reflector reflector_;

  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const CachedObject>, std::less<>> cache_
      ABSL_GUARDED_BY(mu_);
  bool synced_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex thread_mu_;
  std::thread thread_ ABSL_GUARDED_BY(thread_mu_);
};

// The cached object under `key` parsed by `parse` (ParsePod, ParseNode, ...): NotFound when
// absent, else whatever `parse` returns.
template <typename T>
absl::StatusOr<T> GetTyped(const Informer& informer, absl::string_view key,
                           absl::StatusOr<T> (*parse)(absl::string_view)) {
  std::shared_ptr<const CachedObject> o = informer.Get(key);
  if (o == nullptr) return absl::NotFoundError(std::string(key) + " is not in the cache");
  return parse(o->json);
}

}  // namespace sextant::kube
