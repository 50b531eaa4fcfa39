// The filesystem source's statfs deadline: a hung mount costs one pass at most the timeout, is
// then skipped (device_error 1, no statfs) until its statfs returns, and never blocks the others.
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "collector/metric_set.h"
#include "collector/node/node_sources.h"
#include "gtest/gtest.h"
#include "tests/collector/node/fake_host_fs.h"

namespace sextant::collector {
namespace {

using ::sextant::collector::testing::FakeHostFs;

// Long enough that healthy mounts always finish within it on a loaded CI machine (sanitizers
// included); the hung ones cost a test this long.
constexpr absl::Duration kTimeout = absl::Milliseconds(400);

FsStats Stats(uint64_t blocks) {
  FsStats st;
  st.block_size = 4096;
  st.blocks = blocks;
  st.blocks_free = blocks / 2;
  st.blocks_avail = blocks / 4;
  st.files = 100;
  st.files_free = 50;
  return st;
}

// The mounts "/", "/data/nfs" (hung in the tests) and "/home/my data".
std::unique_ptr<FakeHostFs> Fs() {
  auto fs = std::make_unique<FakeHostFs>();
  fs->SetFile("/proc/1/mountinfo",
              "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
              "34 27 0:28 / /data/nfs rw,relatime - nfs4 server:/export rw,vers=4.2\n"
              "29 27 259:2 / /home/my\\040data ro,relatime - xfs /dev/nvme0n1p2 rw\n");
  fs->SetStatfs("/", Stats(1000));
  fs->SetStatfs("/data/nfs", Stats(2000));
  fs->SetStatfs("/home/my data", Stats(3000));
  return fs;
}

std::unique_ptr<Source> FilesystemSource(const HostFilesystem& fs, absl::Duration timeout) {
  NodeSourceOptions options;
  options.statfs_timeout = timeout;
  for (auto& source : NewNodeSources(fs, options)) {
    if (source->name() == "filesystem") return std::move(source);
  }
  return nullptr;
}

// "family/mountpoint" -> value.
std::map<std::string, double> Collect(Source& source) {
  MetricSet set;
  absl::Status status = source.Collect(PassContext{absl::Now(), nullptr}, set);
  EXPECT_TRUE(status.ok()) << status;
  std::map<std::string, double> out;
  for (const auto& f : set.families()) {
    for (const auto& s : f.samples) {
      out[absl::StrCat(f.name, "/", s.labels.Get("mountpoint"))] = s.value;
    }
  }
  return out;
}

TEST(FilesystemSourceTest, HealthyMountsReportStatfsAndMountOptions) {
  auto fs = Fs();
  auto source = FilesystemSource(*fs, absl::Seconds(5));
  auto got = Collect(*source);
  EXPECT_EQ(got["node_filesystem_device_error//"], 0);
  EXPECT_EQ(got["node_filesystem_size_bytes//"], 1000.0 * 4096);
  EXPECT_EQ(got["node_filesystem_free_bytes//"], 500.0 * 4096);
  EXPECT_EQ(got["node_filesystem_avail_bytes//"], 250.0 * 4096);
  EXPECT_EQ(got["node_filesystem_files//"], 100);
  EXPECT_EQ(got["node_filesystem_files_free//"], 50);
  EXPECT_EQ(got["node_filesystem_readonly//"], 0);
  // The escaped space is decoded, and "ro" among the mount options makes it read-only.
  EXPECT_EQ(got["node_filesystem_size_bytes//home/my data"], 3000.0 * 4096);
  EXPECT_EQ(got["node_filesystem_readonly//home/my data"], 1);
}

TEST(FilesystemSourceTest, FailedStatfsGivesDeviceErrorAndNoSizes) {
  auto fs = Fs();
  fs->SetStatfs("/data/nfs", absl::PermissionDeniedError("EACCES"));
  auto source = FilesystemSource(*fs, absl::Seconds(5));
  auto got = Collect(*source);
  EXPECT_EQ(got["node_filesystem_device_error//data/nfs"], 1);
  EXPECT_FALSE(got.contains("node_filesystem_size_bytes//data/nfs"));
  EXPECT_FALSE(got.contains("node_filesystem_readonly//data/nfs"));
  EXPECT_EQ(got["node_filesystem_device_error//"], 0);
}

TEST(FilesystemSourceTest, HungStatfsMarksTheMountStuckUntilItReturns) {
  auto fs = Fs();
  fs->Block("/data/nfs");
  auto source = FilesystemSource(*fs, kTimeout);

  absl::Time start = absl::Now();
  auto first = Collect(*source);
  absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, kTimeout);
  EXPECT_LT(took, absl::Seconds(2));
  EXPECT_EQ(first["node_filesystem_device_error//data/nfs"], 1);
  EXPECT_FALSE(first.contains("node_filesystem_size_bytes//data/nfs"));
  // The other mounts are not held up by the hung one.
  EXPECT_EQ(first["node_filesystem_device_error//"], 0);
  EXPECT_EQ(first["node_filesystem_size_bytes//home/my data"], 3000.0 * 4096);

  // While stuck, the mount is not statfs'ed again and the pass does not wait for it.
  start = absl::Now();
  auto second = Collect(*source);
  EXPECT_LT(absl::Now() - start, kTimeout);
  EXPECT_EQ(second["node_filesystem_device_error//data/nfs"], 1);
  EXPECT_EQ(second["node_filesystem_size_bytes//"], 1000.0 * 4096);
  EXPECT_EQ(fs->statfs_calls("/data/nfs"), 1);

  // Once the statfs returns, the mount is monitored again.
  fs->Unblock("/data/nfs");
  ASSERT_TRUE(fs->AwaitReturns("/data/nfs", 1));
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::map<std::string, double> got;
  do {
    got = Collect(*source);
  } while (got["node_filesystem_device_error//data/nfs"] == 1 && absl::Now() < deadline);
  EXPECT_EQ(got["node_filesystem_device_error//data/nfs"], 0);
  EXPECT_EQ(got["node_filesystem_size_bytes//data/nfs"], 2000.0 * 4096);
}

TEST(FilesystemSourceTest, SeveralHungMountsCostOnePassOneTimeoutInAll) {
  auto fs = std::make_unique<FakeHostFs>();
  std::string mountinfo;
  for (int i = 0; i < 4; ++i) {
    std::string mp = absl::StrCat("/nfs", i);
    absl::StrAppend(&mountinfo, 30 + i, " 1 0:", 30 + i, " / ", mp, " rw - nfs4 server:/", i,
                    " rw\n");
    fs->SetStatfs(mp, Stats(10));
    fs->Block(mp);
  }
  fs->SetFile("/proc/1/mountinfo", mountinfo);
  constexpr absl::Duration kLonger = absl::Milliseconds(400);
  auto source = FilesystemSource(*fs, kLonger);
  absl::Time start = absl::Now();
  auto got = Collect(*source);
  // One after another they would take 4 timeouts.
  EXPECT_LT(absl::Now() - start, 3 * kLonger);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(got[absl::StrCat("node_filesystem_device_error//nfs", i)], 1);
    EXPECT_EQ(fs->statfs_calls(absl::StrCat("/nfs", i)), 1);
    fs->Unblock(absl::StrCat("/nfs", i));
  }
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(fs->AwaitReturns(absl::StrCat("/nfs", i), 1));
}

TEST(FilesystemSourceTest, DestroyingTheSourceWhileStatfsIsBlockedIsSafe) {
  auto fs = Fs();
  fs->Block("/data/nfs");
  auto source = FilesystemSource(*fs, kTimeout);
  Collect(*source);
  source.reset();
  // The blocked thread outlives the source; when released it finishes without touching it.
  fs->Unblock("/data/nfs");
  EXPECT_TRUE(fs->AwaitReturns("/data/nfs", 1));
}

TEST(FilesystemSourceTest, SameDeviceMountPointAndTypeTwiceIsReportedOnce) {
  auto fs = Fs();
  fs->SetFile("/proc/1/mountinfo",
              "27 1 254:0 / / rw - ext4 /dev/vda rw\n"
              "38 27 254:0 /srv /srv rw - ext4 /dev/vda rw\n"
              "39 27 254:0 /srv /srv rw - ext4 /dev/vda rw\n"
              "40 27 0:40 / /srv rw - tmpfs tmpfs rw\n");
  fs->SetStatfs("/srv", Stats(7));
  auto source = FilesystemSource(*fs, absl::Seconds(5));
  MetricSet set;
  EXPECT_TRUE(source->Collect(PassContext{absl::Now(), nullptr}, set).ok());
  EXPECT_EQ(set.duplicates(), 0u);
  // "/", "/srv" on /dev/vda and "/srv" on tmpfs.
  size_t errors = 0;
  for (const auto& f : set.families()) {
    if (f.name == "node_filesystem_device_error") errors = f.samples.size();
  }
  EXPECT_EQ(errors, 3u);
}

}  // namespace
}  // namespace sextant::collector
