// Early-return helpers for absl::Status and absl::StatusOr (Debian's Abseil 20220623 has none).
//
//   SEXTANT_RETURN_IF_ERROR(WriteRecord(r));
//   SEXTANT_ASSIGN_OR_RETURN(std::string body, ReadFile(path));
//   SEXTANT_ASSIGN_OR_RETURN(auto parsed, Parse(body), _.Prepend("parse config: "));
//
// The optional third argument of SEXTANT_ASSIGN_OR_RETURN and second of SEXTANT_RETURN_IF_ERROR is
// an expression over `_`, a StatusBuilder-like value, whose result is returned instead.
#pragma once

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace sextant {

// Returns `status` with `prefix` put before its message; OK stays OK.
inline absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(prefix, status.message()));
}

namespace internal {

// What `_` names in the error expressions of the macros below.
class ErrorContext {
 public:
  explicit ErrorContext(absl::Status status) : status_(std::move(status)) {}
  // The error with "prefix" prepended to its message.
  absl::Status Prepend(absl::string_view prefix) const { return Annotate(status_, prefix); }
  const absl::Status& status() const { return status_; }
  operator absl::Status() const { return status_; }  // NOLINT: implicit by design.

 private:
  absl::Status status_;
};

inline absl::Status ToStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace internal
}  // namespace sextant

#define SEXTANT_STATUS_CONCAT_INNER_(a, b) a##b
#define SEXTANT_STATUS_CONCAT_(a, b) SEXTANT_STATUS_CONCAT_INNER_(a, b)

#define SEXTANT_RETURN_IF_ERROR_1_(expr)                                    \
  do {                                                                      \
    ::absl::Status sextant_status_ = ::sextant::internal::ToStatus((expr)); \
    if (!sextant_status_.ok()) return sextant_status_;                      \
  } while (false)
#define SEXTANT_RETURN_IF_ERROR_2_(expr, error_expr)                        \
  do {                                                                      \
    ::absl::Status sextant_status_ = ::sextant::internal::ToStatus((expr)); \
    if (!sextant_status_.ok()) {                                            \
      ::sextant::internal::ErrorContext _(std::move(sextant_status_));      \
      return (error_expr);                                                  \
    }                                                                       \
  } while (false)
#define SEXTANT_GET_3RD_(a, b, c, ...) c
// SEXTANT_RETURN_IF_ERROR(expr) or SEXTANT_RETURN_IF_ERROR(expr, _.Prepend("context: ")).
#define SEXTANT_RETURN_IF_ERROR(...)                                                    \
  SEXTANT_GET_3RD_(__VA_ARGS__, SEXTANT_RETURN_IF_ERROR_2_, SEXTANT_RETURN_IF_ERROR_1_) \
  (__VA_ARGS__)

#define SEXTANT_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr, error_expr) \
  auto tmp = (rexpr);                                               \
  if (!tmp.ok()) {                                                  \
    ::sextant::internal::ErrorContext _(std::move(tmp).status());   \
    return (error_expr);                                            \
  }                                                                 \
  lhs = std::move(tmp).value()
#define SEXTANT_ASSIGN_OR_RETURN_2_(lhs, rexpr)                                                   \
  SEXTANT_ASSIGN_OR_RETURN_IMPL_(SEXTANT_STATUS_CONCAT_(sextant_statusor_, __LINE__), lhs, rexpr, \
                                 _.status())
#define SEXTANT_ASSIGN_OR_RETURN_3_(lhs, rexpr, error_expr)                                       \
  SEXTANT_ASSIGN_OR_RETURN_IMPL_(SEXTANT_STATUS_CONCAT_(sextant_statusor_, __LINE__), lhs, rexpr, \
                                 error_expr)
#define SEXTANT_GET_4TH_(a, b, c, d, ...) d
// SEXTANT_ASSIGN_OR_RETURN(lhs, expr) or SEXTANT_ASSIGN_OR_RETURN(lhs, expr, _.Prepend("ctx: ")).
#define SEXTANT_ASSIGN_OR_RETURN(...)                                                       \
  SEXTANT_GET_4TH_(__VA_ARGS__, SEXTANT_ASSIGN_OR_RETURN_3_, SEXTANT_ASSIGN_OR_RETURN_2_, ) \
  (__VA_ARGS__)
