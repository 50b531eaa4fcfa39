#include "collector/kubelet/pod_list.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "collector/kubelet/quantity.h"
#include "common/status_macros.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/memorystream.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sextant::collector {
namespace {

using rapidjson::Value;

// Field paths for error messages ("items[2].status.phase"), built only on the error path.
struct Path {
  const Path* parent = nullptr;
  absl::string_view key;  // a member name, or empty for an array element
  size_t index = 0;

  std::string ToString() const {
    if (parent == nullptr && key.empty()) return "";  // the document itself
    std::string head = parent == nullptr ? "" : parent->ToString();
    if (key.empty()) return absl::StrCat(head, "[", index, "]");
    return head.empty() ? std::string(key) : absl::StrCat(head, ".", key);
  }
  Path Member(absl::string_view k) const { return Path{this, k, 0}; }
  Path Element(size_t i) const { return Path{this, "", i}; }
};

absl::Status WrongType(const Path& path, absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(path.ToString(), ": expected ", want));
}

// The member `key` of `obj`, or null when absent or JSON null.
const Value* Find(const Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

absl::Status GetString(const Value& obj, const char* key, const Path& path, std::string* out) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsString()) return WrongType(path.Member(key), "a string");
  out->assign(v->GetString(), v->GetStringLength());
  return absl::OkStatus();
}

absl::Status GetBool(const Value& obj, const char* key, const Path& path, bool* out) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsBool()) return WrongType(path.Member(key), "a boolean");
  *out = v->GetBool();
  return absl::OkStatus();
}

absl::Status GetInt(const Value& obj, const char* key, const Path& path, int64_t* out) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsInt64()) return WrongType(path.Member(key), "an integer");
  *out = v->GetInt64();
  return absl::OkStatus();
}

// The object member `key`, or null when absent; InvalidArgument when not an object.
absl::StatusOr<const Value*> GetObject(const Value& obj, const char* key, const Path& path) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return nullptr;
  if (!v->IsObject()) return WrongType(path.Member(key), "an object");
  return v;
}

absl::StatusOr<const Value*> GetArray(const Value& obj, const char* key, const Path& path) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return nullptr;
  if (!v->IsArray()) return WrongType(path.Member(key), "an array");
  return v;
}

// A resource list ({"cpu": "500m"}). Quantities given as JSON numbers are kept as their text.
absl::Status GetResourceList(const Value& obj, const char* key, const Path& path,
                             std::vector<std::pair<std::string, std::string>>* out) {
  SEXTANT_ASSIGN_OR_RETURN(const Value* list, GetObject(obj, key, path));
  if (list == nullptr) return absl::OkStatus();
  const Path p = path.Member(key);
  for (auto it = list->MemberBegin(); it != list->MemberEnd(); ++it) {
    std::string name(it->name.GetString(), it->name.GetStringLength());
    if (it->value.IsString()) {
      out->emplace_back(std::move(name),
                        std::string(it->value.GetString(), it->value.GetStringLength()));
    } else if (it->value.IsNumber()) {
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      it->value.Accept(w);
      out->emplace_back(std::move(name), std::string(buf.GetString(), buf.GetSize()));
    } else {
      return WrongType(p.Member(it->name.GetString()), "a quantity string");
    }
  }
  return absl::OkStatus();
}

absl::Status ReadContainers(const Value& spec, const char* key, const Path& path,
                            std::vector<KubeletContainer>* out) {
  SEXTANT_ASSIGN_OR_RETURN(const Value* list, GetArray(spec, key, path));
  if (list == nullptr) return absl::OkStatus();
  const Path lp = path.Member(key);
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    const Value& c = (*list)[i];
    const Path p = lp.Element(i);
    if (!c.IsObject()) return WrongType(p, "an object");
    KubeletContainer& container = out->emplace_back();
    SEXTANT_RETURN_IF_ERROR(GetString(c, "name", p, &container.name));
    SEXTANT_RETURN_IF_ERROR(GetString(c, "image", p, &container.image));
    SEXTANT_ASSIGN_OR_RETURN(const Value* resources, GetObject(c, "resources", p));
    if (resources != nullptr) {
      const Path rp = p.Member("resources");
      SEXTANT_RETURN_IF_ERROR(GetResourceList(*resources, "requests", rp, &container.requests));
      SEXTANT_RETURN_IF_ERROR(GetResourceList(*resources, "limits", rp, &container.limits));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadContainerStatus(const Value& s, const Path& p, KubeletContainerStatus* out) {
  if (!s.IsObject()) return WrongType(p, "an object");
  SEXTANT_RETURN_IF_ERROR(GetString(s, "name", p, &out->name));
  SEXTANT_RETURN_IF_ERROR(GetString(s, "containerID", p, &out->container_id));
  SEXTANT_RETURN_IF_ERROR(GetString(s, "image", p, &out->image));
  SEXTANT_RETURN_IF_ERROR(GetString(s, "imageID", p, &out->image_id));
  SEXTANT_RETURN_IF_ERROR(GetBool(s, "ready", p, &out->ready));
  SEXTANT_RETURN_IF_ERROR(GetInt(s, "restartCount", p, &out->restart_count));
  SEXTANT_ASSIGN_OR_RETURN(const Value* state, GetObject(s, "state", p));
  if (state != nullptr) {
    const Path sp = p.Member("state");
    SEXTANT_ASSIGN_OR_RETURN(const Value* waiting, GetObject(*state, "waiting", sp));
    SEXTANT_ASSIGN_OR_RETURN(const Value* running, GetObject(*state, "running", sp));
    SEXTANT_ASSIGN_OR_RETURN(const Value* terminated, GetObject(*state, "terminated", sp));
    // The API sets at most one; if several are, the most advanced one wins.
    if (terminated != nullptr) {
      out->state = KubeletContainerStatus::State::kTerminated;
      SEXTANT_RETURN_IF_ERROR(
          GetString(*terminated, "reason", sp.Member("terminated"), &out->state_reason));
    } else if (running != nullptr) {
      out->state = KubeletContainerStatus::State::kRunning;
    } else if (waiting != nullptr) {
      out->state = KubeletContainerStatus::State::kWaiting;
      SEXTANT_RETURN_IF_ERROR(
          GetString(*waiting, "reason", sp.Member("waiting"), &out->state_reason));
    }
  }
  SEXTANT_ASSIGN_OR_RETURN(const Value* last, GetObject(s, "lastState", p));
  if (last != nullptr) {
    const Path lp = p.Member("lastState");
    SEXTANT_ASSIGN_OR_RETURN(const Value* term, GetObject(*last, "terminated", lp));
    if (term != nullptr) {
      const Path tp = lp.Member("terminated");
      out->has_last_terminated = true;
      SEXTANT_RETURN_IF_ERROR(GetString(*term, "reason", tp, &out->last_terminated_reason));
      SEXTANT_RETURN_IF_ERROR(GetInt(*term, "exitCode", tp, &out->last_terminated_exit_code));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadContainerStatuses(const Value& status, const char* key, const Path& path,
                                   std::vector<KubeletContainerStatus>* out) {
  SEXTANT_ASSIGN_OR_RETURN(const Value* list, GetArray(status, key, path));
  if (list == nullptr) return absl::OkStatus();
  const Path lp = path.Member(key);
  for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
    SEXTANT_RETURN_IF_ERROR(ReadContainerStatus((*list)[i], lp.Element(i), &out->emplace_back()));
  }
  return absl::OkStatus();
}

absl::Status ReadMetadata(const Value& pod, const Path& path, KubeletPod* out) {
  SEXTANT_ASSIGN_OR_RETURN(const Value* meta, GetObject(pod, "metadata", path));
  if (meta == nullptr) return absl::OkStatus();
  const Path p = path.Member("metadata");
  SEXTANT_RETURN_IF_ERROR(GetString(*meta, "namespace", p, &out->namespace_name));
  SEXTANT_RETURN_IF_ERROR(GetString(*meta, "name", p, &out->name));
  SEXTANT_RETURN_IF_ERROR(GetString(*meta, "uid", p, &out->uid));
  SEXTANT_ASSIGN_OR_RETURN(const Value* owners, GetArray(*meta, "ownerReferences", p));
  if (owners == nullptr) return absl::OkStatus();
  const Path op = p.Member("ownerReferences");
  for (rapidjson::SizeType i = 0; i < owners->Size(); ++i) {
    const Value& o = (*owners)[i];
    const Path rp = op.Element(i);
    if (!o.IsObject()) return WrongType(rp, "an object");
    bool controller = false;
    SEXTANT_RETURN_IF_ERROR(GetBool(o, "controller", rp, &controller));
    if (!controller || !out->controller_kind.empty()) continue;
    SEXTANT_RETURN_IF_ERROR(GetString(o, "kind", rp, &out->controller_kind));
    SEXTANT_RETURN_IF_ERROR(GetString(o, "name", rp, &out->controller_name));
  }
  return absl::OkStatus();
}

absl::Status ReadPod(const Value& pod, const Path& p, KubeletPod* out) {
  if (!pod.IsObject()) return WrongType(p, "an object");
  SEXTANT_RETURN_IF_ERROR(ReadMetadata(pod, p, out));
  SEXTANT_ASSIGN_OR_RETURN(const Value* spec, GetObject(pod, "spec", p));
  if (spec != nullptr) {
    const Path sp = p.Member("spec");
    SEXTANT_RETURN_IF_ERROR(GetString(*spec, "nodeName", sp, &out->node_name));
    SEXTANT_RETURN_IF_ERROR(GetString(*spec, "priorityClassName", sp, &out->priority_class));
    SEXTANT_RETURN_IF_ERROR(GetBool(*spec, "hostNetwork", sp, &out->host_network));
    SEXTANT_RETURN_IF_ERROR(ReadContainers(*spec, "containers", sp, &out->containers));
    SEXTANT_RETURN_IF_ERROR(ReadContainers(*spec, "initContainers", sp, &out->init_containers));
  }
  SEXTANT_ASSIGN_OR_RETURN(const Value* status, GetObject(pod, "status", p));
  if (status != nullptr) {
    const Path sp = p.Member("status");
    SEXTANT_RETURN_IF_ERROR(GetString(*status, "phase", sp, &out->phase));
    SEXTANT_RETURN_IF_ERROR(GetString(*status, "podIP", sp, &out->pod_ip));
    SEXTANT_RETURN_IF_ERROR(GetString(*status, "hostIP", sp, &out->host_ip));
    SEXTANT_ASSIGN_OR_RETURN(const Value* conditions, GetArray(*status, "conditions", sp));
    if (conditions != nullptr) {
      const Path cp = sp.Member("conditions");
      for (rapidjson::SizeType i = 0; i < conditions->Size(); ++i) {
        const Value& c = (*conditions)[i];
        if (!c.IsObject()) return WrongType(cp.Element(i), "an object");
        std::string type;
        SEXTANT_RETURN_IF_ERROR(GetString(c, "type", cp.Element(i), &type));
        if (type != "Ready") continue;
        SEXTANT_RETURN_IF_ERROR(GetString(c, "status", cp.Element(i), &out->ready_condition));
      }
    }
    SEXTANT_RETURN_IF_ERROR(
        ReadContainerStatuses(*status, "containerStatuses", sp, &out->container_statuses));
    SEXTANT_RETURN_IF_ERROR(
        ReadContainerStatuses(*status, "initContainerStatuses", sp, &out->init_container_statuses));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<KubeletPod>> ParseKubeletPods(absl::string_view json,
                                                         std::vector<absl::Status>* skipped) {
  rapidjson::Document doc;
  rapidjson::MemoryStream stream(json.data(), json.size());
  // Iterative parsing keeps deeply nested input from exhausting the stack; the document's pool
  // allocator frees it without recursion.
  constexpr unsigned kFlags =
      rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  doc.ParseStream<kFlags>(stream);
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kubelet pods: invalid JSON at offset ", doc.GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(doc.GetParseError())));
  }
  // The reader takes a NUL byte for the end of the input; anything left means one was there.
  if (stream.Tell() != json.size()) {
    return absl::InvalidArgumentError(absl::StrCat("kubelet pods: invalid JSON at offset ",
                                                   stream.Tell(), ": unexpected NUL byte"));
  }
  if (!doc.IsObject()) return absl::InvalidArgumentError("kubelet pods: not a JSON object");
  const Path root;
  std::string kind;
  SEXTANT_RETURN_IF_ERROR(GetString(doc, "kind", root, &kind), _.Prepend("kubelet pods: "));
  if (!kind.empty() && kind != "PodList") {
    return absl::InvalidArgumentError(
        absl::StrCat("kubelet pods: kind is \"", kind, "\", not \"PodList\""));
  }
  const bool has_items = doc.HasMember("items");
  if (kind.empty() && !has_items) {
    return absl::InvalidArgumentError("kubelet pods: not a PodList (no kind, no items)");
  }
  std::vector<KubeletPod> pods;
  SEXTANT_ASSIGN_OR_RETURN(const Value* items, GetArray(doc, "items", root),
                           _.Prepend("kubelet pods: "));
  if (items == nullptr) return pods;
  pods.reserve(items->Size());
  const Path ip = root.Member("items");
  for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
    absl::Status s = ReadPod((*items)[i], ip.Element(i), &pods.emplace_back());
    if (s.ok()) continue;
    s = Annotate(s, "kubelet pods: ");
    if (skipped == nullptr) return s;
    pods.pop_back();
    skipped->push_back(std::move(s));
  }
  return pods;
}

absl::string_view StripRuntimePrefix(absl::string_view container_id) {
  const size_t sep = container_id.find("://");
  return sep == absl::string_view::npos ? container_id : container_id.substr(sep + 3);
}

PodIndex BuildPodIndex(const std::vector<KubeletPod>& pods) {
  PodIndex index;
  for (const KubeletPod& pod : pods) {
    if (pod.uid.empty()) continue;
    PodMeta meta;
    meta.uid = pod.uid;
    meta.namespace_name = pod.namespace_name;
    meta.name = pod.name;
    for (const auto* statuses : {&pod.container_statuses, &pod.init_container_statuses}) {
      for (const KubeletContainerStatus& s : *statuses) {
        const absl::string_view id = StripRuntimePrefix(s.container_id);
        if (id.empty()) continue;
        meta.containers.push_back(ContainerMeta{s.name, std::string(id)});
      }
    }
    index.Add(std::move(meta));
  }
  return index;
}

}  // namespace sextant::collector
