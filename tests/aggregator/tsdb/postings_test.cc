#include "aggregator/tsdb/postings.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sextant::tsdb {
namespace {

prom::Matcher M(prom::MatchType type, const std::string& name, const std::string& value) {
  return *prom::Matcher::Create(type, name, value);
}

TEST(HeadSymbolsTest, InternsOnceAndFreesWithLastHolder) {
  HeadSymbols symbols;
  const uint32_t a = symbols.Intern("job");
  EXPECT_EQ(symbols.Intern("job"), a);
  const uint32_t b = symbols.Intern("a-rather-long-value-beyond-the-small-string-buffer");
  EXPECT_NE(a, b);
  EXPECT_EQ(symbols.Get(a), "job");
  EXPECT_EQ(symbols.Find("job"), a);
  symbols.Release(a);
  EXPECT_EQ(symbols.Find("job"), a);  // one holder left
  symbols.Release(a);
  EXPECT_EQ(symbols.Find("job"), -1);
  EXPECT_EQ(symbols.Intern("pod"), a);  // the freed id is reused
  EXPECT_EQ(symbols.Get(b), "a-rather-long-value-beyond-the-small-string-buffer");
  EXPECT_EQ(symbols.size(), 2u);
}

TEST(PostingsTest, EmptyMatchingMatchersSelectSeriesWithoutTheLabel) {
  HeadSymbols symbols;
  MemPostings postings;
  auto add = [&](SeriesRef ref, std::vector<std::pair<std::string, std::string>> labels) {
    std::vector<uint32_t> ids;
    for (const auto& [n, v] : labels) {
      ids.push_back(symbols.Intern(n));
      ids.push_back(symbols.Intern(v));
    }
    postings.Add(ref, ids.data(), labels.size());
  };
  add(1, {{"a", "x"}});
  add(2, {{"a", "y"}, {"b", "x"}});
  add(3, {{"b", "y"}});
  using V = std::vector<SeriesRef>;
  auto sel = [&](std::vector<prom::Matcher> ms) { return postings.Select(ms, symbols); };
  EXPECT_EQ(sel({}), (V{1, 2, 3}));
  EXPECT_EQ(sel({M(prom::MatchType::kEqual, "a", "")}), (V{3}));
  EXPECT_EQ(sel({M(prom::MatchType::kNotEqual, "a", "x")}), (V{2, 3}));
  EXPECT_EQ(sel({M(prom::MatchType::kNotEqual, "a", "")}), (V{1, 2}));
  EXPECT_EQ(sel({M(prom::MatchType::kRegexMatch, "a", "x|")}), (V{1, 3}));
  EXPECT_EQ(sel({M(prom::MatchType::kRegexNoMatch, "a", "x|y")}), (V{3}));
  EXPECT_EQ(sel({M(prom::MatchType::kRegexMatch, "a", ".+")}), (V{1, 2}));
  EXPECT_EQ(sel({M(prom::MatchType::kRegexMatch, "nope", ".*")}), (V{1, 2, 3}));
  EXPECT_EQ(sel({M(prom::MatchType::kEqual, "nope", "x")}), (V{}));
  EXPECT_EQ(
      sel({M(prom::MatchType::kRegexMatch, "a", "x|y"), M(prom::MatchType::kEqual, "b", "x")}),
      (V{2}));
  EXPECT_EQ(postings.Names(nullptr, symbols), (std::vector<std::string>{"a", "b"}));
  const V only3 = {3};
  EXPECT_EQ(postings.Names(&only3, symbols), (std::vector<std::string>{"b"}));
  EXPECT_EQ(postings.Values("b", &only3, symbols), (std::vector<std::string>{"y"}));

  postings.Delete({2},
                  {{symbols.Find("a"), symbols.Find("y")}, {symbols.Find("b"), symbols.Find("x")}});
  EXPECT_EQ(sel({}), (V{1, 3}));
  EXPECT_EQ(postings.Values("a", nullptr, symbols), (std::vector<std::string>{"x"}));
  EXPECT_EQ(postings.Values("b", nullptr, symbols), (std::vector<std::string>{"y"}));
}

TEST(PostingsTest, KeepsListsSortedWhenRefsArriveOutOfOrder) {
  HeadSymbols symbols;
  MemPostings postings;
  const uint32_t pair[2] = {symbols.Intern("a"), symbols.Intern("x")};
  for (SeriesRef ref : {5, 2, 9, 2}) postings.Add(ref, pair, 1);
  EXPECT_EQ(postings.all(), (std::vector<SeriesRef>{2, 5, 9}));
  EXPECT_EQ(postings.Select({M(prom::MatchType::kEqual, "a", "x")}, symbols),
            (std::vector<SeriesRef>{2, 5, 9}));
}

TEST(PostingsTest, RecognizesLiteralAlternationsOnly) {
  std::vector<std::string> out;
  EXPECT_TRUE(LiteralAlternatives("api|web", &out));
  EXPECT_EQ(out, (std::vector<std::string>{"api", "web"}));
  EXPECT_TRUE(LiteralAlternatives("a-b_c:d", &out));
  EXPECT_EQ(out, (std::vector<std::string>{"a-b_c:d"}));
  EXPECT_TRUE(LiteralAlternatives("x|", &out));
  EXPECT_EQ(out, (std::vector<std::string>{"x", ""}));
  for (const char* re : {"a.b", "a|b*", "(?i)a", "a\\|b", "[ab]", "^a$", "é"}) {
    EXPECT_FALSE(LiteralAlternatives(re, &out)) << re;
  }
}

TEST(PostingsTest, IntersectsAndSubtractsSortedLists) {
  using V = std::vector<SeriesRef>;
  EXPECT_EQ(IntersectSorted(V{1, 3, 5, 7}, V{3, 4, 5}), (V{3, 5}));
  EXPECT_EQ(SubtractSorted(V{1, 3, 5, 7}, V{3, 4, 5}), (V{1, 7}));
  EXPECT_EQ(IntersectSorted(V{}, V{1}), V{});
}

}  // namespace
}  // namespace sextant::tsdb
