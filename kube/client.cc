#include "kube/client.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/json.h"
#include "common/status_macros.h"
#include "rapidjson/document.h"

namespace sextant::kube {
namespace {

using QueryParams = std::vector<std::pair<std::string, std::string>>;

std::string EncodeQuery(const QueryParams& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, UrlEncode(k), "=", UrlEncode(v));
  }
  return out;
}

QueryParams ListQuery(const ListOptions& o) {
  QueryParams q;
  if (!o.label_selector.empty()) q.emplace_back("labelSelector", o.label_selector);
  if (!o.field_selector.empty()) q.emplace_back("fieldSelector", o.field_selector);
  if (!o.resource_version.empty()) q.emplace_back("resourceVersion", o.resource_version);
  if (o.limit > 0) q.emplace_back("limit", absl::StrCat(o.limit));
  if (!o.continue_token.empty()) q.emplace_back("continue", o.continue_token);
  return q;
}

HttpClientRequest JsonRequest(absl::string_view method, absl::string_view body,
                              absl::string_view content_type = "application/json") {
  HttpClientRequest req;
  req.method = std::string(method);
  req.headers.Add("Accept", "application/json");
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.headers.Add("Content-Type", content_type);
    req.body = std::string(body);
  }
  return req;
}

ResourceRef Ref(absl::string_view group, absl::string_view version, absl::string_view resource,
                absl::string_view ns, absl::string_view name = "",
                absl::string_view subresource = "") {
  return ResourceRef{std::string(group), std::string(version), std::string(resource),
                     std::string(ns),    std::string(name),    std::string(subresource)};
}

// The built-in scalable kinds of apps/v1.
std::optional<std::string> AppsScalable(absl::string_view kind) {
  if (kind == "Deployment") return "deployments";
  if (kind == "StatefulSet") return "statefulsets";
  if (kind == "ReplicaSet") return "replicasets";
  return std::nullopt;
}

}  // namespace

std::string ResourceRef::Path() const {
  std::string path =
      group.empty() ? absl::StrCat("/api/", version) : absl::StrCat("/apis/", group, "/", version);
  if (!namespace_name.empty()) absl::StrAppend(&path, "/namespaces/", namespace_name);
  absl::StrAppend(&path, "/", resource);
  if (!name.empty()) absl::StrAppend(&path, "/", name);
  if (!subresource.empty()) absl::StrAppend(&path, "/", subresource);
  return path;
}

std::string ResourceRef::Describe() const {
  std::string s = resource;
  if (!group.empty()) absl::StrAppend(&s, ".", group);
  if (!subresource.empty()) absl::StrAppend(&s, "/", subresource);
  return s;
}

ResourceRef PodsResource(absl::string_view namespace_name) {
  return Ref("", "v1", "pods", namespace_name);
}
ResourceRef NodesResource() { return Ref("", "v1", "nodes", ""); }
ResourceRef LeasesResource(absl::string_view namespace_name) {
  return Ref("coordination.k8s.io", "v1", "leases", namespace_name);
}
ResourceRef EventsResource(absl::string_view namespace_name) {
  return Ref("", "v1", "events", namespace_name);
}
ResourceRef ScalingPoliciesResource(absl::string_view namespace_name) {
  return Ref("autoscaling.sextant.dev", "v1alpha1", "scalingpolicies", namespace_name);
}

std::pair<std::string, std::string> SplitApiVersion(absl::string_view api_version) {
  const size_t slash = api_version.find('/');
  if (slash == absl::string_view::npos) return {"", std::string(api_version)};
  return {std::string(api_version.substr(0, slash)), std::string(api_version.substr(slash + 1))};
}

absl::StatusOr<std::unique_ptr<KubeClient>> KubeClient::Create(const ClusterConfig& config,
                                                               Clock& clock) {
  if (config.server.empty()) {
    return absl::InvalidArgumentError("kubernetes client: the server URL is empty");
  }
  SEXTANT_ASSIGN_OR_RETURN(std::unique_ptr<CurlHttpClient> http,
                           CurlHttpClient::Create(config.http, clock),
                           _.Prepend("kubernetes client: "));
  KubeClientOptions options;
  options.server = config.server;
  while (!options.server.empty() && options.server.back() == '/') options.server.pop_back();
  options.default_namespace = config.default_namespace;
  return std::unique_ptr<KubeClient>(new KubeClient(std::move(http), std::move(options)));
}

KubeClient::KubeClient(HttpClient& http, KubeClientOptions options)
    : http_(http), options_(std::move(options)) {}

KubeClient::KubeClient(std::unique_ptr<HttpClient> http, KubeClientOptions options)
    : owned_http_(std::move(http)), http_(*owned_http_), options_(std::move(options)) {}

std::string KubeClient::Url(const ResourceRef& ref, absl::string_view query) const {
  std::string url = absl::StrCat(options_.server, ref.Path());
  if (!query.empty()) absl::StrAppend(&url, "?", query);
  return url;
}

absl::StatusOr<std::string> KubeClient::Call(absl::string_view verb, const ResourceRef& ref,
                                             absl::string_view query, HttpClientRequest request) {
  request.url = Url(ref, query);
  if (!request.timeout.has_value()) request.timeout = options_.request_timeout;
  const RequestInfo info{std::string(verb), ref.Describe(), ref.namespace_name, ref.name};
  absl::StatusOr<HttpClientResponse> resp = http_.Send(request);
  if (!resp.ok()) {
    return Annotate(resp.status(), absl::StrCat(verb, " ", info.resource,
                                                ref.name.empty() ? "" : " ", ref.name, ": "));
  }
  std::optional<absl::Duration> retry_after;
  if (resp->headers.Has("retry-after")) {
    retry_after = ParseRetryAfter(resp->headers.Get("retry-after"), absl::Now(), absl::Hours(24));
  }
  SEXTANT_RETURN_IF_ERROR(StatusFromHttp(resp->status, resp->body, info, retry_after));
  return std::move(resp->body);
}

absl::StatusOr<std::string> KubeClient::Get(const ResourceRef& ref) {
  return Call("get", ref, "", JsonRequest("GET", ""));
}

absl::StatusOr<std::string> KubeClient::List(const ResourceRef& ref, const ListOptions& options) {
  return Call("list", ref, EncodeQuery(ListQuery(options)), JsonRequest("GET", ""));
}

absl::StatusOr<std::string> KubeClient::Create(const ResourceRef& ref, absl::string_view body) {
  HttpClientRequest req = JsonRequest("POST", body);
  req.retryable = false;  // the HTTP client still resends what never reached the server
  return Call("create", ref, "", std::move(req));
}

absl::StatusOr<std::string> KubeClient::Update(const ResourceRef& ref, absl::string_view body) {
  HttpClientRequest req = JsonRequest("PUT", body);
  absl::StatusOr<ObjectMeta> meta = ParseObjectMeta(body);
  req.retryable = meta.ok() && !meta->resource_version.empty();
  return Call("update", ref, "", std::move(req));
}

absl::StatusOr<std::string> KubeClient::MergePatch(const ResourceRef& ref, absl::string_view patch,
                                                   bool idempotent) {
  HttpClientRequest req = JsonRequest("PATCH", patch, "application/merge-patch+json");
  req.retryable = idempotent;
  return Call("patch", ref, "", std::move(req));
}

absl::StatusOr<std::string> KubeClient::Delete(const ResourceRef& ref) {
  return Call("delete", ref, "", JsonRequest("DELETE", ""));
}

absl::StatusOr<ResourceRef> KubeClient::Discover(const ScaleTarget& target) {
  const std::string key = absl::StrCat(target.api_version, "/", target.kind);
  {
    absl::MutexLock lock(&mu_);
    auto it = discovered_.find(key);
    if (it != discovered_.end()) return it->second;
  }
  auto [group, version] = SplitApiVersion(target.api_version);
  // The discovery document of the group version: GET /api/v1 or /apis/GROUP/VERSION.
  const std::string path =
      group.empty() ? absl::StrCat("/api/", version) : absl::StrCat("/apis/", group, "/", version);
  HttpClientRequest req = JsonRequest("GET", "");
  req.url = absl::StrCat(options_.server, path);
  if (!req.timeout.has_value()) req.timeout = options_.request_timeout;
  const RequestInfo info{"get", absl::StrCat("discovery ", target.api_version), "", ""};
  SEXTANT_ASSIGN_OR_RETURN(HttpClientResponse resp, http_.Send(req),
                           _.Prepend(absl::StrCat("discover ", target.api_version, ": ")));
  SEXTANT_RETURN_IF_ERROR(StatusFromHttp(resp.status, resp.body, info));

  rapidjson::Document doc;
  doc.Parse(resp.body.data(), resp.body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat("discover ", target.api_version, ": the answer is not a JSON object"));
  }
  const rapidjson::Value& root = doc;  // const iterators compare unambiguously in C++20
  auto resources = root.FindMember("resources");
  if (resources == root.MemberEnd() || !resources->value.IsArray()) {
    return absl::InvalidArgumentError(
        absl::StrCat("discover ", target.api_version, ": no \"resources\" array"));
  }
  std::string plural;
  std::vector<std::string> names;
  for (const rapidjson::Value& r : resources->value.GetArray()) {
    if (!r.IsObject()) continue;
    auto name = r.FindMember("name");
    auto kind = r.FindMember("kind");
    if (name == r.MemberEnd() || !name->value.IsString()) continue;
    std::string n = name->value.GetString();
    names.push_back(n);
    if (n.find('/') == std::string::npos && kind != r.MemberEnd() && kind->value.IsString() &&
        target.kind == kind->value.GetString()) {
      plural = n;
    }
  }
  if (plural.empty()) {
    return absl::NotFoundError(
        absl::StrCat("discover ", target.api_version, ": no kind ", target.kind, " on the server"));
  }
  bool has_scale = false;
  for (const std::string& n : names) has_scale |= n == absl::StrCat(plural, "/scale");
  if (!has_scale) {
    return absl::NotFoundError(absl::StrCat(target.kind, " (", target.api_version,
                                            ") has no /scale subresource: it cannot be scaled"));
  }
  ResourceRef ref = Ref(group, version, plural, "", "", "scale");
  absl::MutexLock lock(&mu_);
  discovered_[key] = ref;
  return ref;
}

absl::StatusOr<ResourceRef> KubeClient::ScaleResource(const ScaleTarget& target) {
  ResourceRef ref;
  auto [group, version] = SplitApiVersion(target.api_version);
  std::optional<std::string> apps = AppsScalable(target.kind);
  if (group == "apps" && version == "v1" && apps.has_value()) {
    ref = Ref("apps", "v1", *apps, "", "", "scale");
  } else {
    SEXTANT_ASSIGN_OR_RETURN(ref, Discover(target));
  }
  ref.namespace_name = target.namespace_name;
  ref.name = target.name;
  return ref;
}

absl::StatusOr<Scale> KubeClient::GetScale(const ScaleTarget& target) {
  SEXTANT_ASSIGN_OR_RETURN(ResourceRef ref, ScaleResource(target));
  SEXTANT_ASSIGN_OR_RETURN(std::string body, Get(ref));
  return ParseScale(body);
}

absl::StatusOr<Scale> KubeClient::UpdateScale(const ScaleTarget& target, const Scale& scale) {
  SEXTANT_ASSIGN_OR_RETURN(ResourceRef ref, ScaleResource(target));
  Scale copy = scale;
  copy.metadata.name = target.name;
  copy.metadata.namespace_name = target.namespace_name;
  SEXTANT_ASSIGN_OR_RETURN(std::string body, Update(ref, ScaleToJson(copy)));
  return ParseScale(body);
}

absl::StatusOr<Scale> KubeClient::PatchScaleReplicas(const ScaleTarget& target, int32_t replicas) {
  SEXTANT_ASSIGN_OR_RETURN(ResourceRef ref, ScaleResource(target));
  SEXTANT_ASSIGN_OR_RETURN(
      std::string body,
      MergePatch(ref, absl::StrCat("{\"spec\":{\"replicas\":", replicas, "}}"), true));
  return ParseScale(body);
}

absl::StatusOr<PodList> KubeClient::ListPods(absl::string_view namespace_name,
                                             absl::string_view label_selector,
                                             absl::string_view field_selector) {
  ListOptions opts;
  opts.label_selector = std::string(label_selector);
  opts.field_selector = std::string(field_selector);
  PodList out;
  // Pages of 500, as kubectl does, so that large clusters do not need one huge answer.
  opts.limit = 500;
  do {
    SEXTANT_ASSIGN_OR_RETURN(std::string body, List(PodsResource(namespace_name), opts));
    SEXTANT_ASSIGN_OR_RETURN(ObjectList list, ParseObjectList(body), _.Prepend("list pods: "));
    for (const std::string& item : list.items) {
      SEXTANT_ASSIGN_OR_RETURN(Pod pod, ParsePod(item), _.Prepend("list pods: "));
      out.items.push_back(std::move(pod));
    }
    out.resource_version = list.resource_version;
    opts.continue_token = list.continue_token;
  } while (!opts.continue_token.empty());
  return out;
}

absl::StatusOr<Node> KubeClient::GetNode(absl::string_view name) {
  ResourceRef ref = NodesResource();
  ref.name = std::string(name);
  SEXTANT_ASSIGN_OR_RETURN(std::string body, Get(ref));
  return ParseNode(body);
}

absl::StatusOr<Lease> KubeClient::GetLease(absl::string_view namespace_name,
                                           absl::string_view name) {
  ResourceRef ref = LeasesResource(namespace_name);
  ref.name = std::string(name);
  SEXTANT_ASSIGN_OR_RETURN(std::string body, Get(ref));
  return ParseLease(body);
}

absl::StatusOr<Lease> KubeClient::CreateLease(const Lease& lease) {
  Lease copy = lease;
  copy.metadata.resource_version.clear();
  SEXTANT_ASSIGN_OR_RETURN(
      std::string body, Create(LeasesResource(lease.metadata.namespace_name), LeaseToJson(copy)));
  return ParseLease(body);
}

absl::StatusOr<Lease> KubeClient::UpdateLease(const Lease& lease) {
  ResourceRef ref = LeasesResource(lease.metadata.namespace_name);
  ref.name = lease.metadata.name;
  SEXTANT_ASSIGN_OR_RETURN(std::string body, Update(ref, LeaseToJson(lease)));
  return ParseLease(body);
}

absl::StatusOr<Event> KubeClient::CreateEvent(const Event& event) {
  Event copy = event;
  if (copy.metadata.namespace_name.empty()) {
    copy.metadata.namespace_name = copy.involved_object.namespace_name.empty()
                                       ? options_.default_namespace
                                       : copy.involved_object.namespace_name;
  }
  if (copy.metadata.name.empty()) {
    // As kubectl and client-go's recorder do: the object's name and a unique hex suffix.
    copy.metadata.name =
        absl::StrCat(copy.involved_object.name, ".", absl::Hex(absl::ToUnixNanos(absl::Now())));
  }
  SEXTANT_ASSIGN_OR_RETURN(std::string body,
                           Create(EventsResource(copy.metadata.namespace_name), EventToJson(copy)));
  return ParseEvent(body);
}

absl::StatusOr<Event> KubeClient::PatchEvent(absl::string_view namespace_name,
                                             absl::string_view name, int32_t count,
                                             absl::Time last_timestamp) {
  ResourceRef ref = EventsResource(namespace_name);
  ref.name = std::string(name);
  const std::string patch = absl::StrCat(
      "{\"count\":", count, ",\"lastTimestamp\":", JsonQuote(FormatKubeTime(last_timestamp)), "}");
  SEXTANT_ASSIGN_OR_RETURN(std::string body, MergePatch(ref, patch, true));
  return ParseEvent(body);
}

absl::StatusOr<std::string> KubeClient::ListScalingPolicies(absl::string_view namespace_name,
                                                            const ListOptions& options) {
  return List(ScalingPoliciesResource(namespace_name), options);
}

absl::StatusOr<std::string> KubeClient::UpdateScalingPolicyStatus(absl::string_view namespace_name,
                                                                  absl::string_view name,
                                                                  absl::string_view policy_json) {
  ResourceRef ref = ScalingPoliciesResource(namespace_name);
  ref.name = std::string(name);
  ref.subresource = "status";
  return Update(ref, policy_json);
}

absl::StatusOr<std::string> KubeClient::GetContainerLogs(const LogOptions& options) {
  ResourceRef ref = PodsResource(options.namespace_name);
  ref.name = options.pod;
  ref.subresource = "log";
  QueryParams q;
  if (!options.container.empty()) q.emplace_back("container", options.container);
  if (options.previous) q.emplace_back("previous", "true");
  if (options.tail_lines.has_value())
    q.emplace_back("tailLines", absl::StrCat(*options.tail_lines));
  if (options.limit_bytes.has_value()) {
    q.emplace_back("limitBytes", absl::StrCat(*options.limit_bytes));
  }
  HttpClientRequest req;
  req.method = "GET";
  req.headers.Add("Accept", "*/*");
  return Call("get", ref, EncodeQuery(q), std::move(req));
}

}  // namespace sextant::kube
