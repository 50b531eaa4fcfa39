// Helpers shared by the tests: temporary directories and the paths of test data and binaries.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace sextant::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Path(absl::string_view name) const;
  // Writes `contents` (creating parent directories) to path()/name and returns the full path.
  std::string WriteFile(absl::string_view name, absl::string_view contents) const;

 private:
  std::string path_;
};

// Absolute path of a file in the source tree, e.g. SourcePath("tests/testdata/tls/ca.pem").
std::string SourcePath(absl::string_view relative);
// Absolute path of a file in the build tree, e.g. BinaryPath("sextant").
std::string BinaryPath(absl::string_view relative);
// Reads a whole file; fails the calling test (ADD_FAILURE) and returns "" when it cannot.
std::string ReadFileOrDie(const std::string& path);

}  // namespace sextant::testing
