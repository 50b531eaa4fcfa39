#include "aggregator/api/write_handler.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prom/remote_write.h"
#include "tests/util/test_util.h"

namespace sextant::api {
namespace {

using ::testing::HasSubstr;

class WriteHandlerTest : public ::testing::Test {
 protected:
  void Open(int64_t max_series = 0) {
    tsdb::DbOptions o;
    o.dir = dir_.Path("data");
    o.fsync = FsyncPolicy::kNever;
    o.max_active_series = max_series;
    auto db = tsdb::Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    handler_ = std::make_unique<WriteHandler>(*db_, WriteHandlerOptions{limits_}, registry_);
  }

  HttpResponse Post(const prom::RemoteWriteRequest& req,
                    absl::string_view content_type = "application/x-protobuf") {
    absl::StatusOr<std::string> body = prom::EncodeWriteRequest(req);
    EXPECT_TRUE(body.ok());
    HttpRequest r;
    r.method = "POST";
    r.path = "/api/v1/write";
    r.headers.Add("Content-Type", content_type);
    r.headers.Add("Content-Encoding", "snappy");
    r.headers.Add("X-Prometheus-Remote-Write-Version", "0.1.0");
    r.body = body.ok() ? *body : "";
    return handler_->Handle(r);
  }

  // The stored samples of the series whose job label is `job`, as "t=v" strings.
  std::vector<std::string> Stored(absl::string_view job) {
    auto m = prom::Matcher::Create(prom::MatchType::kEqual, "job", std::string(job));
    auto all = db_->Select({*m}, tsdb::kMinTime, tsdb::kMaxTime);
    EXPECT_TRUE(all.ok());
    std::vector<std::string> out;
    for (const auto& s : *all) {
      tsdb::SampleIterator it(s, tsdb::kMinTime, tsdb::kMaxTime);
      while (it.Next()) out.push_back(absl::StrCat(it.t(), "=", it.v()));
    }
    return out;
  }

  static prom::RemoteWriteSeries Series(std::vector<prom::Label> labels,
                                        std::vector<prom::Sample> samples) {
    return prom::RemoteWriteSeries{std::move(labels), std::move(samples)};
  }

  testing::TempDir dir_;
  LimitsConfig limits_;
  prometheus::Registry registry_;
  std::unique_ptr<tsdb::Db> db_;
  std::unique_ptr<WriteHandler> handler_;
};

constexpr int64_t kT = 1'700'000'000'000;

TEST_F(WriteHandlerTest, StoresValidSeriesAndAnswers204) {
  Open();
  prom::RemoteWriteRequest req;
  req.series.push_back(Series({{"__name__", "up"}, {"job", "a"}}, {{kT, 1}, {kT + 1000, 0}}));
  req.metadata.push_back({prom::RemoteWriteMetadata::Type::kGauge, "up", "Up.", ""});
  HttpResponse r = Post(req);
  EXPECT_EQ(r.status, 204) << r.body;
  EXPECT_THAT(Stored("a"),
              ::testing::ElementsAre(absl::StrCat(kT, "=1"), absl::StrCat(kT + 1000, "=0")));
  EXPECT_EQ(db_->Metadata("up").at("up").help, "Up.");
}

TEST_F(WriteHandlerTest, BadSeriesGet400NamingTheFirstWhileValidOnesAreStored) {
  Open();
  prom::RemoteWriteRequest req;
  req.series.push_back(Series({{"__name__", "up"}, {"job", "good"}}, {{kT, 1}}));
  req.series.push_back(Series({{"job", "x"}, {"__name__", "up"}}, {{kT, 1}}));  // unsorted
  req.series.push_back(Series({{"__name__", "up"}, {"1bad", "x"}}, {{kT, 1}}));
  req.series.push_back(Series({{"job", "noname"}}, {{kT, 1}}));
  req.series.push_back(Series({{"__name__", "up"}, {"job", "good2"}}, {{kT, 2}}));
  HttpResponse r = Post(req);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("3 of 5 samples not stored (3 problems)"));
  EXPECT_THAT(r.body, HasSubstr("first: series {job=\"x\", __name__=\"up\"}: label names not "
                                "sorted"));
  EXPECT_EQ(Stored("good").size(), 1u);
  EXPECT_EQ(Stored("good2").size(), 1u);
}

TEST_F(WriteHandlerTest, OutOfOrderAndFutureSamplesAre400WithReasons) {
  Open();
  prom::RemoteWriteRequest req;
  req.series.push_back(Series({{"__name__", "up"}, {"job", "a"}}, {{kT, 1}}));
  ASSERT_EQ(Post(req).status, 204);
  prom::RemoteWriteRequest later;
  later.series.push_back(Series({{"__name__", "up"}, {"job", "a"}}, {{kT - 1000, 1}}));
  later.series.push_back(
      Series({{"__name__", "up"}, {"job", "b"}}, {{absl::ToUnixMillis(absl::Now()) * 1000, 1}}));
  HttpResponse r = Post(later);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("1 out of order"));
  EXPECT_THAT(r.body, HasSubstr("1 too far in the future"));
}

TEST_F(WriteHandlerTest, LimitsOnSeriesPerRequestLabelsAndLength) {
  limits_.series_per_request = 2;
  limits_.labels_per_series = 3;
  limits_.label_value_bytes = 8;
  Open();
  prom::RemoteWriteRequest many;
  for (int i = 0; i < 3; ++i) {
    many.series.push_back(Series({{"__name__", "up"}, {"job", absl::StrCat(i)}}, {{kT, 1}}));
  }
  HttpResponse r = Post(many);
  EXPECT_EQ(r.status, 413);
  EXPECT_THAT(r.body, HasSubstr("more than 2 series"));
  EXPECT_TRUE(Stored("0").empty());

  prom::RemoteWriteRequest wide;
  wide.series.push_back(
      Series({{"__name__", "up"}, {"a", "1"}, {"b", "2"}, {"c", "3"}, {"job", "w"}}, {{kT, 1}}));
  wide.series.push_back(Series({{"__name__", "up"}, {"job", "long-value-here"}}, {{kT, 1}}));
  r = Post(wide);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("5 labels, over the limit of 3"));
  EXPECT_THAT(r.body, HasSubstr("2 problems"));
}

TEST_F(WriteHandlerTest, ActiveSeriesLimitAnswers429AndKeepsTheRest) {
  Open(/*max_series=*/2);
  prom::RemoteWriteRequest req;
  for (int i = 0; i < 3; ++i) {
    req.series.push_back(Series({{"__name__", "up"}, {"job", absl::StrCat("j", i)}}, {{kT, 1}}));
  }
  HttpResponse r = Post(req);
  EXPECT_EQ(r.status, 429);
  EXPECT_THAT(r.body, HasSubstr("1 new series refused"));
  EXPECT_EQ(Stored("j0").size(), 1u);
  EXPECT_EQ(Stored("j1").size(), 1u);
  EXPECT_TRUE(Stored("j2").empty());
}

TEST_F(WriteHandlerTest, WrongMediaTypeIs415AndGarbageIs400) {
  Open();
  prom::RemoteWriteRequest req;
  req.series.push_back(Series({{"__name__", "up"}}, {{kT, 1}}));
  EXPECT_EQ(Post(req, "application/json").status, 415);
  HttpRequest r;
  r.method = "POST";
  r.headers.Add("Content-Type", "application/x-protobuf");
  r.body = "not snappy";
  HttpResponse resp = handler_->Handle(r);
  EXPECT_EQ(resp.status, 400);
  EXPECT_THAT(resp.body, HasSubstr("snappy"));
}

}  // namespace
}  // namespace sextant::api
