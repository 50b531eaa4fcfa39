#include "tests/fakes/fake_apiserver.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/json.h"
#include "kube/selector.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sextant::fakes {

// One served resource. Fixed after construction.
struct FakeApiServer::ResourceType {
  std::string group;  // "" for core
  std::string version;
  std::string resource;  // plural
  std::string kind;
  bool namespaced = true;
  std::vector<std::string> short_names;
  bool has_status = false;
  bool has_scale = false;
  bool has_log = false;
  bool custom = false;  // a custom resource: updates must carry metadata.resourceVersion

  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  // "deployments.apps" or "pods", as Status messages name a resource.
  std::string QualifiedName() const { return group.empty() ? resource : resource + "." + group; }
};

// A request path resolved to a resource.
struct FakeApiServer::Target {
  const ResourceType* type = nullptr;
  std::string namespace_;
  std::string name;
  std::string subresource;
};

namespace {

using rapidjson::Document;
using rapidjson::Value;
using Allocator = rapidjson::Document::AllocatorType;

std::string ToJson(const Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

bool ParseObject(absl::string_view text, Document& doc) {
  doc.Parse(text.data(), text.size());
  return !doc.HasParseError() && doc.IsObject();
}

const Value* Find(const Value& v, std::initializer_list<const char*> path) {
  const Value* cur = &v;
  for (const char* key : path) {
    if (!cur->IsObject()) return nullptr;
    auto it = cur->FindMember(key);
    if (it == cur->MemberEnd()) return nullptr;
    cur = &it->value;
  }
  return cur;
}

std::string Str(const Value& v, std::initializer_list<const char*> path) {
  const Value* f = Find(v, path);
  return f != nullptr && f->IsString() ? std::string(f->GetString(), f->GetStringLength()) : "";
}

// The member `key` of object `obj`, created as an empty object when absent or not an object.
Value& Child(Value& obj, const char* key, Allocator& a) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) {
    obj.AddMember(Value(key, a), Value(rapidjson::kObjectType), a);
    return obj[key];
  }
  if (!it->value.IsObject()) it->value.SetObject();
  return it->value;
}

void Set(Value& obj, const char* key, Value value, Allocator& a) {
  auto it = obj.FindMember(key);
  if (it != obj.MemberEnd()) {
    it->value = std::move(value);
  } else {
    obj.AddMember(Value(key, a), std::move(value), a);
  }
}

void SetStr(Value& obj, const char* key, absl::string_view s, Allocator& a) {
  Set(obj, key, Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a), a);
}

// RFC 7386 JSON merge patch of `patch` into `target`.
void MergePatch(Value& target, const Value& patch, Allocator& a) {
  if (!patch.IsObject()) {
    target.CopyFrom(patch, a);
    return;
  }
  if (!target.IsObject()) target.SetObject();
  for (auto it = patch.MemberBegin(); it != patch.MemberEnd(); ++it) {
    if (it->value.IsNull()) {
      target.RemoveMember(it->name);
      continue;
    }
    auto t = target.FindMember(it->name);
    if (t == target.MemberEnd()) {
      Value fresh(rapidjson::kObjectType);
      MergePatch(fresh, it->value, a);
      target.AddMember(Value(it->name, a), std::move(fresh), a);
    } else {
      MergePatch(t->value, it->value, a);
    }
  }
}

std::string StatusJson(int code, absl::string_view reason, absl::string_view message,
                       absl::string_view name = "", absl::string_view group = "",
                       absl::string_view kind = "") {
  JsonWriter w;
  w.StartObject();
  w.Key("kind");
  w.String("Status");
  w.Key("apiVersion");
  w.String("v1");
  w.Key("metadata");
  w.StartObject();
  w.EndObject();
  w.Key("status");
  w.String("Failure");
  w.Key("message");
  w.String(message);
  w.Key("reason");
  w.String(reason);
  if (!name.empty() || !kind.empty()) {
    w.Key("details");
    w.StartObject();
    if (!name.empty()) {
      w.Key("name");
      w.String(name);
    }
    w.Key("group");
    w.String(group);
    w.Key("kind");
    w.String(kind);
    w.EndObject();
  }
  w.Key("code");
  w.Int(code);
  w.EndObject();
  return w.TakeString();
}

HttpResponse StatusResponse(int code, absl::string_view reason, absl::string_view message,
                            absl::string_view name = "", absl::string_view group = "",
                            absl::string_view kind = "") {
  return HttpResponse::Json(code, StatusJson(code, reason, message, name, group, kind));
}

HttpResponse NotFound(const FakeApiServer::Target& t) {
  return StatusResponse(404, "NotFound",
                        absl::StrCat(t.type->QualifiedName(), " \"", t.name, "\" not found"),
                        t.name, t.type->group, t.type->resource);
}

HttpResponse Conflict(const FakeApiServer::Target& t) {
  return StatusResponse(
      409, "Conflict",
      absl::StrCat("Operation cannot be fulfilled on ", t.type->QualifiedName(), " \"", t.name,
                   "\": the object has been modified; please apply your "
                   "changes to the latest version and try again"),
      t.name, t.type->group, t.type->resource);
}

HttpResponse BadRequest(absl::string_view message) {
  return StatusResponse(400, "BadRequest", message);
}

// --- Selectors ---

bool MatchesLabels(const kube::LabelSelector& selector, const Value& obj) {
  const Value* labels = Find(obj, {"metadata", "labels"});
  std::string scratch;
  return selector.MatchesWith([&](const std::string& key) -> const std::string* {
    if (labels == nullptr || !labels->IsObject() || !labels->HasMember(key.c_str())) {
      return nullptr;
    }
    const Value& v = (*labels)[key.c_str()];
    scratch = v.IsString() ? v.GetString() : "";
    return &scratch;
  });
}

struct FieldRequirement {
  std::string field;
  bool equal;
  std::string value;
};

absl::StatusOr<std::vector<FieldRequirement>> ParseFieldSelector(absl::string_view s) {
  std::vector<FieldRequirement> out;
  if (absl::StripAsciiWhitespace(s).empty()) return out;
  for (absl::string_view term : absl::StrSplit(s, ',')) {
    FieldRequirement r;
    size_t p;
    if ((p = term.find("!=")) != absl::string_view::npos) {
      r.equal = false;
      r.value = std::string(term.substr(p + 2));
    } else if ((p = term.find("==")) != absl::string_view::npos) {
      r.equal = true;
      r.value = std::string(term.substr(p + 2));
    } else if ((p = term.find('=')) != absl::string_view::npos) {
      r.equal = true;
      r.value = std::string(term.substr(p + 1));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("invalid selector: '", s, "'"));
    }
    r.field = std::string(absl::StripAsciiWhitespace(term.substr(0, p)));
    if (r.field != "metadata.name" && r.field != "metadata.namespace" &&
        r.field != "spec.nodeName" && r.field != "status.phase") {
      return absl::InvalidArgumentError(absl::StrCat("field label not supported: ", r.field));
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool MatchesFields(const std::vector<FieldRequirement>& reqs, const Value& obj) {
  for (const FieldRequirement& r : reqs) {
    std::vector<std::string> parts = absl::StrSplit(r.field, '.');
    std::string value = Str(obj, {parts[0].c_str(), parts[1].c_str()});
    if ((value == r.value) != r.equal) return false;
  }
  return true;
}

struct Selectors {
  kube::LabelSelector labels;
  std::vector<FieldRequirement> fields;
  bool Matches(const Value& obj) const {
    return MatchesLabels(labels, obj) && MatchesFields(fields, obj);
  }
};

absl::StatusOr<Selectors> ParseSelectors(const HttpRequest& request) {
  Selectors s;
  auto labels = kube::LabelSelector::Parse(request.params.Get("labelSelector"));
  if (!labels.ok()) return labels.status();
  s.labels = *std::move(labels);
  auto fields = ParseFieldSelector(request.params.Get("fieldSelector"));
  if (!fields.ok()) return fields.status();
  s.fields = *std::move(fields);
  return s;
}

// The Scale (autoscaling/v1) view of a scalable object.
std::string ScaleOf(const Value& obj) {
  Document scale(rapidjson::kObjectType);
  Allocator& a = scale.GetAllocator();
  SetStr(scale, "kind", "Scale", a);
  SetStr(scale, "apiVersion", "autoscaling/v1", a);
  Value& meta = Child(scale, "metadata", a);
  for (const char* key : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"}) {
    SetStr(meta, key, Str(obj, {"metadata", key}), a);
  }
  const Value* spec_replicas = Find(obj, {"spec", "replicas"});
  const Value* status_replicas = Find(obj, {"status", "replicas"});
  Child(scale, "spec", a)
      .AddMember("replicas",
                 spec_replicas != nullptr && spec_replicas->IsInt() ? spec_replicas->GetInt() : 1,
                 a);
  Value& status = Child(scale, "status", a);
  status.AddMember(
      "replicas",
      status_replicas != nullptr && status_replicas->IsInt() ? status_replicas->GetInt() : 0, a);
  std::vector<std::string> terms;
  const Value* match = Find(obj, {"spec", "selector", "matchLabels"});
  if (match != nullptr && match->IsObject()) {
    for (auto it = match->MemberBegin(); it != match->MemberEnd(); ++it) {
      if (it->value.IsString()) {
        terms.push_back(absl::StrCat(it->name.GetString(), "=", it->value.GetString()));
      }
    }
  }
  SetStr(status, "selector", absl::StrJoin(terms, ","), a);
  return ToJson(scale);
}

// Everything but metadata and status: what bumps metadata.generation when it changes.
bool SpecEqual(const Value& a, const Value& b) {
  for (auto it = a.MemberBegin(); it != a.MemberEnd(); ++it) {
    absl::string_view name = it->name.GetString();
    if (name == "metadata" || name == "status") continue;
    auto o = b.FindMember(it->name);
    if (o == b.MemberEnd() || !(o->value == it->value)) return false;
  }
  for (auto it = b.MemberBegin(); it != b.MemberEnd(); ++it) {
    absl::string_view name = it->name.GetString();
    if (name == "metadata" || name == "status") continue;
    if (!a.HasMember(it->name)) return false;
  }
  return true;
}

}  // namespace

FakeApiServer::FakeApiServer(const FakeApiServerOptions& options, Clock& clock)
    : options_(options), clock_(clock) {
  auto add = [&](std::string group, std::string version, std::string resource, std::string kind,
                 bool namespaced, std::vector<std::string> short_names, bool status, bool scale,
                 bool log) {
    auto t = std::make_unique<ResourceType>();
    t->group = std::move(group);
    t->version = std::move(version);
    t->resource = std::move(resource);
    t->kind = std::move(kind);
    t->namespaced = namespaced;
    t->short_names = std::move(short_names);
    t->has_status = status;
    t->has_scale = scale;
    t->has_log = log;
    types_.push_back(std::move(t));
  };
  add("", "v1", "pods", "Pod", true, {"po"}, true, false, true);
  add("", "v1", "nodes", "Node", false, {"no"}, true, false, false);
  add("", "v1", "events", "Event", true, {"ev"}, false, false, false);
  add("", "v1", "namespaces", "Namespace", false, {"ns"}, true, false, false);
  add("apps", "v1", "deployments", "Deployment", true, {"deploy"}, true, true, false);
  add("apps", "v1", "statefulsets", "StatefulSet", true, {"sts"}, true, true, false);
  add("apps", "v1", "replicasets", "ReplicaSet", true, {"rs"}, true, true, false);
  add("coordination.k8s.io", "v1", "leases", "Lease", true, {}, false, false, false);
  add("autoscaling.sextant.dev", "v1alpha1", "scalingpolicies", "ScalingPolicy", true, {"sp"}, true,
      false, false);
  types_.back()->custom = true;
}

FakeApiServer::~FakeApiServer() { Stop(); }

absl::StatusOr<std::unique_ptr<FakeApiServer>> FakeApiServer::Create(
    const FakeApiServerOptions& options, Clock& clock) {
  if (options.tls && options.tls_cert_file.empty()) {
    return absl::InvalidArgumentError("fake apiserver: tls needs tls_cert_file");
  }
  HttpServerOptions http;
  http.listen = options.listen;
  http.gzip_min_bytes = 0;
  http.threads = 64;  // watches hold a thread each until they end
  if (options.tls) {
    http.tls_cert_file = options.tls_cert_file;
    http.tls_key_file = options.tls_key_file;
    http.tls_client_ca_file = options.tls_client_ca_file;
  }
  auto server = HttpServer::Create(http);
  if (!server.ok()) return server.status();
  std::unique_ptr<FakeApiServer> fake(new FakeApiServer(options, clock));
  fake->server_ = *std::move(server);
  fake->InstallRoutes();
  return fake;
}

void FakeApiServer::InstallRoutes() {
  HttpHandler h = [this](const HttpRequest& r) { return Serve(r); };
  for (const char* pattern : {"/version", "/api", "/apis", "/api/<rest...>", "/apis/<rest...>",
                              "/openapi/<rest...>", "/<rest...>"}) {
    server_->Handle("*", pattern, h);
  }
}

absl::Status FakeApiServer::Start() { return server_->Start(); }

void FakeApiServer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  server_->Stop();
}

std::string FakeApiServer::url() const {
  return absl::StrCat(options_.tls ? "https://" : "http://", server_->address());
}

std::string FakeApiServer::Now() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", clock_.Now(), absl::UTCTimeZone());
}

std::string FakeApiServer::NewUidLocked() {
  ++uid_counter_;
  return absl::StrFormat("%08x-0000-4000-8000-%012x", uid_counter_ * 2654435761u % 0xffffffffu,
                         uid_counter_);
}

std::string FakeApiServer::StoreLocked(const Key& key, std::string object,
                                       absl::string_view event_type) {
  Document doc;
  ParseObject(object, doc);
  ++rv_;
  SetStr(Child(doc, "metadata", doc.GetAllocator()), "resourceVersion", absl::StrCat(rv_),
         doc.GetAllocator());
  std::string stored = ToJson(doc);
  std::string& slot = objects_[key];
  std::string previous = event_type == "MODIFIED" ? std::move(slot) : std::string();
  slot = stored;
  history_.push_back(Event{rv_, std::get<0>(key), std::get<1>(key), std::get<2>(key),
                           std::string(event_type), stored, std::move(previous)});
  while (static_cast<int>(history_.size()) > std::max(1, options_.watch_history)) {
    history_start_rv_ = history_.front().rv;
    history_.pop_front();
  }
  return stored;
}

std::string FakeApiServer::DeleteLocked(const Key& key) {
  auto it = objects_.find(key);
  std::string object = it->second;
  objects_.erase(it);
  Document doc;
  ParseObject(object, doc);
  ++rv_;
  SetStr(Child(doc, "metadata", doc.GetAllocator()), "resourceVersion", absl::StrCat(rv_),
         doc.GetAllocator());
  std::string last = ToJson(doc);
  history_.push_back(
      Event{rv_, std::get<0>(key), std::get<1>(key), std::get<2>(key), "DELETED", last, ""});
  while (static_cast<int>(history_.size()) > std::max(1, options_.watch_history)) {
    history_start_rv_ = history_.front().rv;
    history_.pop_front();
  }
  logs_.erase(logs_.lower_bound({std::get<1>(key), std::get<2>(key), ""}),
              logs_.lower_bound({std::get<1>(key), std::get<2>(key) + '\0', ""}));
  return last;
}

// --- Test-facing API ---

absl::StatusOr<std::string> FakeApiServer::PutObject(absl::string_view json) {
  absl::MutexLock lock(&mu_);
  return PutObjectLocked(json, nullptr);
}

absl::StatusOr<std::string> FakeApiServer::PutObjectLocked(absl::string_view json,
                                                           const ResourceType* type) {
  Document doc;
  if (!ParseObject(json, doc)) return absl::InvalidArgumentError("object is not a JSON object");
  Allocator& a = doc.GetAllocator();
  if (type == nullptr) {
    std::string api_version = Str(doc, {"apiVersion"});
    std::string kind = Str(doc, {"kind"});
    for (const auto& t : types_) {
      if (t->GroupVersion() == api_version && t->kind == kind) type = t.get();
    }
    if (type == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown kind ", api_version, " ", kind));
    }
  }
  SetStr(doc, "apiVersion", type->GroupVersion(), a);
  SetStr(doc, "kind", type->kind, a);
  Value& meta = Child(doc, "metadata", a);
  std::string name = Str(doc, {"metadata", "name"});
  std::string ns = type->namespaced ? Str(doc, {"metadata", "namespace"}) : "";
  if (name.empty()) return absl::InvalidArgumentError("metadata.name is required");
  if (type->namespaced && ns.empty()) {
    ns = "default";
    SetStr(meta, "namespace", ns, a);
  }
  Key key{type, ns, name};
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    SetStr(meta, "uid", NewUidLocked(), a);
    SetStr(meta, "creationTimestamp", Now(), a);
    Set(meta, "generation", Value(1), a);
    if (type->kind == "Deployment" || type->kind == "StatefulSet" || type->kind == "ReplicaSet") {
      Value& spec = Child(doc, "spec", a);
      if (!spec.HasMember("replicas")) spec.AddMember("replicas", 1, a);
    }
    if (type->kind == "Pod" && Str(doc, {"status", "phase"}).empty()) {
      SetStr(Child(doc, "status", a), "phase", "Pending", a);
    }
    if (type->kind == "Namespace" && Str(doc, {"status", "phase"}).empty()) {
      SetStr(Child(doc, "status", a), "phase", "Active", a);
    }
    return StoreLocked(key, ToJson(doc), "ADDED");
  }
  Document old;
  ParseObject(it->second, old);
  for (const char* k : {"uid", "creationTimestamp"}) SetStr(meta, k, Str(old, {"metadata", k}), a);
  const Value* gen = Find(old, {"metadata", "generation"});
  int64_t generation = gen != nullptr && gen->IsInt64() ? gen->GetInt64() : 1;
  if (!SpecEqual(doc, old)) ++generation;
  Set(meta, "generation", Value(static_cast<int64_t>(generation)), a);
  SetStr(meta, "resourceVersion", Str(old, {"metadata", "resourceVersion"}), a);
  if (doc == old) return it->second;  // a no-op update keeps the resourceVersion
  return StoreLocked(key, ToJson(doc), "MODIFIED");
}

absl::StatusOr<std::string> FakeApiServer::GetObject(absl::string_view group_version,
                                                     absl::string_view resource,
                                                     absl::string_view namespace_,
                                                     absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  for (const auto& t : types_) {
    if (t->GroupVersion() != group_version || t->resource != resource) continue;
    auto it = objects_.find(Key{t.get(), std::string(namespace_), std::string(name)});
    if (it != objects_.end()) return it->second;
  }
  return absl::NotFoundError(absl::StrCat(resource, " \"", name, "\" not found"));
}

absl::Status FakeApiServer::DeleteObject(absl::string_view group_version,
                                         absl::string_view resource, absl::string_view namespace_,
                                         absl::string_view name) {
  absl::MutexLock lock(&mu_);
  for (const auto& t : types_) {
    if (t->GroupVersion() != group_version || t->resource != resource) continue;
    Key key{t.get(), std::string(namespace_), std::string(name)};
    if (objects_.count(key) == 0) break;
    DeleteLocked(key);
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat(resource, " \"", name, "\" not found"));
}

int64_t FakeApiServer::resource_version() const {
  absl::MutexLock lock(&mu_);
  return rv_;
}

void FakeApiServer::SetPodLogs(absl::string_view namespace_, absl::string_view pod,
                               absl::string_view container, absl::string_view current,
                               absl::string_view previous) {
  absl::MutexLock lock(&mu_);
  logs_[{std::string(namespace_), std::string(pod), std::string(container)}] = {
      std::string(current), std::string(previous)};
}

void FakeApiServer::AddToken(absl::string_view token, absl::string_view user) {
  absl::MutexLock lock(&mu_);
  tokens_[std::string(token)] = std::string(user);
}

void FakeApiServer::RemoveToken(absl::string_view token) {
  absl::MutexLock lock(&mu_);
  tokens_.erase(std::string(token));
  permissions_.erase(std::string(token));
}

void FakeApiServer::SetPermissions(absl::string_view token,
                                   std::vector<FakeApiPermission> permissions) {
  absl::MutexLock lock(&mu_);
  permissions_[std::string(token)] = std::move(permissions);
}

void FakeApiServer::SetLatency(absl::Duration latency) {
  absl::MutexLock lock(&mu_);
  latency_ = latency;
}

void FakeApiServer::FailNextRequests(int n, int code) {
  absl::MutexLock lock(&mu_);
  fail_next_ = n;
  fail_code_ = code;
}

void FakeApiServer::ThrottleNextRequests(int n, int retry_after_seconds) {
  absl::MutexLock lock(&mu_);
  throttle_next_ = n;
  retry_after_ = retry_after_seconds;
}

void FakeApiServer::DropWatches() {
  absl::MutexLock lock(&mu_);
  ++drop_generation_;
}

void FakeApiServer::ForceConflictOnNextWrite(int n) {
  absl::MutexLock lock(&mu_);
  conflict_next_writes_ = n;
}

void FakeApiServer::TriggerBookmarks() {
  absl::MutexLock lock(&mu_);
  ++bookmark_generation_;
}

std::vector<FakeApiRequestLogEntry> FakeApiServer::RequestLog() const {
  absl::MutexLock lock(&mu_);
  return request_log_;
}

void FakeApiServer::ClearRequestLog() {
  absl::MutexLock lock(&mu_);
  request_log_.clear();
}

int FakeApiServer::open_watches() const {
  absl::MutexLock lock(&mu_);
  return open_watches_;
}

// --- Serving ---

namespace {

void WriteResource(JsonWriter& w, const FakeApiServer::ResourceType& t, absl::string_view name,
                   absl::string_view kind, std::vector<std::string> verbs,
                   const std::vector<std::string>& short_names, absl::string_view singular,
                   absl::string_view group = "", absl::string_view version = "") {
  w.StartObject();
  w.Key("name");
  w.String(name);
  w.Key("singularName");
  w.String(singular);
  w.Key("namespaced");
  w.Bool(t.namespaced);
  if (!group.empty()) {
    w.Key("group");
    w.String(group);
    w.Key("version");
    w.String(version);
  }
  w.Key("kind");
  w.String(kind);
  w.Key("verbs");
  w.StartArray();
  for (const std::string& v : verbs) w.String(v);
  w.EndArray();
  if (!short_names.empty()) {
    w.Key("shortNames");
    w.StartArray();
    for (const std::string& s : short_names) w.String(s);
    w.EndArray();
  }
  w.EndObject();
}

std::string Lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool Matches(absl::string_view pattern, absl::string_view value) {
  return pattern == "*" || pattern == value;
}

}  // namespace

HttpResponse FakeApiServer::Serve(const HttpRequest& request) {
  std::string token;
  absl::string_view auth = request.headers.Get("authorization");
  if (absl::ConsumePrefix(&auth, "Bearer ")) token = std::string(auth);
  absl::Duration latency;
  {
    absl::MutexLock lock(&mu_);
    request_log_.push_back({request.method, request.path, request.raw_query, token});
    latency = latency_;
  }
  if (latency > absl::ZeroDuration()) clock_.SleepFor(latency);
  std::string user;
  {
    absl::MutexLock lock(&mu_);
    if (throttle_next_ > 0) {
      --throttle_next_;
      HttpResponse r = StatusResponse(429, "TooManyRequests",
                                      "the server has received too many requests and has asked "
                                      "us to try again later");
      r.headers.Add("Retry-After", absl::StrCat(retry_after_));
      return r;
    }
    if (fail_next_ > 0) {
      --fail_next_;
      return StatusResponse(fail_code_, fail_code_ == 503 ? "ServiceUnavailable" : "InternalError",
                            absl::StrCat("injected failure (HTTP ", fail_code_, ")"));
    }
    if (request.headers.Has("authorization")) {
      auto it = tokens_.find(token);
      if (token.empty() || it == tokens_.end()) {
        return StatusResponse(401, "Unauthorized", "Unauthorized");
      }
      user = it->second;
    } else if (options_.allow_anonymous) {
      user = "system:anonymous";
    } else {
      return StatusResponse(401, "Unauthorized", "Unauthorized");
    }
  }

  std::vector<std::string> segs = absl::StrSplit(request.path, '/', absl::SkipEmpty());
  if (request.path == "/healthz" || request.path == "/readyz" || request.path == "/livez") {
    return HttpResponse::Text(200, "ok");
  }
  if (request.path == "/version") {
    return HttpResponse::Json(
        200, R"({"major":"1","minor":"32","gitVersion":"v1.32.0-sextant-fake","gitCommit":"0",)"
             R"("gitTreeState":"clean","buildDate":"2025-01-01T00:00:00Z","goVersion":"go1.23",)"
             R"("compiler":"gc","platform":"linux/amd64"})");
  }
  if (segs.empty() || (segs[0] != "api" && segs[0] != "apis")) {
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  bool core = segs[0] == "api";
  if (core && segs.size() == 1) {
    JsonWriter w;
    w.StartObject();
    w.Key("kind");
    w.String("APIVersions");
    w.Key("versions");
    w.StartArray();
    w.String("v1");
    w.EndArray();
    w.Key("serverAddressByClientCIDRs");
    w.StartArray();
    w.StartObject();
    w.Key("clientCIDR");
    w.String("0.0.0.0/0");
    w.Key("serverAddress");
    w.String(server_->address());
    w.EndObject();
    w.EndArray();
    w.EndObject();
    return HttpResponse::Json(200, w.TakeString());
  }
  if (!core && segs.size() == 1) {
    JsonWriter w;
    w.StartObject();
    w.Key("kind");
    w.String("APIGroupList");
    w.Key("apiVersion");
    w.String("v1");
    w.Key("groups");
    w.StartArray();
    std::vector<std::string> seen;
    for (const auto& t : types_) {
      if (t->group.empty() || std::find(seen.begin(), seen.end(), t->group) != seen.end()) {
        continue;
      }
      seen.push_back(t->group);
      w.StartObject();
      w.Key("name");
      w.String(t->group);
      w.Key("versions");
      w.StartArray();
      w.StartObject();
      w.Key("groupVersion");
      w.String(t->GroupVersion());
      w.Key("version");
      w.String(t->version);
      w.EndObject();
      w.EndArray();
      w.Key("preferredVersion");
      w.StartObject();
      w.Key("groupVersion");
      w.String(t->GroupVersion());
      w.Key("version");
      w.String(t->version);
      w.EndObject();
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    return HttpResponse::Json(200, w.TakeString());
  }
  std::string group = core ? "" : segs[1];
  size_t version_index = core ? 1 : 2;
  if (segs.size() <= version_index) {
    // /apis/<group>: an APIGroup.
    for (const auto& t : types_) {
      if (t->group != group) continue;
      return HttpResponse::Json(
          200,
          absl::StrCat(R"({"kind":"APIGroup","apiVersion":"v1","name":)", JsonQuote(group),
                       R"(,"versions":[{"groupVersion":)", JsonQuote(t->GroupVersion()),
                       R"(,"version":)", JsonQuote(t->version),
                       R"(}],"preferredVersion":{"groupVersion":)", JsonQuote(t->GroupVersion()),
                       R"(,"version":)", JsonQuote(t->version), "}}"));
    }
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  std::string version = segs[version_index];
  std::vector<std::string> rest(segs.begin() + version_index + 1, segs.end());
  if (rest.empty()) {
    bool any = false;
    JsonWriter w;
    w.StartObject();
    w.Key("kind");
    w.String("APIResourceList");
    w.Key("apiVersion");
    w.String("v1");
    w.Key("groupVersion");
    w.String(core ? version : group + "/" + version);
    w.Key("resources");
    w.StartArray();
    for (const auto& t : types_) {
      if (t->group != group || t->version != version) continue;
      any = true;
      std::string singular = Lowercase(t->kind);
      WriteResource(w, *t, t->resource, t->kind,
                    {"create", "delete", "get", "list", "patch", "update", "watch"}, t->short_names,
                    singular);
      if (t->has_status) {
        WriteResource(w, *t, t->resource + "/status", t->kind, {"get", "patch", "update"}, {}, "");
      }
      if (t->has_scale) {
        WriteResource(w, *t, t->resource + "/scale", "Scale", {"get", "patch", "update"}, {}, "",
                      "autoscaling", "v1");
      }
      if (t->has_log) WriteResource(w, *t, t->resource + "/log", t->kind, {"get"}, {}, "");
    }
    w.EndArray();
    w.EndObject();
    if (!any) {
      return StatusResponse(404, "NotFound", "the server could not find the requested resource");
    }
    return HttpResponse::Json(200, w.TakeString());
  }

  // A resource path: [namespaces/<ns>/]<resource>[/<name>[/<subresource>]].
  Target target;
  std::string resource;
  if (rest[0] == "namespaces" && rest.size() >= 3 && !(rest.size() == 3 && rest[2] == "status")) {
    target.namespace_ = rest[1];
    resource = rest[2];
    rest.erase(rest.begin(), rest.begin() + 3);
  } else {
    resource = rest[0];
    rest.erase(rest.begin());
  }
  for (const auto& t : types_) {
    if (t->group == group && t->version == version && t->resource == resource) {
      target.type = t.get();
    }
  }
  if (target.type == nullptr || rest.size() > 2 ||
      (!target.type->namespaced && !target.namespace_.empty())) {
    return StatusResponse(404, "NotFound", "the server could not find the requested resource");
  }
  if (!rest.empty()) target.name = rest[0];
  if (rest.size() == 2) {
    target.subresource = rest[1];
    bool known = (target.subresource == "status" && target.type->has_status) ||
                 (target.subresource == "scale" && target.type->has_scale) ||
                 (target.subresource == "log" && target.type->has_log);
    if (!known) {
      return StatusResponse(404, "NotFound", "the server could not find the requested resource");
    }
  }
  return ServeResource(request, target, user);
}

HttpResponse FakeApiServer::ServeResource(const HttpRequest& request, const Target& target,
                                          absl::string_view user) {
  const std::string& m = request.method;
  bool watch = request.params.Get("watch") == "1" || request.params.Get("watch") == "true";
  std::string verb;
  if (m == "GET") {
    verb = !target.name.empty() ? "get" : (watch ? "watch" : "list");
  } else if (m == "POST" && target.name.empty()) {
    verb = "create";
  } else if (m == "PUT" && !target.name.empty()) {
    verb = "update";
  } else if (m == "PATCH" && !target.name.empty()) {
    verb = "patch";
  } else if (m == "DELETE" && !target.name.empty()) {
    verb = "delete";
  } else {
    return StatusResponse(405, "MethodNotAllowed",
                          absl::StrCat("the server does not allow this method on the requested "
                                       "resource"));
  }
  std::string resource = target.subresource.empty()
                             ? target.type->resource
                             : target.type->resource + "/" + target.subresource;
  {
    absl::MutexLock lock(&mu_);
    std::string token;
    absl::string_view auth = request.headers.Get("authorization");
    if (absl::ConsumePrefix(&auth, "Bearer ")) token = std::string(auth);
    auto perms = permissions_.find(token);
    if (perms != permissions_.end()) {
      bool allowed = false;
      for (const FakeApiPermission& p : perms->second) {
        if (Matches(p.verb, verb) && Matches(p.group, target.type->group) &&
            Matches(p.resource, resource) && Matches(p.namespace_, target.namespace_)) {
          allowed = true;
        }
      }
      if (!allowed) {
        std::string subject = target.name.empty() ? target.type->QualifiedName()
                                                  : absl::StrCat(target.type->QualifiedName(),
                                                                 " \"", target.name, "\"");
        std::string scope = target.namespace_.empty()
                                ? std::string("at the cluster scope")
                                : absl::StrCat("in the namespace \"", target.namespace_, "\"");
        return StatusResponse(403, "Forbidden",
                              absl::StrCat(subject, " is forbidden: User \"", user, "\" cannot ",
                                           verb, " resource \"", resource, "\" in API group \"",
                                           target.type->group, "\" ", scope),
                              target.name, target.type->group, target.type->resource);
      }
    }
    if (verb == "create" || verb == "update" || verb == "patch" || verb == "delete") {
      if (conflict_next_writes_ > 0) {
        --conflict_next_writes_;
        Target t = target;
        if (t.name.empty()) {
          Document doc;
          if (ParseObject(request.body, doc)) t.name = Str(doc, {"metadata", "name"});
        }
        return Conflict(t);
      }
    }
  }
  if (verb == "watch") return ServeWatch(request, target);
  if (verb == "list") return ServeList(request, target);
  if (verb == "get") {
    if (target.subresource == "log") return ServeLog(request, target);
    return ServeGet(request, target);
  }
  if (verb == "create") return ServeCreate(request, target);
  if (verb == "update") return ServeUpdate(request, target, /*patch=*/false);
  if (verb == "patch") return ServeUpdate(request, target, /*patch=*/true);
  return ServeDelete(target);
}

namespace {

// A meta.k8s.io/v1 Table of `objects` (kubectl's server-side printing).
std::string TableOf(const std::vector<std::string>& objects, int64_t rv) {
  JsonWriter w;
  w.StartObject();
  w.Key("kind");
  w.String("Table");
  w.Key("apiVersion");
  w.String("meta.k8s.io/v1");
  w.Key("metadata");
  w.StartObject();
  w.Key("resourceVersion");
  w.String(absl::StrCat(rv));
  w.EndObject();
  w.Key("columnDefinitions");
  w.StartArray();
  for (const char* col : {"Name", "Created At"}) {
    w.StartObject();
    w.Key("name");
    w.String(col);
    w.Key("type");
    w.String(absl::string_view(col) == "Name" ? "string" : "date");
    w.Key("format");
    w.String(absl::string_view(col) == "Name" ? "name" : "");
    w.Key("description");
    w.String(col);
    w.Key("priority");
    w.Int(0);
    w.EndObject();
  }
  w.EndArray();
  w.Key("rows");
  w.StartArray();
  for (const std::string& json : objects) {
    Document doc;
    ParseObject(json, doc);
    w.StartObject();
    w.Key("cells");
    w.StartArray();
    w.String(Str(doc, {"metadata", "name"}));
    w.String(Str(doc, {"metadata", "creationTimestamp"}));
    w.EndArray();
    w.Key("object");
    w.StartObject();
    w.Key("kind");
    w.String("PartialObjectMetadata");
    w.Key("apiVersion");
    w.String("meta.k8s.io/v1");
    w.Key("metadata");
    const Value* meta = Find(doc, {"metadata"});
    w.RawValue(meta != nullptr ? ToJson(*meta) : "{}");
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return w.TakeString();
}

bool WantsTable(const HttpRequest& request) {
  return absl::StrContains(request.headers.Get("accept"), "as=Table");
}

}  // namespace

HttpResponse FakeApiServer::ServeList(const HttpRequest& request, const Target& target) {
  auto selectors = ParseSelectors(request);
  if (!selectors.ok()) return BadRequest(selectors.status().message());
  int64_t limit = 0;
  if (request.params.Has("limit") && !absl::SimpleAtoi(request.params.Get("limit"), &limit)) {
    return BadRequest("limit must be an integer");
  }
  // A continue token is "namespace/name" of the last item sent; positions compare as (namespace,
  // name) pairs, the store's order ("team-a" sorts after "team" although '-' < '/').
  std::string cont(request.params.Get("continue"));
  std::pair<std::string, std::string> after;
  if (size_t slash = cont.find('/'); slash != std::string::npos) {
    after = {cont.substr(0, slash), cont.substr(slash + 1)};
  }
  std::vector<std::pair<std::string, std::string>> matched;  // (position, object)
  int64_t rv;
  {
    absl::MutexLock lock(&mu_);
    rv = rv_;
    for (auto it = objects_.lower_bound(Key{target.type, target.namespace_, ""});
         it != objects_.end() && std::get<0>(it->first) == target.type; ++it) {
      const std::string& ns = std::get<1>(it->first);
      if (!target.namespace_.empty() && ns != target.namespace_) break;
      if (!cont.empty() && std::make_pair(ns, std::get<2>(it->first)) <= after) continue;
      std::string position = absl::StrCat(ns, "/", std::get<2>(it->first));
      Document doc;
      ParseObject(it->second, doc);
      if (selectors->Matches(doc)) matched.emplace_back(std::move(position), it->second);
    }
  }
  std::string next;
  if (limit > 0 && static_cast<int64_t>(matched.size()) > limit) {
    matched.resize(static_cast<size_t>(limit));
    next = matched.back().first;
  }
  std::vector<std::string> items;
  for (auto& [position, object] : matched) items.push_back(std::move(object));
  if (WantsTable(request)) return HttpResponse::Json(200, TableOf(items, rv));
  std::string body = absl::StrCat(R"({"kind":)", JsonQuote(target.type->kind + "List"),
                                  R"(,"apiVersion":)", JsonQuote(target.type->GroupVersion()),
                                  R"(,"metadata":{"resourceVersion":")", rv, "\"");
  if (!next.empty()) absl::StrAppend(&body, R"(,"continue":)", JsonQuote(next));
  absl::StrAppend(&body, R"(},"items":[)", absl::StrJoin(items, ","), "]}");
  return HttpResponse::Json(200, body);
}

HttpResponse FakeApiServer::ServeGet(const HttpRequest& request, const Target& target) {
  std::string object;
  int64_t rv;
  {
    absl::MutexLock lock(&mu_);
    auto it = objects_.find(Key{target.type, target.namespace_, target.name});
    if (it == objects_.end()) return NotFound(target);
    object = it->second;
    rv = rv_;
  }
  if (target.subresource == "scale") {
    Document doc;
    ParseObject(object, doc);
    return HttpResponse::Json(200, ScaleOf(doc));
  }
  if (WantsTable(request)) return HttpResponse::Json(200, TableOf({object}, rv));
  return HttpResponse::Json(200, object);
}

HttpResponse FakeApiServer::ServeCreate(const HttpRequest& request, const Target& target) {
  if (!target.subresource.empty()) return BadRequest("cannot create a subresource");
  Document doc;
  if (!ParseObject(request.body, doc)) return BadRequest("the body is not a JSON object");
  Allocator& a = doc.GetAllocator();
  Value& meta = Child(doc, "metadata", a);
  std::string ns = Str(doc, {"metadata", "namespace"});
  if (target.type->namespaced) {
    if (!ns.empty() && ns != target.namespace_) {
      return BadRequest(
          "the namespace of the provided object does not match the namespace sent on the "
          "request");
    }
    SetStr(meta, "namespace", target.namespace_, a);
  }
  std::string kind = Str(doc, {"kind"});
  if (!kind.empty() && kind != target.type->kind) {
    return BadRequest(absl::StrCat("the kind ", kind, " does not match ", target.type->kind));
  }
  absl::MutexLock lock(&mu_);
  std::string name = Str(doc, {"metadata", "name"});
  if (name.empty()) {
    std::string prefix = Str(doc, {"metadata", "generateName"});
    if (prefix.empty()) {
      return StatusResponse(422, "Invalid",
                            absl::StrCat(target.type->kind,
                                         " \"\" is invalid: metadata.name: Required value: name "
                                         "or generateName is required"),
                            "", target.type->group, target.type->kind);
    }
    name = absl::StrFormat("%s%05x", prefix, (uid_counter_ * 7919 + 12345) % 0xfffff);
    SetStr(meta, "name", name, a);
  }
  Target t = target;
  t.name = name;
  if (objects_.count(Key{target.type, target.namespace_, name}) > 0) {
    return StatusResponse(
        409, "AlreadyExists",
        absl::StrCat(target.type->QualifiedName(), " \"", name, "\" already exists"), name,
        target.type->group, target.type->resource);
  }
  if (target.type->namespaced) {
    const ResourceType* ns_type = nullptr;
    for (const auto& type : types_) {
      if (type->resource == "namespaces") ns_type = type.get();
    }
    if (objects_.count(Key{ns_type, "", target.namespace_}) == 0) {
      return StatusResponse(404, "NotFound",
                            absl::StrCat("namespaces \"", target.namespace_, "\" not found"),
                            target.namespace_, "", "namespaces");
    }
  }
  Value& m = doc["metadata"];
  m.RemoveMember("resourceVersion");
  m.RemoveMember("uid");
  // As the real server, a create ignores the status of resources with a status subresource.
  if (target.type->has_status) doc.RemoveMember("status");
  auto stored = PutObjectLocked(ToJson(doc), target.type);
  if (!stored.ok()) return BadRequest(stored.status().message());
  return HttpResponse::Json(201, *stored);
}

HttpResponse FakeApiServer::ServeUpdate(const HttpRequest& request, const Target& target,
                                        bool patch) {
  if (patch) {
    absl::string_view ct = request.headers.Get("content-type");
    if (!absl::StartsWith(ct, "application/merge-patch+json") &&
        !absl::StartsWith(ct, "application/strategic-merge-patch+json")) {
      return StatusResponse(415, "UnsupportedMediaType",
                            absl::StrCat("the body of the request was in an unknown format - "
                                         "accepted media types include: "
                                         "application/merge-patch+json, "
                                         "application/strategic-merge-patch+json (got ",
                                         ct, ")"));
    }
  }
  Document body;
  if (!ParseObject(request.body, body)) return BadRequest("the body is not a JSON object");
  absl::MutexLock lock(&mu_);
  Key key{target.type, target.namespace_, target.name};
  auto it = objects_.find(key);
  if (it == objects_.end()) return NotFound(target);
  Document stored;
  ParseObject(it->second, stored);
  std::string stored_rv = Str(stored, {"metadata", "resourceVersion"});

  if (target.subresource == "scale") {
    Document scale;
    ParseObject(ScaleOf(stored), scale);
    if (patch) {
      MergePatch(scale, body, scale.GetAllocator());
    } else {
      scale.CopyFrom(body, scale.GetAllocator());
    }
    std::string rv = Str(scale, {"metadata", "resourceVersion"});
    if (!rv.empty() && rv != stored_rv) return Conflict(target);
    const Value* replicas = Find(scale, {"spec", "replicas"});
    if (replicas == nullptr || !replicas->IsInt() || replicas->GetInt() < 0) {
      return StatusResponse(422, "Invalid",
                            absl::StrCat("Scale.autoscaling \"", target.name,
                                         "\" is invalid: spec.replicas: Invalid value"),
                            target.name, "autoscaling", "Scale");
    }
    Set(Child(stored, "spec", stored.GetAllocator()), "replicas", Value(replicas->GetInt()),
        stored.GetAllocator());
    auto result = PutObjectLocked(ToJson(stored), target.type);
    if (!result.ok()) return BadRequest(result.status().message());
    Document updated;
    ParseObject(*result, updated);
    return HttpResponse::Json(200, ScaleOf(updated));
  }

  Document next;
  if (patch) {
    next.CopyFrom(stored, next.GetAllocator());
    MergePatch(next, body, next.GetAllocator());
  } else {
    next.CopyFrom(body, next.GetAllocator());
  }
  Allocator& a = next.GetAllocator();
  std::string rv = Str(next, {"metadata", "resourceVersion"});
  if (!patch && rv.empty() && target.type->custom) {
    return StatusResponse(
        422, "Invalid",
        absl::StrCat(target.type->kind, ".", target.type->group, " \"", target.name,
                     "\" is invalid: metadata.resourceVersion: Invalid value: "
                     "0x0: must be specified for an update"),
        target.name, target.type->group, target.type->kind);
  }
  if (!patch && !rv.empty() && rv != stored_rv) return Conflict(target);
  if (patch && body.HasMember("metadata") && !Str(body, {"metadata", "resourceVersion"}).empty() &&
      Str(body, {"metadata", "resourceVersion"}) != stored_rv) {
    return Conflict(target);
  }
  std::string name = Str(next, {"metadata", "name"});
  if (!name.empty() && name != target.name) {
    return BadRequest("the name of the object does not match the name on the URL");
  }
  SetStr(Child(next, "metadata", a), "name", target.name, a);
  if (target.type->namespaced) SetStr(next["metadata"], "namespace", target.namespace_, a);
  if (target.subresource == "status") {
    // Only the status changes.
    Document result;
    result.CopyFrom(stored, result.GetAllocator());
    result.RemoveMember("status");
    if (next.HasMember("status")) {
      result.AddMember("status", Value(next["status"], result.GetAllocator()),
                       result.GetAllocator());
    }
    next.CopyFrom(result, a);
  } else if (target.type->has_status) {
    // The main resource ignores status changes.
    next.RemoveMember("status");
    if (stored.HasMember("status")) next.AddMember("status", Value(stored["status"], a), a);
  }
  auto result = PutObjectLocked(ToJson(next), target.type);
  if (!result.ok()) return BadRequest(result.status().message());
  return HttpResponse::Json(200, *result);
}

HttpResponse FakeApiServer::ServeDelete(const Target& target) {
  if (!target.subresource.empty()) return BadRequest("cannot delete a subresource");
  absl::MutexLock lock(&mu_);
  Key key{target.type, target.namespace_, target.name};
  if (objects_.count(key) == 0) return NotFound(target);
  return HttpResponse::Json(200, DeleteLocked(key));
}

HttpResponse FakeApiServer::ServeLog(const HttpRequest& request, const Target& target) {
  std::string container(request.params.Get("container"));
  bool previous = request.params.Get("previous") == "true" || request.params.Get("previous") == "1";
  std::string text;
  {
    absl::MutexLock lock(&mu_);
    if (objects_.count(Key{target.type, target.namespace_, target.name}) == 0) {
      return NotFound(target);
    }
    const std::pair<std::string, std::string>* logs = nullptr;
    for (auto& [k, v] : logs_) {
      if (std::get<0>(k) != target.namespace_ || std::get<1>(k) != target.name) continue;
      if (container.empty() || std::get<2>(k) == container || std::get<2>(k).empty()) {
        if (logs == nullptr || std::get<2>(k) == container) logs = &v;
      }
    }
    if (previous) {
      if (logs == nullptr || logs->second.empty()) {
        return BadRequest(absl::StrCat("previous terminated container \"", container,
                                       "\" in pod \"", target.name, "\" not found"));
      }
      text = logs->second;
    } else if (logs != nullptr) {
      text = logs->first;
    }
  }
  int64_t tail = -1;
  if (request.params.Has("tailLines") && absl::SimpleAtoi(request.params.Get("tailLines"), &tail) &&
      tail >= 0) {
    bool trailing_newline = !text.empty() && text.back() == '\n';
    std::vector<std::string> lines = absl::StrSplit(text, '\n');
    if (trailing_newline) lines.pop_back();
    size_t start = lines.size() > static_cast<size_t>(tail) ? lines.size() - tail : 0;
    std::vector<std::string> kept(lines.begin() + start, lines.end());
    text = absl::StrJoin(kept, "\n");
    if (trailing_newline && !kept.empty()) text += '\n';
  }
  int64_t limit = 0;
  if (request.params.Has("limitBytes") &&
      absl::SimpleAtoi(request.params.Get("limitBytes"), &limit) && limit > 0 &&
      static_cast<size_t>(limit) < text.size()) {
    text.resize(static_cast<size_t>(limit));
  }
  return HttpResponse::Text(200, text);
}

HttpResponse FakeApiServer::ServeWatch(const HttpRequest& request, const Target& target) {
  auto selectors = ParseSelectors(request);
  if (!selectors.ok()) return BadRequest(selectors.status().message());
  std::string rv_param(request.params.Get("resourceVersion"));
  int64_t start_rv = 0;
  if (!rv_param.empty() && !absl::SimpleAtoi(rv_param, &start_rv)) {
    return BadRequest(absl::StrCat("invalid resourceVersion: ", rv_param));
  }
  bool bookmarks = request.params.Get("allowWatchBookmarks") == "true" ||
                   request.params.Get("allowWatchBookmarks") == "1";
  absl::Duration timeout = options_.max_watch_timeout;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(request.params.Get("timeoutSeconds"), &seconds) && seconds > 0) {
    timeout = std::min(timeout, absl::Seconds(seconds));
  }
  HttpResponse response;
  response.status = 200;
  response.headers.Add("Content-Type", "application/json");
  Selectors sel = *std::move(selectors);
  response.stream = [this, target, sel, start_rv, bookmarks, timeout](HttpStreamWriter& writer) {
    const absl::Time deadline = absl::Now() + timeout;
    absl::Time next_bookmark = absl::Now() + options_.bookmark_interval;
    int64_t last_rv = start_rv;
    int64_t drop_gen, bookmark_gen;
    std::vector<std::string> lines;
    auto event_line = [](absl::string_view type, absl::string_view object) {
      return absl::StrCat(R"({"type":")", type, R"(","object":)", object, "}\n");
    };
    auto matches = [&](const ResourceType* type, const std::string& ns, const Value& obj) {
      return type == target.type && (target.namespace_.empty() || ns == target.namespace_) &&
             sel.Matches(obj);
    };
    {
      absl::MutexLock lock(&mu_);
      ++open_watches_;
      drop_gen = drop_generation_;
      bookmark_gen = bookmark_generation_;
      if (start_rv == 0) {
        for (const auto& [key, json] : objects_) {
          Document doc;
          ParseObject(json, doc);
          if (matches(std::get<0>(key), std::get<1>(key), doc)) {
            lines.push_back(event_line("ADDED", json));
          }
        }
        last_rv = rv_;
      }
    }
    bool done = false;
    while (!done) {
      if (!lines.empty()) {
        for (const std::string& line : lines) {
          if (!writer.Write(line)) {
            done = true;
            break;
          }
        }
        lines.clear();
        if (done) break;
      }
      if (writer.Stopping() || absl::Now() >= deadline) break;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return stopping_ || drop_generation_ != drop_gen || rv_ > last_rv ||
                 (bookmarks && bookmark_generation_ != bookmark_gen);
        };
        absl::Duration wait = std::min(absl::Milliseconds(50), deadline - absl::Now());
        if (bookmarks) wait = std::min(wait, next_bookmark - absl::Now());
        mu_.AwaitWithTimeout(absl::Condition(&ready), std::max(wait, absl::ZeroDuration()));
        if (stopping_ || drop_generation_ != drop_gen) break;
        if (last_rv < history_start_rv_) {
          lines.push_back(
              event_line("ERROR", StatusJson(410, "Expired",
                                             absl::StrCat("too old resource version: ", last_rv,
                                                          " (", history_start_rv_, ")"))));
          done = true;
          continue;
        }
        for (const Event& e : history_) {
          if (e.rv <= last_rv) continue;
          Document doc;
          ParseObject(e.object, doc);
          bool now_matches = matches(e.type, e.namespace_, doc);
          bool matched_before = false;
          if (!e.previous.empty()) {
            Document before;
            ParseObject(e.previous, before);
            matched_before = matches(e.type, e.namespace_, before);
          }
          // As the real server's watch cache: an object that starts or stops matching the
          // selectors is ADDED or DELETED for this watch.
          if (now_matches && !e.previous.empty() && !matched_before) {
            lines.push_back(event_line("ADDED", e.object));
          } else if (!now_matches && matched_before) {
            lines.push_back(event_line("DELETED", e.object));
          } else if (now_matches) {
            lines.push_back(event_line(e.event_type, e.object));
          }
        }
        last_rv = std::max(last_rv, rv_);
        if (bookmarks && (bookmark_generation_ != bookmark_gen || absl::Now() >= next_bookmark)) {
          bookmark_gen = bookmark_generation_;
          next_bookmark = absl::Now() + options_.bookmark_interval;
          lines.push_back(event_line(
              "BOOKMARK", absl::StrCat(R"({"kind":)", JsonQuote(target.type->kind),
                                       R"(,"apiVersion":)", JsonQuote(target.type->GroupVersion()),
                                       R"(,"metadata":{"resourceVersion":")", last_rv, "\"}}")));
        }
      }
    }
    for (const std::string& line : lines) {
      if (!writer.Write(line)) break;
    }
    absl::MutexLock lock(&mu_);
    --open_watches_;
  };
  return response;
}

}  // namespace sextant::fakes
