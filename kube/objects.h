// Typed views of the Kubernetes objects whose shape Sextant relies on (ObjectMeta, Scale, Lease,
// Event, Pod, Node), parsed from and written to the API server's JSON. Only the fields Sextant
// uses are kept; quantities stay strings ("500m", "1Gi").
//
//   SEXTANT_ASSIGN_OR_RETURN(Scale scale, ParseScale(body));
//   scale.spec_replicas = 3;
//   std::string json = ScaleToJson(scale);
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sextant::kube {

// metav1.ObjectMeta, the fields Sextant reads. A value type.
struct ObjectMeta {
  std::string name;
  std::string namespace_name;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
  std::optional<absl::Time> creation_timestamp;
  std::optional<absl::Time> deletion_timestamp;
};

// autoscaling/v1 Scale (the /scale subresource of any scalable workload). A value type.
struct Scale {
  ObjectMeta metadata;
  int32_t spec_replicas = 0;
  int32_t status_replicas = 0;
  std::string status_selector;  // label selector string, e.g. "app=web"
};

// coordination.k8s.io/v1 Lease. A value type.
struct Lease {
  ObjectMeta metadata;
  std::string holder_identity;
  std::optional<int32_t> lease_duration_seconds;
  std::optional<absl::Time> acquire_time;  // MicroTime
  std::optional<absl::Time> renew_time;    // MicroTime
  int32_t lease_transitions = 0;
};

// core/v1 ObjectReference, as an Event's involvedObject. A value type.
struct ObjectReference {
  std::string api_version;
  std::string kind;
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string field_path;
};

// core/v1 Event. A value type.
struct Event {
  ObjectMeta metadata;
  ObjectReference involved_object;
  std::string reason;
  std::string message;
  std::string type;  // "Normal" or "Warning"
  int32_t count = 0;
  std::optional<absl::Time> first_timestamp;
  std::optional<absl::Time> last_timestamp;
  std::string source_component;
  std::string reporting_component;
};

// core/v1 Container: name and resources (quantities as strings). A value type.
struct Container {
  std::string name;
  std::map<std::string, std::string> requests;  // "cpu" -> "500m"
  std::map<std::string, std::string> limits;
};

// core/v1 ContainerStatus, the fields the collector and crash-loop detector read. A value type.
struct ContainerStatus {
  std::string name;
  std::string container_id;  // "containerd://abc..."
  bool ready = false;
  int32_t restart_count = 0;
  std::string waiting_reason;  // state.waiting.reason ("CrashLoopBackOff"), "" when not waiting
  bool running = false;        // state.running is set
  std::string last_terminated_reason;  // lastState.terminated.reason ("OOMKilled")
  std::optional<int32_t> last_terminated_exit_code;
  std::optional<absl::Time> last_terminated_finished_at;
};

// core/v1 PodCondition. A value type.
struct PodCondition {
  std::string type;    // "Ready", ...
  std::string status;  // "True", "False", "Unknown"
  std::optional<absl::Time> last_transition_time;
};

// core/v1 Pod, the fields the collector and the autoscaler need. A value type.
struct Pod {
  ObjectMeta metadata;
  std::string node_name;
  std::vector<Container> containers;
  std::string phase;  // "Pending", "Running", "Succeeded", "Failed", "Unknown"
  std::optional<absl::Time> start_time;
  std::vector<PodCondition> conditions;
  std::vector<ContainerStatus> container_statuses;

  // The condition of `type`, or null.
  const PodCondition* FindCondition(absl::string_view type) const;
  // True when the Ready condition is "True".
  bool IsReady() const;
};

// core/v1 NodeAddress. A value type.
struct NodeAddress {
  std::string type;  // "InternalIP", "Hostname", ...
  std::string address;
};

// core/v1 Node, name, labels, addresses and resources. A value type.
struct Node {
  ObjectMeta metadata;
  std::vector<NodeAddress> addresses;
  std::map<std::string, std::string> capacity;
  std::map<std::string, std::string> allocatable;
};

// A list answer (PodList, ...): its resourceVersion and continue token, and each item as compact
// JSON text. A value type.
struct ObjectList {
  std::string resource_version;
  std::string continue_token;
  std::vector<std::string> items;
};

// Parsers. Each takes one object's JSON text. InvalidArgument when the text is not JSON, not an
// object, or when a field has the wrong type or format; the message names the field
// ("metadata.labels.app", "status.replicas", "spec.renewTime"). Absent and null fields keep their
// defaults.
absl::StatusOr<ObjectMeta> ParseObjectMeta(absl::string_view object_json);
absl::StatusOr<Scale> ParseScale(absl::string_view json);
absl::StatusOr<Lease> ParseLease(absl::string_view json);
absl::StatusOr<Event> ParseEvent(absl::string_view json);
absl::StatusOr<Pod> ParsePod(absl::string_view json);
absl::StatusOr<Node> ParseNode(absl::string_view json);
// Parses a list answer ({"metadata":{"resourceVersion":...,"continue":...},"items":[...]}).
absl::StatusOr<ObjectList> ParseObjectList(absl::string_view json);

// Writers: the object as the API server takes it (apiVersion and kind included). Empty and unset
// optional fields are left out, so the same output works as a create or an update body.
std::string ScaleToJson(const Scale& scale);
std::string LeaseToJson(const Lease& lease);
std::string EventToJson(const Event& event);

// Time formats: metav1.Time ("2006-01-02T15:04:05Z", whole seconds) and metav1.MicroTime
// ("2006-01-02T15:04:05.000000Z"), both UTC.
std::string FormatKubeTime(absl::Time t);
std::string FormatKubeMicroTime(absl::Time t);
// Parses RFC 3339 (fractional seconds and offsets allowed). InvalidArgument otherwise.
absl::StatusOr<absl::Time> ParseKubeTime(absl::string_view text);

// "namespace/name", or "name" for cluster-scoped objects: the key informers use.
std::string ObjectKey(const ObjectMeta& meta);

}  // namespace sextant::kube
