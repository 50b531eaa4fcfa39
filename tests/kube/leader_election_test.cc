#include "kube/leader_election.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "common/http_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/fakes/fake_apiserver.h"

namespace sextant::kube {
namespace {

// An HttpClient that can be cut off from the API server, like a candidate behind a network
// partition; otherwise it passes requests to the real client.
class PartitionableHttpClient : public HttpClient {
 public:
  explicit PartitionableHttpClient(HttpClient& inner) : inner_(inner) {}
  absl::StatusOr<HttpClientResponse> Send(const HttpClientRequest& request) override {
    if (partitioned_.load()) return absl::UnavailableError("partitioned from the API server");
    return inner_.Send(request);
  }
  void set_partitioned(bool p) { partitioned_.store(p); }

 private:
  HttpClient& inner_;
  std::atomic<bool> partitioned_{false};
};

// One candidate with its own client, as a separate process would have.
struct Candidate {
  std::string name;
  std::unique_ptr<PartitionableHttpClient> http;
  std::unique_ptr<KubeClient> client;
  std::unique_ptr<LeaderElector> elector;
  int started = 0;
  int stopped = 0;
  bool alive = true;
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fakes::FakeApiServerOptions opts;
    opts.allow_anonymous = true;
    auto api = fakes::FakeApiServer::Create(opts, clock_);
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = *std::move(api);
    ASSERT_TRUE(api_->Start().ok());
    ASSERT_TRUE(
        api_->PutObject(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ops"}})")
            .ok());
    HttpClientOptions http_opts;
    http_opts.retry.max_attempts = 1;  // the elector's own loop is the retry
    auto http = CurlHttpClient::Create(http_opts, clock_);
    ASSERT_TRUE(http.ok());
    http_ = *std::move(http);
  }
  void TearDown() override {
    for (auto& c : candidates_) c->elector.reset();  // releases while the server still runs
    api_->Stop();
  }

  Candidate& Add(const std::string& name) {
    auto c = std::make_unique<Candidate>();
    c->name = name;
    c->http = std::make_unique<PartitionableHttpClient>(*http_);
    KubeClientOptions ko;
    ko.server = api_->url();
    c->client = std::make_unique<KubeClient>(*c->http, ko);
    LeaderElectionOptions lo;
    lo.lease_namespace = "ops";
    lo.lease_name = "sextant-server";
    lo.identity = name;
    Candidate* raw = c.get();
    lo.on_started_leading = [raw] { ++raw->started; };
    lo.on_stopped_leading = [raw] { ++raw->stopped; };
    auto elector = LeaderElector::Create(*c->client, clock_, lo);
    EXPECT_TRUE(elector.ok()) << elector.status();
    c->elector = *std::move(elector);
    candidates_.push_back(std::move(c));
    return *candidates_.back();
  }

  int Leaders() const {
    int n = 0;
    for (const auto& c : candidates_) n += c->alive && c->elector->IsLeader();
    return n;
  }

  SimulatedClock clock_{absl::FromUnixSeconds(1'700'000'000)};
  std::unique_ptr<fakes::FakeApiServer> api_;
  std::unique_ptr<HttpClient> http_;
  std::vector<std::unique_ptr<Candidate>> candidates_;
};

TEST_F(LeaderElectionTest, FirstCandidateCreatesTheLeaseAndLeads) {
  Candidate& a = Add("a");
  absl::Status first = a.elector->Tick(clock_.Now());
  ASSERT_TRUE(first.ok()) << first;
  EXPECT_TRUE(a.elector->IsLeader());
  EXPECT_EQ(a.started, 1);
  EXPECT_EQ(a.elector->observed_leader(), "a");
  absl::StatusOr<Lease> lease = a.client->GetLease("ops", "sextant-server");
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->holder_identity, "a");
  EXPECT_EQ(lease->lease_duration_seconds, 15);
  EXPECT_EQ(lease->lease_transitions, 0);
  // Renewing moves renewTime and keeps acquireTime.
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(a.elector->Tick(clock_.Now()).ok());
  absl::StatusOr<Lease> renewed = a.client->GetLease("ops", "sextant-server");
  ASSERT_TRUE(renewed.ok());
  EXPECT_EQ(renewed->acquire_time, lease->acquire_time);
  EXPECT_GT(*renewed->renew_time, *lease->renew_time);
  EXPECT_EQ(a.started, 1);
}

TEST_F(LeaderElectionTest, SecondCandidateWaitsAFullLeaseDurationAfterTheLastChangeItSaw) {
  Candidate& a = Add("a");
  Candidate& b = Add("b");
  ASSERT_TRUE(a.elector->Tick(clock_.Now()).ok());
  EXPECT_FALSE(b.elector->Tick(clock_.Now()).ok());
  EXPECT_FALSE(b.elector->IsLeader());
  EXPECT_EQ(b.elector->observed_leader(), "a");
  // `a` dies without releasing. `b` last saw the record change at t0.
  a.alive = false;
  const absl::Time t0 = clock_.Now();
  while (clock_.Now() < t0 + absl::Seconds(15)) {
    EXPECT_FALSE(b.elector->Tick(clock_.Now()).ok());
    EXPECT_FALSE(b.elector->IsLeader());
    clock_.Advance(absl::Seconds(2));
  }
  // Now past 15 s since the last change it saw: the next attempt takes over.
  ASSERT_TRUE(b.elector->Tick(clock_.Now()).ok());
  EXPECT_TRUE(b.elector->IsLeader());
  EXPECT_LE(clock_.Now() - t0, absl::Seconds(15) + absl::Seconds(2));
  absl::StatusOr<Lease> lease = b.client->GetLease("ops", "sextant-server");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(lease->holder_identity, "b");
  EXPECT_EQ(lease->lease_transitions, 1);
}

TEST_F(LeaderElectionTest, ReleaseLetsTheOtherTakeOverAtOnce) {
  Candidate& a = Add("a");
  Candidate& b = Add("b");
  ASSERT_TRUE(a.elector->Tick(clock_.Now()).ok());
  EXPECT_FALSE(b.elector->Tick(clock_.Now()).ok());
  ASSERT_TRUE(a.elector->Release(clock_.Now()).ok());
  EXPECT_FALSE(a.elector->IsLeader());
  EXPECT_EQ(a.stopped, 1);
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(b.elector->Tick(clock_.Now()).ok());
  EXPECT_TRUE(b.elector->IsLeader());
}

TEST_F(LeaderElectionTest, LeaderThatCannotRenewStepsDownBeforeAnyoneElseCanLead) {
  Candidate& a = Add("a");
  Candidate& b = Add("b");
  ASSERT_TRUE(a.elector->Tick(clock_.Now()).ok());
  const absl::Time renewed = clock_.Now();
  a.http->set_partitioned(true);
  while (a.elector->IsLeader()) {
    clock_.Advance(absl::Seconds(2));
    EXPECT_FALSE(a.elector->Tick(clock_.Now()).ok());
    EXPECT_FALSE(b.elector->Tick(clock_.Now()).ok() && a.elector->IsLeader());
  }
  EXPECT_EQ(a.stopped, 1);
  EXPECT_GE(clock_.Now() - renewed, absl::Seconds(10));  // the renew deadline
  EXPECT_LT(clock_.Now() - renewed, absl::Seconds(15));  // before the lease expires for others
  EXPECT_FALSE(b.elector->IsLeader());
}

TEST_F(LeaderElectionTest, RenewalSlowerThanTheRenewDeadlineDoesNotCountAsLeading) {
  Candidate& a = Add("a");
  Candidate& b = Add("b");
  ASSERT_TRUE(a.elector->Tick(clock_.Now()).ok());
  EXPECT_TRUE(a.elector->IsLeader());
  // Each API call now takes 6 s: a round (get + update) ends 12 s after it began, past the
  // 10 s renew deadline, so `a` must not count itself leader then, although the write succeeded.
  api_->SetLatency(absl::Seconds(6));
  const absl::Time round_start = clock_.Now();
  ASSERT_TRUE(a.elector->Tick(round_start).ok());
  EXPECT_EQ(clock_.Now() - round_start, absl::Seconds(12));
  EXPECT_FALSE(a.elector->IsLeader());
  // `b` saw the record change only when its slow GET returned, and waits a full lease from then.
  (void)b.elector->Tick(clock_.Now());
  EXPECT_FALSE(b.elector->IsLeader());
  api_->SetLatency(absl::ZeroDuration());
  ASSERT_TRUE(a.elector->Tick(clock_.Now()).ok());
  EXPECT_TRUE(a.elector->IsLeader());
  EXPECT_FALSE(b.elector->IsLeader());
}

TEST_F(LeaderElectionTest, StartRunsTheLoopAndStopReleases) {
  Candidate& a = Add("a");
  // With the simulated clock each wait of the loop returns at once, advancing the clock; the loop
  // runs (and renews) until Stop().
  a.elector->Start();
  a.elector->Stop();
  EXPECT_EQ(a.started, 1);
  EXPECT_EQ(a.stopped, 1);
  absl::StatusOr<Lease> lease = a.client->GetLease("ops", "sextant-server");
  ASSERT_TRUE(lease.ok()) << lease.status();
  EXPECT_EQ(lease->holder_identity, "");  // released: nobody has to wait for it to expire
  Candidate& b = Add("b");
  ASSERT_TRUE(b.elector->Tick(clock_.Now()).ok());
  EXPECT_TRUE(b.elector->IsLeader());
}

TEST_F(LeaderElectionTest, ConflictingWriteFailsTheRoundWithoutLeading) {
  Candidate& a = Add("a");
  api_->ForceConflictOnNextWrite();
  absl::Status s = a.elector->Tick(clock_.Now());
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(a.elector->IsLeader());
  clock_.Advance(absl::Seconds(2));
  EXPECT_TRUE(a.elector->Tick(clock_.Now()).ok());
  EXPECT_TRUE(a.elector->IsLeader());
}

// Three candidates tick every retry period in a shuffled order while, at random, the leader or a
// follower crashes and restarts or is cut off from the API server. At no moment do two live
// candidates both believe they lead, and leadership always comes back.
TEST_F(LeaderElectionTest, NeverTwoLeadersOverManyRounds) {
  std::mt19937 rng(42);
  for (const char* name : {"a", "b", "c"}) Add(name);
  int max_leaders = 0;
  int rounds_without_leader = 0;
  int longest_gap = 0;
  int changes = 0;
  std::string last_leader;
  for (int round = 0; round < 400; ++round) {
    std::vector<Candidate*> order;
    for (auto& c : candidates_) order.push_back(c.get());
    std::shuffle(order.begin(), order.end(), rng);
    for (Candidate* c : order) {
      if (!c->alive) continue;
      (void)c->elector->Tick(clock_.Now());
      max_leaders = std::max(max_leaders, Leaders());
    }
    // Faults.
    Candidate& victim = *candidates_[rng() % candidates_.size()];
    switch (rng() % 20) {
      case 0:  // crash: its process is gone, its lease stays until it expires
        if (victim.alive) {
          victim.alive = false;
          victim.http->set_partitioned(true);
        }
        break;
      case 1:  // restart as a fresh process with the same identity
        if (!victim.alive) {
          // The old elector is dropped while still cut off: a crashed process releases nothing.
          LeaderElectionOptions lo;
          lo.lease_namespace = "ops";
          lo.lease_name = "sextant-server";
          lo.identity = victim.name;
          victim.elector = *LeaderElector::Create(*victim.client, clock_, lo);
          victim.http->set_partitioned(false);
          victim.alive = true;
        }
        break;
      case 2:  // cut off from the API server, still running
        if (victim.alive) victim.http->set_partitioned(true);
        break;
      case 3:
      case 4:
        if (victim.alive) victim.http->set_partitioned(false);
        break;
      default:
        break;
    }
    std::string leader;
    for (auto& c : candidates_) {
      if (c->alive && c->elector->IsLeader()) leader = c->name;
    }
    if (leader.empty()) {
      longest_gap = std::max(longest_gap, ++rounds_without_leader);
    } else {
      rounds_without_leader = 0;
      if (leader != last_leader) ++changes;
      last_leader = leader;
    }
    clock_.Advance(absl::Seconds(2));
  }
  EXPECT_EQ(max_leaders, 1);
  RecordProperty("leadership_changes", changes);
  RecordProperty("longest_gap_rounds", longest_gap);
  EXPECT_GT(changes, 1);  // the faults did move leadership around
  // With someone alive and connected, a lease is taken over within its duration plus a retry.
  EXPECT_LE(longest_gap, 60) << "leadership was lost for " << longest_gap << " rounds";
}

TEST(LeaderElectorCreateTest, RejectsBadDurationsAndMissingNames) {
  HttpClientOptions opts;
  auto http = CurlHttpClient::Create(opts);
  ASSERT_TRUE(http.ok());
  KubeClientOptions ko;
  ko.server = "http://127.0.0.1:1";
  KubeClient client(**http, ko);
  LeaderElectionOptions lo;
  lo.lease_namespace = "ops";
  lo.lease_name = "l";
  EXPECT_EQ(LeaderElector::Create(client, RealClock::Get(), lo).status().code(),
            absl::StatusCode::kInvalidArgument);  // no identity
  lo.identity = "me";
  lo.renew_deadline = absl::Seconds(20);
  EXPECT_THAT(LeaderElector::Create(client, RealClock::Get(), lo).status().message(),
              ::testing::HasSubstr("leaseDuration > renewDeadline > retryPeriod"));
}

}  // namespace
}  // namespace sextant::kube
