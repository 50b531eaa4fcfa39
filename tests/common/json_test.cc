#include "common/json.h"

#include <cmath>
#include <limits>
#include <string>

#include "common/utf8.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sextant {
namespace {

using ::testing::HasSubstr;

TEST(JsonQuoteTest, EscapesSpecialCharacters) {
  EXPECT_EQ(JsonQuote(""), R"("")");
  EXPECT_EQ(JsonQuote("plain"), R"("plain")");
  EXPECT_EQ(JsonQuote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(JsonQuote("line\nnext\ttab\r"), R"("line\nnext\ttab\r")");
  EXPECT_EQ(JsonQuote(std::string("nul\0x", 5)), R"("nul\u0000x")");
  EXPECT_EQ(JsonQuote("\x01\x1f"), R"("\u0001\u001F")");
}

TEST(JsonQuoteTest, KeepsValidUtf8) {
  EXPECT_EQ(JsonQuote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(JsonQuoteTest, ReplacesInvalidUtf8) {
  const std::string fffd = "\xef\xbf\xbd";
  EXPECT_EQ(JsonQuote("a\xff"
                      "b"),
            "\"a" + fffd + "b\"");                              // stray byte
  EXPECT_EQ(JsonQuote("\xc3"), "\"" + fffd + "\"");             // truncated
  EXPECT_EQ(JsonQuote("\xe2\x82"), "\"" + fffd + fffd + "\"");  // truncated: per byte, as Go
  EXPECT_EQ(JsonQuote("\xc0\xaf"), "\"" + fffd + fffd + "\"");  // overlong '/'
  EXPECT_EQ(JsonQuote("\xed\xa0\x80"), "\"" + fffd + fffd + fffd + "\"");             // surrogate
  EXPECT_EQ(JsonQuote("\xf4\x90\x80\x80"), "\"" + fffd + fffd + fffd + fffd + "\"");  // > U+10FFFF
  EXPECT_EQ(JsonQuote("\x80\x80"), "\"" + fffd + fffd + "\"");
}

TEST(JsonQuoteTest, OutputIsValidJsonForEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string quoted = JsonQuote(all);
  EXPECT_TRUE(ValidateJson(quoted).ok()) << quoted;
  // Shuffled pieces too.
  for (int start = 0; start < 256; start += 7) {
    EXPECT_TRUE(ValidateJson(JsonQuote(all.substr(start, 13))).ok()) << start;
  }
}

TEST(SanitizeUtf8Test, LeavesValidTextAlone) {
  const std::string text = "h\xc3\xa9llo \xf0\x9f\x98\x80";
  EXPECT_EQ(SanitizeUtf8(text), text);
  EXPECT_EQ(SanitizeUtf8("x\xfe"), "x\xef\xbf\xbd");
}

TEST(JsonWriterTest, WritesNestedDocument) {
  JsonWriter w;
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("data");
  w.StartObject();
  w.Key("result");
  w.StartArray();
  w.Int(-3);
  w.Uint(18446744073709551615ull);
  w.Double(1.5);
  w.Double(0.1);
  w.Bool(true);
  w.Bool(false);
  w.Null();
  w.RawValue(R"({"pre":"built"})");
  w.EndArray();
  w.EndObject();
  w.EndObject();
  const std::string json = w.TakeString();
  EXPECT_EQ(json, R"({"status":"success","data":{"result":[-3,18446744073709551615,1.5,0.1,true,)"
                  R"(false,null,{"pre":"built"}]}})");
  EXPECT_TRUE(ValidateJson(json).ok());
}

TEST(JsonWriterTest, NonFiniteDoublesBecomeNull) {
  JsonWriter w;
  w.StartArray();
  w.Double(std::numeric_limits<double>::quiet_NaN());
  w.Double(std::numeric_limits<double>::infinity());
  w.Double(-std::numeric_limits<double>::infinity());
  w.EndArray();
  EXPECT_EQ(w.TakeString(), "[null,null,null]");
}

TEST(JsonWriterTest, SanitizesKeysAndStrings) {
  JsonWriter w;
  w.StartObject();
  w.Key("k\xff");
  w.String("v\"\xc3");
  w.EndObject();
  const std::string json = w.TakeString();
  EXPECT_EQ(json, "{\"k\xef\xbf\xbd\":\"v\\\"\xef\xbf\xbd\"}");
  EXPECT_TRUE(ValidateJson(json).ok());
}

TEST(JsonWriterTest, TakeStringResetsForNextDocument) {
  JsonWriter w;
  w.StartArray();
  w.Int(1);
  w.EndArray();
  EXPECT_EQ(w.TakeString(), "[1]");
  w.StartObject();
  w.EndObject();
  EXPECT_EQ(w.TakeString(), "{}");
  w.String("top");
  EXPECT_EQ(w.TakeString(), R"("top")");
}

TEST(ValidateJsonTest, AcceptsWellFormedValues) {
  for (const char* ok : {"{}", "[]", " {\"a\": [1, 2.5e3, -0, true, null, \"x\"]} ", "\"s\"", "0",
                         "[[[[[]]]]]", "\"\\u00e9\""}) {
    EXPECT_TRUE(ValidateJson(ok).ok()) << ok;
  }
}

TEST(ValidateJsonTest, RejectsMalformedWithOffset) {
  absl::Status s = ValidateJson(R"({"a": 1,})");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("offset 8"));
  for (const char* bad : {"", "{", "[1,]", "{} {}", "nul", "'a'", "{\"a\" 1}", "[1] x", "01"}) {
    EXPECT_FALSE(ValidateJson(bad).ok()) << bad;
  }
  EXPECT_FALSE(ValidateJson("\"\xff\"").ok());                // invalid UTF-8
  EXPECT_FALSE(ValidateJson(std::string("{}\0{}", 5)).ok());  // embedded NUL
  EXPECT_FALSE(ValidateJson(std::string("[\"a\0\"]", 6)).ok());
}

TEST(ValidateJsonTest, DeepNestingDoesNotOverflowTheStack) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_TRUE(ValidateJson(deep).ok());
  EXPECT_FALSE(ValidateJson(std::string(100000, '[')).ok());
}

}  // namespace
}  // namespace sextant
