// HTTP value types shared by the server (common/http_server.h) and the client
// (common/http_client.h): headers, query and form parameters, and URL encoding.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sextant {

// HTTP header fields in order, repeated names kept, with case-insensitive lookup (names are
// stored ASCII-lowercased). A value type; not thread-safe (concurrent const use is fine).
class HttpHeaders {
 public:
  void Add(absl::string_view name, absl::string_view value);
  // The first value of `name`, or "" when absent.
  absl::string_view Get(absl::string_view name) const;
  bool Has(absl::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return headers_; }

 private:
  std::vector<std::pair<std::string, std::string>> headers_;  // names lowercased
};

// Parameters from a query string or a form body, in order, repeated names kept (match[]).
// A value type; not thread-safe (concurrent const use is fine).
class HttpParams {
 public:
  void Add(std::string name, std::string value);
  // The first value of `name`, or "" when absent.
  absl::string_view Get(absl::string_view name) const;
  bool Has(absl::string_view name) const;
  // Every value of `name`, in order.
  std::vector<std::string> GetAll(absl::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return params_; }

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

// Parses application/x-www-form-urlencoded text ("a=1&b=x%20y&match[]=up"), '+' as space.
// InvalidArgument on a bad percent escape.
absl::StatusOr<HttpParams> ParseUrlEncoded(absl::string_view text);
// Percent-decodes `s` ('+' as space when `plus_is_space`). InvalidArgument on a bad escape.
absl::StatusOr<std::string> UrlDecode(absl::string_view s, bool plus_is_space);
// Percent-encodes everything but unreserved characters (RFC 3986).
std::string UrlEncode(absl::string_view s);

}  // namespace sextant
