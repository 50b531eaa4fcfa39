#include "kube/errors.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::kube {
namespace {

using ::testing::HasSubstr;

const RequestInfo kPatchScale{"patch", "deployments.apps/scale", "web", "frontend"};

TEST(StatusFromHttpTest, MapsEveryCode) {
  struct Case {
    int http;
    absl::StatusCode code;
  } cases[] = {
      {200, absl::StatusCode::kOk},
      {201, absl::StatusCode::kOk},
      {400, absl::StatusCode::kInvalidArgument},
      {401, absl::StatusCode::kUnauthenticated},
      {403, absl::StatusCode::kPermissionDenied},
      {404, absl::StatusCode::kNotFound},
      {409, absl::StatusCode::kAborted},
      {410, absl::StatusCode::kOutOfRange},
      {422, absl::StatusCode::kInvalidArgument},
      {429, absl::StatusCode::kResourceExhausted},
      {500, absl::StatusCode::kUnavailable},
      {503, absl::StatusCode::kUnavailable},
      {504, absl::StatusCode::kDeadlineExceeded},
      {408, absl::StatusCode::kDeadlineExceeded},
      {418, absl::StatusCode::kUnknown},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(StatusFromHttp(c.http, "", kPatchScale).code(), c.code) << c.http;
  }
}

TEST(StatusFromHttpTest, ConflictVersusAlreadyExistsByReason) {
  const char* exists =
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"leases.coordination.k8s.io \"x\" already exists","reason":"AlreadyExists","code":409})";
  absl::Status s =
      StatusFromHttp(409, exists, {"create", "leases.coordination.k8s.io", "ops", "x"});
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr("already exists"));
  const char* conflict =
      R"({"kind":"Status","message":"Operation cannot be fulfilled: the object has been modified","reason":"Conflict","code":409})";
  s = StatusFromHttp(409, conflict, kPatchScale);
  EXPECT_EQ(s.code(), absl::StatusCode::kAborted);
  EXPECT_THAT(s.message(), HasSubstr("the object has been modified"));
}

TEST(StatusFromHttpTest, ForbiddenNamesTheMissingPermission) {
  absl::Status s = StatusFromHttp(
      403, R"({"kind":"Status","message":"forbidden","reason":"Forbidden","code":403})",
      kPatchScale);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(s.message(), HasSubstr("patch deployments.apps/scale frontend in namespace web"));
  EXPECT_THAT(s.message(),
              HasSubstr("verb \"patch\" on \"deployments.apps/scale\" in namespace \"web\""));
}

TEST(StatusFromHttpTest, TooManyRequestsCarriesRetryAfter) {
  absl::Status s = StatusFromHttp(429, "", kPatchScale, absl::Seconds(3));
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("retry after 3s"));
  EXPECT_TRUE(IsRetryable(s));
  EXPECT_FALSE(IsRetryable(absl::AbortedError("conflict")));
  EXPECT_FALSE(IsRetryable(absl::OutOfRangeError("gone")));
}

TEST(StatusFromHttpTest, NonStatusBodiesAreIgnored) {
  absl::Status s = StatusFromHttp(404, "<html>not json</html>", {"get", "nodes", "", "n1"});
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "get nodes n1: HTTP 404");
}

}  // namespace
}  // namespace sextant::kube
