// kube-state-metrics' pod families (internal/store/pod.go in KSM v2), built from the kubelet's
// view of the pods on this node. Names, labels and values follow KSM so its dashboards and
// alert rules work unchanged.
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "collector/kubelet/pod_list.h"
#include "collector/kubelet/quantity.h"

namespace sextant::collector {
namespace {

using prom::Label;
using State = KubeletContainerStatus::State;

// The family names of regular containers and of init containers.
struct Families {
  const char* info;
  const char* waiting;
  const char* waiting_reason;
  const char* running;
  const char* terminated;
  const char* terminated_reason;
  const char* last_terminated_reason;
  const char* last_terminated_exitcode;  // null: not exported
  const char* ready;
  const char* restarts;
  const char* requests;
  const char* limits;
};

constexpr Families kContainerFamilies = {
    "kube_pod_container_info",
    "kube_pod_container_status_waiting",
    "kube_pod_container_status_waiting_reason",
    "kube_pod_container_status_running",
    "kube_pod_container_status_terminated",
    "kube_pod_container_status_terminated_reason",
    "kube_pod_container_status_last_terminated_reason",
    "kube_pod_container_status_last_terminated_exitcode",
    "kube_pod_container_status_ready",
    "kube_pod_container_status_restarts_total",
    "kube_pod_container_resource_requests",
    "kube_pod_container_resource_limits",
};

constexpr Families kInitContainerFamilies = {
    "kube_pod_init_container_info",
    "kube_pod_init_container_status_waiting",
    "kube_pod_init_container_status_waiting_reason",
    "kube_pod_init_container_status_running",
    "kube_pod_init_container_status_terminated",
    "kube_pod_init_container_status_terminated_reason",
    "kube_pod_init_container_status_last_terminated_reason",
    nullptr,  // kube-state-metrics has no init container exit code family
    "kube_pod_init_container_status_ready",
    "kube_pod_init_container_status_restarts_total",
    "kube_pod_init_container_resource_requests",
    "kube_pod_init_container_resource_limits",
};

// KSM's sanitizeLabelName: every character outside [a-zA-Z0-9_] becomes '_'.
std::string SanitizeResourceName(absl::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return out;
}

// How KSM exports a resource: the unit label and whether the value is in cores (MilliValue /
// 1000) rather than whole units (Value). Null unit: not exported.
struct ResourceKind {
  const char* unit = nullptr;
  bool cores = false;
};

ResourceKind ClassifyResource(absl::string_view name) {
  if (name == "cpu") return {"core", true};
  if (name == "memory" || name == "storage" || name == "ephemeral-storage") return {"byte"};
  if (absl::StartsWith(name, "hugepages-")) return {"byte"};
  if (absl::StartsWith(name, "attachable-volumes-")) return {"byte"};
  // Extended resources ("nvidia.com/gpu"): a domain-qualified name outside kubernetes.io.
  if (absl::StrContains(name, "/") && !absl::StrContains(name, "kubernetes.io/") &&
      !absl::StartsWith(name, "requests.")) {
    return {"integer"};
  }
  return {};
}

// Writes the series of one pod. Lives for one call of AppendPodMetrics; not thread-safe.
class PodWriter {
 public:
  PodWriter(const KubeletPod& pod, absl::string_view node, MetricSet& out)
      : pod_(pod), node_(pod.node_name.empty() ? node : pod.node_name), out_(out) {}

  size_t bad_quantities() const { return bad_quantities_; }

  void Write() {
    WriteInfo();
    WritePhase();
    WriteReady();
    WriteStatuses(pod_.container_statuses, pod_.containers, kContainerFamilies);
    WriteStatuses(pod_.init_container_statuses, pod_.init_containers, kInitContainerFamilies);
    WriteResources(pod_.containers, kContainerFamilies);
    WriteResources(pod_.init_containers, kInitContainerFamilies);
  }

 private:
  // namespace, pod, uid, then `extra`.
  std::vector<Label> PodLabels(
      std::initializer_list<std::pair<const char*, absl::string_view>> extra) {
    std::vector<Label> labels;
    labels.reserve(3 + extra.size());
    labels.push_back({"namespace", pod_.namespace_name});
    labels.push_back({"pod", pod_.name});
    labels.push_back({"uid", pod_.uid});
    for (const auto& [name, value] : extra) labels.push_back({name, std::string(value)});
    return labels;
  }

  void Gauge(const char* name, const char* help, std::vector<Label> labels, double value) {
    out_.Add(name, help, prom::MetricType::kGauge, std::move(labels), value);
  }

  void WriteInfo() {
    Gauge("kube_pod_info", "Information about the pod: addresses, node, owner and priority.",
          PodLabels(
              {{"host_ip", pod_.host_ip},
               {"pod_ip", pod_.pod_ip},
               {"node", node_},
               {"created_by_kind", pod_.controller_kind.empty() ? "<none>" : pod_.controller_kind},
               {"created_by_name", pod_.controller_name.empty() ? "<none>" : pod_.controller_name},
               {"priority_class", pod_.priority_class},
               {"host_network", pod_.host_network ? "true" : "false"}}),
          1);
  }

  void WritePhase() {
    if (pod_.phase.empty()) return;
    for (const char* phase : {"Pending", "Succeeded", "Failed", "Unknown", "Running"}) {
      Gauge("kube_pod_status_phase", "The pod's phase: 1 for the current one, 0 for the others.",
            PodLabels({{"phase", phase}}), pod_.phase == phase ? 1 : 0);
    }
  }

  void WriteReady() {
    if (pod_.ready_condition.empty()) return;
    for (const auto& [condition, status] :
         {std::pair{"true", "True"}, {"false", "False"}, {"unknown", "Unknown"}}) {
      Gauge("kube_pod_status_ready",
            "Whether the pod's Ready condition is true, false or unknown (1 for the current).",
            PodLabels({{"condition", condition}}), pod_.ready_condition == status ? 1 : 0);
    }
  }

  // The image the spec of container `name` names; "" when not in the spec.
  static absl::string_view SpecImage(const std::vector<KubeletContainer>& spec,
                                     absl::string_view name) {
    for (const KubeletContainer& c : spec) {
      if (c.name == name) return c.image;
    }
    return "";
  }

  void WriteStatuses(const std::vector<KubeletContainerStatus>& statuses,
                     const std::vector<KubeletContainer>& spec, const Families& f) {
    for (const KubeletContainerStatus& s : statuses) {
      Gauge(f.info, "Information about the container: image and runtime ID.",
            PodLabels({{"container", s.name},
                       {"image", s.image},
                       {"image_id", s.image_id},
                       {"image_spec", SpecImage(spec, s.name)},
                       {"container_id", s.container_id}}),
            1);
      const absl::string_view c = s.name;
      Gauge(f.waiting, "Whether the container is waiting.", PodLabels({{"container", c}}),
            s.state == State::kWaiting ? 1 : 0);
      if (s.state == State::kWaiting) {
        Gauge(f.waiting_reason, "Why the container is waiting (1 for the current reason).",
              PodLabels({{"container", c}, {"reason", s.state_reason}}), 1);
      }
      Gauge(f.running, "Whether the container is running.", PodLabels({{"container", c}}),
            s.state == State::kRunning ? 1 : 0);
      Gauge(f.terminated, "Whether the container has terminated.", PodLabels({{"container", c}}),
            s.state == State::kTerminated ? 1 : 0);
      if (s.state == State::kTerminated) {
        Gauge(f.terminated_reason, "Why the container terminated (1 for the current reason).",
              PodLabels({{"container", c}, {"reason", s.state_reason}}), 1);
      }
      if (s.has_last_terminated) {
        Gauge(f.last_terminated_reason, "Why the container's previous run ended.",
              PodLabels({{"container", c}, {"reason", s.last_terminated_reason}}), 1);
        if (f.last_terminated_exitcode != nullptr) {
          Gauge(f.last_terminated_exitcode, "The exit code of the container's previous run.",
                PodLabels({{"container", c}}), static_cast<double>(s.last_terminated_exit_code));
        }
      }
      Gauge(f.ready, "Whether the container passes its readiness check.",
            PodLabels({{"container", c}}), s.ready ? 1 : 0);
      out_.Add(f.restarts, "How many times the container has restarted.",
               prom::MetricType::kCounter, PodLabels({{"container", c}}),
               static_cast<double>(s.restart_count));
    }
  }

  void WriteResources(const std::vector<KubeletContainer>& containers, const Families& f) {
    for (const KubeletContainer& c : containers) {
      WriteResourceList(c.name, c.requests, f.requests,
                        "Resources the container requests (cores, bytes or units).");
      WriteResourceList(c.name, c.limits, f.limits,
                        "Resource limits of the container (cores, bytes or units).");
    }
  }

  void WriteResourceList(absl::string_view container,
                         const std::vector<std::pair<std::string, std::string>>& list,
                         const char* family, const char* help) {
    for (const auto& [name, text] : list) {
      const ResourceKind kind = ClassifyResource(name);
      if (kind.unit == nullptr) continue;
      absl::StatusOr<Quantity> q = ParseQuantity(text);
      if (!q.ok()) {
        ++bad_quantities_;
        continue;
      }
      const double value = kind.cores ? static_cast<double>(q->MilliValue()) / 1000
                                      : static_cast<double>(q->Value());
      Gauge(family, help,
            PodLabels({{"container", container},
                       {"node", node_},
                       {"resource", SanitizeResourceName(name)},
                       {"unit", kind.unit}}),
            value);
    }
  }

  const KubeletPod& pod_;
  const absl::string_view node_;
  MetricSet& out_;
  size_t bad_quantities_ = 0;
};

}  // namespace

size_t AppendPodMetrics(const std::vector<KubeletPod>& pods, absl::string_view node_name,
                        MetricSet& out) {
  size_t bad = 0;
  for (const KubeletPod& pod : pods) {
    PodWriter writer(pod, node_name, out);
    writer.Write();
    bad += writer.bad_quantities();
  }
  return bad;
}

}  // namespace sextant::collector
