// Expected values are Go's (strconv, fmt) as Prometheus 2.42 shows them: the 'f' and 'e' forms
// as its HTTP API printed scalars and vector values, the parser cases as it accepted or
// rejected them as the `time` parameter of /api/v1/query.
#include "aggregator/promql/go_float.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace sextant::promql {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(GoFormatFloatTest, PlainUsesShortestDigitsPaddedWithZeros) {
  EXPECT_EQ(GoFormatFloat(std::ldexp(1, 63), 'f'), "9223372036854776000");
  EXPECT_EQ(GoFormatFloat(1e20 + 12345, 'f'), "100000000000000020000");
  EXPECT_EQ(GoFormatFloat(123456789012345678.0, 'f'), "123456789012345680");
  EXPECT_EQ(GoFormatFloat(-std::ldexp(1, 70), 'f'), "-1180591620717411300000");
  EXPECT_EQ(GoFormatFloat(1e21, 'f'), "1000000000000000000000");
  EXPECT_EQ(GoFormatFloat(1e300, 'f'), "1" + std::string(300, '0'));
}

TEST(GoFormatFloatTest, PlainFractions) {
  EXPECT_EQ(GoFormatFloat(1e-7, 'f'), "0.0000001");
  EXPECT_EQ(GoFormatFloat(-1e-7, 'f'), "-0.0000001");
  EXPECT_EQ(GoFormatFloat(0.1 + 0.2, 'f'), "0.30000000000000004");
  EXPECT_EQ(GoFormatFloat(-0.000001, 'f'), "-0.000001");
  EXPECT_EQ(GoFormatFloat(1.5, 'f'), "1.5");
  EXPECT_EQ(GoFormatFloat(1435781451.781, 'f'), "1435781451.781");
  EXPECT_EQ(GoFormatFloat(5e-324, 'f'), "0." + std::string(323, '0') + "5");
}

TEST(GoFormatFloatTest, ZeroesAndSpecials) {
  EXPECT_EQ(GoFormatFloat(0, 'f'), "0");
  EXPECT_EQ(GoFormatFloat(-0.0, 'f'), "-0");
  EXPECT_EQ(GoFormatFloat(2, 'f'), "2");
  for (char format : {'f', 'e', 'g'}) {
    EXPECT_EQ(GoFormatFloat(kInf, format), "+Inf");
    EXPECT_EQ(GoFormatFloat(-kInf, format), "-Inf");
    EXPECT_EQ(GoFormatFloat(kNaN, format), "NaN");
  }
}

TEST(GoFormatFloatTest, ExponentForm) {
  EXPECT_EQ(GoFormatFloat(1e-7, 'e'), "1e-07");
  EXPECT_EQ(GoFormatFloat(1e300, 'e'), "1e+300");
  EXPECT_EQ(GoFormatFloat(1e21, 'e'), "1e+21");
  EXPECT_EQ(GoFormatFloat(-std::ldexp(1, 70), 'e'), "-1.1805916207174113e+21");
  EXPECT_EQ(GoFormatFloat(5e-324, 'e'), "5e-324");
  EXPECT_EQ(GoFormatFloat(0, 'e'), "0e+00");
}

TEST(GoFormatFloatTest, GeneralSwitchesToExponentBelow1eMinus4AndFrom1e6) {
  EXPECT_EQ(GoFormatFloat(100000, 'g'), "100000");
  EXPECT_EQ(GoFormatFloat(123456, 'g'), "123456");
  EXPECT_EQ(GoFormatFloat(1e6, 'g'), "1e+06");
  EXPECT_EQ(GoFormatFloat(1234567, 'g'), "1.234567e+06");
  EXPECT_EQ(GoFormatFloat(0.0001, 'g'), "0.0001");
  EXPECT_EQ(GoFormatFloat(0.00001, 'g'), "1e-05");
  EXPECT_EQ(GoFormatFloat(-1.5, 'g'), "-1.5");
  EXPECT_EQ(GoFormatFloat(0, 'g'), "0");
  EXPECT_EQ(GoFormatFloat(-0.0, 'g'), "-0");
  EXPECT_EQ(GoFormatFloat(std::ldexp(1, 63), 'g'), "9.223372036854776e+18");
}

TEST(GoFormatFloatTest, AppendsToExistingText) {
  std::string out = "x=";
  AppendGoFloat(&out, 2.5, 'f');
  EXPECT_EQ(out, "x=2.5");
}

TEST(GoFormatPercentFTest, SixDecimalsOfTheExactValue) {
  EXPECT_EQ(GoFormatPercentF(0.1), "0.100000");
  EXPECT_EQ(GoFormatPercentF(std::ldexp(1, 63)), "9223372036854775808.000000");
  EXPECT_EQ(GoFormatPercentF(-0.0), "-0.000000");
  EXPECT_EQ(GoFormatPercentF(1e-7), "0.000000");
  EXPECT_EQ(GoFormatPercentF(kInf), "+Inf");
  EXPECT_EQ(GoFormatPercentF(-kInf), "-Inf");
  EXPECT_EQ(GoFormatPercentF(kNaN), "NaN");
}

TEST(ParseGoFloatTest, AcceptsDecimalForms) {
  EXPECT_EQ(ParseGoFloat("1.5"), 1.5);
  EXPECT_EQ(ParseGoFloat("1E3"), 1000);
  EXPECT_EQ(ParseGoFloat("+.5"), 0.5);
  EXPECT_EQ(ParseGoFloat("1."), 1);
  EXPECT_EQ(ParseGoFloat("-2.5e-1"), -0.25);
  EXPECT_EQ(ParseGoFloat("1.7976931348623157e308"), std::numeric_limits<double>::max());
}

TEST(ParseGoFloatTest, AcceptsHexadecimalFormsWithExponent) {
  EXPECT_EQ(ParseGoFloat("0x1p-2"), 0.25);
  EXPECT_EQ(ParseGoFloat("0X1P-2"), 0.25);
  EXPECT_EQ(ParseGoFloat("0x1.8p1"), 3);
  EXPECT_EQ(ParseGoFloat("0x.8p1"), 1);
  EXPECT_EQ(ParseGoFloat("0x1.p1"), 2);
  EXPECT_EQ(ParseGoFloat("0x1e1p0"), 481);
  EXPECT_EQ(ParseGoFloat("-0x1p3"), -8);
}

TEST(ParseGoFloatTest, AcceptsUnderscoresBetweenDigits) {
  EXPECT_EQ(ParseGoFloat("1_0"), 10);
  EXPECT_EQ(ParseGoFloat("0_1"), 1);
  EXPECT_EQ(ParseGoFloat("1_000.5"), 1000.5);
  EXPECT_EQ(ParseGoFloat("1e1_0"), 1e10);
  EXPECT_EQ(ParseGoFloat("0x_1p3"), 8);
  EXPECT_EQ(ParseGoFloat("0x1P+1_0"), 1024);
  EXPECT_EQ(ParseGoFloat("1_2.3_4e5_6"), 12.34e56);
}

TEST(ParseGoFloatTest, AcceptsInfinityAndNaNInAnyCase) {
  EXPECT_EQ(ParseGoFloat("infinity"), kInf);
  EXPECT_EQ(ParseGoFloat("INFINITY"), kInf);
  EXPECT_EQ(ParseGoFloat("+Inf"), kInf);
  EXPECT_EQ(ParseGoFloat("-Infinity"), -kInf);
  ASSERT_TRUE(ParseGoFloat("nan").has_value());
  EXPECT_TRUE(std::isnan(*ParseGoFloat("nan")));
  EXPECT_TRUE(std::isnan(*ParseGoFloat("NaN")));
}

TEST(ParseGoFloatTest, UnderflowReadsAsZeroOrSubnormal) {
  EXPECT_EQ(ParseGoFloat("1e-400"), 0);
  EXPECT_EQ(ParseGoFloat("0x1p-1080"), 0);
  EXPECT_EQ(ParseGoFloat("0e99999"), 0);
  EXPECT_EQ(ParseGoFloat("1e-310"), 1e-310);
}

TEST(ParseGoFloatTest, RejectsOverflow) {
  EXPECT_EQ(ParseGoFloat("1e400"), std::nullopt);
  EXPECT_EQ(ParseGoFloat("1e99999"), std::nullopt);
  EXPECT_EQ(ParseGoFloat("0x1p1024"), std::nullopt);
  EXPECT_EQ(ParseGoFloat("1.7976931348623159e308"), std::nullopt);
}

TEST(ParseGoFloatTest, RejectsWhatGoRejects) {
  for (const char* s : {"",      ".",    "1e",     "1e+",   " 1",    "1 ",   "0x",   "0x1",
                        "1.5.5", "Inff", "infin",  "-nan",  "+nan",  "0b1",  "1__0", "_1",
                        "1_",    "1_.5", "0x1_p2", "0x_p1", "1e+_1", "1e_1", "+",    "e5"}) {
    EXPECT_EQ(ParseGoFloat(s), std::nullopt) << '"' << s << '"';
  }
}

TEST(GoFloatToInt64Test, TruncatesAndGivesTheMinimumOutOfRange) {
  EXPECT_EQ(GoFloatToInt64(1.9), 1);
  EXPECT_EQ(GoFloatToInt64(-1.9), -1);
  EXPECT_EQ(GoFloatToInt64(9223372036854774784.0), INT64_C(9223372036854774784));
  EXPECT_EQ(GoFloatToInt64(-9223372036854775808.0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(GoFloatToInt64(9223372036854775808.0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(GoFloatToInt64(1e300), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(GoFloatToInt64(-kInf), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(GoFloatToInt64(kNaN), std::numeric_limits<int64_t>::min());
}

}  // namespace
}  // namespace sextant::promql
