#include "collector/pod_index.h"

#include <algorithm>

namespace sextant::collector {
namespace {

std::string NormaliseUid(absl::string_view uid) {
  std::string out(uid);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

}  // namespace

void PodIndex::Add(PodMeta pod) {
  std::string key = NormaliseUid(pod.uid);
  size_t index;
  if (auto it = by_uid_.find(key); it != by_uid_.end()) {
    index = it->second;
    for (const ContainerMeta& c : pods_[index].containers) by_container_.erase(c.id);
    pods_[index] = std::move(pod);
  } else {
    index = pods_.size();
    pods_.push_back(std::move(pod));
    by_uid_.emplace(std::move(key), index);
  }
  const std::vector<ContainerMeta>& containers = pods_[index].containers;
  for (size_t i = 0; i < containers.size(); ++i) {
    if (!containers[i].id.empty()) by_container_.try_emplace(containers[i].id, index, i);
  }
}

const PodMeta* PodIndex::FindPod(absl::string_view uid) const {
  auto it = by_uid_.find(NormaliseUid(uid));
  return it == by_uid_.end() ? nullptr : &pods_[it->second];
}

std::pair<const PodMeta*, const ContainerMeta*> PodIndex::FindContainer(
    absl::string_view id) const {
  auto it = by_container_.find(id);
  if (it == by_container_.end()) return {nullptr, nullptr};
  const PodMeta& pod = pods_[it->second.first];
  return {&pod, &pod.containers[it->second.second]};
}

}  // namespace sextant::collector
