#include "prom/matcher.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant::prom {
namespace {

using ::testing::HasSubstr;

Matcher Make(MatchType type, const std::string& name, const std::string& value) {
  auto m = Matcher::Create(type, name, value);
  EXPECT_TRUE(m.ok()) << m.status();
  return *std::move(m);
}

Matcher Re(const std::string& pattern) { return Make(MatchType::kRegexMatch, "l", pattern); }

TEST(MatcherTest, EqualAndNotEqual) {
  Matcher eq = Make(MatchType::kEqual, "job", "api");
  EXPECT_TRUE(eq.Matches("api"));
  EXPECT_FALSE(eq.Matches("ap"));
  EXPECT_FALSE(eq.Matches("api2"));
  EXPECT_FALSE(eq.Matches("API"));
  EXPECT_FALSE(eq.Matches(""));
  EXPECT_FALSE(eq.MatchesEmpty());

  Matcher ne = Make(MatchType::kNotEqual, "job", "api");
  EXPECT_FALSE(ne.Matches("api"));
  EXPECT_TRUE(ne.Matches("web"));
  EXPECT_TRUE(ne.Matches(""));
  EXPECT_TRUE(ne.MatchesEmpty());

  // Equality values are literal, never patterns.
  EXPECT_FALSE(Make(MatchType::kEqual, "a", "a.*").Matches("abc"));
  EXPECT_TRUE(Make(MatchType::kEqual, "a", "").MatchesEmpty());
  EXPECT_FALSE(Make(MatchType::kNotEqual, "a", "").MatchesEmpty());
}

TEST(MatcherTest, RegexMatchAndNoMatch) {
  Matcher re = Make(MatchType::kRegexMatch, "code", "5..");
  EXPECT_TRUE(re.Matches("500"));
  EXPECT_TRUE(re.Matches("503"));
  EXPECT_FALSE(re.Matches("200"));
  EXPECT_FALSE(re.Matches("5000"));
  EXPECT_FALSE(re.MatchesEmpty());

  Matcher nre = Make(MatchType::kRegexNoMatch, "code", "5..");
  EXPECT_FALSE(nre.Matches("500"));
  EXPECT_TRUE(nre.Matches("200"));
  EXPECT_TRUE(nre.Matches("5000"));
  EXPECT_TRUE(nre.MatchesEmpty());
}

TEST(MatcherTest, RegexIsFullyAnchored) {
  Matcher foo = Re("foo");
  EXPECT_TRUE(foo.Matches("foo"));
  EXPECT_FALSE(foo.Matches("xfoo"));
  EXPECT_FALSE(foo.Matches("foox"));
  EXPECT_FALSE(foo.Matches("xfoox"));
  EXPECT_FALSE(Re("o").Matches("foo"));
  EXPECT_FALSE(Re("f[a-z]").Matches("foo"));
  EXPECT_TRUE(Re("f[a-z]+").Matches("foo"));
  EXPECT_FALSE(Re("\\d+").Matches("12a"));
  EXPECT_TRUE(Re("^foo$").Matches("foo"));
  EXPECT_FALSE(Re("^fo").Matches("foo"));
}

TEST(MatcherTest, AlternationIsAnchoredAsAWhole) {
  Matcher ab = Re("a|b");
  EXPECT_TRUE(ab.Matches("a"));
  EXPECT_TRUE(ab.Matches("b"));
  EXPECT_FALSE(ab.Matches("ab"));
  EXPECT_FALSE(ab.Matches("ax"));
  EXPECT_FALSE(ab.Matches("xb"));
  EXPECT_FALSE(ab.Matches(""));

  Matcher words = Re("api|web-1|db\\.x");
  EXPECT_TRUE(words.Matches("web-1"));
  EXPECT_TRUE(words.Matches("db.x"));
  EXPECT_FALSE(words.Matches("dbxx"));
  EXPECT_FALSE(words.Matches("db_x"));
  EXPECT_FALSE(words.Matches("api|web-1"));

  Matcher mixed = Re("foo.*|bar");
  EXPECT_TRUE(mixed.Matches("foox"));
  EXPECT_TRUE(mixed.Matches("bar"));
  EXPECT_FALSE(mixed.Matches("xbar"));
  EXPECT_FALSE(mixed.Matches("barx"));
}

TEST(MatcherTest, EmptyMatchingRegexes) {
  EXPECT_TRUE(Re("").Matches(""));
  EXPECT_FALSE(Re("").Matches("a"));
  EXPECT_TRUE(Re("").MatchesEmpty());

  EXPECT_TRUE(Re(".*").MatchesEmpty());
  EXPECT_TRUE(Re(".*").Matches("anything at all"));

  Matcher a_or_empty = Re("a|");
  EXPECT_TRUE(a_or_empty.MatchesEmpty());
  EXPECT_TRUE(a_or_empty.Matches("a"));
  EXPECT_FALSE(a_or_empty.Matches("b"));
  EXPECT_TRUE(Re("|a").MatchesEmpty());
  EXPECT_TRUE(Re("(a)?").MatchesEmpty());
  EXPECT_TRUE(Re("a*").MatchesEmpty());

  EXPECT_FALSE(Re(".+").MatchesEmpty());
  EXPECT_FALSE(Re("a").MatchesEmpty());
  EXPECT_FALSE(Re("a|b").MatchesEmpty());

  // !~ flips MatchesEmpty.
  EXPECT_FALSE(Make(MatchType::kRegexNoMatch, "l", ".*").MatchesEmpty());
  EXPECT_TRUE(Make(MatchType::kRegexNoMatch, "l", ".+").MatchesEmpty());
}

TEST(MatcherTest, DotDoesNotMatchNewline) {
  EXPECT_FALSE(Re(".*").Matches("a\nb"));
  EXPECT_FALSE(Re(".+").Matches("\n"));
  EXPECT_FALSE(Re("a.b").Matches("a\nb"));
  EXPECT_FALSE(Re("a.*").Matches("a\nb"));
  EXPECT_FALSE(Re(".*b").Matches("a\nb"));
  EXPECT_FALSE(Re(".*x.*").Matches("x\n"));
  EXPECT_TRUE(Re("(?s).*").Matches("a\nb"));
  EXPECT_TRUE(Re("a\\nb").Matches("a\nb"));
  EXPECT_TRUE(Re("a\nb").Matches("a\nb"));        // A literal newline in the pattern.
  EXPECT_TRUE(Re("a.*\n.*b").Matches("a1\n2b"));  // Newline matched explicitly.
  EXPECT_TRUE(Re("[^x]+").Matches("a\nb"));       // Negated classes do match it.
  EXPECT_TRUE(Re("\\s").Matches("\n"));
}

TEST(MatcherTest, DollarAndCaretAreTextAnchorsOnly) {
  EXPECT_FALSE(Re("a$").Matches("a\n"));
  EXPECT_FALSE(Re("a$\n").Matches("a\n"));
  EXPECT_TRUE(Re("(?m)a$\n").Matches("a\n"));
}

TEST(MatcherTest, FastPathShapesAgreeWithTheGeneralCase) {
  // Each shortcut shape next to an equivalent pattern that takes the RE2 path.
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"abc", "(abc)"},         {"a|bc|", "(a|bc|)"}, {".*", "(.*)"},         {".+", "(.+)"},
      {"ab.*", "(ab).*"},       {".*ab", ".*(ab)"},   {".*ab.*", ".*(ab).*"}, {"a\\.b", "(a\\.b)"},
      {"\\Qa.b\\E", "(a\\.b)"}, {"x\\|y", "(x\\|y)"},
  };
  const std::vector<std::string> values = {
      "",
      "a",
      "ab",
      "abc",
      "bc",
      "xab",
      "abx",
      "xabx",
      "a.b",
      "axb",
      "x|y",
      "x",
      "\n",
      "ab\n",
      "\nab",
      "x\nabx",
      "a\xFF",
      "\xFF"
      "ab",
      "ab\xFF",
      "\xFF",
      "\xC3\xA9"
      "ab",
      "ab\xE2\x82",
      "\xF0\x9F\x98\x80",
  };
  for (const auto& [fast, slow] : pairs) {
    const Matcher f = Re(fast);
    const Matcher s = Re(slow);
    for (const std::string& v : values) {
      EXPECT_EQ(f.Matches(v), s.Matches(v))
          << "patterns " << fast << " and " << slow << " on \"" << v << "\"";
    }
  }
}

TEST(MatcherTest, Utf8Values) {
  EXPECT_TRUE(Re("h.llo").Matches("h\xC3\xA9llo"));  // . is one code point, not one byte.
  EXPECT_FALSE(Re("h..llo").Matches("h\xC3\xA9llo"));
  EXPECT_TRUE(Re("\xC3\xA9+").Matches("\xC3\xA9\xC3\xA9"));
  EXPECT_TRUE(Re("\\p{Greek}+").Matches("\xCE\xB1\xCE\xB2"));
  EXPECT_TRUE(Re(".").Matches("\xF0\x9F\x98\x80"));  // One 4-byte code point.
  EXPECT_TRUE(Re("[\xC3\xA0-\xC3\xBF]").Matches("\xC3\xA9"));
  EXPECT_TRUE(Re("(?i)\xC3\x89t\xC3\xA9").Matches("\xC3\xA9T\xC3\x89"));
}

TEST(MatcherTest, InvalidUtf8ValuesReadAsReplacementCharacters) {
  // As in Go: each byte that is not valid UTF-8 is one U+FFFD.
  EXPECT_TRUE(Re(".").Matches("\xFF"));
  EXPECT_TRUE(Re("..").Matches("\xE2\x82"));  // A truncated sequence is one rune per byte.
  EXPECT_TRUE(
      Re("a.c").Matches("a\x80"
                        "c"));
  EXPECT_TRUE(Re(".*").Matches("\xFF\xFE"));
  EXPECT_TRUE(Re("\\x{FFFD}").Matches("\xFF"));
  EXPECT_TRUE(Re("\xEF\xBF\xBD").Matches("\xFF"));
  EXPECT_TRUE(Re("\xEF\xBF\xBD").Matches("\xEF\xBF\xBD"));
  EXPECT_TRUE(Re("a\xEF\xBF\xBD.*").Matches("a\xC0rest"));
}

TEST(MatcherTest, InvalidRegexIsAnError) {
  for (absl::string_view bad :
       {"(a", "a)", "a)|(b", "[a", "*a", "a**", "a\\", "x{1001}", "(?<n>a)", "\\8", "\\Z"}) {
    auto m = Matcher::Create(MatchType::kRegexMatch, "l", std::string(bad));
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(m.status().message(), HasSubstr("error parsing regexp: ")) << bad;
  }
  // Go's wording, quoting the anchored form Prometheus compiles.
  auto m = Matcher::Create(MatchType::kRegexNoMatch, "l", "(a");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "error parsing regexp: missing closing ): `^(?:(a)$`");
  m = Matcher::Create(MatchType::kRegexMatch, "l", "[a-");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "error parsing regexp: invalid character class range: `a-)`");
}

TEST(MatcherTest, AnyByteEscapeIsRejectedAsInGo) {
  auto m = Matcher::Create(MatchType::kRegexMatch, "l", "a\\Cb");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("\\C"));
  // Quoted or escaped, it is plain text.
  EXPECT_TRUE(Re("\\Qa\\Cb\\E").Matches("a\\Cb"));
  EXPECT_TRUE(Re("a\\\\C").Matches("a\\C"));
}

TEST(MatcherTest, InvalidUtf8PatternIsAnError) {
  EXPECT_FALSE(Matcher::Create(MatchType::kRegexMatch, "l", "a\xFF").ok());
  // Equality matchers take any bytes.
  EXPECT_TRUE(Make(MatchType::kEqual, "l", "a\xFF").Matches("a\xFF"));
}

TEST(MatcherTest, Accessors) {
  Matcher m = Make(MatchType::kRegexNoMatch, "job", "a.*");
  EXPECT_EQ(m.type(), MatchType::kRegexNoMatch);
  EXPECT_EQ(m.name(), "job");
  EXPECT_EQ(m.value(), "a.*");
}

TEST(MatcherTest, CopiesShareTheRegexAndBehaveAlike) {
  Matcher original = Re("ab+c");
  Matcher copy = original;
  Matcher assigned = Re("x");
  assigned = original;
  for (const Matcher* m : {&original, &copy, &assigned}) {
    EXPECT_TRUE(m->Matches("abbc"));
    EXPECT_FALSE(m->Matches("ac"));
  }
  EXPECT_EQ(copy, original);
  EXPECT_FALSE(copy == Re("ab+"));
}

TEST(MatcherTest, ToStringQuotesAsGo) {
  EXPECT_EQ(Make(MatchType::kEqual, "job", "api").ToString(), "job=\"api\"");
  EXPECT_EQ(Make(MatchType::kNotEqual, "job", "").ToString(), "job!=\"\"");
  EXPECT_EQ(Make(MatchType::kRegexMatch, "path", "/a\\.b|c").ToString(), "path=~\"/a\\\\.b|c\"");
  EXPECT_EQ(Make(MatchType::kRegexNoMatch, "x", ".+").ToString(), "x!~\".+\"");
  EXPECT_EQ(Make(MatchType::kEqual, "a", "q\"\\\n\t\r").ToString(), "a=\"q\\\"\\\\\\n\\t\\r\"");
  EXPECT_EQ(Make(MatchType::kEqual, "a", std::string("\0\x7f\x01", 3)).ToString(),
            "a=\"\\x00\\x7f\\x01\"");
  EXPECT_EQ(Make(MatchType::kEqual, "a", "\a\b\f\v").ToString(), "a=\"\\a\\b\\f\\v\"");
  EXPECT_EQ(Make(MatchType::kEqual, "a",
                 "\xFF"
                 "b")
                .ToString(),
            "a=\"\\xffb\"");
  EXPECT_EQ(Make(MatchType::kEqual, "a", "h\xC3\xA9 \xF0\x9F\x98\x80").ToString(),
            "a=\"h\xC3\xA9 \xF0\x9F\x98\x80\"");
  EXPECT_EQ(Make(MatchType::kEqual, "a", "\xC2\x85|\xC2\xA0|\xE2\x80\x8B|\xEF\xBB\xBF").ToString(),
            "a=\"\\u0085|\\u00a0|\\u200b|\\ufeff\"");
  EXPECT_EQ(Make(MatchType::kEqual, "a", "\xF3\xB0\x80\x80").ToString(), "a=\"\\U000f0000\"");
}

TEST(MatcherTest, MatchTypeToString) {
  EXPECT_EQ(MatchTypeToString(MatchType::kEqual), "=");
  EXPECT_EQ(MatchTypeToString(MatchType::kNotEqual), "!=");
  EXPECT_EQ(MatchTypeToString(MatchType::kRegexMatch), "=~");
  EXPECT_EQ(MatchTypeToString(MatchType::kRegexNoMatch), "!~");
}

TEST(MatchesAllTest, EveryMatcherMustMatchAndMissingLabelsAreEmpty) {
  const Labels ls({{"__name__", "http_requests_total"}, {"code", "500"}, {"job", "api"}});
  const std::vector<Matcher> ok = {
      Make(MatchType::kEqual, "__name__", "http_requests_total"),
      Make(MatchType::kRegexMatch, "code", "5.."),
      Make(MatchType::kNotEqual, "job", "web"),
      Make(MatchType::kEqual, "absent", ""),
      Make(MatchType::kRegexMatch, "absent", ".*"),
      Make(MatchType::kRegexNoMatch, "absent", ".+"),
  };
  EXPECT_TRUE(MatchesAll(ok, ls));
  EXPECT_TRUE(MatchesAll({}, ls));
  EXPECT_TRUE(MatchesAll({}, Labels()));

  std::vector<Matcher> one_fails = ok;
  one_fails.push_back(Make(MatchType::kNotEqual, "absent", ""));
  EXPECT_FALSE(MatchesAll(one_fails, ls));
  EXPECT_FALSE(MatchesAll({Make(MatchType::kRegexMatch, "job", "ap")}, ls));
  EXPECT_FALSE(MatchesAll({Make(MatchType::kRegexMatch, "absent", ".+")}, ls));
}

}  // namespace
}  // namespace sextant::prom
