#include "aggregator/tsdb/db.h"

#include <bit>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "aggregator/tsdb/wal.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prom/value.h"
#include "tests/util/test_util.h"

namespace sextant::tsdb {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kHour = 3600 * 1000;

DbOptions Options(const std::string& dir) {
  DbOptions o;
  o.dir = dir;
  o.fsync = FsyncPolicy::kNever;
  return o;
}

std::unique_ptr<Db> OpenOrDie(const DbOptions& o) {
  absl::StatusOr<std::unique_ptr<Db>> db = Db::Open(o);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? std::move(*db) : nullptr;
}

prom::Labels Series(int i) {
  return prom::Labels({{"__name__", i % 2 ? "node_load1" : "node_cpu_seconds_total"},
                       {"instance", absl::StrCat("host-", i)},
                       {"job", "node"}});
}

// Appends one sample per series at `t` for series [0, n) with value f(i, t); commits.
CommitResult AppendRound(Db& db, int n, int64_t t, double (*f)(int, int64_t)) {
  Appender app = db.NewAppender();
  for (int i = 0; i < n; ++i) {
    absl::StatusOr<SeriesRef> ref = app.GetOrCreate(Series(i));
    EXPECT_TRUE(ref.ok()) << ref.status();
    if (ref.ok()) app.Add(*ref, t, f(i, t));
  }
  absl::StatusOr<CommitResult> r = app.Commit();
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : CommitResult{};
}

double Value(int i, int64_t t) {
  return static_cast<double>(i) * 1000 + static_cast<double>(t) / 1000;
}

// Every sample of every series: labels -> t -> value.
std::map<std::string, std::map<int64_t, double>> ReadAll(const Db& db, int64_t mint = kMinTime,
                                                         int64_t maxt = kMaxTime) {
  std::map<std::string, std::map<int64_t, double>> out;
  absl::StatusOr<std::vector<SeriesChunks>> all = db.Select({}, mint, maxt);
  EXPECT_TRUE(all.ok()) << all.status();
  if (!all.ok()) return out;
  for (const SeriesChunks& s : *all) {
    SampleIterator it(s, mint, maxt);
    auto& m = out[s.labels.ToString()];
    while (it.Next()) m[it.t()] = it.v();
    EXPECT_TRUE(it.status().ok()) << it.status();
  }
  return out;
}

prom::Matcher M(prom::MatchType type, std::string name, std::string value) {
  absl::StatusOr<prom::Matcher> m = prom::Matcher::Create(type, std::move(name), std::move(value));
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

TEST(DbTest, AppendedSamplesAreSelectedByMatchers) {
  testing::TempDir dir;
  auto db = OpenOrDie(Options(dir.path()));
  for (int64_t t = 0; t < 10 * 15000; t += 15000) {
    CommitResult r = AppendRound(*db, 10, t, Value);
    EXPECT_EQ(r.appended, 10);
  }
  auto load = db->Select({M(prom::MatchType::kEqual, "__name__", "node_load1")}, 0, 1000000);
  ASSERT_TRUE(load.ok());
  ASSERT_EQ(load->size(), 5u);
  SampleIterator it((*load)[0], 30000, 60000);
  std::vector<int64_t> ts;
  while (it.Next()) ts.push_back(it.t());
  EXPECT_THAT(ts, ElementsAre(30000, 45000, 60000));
  auto names = db->LabelNames({}, 0, kMaxTime);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("__name__", "instance", "job"));
  auto values = db->LabelValues("__name__", {}, 0, kMaxTime);
  ASSERT_TRUE(values.ok());
  EXPECT_THAT(*values, ElementsAre("node_cpu_seconds_total", "node_load1"));
  EXPECT_EQ(db->Stats().head_series, 10);
  EXPECT_EQ(db->Stats().samples_appended, 100);
  EXPECT_GT(db->Stats().head_chunk_bytes, 10 * 2);  // at least the chunk headers
  EXPECT_LT(db->Stats().head_chunk_bytes, 100 * 16 + 10 * 2);
}

TEST(DbTest, OutOfOrderAndConflictingSamplesAreRejectedAndCounted) {
  testing::TempDir dir;
  auto db = OpenOrDie(Options(dir.path()));
  AppendRound(*db, 1, 10000, Value);
  Appender app = db->NewAppender();
  SeriesRef ref = *app.GetOrCreate(Series(0));
  app.Add(ref, 5000, 1);                 // out of order
  app.Add(ref, 10000, Value(0, 10000));  // exact duplicate: dropped silently
  app.Add(ref, 10000, 42);               // same time, other value
  app.Add(ref, 20000, 2);                // fine
  absl::StatusOr<CommitResult> r = app.Commit();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->appended, 1);
  EXPECT_EQ(r->rejected.out_of_order, 1);
  EXPECT_EQ(r->rejected.duplicate_differ, 1);
  auto all = ReadAll(*db);
  EXPECT_THAT(all[Series(0).ToString()], ElementsAre(std::pair<const int64_t, double>(10000, 10),
                                                     std::pair<const int64_t, double>(20000, 2)));
}

TEST(DbTest, ActiveSeriesLimitRefusesNewSeries) {
  testing::TempDir dir;
  DbOptions o = Options(dir.path());
  o.max_active_series = 3;
  auto db = OpenOrDie(o);
  Appender app = db->NewAppender();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(app.GetOrCreate(Series(i)).ok());
  absl::StatusOr<SeriesRef> fourth = app.GetOrCreate(Series(3));
  EXPECT_TRUE(absl::IsResourceExhausted(fourth.status())) << fourth.status();
  EXPECT_TRUE(app.GetOrCreate(Series(1)).ok()) << "existing series stay usable";
}

TEST(DbTest, RestartReplaysTheWalWithExactValues) {
  testing::TempDir dir;
  std::map<std::string, std::map<int64_t, double>> before;
  {
    auto db = OpenOrDie(Options(dir.path()));
    for (int64_t t = 0; t < 300; ++t) {
      Appender app = db->NewAppender();
      SeriesRef a = *app.GetOrCreate(Series(0));
      SeriesRef b = *app.GetOrCreate(Series(1));
      app.Add(a, t * 1000, t % 7 == 0 ? prom::StaleNaN() : static_cast<double>(t) * 0.1);
      app.Add(b, t * 1000, t % 2 ? -0.0 : std::bit_cast<double>(uint64_t{0x7ff8000000000001}));
      ASSERT_TRUE(app.Commit().ok());
    }
    tsdb::RefMetadata md;
    md.metric_family_name = "node_load1";
    md.type = 2;
    md.help = "1m load average.";
    Appender app = db->NewAppender();
    app.AddMetadata(md);
    ASSERT_TRUE(app.Commit().ok());
    before = ReadAll(*db);
  }
  auto db = OpenOrDie(Options(dir.path()));
  auto after = ReadAll(*db);
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [series, samples] : before) {
    ASSERT_EQ(samples.size(), after[series].size()) << series;
    for (const auto& [t, v] : samples) {
      EXPECT_EQ(std::bit_cast<uint64_t>(v), std::bit_cast<uint64_t>(after[series][t]))
          << series << " t=" << t;
    }
  }
  EXPECT_EQ(db->Metadata("node_load1").at("node_load1").help, "1m load average.");
  // New series after a restart get refs that do not collide with replayed ones.
  AppendRound(*db, 4, 400000, Value);
  EXPECT_EQ(ReadAll(*db).size(), 4u);
}

TEST(DbTest, SeriesUsedBeforeItsCreatorCommitsIsStillReplayed) {
  // Two requests carry the same new series: the one that found it (not the one that created it)
  // commits first. Its commit must write the series record, or a restart drops its samples.
  testing::TempDir dir;
  {
    auto db = OpenOrDie(Options(dir.path()));
    Appender creator = db->NewAppender();
    Appender finder = db->NewAppender();
    SeriesRef a = *creator.GetOrCreate(Series(0));
    SeriesRef b = *finder.GetOrCreate(Series(0));
    ASSERT_EQ(a, b);
    finder.Add(b, 1000, 1);
    ASSERT_TRUE(finder.Commit().ok());
    creator.Add(a, 2000, 2);
    ASSERT_TRUE(creator.Commit().ok());
  }
  auto db = OpenOrDie(Options(dir.path()));
  EXPECT_THAT(ReadAll(*db)[Series(0).ToString()],
              ElementsAre(std::pair<const int64_t, double>(1000, 1),
                          std::pair<const int64_t, double>(2000, 2)));
}

TEST(DbTest, FsyncAlwaysSyncsBeforeCommitReturnsAndSharesSyncs) {
  testing::TempDir dir;
  DbOptions o = Options(dir.path());
  o.fsync = FsyncPolicy::kAlways;
  constexpr int kThreads = 4;
  constexpr int kCommits = 25;
  {
    auto db = OpenOrDie(o);
    std::vector<std::thread> threads;
    for (int w = 0; w < kThreads; ++w) {
      threads.emplace_back([&, w] {
        for (int i = 0; i < kCommits; ++i) {
          Appender app = db->NewAppender();
          app.Add(*app.GetOrCreate(Series(w)), int64_t{i} * 1000, i);
          ASSERT_TRUE(app.Commit().ok());
        }
      });
    }
    for (auto& t : threads) t.join();
    const DbStats s = db->Stats();
    EXPECT_GE(s.wal_fsyncs, 1);
    EXPECT_LE(s.wal_fsyncs, kThreads * kCommits);  // shared by commits that waited together
  }
  auto db = OpenOrDie(o);
  for (const auto& [series, samples] : ReadAll(*db)) {
    EXPECT_EQ(samples.size(), size_t{kCommits}) << series;
  }
}

TEST(DbTest, SamplesFarInTheFutureAreRefused) {
  testing::TempDir dir;
  auto db = OpenOrDie(Options(dir.path()));
  const int64_t now = absl::ToUnixMillis(absl::Now());
  Appender app = db->NewAppender();
  SeriesRef ref = *app.GetOrCreate(Series(0));
  app.Add(ref, now, 1);
  app.Add(ref, now * 1000, 2);  // microseconds sent as milliseconds
  absl::StatusOr<CommitResult> r = app.Commit();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->appended, 1);
  EXPECT_EQ(r->rejected.too_far_in_future, 1);
  EXPECT_EQ(db->Stats().head_max_time, now);
}

TEST(DbTest, DamagedWalTailIsCutAtTheLastGoodRecord) {
  testing::TempDir dir;
  {
    auto db = OpenOrDie(Options(dir.path()));
    for (int64_t t = 0; t < 50; ++t) AppendRound(*db, 3, t * 1000, Value);
  }
  // Append garbage to the newest segment, as a torn write would leave it.
  absl::StatusOr<std::vector<int>> segs = ListSegments(dir.Path("wal"));
  ASSERT_TRUE(segs.ok() && !segs->empty());
  const std::string last = absl::StrFormat("%s/%08d", dir.Path("wal"), segs->back());
  {
    std::ofstream f(last, std::ios::app | std::ios::binary);
    f << std::string("\x01\x00\x40garbage-that-is-not-a-record", 31);
  }
  auto db = OpenOrDie(Options(dir.path()));
  auto all = ReadAll(*db);
  ASSERT_EQ(all.size(), 3u);
  for (const auto& [series, samples] : all) EXPECT_EQ(samples.size(), 50u) << series;
  AppendRound(*db, 3, 60000, Value);  // and it keeps working
  EXPECT_EQ(ReadAll(*db).begin()->second.size(), 51u);
}

TEST(DbTest, HeadIsCutIntoBlocksAndQueriesSeeBoth) {
  testing::TempDir dir;
  std::map<std::string, std::map<int64_t, double>> before;
  {
    auto db = OpenOrDie(Options(dir.path()));
    // 4 hours of 1-minute samples: the head spans more than 1.5 block ranges.
    for (int64_t t = 0; t <= 4 * kHour; t += 60000) AppendRound(*db, 6, t, Value);
    before = ReadAll(*db);
    ASSERT_TRUE(db->CompactOnce().ok());
    EXPECT_EQ(db->Stats().blocks, 1);  // [0, 2h) cut; the head keeps [2h, 4h]
    EXPECT_GE(db->Stats().head_min_time, 2 * kHour);
    EXPECT_EQ(ReadAll(*db), before);
    // Appending into the range already cut is refused.
    Appender app = db->NewAppender();
    app.Add(*app.GetOrCreate(Series(0)), kHour, 1);
    absl::StatusOr<CommitResult> r = app.Commit();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->rejected.out_of_bounds, 1);
  }
  EXPECT_TRUE(fs::exists(dir.Path("lock")));
  auto db = OpenOrDie(Options(dir.path()));
  EXPECT_EQ(db->Stats().blocks, 1);
  EXPECT_EQ(ReadAll(*db), before) << "block plus checkpointed WAL give everything back";
  auto part = ReadAll(*db, kHour, 3 * kHour);
  EXPECT_EQ(part.begin()->second.begin()->first, kHour);
  EXPECT_EQ(part.begin()->second.rbegin()->first, 3 * kHour);
}

TEST(DbTest, SmallBlocksAreCompactedAndRetentionDeletesOldOnes) {
  testing::TempDir dir;
  DbOptions o = Options(dir.path());
  o.retention_time = absl::Hours(24 * 10);
  auto db = OpenOrDie(o);
  for (int64_t t = 0; t <= 9 * kHour; t += 5 * 60000) AppendRound(*db, 2, t, Value);
  auto before = ReadAll(*db);
  ASSERT_TRUE(db->CutHeadBefore(8 * kHour).ok());
  EXPECT_EQ(ReadAll(*db), before);
  ASSERT_TRUE(db->CompactOnce().ok());
  // 2h blocks [0,2) [2,4) [4,6) merge into one 6h block; [6,8) stays as the newest.
  EXPECT_EQ(db->Stats().blocks, 2);
  EXPECT_EQ(ReadAll(*db), before);

  // Retention by time: only the newest block's range survives a 1-hour retention.
  DbOptions short_retention = o;
  db.reset();
  short_retention.retention_time = absl::Hours(1);
  db = OpenOrDie(short_retention);
  ASSERT_TRUE(db->CompactOnce().ok());
  EXPECT_EQ(db->Stats().blocks, 1);
  auto after = ReadAll(*db);
  EXPECT_EQ(after.begin()->second.begin()->first, 6 * kHour);
  int tmp_dirs = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    if (e.path().string().find(".tmp") != std::string::npos) ++tmp_dirs;
  }
  EXPECT_EQ(tmp_dirs, 0);
}

TEST(DbTest, RetentionBySizeDeletesTheOldestBlocks) {
  testing::TempDir dir;
  DbOptions o = Options(dir.path());
  o.retention_time = absl::ZeroDuration();
  auto db = OpenOrDie(o);
  for (int64_t t = 0; t <= 9 * kHour; t += 60000) AppendRound(*db, 20, t, Value);
  ASSERT_TRUE(db->CutHeadBefore(8 * kHour).ok());
  const DbStats s = db->Stats();
  ASSERT_EQ(s.blocks, 4);
  db.reset();
  o.retention_bytes = s.blocks_bytes / 2;  // the WAL counts too, so at most 1 block stays
  db = OpenOrDie(o);
  ASSERT_TRUE(db->CompactOnce().ok());
  EXPECT_LE(db->Stats().blocks, 2);
  EXPECT_LE(db->Stats().blocks_bytes, o.retention_bytes);
}

TEST(DbTest, SecondOpenOfTheSameDirectoryIsRefused) {
  testing::TempDir dir;
  auto db = OpenOrDie(Options(dir.path()));
  absl::StatusOr<std::unique_ptr<Db>> again = Db::Open(Options(dir.path()));
  EXPECT_TRUE(absl::IsFailedPrecondition(again.status())) << again.status();
  EXPECT_THAT(again.status().message(), HasSubstr("in use by another process"));
}

TEST(DbTest, ConcurrentAppendsQueriesAndCompactionStayConsistent) {
  testing::TempDir dir;
  DbOptions o = Options(dir.path());
  o.block_range_ms = 20 * 60000;  // 20-minute blocks, so compaction runs while appending
  auto db = OpenOrDie(o);
  constexpr int kWriters = 3;
  constexpr int kRounds = 400;
  constexpr int64_t kStep = 10000;
  // Writers stay within a few rounds of each other: a sample more than half a block range
  // behind the newest one is refused (out of bounds), as in Prometheus.
  std::atomic<int> progress[kWriters] = {};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int r = 0; r < kRounds; ++r) {
        for (int other = 0; other < kWriters; ++other) {
          while (progress[other].load() < r - 5) std::this_thread::yield();
        }
        Appender app = db->NewAppender();
        for (int i = 0; i < 20; ++i) {
          absl::StatusOr<SeriesRef> ref = app.GetOrCreate(
              prom::Labels({{"__name__", "m"}, {"w", absl::StrCat(w)}, {"i", absl::StrCat(i)}}));
          ASSERT_TRUE(ref.ok());
          app.Add(*ref, int64_t{r} * kStep, r);
        }
        absl::StatusOr<CommitResult> c = app.Commit();
        ASSERT_TRUE(c.ok());
        EXPECT_EQ(c->rejected.total(), 0);
        progress[w].store(r + 1);
      }
      progress[w].store(kRounds + 10);
    });
  }
  std::thread compactor([&] {
    while (!done.load()) ASSERT_TRUE(db->CompactOnce().ok());
  });
  std::thread reader([&] {
    while (!done.load()) {
      auto all = db->Select({M(prom::MatchType::kEqual, "w", "1")}, kMinTime, kMaxTime);
      ASSERT_TRUE(all.ok());
      for (const SeriesChunks& s : *all) {
        SampleIterator it(s, kMinTime, kMaxTime);
        int64_t last = -1;
        int64_t n = 0;
        while (it.Next()) {
          ASSERT_GT(it.t(), last);
          ASSERT_EQ(it.v(), static_cast<double>(it.t() / kStep));
          last = it.t();
          ++n;
        }
        ASSERT_TRUE(it.status().ok());
        ASSERT_EQ(n, last / kStep + 1) << "no gaps: every round up to the newest";
      }
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  compactor.join();
  reader.join();
  auto all = ReadAll(*db);
  ASSERT_EQ(all.size(), static_cast<size_t>(kWriters * 20));
  for (const auto& [series, samples] : all) EXPECT_EQ(samples.size(), size_t{kRounds}) << series;
  // On a loaded machine the writers may finish before the compactor's first useful round; one
  // more round then cuts the block, so the check does not depend on the timing.
  ASSERT_TRUE(db->CompactOnce().ok());
  EXPECT_GT(db->Stats().blocks, 0);
}

}  // namespace
}  // namespace sextant::tsdb
