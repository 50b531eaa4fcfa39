#include "tests/util/test_util.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace sextant::testing {

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string templ = absl::StrCat(base && *base ? base : "/tmp", "/sextant-test-XXXXXX");
  if (mkdtemp(templ.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << templ << " failed";
  }
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Path(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

std::string TempDir::WriteFile(absl::string_view name, absl::string_view contents) const {
  std::string p = Path(name);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(p).parent_path(), ec);
  std::ofstream out(p, std::ios::binary);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  if (!out) ADD_FAILURE() << "cannot write " << p;
  return p;
}

std::string SourcePath(absl::string_view relative) {
  return absl::StrCat(SEXTANT_SOURCE_DIR, "/", relative);
}

std::string BinaryPath(absl::string_view relative) {
  return absl::StrCat(SEXTANT_BINARY_DIR, "/", relative);
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return "";
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sextant::testing
