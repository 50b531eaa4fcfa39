// KubeClient: the calls Sextant makes to the Kubernetes API server. Generic JSON calls on any
// resource (get, list, create, update, merge-patch, delete) and typed helpers where the shape is
// fixed (the /scale subresource, pods, nodes, Leases, Events, ScalingPolicy status, logs). Every
// error goes through StatusFromHttp (kube/errors.h); retries on 429/5xx are the HTTP client's.
//
//   SEXTANT_ASSIGN_OR_RETURN(auto client, KubeClient::Create(cluster_config));
//   ScaleTarget web{"apps/v1", "Deployment", "default", "web"};
//   SEXTANT_ASSIGN_OR_RETURN(Scale scale, client->GetScale(web));
//   SEXTANT_RETURN_IF_ERROR(client->PatchScaleReplicas(web, 5).status());
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/http_client.h"
#include "kube/config.h"
#include "kube/errors.h"
#include "kube/objects.h"

namespace sextant::kube {

// Names a resource, a collection or a subresource on the API server. A value type.
struct ResourceRef {
  std::string group;           // "" for the core group, "apps", "autoscaling.sextant.dev", ...
  std::string version;         // "v1", "v1alpha1"
  std::string resource;        // plural, lowercase: "deployments", "pods"
  std::string namespace_name;  // "" for cluster-scoped resources or all namespaces
  std::string name;            // "" for the collection
  std::string subresource;     // "scale", "status", "log", or ""

  // The URL path: /api/v1/... for the core group, /apis/GROUP/VERSION/... otherwise, e.g.
  // "/apis/apps/v1/namespaces/default/deployments/web/scale".
  std::string Path() const;
  // For messages and RequestInfo: "deployments.apps/scale", "pods", "pods/log".
  std::string Describe() const;
};

// Well-known resources.
ResourceRef PodsResource(absl::string_view namespace_name = "");
ResourceRef NodesResource();
ResourceRef LeasesResource(absl::string_view namespace_name);
ResourceRef EventsResource(absl::string_view namespace_name);
// autoscaling.sextant.dev/v1alpha1 scalingpolicies (DESIGN.md 3.5); "" namespace = all.
ResourceRef ScalingPoliciesResource(absl::string_view namespace_name = "");

// Query parameters of a list call. A value type.
struct ListOptions {
  std::string label_selector;  // "app=web,tier!=db"
  std::string field_selector;  // "spec.nodeName=node-1"
  std::string resource_version;
  int64_t limit = 0;           // 0 = no paging
  std::string continue_token;  // from a previous page
};

// The object a /scale subresource belongs to, as a ScalingPolicy's scaleTargetRef names it.
// A value type.
struct ScaleTarget {
  std::string api_version;  // "apps/v1", "example.com/v1"
  std::string kind;         // "Deployment"
  std::string namespace_name;
  std::string name;
};

// What GetContainerLogs asks for. A value type.
struct LogOptions {
  std::string namespace_name;
  std::string pod;
  std::string container;  // "" = the pod's only container
  bool previous = false;  // the previous (crashed) instance's log
  std::optional<int64_t> tail_lines;
  std::optional<int64_t> limit_bytes;
};

// A pod list answer, typed. A value type.
struct PodList {
  std::string resource_version;
  std::vector<Pod> items;
};

// KubeClient's settings. A value type.
struct KubeClientOptions {
  // Base URL without a trailing slash, e.g. "https://10.96.0.1:443". Required.
  std::string server;
  // Namespace used by callers that name none. Default "default".
  std::string default_namespace = "default";
  // Timeout of ordinary (non-watch) calls. Unset: the HTTP client's. Default unset.
  std::optional<absl::Duration> request_timeout;
};

// A client of one API server. Owned by its creator; the HttpClient it is given must outlive it
// (Create() makes one it owns). Thread-safe: calls may be made from any thread at once.
class KubeClient {
 public:
  // A client that owns a CurlHttpClient built from `config` (TLS, token file). InvalidArgument
  // for an empty server URL or HTTP options the HTTP client rejects. `clock` must outlive it.
  static absl::StatusOr<std::unique_ptr<KubeClient>> Create(const ClusterConfig& config,
                                                            Clock& clock = RealClock::Get());
  // A client over `http`, which must outlive it (tests pass a client for a loopback server).
  KubeClient(HttpClient& http, KubeClientOptions options);
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  const std::string& server() const { return options_.server; }
  const std::string& default_namespace() const { return options_.default_namespace; }
  HttpClient& http() { return http_; }

  // Generic JSON calls; each returns the answer body. Errors: as StatusFromHttp maps the answer
  // (NotFound, Aborted on a conflict, AlreadyExists, PermissionDenied, ...), and the HTTP
  // client's errors (Unavailable, DeadlineExceeded) prefixed with the verb and resource.
  absl::StatusOr<std::string> Get(const ResourceRef& ref);
  absl::StatusOr<std::string> List(const ResourceRef& ref, const ListOptions& options = {});
  // POST to the collection. Not retried after the server may have seen it.
  absl::StatusOr<std::string> Create(const ResourceRef& ref, absl::string_view body);
  // PUT. Retried on 429/5xx only when the body carries metadata.resourceVersion (the server
  // then rejects a duplicate with 409 instead of applying it twice).
  absl::StatusOr<std::string> Update(const ResourceRef& ref, absl::string_view body);
  // PATCH with application/merge-patch+json. `idempotent`: the patch sets absolute values, so
  // sending it twice is harmless and it may be retried.
  absl::StatusOr<std::string> MergePatch(const ResourceRef& ref, absl::string_view patch,
                                         bool idempotent = false);
  absl::StatusOr<std::string> Delete(const ResourceRef& ref);

  // The /scale subresource of `target`: apps/v1 Deployment, StatefulSet and ReplicaSet directly,
  // other kinds through API discovery (cached). NotFound when the kind is unknown to the server
  // or has no /scale subresource; plus the errors of the calls.
  absl::StatusOr<ResourceRef> ScaleResource(const ScaleTarget& target);
  absl::StatusOr<Scale> GetScale(const ScaleTarget& target);
  // PUT of the Scale with its metadata.resourceVersion (Aborted when stale: re-read).
  absl::StatusOr<Scale> UpdateScale(const ScaleTarget& target, const Scale& scale);
  // Merge-patch of spec.replicas, without a resourceVersion (last writer wins).
  absl::StatusOr<Scale> PatchScaleReplicas(const ScaleTarget& target, int32_t replicas);

  // Pods in `namespace_name` ("" = all) matching the selectors (e.g. "spec.nodeName=node-1").
  absl::StatusOr<PodList> ListPods(absl::string_view namespace_name,
                                   absl::string_view label_selector = "",
                                   absl::string_view field_selector = "");
  absl::StatusOr<Node> GetNode(absl::string_view name);

  absl::StatusOr<Lease> GetLease(absl::string_view namespace_name, absl::string_view name);
  // AlreadyExists when another candidate created it first.
  absl::StatusOr<Lease> CreateLease(const Lease& lease);
  // PUT with the lease's resourceVersion; Aborted when someone else updated it in between.
  absl::StatusOr<Lease> UpdateLease(const Lease& lease);

  // Creates `event` in its metadata namespace (metadata.name or generateName must be usable;
  // an empty name gets a generateName from the involved object's name).
  absl::StatusOr<Event> CreateEvent(const Event& event);
  // Bumps a repeated event: merge-patch of count and lastTimestamp.
  absl::StatusOr<Event> PatchEvent(absl::string_view namespace_name, absl::string_view name,
                                   int32_t count, absl::Time last_timestamp);

  // ScalingPolicy objects (JSON bodies; the autoscaler parses the spec).
  absl::StatusOr<std::string> ListScalingPolicies(absl::string_view namespace_name,
                                                  const ListOptions& options = {});
  // PUT to .../scalingpolicies/NAME/status. `policy_json` is the whole object with its
  // metadata.resourceVersion and the new status; Aborted when stale.
  absl::StatusOr<std::string> UpdateScalingPolicyStatus(absl::string_view namespace_name,
                                                        absl::string_view name,
                                                        absl::string_view policy_json);

  // The container's log text (GET .../pods/NAME/log). NotFound for an unknown pod; the server's
  // 400 for a container without a previous instance comes back as InvalidArgument.
  absl::StatusOr<std::string> GetContainerLogs(const LogOptions& options);

  // The full URL of `ref` with `query` ("a=b&c=d", already encoded; may be empty).
  std::string Url(const ResourceRef& ref, absl::string_view query = "") const;

  // Sends one request and maps the answer: the body of a 2xx answer, else the mapped error.
  // `request.url` is filled from `ref` and `query`. For callers with special needs (watches).
  absl::StatusOr<std::string> Call(absl::string_view verb, const ResourceRef& ref,
                                   absl::string_view query, HttpClientRequest request);

 private:
  // Finds the plural resource of `kind` in GET /apis/GROUP/VERSION (or /api/v1) and whether it
  // has a scale subresource. Cached per api_version/kind.
  absl::StatusOr<ResourceRef> Discover(const ScaleTarget& target);
  KubeClient(std::unique_ptr<HttpClient> http, KubeClientOptions options);

  std::unique_ptr<HttpClient> owned_http_;  // set by Create()
  HttpClient& http_;
  const KubeClientOptions options_;

  absl::Mutex mu_;
  // "apiVersion/kind" -> resolved scalable resource (namespace and name empty).
  std::map<std::string, ResourceRef> discovered_ ABSL_GUARDED_BY(mu_);
};

// Splits "apps/v1" into ("apps", "v1") and "v1" into ("", "v1").
std::pair<std::string, std::string> SplitApiVersion(absl::string_view api_version);

}  // namespace sextant::kube
