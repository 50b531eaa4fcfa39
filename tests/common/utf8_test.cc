#include "common/utf8.h"

#include "gtest/gtest.h"

namespace sextant {
namespace {

const std::string kFffd = "\xef\xbf\xbd";

TEST(Utf8Test, DecodesValidSequencesOfEveryWidth) {
  uint32_t r = 0;
  EXPECT_EQ(DecodeUtf8Rune("a", 0, &r), 1);
  EXPECT_EQ(r, 'a');
  EXPECT_EQ(DecodeUtf8Rune("\xc3\xa9", 0, &r), 2);
  EXPECT_EQ(r, 0xe9u);
  EXPECT_EQ(DecodeUtf8Rune("\xe2\x82\xac", 0, &r), 3);
  EXPECT_EQ(r, 0x20acu);
  EXPECT_EQ(DecodeUtf8Rune("\xf0\x9f\x98\x80", 0, &r), 4);
  EXPECT_EQ(r, 0x1f600u);
  EXPECT_EQ(DecodeUtf8Rune("x\xf4\x8f\xbf\xbf", 1, &r), 4);  // U+10FFFF, the last code point
  EXPECT_EQ(r, 0x10ffffu);
}

TEST(Utf8Test, RejectsWhatGoRejects) {
  uint32_t r;
  for (const char* bad : {"\x80", "\xc3", "\xe2\x82", "\xc0\xaf", "\xed\xa0\x80",
                          "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xff"}) {
    EXPECT_EQ(DecodeUtf8Rune(bad, 0, &r), 0) << bad;
    EXPECT_FALSE(IsValidUtf8(bad)) << bad;
  }
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("ok then \xc3"));
}

TEST(Utf8Test, SanitizeReplacesEachInvalidByte) {
  EXPECT_EQ(SanitizeUtf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(SanitizeUtf8("a\xff"
                         "b"),
            "a" + kFffd + "b");
  EXPECT_EQ(SanitizeUtf8("\xe2\x82"), kFffd + kFffd);
  EXPECT_EQ(SanitizeUtf8("\xed\xa0\x80"), kFffd + kFffd + kFffd);
  EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\x80\xc3\xe2\x82\xf0")));
}

}  // namespace
}  // namespace sextant
