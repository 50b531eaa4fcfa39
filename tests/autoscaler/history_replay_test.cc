#include "autoscaler/history_replay.h"

#include <memory>
#include <string>
#include <vector>

#include "aggregator/promql/engine.h"
#include "aggregator/tsdb/db.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/util/test_util.h"

namespace sextant::autoscaler {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;

constexpr absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

ScalingPolicy ExternalPolicy(const std::string& kind = "Deployment") {
  const std::string yaml = absl::StrCat(R"(
apiVersion: autoscaling.sextant.dev/v1alpha1
kind: ScalingPolicy
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: )",
                                        kind, R"(, name: web}
  minReplicas: 1
  maxReplicas: 10
  behavior:
    scaleDown: {stabilizationWindowSeconds: 0}
  metrics:
  - type: External
    name: queue
    external: {query: 'sum(queue_depth)', target: {type: AverageValue, averageValue: "10"}}
)");
  absl::StatusOr<ScalingPolicy> p = ParseScalingPolicy(yaml, "test");
  EXPECT_TRUE(p.ok()) << p.status();
  return *p;
}

// Stores what a collector would have shipped: two pods of Deployment web (via its ReplicaSet),
// one of another Deployment, their phase and readiness, and a queue depth of 20 for the first
// minute and 60 after.
class HistoryReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tsdb::DbOptions o;
    o.dir = dir_.path() + "/data";
    o.fsync = FsyncPolicy::kNever;
    absl::StatusOr<std::unique_ptr<tsdb::Db>> db = tsdb::Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    tsdb::Appender app = db_->NewAppender();
    auto series = [&](prom::Labels labels, auto value_at) {
      absl::StatusOr<tsdb::SeriesRef> ref = app.GetOrCreate(labels);
      ASSERT_TRUE(ref.ok()) << ref.status();
      for (int s = 0; s <= 180; s += 15) {
        app.Add(*ref, absl::ToUnixMillis(kStart + absl::Seconds(s)), value_at(s));
      }
    };
    auto one = [](int) { return 1.0; };
    for (const char* pod : {"web-5d9c7b8f6-a", "web-5d9c7b8f6-b"}) {
      series(prom::Labels({{"__name__", "kube_pod_info"},
                           {"created_by_kind", "ReplicaSet"},
                           {"created_by_name", "web-5d9c7b8f6"},
                           {"namespace", "shop"},
                           {"pod", pod}}),
             one);
      series(prom::Labels({{"__name__", "kube_pod_status_phase"},
                           {"namespace", "shop"},
                           {"phase", "Running"},
                           {"pod", pod}}),
             one);
      series(prom::Labels({{"__name__", "kube_pod_status_ready"},
                           {"condition", "true"},
                           {"namespace", "shop"},
                           {"pod", pod}}),
             one);
    }
    series(prom::Labels({{"__name__", "kube_pod_info"},
                         {"created_by_kind", "ReplicaSet"},
                         {"created_by_name", "web-api-7f8d9c"},
                         {"namespace", "shop"},
                         {"pod", "web-api-7f8d9c-x"}}),
           one);
    series(prom::Labels({{"__name__", "queue_depth"}}), [](int s) { return s < 60 ? 20.0 : 60.0; });
    ASSERT_TRUE(app.Commit().ok());
    queryable_ = std::make_unique<promql::DbQueryable>(*db_);
    engine_ = std::make_unique<promql::Engine>(*queryable_, promql::EngineOptions{});
    query_ = std::make_unique<EngineQueryClient>(*engine_);
  }

  testing::TempDir dir_;
  std::unique_ptr<tsdb::Db> db_;
  std::unique_ptr<promql::DbQueryable> queryable_;
  std::unique_ptr<promql::Engine> engine_;
  std::unique_ptr<EngineQueryClient> query_;
};

TEST_F(HistoryReplayTest, PodsComeFromTheTargetsReplicaSetsOnly) {
  absl::StatusOr<std::vector<hpa::PodInfo>> pods =
      PodsAt(ExternalPolicy(), *query_, kStart + absl::Seconds(30));
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_THAT(*pods, SizeIs(2));
  EXPECT_EQ((*pods)[0].name, "web-5d9c7b8f6-a");
  EXPECT_EQ((*pods)[0].phase, "Running");
  EXPECT_EQ((*pods)[0].ready, true);
}

TEST_F(HistoryReplayTest, DecidesEachStepFromWhatWasStored) {
  HistoryReplayOptions o;
  o.start = kStart;
  o.end = kStart + absl::Seconds(120);
  o.step = absl::Seconds(30);
  absl::StatusOr<std::vector<ReplayStep>> steps = ReplayHistory(ExternalPolicy(), *query_, o);
  ASSERT_TRUE(steps.ok()) << steps.status();
  ASSERT_THAT(*steps, SizeIs(5));
  // 2 pods ran throughout. Queue 20 at 10 per pod wants 2: no change; from 60 s, 60 wants 6,
  // which the default scale-up rules allow (max(2 + 4, 2 x 2) = 6).
  EXPECT_EQ((*steps)[0].current_replicas, 2);
  EXPECT_EQ((*steps)[0].desired_replicas, 2);
  EXPECT_EQ((*steps)[1].desired_replicas, 2);
  EXPECT_EQ((*steps)[2].at, 60);
  EXPECT_EQ((*steps)[2].current_replicas, 2);
  EXPECT_EQ((*steps)[2].desired_replicas, 6);
  EXPECT_EQ((*steps)[2].conditions.at("ScalingActive"), "ValidMetricFound");
  EXPECT_THAT((*steps)[2].reason, HasSubstr("above target"));
}

TEST_F(HistoryReplayTest, RefusesTargetsWhosePodsCannotBeToldAndBadRanges) {
  HistoryReplayOptions o;
  o.start = kStart;
  o.end = kStart + absl::Seconds(60);
  absl::StatusOr<std::vector<ReplayStep>> steps =
      ReplayHistory(ExternalPolicy("Rollout"), *query_, o);
  EXPECT_EQ(steps.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(steps.status().message(), HasSubstr("Rollout"));
  o.end = kStart - absl::Seconds(1);
  EXPECT_FALSE(ReplayHistory(ExternalPolicy(), *query_, o).ok());
  o.end = kStart + absl::Seconds(60);
  o.step = absl::ZeroDuration();
  EXPECT_FALSE(ReplayHistory(ExternalPolicy(), *query_, o).ok());
}

}  // namespace
}  // namespace sextant::autoscaler
