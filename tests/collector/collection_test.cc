#include "collector/collection.h"

#include <atomic>
#include <string>
#include <vector>

#include "common/logging.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::collector {
namespace {

using ::testing::HasSubstr;

// A source whose behaviour the test scripts: each pass it appends one gauge and returns the
// next status from `statuses` (OK once they run out).
class ScriptedSource : public Source {
 public:
  ScriptedSource(std::string name, std::vector<absl::Status> statuses = {})
      : name_(std::move(name)), statuses_(std::move(statuses)) {}
  absl::string_view name() const override { return name_; }
  absl::Status Collect(const PassContext& ctx, MetricSet& out) override {
    seen_pods.push_back(ctx.pods);
    seen_times.push_back(ctx.now);
    out.Gauge("test_" + name_, "Test.", {}, static_cast<double>(calls_));
    absl::Status s = calls_ < statuses_.size() ? statuses_[calls_] : absl::OkStatus();
    ++calls_;
    return s;
  }
  std::vector<std::shared_ptr<const PodIndex>> seen_pods;
  std::vector<absl::Time> seen_times;

 private:
  std::string name_;
  std::vector<absl::Status> statuses_;
  size_t calls_ = 0;
};

double Value(const Snapshot& snapshot, absl::string_view family, absl::string_view source = "") {
  for (const prom::MetricFamily& f : snapshot.families) {
    if (f.name != family) continue;
    for (const prom::ExpositionSample& s : f.samples) {
      if (s.labels.Get("source") == source) return s.value;
    }
  }
  ADD_FAILURE() << "no " << family << "{source=" << source << "}";
  return -1;
}

class CollectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogSink([this](absl::string_view line) {
      absl::MutexLock lock(&mu_);
      logs_.emplace_back(line);
    });
  }
  void TearDown() override { SetLogSink(nullptr); }
  std::vector<std::string> Logs() {
    absl::MutexLock lock(&mu_);
    return logs_;
  }

  SimulatedClock clock_;
  absl::Mutex mu_;
  std::vector<std::string> logs_;
};

TEST_F(CollectionTest, RunsSourcesInOrderAndPublishesTheSnapshot) {
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<ScriptedSource>("a"));
  sources.push_back(std::make_unique<ScriptedSource>("b"));
  Collection collection({}, clock_, std::move(sources));
  EXPECT_EQ(collection.latest(), nullptr);
  const absl::Time now = clock_.Now();
  std::shared_ptr<const Snapshot> snap = collection.RunPass(now);
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(collection.latest(), snap);
  EXPECT_EQ(snap->time, now);
  ASSERT_GE(snap->families.size(), 2u);
  EXPECT_EQ(snap->families[0].name, "test_a");
  EXPECT_EQ(snap->families[1].name, "test_b");
  EXPECT_EQ(Value(*snap, "sextant_collector_source_success", "a"), 1);
  EXPECT_EQ(Value(*snap, "sextant_collector_passes_total"), 1);
  EXPECT_EQ(Value(*snap, "sextant_collector_series"), static_cast<double>(snap->samples));
}

TEST_F(CollectionTest, AFailingSourceKeepsItsSamplesAndTheOthersRun) {
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<ScriptedSource>(
      "bad", std::vector<absl::Status>{absl::InvalidArgumentError("line 3: garbled"),
                                       absl::InvalidArgumentError("line 3: garbled"),
                                       absl::InvalidArgumentError("line 9: other")}));
  sources.push_back(std::make_unique<ScriptedSource>("good"));
  Collection collection({}, clock_, std::move(sources));
  std::shared_ptr<const Snapshot> snap = collection.RunPass(clock_.Now());
  EXPECT_EQ(Value(*snap, "sextant_collector_source_success", "bad"), 0);
  EXPECT_EQ(Value(*snap, "sextant_collector_source_success", "good"), 1);
  EXPECT_EQ(Value(*snap, "sextant_collector_source_errors_total", "bad"), 1);
  EXPECT_EQ(snap->families[0].name, "test_bad");  // what it produced is still exported

  collection.RunPass(clock_.Now());         // same error: no new log line
  snap = collection.RunPass(clock_.Now());  // a different error: logged
  EXPECT_EQ(Value(*snap, "sextant_collector_source_errors_total", "bad"), 3);
  snap = collection.RunPass(clock_.Now());  // recovered
  EXPECT_EQ(Value(*snap, "sextant_collector_source_success", "bad"), 1);
  EXPECT_EQ(Value(*snap, "sextant_collector_source_errors_total", "bad"), 3);

  std::vector<std::string> logs = Logs();
  ASSERT_EQ(logs.size(), 3u) << ::testing::PrintToString(logs);
  EXPECT_THAT(logs[0], HasSubstr("source=bad"));
  EXPECT_THAT(logs[0], HasSubstr("line 3: garbled"));
  EXPECT_THAT(logs[1], HasSubstr("line 9: other"));
  EXPECT_THAT(logs[2], HasSubstr("collector source recovered"));
}

TEST_F(CollectionTest, SourcesAfterTheKubeletSeeThisPassesPods) {
  auto first = std::make_shared<PodIndex>();
  auto second = std::make_shared<PodIndex>();
  std::shared_ptr<const PodIndex> current;  // what the "kubelet" found
  auto kubelet = std::make_unique<ScriptedSource>("kubelet");
  auto cgroup = std::make_unique<ScriptedSource>("cgroup");
  ScriptedSource* kubelet_ptr = kubelet.get();
  ScriptedSource* cgroup_ptr = cgroup.get();
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::move(kubelet));
  sources.push_back(std::move(cgroup));
  CollectionOptions options;
  int pass = 0;
  options.pods = [&]() -> std::shared_ptr<const PodIndex> {
    // The kubelet source "runs" between the first and second ask of each pass.
    return current;
  };
  Collection collection(options, clock_, std::move(sources));
  current = first;
  collection.RunPass(clock_.Now());
  current = second;
  ++pass;
  collection.RunPass(clock_.Now());
  ASSERT_EQ(cgroup_ptr->seen_pods.size(), 2u);
  EXPECT_EQ(cgroup_ptr->seen_pods[0], first);
  EXPECT_EQ(cgroup_ptr->seen_pods[1], second);
  EXPECT_EQ(kubelet_ptr->seen_pods[1], second);
}

TEST_F(CollectionTest, ListenersGetEverySnapshot) {
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::make_unique<ScriptedSource>("a"));
  Collection collection({}, clock_, std::move(sources));
  std::vector<absl::Time> seen;
  collection.AddListener([&](const Snapshot& s) { seen.push_back(s.time); });
  collection.RunPass(clock_.Now());
  clock_.Advance(absl::Seconds(5));
  collection.RunPass(clock_.Now());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1] - seen[0], absl::Seconds(5));
}

TEST_F(CollectionTest, ThreadRunsPassesOnIntervalTicksUntilStopped) {
  auto source = std::make_unique<ScriptedSource>("a");
  ScriptedSource* ptr = source.get();
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::move(source));
  CollectionOptions options;
  options.interval = absl::Seconds(5);
  Collection collection(options, clock_, std::move(sources));
  absl::Notification enough;
  std::atomic<int> passes{0};
  collection.AddListener([&](const Snapshot&) {
    if (++passes == 4) enough.Notify();
  });
  const absl::Time start = clock_.Now();
  collection.Start();
  enough.WaitForNotification();
  collection.Stop();
  ASSERT_GE(ptr->seen_times.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(ptr->seen_times[i], start + static_cast<int64_t>(i) * absl::Seconds(5));
  }
}

TEST_F(CollectionTest, PassesCloseToTheirTickAreStampedWithTheTick) {
  // Started 0.4 ms past a whole millisecond: the ticks are whole milliseconds and each pass,
  // starting within the tolerance of its tick, carries the tick as its time.
  const absl::Time base = absl::FromUnixSeconds(1'700'000'000);
  clock_.SetTime(base + absl::Microseconds(400));
  auto source = std::make_unique<ScriptedSource>("a");
  ScriptedSource* ptr = source.get();
  std::vector<std::unique_ptr<Source>> sources;
  sources.push_back(std::move(source));
  CollectionOptions options;
  options.interval = absl::Seconds(5);
  Collection collection(options, clock_, std::move(sources));
  absl::Notification enough;
  std::atomic<int> passes{0};
  collection.AddListener([&](const Snapshot&) {
    if (++passes == 3) enough.Notify();
  });
  collection.Start();
  enough.WaitForNotification();
  collection.Stop();
  ASSERT_GE(ptr->seen_times.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ptr->seen_times[i], base + static_cast<int64_t>(i) * absl::Seconds(5));
  }
}

}  // namespace
}  // namespace sextant::collector
