// Pieces shared by the node sources' implementation files; not part of the public API.
#pragma once

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "collector/host_fs.h"
#include "collector/node/node_sources.h"
#include "collector/source.h"

namespace re2 {
class RE2;
}

namespace sextant::collector::node_internal {

// An RE2 pattern matched unanchored (as Go's Regexp.MatchString), with the answers remembered per
// string: device, mount and field names repeat on every pass, so each is matched once. An empty
// pattern matches nothing (node_exporter's "no filter"). Thread-compatible.
class CachedMatcher {
 public:
  // `option` names the pattern in status().
  CachedMatcher(absl::string_view option, const std::string& pattern);
  ~CachedMatcher();

  // InvalidArgument naming the option when the pattern does not compile; it then matches nothing.
  const absl::Status& status() const { return status_; }
  bool Matches(absl::string_view s);

 private:
  std::unique_ptr<re2::RE2> re_;
  absl::Status status_;
  absl::flat_hash_map<std::string, bool> cache_;
};

// The "filesystem" source (filesystem_source.cc).
std::unique_ptr<Source> NewFilesystemSource(const HostFilesystem& fs,
                                            const NodeSourceOptions& options);

}  // namespace sextant::collector::node_internal
