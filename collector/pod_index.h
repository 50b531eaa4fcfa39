// What the kubelet says runs on this node, indexed the way the cgroup walker looks things up:
// by pod UID and by container runtime ID.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace sextant::collector {

struct ContainerMeta {
  std::string name;  // the container's name in the pod spec
  // The runtime's ID without the "containerd://" (or "cri-o://", "docker://") prefix: the hex
  // string that appears in the container's cgroup name. Empty when not started yet.
  std::string id;
};

struct PodMeta {
  std::string uid;  // metadata.uid, with dashes (cgroup names under systemd use underscores)
  std::string namespace_name;
  std::string name;
  // Init, regular and ephemeral containers that have (or had) a runtime ID, current ones first.
  std::vector<ContainerMeta> containers;
};

// An immutable-after-build index. Build it, then share it as std::shared_ptr<const PodIndex>.
// Thread-compatible; const methods are safe to call from any thread.
class PodIndex {
 public:
  // Adds a pod; a UID already present is replaced.
  void Add(PodMeta pod);

  // The pod with `uid`; dashes and underscores are treated alike. Null when unknown.
  const PodMeta* FindPod(absl::string_view uid) const;
  // The container with runtime ID `id` (no prefix) and its pod; {nullptr, nullptr} when
  // unknown.
  std::pair<const PodMeta*, const ContainerMeta*> FindContainer(absl::string_view id) const;

  size_t size() const { return pods_.size(); }
  const std::vector<PodMeta>& pods() const { return pods_; }

 private:
  std::vector<PodMeta> pods_;
  absl::flat_hash_map<std::string, size_t> by_uid_;  // normalised UID (dashes) -> pods_ index
  // container ID -> (pods_ index, containers index)
  absl::flat_hash_map<std::string, std::pair<size_t, size_t>> by_container_;
};

}  // namespace sextant::collector
