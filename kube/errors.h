// How answers of the Kubernetes API server become absl::Status: one function, so that callers'
// retry decisions look only at the code (DESIGN.md 4, STYLE.md "Errors").
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace sextant::kube {

// What the request was, for the message: "get", "list", "watch", "create", "update", "patch",
// "delete"; the resource as "deployments.apps/scale" or "pods"; the namespace and name if any.
struct RequestInfo {
  std::string verb;
  std::string resource;
  std::string namespace_name;
  std::string name;
};

// Maps an HTTP answer of the API server to a Status; OK for 2xx. The message starts with the
// verb and resource and carries the server's own message from a Kubernetes Status body
// ({"kind":"Status","message":...,"reason":...}) when there is one:
//   400 InvalidArgument, 401 Unauthenticated, 403 PermissionDenied (names verb, resource and
//   namespace: the missing permission), 404 NotFound, 409 AlreadyExists when the Status reason is
//   "AlreadyExists" else Aborted (a conflict: re-read and retry), 410 OutOfRange (an expired watch
//   or list resourceVersion: relist), 422 InvalidArgument, 429 ResourceExhausted (the message
//   says the Retry-After), 5xx Unavailable, 504 and 408 DeadlineExceeded; other codes Unknown.
absl::Status StatusFromHttp(int http_status, absl::string_view body, const RequestInfo& request,
                            std::optional<absl::Duration> retry_after = std::nullopt);

// True for codes worth retrying after a backoff: Unavailable, ResourceExhausted,
// DeadlineExceeded. (Aborted means re-read first; OutOfRange means relist.)
bool IsRetryable(const absl::Status& status);

}  // namespace sextant::kube
