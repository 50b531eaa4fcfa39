#include "kube/objects.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sextant::kube {
namespace {

using rapidjson::Value;

std::string Join(absl::string_view path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

absl::Status WrongType(absl::string_view path, absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat("field ", path, ": expected ", want));
}

// The member `key` of `obj`, or null when absent or JSON null.
const Value* Find(const Value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

absl::Status GetString(const Value& obj, const char* key, absl::string_view path,
                       std::string* out) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsString()) return WrongType(Join(path, key), "a string");
  out->assign(v->GetString(), v->GetStringLength());
  return absl::OkStatus();
}

absl::Status GetInt64(const Value& obj, const char* key, absl::string_view path, int64_t* out) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsInt64()) return WrongType(Join(path, key), "an integer");
  *out = v->GetInt64();
  return absl::OkStatus();
}

absl::Status GetInt32(const Value& obj, const char* key, absl::string_view path, int32_t* out) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsInt()) return WrongType(Join(path, key), "a 32-bit integer");
  *out = v->GetInt();
  return absl::OkStatus();
}

absl::Status GetOptInt32(const Value& obj, const char* key, absl::string_view path,
                         std::optional<int32_t>* out) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsInt()) return WrongType(Join(path, key), "a 32-bit integer");
  *out = v->GetInt();
  return absl::OkStatus();
}

absl::Status GetBool(const Value& obj, const char* key, absl::string_view path, bool* out) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsBool()) return WrongType(Join(path, key), "a boolean");
  *out = v->GetBool();
  return absl::OkStatus();
}

absl::Status GetTime(const Value& obj, const char* key, absl::string_view path,
                     std::optional<absl::Time>* out) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->IsString()) return WrongType(Join(path, key), "an RFC 3339 time string");
  auto t = ParseKubeTime(absl::string_view(v->GetString(), v->GetStringLength()));
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field ", Join(path, key), ": ", t.status().message()));
  }
  *out = *t;
  return absl::OkStatus();
}

// A map of strings (labels, annotations, quantities). Quantities given as JSON numbers are kept
// as their text.
absl::Status GetStringMap(const Value& obj, const char* key, absl::string_view path,
                          std::map<std::string, std::string>* out) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return absl::OkStatus();
  const std::string p = Join(path, key);
  if (!v->IsObject()) return WrongType(p, "an object");
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    std::string k(it->name.GetString(), it->name.GetStringLength());
    if (it->value.IsString()) {
      (*out)[k].assign(it->value.GetString(), it->value.GetStringLength());
    } else if (it->value.IsNumber()) {
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      it->value.Accept(w);
      (*out)[k] = buf.GetString();
    } else {
      return WrongType(Join(p, k), "a string");
    }
  }
  return absl::OkStatus();
}

// The object member `key`, or null when absent; InvalidArgument when not an object.
absl::StatusOr<const Value*> GetObject(const Value& obj, const char* key, absl::string_view path) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return nullptr;
  if (!v->IsObject()) return WrongType(Join(path, key), "an object");
  return v;
}

absl::StatusOr<const Value*> GetArray(const Value& obj, const char* key, absl::string_view path) {
  const Value* v = Find(obj, key);
  if (v == nullptr) return nullptr;
  if (!v->IsArray()) return WrongType(Join(path, key), "an array");
  return v;
}

absl::Status ParseDocument(absl::string_view json, rapidjson::Document* doc) {
  doc->Parse(json.data(), json.size());
  if (doc->HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON at offset ", doc->GetErrorOffset()));
  }
  if (!doc->IsObject()) return absl::InvalidArgumentError("not a JSON object");
  return absl::OkStatus();
}

absl::Status ReadMeta(const Value& obj, ObjectMeta* meta) {
  SEXTANT_ASSIGN_OR_RETURN(const Value* m, GetObject(obj, "metadata", ""));
  if (m == nullptr) return absl::OkStatus();
  const char* p = "metadata";
  SEXTANT_RETURN_IF_ERROR(GetString(*m, "name", p, &meta->name));
  SEXTANT_RETURN_IF_ERROR(GetString(*m, "namespace", p, &meta->namespace_name));
  SEXTANT_RETURN_IF_ERROR(GetString(*m, "uid", p, &meta->uid));
  SEXTANT_RETURN_IF_ERROR(GetString(*m, "resourceVersion", p, &meta->resource_version));
  SEXTANT_RETURN_IF_ERROR(GetInt64(*m, "generation", p, &meta->generation));
  SEXTANT_RETURN_IF_ERROR(GetStringMap(*m, "labels", p, &meta->labels));
  SEXTANT_RETURN_IF_ERROR(GetStringMap(*m, "annotations", p, &meta->annotations));
  SEXTANT_RETURN_IF_ERROR(GetTime(*m, "creationTimestamp", p, &meta->creation_timestamp));
  SEXTANT_RETURN_IF_ERROR(GetTime(*m, "deletionTimestamp", p, &meta->deletion_timestamp));
  return absl::OkStatus();
}

void WriteStringMap(JsonWriter& w, absl::string_view key,
                    const std::map<std::string, std::string>& m) {
  if (m.empty()) return;
  w.Key(key);
  w.StartObject();
  for (const auto& [k, v] : m) {
    w.Key(k);
    w.String(v);
  }
  w.EndObject();
}

void WriteStringIfSet(JsonWriter& w, absl::string_view key, absl::string_view value) {
  if (value.empty()) return;
  w.Key(key);
  w.String(value);
}

void WriteMeta(JsonWriter& w, const ObjectMeta& meta) {
  w.Key("metadata");
  w.StartObject();
  WriteStringIfSet(w, "name", meta.name);
  WriteStringIfSet(w, "namespace", meta.namespace_name);
  WriteStringIfSet(w, "uid", meta.uid);
  WriteStringIfSet(w, "resourceVersion", meta.resource_version);
  WriteStringMap(w, "labels", meta.labels);
  WriteStringMap(w, "annotations", meta.annotations);
  w.EndObject();
}

absl::Status ReadResources(const Value& c, absl::string_view path, Container* out) {
  SEXTANT_ASSIGN_OR_RETURN(const Value* r, GetObject(c, "resources", path));
  if (r == nullptr) return absl::OkStatus();
  const std::string p = Join(path, "resources");
  SEXTANT_RETURN_IF_ERROR(GetStringMap(*r, "requests", p, &out->requests));
  SEXTANT_RETURN_IF_ERROR(GetStringMap(*r, "limits", p, &out->limits));
  return absl::OkStatus();
}

absl::Status ReadContainerStatus(const Value& s, absl::string_view p, ContainerStatus* out) {
  if (!s.IsObject()) return WrongType(p, "an object");
  SEXTANT_RETURN_IF_ERROR(GetString(s, "name", p, &out->name));
  SEXTANT_RETURN_IF_ERROR(GetString(s, "containerID", p, &out->container_id));
  SEXTANT_RETURN_IF_ERROR(GetBool(s, "ready", p, &out->ready));
  SEXTANT_RETURN_IF_ERROR(GetInt32(s, "restartCount", p, &out->restart_count));
  SEXTANT_ASSIGN_OR_RETURN(const Value* state, GetObject(s, "state", p));
  if (state != nullptr) {
    const std::string sp = Join(p, "state");
    SEXTANT_ASSIGN_OR_RETURN(const Value* waiting, GetObject(*state, "waiting", sp));
    if (waiting != nullptr) {
      SEXTANT_RETURN_IF_ERROR(
          GetString(*waiting, "reason", Join(sp, "waiting"), &out->waiting_reason));
    }
    SEXTANT_ASSIGN_OR_RETURN(const Value* running, GetObject(*state, "running", sp));
    out->running = running != nullptr;
  }
  SEXTANT_ASSIGN_OR_RETURN(const Value* last, GetObject(s, "lastState", p));
  if (last != nullptr) {
    const std::string lp = Join(p, "lastState");
    SEXTANT_ASSIGN_OR_RETURN(const Value* term, GetObject(*last, "terminated", lp));
    if (term != nullptr) {
      const std::string tp = Join(lp, "terminated");
      SEXTANT_RETURN_IF_ERROR(GetString(*term, "reason", tp, &out->last_terminated_reason));
      SEXTANT_RETURN_IF_ERROR(GetOptInt32(*term, "exitCode", tp, &out->last_terminated_exit_code));
      SEXTANT_RETURN_IF_ERROR(GetTime(*term, "finishedAt", tp, &out->last_terminated_finished_at));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string FormatKubeTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string FormatKubeMicroTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

absl::StatusOr<absl::Time> ParseKubeTime(absl::string_view text) {
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &err)) {
    return absl::InvalidArgumentError(absl::StrCat("bad RFC 3339 time \"", text, "\": ", err));
  }
  return t;
}

std::string ObjectKey(const ObjectMeta& meta) {
  if (meta.namespace_name.empty()) return meta.name;
  return absl::StrCat(meta.namespace_name, "/", meta.name);
}

const PodCondition* Pod::FindCondition(absl::string_view type) const {
  for (const PodCondition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool Pod::IsReady() const {
  const PodCondition* c = FindCondition("Ready");
  return c != nullptr && c->status == "True";
}

absl::StatusOr<ObjectMeta> ParseObjectMeta(absl::string_view object_json) {
  rapidjson::Document doc;
  SEXTANT_RETURN_IF_ERROR(ParseDocument(object_json, &doc));
  ObjectMeta meta;
  SEXTANT_RETURN_IF_ERROR(ReadMeta(doc, &meta));
  return meta;
}

absl::StatusOr<Scale> ParseScale(absl::string_view json) {
  rapidjson::Document doc;
  SEXTANT_RETURN_IF_ERROR(ParseDocument(json, &doc));
  Scale out;
  SEXTANT_RETURN_IF_ERROR(ReadMeta(doc, &out.metadata));
  SEXTANT_ASSIGN_OR_RETURN(const Value* spec, GetObject(doc, "spec", ""));
  if (spec != nullptr) {
    SEXTANT_RETURN_IF_ERROR(GetInt32(*spec, "replicas", "spec", &out.spec_replicas));
  }
  SEXTANT_ASSIGN_OR_RETURN(const Value* status, GetObject(doc, "status", ""));
  if (status != nullptr) {
    SEXTANT_RETURN_IF_ERROR(GetInt32(*status, "replicas", "status", &out.status_replicas));
    SEXTANT_RETURN_IF_ERROR(GetString(*status, "selector", "status", &out.status_selector));
  }
  return out;
}

absl::StatusOr<Lease> ParseLease(absl::string_view json) {
  rapidjson::Document doc;
  SEXTANT_RETURN_IF_ERROR(ParseDocument(json, &doc));
  Lease out;
  SEXTANT_RETURN_IF_ERROR(ReadMeta(doc, &out.metadata));
  SEXTANT_ASSIGN_OR_RETURN(const Value* spec, GetObject(doc, "spec", ""));
  if (spec != nullptr) {
    SEXTANT_RETURN_IF_ERROR(GetString(*spec, "holderIdentity", "spec", &out.holder_identity));
    SEXTANT_RETURN_IF_ERROR(
        GetOptInt32(*spec, "leaseDurationSeconds", "spec", &out.lease_duration_seconds));
    SEXTANT_RETURN_IF_ERROR(GetTime(*spec, "acquireTime", "spec", &out.acquire_time));
    SEXTANT_RETURN_IF_ERROR(GetTime(*spec, "renewTime", "spec", &out.renew_time));
    SEXTANT_RETURN_IF_ERROR(GetInt32(*spec, "leaseTransitions", "spec", &out.lease_transitions));
  }
  return out;
}

absl::StatusOr<Event> ParseEvent(absl::string_view json) {
  rapidjson::Document doc;
  SEXTANT_RETURN_IF_ERROR(ParseDocument(json, &doc));
  Event out;
  SEXTANT_RETURN_IF_ERROR(ReadMeta(doc, &out.metadata));
  SEXTANT_ASSIGN_OR_RETURN(const Value* io, GetObject(doc, "involvedObject", ""));
  if (io != nullptr) {
    const char* p = "involvedObject";
    ObjectReference& r = out.involved_object;
    SEXTANT_RETURN_IF_ERROR(GetString(*io, "apiVersion", p, &r.api_version));
    SEXTANT_RETURN_IF_ERROR(GetString(*io, "kind", p, &r.kind));
    SEXTANT_RETURN_IF_ERROR(GetString(*io, "namespace", p, &r.namespace_name));
    SEXTANT_RETURN_IF_ERROR(GetString(*io, "name", p, &r.name));
    SEXTANT_RETURN_IF_ERROR(GetString(*io, "uid", p, &r.uid));
    SEXTANT_RETURN_IF_ERROR(GetString(*io, "fieldPath", p, &r.field_path));
  }
  SEXTANT_RETURN_IF_ERROR(GetString(doc, "reason", "", &out.reason));
  SEXTANT_RETURN_IF_ERROR(GetString(doc, "message", "", &out.message));
  SEXTANT_RETURN_IF_ERROR(GetString(doc, "type", "", &out.type));
  SEXTANT_RETURN_IF_ERROR(GetInt32(doc, "count", "", &out.count));
  SEXTANT_RETURN_IF_ERROR(GetTime(doc, "firstTimestamp", "", &out.first_timestamp));
  SEXTANT_RETURN_IF_ERROR(GetTime(doc, "lastTimestamp", "", &out.last_timestamp));
  SEXTANT_ASSIGN_OR_RETURN(const Value* source, GetObject(doc, "source", ""));
  if (source != nullptr) {
    SEXTANT_RETURN_IF_ERROR(GetString(*source, "component", "source", &out.source_component));
  }
  SEXTANT_RETURN_IF_ERROR(GetString(doc, "reportingComponent", "", &out.reporting_component));
  return out;
}

absl::StatusOr<Pod> ParsePod(absl::string_view json) {
  rapidjson::Document doc;
  SEXTANT_RETURN_IF_ERROR(ParseDocument(json, &doc));
  Pod out;
  SEXTANT_RETURN_IF_ERROR(ReadMeta(doc, &out.metadata));
  SEXTANT_ASSIGN_OR_RETURN(const Value* spec, GetObject(doc, "spec", ""));
  if (spec != nullptr) {
    SEXTANT_RETURN_IF_ERROR(GetString(*spec, "nodeName", "spec", &out.node_name));
    SEXTANT_ASSIGN_OR_RETURN(const Value* containers, GetArray(*spec, "containers", "spec"));
    if (containers != nullptr) {
      for (rapidjson::SizeType i = 0; i < containers->Size(); ++i) {
        const std::string p = absl::StrCat("spec.containers[", i, "]");
        const Value& c = (*containers)[i];
        if (!c.IsObject()) return WrongType(p, "an object");
        Container container;
        SEXTANT_RETURN_IF_ERROR(GetString(c, "name", p, &container.name));
        SEXTANT_RETURN_IF_ERROR(ReadResources(c, p, &container));
        out.containers.push_back(std::move(container));
      }
    }
  }
  SEXTANT_ASSIGN_OR_RETURN(const Value* status, GetObject(doc, "status", ""));
  if (status != nullptr) {
    SEXTANT_RETURN_IF_ERROR(GetString(*status, "phase", "status", &out.phase));
    SEXTANT_RETURN_IF_ERROR(GetTime(*status, "startTime", "status", &out.start_time));
    SEXTANT_ASSIGN_OR_RETURN(const Value* conds, GetArray(*status, "conditions", "status"));
    if (conds != nullptr) {
      for (rapidjson::SizeType i = 0; i < conds->Size(); ++i) {
        const std::string p = absl::StrCat("status.conditions[", i, "]");
        const Value& c = (*conds)[i];
        if (!c.IsObject()) return WrongType(p, "an object");
        PodCondition cond;
        SEXTANT_RETURN_IF_ERROR(GetString(c, "type", p, &cond.type));
        SEXTANT_RETURN_IF_ERROR(GetString(c, "status", p, &cond.status));
        SEXTANT_RETURN_IF_ERROR(GetTime(c, "lastTransitionTime", p, &cond.last_transition_time));
        out.conditions.push_back(std::move(cond));
      }
    }
    SEXTANT_ASSIGN_OR_RETURN(const Value* statuses,
                             GetArray(*status, "containerStatuses", "status"));
    if (statuses != nullptr) {
      for (rapidjson::SizeType i = 0; i < statuses->Size(); ++i) {
        ContainerStatus cs;
        SEXTANT_RETURN_IF_ERROR(ReadContainerStatus(
            (*statuses)[i], absl::StrCat("status.containerStatuses[", i, "]"), &cs));
        out.container_statuses.push_back(std::move(cs));
      }
    }
  }
  return out;
}

absl::StatusOr<Node> ParseNode(absl::string_view json) {
  rapidjson::Document doc;
  SEXTANT_RETURN_IF_ERROR(ParseDocument(json, &doc));
  Node out;
  SEXTANT_RETURN_IF_ERROR(ReadMeta(doc, &out.metadata));
  SEXTANT_ASSIGN_OR_RETURN(const Value* status, GetObject(doc, "status", ""));
  if (status != nullptr) {
    SEXTANT_RETURN_IF_ERROR(GetStringMap(*status, "capacity", "status", &out.capacity));
    SEXTANT_RETURN_IF_ERROR(GetStringMap(*status, "allocatable", "status", &out.allocatable));
    SEXTANT_ASSIGN_OR_RETURN(const Value* addrs, GetArray(*status, "addresses", "status"));
    if (addrs != nullptr) {
      for (rapidjson::SizeType i = 0; i < addrs->Size(); ++i) {
        const std::string p = absl::StrCat("status.addresses[", i, "]");
        const Value& a = (*addrs)[i];
        if (!a.IsObject()) return WrongType(p, "an object");
        NodeAddress addr;
        SEXTANT_RETURN_IF_ERROR(GetString(a, "type", p, &addr.type));
        SEXTANT_RETURN_IF_ERROR(GetString(a, "address", p, &addr.address));
        out.addresses.push_back(std::move(addr));
      }
    }
  }
  return out;
}

absl::StatusOr<ObjectList> ParseObjectList(absl::string_view json) {
  rapidjson::Document doc;
  SEXTANT_RETURN_IF_ERROR(ParseDocument(json, &doc));
  ObjectList out;
  SEXTANT_ASSIGN_OR_RETURN(const Value* m, GetObject(doc, "metadata", ""));
  if (m != nullptr) {
    SEXTANT_RETURN_IF_ERROR(GetString(*m, "resourceVersion", "metadata", &out.resource_version));
    SEXTANT_RETURN_IF_ERROR(GetString(*m, "continue", "metadata", &out.continue_token));
  }
  SEXTANT_ASSIGN_OR_RETURN(const Value* items, GetArray(doc, "items", ""));
  if (items != nullptr) {
    for (rapidjson::SizeType i = 0; i < items->Size(); ++i) {
      const Value& item = (*items)[i];
      if (!item.IsObject()) return WrongType(absl::StrCat("items[", i, "]"), "an object");
      rapidjson::StringBuffer buf;
      rapidjson::Writer<rapidjson::StringBuffer> w(buf);
      item.Accept(w);
      out.items.emplace_back(buf.GetString(), buf.GetSize());
    }
  }
  return out;
}

std::string ScaleToJson(const Scale& scale) {
  JsonWriter w;
  w.StartObject();
  w.Key("apiVersion");
  w.String("autoscaling/v1");
  w.Key("kind");
  w.String("Scale");
  WriteMeta(w, scale.metadata);
  w.Key("spec");
  w.StartObject();
  w.Key("replicas");
  w.Int(scale.spec_replicas);
  w.EndObject();
  w.Key("status");
  w.StartObject();
  w.Key("replicas");
  w.Int(scale.status_replicas);
  WriteStringIfSet(w, "selector", scale.status_selector);
  w.EndObject();
  w.EndObject();
  return w.TakeString();
}

std::string LeaseToJson(const Lease& lease) {
  JsonWriter w;
  w.StartObject();
  w.Key("apiVersion");
  w.String("coordination.k8s.io/v1");
  w.Key("kind");
  w.String("Lease");
  WriteMeta(w, lease.metadata);
  w.Key("spec");
  w.StartObject();
  WriteStringIfSet(w, "holderIdentity", lease.holder_identity);
  if (lease.lease_duration_seconds.has_value()) {
    w.Key("leaseDurationSeconds");
    w.Int(*lease.lease_duration_seconds);
  }
  if (lease.acquire_time.has_value()) {
    w.Key("acquireTime");
    w.String(FormatKubeMicroTime(*lease.acquire_time));
  }
  if (lease.renew_time.has_value()) {
    w.Key("renewTime");
    w.String(FormatKubeMicroTime(*lease.renew_time));
  }
  w.Key("leaseTransitions");
  w.Int(lease.lease_transitions);
  w.EndObject();
  w.EndObject();
  return w.TakeString();
}

std::string EventToJson(const Event& event) {
  JsonWriter w;
  w.StartObject();
  w.Key("apiVersion");
  w.String("v1");
  w.Key("kind");
  w.String("Event");
  WriteMeta(w, event.metadata);
  w.Key("involvedObject");
  w.StartObject();
  const ObjectReference& r = event.involved_object;
  WriteStringIfSet(w, "apiVersion", r.api_version);
  WriteStringIfSet(w, "kind", r.kind);
  WriteStringIfSet(w, "namespace", r.namespace_name);
  WriteStringIfSet(w, "name", r.name);
  WriteStringIfSet(w, "uid", r.uid);
  WriteStringIfSet(w, "fieldPath", r.field_path);
  w.EndObject();
  WriteStringIfSet(w, "reason", event.reason);
  WriteStringIfSet(w, "message", event.message);
  WriteStringIfSet(w, "type", event.type);
  if (event.count > 0) {
    w.Key("count");
    w.Int(event.count);
  }
  if (event.first_timestamp.has_value()) {
    w.Key("firstTimestamp");
    w.String(FormatKubeTime(*event.first_timestamp));
  }
  if (event.last_timestamp.has_value()) {
    w.Key("lastTimestamp");
    w.String(FormatKubeTime(*event.last_timestamp));
  }
  if (!event.source_component.empty()) {
    w.Key("source");
    w.StartObject();
    w.Key("component");
    w.String(event.source_component);
    w.EndObject();
  }
  WriteStringIfSet(w, "reportingComponent", event.reporting_component);
  w.EndObject();
  return w.TakeString();
}

}  // namespace sextant::kube
