// The kubelet's /pods answer (a core/v1 PodList of the pods bound to its node): the fields the
// collector exports, the parser, and the kube-state-metrics-named series built from them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "collector/metric_set.h"
#include "collector/pod_index.h"

namespace sextant::collector {

// core/v1 Container: name and resources, quantities as written ("500m", "1Gi"). A value type.
struct KubeletContainer {
  std::string name;
  std::string image;                                          // as the spec names it ("nginx:1.25")
  std::vector<std::pair<std::string, std::string>> requests;  // {"cpu", "500m"}, in JSON order
  std::vector<std::pair<std::string, std::string>> limits;
};

// core/v1 ContainerStatus. A value type.
struct KubeletContainerStatus {
  enum class State { kNone, kWaiting, kRunning, kTerminated };

  std::string name;
  std::string container_id;  // as given: "containerd://<hex>"; "" before it was created
  std::string image;
  std::string image_id;
  bool ready = false;
  int64_t restart_count = 0;
  State state = State::kNone;        // state.waiting / running / terminated; kNone when none is set
  std::string state_reason;          // state.waiting.reason or state.terminated.reason
  bool has_last_terminated = false;  // lastState.terminated is set
  std::string last_terminated_reason;
  int64_t last_terminated_exit_code = 0;
};

// core/v1 Pod, as far as the collector reads it. A value type.
struct KubeletPod {
  std::string namespace_name;
  std::string name;
  std::string uid;
  std::string controller_kind;  // the ownerReference with controller: true; "" when none
  std::string controller_name;
  std::string node_name;  // spec.nodeName
  std::string priority_class;
  bool host_network = false;
  std::string phase;  // "Pending", "Running", "Succeeded", "Failed", "Unknown"; "" when unset
  std::string pod_ip;
  std::string host_ip;
  std::string ready_condition;  // status of the Ready condition: "True", ...; "" when absent
  std::vector<KubeletContainer> containers;
  std::vector<KubeletContainer> init_containers;
  std::vector<KubeletContainerStatus> container_statuses;
  std::vector<KubeletContainerStatus> init_container_statuses;
};

// Parses a kubelet /pods answer. The document must be a JSON object in valid UTF-8 whose "kind",
// when present, is "PodList", with "kind" or "items" present; "items" absent or null is an empty
// list. Absent and null fields keep their defaults. InvalidArgument otherwise, naming the byte
// offset for JSON syntax errors and the field path for a field of the wrong type
// ("items[2].status.containerStatuses[0].restartCount: expected an integer"). With `skipped`
// set, a pod with such a field is left out instead and its error appended there, so that one odd
// pod does not cost the others (the kubelet source does this); without it, it fails the parse.
absl::StatusOr<std::vector<KubeletPod>> ParseKubeletPods(
    absl::string_view json, std::vector<absl::Status>* skipped = nullptr);

// The runtime ID in a containerID: the part after "<runtime>://"; the text as is when it has no
// such prefix.
absl::string_view StripRuntimePrefix(absl::string_view container_id);

// The index the cgroup walker looks pods up in: every pod, with its init and regular containers
// that have a container ID (prefix stripped).
PodIndex BuildPodIndex(const std::vector<KubeletPod>& pods);

// Appends the kube-state-metrics pod series of `pods` (kube_pod_info, kube_pod_status_phase,
// kube_pod_status_ready, kube_pod_container_* and kube_pod_init_container_*) to `out`.
// `node_name` is used for pods whose spec.nodeName is empty. A quantity that does not parse is
// skipped and counted in the return value.
size_t AppendPodMetrics(const std::vector<KubeletPod>& pods, absl::string_view node_name,
                        MetricSet& out);

}  // namespace sextant::collector
