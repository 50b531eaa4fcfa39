// The host's filesystem as the collector reads it: /proc, /sys, cgroupfs and mount points, all
// addressed by their path on the host ("/proc/stat") and resolved under a root (`--host-root`)
// when the host is mounted into the collector's pod. Tests point the root at a fixture tree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace sextant::collector {

struct DirEntry {
  std::string name;
  bool is_dir = false;  // a directory (symbolic links are not followed)
};

// What statfs(2) says of a mounted filesystem, in the units node_exporter exports.
struct FsStats {
  uint64_t block_size = 0;    // f_bsize: the unit of the block counts (as node_exporter uses)
  uint64_t blocks = 0;        // f_blocks
  uint64_t blocks_free = 0;   // f_bfree: free blocks, including those reserved for root
  uint64_t blocks_avail = 0;  // f_bavail: free blocks available to unprivileged users
  uint64_t files = 0;         // f_files: inodes
  uint64_t files_free = 0;    // f_ffree
  bool read_only = false;     // ST_RDONLY in f_flag
};

// Reads host files. Implementations are thread-safe: the collector calls Statfs from a worker
// thread while the pass goes on reading other files.
class HostFilesystem {
 public:
  virtual ~HostFilesystem() = default;

  // The whole content of the file at host path `path` (absolute). NotFound when it does not
  // exist (also when a directory on the way vanished), ResourceExhausted when it is longer than
  // `max_bytes`, another code (with the errno text) for anything else.
  virtual absl::StatusOr<std::string> ReadFile(absl::string_view path,
                                               size_t max_bytes = size_t{16} << 20) const = 0;

  // The entries of directory `path`, without "." and "..", in no particular order. NotFound
  // when it does not exist.
  virtual absl::StatusOr<std::vector<DirEntry>> ListDir(absl::string_view path) const = 0;

  // statfs(2) of the filesystem mounted at host path `path`. May block for as long as the
  // filesystem does (a hung NFS server): callers run it off the pass's thread with a timeout.
  virtual absl::StatusOr<FsStats> Statfs(absl::string_view path) const = 0;
};

// The real filesystem under a root directory: host path P is read at `root` + P. Thread-safe.
class RootedFilesystem final : public HostFilesystem {
 public:
  // `root` "/" (or "") reads the collector's own view of the filesystem.
  explicit RootedFilesystem(std::string root);

  absl::StatusOr<std::string> ReadFile(absl::string_view path,
                                       size_t max_bytes = size_t{16} << 20) const override;
  absl::StatusOr<std::vector<DirEntry>> ListDir(absl::string_view path) const override;
  absl::StatusOr<FsStats> Statfs(absl::string_view path) const override;

  // The path on this machine of host path `path`.
  std::string Resolve(absl::string_view path) const;
  const std::string& root() const { return root_; }

 private:
  std::string root_;  // without a trailing slash; "" for "/"
};

}  // namespace sextant::collector
