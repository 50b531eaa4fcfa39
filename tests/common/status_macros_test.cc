#include "common/status_macros.h"

#include <memory>

#include "gtest/gtest.h"

namespace sextant {
namespace {

absl::StatusOr<int> Half(int v) {
  if (v % 2 != 0) return absl::InvalidArgumentError("odd");
  return v / 2;
}

absl::Status Check(int v) {
  if (v < 0) return absl::OutOfRangeError("negative");
  return absl::OkStatus();
}

absl::StatusOr<int> Quarter(int v) {
  SEXTANT_ASSIGN_OR_RETURN(int h, Half(v));
  SEXTANT_ASSIGN_OR_RETURN(int q, Half(h), _.Prepend("second half: "));
  return q;
}

absl::Status CheckBoth(int a, int b) {
  SEXTANT_RETURN_IF_ERROR(Check(a));
  SEXTANT_RETURN_IF_ERROR(Check(b), _.Prepend("b: "));
  SEXTANT_RETURN_IF_ERROR(Half(a));  // a StatusOr works too
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<int>> MakeInt(int v) { return std::make_unique<int>(v); }

absl::StatusOr<int> UseMoveOnly() {
  SEXTANT_ASSIGN_OR_RETURN(std::unique_ptr<int> p, MakeInt(7));
  SEXTANT_ASSIGN_OR_RETURN(auto q, MakeInt(8));  // two on one scope
  return *p + *q;
}

TEST(StatusMacrosTest, AssignOrReturnPassesValueAndError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(3).status().message(), "odd");
  EXPECT_EQ(Quarter(6).status().message(), "second half: odd");
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*UseMoveOnly(), 15);
}

TEST(StatusMacrosTest, ReturnIfErrorStopsAtFirstError) {
  EXPECT_TRUE(CheckBoth(2, 1).ok());
  EXPECT_EQ(CheckBoth(-1, -1).message(), "negative");
  EXPECT_EQ(CheckBoth(2, -1).message(), "b: negative");
  EXPECT_EQ(CheckBoth(2, -1).code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(CheckBoth(3, 1).message(), "odd");
}

TEST(StatusMacrosTest, AnnotateKeepsCodeAndOk) {
  EXPECT_TRUE(Annotate(absl::OkStatus(), "x: ").ok());
  absl::Status s = Annotate(absl::NotFoundError("pod"), "get: ");
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "get: pod");
}

}  // namespace
}  // namespace sextant
