#include "kube/errors.h"

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"

namespace sextant::kube {
namespace {

struct StatusBody {
  std::string message;
  std::string reason;
};

// Reads a metav1.Status body; empty fields when the body is something else.
StatusBody ParseStatusBody(absl::string_view body) {
  StatusBody out;
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return out;
  auto kind = doc.FindMember("kind");
  if (kind == doc.MemberEnd() || !kind->value.IsString() ||
      absl::string_view(kind->value.GetString()) != "Status") {
    return out;
  }
  if (auto m = doc.FindMember("message"); m != doc.MemberEnd() && m->value.IsString()) {
    out.message = m->value.GetString();
  }
  if (auto r = doc.FindMember("reason"); r != doc.MemberEnd() && r->value.IsString()) {
    out.reason = r->value.GetString();
  }
  return out;
}

std::string Describe(const RequestInfo& r) {
  std::string s = absl::StrCat(r.verb, " ", r.resource);
  if (!r.name.empty()) absl::StrAppend(&s, " ", r.name);
  if (!r.namespace_name.empty()) absl::StrAppend(&s, " in namespace ", r.namespace_name);
  return s;
}

}  // namespace

absl::Status StatusFromHttp(int http_status, absl::string_view body, const RequestInfo& request,
                            std::optional<absl::Duration> retry_after) {
  if (http_status >= 200 && http_status < 300) return absl::OkStatus();
  const StatusBody st = ParseStatusBody(body);
  std::string detail = st.message.empty() ? absl::StrCat("HTTP ", http_status)
                                          : absl::StrCat("HTTP ", http_status, ": ", st.message);
  const std::string what = absl::StrCat(Describe(request), ": ", detail);
  switch (http_status) {
    case 400:
    case 422:
      return absl::InvalidArgumentError(what);
    case 401:
      return absl::UnauthenticatedError(
          absl::StrCat(what, " (the credentials were refused: check the token or certificate)"));
    case 403:
      return absl::PermissionDeniedError(absl::StrCat(
          what, " (missing RBAC permission: verb \"", request.verb, "\" on \"", request.resource,
          "\"", request.namespace_name.empty() ? "" : " in namespace \"", request.namespace_name,
          request.namespace_name.empty() ? "" : "\"", ")"));
    case 404:
      return absl::NotFoundError(what);
    case 409:
      if (st.reason == "AlreadyExists") return absl::AlreadyExistsError(what);
      return absl::AbortedError(absl::StrCat(what, " (conflict: re-read and retry)"));
    case 410:
      return absl::OutOfRangeError(absl::StrCat(what, " (resourceVersion expired: relist)"));
    case 429:
      return absl::ResourceExhaustedError(
          retry_after.has_value()
              ? absl::StrCat(what, " (retry after ", absl::FormatDuration(*retry_after), ")")
              : what);
    case 408:
    case 504:
      return absl::DeadlineExceededError(what);
    default:
      break;
  }
  if (http_status >= 500 && http_status < 600) return absl::UnavailableError(what);
  return absl::UnknownError(what);
}

bool IsRetryable(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kResourceExhausted ||
         status.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace sextant::kube
