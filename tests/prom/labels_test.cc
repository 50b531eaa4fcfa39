#include "prom/labels.h"

#include <string>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::prom {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(LabelNameTest, ValidLabelNames) {
  EXPECT_TRUE(IsValidLabelName("a"));
  EXPECT_TRUE(IsValidLabelName("_"));
  EXPECT_TRUE(IsValidLabelName("__name__"));
  EXPECT_TRUE(IsValidLabelName("Abc_09"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_FALSE(IsValidLabelName("1a"));
  EXPECT_FALSE(IsValidLabelName("a-b"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("a b"));
  EXPECT_FALSE(IsValidLabelName("é"));
}

TEST(LabelNameTest, ValidMetricNames) {
  EXPECT_TRUE(IsValidMetricName("up"));
  EXPECT_TRUE(IsValidMetricName(":a:b_c:"));
  EXPECT_TRUE(IsValidMetricName("job:http_requests:rate5m"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("0up"));
  EXPECT_FALSE(IsValidMetricName("up-down"));
  EXPECT_FALSE(IsValidMetricName("up.down"));
}

TEST(Utf8Test, AcceptsValidEncodings) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));
  EXPECT_TRUE(IsValidUtf8("\xC2\x80"));          // U+0080, smallest 2-byte.
  EXPECT_TRUE(IsValidUtf8("\xDF\xBF"));          // U+07FF.
  EXPECT_TRUE(IsValidUtf8("\xE0\xA0\x80"));      // U+0800, smallest 3-byte.
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates.
  EXPECT_TRUE(IsValidUtf8("\xEE\x80\x80"));      // U+E000, just above them.
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBF"));      // U+FFFF.
  EXPECT_TRUE(IsValidUtf8("\xF0\x90\x80\x80"));  // U+10000, smallest 4-byte.
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point.
  EXPECT_TRUE(IsValidUtf8("h\xC3\xA9llo w\xC3\xB6rld \xF0\x9F\x98\x80"));
}

TEST(Utf8Test, RejectsInvalidEncodings) {
  EXPECT_FALSE(IsValidUtf8("\x80"));  // Lone continuation byte.
  EXPECT_FALSE(IsValidUtf8("\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));          // Overlong NUL.
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));          // Overlong U+007F.
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));      // Overlong U+07FF.
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));  // Overlong U+FFFF.
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // U+D800, a surrogate.
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));      // U+DFFF.
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000, past the end.
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));  // 5-byte form.
  EXPECT_FALSE(IsValidUtf8("\xFE"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));  // Truncated at the end.
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(
      IsValidUtf8("\xC3"
                  "a"));  // Continuation missing.
  EXPECT_FALSE(
      IsValidUtf8("ok\xE2\x82"
                  "ok"));
}

TEST(LabelsTest, FromUnsortedSortsByName) {
  auto ls = Labels::FromUnsorted({{"job", "api"}, {"__name__", "up"}, {"instance", "a:1"}});
  ASSERT_TRUE(ls.ok()) << ls.status();
  EXPECT_THAT(ls->labels(),
              ElementsAre(Label{"__name__", "up"}, Label{"instance", "a:1"}, Label{"job", "api"}));
  EXPECT_EQ(ls->size(), 3u);
  EXPECT_FALSE(ls->empty());
  EXPECT_EQ(ls->MetricName(), "up");
}

TEST(LabelsTest, FromUnsortedDropsEmptyValues) {
  auto ls = Labels::FromUnsorted({{"b", ""}, {"a", "1"}, {"c", ""}});
  ASSERT_TRUE(ls.ok()) << ls.status();
  EXPECT_THAT(ls->labels(), ElementsAre(Label{"a", "1"}));
  EXPECT_FALSE(ls->Has("b"));
  EXPECT_EQ(*ls, Labels({{"a", "1"}}));
}

TEST(LabelsTest, FromUnsortedRejectsDuplicateNames) {
  auto ls = Labels::FromUnsorted({{"a", "1"}, {"b", "2"}, {"a", "3"}});
  ASSERT_FALSE(ls.ok());
  EXPECT_EQ(ls.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ls.status().message(), HasSubstr("duplicate label name \"a\""));
}

TEST(LabelsTest, FromUnsortedRejectsInvalidNames) {
  auto ls = Labels::FromUnsorted({{"a", "1"}, {"1a", "2"}});
  ASSERT_FALSE(ls.ok());
  EXPECT_EQ(ls.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ls.status().message(), HasSubstr("invalid label name \"1a\""));

  ls = Labels::FromUnsorted({{"", "x"}});
  ASSERT_FALSE(ls.ok());
  EXPECT_THAT(ls.status().message(), HasSubstr("invalid label name \"\""));
}

TEST(LabelsTest, FromUnsortedRejectsInvalidMetricName) {
  auto ls = Labels::FromUnsorted({{"__name__", "http-requests"}});
  ASSERT_FALSE(ls.ok());
  EXPECT_EQ(ls.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ls.status().message(), HasSubstr("invalid metric name \"http-requests\""));
  // Colons are fine in metric names, not in label names.
  EXPECT_TRUE(Labels::FromUnsorted({{"__name__", "a:b"}}).ok());
  EXPECT_FALSE(Labels::FromUnsorted({{"a:b", "x"}}).ok());
}

TEST(LabelsTest, FromUnsortedRejectsValuesThatAreNotUtf8) {
  auto ls = Labels::FromUnsorted({{"path", "/a\xFF"}});
  ASSERT_FALSE(ls.ok());
  EXPECT_EQ(ls.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ls.status().message(), HasSubstr("\"path\""));
  EXPECT_THAT(ls.status().message(), HasSubstr("UTF-8"));
}

TEST(LabelsTest, InitializerListSortsDropsEmptyAndLastDuplicateWins) {
  Labels ls({{"b", "2"}, {"a", "1"}, {"c", ""}, {"b", "3"}});
  EXPECT_THAT(ls.labels(), ElementsAre(Label{"a", "1"}, Label{"b", "3"}));
}

TEST(LabelsTest, FromSortedUncheckedKeepsLabels) {
  Labels ls = Labels::FromSortedUnchecked({{"a", "1"}, {"b", "2"}});
  EXPECT_EQ(ls, Labels({{"b", "2"}, {"a", "1"}}));
  EXPECT_EQ(ls.Hash(), Labels({{"a", "1"}, {"b", "2"}}).Hash());
}

TEST(LabelsTest, GetAndHas) {
  Labels ls({{"__name__", "up"}, {"job", "api"}});
  EXPECT_EQ(ls.Get("job"), "api");
  EXPECT_EQ(ls.Get("__name__"), "up");
  EXPECT_EQ(ls.Get("missing"), "");
  EXPECT_EQ(ls.Get(""), "");
  EXPECT_TRUE(ls.Has("job"));
  EXPECT_FALSE(ls.Has("jo"));
  EXPECT_FALSE(ls.Has("jobs"));
  EXPECT_EQ(Labels().Get("a"), "");
  EXPECT_EQ(Labels().MetricName(), "");
}

TEST(LabelsTest, WithAddsReplacesAndRemoves) {
  const Labels ls({{"b", "2"}, {"d", "4"}});
  EXPECT_EQ(ls.With("a", "1"), Labels({{"a", "1"}, {"b", "2"}, {"d", "4"}}));
  EXPECT_EQ(ls.With("c", "3"), Labels({{"b", "2"}, {"c", "3"}, {"d", "4"}}));
  EXPECT_EQ(ls.With("e", "5"), Labels({{"b", "2"}, {"d", "4"}, {"e", "5"}}));
  EXPECT_EQ(ls.With("b", "x"), Labels({{"b", "x"}, {"d", "4"}}));
  EXPECT_EQ(ls.With("d", "x"), Labels({{"b", "2"}, {"d", "x"}}));
  EXPECT_EQ(ls.With("b", ""), Labels({{"d", "4"}}));
  EXPECT_EQ(ls.With("z", ""), ls);
  EXPECT_EQ(Labels().With("a", "1"), Labels({{"a", "1"}}));
  // The original is unchanged.
  EXPECT_THAT(ls.labels(), ElementsAre(Label{"b", "2"}, Label{"d", "4"}));
  // Results keep their hash consistent with an equal set built directly.
  EXPECT_EQ(ls.With("c", "3").Hash(), Labels({{"b", "2"}, {"c", "3"}, {"d", "4"}}).Hash());
}

TEST(LabelsTest, WithoutRemovesNames) {
  const Labels ls({{"__name__", "up"}, {"instance", "i"}, {"job", "j"}});
  EXPECT_EQ(ls.Without({"__name__"}), Labels({{"instance", "i"}, {"job", "j"}}));
  EXPECT_EQ(ls.Without({"job", "instance", "absent"}), Labels({{"__name__", "up"}}));
  EXPECT_EQ(ls.Without({}), ls);
  EXPECT_TRUE(ls.Without({"__name__", "instance", "job"}).empty());
  EXPECT_EQ(ls.Without({"__name__", "instance", "job"}), Labels());
}

TEST(LabelsTest, ToStringEscapesValues) {
  EXPECT_EQ(Labels().ToString(), "{}");
  EXPECT_EQ(Labels({{"__name__", "up"}, {"job", "api"}}).ToString(),
            "{__name__=\"up\", job=\"api\"}");
  EXPECT_EQ(Labels({{"a", "q\"b\\s\nn"}}).ToString(), "{a=\"q\\\"b\\\\s\\nn\"}");
  EXPECT_EQ(Labels({{"a", "tab\tstays, \xC3\xA9 too"}}).ToString(),
            "{a=\"tab\tstays, \xC3\xA9 too\"}");
}

TEST(LabelsTest, EscapeLabelValue) {
  EXPECT_EQ(EscapeLabelValue(""), "");
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("\\"), "\\\\");
  EXPECT_EQ(EscapeLabelValue("\""), "\\\"");
  EXPECT_EQ(EscapeLabelValue("\n"), "\\n");
  EXPECT_EQ(EscapeLabelValue("\r"), "\r");
}

TEST(LabelsTest, CompareOrdersLabelByLabelNameThenValue) {
  const Labels a({{"a", "1"}});
  const Labels a2({{"a", "2"}});
  const Labels ab({{"a", "1"}, {"b", "1"}});
  const Labels b({{"b", "0"}});
  EXPECT_EQ(Labels::Compare(a, a), 0);
  EXPECT_EQ(Labels::Compare(a, Labels({{"a", "1"}})), 0);
  EXPECT_LT(Labels::Compare(a, a2), 0);
  EXPECT_GT(Labels::Compare(a2, a), 0);
  EXPECT_LT(Labels::Compare(a, ab), 0);  // A prefix sorts first.
  EXPECT_GT(Labels::Compare(ab, a), 0);
  EXPECT_LT(Labels::Compare(ab, a2), 0);  // Decided at the first label's value.
  EXPECT_LT(Labels::Compare(a2, b), 0);   // Name before value: "a" < "b".
  EXPECT_LT(Labels::Compare(Labels(), a), 0);
  EXPECT_TRUE(a < a2);
  EXPECT_FALSE(a2 < a);
  // Bytes compare unsigned: UTF-8 sorts after ASCII.
  EXPECT_LT(Labels::Compare(Labels({{"a", "z"}}), Labels({{"a", "\xC3\xA9"}})), 0);
}

TEST(LabelsTest, EqualSetsHashEqual) {
  auto x = Labels::FromUnsorted({{"job", "a"}, {"__name__", "up"}});
  ASSERT_TRUE(x.ok());
  const Labels y({{"__name__", "up"}, {"job", "a"}});
  EXPECT_EQ(*x, y);
  EXPECT_EQ(x->Hash(), y.Hash());
  EXPECT_EQ(absl::Hash<Labels>()(*x), absl::Hash<Labels>()(y));
  EXPECT_EQ(Labels().Hash(), Labels({{"a", ""}}).Hash());
}

TEST(LabelsTest, HashSeparatesNameAndValue) {
  const Labels a({{"a", "bc"}});
  const Labels b({{"ab", "c"}});
  EXPECT_NE(a, b);
  EXPECT_NE(a.Hash(), b.Hash());
  EXPECT_NE(Labels({{"a", "b"}, {"c", "d"}}).Hash(), Labels({{"a", "bc"}, {"d", ""}}).Hash());
  EXPECT_NE(Labels({{"a", "1"}}).Hash(), Labels({{"a", "2"}}).Hash());
  EXPECT_NE(Labels({{"a", "1"}}).Hash(), Labels().Hash());
}

TEST(LabelsTest, IterationFollowsNameOrder) {
  const Labels ls({{"c", "3"}, {"a", "1"}, {"b", "2"}});
  std::string names;
  for (const Label& l : ls) names += l.name;
  EXPECT_EQ(names, "abc");
}

TEST(LabelsTest, HashOfAndEqualsOnViewsAgreeWithTheSet) {
  const Labels set({{"__name__", "up"}, {"instance", "a:9100"}, {"job", "node"}});
  const LabelView same[] = {
      {"__name__", "up"}, {"empty", ""}, {"instance", "a:9100"}, {"job", "node"}};
  EXPECT_EQ(Labels::HashOf(same, 4), set.Hash());
  EXPECT_TRUE(set.Equals(same, 4));
  const LabelView other[] = {{"__name__", "up"}, {"instance", "a:9100"}, {"job", "nodes"}};
  EXPECT_NE(Labels::HashOf(other, 3), set.Hash());
  EXPECT_FALSE(set.Equals(other, 3));
  EXPECT_FALSE(set.Equals(same, 2));
  EXPECT_EQ(Labels::HashOf(nullptr, 0), Labels().Hash());
  EXPECT_TRUE(Labels().Equals(nullptr, 0));
}

}  // namespace
}  // namespace sextant::prom
