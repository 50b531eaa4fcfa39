#include "kube/informer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace sextant::kube {
namespace {

absl::StatusOr<std::shared_ptr<const CachedObject>> MakeCached(std::string json) {
  absl::StatusOr<ObjectMeta> meta = ParseObjectMeta(json);
  if (!meta.ok()) return meta.status();
  if (meta->name.empty()) return absl::InvalidArgumentError("object without metadata.name");
  auto o = std::make_shared<CachedObject>();
  o->key = ObjectKey(*meta);
  o->metadata = *std::move(meta);
  o->json = std::move(json);
  return std::shared_ptr<const CachedObject>(std::move(o));
}

}  // namespace

Informer::Informer(KubeClient& client, ResourceRef ref, InformerOptions options, Clock& clock,
                   InformerHandlers handlers)
    : handlers_(std::move(handlers)),
      reflector_(client, std::move(ref), options.reflector, clock,
                 ReflectorCallbacks{
                     .on_list =
                         [this](const ObjectList& list) {
                           absl::Status s = Replace(list);
                           if (!s.ok()) LogWarn("informer: relist", {{"err", s.ToString()}});
                         },
                     .on_event =
                         [this](const WatchEvent& e) {
                           absl::Status s = Apply(e);
                           if (!s.ok()) LogWarn("informer: event", {{"err", s.ToString()}});
                         },
                 }) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  absl::MutexLock lock(&thread_mu_);
  if (thread_.joinable() || reflector_.stopping()) return;
  thread_ = std::thread([this] { reflector_.Run(); });
}

void Informer::Stop() {
  reflector_.Stop();
  absl::MutexLock lock(&thread_mu_);
  if (thread_.joinable()) thread_.join();
}

bool Informer::HasSynced() const {
  absl::MutexLock lock(&mu_);
  return synced_;
}

std::shared_ptr<const CachedObject> Informer::Get(absl::string_view key) const {
  absl::MutexLock lock(&mu_);
  auto it = cache_.find(key);
  return it == cache_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const CachedObject>> Informer::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<const CachedObject>> out;
  out.reserve(cache_.size());
  for (const auto& [key, o] : cache_) out.push_back(o);
  return out;
}

size_t Informer::size() const {
  absl::MutexLock lock(&mu_);
  return cache_.size();
}

absl::Status Informer::Replace(const ObjectList& list) {
  using Ptr = std::shared_ptr<const CachedObject>;
  std::map<std::string, Ptr, std::less<>> fresh;
  absl::Status first_error;
  for (const std::string& item : list.items) {
    absl::StatusOr<Ptr> o = MakeCached(item);
    if (!o.ok()) {
      if (first_error.ok()) {
        first_error =
            absl::InvalidArgumentError(absl::StrCat("list item skipped: ", o.status().message()));
      }
      continue;
    }
    fresh[(*o)->key] = *o;
  }
  std::vector<Ptr> added;
  std::vector<std::pair<Ptr, Ptr>> updated;
  std::vector<Ptr> deleted;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [key, o] : fresh) {
      auto it = cache_.find(key);
      if (it == cache_.end()) {
        added.push_back(o);
      } else if (it->second->metadata.resource_version != o->metadata.resource_version) {
        updated.emplace_back(it->second, o);
      }
    }
    for (const auto& [key, o] : cache_) {
      if (fresh.find(key) == fresh.end()) deleted.push_back(o);
    }
    cache_ = std::move(fresh);
    synced_ = true;
  }
  for (const Ptr& o : deleted) {
    if (handlers_.on_delete) handlers_.on_delete(*o);
  }
  for (const Ptr& o : added) {
    if (handlers_.on_add) handlers_.on_add(*o);
  }
  for (const auto& [old_o, new_o] : updated) {
    if (handlers_.on_update) handlers_.on_update(*old_o, *new_o);
  }
  return first_error;
}

absl::Status Informer::Apply(const WatchEvent& event) {
  using Ptr = std::shared_ptr<const CachedObject>;
  if (event.type != "ADDED" && event.type != "MODIFIED" && event.type != "DELETED") {
    return absl::OkStatus();
  }
  absl::StatusOr<Ptr> o = MakeCached(event.object);
  if (!o.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(event.type, " event skipped: ", o.status().message()));
  }
  Ptr old;
  {
    absl::MutexLock lock(&mu_);
    auto it = cache_.find((*o)->key);
    if (it != cache_.end()) old = it->second;
    if (event.type == "DELETED") {
      if (it != cache_.end()) cache_.erase(it);
    } else {
      cache_[(*o)->key] = *o;
    }
  }
  if (event.type == "DELETED") {
    // The final state the server sent.
    if (handlers_.on_delete) handlers_.on_delete(**o);
  } else if (old == nullptr) {
    if (handlers_.on_add) handlers_.on_add(**o);
  } else {
    if (handlers_.on_update) handlers_.on_update(*old, **o);
  }
  return absl::OkStatus();
}

}  // namespace sextant::kube
