// A fake Kubernetes API server for tests: an in-process server on loopback (HTTP or HTTPS) that
// stores objects as JSON and keeps the API's semantics (resourceVersion, 409 on stale writes,
// merge patch, selectors, watches with bookmarks and 410 expiry, the scale and status
// subresources, pod logs, discovery for kubectl), with bearer-token auth, a permission table and
// fault injection.
//
//   FakeApiServerOptions opts;
//   opts.allow_anonymous = true;
//   SEXTANT_ASSIGN_OR_RETURN(auto api, FakeApiServer::Create(opts));
//   SEXTANT_RETURN_IF_ERROR(api->Start());
//   api->PutObject(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"web"}})");
//   ... point a client at api->url() ...
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/http_server.h"

namespace sextant::fakes {

// FakeApiServer's settings. A value type; not thread-safe (concurrent const use is fine).
struct FakeApiServerOptions {
  // "HOST:PORT" to listen on. Default 127.0.0.1:0 (a free port).
  std::string listen = "127.0.0.1:0";
  // Serve HTTPS with tls_cert_file/tls_key_file (PEM files; the cert is required then, the key
  // defaults to it). Default false, no files; tests use tests/testdata/tls/server{,-key}.pem.
  bool tls = false;
  std::string tls_cert_file;
  std::string tls_key_file;
  // When set, clients must present a certificate signed by this CA. Default none.
  std::string tls_client_ca_file;
  // Requests without an Authorization header are served as user "system:anonymous" with full
  // access. Default false (they get 401).
  bool allow_anonymous = false;
  // Watch events kept for replay; a watch from a resourceVersion older than the oldest kept event
  // gets an ERROR event with a 410 Status. Default 1000.
  int watch_history = 1000;
  // How often watches that asked for bookmarks get one. Default 1 min (as the real server).
  absl::Duration bookmark_interval = absl::Minutes(1);
  // Longest watch when the client sets no timeoutSeconds. Default 30 min.
  absl::Duration max_watch_timeout = absl::Minutes(30);
};

// One entry of a token's permission table; "*" in a field matches anything.
struct FakeApiPermission {
  std::string verb;        // get, list, watch, create, update, patch, delete
  std::string group;       // "" for the core group, "apps", ...
  std::string resource;    // "pods", "deployments/scale", "pods/log"
  std::string namespace_;  // "" for cluster-scoped requests
};

// One request as the fake saw it.
struct FakeApiRequestLogEntry {
  std::string method;
  std::string path;
  std::string query;
  std::string token;  // the bearer token, "" when none was sent
};

// The fake server. Owned by the caller of Create(); `clock` (timestamps; injected latency sleeps
// on it) must outlive it. Thread-safe: every method may be called from any thread, also from a
// client's streaming callback while a watch is open.
class FakeApiServer {
 public:
  // InvalidArgument when TLS is on without certificate files.
  static absl::StatusOr<std::unique_ptr<FakeApiServer>> Create(const FakeApiServerOptions& options,
                                                               Clock& clock = RealClock::Get());
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  // Binds and serves; errors as HttpServer::Start().
  absl::Status Start();
  // Ends open watches and stops serving. Idempotent.
  void Stop();
  // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT" once started.
  std::string url() const;

  // --- Test-facing store access (no auth, no faults). ---
  // Creates or replaces the object described by `json` (its apiVersion and kind pick the
  // resource). Fills uid, creationTimestamp, generation and a new resourceVersion as a create or
  // update would, and notifies watches. Returns the stored object. InvalidArgument for bad JSON
  // or an unknown kind.
  absl::StatusOr<std::string> PutObject(absl::string_view json);
  // The stored object; `group_version` is "v1", "apps/v1", ... NotFound when absent.
  absl::StatusOr<std::string> GetObject(absl::string_view group_version, absl::string_view resource,
                                        absl::string_view namespace_, absl::string_view name) const;
  // Deletes the object and notifies watches. NotFound when absent.
  absl::Status DeleteObject(absl::string_view group_version, absl::string_view resource,
                            absl::string_view namespace_, absl::string_view name);
  // The current (latest) resourceVersion.
  int64_t resource_version() const;
  // The logs that /log returns for a pod's container (`container` "" means any container).
  void SetPodLogs(absl::string_view namespace_, absl::string_view pod, absl::string_view container,
                  absl::string_view current, absl::string_view previous = "");

  // --- Auth. ---
  // Accepts `token` as user `user`, with full access until SetPermissions restricts it.
  void AddToken(absl::string_view token, absl::string_view user);
  void RemoveToken(absl::string_view token);
  // Restricts `token` to these permissions (403 for anything else).
  void SetPermissions(absl::string_view token, std::vector<FakeApiPermission> permissions);

  // --- Fault injection. ---
  // Each request waits this long on the clock before being served. Zero disables.
  void SetLatency(absl::Duration latency);
  // The next `n` requests answer `code` (5xx) with a Status body.
  void FailNextRequests(int n, int code = 500);
  // The next `n` requests answer 429 with Retry-After: `retry_after_seconds`.
  void ThrottleNextRequests(int n, int retry_after_seconds = 1);
  // Ends every open watch stream now.
  void DropWatches();
  // The next `n` writes (create, update, patch, delete) answer 409 Conflict.
  void ForceConflictOnNextWrite(int n = 1);
  // Sends a BOOKMARK now on every open watch that asked for bookmarks.
  void TriggerBookmarks();
  // Every request served so far, in order.
  std::vector<FakeApiRequestLogEntry> RequestLog() const;
  void ClearRequestLog();
  // Watches open now.
  int open_watches() const;

  struct ResourceType;  // one served resource (internal)
  struct Target;        // a parsed request path (internal)

 private:
  struct Event {
    int64_t rv;
    const ResourceType* type;
    std::string namespace_;
    std::string name;
    std::string event_type;  // ADDED, MODIFIED, DELETED
    std::string object;      // JSON
    std::string previous;    // JSON of the state before a MODIFIED event, else ""
  };
  using Key = std::tuple<const ResourceType*, std::string, std::string>;  // type, ns, name

  FakeApiServer(const FakeApiServerOptions& options, Clock& clock);
  void InstallRoutes();

  HttpResponse Serve(const HttpRequest& request);
  HttpResponse ServeResource(const HttpRequest& request, const Target& target,
                             absl::string_view user);
  HttpResponse ServeList(const HttpRequest& request, const Target& target);
  HttpResponse ServeWatch(const HttpRequest& request, const Target& target);
  HttpResponse ServeGet(const HttpRequest& request, const Target& target);
  HttpResponse ServeCreate(const HttpRequest& request, const Target& target);
  HttpResponse ServeUpdate(const HttpRequest& request, const Target& target, bool patch);
  HttpResponse ServeDelete(const Target& target);
  HttpResponse ServeLog(const HttpRequest& request, const Target& target);

  // Stores `object` (a complete JSON document) under `key`, bumping the resourceVersion and
  // recording a watch event. Returns the stored JSON.
  std::string StoreLocked(const Key& key, std::string object, absl::string_view event_type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes the object under `key` (which must exist), recording a DELETED event; returns its
  // last state.
  std::string DeleteLocked(const Key& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Creates or replaces an object (test API, create and update paths): fills server-set fields;
  // an update that changes nothing keeps the resourceVersion. `type` null: from apiVersion/kind.
  // InvalidArgument for bad JSON, an unknown kind or a missing name.
  absl::StatusOr<std::string> PutObjectLocked(absl::string_view json, const ResourceType* type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NewUidLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Now();

  const FakeApiServerOptions options_;
  Clock& clock_;
  std::vector<std::unique_ptr<ResourceType>> types_;  // fixed after construction
  std::unique_ptr<HttpServer> server_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t rv_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t uid_counter_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<Key, std::string> objects_ ABSL_GUARDED_BY(mu_);
  std::deque<Event> history_ ABSL_GUARDED_BY(mu_);
  int64_t history_start_rv_ ABSL_GUARDED_BY(mu_) = 0;  // events at or below it are gone
  // (namespace, pod, container) -> (current, previous)
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<std::string, std::string>>
      logs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> tokens_ ABSL_GUARDED_BY(mu_);  // token -> user
  std::map<std::string, std::vector<FakeApiPermission>> permissions_ ABSL_GUARDED_BY(mu_);
  absl::Duration latency_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  int fail_next_ ABSL_GUARDED_BY(mu_) = 0;
  int fail_code_ ABSL_GUARDED_BY(mu_) = 500;
  int throttle_next_ ABSL_GUARDED_BY(mu_) = 0;
  int retry_after_ ABSL_GUARDED_BY(mu_) = 1;
  int conflict_next_writes_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t drop_generation_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t bookmark_generation_ ABSL_GUARDED_BY(mu_) = 0;
  int open_watches_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<FakeApiRequestLogEntry> request_log_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sextant::fakes
