#include "kube/watch.h"

#include <algorithm>
#include <utility>

#include "absl/random/distributions.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/http_types.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace sextant::kube {
namespace {

std::string ToJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

absl::Status WatchDecoder::Feed(absl::string_view chunk, std::vector<WatchEvent>* events) {
  buffer_.append(chunk.data(), chunk.size());
  size_t start = 0;
  absl::Status status;
  while (status.ok()) {
    const size_t nl = buffer_.find('\n', start);
    if (nl == std::string::npos) break;
    status = DecodeLine(absl::string_view(buffer_).substr(start, nl - start), events);
    start = nl + 1;
  }
  buffer_.erase(0, start);
  return status;
}

absl::Status WatchDecoder::Finish(std::vector<WatchEvent>* events) {
  std::string rest = std::move(buffer_);
  buffer_.clear();
  return DecodeLine(rest, events);
}

absl::Status WatchDecoder::DecodeLine(absl::string_view line, std::vector<WatchEvent>* events) {
  line = absl::StripAsciiWhitespace(line);
  if (line.empty()) return absl::OkStatus();
  const std::string what = absl::StrCat(request_.verb, " ", request_.resource, ": ");
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, "malformed watch event (not a JSON object): ",
                     line.substr(0, std::min<size_t>(line.size(), 200))));
  }
  const rapidjson::Value& root = doc;  // const iterators compare unambiguously in C++20
  auto type = root.FindMember("type");
  auto object = root.FindMember("object");
  if (type == root.MemberEnd() || !type->value.IsString() || object == root.MemberEnd() ||
      !object->value.IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, "malformed watch event (needs \"type\" and \"object\")"));
  }
  WatchEvent event;
  event.type = type->value.GetString();
  if (event.type == "ERROR") {
    // The object is a metav1.Status; its code says why (410: the version is too old).
    int code = 500;
    auto c = object->value.FindMember("code");
    if (c != object->value.MemberEnd() && c->value.IsInt()) code = c->value.GetInt();
    absl::Status s = StatusFromHttp(code, ToJson(object->value), request_);
    if (s.ok()) s = absl::UnknownError(absl::StrCat(what, "ERROR event with code ", code));
    return s;
  }
  event.object = ToJson(object->value);
  auto meta = object->value.FindMember("metadata");
  if (meta != object->value.MemberEnd() && meta->value.IsObject()) {
    auto rv = meta->value.FindMember("resourceVersion");
    if (rv != meta->value.MemberEnd() && rv->value.IsString()) {
      event.resource_version = rv->value.GetString();
    }
  }
  if (!event.resource_version.empty()) resource_version_ = event.resource_version;
  events->push_back(std::move(event));
  return absl::OkStatus();
}

absl::StatusOr<WatchResult> Watch(KubeClient& client, const ResourceRef& ref,
                                  const WatchOptions& options,
                                  const std::function<bool(const WatchEvent&)>& on_event) {
  std::vector<std::pair<std::string, std::string>> q;
  q.emplace_back("watch", "true");
  if (!options.resource_version.empty()) {
    q.emplace_back("resourceVersion", options.resource_version);
  }
  if (options.allow_bookmarks) q.emplace_back("allowWatchBookmarks", "true");
  if (!options.label_selector.empty()) q.emplace_back("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) q.emplace_back("fieldSelector", options.field_selector);
  const int64_t timeout_s = std::max<int64_t>(1, absl::ToInt64Seconds(options.timeout));
  q.emplace_back("timeoutSeconds", absl::StrCat(timeout_s));
  std::string query;
  for (const auto& [k, v] : q) {
    if (!query.empty()) query.push_back('&');
    absl::StrAppend(&query, UrlEncode(k), "=", UrlEncode(v));
  }

  WatchDecoder decoder(RequestInfo{"watch", ref.Describe(), ref.namespace_name, ""});
  WatchResult result;
  result.resource_version = options.resource_version;
  absl::Status stream_status;
  std::vector<WatchEvent> events;
  // Hands decoded events over; false when the caller wants to stop.
  auto deliver = [&]() {
    for (const WatchEvent& e : events) {
      ++result.events;
      if (!e.resource_version.empty()) result.resource_version = e.resource_version;
      if (!on_event(e)) {
        result.stopped = true;
        break;
      }
    }
    events.clear();
    return !result.stopped;
  };

  HttpClientRequest req;
  req.method = "GET";
  req.headers.Add("Accept", "application/json");
  req.timeout = absl::Seconds(timeout_s) + absl::Minutes(1);
  req.cancelled = options.cancelled;
  req.on_body = [&](absl::string_view chunk) {
    stream_status = decoder.Feed(chunk, &events);
    if (!deliver()) return false;
    return stream_status.ok();
  };
  absl::StatusOr<std::string> body = client.Call("watch", ref, query, std::move(req));
  if (!body.ok()) return body.status();
  if (result.stopped) return result;
  if (stream_status.ok()) {
    stream_status = decoder.Finish(&events);
    deliver();
  }
  if (!stream_status.ok()) return stream_status;
  return result;
}

Reflector::Reflector(KubeClient& client, ResourceRef ref, ReflectorOptions options, Clock& clock,
                     ReflectorCallbacks callbacks)
    : client_(client),
      ref_(std::move(ref)),
      options_(std::move(options)),
      clock_(clock),
      callbacks_(std::move(callbacks)) {}

std::string Reflector::resource_version() const {
  absl::MutexLock lock(&mu_);
  return resource_version_;
}

int Reflector::consecutive_failures() const {
  absl::MutexLock lock(&mu_);
  return failures_;
}

void Reflector::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
}

absl::Status Reflector::List() {
  ListOptions opts;
  opts.label_selector = options_.label_selector;
  opts.field_selector = options_.field_selector;
  opts.limit = options_.page_size;
  ObjectList all;
  do {
    SEXTANT_ASSIGN_OR_RETURN(std::string body, client_.List(ref_, opts));
    SEXTANT_ASSIGN_OR_RETURN(ObjectList page, ParseObjectList(body),
                             _.Prepend(absl::StrCat("list ", ref_.Describe(), ": ")));
    for (std::string& item : page.items) all.items.push_back(std::move(item));
    all.resource_version = page.resource_version;
    opts.continue_token = page.continue_token;
    if (stop_.HasBeenNotified()) return absl::CancelledError("reflector stopped");
  } while (!opts.continue_token.empty());
  if (callbacks_.on_list) callbacks_.on_list(all);
  absl::MutexLock lock(&mu_);
  resource_version_ = all.resource_version;
  need_list_ = false;
  return absl::OkStatus();
}

absl::Status Reflector::WatchOnce(bool* empty) {
  WatchOptions wo;
  wo.resource_version = resource_version();
  wo.label_selector = options_.label_selector;
  wo.field_selector = options_.field_selector;
  wo.timeout = options_.watch_timeout;
  wo.cancelled = [this] { return stop_.HasBeenNotified(); };
  auto on_event = [this](const WatchEvent& e) {
    if (stop_.HasBeenNotified()) return false;
    if (e.type != "BOOKMARK" && callbacks_.on_event) callbacks_.on_event(e);
    if (!e.resource_version.empty()) {
      absl::MutexLock lock(&mu_);
      resource_version_ = e.resource_version;
    }
    return !stop_.HasBeenNotified();
  };
  absl::StatusOr<WatchResult> r = Watch(client_, ref_, wo, on_event);
  if (!r.ok()) {
    if (r.status().code() == absl::StatusCode::kOutOfRange) {
      absl::MutexLock lock(&mu_);
      resource_version_.clear();
      need_list_ = true;
    }
    return r.status();
  }
  *empty = r->events == 0;
  if (r->stopped) return absl::CancelledError("reflector stopped");
  return absl::OkStatus();
}

absl::Status Reflector::Step() {
  bool listed = false;
  bool empty = false;
  return StepInternal(&listed, &empty);
}

absl::Status Reflector::StepInternal(bool* listed, bool* empty) {
  if (stop_.HasBeenNotified()) return absl::CancelledError("reflector stopped");
  {
    absl::MutexLock lock(&mu_);
    *listed = need_list_;
  }
  *empty = false;
  absl::Status s = *listed ? List() : WatchOnce(empty);
  absl::MutexLock lock(&mu_);
  failures_ = s.ok() ? 0 : failures_ + 1;
  return s;
}

void Reflector::Run() {
  while (!stop_.HasBeenNotified()) {
    bool list = false;
    bool empty = false;
    absl::Status s = StepInternal(&list, &empty);
    const int failures = consecutive_failures();
    if (stop_.HasBeenNotified()) break;
    if (s.ok()) {
      if (empty) clock_.WaitFor(stop_, options_.initial_backoff);
      continue;
    }
    if (s.code() == absl::StatusCode::kOutOfRange) {
      LogInfo("watch expired, relisting", {{"resource", ref_.Describe()}});
      continue;  // relist at once
    }
    absl::Duration backoff = options_.initial_backoff;
    for (int i = 1; i < failures && backoff < options_.max_backoff; ++i) backoff *= 2;
    backoff = std::min(backoff, options_.max_backoff);
    if (options_.jitter > 0) {
      // Spread reconnects of many reflectors (and nodes) after an API server outage.
      backoff = std::min(options_.max_backoff,
                         backoff * absl::Uniform(rng_, 1 - options_.jitter, 1 + options_.jitter));
    }
    LogWarn(list ? "list failed" : "watch failed", {{"resource", ref_.Describe()},
                                                    {"err", s.ToString()},
                                                    {"backoff", absl::FormatDuration(backoff)}});
    clock_.WaitFor(stop_, backoff);
  }
}

}  // namespace sextant::kube
