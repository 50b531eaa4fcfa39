#include "kube/selector.h"

#include "gtest/gtest.h"

namespace sextant::kube {
namespace {

bool Match(absl::string_view selector, const std::map<std::string, std::string>& labels) {
  absl::StatusOr<LabelSelector> s = LabelSelector::Parse(selector);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() && s->Matches(labels);
}

TEST(LabelSelectorTest, EmptySelectorMatchesEverything) {
  EXPECT_TRUE(Match("", {}));
  EXPECT_TRUE(Match("  ", {{"app", "web"}}));
}

TEST(LabelSelectorTest, EqualityAndInequality) {
  EXPECT_TRUE(Match("app=web", {{"app", "web"}, {"tier", "front"}}));
  EXPECT_TRUE(Match("app==web", {{"app", "web"}}));
  EXPECT_FALSE(Match("app=web", {{"app", "db"}}));
  EXPECT_FALSE(Match("app=web", {}));
  EXPECT_TRUE(Match("app!=web", {}));  // absent labels satisfy !=
  EXPECT_FALSE(Match("app!=web", {{"app", "web"}}));
  EXPECT_TRUE(Match("app = web , tier != db", {{"app", "web"}, {"tier", "front"}}));
}

TEST(LabelSelectorTest, SetBasedAndExistence) {
  EXPECT_TRUE(Match("env in (prod, staging)", {{"env", "staging"}}));
  EXPECT_FALSE(Match("env in (prod,staging)", {{"env", "dev"}}));
  EXPECT_FALSE(Match("env in (prod)", {}));
  EXPECT_TRUE(Match("env notin (prod)", {}));
  EXPECT_FALSE(Match("env notin (prod)", {{"env", "prod"}}));
  EXPECT_TRUE(Match("canary", {{"canary", ""}}));
  EXPECT_FALSE(Match("canary", {}));
  EXPECT_TRUE(Match("!canary", {}));
  EXPECT_FALSE(Match("app=web,!canary", {{"app", "web"}, {"canary", "1"}}));
}

TEST(LabelSelectorTest, RejectsMalformedRequirements) {
  EXPECT_FALSE(LabelSelector::Parse("app=web,").ok());
  EXPECT_FALSE(LabelSelector::Parse("=web").ok());
  EXPECT_FALSE(LabelSelector::Parse("env in (a").ok());
  EXPECT_FALSE(LabelSelector::Parse("env within (a)").ok());
}

}  // namespace
}  // namespace sextant::kube
