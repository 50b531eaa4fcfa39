#include "aggregator/tsdb/wal.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "aggregator/tsdb/crc32c.h"
#include "aggregator/tsdb/record.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sextant::tsdb {
namespace {

using ::sextant::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kPage = 32 * 1024;

std::string Seg(const std::string& dir, int n) { return absl::StrFormat("%s/%08d", dir, n); }

int64_t FileSize(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return st.st_size;
}

struct ReadResult {
  absl::Status status;
  std::vector<std::string> records;
  WalCorruption corruption;
};

ReadResult ReadAll(const std::string& dir, int from = 0, int to = -1) {
  ReadResult r;
  r.status = ReadWal(
      dir, from, to,
      [&](absl::string_view rec) {
        r.records.emplace_back(rec);
        return absl::OkStatus();
      },
      &r.corruption);
  return r;
}

std::unique_ptr<Wal> OpenWal(const std::string& dir, FsyncPolicy fsync = FsyncPolicy::kNever,
                             int64_t segment_bytes = int64_t{128} << 20) {
  WalOptions options;
  options.dir = dir;
  options.fsync = fsync;
  options.segment_bytes = segment_bytes;
  absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
  EXPECT_TRUE(wal.ok()) << wal.status();
  return wal.ok() ? *std::move(wal) : nullptr;
}

std::string RandomRecord(std::mt19937_64& rng, size_t size) {
  std::string s(size, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

absl::Status LogOne(Wal& wal, absl::string_view rec) { return wal.Log({rec}); }

void Patch(const std::string& path, int64_t offset, auto fn) {
  std::string data = ::sextant::testing::ReadFileOrDie(path);
  fn(data, offset);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

TEST(Crc32cTest, KnownValuesAndBothImplementationsAgree) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);  // RFC 3720 B.4
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::mt19937_64 rng(1);
  const std::string data = RandomRecord(rng, 4096);
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len : {0, 1, 7, 8, 9, 63, 1000, 4000}) {
      absl::string_view s = absl::string_view(data).substr(start, len);
      const uint32_t want = Crc32cExtendPortable(0, s);
      EXPECT_EQ(Crc32c(s), want) << start << " " << len;
      EXPECT_EQ(Crc32cExtend(Crc32c(s.substr(0, len / 2)), s.substr(len / 2)), want);
    }
  }
}

TEST(WalTest, RecordsRoundTripAcrossPagesAndSegments) {
  TempDir tmp;
  const std::string dir = tmp.Path("wal");
  std::mt19937_64 rng(7);
  std::vector<std::string> want;
  // Fixed sizes first, from the start of a segment: exactly one page; a page less 7 bytes
  // (padding follows); a page less 8 (a 1-byte fragment follows); an empty record; then random
  // sizes, some several pages long.
  std::vector<size_t> sizes = {kPage - 7, kPage - 14, 1, kPage - 7 - 8 - 8, 0, 100, 0};
  for (int i = 0; i < 300; ++i) {
    const int kind = static_cast<int>(rng() % 10);
    sizes.push_back(kind == 0 ? rng() % (3 * kPage) : kind == 1 ? kPage - 7 : rng() % 2000);
  }
  {
    std::unique_ptr<Wal> wal = OpenWal(dir, FsyncPolicy::kNever, 256 * 1024);
    size_t i = 0;
    while (i < sizes.size()) {
      const size_t batch = std::min(sizes.size() - i, static_cast<size_t>(rng() % 5 + 1));
      std::vector<std::string> recs;
      for (size_t j = 0; j < batch; ++j) recs.push_back(RandomRecord(rng, sizes[i + j]));
      std::vector<absl::string_view> views(recs.begin(), recs.end());
      ASSERT_TRUE(wal->Log(views).ok());
      want.insert(want.end(), recs.begin(), recs.end());
      i += batch;
    }
    EXPECT_EQ(wal->first_segment(), 0);
    EXPECT_GE(wal->last_segment(), 3);
    // Page layout of the first segment: record 1 fills page 0; record 2 leaves 7 bytes of padding.
    const std::string seg0 = ::sextant::testing::ReadFileOrDie(Seg(dir, 0));
    EXPECT_EQ(seg0[0], '\x01');
    EXPECT_EQ(seg0[kPage], '\x01');
    EXPECT_EQ(seg0.substr(2 * kPage - 7, 7), std::string(7, '\0'));
    EXPECT_EQ(seg0[2 * kPage], '\x01');
  }
  absl::StatusOr<std::vector<int>> segments = ListSegments(dir);
  ASSERT_TRUE(segments.ok());
  for (int n : *segments) EXPECT_LE(FileSize(Seg(dir, n)), 256 * 1024) << n;

  ReadResult r = ReadAll(dir);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.records.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(r.records[i], want[i]) << i;

  // Reopening starts a new segment and leaves the old ones as they are.
  const int last = segments->back();
  const int64_t last_size = FileSize(Seg(dir, last));
  std::unique_ptr<Wal> wal = OpenWal(dir, FsyncPolicy::kNever, 256 * 1024);
  EXPECT_EQ(wal->last_segment(), last + 1);
  ASSERT_TRUE(LogOne(*wal, "after reopen").ok());
  EXPECT_EQ(FileSize(Seg(dir, last)), last_size);
  r = ReadAll(dir);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.records.size(), want.size() + 1);
  EXPECT_EQ(r.records.back(), "after reopen");
  // A range of segments only.
  r = ReadAll(dir, last + 1, last + 1);
  EXPECT_THAT(r.records, ElementsAre("after reopen"));
}

TEST(WalTest, CompressedRecordsRoundTripAndMixWithPlainOnes) {
  TempDir tmp;
  const std::string dir = tmp.Path("wal");
  std::mt19937_64 rng(11);
  std::vector<std::string> want;
  int64_t plain_bytes = 0;
  for (int round = 0; round < 2; ++round) {
    WalOptions options;
    options.dir = dir;
    options.fsync = FsyncPolicy::kNever;
    options.compress = round == 0;  // a compressed segment, then a plain one
    absl::StatusOr<std::unique_ptr<Wal>> wal = Wal::Open(options);
    ASSERT_TRUE(wal.ok()) << wal.status();
    for (int i = 0; i < 200; ++i) {
      // Repetitive records compress; random ones do not and stay plain.
      std::string rec = i % 3 == 0
                            ? RandomRecord(rng, rng() % 3000)
                            : std::string(rng() % (3 * kPage), static_cast<char>('a' + i % 26));
      plain_bytes += static_cast<int64_t>(rec.size());
      ASSERT_TRUE(LogOne(**wal, rec).ok());
      want.push_back(std::move(rec));
    }
  }
  ReadResult r = ReadAll(dir);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.records, want);
  const std::string seg0 = ::sextant::testing::ReadFileOrDie(Seg(dir, 0));
  EXPECT_LT(static_cast<int64_t>(seg0.size()), plain_bytes / 4) << "the compressed segment";
  EXPECT_EQ(static_cast<uint8_t>(seg0[0]) & 0x08, 0)
      << "record 0 is random bytes: stored plain, without the flag";
}

TEST(WalTest, RecordLargerThanSegmentGetsItsOwnSegment) {
  TempDir tmp;
  std::unique_ptr<Wal> wal = OpenWal(tmp.path(), FsyncPolicy::kNever, 40 * 1024);
  std::mt19937_64 rng(3);
  const std::string big = RandomRecord(rng, (3 << 20) + 5);  // crosses the reader's 1 MiB reads
  ASSERT_TRUE(LogOne(*wal, "a").ok());
  ASSERT_TRUE(LogOne(*wal, big).ok());
  ASSERT_TRUE(LogOne(*wal, "b").ok());
  EXPECT_EQ(wal->last_segment(), 2);
  ReadResult r = ReadAll(tmp.path());
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_THAT(r.records, ElementsAre("a", big, "b"));
  EXPECT_THAT(ReadAll(tmp.path(), 1, 1).records, ElementsAre(big));
}

// Writes records of mixed sizes into segment 0, the last one multi-page; returns the records
// and the offset where the last one starts.
std::pair<std::vector<std::string>, int64_t> WriteTail(const std::string& dir) {
  std::mt19937_64 rng(11);
  std::vector<std::string> recs;
  std::unique_ptr<Wal> wal = OpenWal(dir);
  int64_t last_start = 0;
  for (size_t size : {10, 5000, 40000, 3, 70000}) {
    last_start = FileSize(Seg(dir, 0));
    recs.push_back(RandomRecord(rng, size));
    EXPECT_TRUE(LogOne(*wal, recs.back()).ok());
  }
  return {recs, last_start};
}

void ExpectCutAndRecover(const std::string& dir, const std::vector<std::string>& recs,
                         int64_t last_start, absl::string_view reason) {
  ReadResult r = ReadAll(dir);
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss) << r.status;
  EXPECT_EQ(r.corruption.segment, 0);
  EXPECT_EQ(r.corruption.offset, last_start);
  EXPECT_THAT(r.corruption.reason, HasSubstr(reason));
  const std::vector<std::string> good(recs.begin(), recs.end() - 1);
  EXPECT_EQ(r.records, good);

  ASSERT_TRUE(RepairWal(dir, r.corruption).ok());
  EXPECT_EQ(FileSize(Seg(dir, 0)), last_start);
  r = ReadAll(dir);
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.records, good);

  std::unique_ptr<Wal> wal = OpenWal(dir);
  ASSERT_TRUE(LogOne(*wal, "next").ok());
  r = ReadAll(dir);
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.records.size(), good.size() + 1);
  EXPECT_EQ(r.records.back(), "next");
}

TEST(WalTest, CorruptedTailIsCutAtLastGoodRecord_FlippedByte) {
  TempDir tmp;
  auto [recs, last_start] = WriteTail(tmp.path());
  // A byte in the last record's second page: the cut goes to the record's start.
  Patch(Seg(tmp.path(), 0), last_start + kPage + 100,
        [](std::string& d, int64_t off) { d[static_cast<size_t>(off)] ^= 0x20; });
  ExpectCutAndRecover(tmp.path(), recs, last_start, "crc mismatch");
}

TEST(WalTest, CorruptedTailIsCutAtLastGoodRecord_TruncatedMidRecord) {
  TempDir tmp;
  auto [recs, last_start] = WriteTail(tmp.path());
  const std::string path = Seg(tmp.path(), 0);
  for (int64_t cut : {FileSize(path) - 1, last_start + kPage + 3, last_start + 3}) {
    SCOPED_TRACE(cut);
    TempDir copy;
    std::filesystem::copy_file(path, Seg(copy.path(), 0));
    ASSERT_EQ(truncate(Seg(copy.path(), 0).c_str(), cut), 0);
    ExpectCutAndRecover(copy.path(), recs, last_start, "torn");
  }
}

TEST(WalTest, CorruptedTailIsCutAtLastGoodRecord_Garbage) {
  TempDir tmp;
  auto [recs, last_start] = WriteTail(tmp.path());
  const std::string path = Seg(tmp.path(), 0);
  const int64_t end = FileSize(path);
  std::ofstream(path, std::ios::binary | std::ios::app)
      << std::string("\x01\x00\x05garbage-garbage", 18);
  ReadResult r = ReadAll(tmp.path());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.corruption.offset, end);
  EXPECT_EQ(r.records, recs);
  ASSERT_TRUE(RepairWal(tmp.path(), r.corruption).ok());
  r = ReadAll(tmp.path());
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.records, recs);
}

TEST(WalTest, ZeroFilledTailReadsCleanButNonZeroPaddingIsDamage) {
  TempDir tmp;
  auto [recs, last_start] = WriteTail(tmp.path());
  const std::string path = Seg(tmp.path(), 0);
  const int64_t end = FileSize(path);
  // A crash can leave the file extended with zeros: padding, no records lost.
  std::ofstream(path, std::ios::binary | std::ios::app) << std::string(3 * kPage, '\0');
  ReadResult r = ReadAll(tmp.path());
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.records, recs);
  // A stray byte inside that padding is damage.
  Patch(path, end + 50, [](std::string& d, int64_t off) { d[static_cast<size_t>(off)] = 'x'; });
  r = ReadAll(tmp.path());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.corruption.offset, end);
  EXPECT_THAT(r.corruption.reason, HasSubstr("padding"));
  EXPECT_EQ(r.records, recs);
}

TEST(WalTest, CorruptionInMiddleSegmentStopsThereAndRepairDropsLaterSegments) {
  TempDir tmp;
  std::vector<std::string> recs;
  std::vector<int> segment_of;
  {
    std::unique_ptr<Wal> wal = OpenWal(tmp.path(), FsyncPolicy::kNever, 8 * 1024);
    for (int i = 0; i < 40; ++i) {
      recs.push_back(absl::StrCat("record-", i, std::string(1000, 'x')));
      ASSERT_TRUE(LogOne(*wal, recs.back()).ok());
      segment_of.push_back(wal->last_segment());
    }
    ASSERT_GE(wal->last_segment(), 4);
  }
  // Damage the second record of segment 2.
  const auto first2 = std::find(segment_of.begin(), segment_of.end(), 2) - segment_of.begin();
  const int64_t rec_size = 7 + static_cast<int64_t>(recs[first2].size());
  Patch(Seg(tmp.path(), 2), rec_size + 20,
        [](std::string& d, int64_t off) { d[static_cast<size_t>(off)] ^= 1; });
  ReadResult r = ReadAll(tmp.path());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(r.corruption.segment, 2);
  EXPECT_EQ(r.corruption.offset, rec_size);
  ASSERT_EQ(r.records.size(), static_cast<size_t>(first2 + 1));
  ASSERT_TRUE(RepairWal(tmp.path(), r.corruption).ok());
  EXPECT_THAT(*ListSegments(tmp.path()), ElementsAre(0, 1, 2));
  r = ReadAll(tmp.path());
  ASSERT_TRUE(r.status.ok()) << r.status;
  EXPECT_EQ(r.records.size(), static_cast<size_t>(first2 + 1));
}

TEST(WalTest, MissingSegmentInTheMiddleIsDataLoss) {
  TempDir tmp;
  {
    std::unique_ptr<Wal> wal = OpenWal(tmp.path());
    ASSERT_TRUE(LogOne(*wal, "a").ok());
    ASSERT_EQ(*wal->NextSegment(), 1);
    ASSERT_TRUE(LogOne(*wal, "b").ok());
    ASSERT_EQ(*wal->NextSegment(), 2);
    ASSERT_TRUE(LogOne(*wal, "c").ok());
  }
  ASSERT_EQ(unlink(Seg(tmp.path(), 1).c_str()), 0);
  ReadResult r = ReadAll(tmp.path());
  EXPECT_EQ(r.status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(r.records, ElementsAre("a"));
  EXPECT_EQ(r.corruption.segment, 2);
  EXPECT_EQ(r.corruption.offset, 0);
  ASSERT_TRUE(RepairWal(tmp.path(), r.corruption).ok());
  EXPECT_THAT(*ListSegments(tmp.path()), ElementsAre(0));
  // Segments missing before the first one read are fine (deleted after a checkpoint).
  EXPECT_TRUE(ReadAll(tmp.path(), 0, -1).status.ok());
  ASSERT_EQ(unlink(Seg(tmp.path(), 0).c_str()), 0);
  EXPECT_TRUE(ReadAll(tmp.path()).status.ok());
}

TEST(WalTest, CheckpointKeepsSelectedRecordsAndOldFilesGo) {
  TempDir tmp;
  const std::string dir = tmp.path();
  std::unique_ptr<Wal> wal = OpenWal(dir, FsyncPolicy::kInterval);
  for (int seg = 0; seg < 4; ++seg) {
    ASSERT_TRUE(wal->Log({absl::StrCat("keep-", seg), absl::StrCat("drop-", seg)}).ok());
    if (seg < 3) {
      ASSERT_TRUE(wal->NextSegment().ok());
    }
  }
  auto keep_fn = [](absl::string_view rec, std::vector<std::string>* keep) {
    if (absl::StartsWith(rec, "keep")) keep->push_back(absl::StrCat(rec, "+"));
  };
  EXPECT_EQ(LastCheckpoint(dir).status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(WriteCheckpoint(dir, 1, keep_fn).ok());
  absl::StatusOr<std::pair<std::string, int>> cp = LastCheckpoint(dir);
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->first, dir + "/checkpoint.00000001");
  EXPECT_EQ(cp->second, 1);
  EXPECT_THAT(ReadAll(cp->first).records, ElementsAre("keep-0+", "keep-1+"));
  ASSERT_TRUE(wal->DeleteSegmentsBefore(2).ok());
  EXPECT_EQ(wal->first_segment(), 2);
  EXPECT_THAT(*ListSegments(dir), ElementsAre(2, 3));

  // The next checkpoint folds the previous one in and replaces it.
  ASSERT_TRUE(WriteCheckpoint(dir, 2, keep_fn).ok());
  cp = LastCheckpoint(dir);
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->second, 2);
  EXPECT_THAT(ReadAll(cp->first).records, ElementsAre("keep-0++", "keep-1++", "keep-2+"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/checkpoint.00000001"));
  EXPECT_EQ(WriteCheckpoint(dir, 2, keep_fn).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(wal->DeleteSegmentsBefore(3).ok());
  EXPECT_THAT(*ListSegments(dir), ElementsAre(3));
  // The segment being written is never deleted.
  ASSERT_TRUE(wal->DeleteSegmentsBefore(100).ok());
  EXPECT_THAT(*ListSegments(dir), ElementsAre(3));
  EXPECT_THAT(ReadAll(dir).records, ElementsAre("keep-3", "drop-3"));
  wal.reset();

  // With every segment gone, a reopened WAL still numbers past the checkpoint.
  ASSERT_EQ(unlink(Seg(dir, 3).c_str()), 0);
  wal = OpenWal(dir);
  EXPECT_EQ(wal->last_segment(), 3);
  EXPECT_EQ(wal->first_segment(), 3);
}

TEST(WalTest, FsyncPolicies) {
  TempDir tmp;
  {
    std::unique_ptr<Wal> wal = OpenWal(tmp.Path("always"), FsyncPolicy::kAlways);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(LogOne(*wal, "x").ok());
    EXPECT_EQ(wal->fsyncs(), 5);
    ASSERT_TRUE(wal->Sync().ok());  // nothing new
    EXPECT_EQ(wal->fsyncs(), 5);
    EXPECT_GE(wal->last_fsync_seconds(), 0);
  }
  {
    std::unique_ptr<Wal> wal = OpenWal(tmp.Path("interval"), FsyncPolicy::kInterval);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(LogOne(*wal, "x").ok());
    EXPECT_EQ(wal->fsyncs(), 0);
    ASSERT_TRUE(wal->Sync().ok());
    EXPECT_EQ(wal->fsyncs(), 1);
    ASSERT_TRUE(wal->Sync().ok());
    EXPECT_EQ(wal->fsyncs(), 1);
    ASSERT_TRUE(LogOne(*wal, "x").ok());
    ASSERT_TRUE(wal->NextSegment().ok());  // rotation syncs the closed segment
    EXPECT_EQ(wal->fsyncs(), 2);
    ASSERT_TRUE(wal->Sync().ok());
    EXPECT_EQ(wal->fsyncs(), 2);
  }
  {
    std::unique_ptr<Wal> wal = OpenWal(tmp.Path("never"), FsyncPolicy::kNever);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(LogOne(*wal, "x").ok());
    ASSERT_TRUE(wal->NextSegment().ok());
    EXPECT_EQ(wal->fsyncs(), 0);
  }
}

TEST(WalTest, ConcurrentLogsAllLandInOrderPerThread) {
  TempDir tmp;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  int64_t fsyncs = 0;
  {
    std::unique_ptr<Wal> wal = OpenWal(tmp.path(), FsyncPolicy::kAlways, 64 * 1024);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&wal, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const std::string a = absl::StrCat(t, ":", i, ":a:", std::string(i * 7, 'p'));
          const std::string b = absl::StrCat(t, ":", i, ":b");
          EXPECT_TRUE(wal->Log({a, b}).ok());
        }
      });
    }
    for (std::thread& th : threads) th.join();
    fsyncs = wal->fsyncs();
  }
  EXPECT_GE(fsyncs, 1);
  EXPECT_LE(fsyncs, kThreads * kPerThread + 100);
  ReadResult r = ReadAll(tmp.path());
  ASSERT_TRUE(r.status.ok()) << r.status;
  ASSERT_EQ(r.records.size(), 2u * kThreads * kPerThread);
  std::vector<int> next(kThreads, 0);
  for (size_t i = 0; i < r.records.size(); i += 2) {
    int t = 0, n = 0;
    ASSERT_EQ(sscanf(r.records[i].c_str(), "%d:%d:a", &t, &n), 2);
    EXPECT_EQ(n, next[t]++);
    EXPECT_EQ(r.records[i + 1], absl::StrCat(t, ":", n, ":b"));  // a batch stays together
  }
}

TEST(WalTest, ListSegmentsIgnoresOtherNames) {
  TempDir tmp;
  for (const char* name : {"00000003", "12", "foo", "00000001.tmp", "checkpoint.00000002/x"}) {
    tmp.WriteFile(name, "");
  }
  EXPECT_THAT(*ListSegments(tmp.path()), ElementsAre(3, 12));
  EXPECT_TRUE(ListSegments(tmp.Path("missing"))->empty());
  EXPECT_TRUE(ReadAll(tmp.Path("missing")).status.ok());
  EXPECT_EQ(LastCheckpoint(tmp.path())->second, 2);
}

TEST(WalTest, ReadErrorFromCallbackIsReturnedAsIs) {
  TempDir tmp;
  {
    std::unique_ptr<Wal> wal = OpenWal(tmp.path());
    ASSERT_TRUE(wal->Log({"a", "b"}).ok());
  }
  int calls = 0;
  absl::Status s = ReadWal(
      tmp.path(), 0, -1,
      [&](absl::string_view) {
        ++calls;
        return absl::CancelledError("stop");
      },
      nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

// Not a pass/fail check: prints how fast replay reads, checks and decodes samples.
TEST(WalTest, ReplaySpeed) {
  TempDir tmp;
  constexpr int kRecords = 10000;
  constexpr int kPerRecord = 1000;
  {
    std::unique_ptr<Wal> wal = OpenWal(tmp.path(), FsyncPolicy::kNever);
    std::vector<RefSample> samples(kPerRecord);
    std::string rec;
    for (int r = 0; r < kRecords; ++r) {
      for (int i = 0; i < kPerRecord; ++i) {
        samples[i] = {static_cast<SeriesRef>(i + 1), 1700000000000 + int64_t{r} * 15000,
                      static_cast<double>(r * i) * 0.25};
      }
      rec.clear();
      EncodeSamples(samples, &rec);
      ASSERT_TRUE(LogOne(*wal, rec).ok());
    }
  }
  std::vector<RefSample> decoded;
  int64_t total = 0;
  double sum = 0;
  const auto start = std::chrono::steady_clock::now();
  absl::Status s = ReadWal(
      tmp.path(), 0, -1,
      [&](absl::string_view rec) -> absl::Status {
        if (absl::Status st = DecodeSamples(rec, &decoded); !st.ok()) return st;
        total += static_cast<int64_t>(decoded.size());
        sum += decoded.back().v;
        return absl::OkStatus();
      },
      nullptr);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(total, int64_t{kRecords} * kPerRecord);
  std::printf("replay: %lld samples in %.3f s = %.1f M samples/s (checksum %g)\n",
              static_cast<long long>(total), secs, total / secs / 1e6, sum);
}

}  // namespace
}  // namespace sextant::tsdb
