#include "collector/host_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace sextant::collector {
namespace {

absl::Status ErrnoStatus(int err, absl::string_view what, absl::string_view path) {
  std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ESRCH:   // /proc/<pid>/... of a process that exited
    case ENODEV:  // a cgroup removed while reading it
      return absl::NotFoundError(msg);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

}  // namespace

RootedFilesystem::RootedFilesystem(std::string root) : root_(std::move(root)) {
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
}

std::string RootedFilesystem::Resolve(absl::string_view path) const {
  if (path.empty() || path[0] != '/') return absl::StrCat(root_, "/", path);
  return absl::StrCat(root_, path);
}

namespace {

// The directory the calling thread read a file from last, kept open: the collector reads a
// dozen files from each cgroup directory in a row, and openat() from the directory skips the
// kernel's walk of the long path for all but the first. Keyed by the resolved path; a failure
// through the cached descriptor (the directory was removed and made again) retries by path.
struct DirCache {
  std::string path;
  int fd = -1;
  ~DirCache() {
    if (fd >= 0) ::close(fd);
  }
};
thread_local DirCache dir_cache;

int OpenForRead(const std::string& full) {
  const size_t slash = full.rfind('/');
  if (slash == std::string::npos || slash == 0) return ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
  const absl::string_view dir(full.data(), slash);
  if (dir_cache.fd < 0 || dir_cache.path != dir) {
    if (dir_cache.fd >= 0) ::close(dir_cache.fd);
    dir_cache.path.assign(dir.data(), dir.size());
    dir_cache.fd = ::open(dir_cache.path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dir_cache.fd < 0) {
      dir_cache.path.clear();
      return ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
    }
  }
  int fd = ::openat(dir_cache.fd, full.c_str() + slash + 1, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != EACCES && errno != EPERM) {
    // Missing file, or a directory removed since we opened it: the path decides. Only when the
    // path works is the cached descriptor stale.
    const int openat_errno = errno;
    fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::close(dir_cache.fd);
      dir_cache.fd = -1;
      dir_cache.path.clear();
    } else if (errno == ENOENT) {
      errno = openat_errno;
    }
  }
  return fd;
}

}  // namespace

absl::StatusOr<std::string> RootedFilesystem::ReadFile(absl::string_view path,
                                                       size_t max_bytes) const {
  const std::string full = Resolve(path);
  int fd = OpenForRead(full);
  if (fd < 0) return ErrnoStatus(errno, "open", path);
  // /proc, /sys and cgroup files report size 0, and the kernel hands out seq_file output a
  // page or a record at a time, so read until read() returns 0. The first read goes to the
  // stack, so that the usual small file costs one allocation of its own size.
  char buf[16384];
  std::string out;
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "read", path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) break;
  }
  ::close(fd);
  if (out.size() > max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("read ", path, ": longer than ", max_bytes, " bytes"));
  }
  return out;
}

absl::StatusOr<std::vector<DirEntry>> RootedFilesystem::ListDir(absl::string_view path) const {
  const std::string full = Resolve(path);
  DIR* dir = ::opendir(full.c_str());
  if (dir == nullptr) return ErrnoStatus(errno, "opendir", path);
  std::vector<DirEntry> out;
  while (true) {
    errno = 0;
    struct dirent* e = ::readdir(dir);
    if (e == nullptr) {
      int err = errno;
      ::closedir(dir);
      if (err != 0) return ErrnoStatus(err, "readdir", path);
      return out;
    }
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      std::string child = absl::StrCat(full, "/", e->d_name);
      is_dir = ::lstat(child.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    out.push_back(DirEntry{e->d_name, is_dir});
  }
}

absl::StatusOr<FsStats> RootedFilesystem::Statfs(absl::string_view path) const {
  const std::string full = Resolve(path);
  struct statfs st;
  if (::statfs(full.c_str(), &st) != 0) return ErrnoStatus(errno, "statfs", path);
  FsStats out;
  // node_exporter multiplies the counts by statfs's f_bsize (Go's Statfs_t.Bsize).
  out.block_size = static_cast<uint64_t>(st.f_bsize);
  out.blocks = st.f_blocks;
  out.blocks_free = st.f_bfree;
  out.blocks_avail = st.f_bavail;
  out.files = st.f_files;
  out.files_free = st.f_ffree;
  out.read_only = (st.f_flags & ST_RDONLY) != 0;
  return out;
}

}  // namespace sextant::collector
