#include "collector/host_fs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sextant::collector {
namespace {

using ::sextant::testing::TempDir;

TEST(RootedFilesystemTest, ReadsFilesUnderTheRoot) {
  TempDir dir;
  dir.WriteFile("proc/loadavg", "0.10 0.20 0.30 1/100 42\n");
  RootedFilesystem fs(dir.path() + "/");
  absl::StatusOr<std::string> text = fs.ReadFile("/proc/loadavg");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "0.10 0.20 0.30 1/100 42\n");
  EXPECT_EQ(fs.Resolve("/proc/loadavg"), dir.path() + "/proc/loadavg");
}

TEST(RootedFilesystemTest, MissingFileIsNotFound) {
  TempDir dir;
  RootedFilesystem fs(dir.path());
  EXPECT_EQ(fs.ReadFile("/proc/nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fs.ListDir("/sys/nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fs.ReadFile("/proc/nope/deeper").status().code(), absl::StatusCode::kNotFound);
}

TEST(RootedFilesystemTest, ReadsProcFilesThatReportSizeZero) {
  RootedFilesystem fs("/");
  absl::StatusOr<std::string> stat = fs.ReadFile("/proc/self/stat");
  ASSERT_TRUE(stat.ok()) << stat.status();
  EXPECT_GT(stat->size(), 20u);
}

// The kernel hands out seq_file output (/proc/self/maps, mountinfo, diskstats on a big host) a
// page at a time: every page must be read, not only the first.
TEST(RootedFilesystemTest, ReadsMultiPageProcFilesWhole) {
  RootedFilesystem fs("/");
  // Map enough separate regions that /proc/self/maps spans several pages.
  std::vector<std::unique_ptr<std::string>> keep;
  for (int i = 0; i < 200; ++i) keep.push_back(std::make_unique<std::string>(300000, 'x'));
  absl::StatusOr<std::string> maps = fs.ReadFile("/proc/self/maps");
  ASSERT_TRUE(maps.ok()) << maps.status();
  std::ifstream in("/proc/self/maps");
  std::stringstream whole;
  whole << in.rdbuf();
  ASSERT_GT(whole.str().size(), 8192u) << "the test needs a multi-page file";
  // The mappings change a little between the two reads (more under sanitizers), so compare
  // sizes loosely: a read of the first page only would have a small fraction of the lines.
  auto lines = [](const std::string& s) { return std::count(s.begin(), s.end(), '\n'); };
  EXPECT_GT(lines(*maps), lines(whole.str()) * 9 / 10);
  EXPECT_GT(maps->size(), 8192u);
  EXPECT_EQ(maps->back(), '\n');
}

TEST(RootedFilesystemTest, RefusesFilesOverTheLimit) {
  TempDir dir;
  dir.WriteFile("big", std::string(10000, 'x'));
  RootedFilesystem fs(dir.path());
  EXPECT_EQ(fs.ReadFile("/big", 100).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(fs.ReadFile("/big", 10000).ok());
}

TEST(RootedFilesystemTest, ListsDirectoriesWithTheirKind) {
  TempDir dir;
  dir.WriteFile("cg/a/file", "1");
  dir.WriteFile("cg/b", "2");
  RootedFilesystem fs(dir.path());
  absl::StatusOr<std::vector<DirEntry>> entries = fs.ListDir("/cg");
  ASSERT_TRUE(entries.ok()) << entries.status();
  std::sort(entries->begin(), entries->end(),
            [](const DirEntry& x, const DirEntry& y) { return x.name < y.name; });
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "a");
  EXPECT_TRUE((*entries)[0].is_dir);
  EXPECT_EQ((*entries)[1].name, "b");
  EXPECT_FALSE((*entries)[1].is_dir);
}

TEST(RootedFilesystemTest, StatfsReportsTheFilesystem) {
  TempDir dir;
  RootedFilesystem fs(dir.path());
  absl::StatusOr<FsStats> st = fs.Statfs("/");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_GT(st->block_size, 0u);
  EXPECT_GT(st->blocks, 0u);
  EXPECT_LE(st->blocks_avail, st->blocks_free);
  EXPECT_EQ(fs.Statfs("/missing").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace sextant::collector
