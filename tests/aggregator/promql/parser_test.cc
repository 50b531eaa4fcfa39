// Tests for the PromQL parser. The tables hold Prometheus 2.42's own answers (its format_query
// endpoint, Debian's 2.42.0): String() of each valid query, and the exact error of each invalid
// one.
#include "aggregator/promql/parser.h"

#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "aggregator/promql/ast.h"
#include "gtest/gtest.h"

namespace sextant::promql {
namespace {

struct Case {
  const char* query;
  const char* want;  // String() for a valid query, the error message for an invalid one
};

// Valid queries and their String(), from Prometheus 2.42.
const Case kValid[] = {
    {"1", "1"},
    {"+Inf", "+Inf"},
    {"-Inf", "-Inf"},
    {".5", "0.5"},
    {"5.", "5"},
    {"123.4567", "123.4567"},
    {"5e-3", "0.005"},
    {"5e3", "5000"},
    {"0xc", "12"},
    {"0755", "493"},
    {"+5.5e-3", "0.0055"},
    {"-0755", "-493"},
    {"1 + 1", "1 + 1"},
    {"1 == bool 1", "1 == bool 1"},
    {"-1^2", "-1 ^ 2"},
    {"-1*2", "-1 * 2"},
    {"-1+2", "-1 + 2"},
    {"-1^-2", "-1 ^ -2"},
    {"+1 + -2 * 1", "1 + -2 * 1"},
    {"1 + 2/(3*1)", "1 + 2 / (3 * 1)"},
    {"1 < bool 2 - 1 * 2", "1 < bool 2 - 1 * 2"},
    {"-some_metric", "-some_metric"},
    {"+some_metric", "+some_metric"},
    {" +some_metric", "+some_metric"},
    {"foo * bar", "foo * bar"},
    {"foo * sum", "foo * sum"},
    {"foo == 1", "foo == 1"},
    {"foo == bool 1", "foo == bool 1"},
    {"2.5 / bar", "2.5 / bar"},
    {"foo and bar", "foo and bar"},
    {"foo or bar", "foo or bar"},
    {"foo unless bar", "foo unless bar"},
    {"foo + bar or bla and blub", "foo + bar or bla and blub"},
    {"foo and bar unless baz or qux", "foo and bar unless baz or qux"},
    {"bar + on(foo) bla / on(baz, buz) group_right(test) blub",
     "bar + on (foo) bla / on (baz, buz) group_right (test) blub"},
    {"foo * on(test,blub) bar", "foo * on (test, blub) bar"},
    {"foo * on(test,blub) group_left bar", "foo * on (test, blub) group_left () bar"},
    {"foo and on(test,blub) bar", "foo and on (test, blub) bar"},
    {"foo and on() bar", "foo and on () bar"},
    {"foo and ignoring(test,blub) bar", "foo and ignoring (test, blub) bar"},
    {"foo and ignoring() bar", "foo and bar"},
    {"foo unless on(bar) baz", "foo unless on (bar) baz"},
    {"foo / on(test,blub) group_left(bar) bar", "foo / on (test, blub) group_left (bar) bar"},
    {"foo / ignoring(test,blub) group_left(blub) bar",
     "foo / ignoring (test, blub) group_left (blub) bar"},
    {"foo / ignoring(test,blub) group_left(bar) bar",
     "foo / ignoring (test, blub) group_left (bar) bar"},
    {"foo - on(test,blub) group_right(bar,foo) bar",
     "foo - on (test, blub) group_right (bar, foo) bar"},
    {"foo - ignoring(test,blub) group_right(bar,foo) bar",
     "foo - ignoring (test, blub) group_right (bar, foo) bar"},
    {"foo", "foo"},
    {"min", "min"},
    {"foo offset 5m", "foo offset 5m"},
    {"foo offset -7m", "foo offset -7m"},
    {"foo OFFSET 1h30m", "foo offset 1h30m"},
    {"foo OFFSET 1m30ms", "foo offset 1m30ms"},
    {"foo @ 1603774568", "foo @ 1603774568.000"},
    {"foo @ -100", "foo @ -100.000"},
    {"foo @ .3", "foo @ 0.300"},
    {"foo @ 3.", "foo @ 3.000"},
    {"foo @ 3.33", "foo @ 3.330"},
    {"foo @ 3.3333", "foo @ 3.333"},
    {"foo @ 3.3335", "foo @ 3.334"},
    {"foo @ 3e2", "foo @ 300.000"},
    {"foo @ 3e-1", "foo @ 0.300"},
    {"foo @ 0xA", "foo @ 10.000"},
    {"foo @ -3.3e1", "foo @ -33.000"},
    {"foo:bar{a=\"bc\"}", "foo:bar{a=\"bc\"}"},
    {"foo{NaN='bc'}", "foo{NaN=\"bc\"}"},
    {"foo{bar='}'}", "foo{bar=\"}\"}"},
    {"foo{a=\"b\", foo!=\"bar\", test=~\"test\", bar!~\"baz\"}",
     "foo{a=\"b\",bar!~\"baz\",foo!=\"bar\",test=~\"test\"}"},
    {"foo{a=\"b\", foo!=\"bar\", test=~\"test\", bar!~\"baz\",}",
     "foo{a=\"b\",bar!~\"baz\",foo!=\"bar\",test=~\"test\"}"},
    {"{__name__=~\"foo.+\",__name__=~\".*bar\"}", "{__name__=~\".*bar\",__name__=~\"foo.+\"}"},
    {"foo{a=\"b\",}", "foo{a=\"b\"}"},
    {"some_metric{a=\"\\xff\"}", "some_metric{a=\"\\xff\"}"},
    {"foo{a=\"\\xff\"}", "foo{a=\"\\xff\"}"},
    {"{__name__=\"foo\"} == 1", "{__name__=\"foo\"} == 1"},
    {"{__name__=\"foo\", __name__!=\"bar\"}", "{__name__!=\"bar\",__name__=\"foo\"}"},
    {"{a=~\"x|y\"}", "{a=~\"x|y\"}"},
    {"foo{a!=\"\"}", "foo{a!=\"\"}"},
    {"foo[5s]", "foo[5s]"},
    {"foo[5m]", "foo[5m]"},
    {"foo[5h]", "foo[5h]"},
    {"foo[5d]", "foo[5d]"},
    {"foo[5w]", "foo[5w]"},
    {"foo[5y]", "foo[5y]"},
    {"foo[5m30s]", "foo[5m30s]"},
    {"foo[5m] OFFSET 1h30m", "foo[5m] offset 1h30m"},
    {"foo[5m] OFFSET -1h30m", "foo[5m] offset -1h30m"},
    {"foo[3ms] @ 2.345", "foo[3ms] @ 2.345"},
    {"foo[5m] @ 2.345 offset 4m", "foo[5m] @ 2.345 offset 4m"},
    {"foo offset 4m @ 2.345", "foo @ 2.345 offset 4m"},
    {"foo[5m] offset 4m @ 2.345", "foo[5m] @ 2.345 offset 4m"},
    {"foo[5y] @ start()", "foo[5y] @ start()"},
    {"foo[5y] @ end()", "foo[5y] @ end()"},
    {"foo @ start() offset 4m", "foo @ start() offset 4m"},
    {"sum by (foo)(some_metric)", "sum by (foo) (some_metric)"},
    {"avg by (foo)(some_metric)", "avg by (foo) (some_metric)"},
    {"max by (foo)(some_metric)", "max by (foo) (some_metric)"},
    {"sum without (foo) (some_metric)", "sum without (foo) (some_metric)"},
    {"sum (some_metric) without (foo)", "sum without (foo) (some_metric)"},
    {"stddev(some_metric)", "stddev(some_metric)"},
    {"stdvar by (foo)(some_metric)", "stdvar by (foo) (some_metric)"},
    {"sum by ()(some_metric)", "sum(some_metric)"},
    {"sum by (foo,bar,)(some_metric)", "sum by (foo, bar) (some_metric)"},
    {"sum by (foo,)(some_metric)", "sum by (foo) (some_metric)"},
    {"topk(5, some_metric)", "topk(5, some_metric)"},
    {"count_values(\"value\", some_metric)", "count_values(\"value\", some_metric)"},
    {"sum without(and, by, avg, count, alert, annotations)(some_metric)",
     "sum without (and, by, avg, count, alert, annotations) (some_metric)"},
    {"time()", "time()"},
    {"floor(some_metric{foo!=\"bar\"})", "floor(some_metric{foo!=\"bar\"})"},
    {"rate(some_metric[5m])", "rate(some_metric[5m])"},
    {"round(some_metric)", "round(some_metric)"},
    {"round(some_metric, 5)", "round(some_metric, 5)"},
    {"label_replace(a, `b`, `c\\xff`, `d`, `.*`)",
     "label_replace(a, \"b\", \"c\\\\xff\", \"d\", \".*\")"},
    {"\"double-quoted string \\\" with escaped quote\"",
     "\"double-quoted string \\\" with escaped quote\""},
    {"'single-quoted string \\' with escaped quote'",
     "\"single-quoted string ' with escaped quote\""},
    {"`backtick-quoted string`", "\"backtick-quoted string\""},
    {"`\\a\\b\\f\n\\r\\t\\v\\\\\"\\' - \\xFF\\377\\u1234\\U00010111\\U0001011111\342\230\272`",
     "\"\\\\a\\\\b\\\\f\\n\\\\r\\\\t\\\\v\\\\\\\\\\\"\\\\' - "
     "\\\\xFF\\\\377\\\\u1234\\\\U00010111\\\\U0001011111\342\230\272\""},
    {"foo{bar=\"baz\"}[10m:6s]", "foo{bar=\"baz\"}[10m:6s]"},
    {"foo{bar=\"baz\"}[10m5s:1h6ms]", "foo{bar=\"baz\"}[10m5s:1h6ms]"},
    {"foo[10m:]", "foo[10m:]"},
    {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:5s])",
     "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:5s])"},
    {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:])[4m:3s]",
     "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:])[4m:3s]"},
    {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] offset 4m)[4m:3s]",
     "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] offset 4m)[4m:3s]"},
    {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ 1603775091)[4m:3s]",
     "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ 1603775091.000)[4m:3s]"},
    {"min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ -160377509)[4m:3s]",
     "min_over_time(rate(foo{bar=\"baz\"}[2s])[5m:] @ -160377509.000)[4m:3s]"},
    {"sum without(and, by, avg, count, alert, annotations)(some_metric) [30m:10s]",
     "sum without (and, by, avg, count, alert, annotations) (some_metric)[30m:10s]"},
    {"some_metric OFFSET 1m [10m:5s]", "some_metric offset 1m[10m:5s]"},
    {"some_metric @ 123 [10m:5s]", "some_metric @ 123.000[10m:5s]"},
    {"some_metric @ 123 offset 1m [10m:5s]", "some_metric @ 123.000 offset 1m[10m:5s]"},
    {"some_metric offset 1m @ 123 [10m:5s]", "some_metric @ 123.000 offset 1m[10m:5s]"},
    {"(foo + bar{nm=\"val\"})[5m:]", "(foo + bar{nm=\"val\"})[5m:]"},
    {"(foo + bar{nm=\"val\"})[5m:] offset 10m", "(foo + bar{nm=\"val\"})[5m:] offset 10m"},
    {"(foo + bar{nm=\"val\"} @ 1234)[5m:] @ 1603775019",
     "(foo + bar{nm=\"val\"} @ 1234.000)[5m:] @ 1603775019.000"},
    {"foo @ start() [1m]", "foo[1m] @ start()"},
    {"foo @ start()", "foo @ start()"},
    {"foo @ end()", "foo @ end()"},
    {"start", "start"},
    {"end", "end"},
    {"foo @ start() offset 1m", "foo @ start() offset 1m"},
    {"foo @ +1", "foo @ 1.000"},
    {"foo @ - 1", "foo @ -1.000"},
    {"foo @ 1.5", "foo @ 1.500"},
    {"foo @ 1e-5", "foo @ 0.000"},
    {"foo @ 0.0005", "foo @ 0.001"},
    {"foo @ 0.0015", "foo @ 0.002"},
    {"foo # c\n+ 1", "foo + 1"},
    {"foo{a=\"b\"} # c", "foo{a=\"b\"}"},
    {"foo{ # c\n a=\"b\"}", "foo{a=\"b\"}"},
    {"offset", "offset"},
    {"by", "by"},
    {"and", "and"},
    {"or", "or"},
    {"unless", "unless"},
    {"without", "without"},
    {"sum", "sum"},
    {"count_values", "count_values"},
    {"and and and", "and and and"},
    {"by + by", "by + by"},
    {"offset offset 5m", "offset offset 5m"},
    {"sum(and)", "sum(and)"},
    {"sum by (on, bool, group_left, group_right, ignoring, offset, start, end, atan2, sum, topk) "
     "(x)",
     "sum by (on, bool, group_left, group_right, ignoring, offset, start, end, atan2, sum, topk) "
     "(x)"},
    {"a + on(sum, by, and) b", "a + on (sum, by, and) b"},
    {"a + on(x) group_left c", "a + on (x) group_left () c"},
    {"a + ignoring(x) group_right(y, z,) b", "a + ignoring (x) group_right (y, z) b"},
    {"a + ignoring(x) group_right() b", "a + ignoring (x) group_right () b"},
    {"a + on(x,) group_left(y) b", "a + on (x) group_left (y) b"},
    {"a > bool on(x) b", "a > bool on (x) b"},
    {"a atan2 b", "a atan2 b"},
    {"a ^ b ^ c", "a ^ b ^ c"},
    {"a ^ -b ^ c", "a ^ -b ^ c"},
    {"a ^ -b * c", "a ^ -b * c"},
    {"-a * b", "-a * b"},
    {"-a ^ b", "-a ^ b"},
    {"- -a", "--a"},
    {"+-a", "+-a"},
    {"-+1", "-1"},
    {"-(1)", "-(1)"},
    {"--1", "1"},
    {"-foo offset 5m", "-foo offset 5m"},
    {"-foo @ 5", "-foo @ 5.000"},
    {"(1)", "(1)"},
    {"((foo))", "((foo))"},
    {"topk(3, x) by (a)", "topk by (a) (3, x)"},
    {"topk by (a) (3, x)", "topk by (a) (3, x)"},
    {"quantile(0.5, x)", "quantile(0.5, x)"},
    {"SUM(x)", "sum(x)"},
    {"Sum By (a) (x)", "sum by (a) (x)"},
    {"INF", "+Inf"},
    {"-nan", "NaN"},
    {"NaN + 1", "NaN + 1"},
    {"Inf * foo", "+Inf * foo"},
    {"label_join(a, \"b\", \"c\")", "label_join(a, \"b\", \"c\")"},
    {"label_join(a, \"b\", \"c\", \"d\")", "label_join(a, \"b\", \"c\", \"d\")"},
    {"label_join(a, \"b\", \"c\", \"d\", \"e\", \"f\")",
     "label_join(a, \"b\", \"c\", \"d\", \"e\", \"f\")"},
    {"label_replace(a, \"b\", \"c\", \"d\", \"e\")",
     "label_replace(a, \"b\", \"c\", \"d\", \"e\")"},
    {"hour()", "hour()"},
    {"hour(a)", "hour(a)"},
    {"vector(1)", "vector(1)"},
    {"scalar(a)", "scalar(a)"},
    {"pi()", "pi()"},
    {"time() + 1", "time() + 1"},
    {"time() == bool 1", "time() == bool 1"},
    {"absent(nonexistent{job=\"myjob\"})", "absent(nonexistent{job=\"myjob\"})"},
    {"absent_over_time(x[5m])", "absent_over_time(x[5m])"},
    {"holt_winters(x[5m], 0.5, 0.5)", "holt_winters(x[5m], 0.5, 0.5)"},
    {"histogram_quantile(0.9, rate(x[5m]))", "histogram_quantile(0.9, rate(x[5m]))"},
    {"histogram_fraction(0, 1, x)", "histogram_fraction(0, 1, x)"},
    {"histogram_count(x)", "histogram_count(x)"},
    {"histogram_sum(x)", "histogram_sum(x)"},
    {"quantile_over_time(0.5, x[5m])", "quantile_over_time(0.5, x[5m])"},
    {"predict_linear(x[5m], 3600)", "predict_linear(x[5m], 3600)"},
    {"clamp(x, 0, 1)", "clamp(x, 0, 1)"},
    {"sort(x)", "sort(x)"},
    {"sort_desc(x)", "sort_desc(x)"},
    {"sgn(x)", "sgn(x)"},
    {"present_over_time(x[5m])", "present_over_time(x[5m])"},
    {"last_over_time(x[5m])", "last_over_time(x[5m])"},
    {"timestamp(x)", "timestamp(x)"},
    {"changes(x[5m])", "changes(x[5m])"},
    {"resets(x[5m])", "resets(x[5m])"},
    {"deriv(x[5m])", "deriv(x[5m])"},
    {"idelta(x[5m])", "idelta(x[5m])"},
    {"irate(x[5m])", "irate(x[5m])"},
    {"increase(x[5m])", "increase(x[5m])"},
    {"delta(x[5m])", "delta(x[5m])"},
    {"rate(x[5m:1m])", "rate(x[5m:1m])"},
    {"rate(sum(x)[5m:])", "rate(sum(x)[5m:])"},
    {"rate(x[5m] offset 1m)", "rate(x[5m] offset 1m)"},
    {"sum(x)[5m:]", "sum(x)[5m:]"},
    {"sum(x)[5m:] offset 1m", "sum(x)[5m:] offset 1m"},
    {"sum(x)[5m:] @ 1", "sum(x)[5m:] @ 1.000"},
    {"sum(x)[5m:] @ start()", "sum(x)[5m:] @ start()"},
    {"(x)[5m:]", "(x)[5m:]"},
    {"x{}[5m]", "x[5m]"},
    {"{a=~\".+\"}", "{a=~\".+\"}"},
    {"{a!~\".*\"}", "{a!~\".*\"}"},
    {"{a!=\"\"}", "{a!=\"\"}"},
    {"foo{a=~\"a{2,3}\"}", "foo{a=~\"a{2,3}\"}"},
    {"foo{a=~'.*'}", "foo{a=~\".*\"}"},
    {"foo{a=~`.*`}", "foo{a=~\".*\"}"},
    {"foo{a=\"\\u00e9\"}", "foo{a=\"\303\251\"}"},
    {"foo{a=\"\303\251\"}", "foo{a=\"\303\251\"}"},
    {"foo{a=\"\\x80\"}", "foo{a=\"\\x80\"}"},
    {"foo{a=\"\\377\"}", "foo{a=\"\\xff\"}"},
    {"'a\\'b'", "\"a'b\""},
    {"\"a'b\"", "\"a'b\""},
    {"'a\"b'", "\"a\\\"b\""},
    {"`a\"b`", "\"a\\\"b\""},
    {"\"\303\251\"", "\"\303\251\""},
    {"\"\\t\"", "\"\\t\""},
    {"\"\342\230\272\"", "\"\342\230\272\""},
    {"\"\\x00\"", "\"\\x00\""},
    {"\"\\x1f\"", "\"\\x1f\""},
    {"\"\\x7f\"", "\"\\x7f\""},
    {"\"\\u0085\"", "\"\\u0085\""},
    {"\"\\u200b\"", "\"\\u200b\""},
    {"\"\\ufeff\"", "\"\\ufeff\""},
    {"foo offset 1y2w3d4h5m6s7ms", "foo offset 382d4h5m6s7ms"},
    {"foo offset 292y", "foo offset 292y"},
    {"foo[106751d]", "foo[106751d]"},
    {"foo[1y2w3d4h5m6s7ms]", "foo[382d4h5m6s7ms]"},
    {"foo[90s]", "foo[1m30s]"},
    {"foo[3600s]", "foo[1h]"},
    {"foo[86400000ms]", "foo[1d]"},
    {"foo[604800s]", "foo[1w]"},
    {"foo[31536000s]", "foo[1y]"},
    {"foo[31622400s]", "foo[366d]"},
    {"foo[5m x]", "foo[5m:]"},
    {"foo[ 5m ]", "foo[5m]"},
    {"foo[5m ]", "foo[5m]"},
    {"foo[ 5m:1m ]", "foo[5m:1m]"},
    {"foo[\n5m]", "foo[5m]"},
    {"foo != 1", "foo != 1"},
    {"a_very_long_metric_name_for_testing_purposes_number_one{job=\"a\",instance=\"b\",label_three="
     "\"cccccccccccccccccccccccccccc\"}",
     "a_very_long_metric_name_for_testing_purposes_number_one{instance=\"b\",job=\"a\",label_three="
     "\"cccccccccccccccccccccccccccc\"}"},
    {"1e20", "1e+20"},
    {"1e21", "1e+21"},
    {"123456789012345678901", "1.2345678901234568e+20"},
    {"0.0001", "0.0001"},
    {"0.00001", "1e-05"},
    {"0.000123456", "0.000123456"},
    {"123456789.123", "1.23456789123e+08"},
    {"1.7976931348623157e308", "1.7976931348623157e+308"},
    {"5e-324", "5e-324"},
    {"1e-400", "0"},
    {"9007199254740993", "9.007199254740992e+15"},
    {"-0", "-0"},
    {"-0.0", "-0"},
    {"0.1", "0.1"},
    {"100", "100"},
    {"1.5e-7", "1.5e-07"},
    {"12345e-10", "1.2345e-06"},
    {"0x7fffffffffffffff", "9.223372036854776e+18"},
    {"9223372036854775807", "9.223372036854776e+18"},
    {"9223372036854775808", "9.223372036854776e+18"},
    {"00", "0"},
    {"007", "7"},
    {"08.5", "8.5"},
    {"0.5e1", "5"},
    {"1E5", "100000"},
    {"1e+5", "100000"},
    {"1e-5", "1e-05"},
    {"1.e2", "100"},
    {"0x1e5", "485"},
    {"0X1F", "31"},
    {"x offset 1y", "x offset 1y"},
    {"x offset 52w", "x offset 52w"},
    {"x offset 53w", "x offset 53w"},
    {"x offset 365d", "x offset 1y"},
    {"x offset 366d", "x offset 366d"},
    {"x offset 7d", "x offset 1w"},
    {"x offset 14d", "x offset 2w"},
    {"x offset 8d", "x offset 8d"},
    {"x offset 25h", "x offset 1d1h"},
    {"x offset 61m", "x offset 1h1m"},
    {"x offset 61s", "x offset 1m1s"},
    {"x offset 1001ms", "x offset 1s1ms"},
    {"x offset 3600000ms", "x offset 1h"},
    {"x[1y1d]", "x[366d]"},
    {"x[1w1d]", "x[8d]"},
    {"x[1w]", "x[1w]"},
    {"x[2w]", "x[2w]"},
    {"x[1d1ms]", "x[1d1ms]"},
    {"foo @ 0", "foo @ 0.000"},
    {"foo @ -0", "foo @ 0.000"},
    {"foo @ 0.0004", "foo @ 0.000"},
    {"foo @ 0.0006", "foo @ 0.001"},
    {"foo @ 1e15", "foo @ 1000000000000000.000"},
    {"foo @ 1e16", "foo @ -9223372036854776.000"},
    {"foo @ 9.2e15", "foo @ 9200000000000000.000"},
    {"foo @ 9.3e15", "foo @ -9223372036854776.000"},
    {"foo @ 1e18", "foo @ -9223372036854776.000"},
    {"foo @ 9.22e18", "foo @ -9223372036854776.000"},
    {"foo @ -9.22e18", "foo @ -9223372036854776.000"},
    {"foo @ 0x10", "foo @ 16.000"},
    {"foo @ 010", "foo @ 8.000"},
    {"a + on(x) group_left by", "a + on (x) group_left () by"},
    {"1e3", "1000"},
    {"SUM", "SUM"},
    {"({on=\"\\xff\", job=~\"a\", by=\"\",})[90s:90s]",
     "({by=\"\",job=~\"a\",on=\"\\xff\"})[1m30s:1m30s]"},
    {"absent(hour())", "absent(hour())"},
    {"start{job=\"a\", a=~\".+\"}[1h]", "start{a=~\".+\",job=\"a\"}[1h]"},
    {"'b'", "\"b\""},
    {"-scalar((bar)) != bool {x1=\"\\u00e9\\t\", le!=\"(\"} offset -90s",
     "-scalar((bar)) != bool {le!=\"(\",x1=\"\303\251\\t\"} offset -1m30s"},
    {"`c`", "\"c\""},
    {"{by!~\".*\", job=~\"\303\251\", job!~\"\\n\",}[1h30m:1h] offset -1y2w",
     "{by!~\".*\",job!~\"\\n\",job=~\"\303\251\"}[1h30m:1h] offset -379d"},
    {"\"\\u00e9\\t\"", "\"\303\251\\t\""},
    {"NaN", "NaN"},
    {"0", "0"},
    {"-.5", "-0.5"},
    {"{a!=\"a\", job=\"\\n\", x1!=\"(\",}", "{a!=\"a\",job=\"\\n\",x1!=\"(\"}"},
    {"{a!=\"\", on=\"(\",}", "{a!=\"\",on=\"(\"}"},
    {"\"\\n\"", "\"\\n\""},
    {"2", "2"},
    {"{on!=\"\\xff\", a!~\".+\", by=\"\\u00e9\\t\"}",
     "{a!~\".+\",by=\"\303\251\\t\",on!=\"\\xff\"}"},
    {"BY @ .5", "BY @ 0.500"},
    {"{on=~`c`, le=\".+\", job!~'b'} offset -5m", "{job!~\"b\",le=\".+\",on=~\"c\"} offset -5m"},
    {"{le=`c`, le!=\"x\\\"y\"}", "{le!=\"x\\\"y\",le=\"c\"}"},
    {"(foo)", "(foo)"},
    {"{job=~\"a\", x1=~\"\"}", "{job=~\"a\",x1=~\"\"}"},
    {"offset{}[3ms:2w] @ .5", "offset[3ms:2w] @ 0.500"},
    {"{on=~\"\\u00e9\\t\"}[1h]", "{on=~\"\303\251\\t\"}[1h]"},
    {"(+without{a!=`c`, a=\"\\u00e9\\t\", by!~\"\\n\"} offset -100ms @ 1e3)",
     "(+without{a!=\"c\",a=\"\303\251\\t\",by!~\"\\n\"} @ 1000.000 offset -100ms)"},
    {"{on=\"\\u00e9\\t\"} offset 3ms", "{on=\"\303\251\\t\"} offset 3ms"},
    {"Offset", "Offset"},
    {"count by(a, le)(Offset)", "count by (a, le) (Offset)"},
    {"{a=~\"\\u00e9\\t\", x1=\"(\"}", "{a=~\"\303\251\\t\",x1=\"(\"}"},
    {"-0x1f % ++1.5", "-31 % 1.5"},
    {"Offset offset -1y2w", "Offset offset -379d"},
    {"-{le!~\"a\", a=~\"\303\251\",}", "-{a=~\"\303\251\",le!~\"a\"}"},
    {"\"\"", "\"\""},
    {"\"x\\\"y\"", "\"x\\\"y\""},
    {"{by!~\"x\\\"y\", le=\".+\"}", "{by!~\"x\\\"y\",le=\".+\"}"},
    {"1.5", "1.5"},
    {"without{by!~\"x\\\"y\", on=~\".+\", a!='b'} offset -1h",
     "without{a!=\"b\",by!~\"x\\\"y\",on=~\".+\"} offset -1h"},
    {"{on='b', le!='b', job=~`c`,}", "{job=~\"c\",le!=\"b\",on=\"b\"}"},
    {"\"a\"", "\"a\""},
    {"{on!=\"\303\251\", by!=`c`, on=~\"\303\251\"}",
     "{by!=\"c\",on!=\"\303\251\",on=~\"\303\251\"}"},
    {"{a=\"(\"}[1h]", "{a=\"(\"}[1h]"},
    {"1e-7", "1e-07"},
    {"{on=~\".+\", job!=\".*\", a!~'b'}", "{a!~\"b\",job!=\".*\",on=~\".+\"}"},
    {"{x1=~\"a\",}[1d] @ 123456.5", "{x1=~\"a\"}[1d] @ 123456.500"},
    {"{on=\"\\u00e9\\t\", job=\"\"} ^ {a=\"a\", a=~\".*\", on=~\"\303\251\",} unless {a=~\".+\", "
     "a!~\".*\", on!=\"(\",}",
     "{job=\"\",on=\"\303\251\\t\"} ^ {a=\"a\",a=~\".*\",on=~\"\303\251\"} unless "
     "{a!~\".*\",a=~\".+\",on!=\"(\"}"},
    {"foo[5m#c\n]", "foo[5m]"},
    {"foo{a=\"b\"#c\n}", "foo{a=\"b\"}"},
    {"foo{#c\n}", "foo"},
    {"sum by (a #c\n) (x)", "sum by (a) (x)"},
    {"x[5m:#c\n]", "x[5m:]"},
    {"topk(1, x)[5m:]", "topk(1, x)[5m:]"},
    {"day_of_week()", "day_of_week()"},
    {"a + on(x) group_left(by) b", "a + on (x) group_left (by) b"},
    {"sum by (by, BY, By) (x)", "sum by (by, BY, By) (x)"},
    {"1e308", "1e+308"},
    {"0.0000000001e-320", "0"},
    {"10e-325", "0"},
    {"1e-324", "0"},
    {"2e-324", "0"},
    {"3e-324", "5e-324"},
    {"0.1e309", "1e+308"},
    {"0.01e310", "1e+308"},
    {"00000.000e99999", "0"},
    {"99999e-99999", "0"},
    {"1.7976931348623158e308", "1.7976931348623157e+308"},
    {"4.9e-324", "5e-324"},
    {"2.4703282292062328e-324", "5e-324"},
    {"2.4703282292062327e-324", "0"},
    {"123456789012345678901234567890e-40", "1.2345678901234568e-11"},
    {"x{a=\"\\u0000\"}", "x{a=\"\\x00\"}"},
    {"x{a=\"\\U0010FFFF\"}", "x{a=\"\\U0010ffff\"}"},
    {"'\\''", "\"'\""},
    {"\"\\\"\"", "\"\\\"\""},
    {"{a=\"b\",b=\"c\",}", "{a=\"b\",b=\"c\"}"},
    {"a{}", "a"},
    {"a:b:c{}", "a:b:c"},
    {":a", ":a"},
    {":", ":"},
    {"::", "::"},
    {"a::b", "a::b"},
    {"_", "_"},
    {"__name__", "__name__"},
    {"_a1", "_a1"},
    {"a1", "a1"},
};

// Invalid queries and Prometheus 2.42's error for each.
const Case kInvalid[] = {
    {" +{\"some_metric\"}",
     "1:4: parse error: unexpected string \"\\\"some_metr\"... in label matching, expected "
     "identifier or \"}\""},
    {"# just a comment\n\n", "1:1: parse error: no expression found in input"},
    {"1+", "1:3: parse error: unexpected end of input"},
    {".", "1:1: parse error: unexpected character: '.'"},
    {"2.5.", "1:4: parse error: unexpected character: '.'"},
    {"100..4", "1:5: parse error: unexpected number \".4\""},
    {"0deadbeef", "1:1: parse error: bad number or duration syntax: \"0de\""},
    {"1 /", "1:4: parse error: unexpected end of input"},
    {"*1", "1:1: parse error: unexpected <op:*>"},
    {"(1))", "1:5: parse error: unexpected right parenthesis ')'"},
    {"((1)", "1:5: parse error: unclosed left parenthesis"},
    {"(", "1:2: parse error: unclosed left parenthesis"},
    {"1 and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
    {"1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"},
    {"1 or 1", "1:1: parse error: set operator \"or\" not allowed in binary scalar expression"},
    {"1 unless 1",
     "1:1: parse error: set operator \"unless\" not allowed in binary scalar expression"},
    {"1 !~ 1", "1:3: parse error: unexpected character after '!': '~'"},
    {"1 =~ 1", "1:3: parse error: unexpected character after '=': '~'"},
    {"-\"string\"",
     "1:1: parse error: unary expression only allowed on expressions of type scalar or instant "
     "vector, got \"string\""},
    {"-test[5m]",
     "1:1: parse error: unary expression only allowed on expressions of type scalar or instant "
     "vector, got \"range vector\""},
    {"*test", "1:1: parse error: unexpected <op:*>"},
    {"1 offset 1d",
     "1:1: parse error: offset modifier must be preceded by an instant vector selector or range "
     "vector selector or a subquery"},
    {"foo offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"},
    {"a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"},
    {"foo and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
    {"1 and foo", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression"},
    {"foo or 1", "1:1: parse error: set operator \"or\" not allowed in binary scalar expression"},
    {"1 or foo", "1:1: parse error: set operator \"or\" not allowed in binary scalar expression"},
    {"foo unless 1",
     "1:1: parse error: set operator \"unless\" not allowed in binary scalar expression"},
    {"1 unless foo",
     "1:1: parse error: set operator \"unless\" not allowed in binary scalar expression"},
    {"1 or on(bar) foo", "1:1: parse error: vector matching only allowed between instant vectors"},
    {"foo == on(bar) 10", "1:1: parse error: vector matching only allowed between instant vectors"},
    {"foo + group_left(baz) bar", "1:7: parse error: unexpected <group_left>"},
    {"foo and on(bar) group_left(baz) bar",
     "1:1: parse error: no grouping allowed for \"and\" operation"},
    {"foo and on(bar) group_right(baz) bar",
     "1:1: parse error: no grouping allowed for \"and\" operation"},
    {"foo or on(bar) group_left(baz) bar",
     "1:1: parse error: no grouping allowed for \"or\" operation"},
    {"foo or on(bar) group_right(baz) bar",
     "1:1: parse error: no grouping allowed for \"or\" operation"},
    {"foo unless on(bar) group_left(baz) bar",
     "1:1: parse error: no grouping allowed for \"unless\" operation"},
    {"foo unless on(bar) group_right(baz) bar",
     "1:1: parse error: no grouping allowed for \"unless\" operation"},
    {"http_requests{group=\"production\"} + on(instance) group_left(job,instance) "
     "cpu_count{type=\"smp\"}",
     "1:35: parse error: label \"instance\" must not occur in ON and GROUP clause at once"},
    {"foo + bool bar", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"foo + bool 10", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"foo and bool 10", "1:5: parse error: bool modifier can only be used on comparison operators"},
    {"foo @ +Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
    {"foo @ -Inf", "1:1: parse error: timestamp out of bounds for @ modifier: -Inf"},
    {"foo @ NaN", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"},
    {"foo @ 9223372036854775807",
     "1:1: parse error: timestamp out of bounds for @ modifier: 9223372036854775808.000000"},
    {"foo @ 9223372036854775806.9",
     "1:1: parse error: timestamp out of bounds for @ modifier: 9223372036854775808.000000"},
    {"foo @ -9223372036854775808",
     "1:1: parse error: timestamp out of bounds for @ modifier: -9223372036854775808.000000"},
    {"foo{__name__=\"bar\"}",
     "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
    {"foo{__name__=\"bar\", lol=\"wut\"}",
     "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
    {"{", "1:2: parse error: unexpected end of input inside braces"},
    {"}", "1:1: parse error: unexpected character: '}'"},
    {"{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"foo{", "1:5: parse error: unexpected end of input inside braces"},
    {"foo{a", "1:6: parse error: unexpected end of input inside braces"},
    {"foo{a=", "1:7: parse error: unexpected end of input inside braces"},
    {"foo{a=\"b", "1:7: parse error: unterminated quoted string"},
    {"foo{a=\"b\"", "1:10: parse error: unexpected end of input inside braces"},
    {"foo{a=b}",
     "1:7: parse error: unexpected identifier \"b\" in label matching, expected string"},
    {"foo{a=\"b\",,}",
     "1:11: parse error: unexpected \",\" in label matching, expected identifier or \"}\""},
    {"foo{1}", "1:5: parse error: unexpected character inside braces: '1'"},
    {"foo{a=}", "1:7: parse error: unexpected \"}\" in label matching, expected string"},
    {"foo{gibberish}",
     "1:14: parse error: unexpected \"}\" in label matching, expected label matching operator"},
    {"foo{a*\"b\"}", "1:6: parse error: unexpected character inside braces: '*'"},
    {"foo{a>=\"b\"}", "1:6: parse error: unexpected character inside braces: '>'"},
    {"{__name__=\"\"}",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{__name__=~\".*\"}",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"foo[5mm]", "1:5: parse error: bad duration syntax: \"5mm\""},
    {"foo[5m1]", "1:5: parse error: bad duration syntax: \"5m1\""},
    {"foo[5m:1m1]", "1:8: parse error: bad number or duration syntax: \"1m1\""},
    {"foo[5y1hs]", "1:5: parse error: not a valid duration string: \"5y1hs\""},
    {"foo[5m1h]", "1:5: parse error: not a valid duration string: \"5m1h\""},
    {"foo[5m1m]", "1:5: parse error: not a valid duration string: \"5m1m\""},
    {"foo[0m]", "1:5: parse error: duration must be greater than 0"},
    {"foo[\"5m\"]", "1:5: parse error: missing unit character in duration"},
    {"foo[]", "1:5: parse error: missing unit character in duration"},
    {"foo[1]", "1:5: parse error: missing unit character in duration"},
    {"some_metric[5m] OFFSET 1",
     "1:24: parse error: unexpected number \"1\" in offset, expected duration"},
    {"some_metric[5m] OFFSET 1mm", "1:24: parse error: bad number or duration syntax: \"1mm\""},
    {"some_metric[5m] OFFSET",
     "1:23: parse error: unexpected end of input in offset, expected duration"},
    {"some_metric OFFSET 1m[5m]", "1:22: parse error: no offset modifiers allowed before range"},
    {"some_metric @ 123 [5m]", "1:19: parse error: no @ modifiers allowed before range"},
    {"some_metric @ 123 offset 1m [5m]",
     "1:29: parse error: no offset modifiers allowed before range"},
    {"some_metric offset 1m @ 123 [5m]",
     "1:29: parse error: no offset modifiers allowed before range"},
    {"(foo + bar)[5m]", "1:12: parse error: ranges only allowed for vector selectors"},
    {"sum without(==)(some_metric)",
     "1:13: parse error: unexpected <op:==> in grouping opts, expected label"},
    {"sum without(,)(some_metric)",
     "1:13: parse error: unexpected \",\" in grouping opts, expected label"},
    {"sum without(foo,,)(some_metric)",
     "1:17: parse error: unexpected \",\" in grouping opts, expected label"},
    {"sum some_metric by (test)", "1:5: parse error: unexpected identifier \"some_metric\""},
    {"sum (some_metric) by test",
     "1:22: parse error: unexpected identifier \"test\" in grouping opts, expected \"(\""},
    {"sum () by (test)", "1:1: parse error: no arguments for aggregate expression provided"},
    {"MIN keep_common (some_metric)", "1:5: parse error: unexpected identifier \"keep_common\""},
    {"MIN (some_metric) keep_common", "1:19: parse error: unexpected identifier \"keep_common\""},
    {"sum (some_metric) without (test) by (test)", "1:34: parse error: unexpected <by>"},
    {"sum without (test) (some_metric) by (test)", "1:34: parse error: unexpected <by>"},
    {"topk(some_metric)",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, "
     "got 1"},
    {"topk(some_metric,)", "1:17: parse error: trailing commas not allowed in function call args"},
    {"topk(some_metric, other_metric)",
     "1:6: parse error: expected type scalar in aggregation parameter, got instant vector"},
    {"count_values(5, other_metric)",
     "1:14: parse error: expected type string in aggregation parameter, got scalar"},
    {"rate(some_metric[5m]) @ 1234",
     "1:1: parse error: @ modifier must be preceded by an instant vector selector or range vector "
     "selector or a subquery"},
    {"floor()", "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 0"},
    {"floor(some_metric, other_metric)",
     "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 2"},
    {"floor(some_metric, 1 + 1)",
     "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 2"},
    {"floor(1)",
     "1:7: parse error: expected type instant vector in call to function \"floor\", got scalar"},
    {"hour(some_metric, some_metric, some_metric)",
     "1:1: parse error: expected at most 1 argument(s) in call to \"hour\", got 3"},
    {"time(some_metric)", "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1"},
    {"non_existent_function_far_bar()",
     "1:1: parse error: unknown function with name \"non_existent_function_far_bar\""},
    {"rate(some_metric)",
     "1:6: parse error: expected type range vector in call to function \"rate\", got instant "
     "vector"},
    {"\"\\a\\b\\f\n\\r\\t\\v\\\\\" - \\xFF\\377\\u1234\\U00010111\\U0001011111\342\230\272\"",
     "1:1: parse error: unterminated quoted string"},
    {"'\\a\\b\\f\n\\r\\t\\v\\\\' - \\xFF\\377\\u1234\\U00010111\\U0001011111\342\230\272'",
     "1:1: parse error: unterminated quoted string"},
    {"`\\``", "1:4: parse error: unterminated raw string"},
    {"\"\\", "1:1: parse error: escape sequence not terminated"},
    {"\"\\c\"", "1:1: parse error: unknown escape sequence U+0063 'c'"},
    {"\"\\x.\"", "1:1: parse error: illegal character U+002E '.' in escape sequence"},
    {"test[5d] OFFSET 10s [10m:5s]",
     "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"(foo + bar{nm=\"val\"})[5m:][10m:5s]",
     "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"rate(food[1m])[1h] offset 1h", "1:15: parse error: ranges only allowed for vector selectors"},
    {"rate(food[1m])[1h] @ 100", "1:15: parse error: ranges only allowed for vector selectors"},
    {"foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo @ start() @ end()", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo @ 1 offset 2m @ 3", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo[1m] @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo @ start() offset 1m @ end()",
     "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo[1m:] @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo[1m:] offset 1m offset 2m", "1:1: parse error: offset may not be set multiple times"},
    {"foo @ start", "1:12: parse error: unexpected end of input in @, expected timestamp"},
    {"foo @ end", "1:10: parse error: unexpected end of input in @, expected timestamp"},
    {"start()", "1:6: parse error: unexpected \"(\""},
    {"end()", "1:4: parse error: unexpected \"(\""},
    {"foo @ 1e30",
     "1:1: parse error: timestamp out of bounds for @ modifier: "
     "1000000000000000019884624838656.000000"},
    {"foo @ -1e30",
     "1:1: parse error: timestamp out of bounds for @ modifier: "
     "-1000000000000000019884624838656.000000"},
    {"\"a\nb\"", "1:1: parse error: unterminated quoted string"},
    {"foo\n+\nbar baz", "3:5: parse error: unexpected identifier \"baz\""},
    {"sum(\n  rate(x[5m]\n)", "3:2: parse error: unclosed left parenthesis"},
    {"1 +\n\n  $", "3:3: parse error: unexpected character: '$'"},
    {"on", "1:1: parse error: unexpected <on>"},
    {"ignoring", "1:1: parse error: unexpected <ignoring>"},
    {"group_left", "1:1: parse error: unexpected <group_left>"},
    {"bool", "1:1: parse error: unexpected <bool>"},
    {"atan2", "1:1: parse error: unexpected <op:atan2>"},
    {"foo offset offset", "1:12: parse error: unexpected <offset> in offset, expected duration"},
    {"sum by (a:b) (x)",
     "1:9: parse error: unexpected metric identifier \"a:b\" in grouping opts, expected label"},
    {"a + on(x) group_left (b + c)",
     "1:25: parse error: unexpected <op:+> in grouping opts, expected \",\" or \")\""},
    {"a + bool on(x) b",
     "1:3: parse error: bool modifier can only be used on comparison operators"},
    {"a > on(x) bool b", "1:11: parse error: unexpected <bool>"},
    {"a > bool bool b", "1:10: parse error: unexpected <bool>"},
    {"a atan2 bool b", "1:3: parse error: bool modifier can only be used on comparison operators"},
    {"-1 offset 5m",
     "1:2: parse error: offset modifier must be preceded by an instant vector selector or range "
     "vector selector or a subquery"},
    {"-foo[5m]",
     "1:1: parse error: unary expression only allowed on expressions of type scalar or instant "
     "vector, got \"range vector\""},
    {"1 + -foo[5m]",
     "1:5: parse error: unary expression only allowed on expressions of type scalar or instant "
     "vector, got \"range vector\""},
    {"sum(foo) foo", "1:10: parse error: unexpected identifier \"foo\""},
    {"sum(foo bar)", "1:9: parse error: unexpected identifier \"bar\" in aggregation"},
    {"rate(foo bar)", "1:10: parse error: unexpected identifier \"bar\""},
    {"sum(1 +)", "1:8: parse error: unexpected \")\" in aggregation"},
    {"rate(1 +)", "1:9: parse error: unexpected \")\""},
    {"sum(x)(y)", "1:7: parse error: unexpected \"(\""},
    {"sum by(x)", "1:10: parse error: unexpected end of input in aggregation"},
    {"sum by", "1:7: parse error: unexpected end of input in grouping opts, expected \"(\""},
    {"sum without", "1:12: parse error: unexpected end of input in grouping opts, expected \"(\""},
    {"sum(x) by", "1:10: parse error: unexpected end of input in grouping opts, expected \"(\""},
    {"sum(x) by (", "1:12: parse error: unclosed left parenthesis"},
    {"sum(x) by (a", "1:13: parse error: unclosed left parenthesis"},
    {"sum(x) by (a,", "1:14: parse error: unclosed left parenthesis"},
    {"sum(x) by (a b)",
     "1:14: parse error: unexpected identifier \"b\" in grouping opts, expected \",\" or \")\""},
    {"sum(x) by (Inf)",
     "1:12: parse error: unexpected number \"Inf\" in grouping opts, expected label"},
    {"sum(x) by (\"a\")",
     "1:12: parse error: unexpected string \"\\\"a\\\"\" in grouping opts, expected label"},
    {"sum by (x) y", "1:12: parse error: unexpected identifier \"y\" in aggregation"},
    {"quantile(\"a\", x)",
     "1:10: parse error: expected type scalar in aggregation parameter, got string"},
    {"count_values(x, y)",
     "1:14: parse error: expected type string in aggregation parameter, got instant vector"},
    {"topk(1, 2, 3)",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, "
     "got 3"},
    {"sum(1, 2)",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, "
     "got 2"},
    {"sum()", "1:1: parse error: no arguments for aggregate expression provided"},
    {"topk()", "1:1: parse error: no arguments for aggregate expression provided"},
    {"count_values()", "1:1: parse error: no arguments for aggregate expression provided"},
    {"sum(a,)", "1:6: parse error: trailing commas not allowed in function call args"},
    {"rate(a,,)", "1:7: parse error: trailing commas not allowed in function call args"},
    {"rate(a, by)", "1:1: parse error: expected 1 argument(s) in call to \"rate\", got 2"},
    {"rate(a, )", "1:7: parse error: trailing commas not allowed in function call args"},
    {"rate(", "1:6: parse error: unclosed left parenthesis"},
    {"rate(a", "1:7: parse error: unclosed left parenthesis"},
    {"rate(a,", "1:8: parse error: unclosed left parenthesis"},
    {"rate)", "1:6: parse error: unexpected right parenthesis ')'"},
    {"foo()", "1:1: parse error: unknown function with name \"foo\""},
    {"foo(1,2)", "1:1: parse error: unknown function with name \"foo\""},
    {"Rate(x[5m])", "1:1: parse error: unknown function with name \"Rate\""},
    {"RATE(x[5m])", "1:1: parse error: unknown function with name \"RATE\""},
    {"x OFFSET 5M", "1:10: parse error: bad number or duration syntax: \"5\""},
    {"x offset 5M", "1:10: parse error: bad number or duration syntax: \"5\""},
    {"label_join(a, \"b\", \"c\", 1)",
     "1:25: parse error: expected type string in call to function \"label_join\", got scalar"},
    {"label_replace(a, \"b\", \"c\", \"d\")",
     "1:1: parse error: expected 5 argument(s) in call to \"label_replace\", got 4"},
    {"round(a, 1, 2)",
     "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3"},
    {"round()", "1:1: parse error: expected at least 1 argument(s) in call to \"round\", got 0"},
    {"days_in_month(a, b)",
     "1:1: parse error: expected at most 1 argument(s) in call to \"days_in_month\", got 2"},
    {"vector(a)",
     "1:8: parse error: expected type scalar in call to function \"vector\", got instant vector"},
    {"scalar(1)",
     "1:8: parse error: expected type instant vector in call to function \"scalar\", got scalar"},
    {"pi(1)", "1:1: parse error: expected 0 argument(s) in call to \"pi\", got 1"},
    {"time() == 1", "1:8: parse error: comparisons between scalars must use BOOL modifier"},
    {"scalar(a) > 1", "1:11: parse error: comparisons between scalars must use BOOL modifier"},
    {"absent_over_time(x)",
     "1:18: parse error: expected type range vector in call to function \"absent_over_time\", got "
     "instant vector"},
    {"holt_winters(x[5m], 0.5)",
     "1:1: parse error: expected 3 argument(s) in call to \"holt_winters\", got 2"},
    {"histogram_quantile(0.9, x[5m])",
     "1:25: parse error: expected type instant vector in call to function \"histogram_quantile\", "
     "got range vector"},
    {"clamp(x, 0)", "1:1: parse error: expected 3 argument(s) in call to \"clamp\", got 2"},
    {"mad_over_time(x[5m])", "1:1: parse error: unknown function with name \"mad_over_time\""},
    {"histogram_stddev(x)", "1:1: parse error: unknown function with name \"histogram_stddev\""},
    {"sort_by_label(x, \"a\")", "1:1: parse error: unknown function with name \"sort_by_label\""},
    {"limitk(1, x)", "1:1: parse error: unknown function with name \"limitk\""},
    {"timestamp(x[5m])",
     "1:11: parse error: expected type instant vector in call to function \"timestamp\", got range "
     "vector"},
    {"rate(x[5m]) offset 1m",
     "1:1: parse error: offset modifier must be preceded by an instant vector selector or range "
     "vector selector or a subquery"},
    {"sum(x) offset 1m",
     "1:1: parse error: offset modifier must be preceded by an instant vector selector or range "
     "vector selector or a subquery"},
    {"sum(x)[5m]", "1:7: parse error: ranges only allowed for vector selectors"},
    {"(x)[5m]", "1:4: parse error: ranges only allowed for vector selectors"},
    {"x[5m][5m]", "1:6: parse error: ranges only allowed for vector selectors"},
    {"x[5m][5m:]",
     "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"x[5m:][5m:]",
     "1:1: parse error: subquery is only allowed on instant vector, got matrix instead"},
    {"\"a\"[5m:]",
     "1:1: parse error: subquery is only allowed on instant vector, got string instead"},
    {"1[5m:]", "1:1: parse error: subquery is only allowed on instant vector, got scalar instead"},
    {"1[5m]", "1:2: parse error: ranges only allowed for vector selectors"},
    {"\"a\" + 1",
     "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"\"a\" offset 5m",
     "1:1: parse error: offset modifier must be preceded by an instant vector selector or range "
     "vector selector or a subquery"},
    {"{a=\"\"}[5m]",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{a=~\".*\"}",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{a!=\"x\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{__name__!=\"x\"}",
     "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"foo{__name__=~\"bar\"}",
     "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\""},
    {"foo{a=~\"\\C\"}", "1:8: parse error: unknown escape sequence U+0043 'C'"},
    {"foo{a=\"\\400\"}", "1:7: parse error: escape sequence is an invalid Unicode code point"},
    {"foo{a=\"\\uD800\"}", "1:7: parse error: escape sequence is an invalid Unicode code point"},
    {"foo{a=\"\\U00110000\"}",
     "1:7: parse error: escape sequence is an invalid Unicode code point"},
    {"foo{a=\"\\x4\"}", "1:7: parse error: illegal character U+0022 '\"' in escape sequence"},
    {"foo{a=\"\\xZZ\"}", "1:7: parse error: illegal character U+005A 'Z' in escape sequence"},
    {"foo{a=\"\\u12\"}", "1:7: parse error: illegal character U+0022 '\"' in escape sequence"},
    {"foo{a=\"\\q\"}", "1:7: parse error: unknown escape sequence U+0071 'q'"},
    {"\"\\q\"", "1:1: parse error: unknown escape sequence U+0071 'q'"},
    {"'\\\"'", "1:1: parse error: unknown escape sequence U+0022 '\"'"},
    {"\"\\'\"", "1:1: parse error: unknown escape sequence U+0027 '''"},
    {"\"abcdefghijklmn\" \"abcdefghijklmn\"",
     "1:18: parse error: unexpected string \"\\\"abcdefghi\"..."},
    {"1 \"abcdefghijklmnop\"", "1:3: parse error: unexpected string \"\\\"abcdefghi\"..."},
    {"1 \"abc\"", "1:3: parse error: unexpected string \"\\\"abc\\\"\""},
    {"1 foo:bar", "1:3: parse error: unexpected metric identifier \"foo:bar\""},
    {"1 5m", "1:3: parse error: unexpected duration \"5m\""},
    {"1 (", "1:3: parse error: unexpected \"(\""},
    {"1 )", "1:4: parse error: unexpected right parenthesis ')'"},
    {"1 {", "1:3: parse error: unexpected \"{\""},
    {"1 }", "1:3: parse error: unexpected character: '}'"},
    {"1 [", "1:4: parse error: missing unit character in duration"},
    {"1 ]", "1:3: parse error: unexpected right bracket ']'"},
    {"1 ,", "1:3: parse error: unexpected \",\""},
    {"1 =", "1:3: parse error: unexpected \"=\""},
    {"1 :", "1:3: parse error: unexpected metric identifier \":\""},
    {"1 @", "1:4: parse error: unexpected end of input in @, expected timestamp"},
    {"1 ==", "1:5: parse error: unexpected end of input"},
    {"1 !=", "1:5: parse error: unexpected end of input"},
    {"1 =~", "1:3: parse error: unexpected character after '=': '~'"},
    {"1 !~", "1:3: parse error: unexpected character after '!': '~'"},
    {"1 offset", "1:9: parse error: unexpected end of input in offset, expected duration"},
    {"1 by", "1:3: parse error: unexpected <by>"},
    {"1 sum", "1:3: parse error: unexpected <aggr:sum>"},
    {"1 start", "1:3: parse error: unexpected \"start\""},
    {"1 start()", "1:3: parse error: unexpected \"start\""},
    {"foo @ @", "1:7: parse error: unexpected \"<Item 57385>\" <op:@> in @, expected timestamp"},
    {"foo @ start(", "1:13: parse error: unclosed left parenthesis"},
    {"foo @ start(x", "1:13: parse error: unexpected identifier \"x\" in @, expected timestamp"},
    {"foo @ - start()", "1:9: parse error: unexpected \"start\" in @, expected timestamp"},
    {"foo @ 5m", "1:7: parse error: unexpected duration \"5m\" in @, expected timestamp"},
    {"foo @ \"a\"", "1:7: parse error: unexpected string \"\\\"a\\\"\" in @, expected timestamp"},
    {"foo @ (1)", "1:7: parse error: unexpected \"(\" in @, expected timestamp"},
    {"foo offset 5", "1:12: parse error: unexpected number \"5\" in offset, expected duration"},
    {"foo offset -5", "1:13: parse error: unexpected number \"5\" in offset, expected duration"},
    {"foo offset - 5", "1:14: parse error: unexpected number \"5\" in offset, expected duration"},
    {"foo offset 5m5", "1:12: parse error: bad number or duration syntax: \"5m5\""},
    {"foo offset 1w1y", "1:12: parse error: bad number or duration syntax: \"1w1\""},
    {"foo offset 0s", "1:12: parse error: duration must be greater than 0"},
    {"foo offset 0", "1:12: parse error: unexpected number \"0\" in offset, expected duration"},
    {"foo offset 1000y", "1:12: parse error: duration out of range"},
    {"foo offset 293y", "1:12: parse error: duration out of range"},
    {"foo[106752d]", "1:5: parse error: duration out of range"},
    {"foo[9999999999999999999999s]", "1:5: parse error: duration out of range"},
    {"foo[0.5m]", "1:5: parse error: not a valid duration string: \"0.5m\""},
    {"foo[5m:0s]", "1:8: parse error: duration must be greater than 0"},
    {"foo[5m:1m", "1:10: parse error: unclosed left bracket"},
    {"foo[5m:1m 2m]",
     "1:11: parse error: unexpected duration \"2m\" in subquery selector, expected \"]\""},
    {"foo[5m: 1]",
     "1:9: parse error: unexpected number \"1\" in subquery selector, expected duration or \"]\""},
    {"foo[5m 1m]",
     "1:8: parse error: unexpected duration \"1m\" in subquery or range, expected \":\" or \"]\""},
    {"foo[5m:x]", "1:8: parse error: unexpected colon 'x'"},
    {"foo[5m::]", "1:8: parse error: unexpected colon ':'"},
    {"foo[5m] [5m]", "1:9: parse error: ranges only allowed for vector selectors"},
    {"foo[[5m]", "1:5: parse error: missing unit character in duration"},
    {"foo]", "1:4: parse error: unexpected right bracket ']'"},
    {"foo}", "1:4: parse error: unexpected character: '}'"},
    {"foo{}}", "1:6: parse error: unexpected character: '}'"},
    {"foo{{}", "1:5: parse error: unexpected left brace '{'"},
    {"foo{a=\"b\"}{c=\"d\"}", "1:11: parse error: unexpected \"{\""},
    {"foo{a=\"b\"} {c=\"d\"}", "1:12: parse error: unexpected \"{\""},
    {"foo{a!\"b\"}", "1:6: parse error: unexpected character after '!' inside braces: '\"'"},
    {"foo{a!}", "1:6: parse error: unexpected character after '!' inside braces: '}'"},
    {"foo{a==\"b\"}", "1:7: parse error: unexpected \"=\" in label matching, expected string"},
    {"foo{a=~~\"b\"}", "1:8: parse error: unexpected character inside braces: '~'"},
    {"foo = 1", "1:5: parse error: unexpected \"=\""},
    {"foo =~ 1", "1:5: parse error: unexpected character after '=': '~'"},
    {"foo ! 1", "1:5: parse error: unexpected character after '!': ' '"},
    {"foo !", "1:5: parse error: unexpected character after '!': '\357\277\275'"},
    {"a=", "1:2: parse error: unexpected \"=\""},
    {"@", "1:1: parse error: unexpected \"<Item 57385>\" <op:@>"},
    {"$", "1:1: parse error: unexpected character: '$'"},
    {"\303\251", "1:1: parse error: unexpected character: '\303\251'"},
    {"foo$", "1:4: parse error: unexpected character: '$'"},
    {"1 + \303\251", "1:5: parse error: unexpected character: '\303\251'"},
    {"foo{\303\251=\"a\"}", "1:5: parse error: unexpected character inside braces: '\303\251'"},
    {"foo{a=\"b\" c=\"d\"}",
     "1:11: parse error: unexpected identifier \"c\" in label matching, expected \",\" or \"}\""},
    {"foo{=\"a\"}",
     "1:5: parse error: unexpected \"=\" in label matching, expected identifier or \"}\""},
    {"foo{,}",
     "1:5: parse error: unexpected \",\" in label matching, expected identifier or \"}\""},
    {"foo{a,}",
     "1:6: parse error: unexpected \",\" in label matching, expected label matching operator"},
    {"foo{'a'=\"b\"}",
     "1:5: parse error: unexpected string \"'a'\" in label matching, expected identifier or \"}\""},
    {"sum(a_very_long_metric_name_for_testing_purposes_number_one)[1h:5m] + "
     "sum(a_very_long_metric_name_for_testing_purposes_number_two)[1h:5m]",
     "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"1.8e308",
     "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"1.8e308\": value out "
     "of range"},
    {"0x8000000000000000",
     "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0x8000000000000000\": "
     "invalid syntax"},
    {"0xffffffffffffffff",
     "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0xffffffffffffffff\": "
     "invalid syntax"},
    {".e2", "1:1: parse error: unexpected character: '.'"},
    {"1.2.3", "1:4: parse error: unexpected number \".3\""},
    {"0x1.8",
     "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0x1.8\": invalid "
     "syntax"},
    {"0xg", "1:1: parse error: bad number or duration syntax: \"0x\""},
    {"1x", "1:1: parse error: bad number or duration syntax: \"1\""},
    {"1ms", "1:1: parse error: unexpected duration \"1ms\""},
    {"1 ms", "1:3: parse error: unexpected identifier \"ms\""},
    {"5m + 1", "1:1: parse error: unexpected duration \"5m\""},
    {"foo @ 9223372036854775807.0",
     "1:1: parse error: timestamp out of bounds for @ modifier: 9223372036854775808.000000"},
    {"foo @ Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
    {"foo @ nan", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"},
    {"a + on(x) group_left",
     "1:21: parse error: unexpected end of input in grouping opts, expected \"(\""},
    {"a + on(x) group_left ,",
     "1:22: parse error: unexpected \",\" in grouping opts, expected \"(\""},
    {"a + on(x) group_left -1",
     "1:1: parse error: vector matching only allowed between instant vectors"},
    {"sum(a + on(x) group_left)",
     "1:25: parse error: unexpected \")\" in grouping opts, expected \"(\""},
    {"a + on(x) group_left ignoring",
     "1:22: parse error: unexpected <ignoring> in grouping opts, expected \"(\""},
    {"foo(sum(foo @ .5) without(le, __name__) offset 5, (-({x1!~\"\", le=\"(\",})) offset -1y, avg "
     "without(bool)({} @ 1e3 atan2 clamp()[1.5m:5m], round({job=~`c`}))) @ -5",
     "1:48: parse error: unexpected number \"5\" in offset, expected duration"},
    {"avg by(a, bool, __name__)(.5 ^ (quantile without(job, x1)(0x1f, \"x\\\"y\", on offset 1d)))",
     "1:71: parse error: trailing commas not allowed in function call args"},
    {"(+{on!\".+\"})", "1:6: parse error: unexpected character after '!' inside braces: '\"'"},
    {"quantile wi)thout(le, sum)()", "1:10: parse error: unexpected identifier \"wi\""},
    {"rate({} ^ 1.5 >= Inf, rate() offset 100ms <= ignoring(bool) group_left() nan[0s:5])[0s:1d]",
     "1:23: parse error: offset modifier must be preceded by an instant vector selector or range "
     "vector selector or a subquery"},
    {"(+bottomk(and) by(on)) and on(bool, a:b, bool) (atan2[0s] @ 0) offset -1h30m == -by[1.5m] % "
     "{by!=\"\\n\", a!~\"a\"}",
     "1:3: parse error: wrong number of arguments for aggregate expression provided, expected 2, "
     "got 1"},
    {"bottomk without(le, sum, x1)(-010 > bool atan2{} offset -1d) offset 2w - bool "
     "label_replace()[0s] unless year() @ 5.",
     "1:42: parse error: unexpected <op:atan2> in aggregation"},
    {"quantil+e()", "1:9: parse error: unknown function with name \"e\""},
    {"{x1!=\"a\", on=\"a\", a='b',}[100ms:", "1:33: parse error: unclosed left bracket"},
    {"{x1=\".+\", a=~\".+\", a!=\"", "1:23: parse error: unterminated quoted string"},
    {"(In", "1:4: parse error: unclosed left parenthesis"},
    {"round(label_replace() @ 5., vector(start{}, label_join(count_values without(x1, bool)()), "
     "-5. or bool -1))[5m:0s]",
     "1:7: parse error: @ modifier must be preceded by an instant vector selector or range vector "
     "selector or a subquery"},
    {"+count_values / +bool{} and bool (and{} offset 2w)", "1:18: parse error: unexpected <bool>"},
    {"{x1=~\"\"}[5]", "1:10: parse error: missing unit character in duration"},
    {"clamp((+'b' unless on(a) group_right(a:b, bool) {by!~\"\303\251\", job!~\"x\\\"y\", "
     "by=~'b'}), sum by(job, x1, bool)(), sum[5] offset 1d) @ end()",
     "1:38: parse error: unexpected metric identifier \"a:b\" in grouping opts, expected label"},
    {"-", "1:2: parse error: unexpected end of input"},
    {"+\"\\xff\" atan2 clamp()",
     "1:1: parse error: unary expression only allowed on expressions of type scalar or instant "
     "vector, got \"string\""},
    {"gro\nup(max()) @ -1", "2:1: parse error: unexpected identifier \"up\""},
    {"SUM ^ +(on @} start())[1y] >= {}", "1:9: parse error: unexpected <on>"},
    {"+days_in_month() offset 5m1h", "1:25: parse error: not a valid duration string: \"5m1h\""},
    {"en\nd{le='b', a=~\"\\xff\", le='b'}", "2:1: parse error: unexpected identifier \"d\""},
    {"clamp()", "1:1: parse error: expected 3 argument(s) in call to \"clamp\", got 0"},
    {"year(.", "1:6: parse error: unexpected character: '.'"},
    {"+inf{a=\"a\", job!~\"\", le!~\"\303\251\"}[1.5m:1h] offset -1h30m",
     "1:5: parse error: unexpected \"{\""},
    {"(histogram_quantile({_1_name__=\"a\", on=\"\303\251\",}, offset))",
     "1:21: parse error: expected type scalar in call to function \"histogram_quantile\", got "
     "instant vector"},
    {"rate(pi(({job=\".+\", le!~`c`} offset -2w and atan2[1d]))[2w], 0x1f)[3ms:0s]",
     "1:45: parse error: unexpected <op:atan2>"},
    {"+quantile(scalar(bool, {le=\"\", le!=\"\", job!=\"a\"}[3ms]) == \"\\xff\") by(bool, "
     "__name__, on)",
     "1:18: parse error: unexpected <bool> in aggregation"},
    {"bottomk(stdvar((label_join(offset, {on!~'b', by=~'b', __name__!=\".+\",}[0s])), "
     "label_replace(`c` ^ {on=~\".+\",})[1y]), sum, -{by!~\"\", by=~'b'}[1y])",
     "1:72: parse error: duration must be greater than 0"},
    {"'b' and {a!~\".*, on!=\".+\", on=\"(\"} unless bool and < on() NaN / bool 2",
     "1:23: parse error: unexpected character inside braces: '.'"},
    {",+a:b", "1:1: parse error: unexpected \",\""},
    {"group(pi())[1d:90s]",
     "1:7: parse error: expected type instant vector in aggregation expression, got scalar"},
    {"{le=~\".+\",}[3ms] and group_left{by=\"x\\\"y\",}[90s:1y]",
     "1:22: parse error: unexpected <group_left>"},
    {"count_values without()(inf, +(5.)[1h30m] < ignoring(by, le, on) group_right bar[5] unless "
     "bool \"\303\251\") offset -5m",
     "1:34: parse error: ranges only allowed for vector selectors"},
    {"+and{__name__!='b)'}[5m:5m]",
     "1:2: parse error: metric name must not be set twice: \"and\" or \"b)\""},
    {"round(`c`, Offset unless 1e3 != 0x atan2 group_left[5m]) == holt_winters(-Inf)",
     "1:33: parse error: error parsing number: strconv.ParseFloat: parsing \"0x\": invalid syntax"},
    {"stdvar by(job)(ignoring{on!~\"\",} offset -1d) <= ignoring(sum, bool, job) count(-+{}) "
     "by(job)",
     "1:16: parse error: unexpected <ignoring> in aggregation"},
    {"{'b'",
     "1:2: parse error: unexpected string \"'b'\" in label matching, expected identifier or \"}\""},
    {"sum(group_left @ .5, year(\"\\xff\" != on() group({job=~\".*\",} @ start(), foo) "
     "without(le)[5m:5]), foo()[1d])[1d:5]",
     "1:5: parse error: unexpected <group_left> in aggregation"},
    {"quantile_over_time(foo(ignoring{on=~'b', on=\".*\", __name__!~\"\"}, -1)[90s] offset 5m1h, "
     "quantile({x1=~\"\\n\", __name__!=\"\\xff\"})[5]) offset 0s",
     "1:24: parse error: unexpected <ignoring>"},
    {"{o\"n=~\"\", x1=~\".+\", a=\"a\",}",
     "1:3: parse error: unexpected string \"\\\"n=~\\\"\" in label matching, expected label "
     "matching operator"},
    {"(-010) >= on(job, a) group_lef\"t(on, sum) scalar({le=\".*\", by!=\"\"}[5])",
     "1:31: parse error: unexpected string \"\\\"t(on, sum\"..."},
    {"sort(min({x1=\"\\n\", job=~\"\303\251\"offset, x1!=\"\303\251\"}, -{on!~\"x\\\"y\", "
     "__name__!=`c`} offset -1.5m))[1d] offset 100ms",
     "1:29: parse error: unexpected identifier \"offset\" in label matching, expected \",\" or "
     "\"}\""},
    {"o~n{__name__!='b', __name__=~\"\\n\",}", "1:2: parse error: unexpected character: '~'"},
    {"{le=~\".+\", job=~\".*\", a!=\"a\"} @ Inf",
     "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
    {"1.5 != max(+group without(bool)(Inf{}, a:b)[3ms:5], and @ Inf)",
     "1:36: parse error: unexpected \"{\" in aggregation"},
    {"time()[3ms:100ms]",
     "1:1: parse error: subquery is only allowed on instant vector, got scalar instead"},
    {"=0", "1:1: parse error: unexpected \"=\""},
    {"by{__name__=\"\\x", "1:13: parse error: escape sequence not terminated"},
    {"-sum(year(SUM, \"x\\\"y\", 1e3)) by(x1, sum, job) atan2 (-{on!=\".*\", a!~`c`, on=~\"a\"})",
     "1:6: parse error: expected at most 1 argument(s) in call to \"year\", got 3"},
    {"++5msort()", "1:3: parse error: bad number or duration syntax: \"5mso\""},
    {"(holt_w)inters())", "1:9: parse error: unexpected identifier \"inters\""},
    {"{`}", "1:2: parse error: unterminated raw string"},
    {"sort()", "1:1: parse error: expected 1 argument(s) in call to \"sort\", got 0"},
    {"{le=by\"(\"}",
     "1:5: parse error: unexpected identifier \"by\" in label matching, expected string"},
    {"+bar / bool by != on() group_right() end >= end + ignoring(sum) and[2w:1d] @ 0x1f",
     "1:6: parse error: bool modifier can only be used on comparison operators"},
    {"without)[1y:5m1h]", "1:9: parse error: unexpected right parenthesis ')'"},
    {"I]nf", "1:2: parse error: unexpected right bracket ']'"},
    {"{by=\"\\n\", le=~\"\\xf!f\"} offset 3ms",
     "1:15: parse error: illegal character U+0021 '!' in escape sequence"},
    {"by offset 1", "1:11: parse error: unexpected number \"1\" in offset, expected duration"},
    {"stddev without(a)({} offset -90",
     "1:30: parse error: unexpected number \"90\" in offset, expected duration"},
    {"{by=\"\303\251\"}[1d] > bool topk",
     "1:1: parse error: binary expression must contain only scalar and instant vector types"},
    {"label_join()",
     "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 0"},
    {"label_join(-'b' o", "1:17: parse error: unexpected identifier \"o\""},
    {"+time(((\\n\"))[1h30m:100ms], (stdvar(010)) offset -5m1h, round({by=`c`,}, count({}, "
     "{job=\".+\", x1!=\"a\"}) @ 0x1f)[5m1h])",
     "1:9: parse error: unexpected character: '\\\\'"},
    {"histogram_quantile()[1h30m:3ms]",
     "1:1: parse error: expected 2 argument(s) in call to \"histogram_quantile\", got 0"},
    {"end / {le!~b', job=\"(\", x1!~\"\"} @ 0x1f",
     "1:12: parse error: unexpected identifier \"b\" in label matching, expected string"},
    {"@BY[0s]", "1:1: parse error: unexpected \"<Item 57385>\" <op:@>"},
    {"-avg(on - ignoring(a, by) group_right() \"\\xff\") atan2 time(group without(sum)(0x1f), "
     "count_values(histogram_quantile()), on{} + 1.5 - -atan2[1h:] @ end())",
     "1:6: parse error: unexpected <on> in aggregation"},
    {"time(-010 <= count_values{job='b'} == round({job=~\"\\n\", job=\"\\xff\"} offset 100ms, "
     "end{a=\"\", __name__=~\"\\n\"}, \"\\xff\"))",
     "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1"},
    {"{by=~\"\303\251\", =~\"\\n\", by!~'b'}",
     "1:12: parse error: unexpected <op:=~> in label matching, expected identifier or \"}\""},
    {"(year() + on[5:2w] unless 0x) @ -5 / -foo(+NaN, sum(inf{__name__=~\"\303\251\"",
     "1:13: parse error: unexpected \"[\" in grouping opts, expected \"(\""},
    {"*-end", "1:1: parse error: unexpected <op:*>"},
    {"((.5) * {}[1d] offset -3ms)[3m{s:1.5m]",
     "1:31: parse error: unexpected \"{\" in subquery or range, expected \":\" or \"]\""},
    {"{a!=\"\\n\", job!~'b',` le!=`c`}",
     "1:20: parse error: unexpected string \"` le!=`\" in label matching, expected identifier or "
     "\"}\""},
    {"botomk by(__name__, bool)('b', `c`)", "1:8: parse error: unexpected <by>"},
    {"/{}", "1:1: parse error: unexpected <op:/>"},
    {"((start{}) or 0x1f)",
     "1:2: parse error: set operator \"or\" not allowed in binary scalar expression"},
    {"\"\\(n\"", "1:1: parse error: unknown escape sequence U+0028 '('"},
    {"without 5m@ 1e3", "1:9: parse error: unexpected duration \"5m\""},
    {"{job=\"a\", a!~x\\\"y\", job='b'} @ -5",
     "1:14: parse error: unexpected identifier \"x\" in label matching, expected string"},
    {"-(and @ -1 ^ 5.) unle1ss +histogram_quantile(count_values{x1!=\".+\", le=~\"\\xff\",} @ "
     "end(), \"a\", {le=~\"\\n\", x1!~\".*\", __name__!~\"(\",} offset -90s)",
     "1:18: parse error: unexpected identifier \"unle1ss\""},
    {"+avg(rate()) wthout(a:b, a, by)", "1:14: parse error: unexpected identifier \"wthout\""},
    {"`c` ^ ignoring(bool, a) group_right (1e400)",
     "1:38: parse error: unexpected number \"1e400\" in grouping opts, expected label"},
    {"a:b ^ -label_replace() % on(x1, by) -{x1=~\"x\\\"y\", job!~\"\", on=\"\\n\",} offset 2w <= "
     "bool start{on!~\".*\"}",
     "1:8: parse error: expected 5 argument(s) in call to \"label_replace\", got 0"},
    {"{a!=\"\\n\", job!=\"x\\\"y\"=, le!~\"\"}",
     "1:22: parse error: unexpected \"=\" in label matching, expected \",\" or \"}\""},
    {"a:b unless on(le, le, sum) group_right(on) and",
     "1:1: parse error: no grouping allowed for \"unless\" operation"},
    {"(vector(avg(bar) - {}[1d`:1h30m] <= {job!=`c`, __name__!=`c`, by!~`c`}) offset -1h) offset "
     "5m",
     "1:25: parse error: unexpected string \"`:1h30m] <\"... in subquery or range, expected \":\" "
     "or \"]\""},
    {"topk(+stddev(offset\"a\")[5m1h], (+ignoring)) without(sum, by) offset 2w + by[5m1h]",
     "1:20: parse error: unexpected string \"\\\"a\\\"\" in aggregation"},
    {"time(end{__name__=\"(\", job=~'b', a!=\"\303\251\"}[100ms] % bool (by[2w:3ms] * "
     "ignoring{by!~\"\\xff\", le!=`c`} offset -1h))[5:5m]",
     "1:79: parse error: unexpected \"{\" in grouping opts, expected \"(\""},
    {"group by(job, sum)inf, {a=~\".+\",})",
     "1:19: parse error: unexpected number \"inf\" in aggregation"},
    {"sum{job!~'b', job!~`c`, __name__=\".+\"} ffset 0s",
     "1:40: parse error: unexpected identifier \"ffset\""},
    {"label_replace(SUM[1h30m:] atan2 on(on) group_right() pi(a:b[2w], {}) <= end * on) BY) @ .5",
     "1:81: parse error: unexpected \")\" in grouping opts, expected \"(\""},
    {"stdde without(le, on)()[1d:3ms]", "1:7: parse error: unexpected <without>"},
    {"topk by(bool)(NaN and .5 / foo{} and bool on(job by) 1.5 unless 0x >= +'b', -1)",
     "1:50: parse error: unexpected <by> in grouping opts, expected \",\" or \")\""},
    {"{a=~\"\303\251\", by!~\"\303\251\", __name__=\"\\n\"} / quanti le() offset -5m1h",
     "1:45: parse error: unexpected identifier \"le\""},
    {"#+SUM", "1:1: parse error: no expression found in input"},
    {"stdvar(-(({__name__!~\"a\"})), +{job!=\".*\", by=\"x\\\"y\",} u",
     "1:55: parse error: unexpected identifier \"u\" in aggregation"},
    {"+{le!=\"\\xff\", by=~\".+\", on=~\".*\",} @ .5 ^ on(a, on, __name__) \"\\xf\"",
     "1:63: parse error: illegal character U+0022 '\"' in escape sequence"},
    {"-{__name__='b', on!~\"\", le=~\"\303\251\",}5m1h:1h]",
     "1:35: parse error: unexpected duration \"5m1h\""},
    {"((-\"\\n\" == rate(Infoffset 1y @ 0)[1h]) offset -5)",
     "1:27: parse error: unexpected duration \"1y\""},
    {"SUM @ 0[x", "1:9: parse error: bad duration syntax: \"\""},
    {"nan offset y", "1:12: parse error: unexpected identifier \"y\" in offset, expected duration"},
    {"stddev by(le, by, x1)(topk(-Inf, abs(0, {}, start)[100ms:5m)1h], pi(\"\\n\")) <= bool "
     "ignoring(a, __name__, le) ({__name__!=\"\\xff\"} @ 2))",
     "1:60: parse error: unexpected \")\" in subquery selector, expected \"]\""},
    {"BY[2w] != start{le!~\"\"}[5m] @( 0",
     "1:30: parse error: unexpected \"(\" in @, expected timestamp"},
    {"Offse\nt{le!=\"\", x1=\"a\", x1!~\"\303\251\"}",
     "2:1: parse error: unexpected identifier \"t\""},
    {"(({} @ .5 atan", "1:11: parse error: unexpected identifier \"atan\""},
    {"scalar(stddev(topk{x1!~\"\\n\", le=\".*\" job!~\".+\"} * 2) by() >= {le!~\"(\",}) @ 0",
     "1:38: parse error: unexpected identifier \"job\" in label matching, expected \",\" or \"}\""},
    {"{}[1h:2w] + bool on() -count_values unless bool on(bool, sum, job) group_left inf atan2 "
     "ignoring != \"\\xff\" >= bool \"a\"",
     "1:98: parse error: unexpected <op:!=> in grouping opts, expected \"(\""},
    {"{,}", "1:2: parse error: unexpected \",\" in label matching, expected identifier or \"}\""},
    {"sum by(x1, le)(year(+hour())[1d:1d], {le=\".*\",}by[0s])",
     "1:48: parse error: unexpected <by> in aggregation"},
    {"-histogram_quantile((\"x\\\"y\")) unless max(round(topk{offset}), {on!~\".+\", on=~`c`, "
     "job!=\"\303\251\",}) without(le, le, bool)[5:1h30m]",
     "1:59: parse error: unexpected \"}\" in label matching, expected label matching operator"},
    {"-+5. or ({job=~\"\\xf[f\"})",
     "1:16: parse error: illegal character U+005B '[' in escape sequence"},
    {"group((quanile without(le, bool, bool)())[5m] @ 0, \"\\xff\", (010)) offset -100ms @ 1.5",
     "1:16: parse error: unexpected <without> in aggregation"},
    {"st dvar()", "1:4: parse error: unexpected identifier \"dvar\""},
    {"label_join(-)[5:5m1h]", "1:13: parse error: unexpected \")\""},
    {"{__name__!~\"\", le=\"\303\251\"} @ I)nf ^ (\"a\")",
     "1:27: parse error: unexpected identifier \"I\" in @, expected timestamp"},
    {"(-{} @ .5 and ignoringle) foo({__name__=\".*\", by=\"x\\\"y\", by!~`c`}[1y]) and (x)[1.5m])",
     "1:27: parse error: unexpected identifier \"foo\""},
    {"-1 ^ ignoring(__name__, by, job) 010",
     "1:2: parse error: vector matching only allowed between instant vectors"},
    {"((`c` atan2 ignorin\ng(x1, on) group_right bottomk(\"x\\\"y\")) offset 90s) @ 1e3",
     "2:1: parse error: unexpected identifier \"g\""},
    {"{__name__=\"\\xff\", a!~\"a\"}[1y/] offset 0s",
     "1:29: parse error: unexpected <op:/> in subquery or range, expected \":\" or \"]\""},
    {"--lab@el_replace(-1e400, -Inf{__name__!=\"\"}, {by!~\".*\"} @ 0x)",
     "1:7: parse error: unexpected identifier \"el_replace\" in @, expected timestamp"},
    {"{a!~`c` a!=\"\", x1!=\".+\"} offset -1d",
     "1:9: parse error: unexpected identifier \"a\" in label matching, expected \",\" or \"}\""},
    {"--+year({}, \"\303\251\" 1e3)", "1:18: parse error: unexpected number \"1e3\""},
    {"1 * bool labe l_join()", "1:15: parse error: unexpected identifier \"l_join\""},
    {"bo@ol", "1:4: parse error: unexpected identifier \"ol\" in @, expected timestamp"},
    {"-quantile_over_time({by!~'b',}1.5m]) offset 5m1h <= sum without(le)()",
     "1:31: parse error: unexpected duration \"1.5m\""},
    {"time()[90s:100}ms]",
     "1:12: parse error: unexpected number \"100\" in subquery selector, expected duration or "
     "\"]\""},
    {"{} @ Ioffsetnf",
     "1:6: parse error: unexpected identifier \"Ioffsetnf\" in @, expected timestamp"},
    {"{{}", "1:2: parse error: unexpected left brace '{'"},
    {"{by=~`c`, x1!=\"\"}[5m1y:90s]", "1:19: parse error: bad duration syntax: \"5m1\""},
    {"hour((foo), st)ddev by(le)())", "1:16: parse error: unexpected identifier \"ddev\""},
    {"(+[0x)", "1:3: parse error: unexpected \"[\""},
    {"topk by(__name__, le, bool)(stddev(++Offset{__name__!=`c`}), clamp(.5) offset -2{w)",
     "1:80: parse error: unexpected number \"2\" in offset, expected duration"},
    {"count without(le, sum)({le=~\".+\" __name__!=\"\303\251\", a!~\"\"}[2w])",
     "1:34: parse error: unexpected identifier \"__name__\" in label matching, expected \",\" or "
     "\"}\""},
    {"(-'b' == {__name__!=\".*\"}  start() atan2 Inf < {} offset 5m @ 2)",
     "1:28: parse error: unexpected \"start\""},
    {"count_values w", "1:14: parse error: unexpected identifier \"w\""},
    {"rate({x1=\"x\\\"y\", job!=\"\"})",
     "1:6: parse error: expected type range vector in call to function \"rate\", got instant "
     "vector"},
    {"1e3 * bool on and 1 ^ bool ignoring(__name__) -{le!~\"\\xff\", x1=~'b', x1=\"\\n\"} offset "
     "-1h30m and (max() without(a, x1)[1.5m:5m])",
     "1:15: parse error: unexpected <op:and> in grouping opts, expected \"(\""},
    {"nonexistent(x) )", "1:1: parse error: unknown function with name \"nonexistent\""},
    {"sum(x, y) by (a:b)",
     "1:15: parse error: unexpected metric identifier \"a:b\" in grouping opts, expected label"},
    {"foo[#c\n5m]", "1:5: parse error: missing unit character in duration"},
    {"rate(x[5m]) )", "1:14: parse error: unexpected right parenthesis ')'"},
    {"(foo)[5m] )", "1:6: parse error: ranges only allowed for vector selectors"},
    {"foo offset 0s )", "1:12: parse error: duration must be greater than 0"},
    {"foo{a=~\"x\"} @ 1 @ 2 )", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"1 + )", "1:6: parse error: unexpected right parenthesis ')'"},
    {"sum by(a)", "1:10: parse error: unexpected end of input in aggregation"},
    {"sum by(a) (", "1:12: parse error: unclosed left parenthesis"},
    {"a + on", "1:7: parse error: unexpected end of input in grouping opts, expected \"(\""},
    {"a + on(", "1:8: parse error: unclosed left parenthesis"},
    {"a + on(b", "1:9: parse error: unclosed left parenthesis"},
    {"a + on(b) group_left(", "1:22: parse error: unclosed left parenthesis"},
    {"a + on(b) group_left(c", "1:23: parse error: unclosed left parenthesis"},
    {"a > bool", "1:9: parse error: unexpected end of input"},
    {"a > bool on(b) group_left(c) ", "1:30: parse error: unexpected end of input"},
    {"x @ start() offset",
     "1:19: parse error: unexpected end of input in offset, expected duration"},
    {"x offset 1m @", "1:14: parse error: unexpected end of input in @, expected timestamp"},
    {"x[5m] offset 1m[5m]", "1:16: parse error: ranges only allowed for vector selectors"},
    {"x[5m:] [5m]", "1:8: parse error: ranges only allowed for vector selectors"},
    {"topk(x)",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, "
     "got 1"},
    {"quantile(x)",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, "
     "got 1"},
    {"count_values(x)",
     "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, "
     "got 1"},
    {"label_replace()",
     "1:1: parse error: expected 5 argument(s) in call to \"label_replace\", got 0"},
    {"clamp_max()", "1:1: parse error: expected 2 argument(s) in call to \"clamp_max\", got 0"},
    {"vector()", "1:1: parse error: expected 1 argument(s) in call to \"vector\", got 0"},
    {"round(x, 1, 2, 3)",
     "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 4"},
    {"label_join(x)",
     "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 1"},
    {"day_of_week(x, y)",
     "1:1: parse error: expected at most 1 argument(s) in call to \"day_of_week\", got 2"},
    {"sum by (without) (x)",
     "1:9: parse error: unexpected <without> in grouping opts, expected label"},
    {"a + on(without) b",
     "1:8: parse error: unexpected <without> in grouping opts, expected label"},
    {"a + on(x) group_left(without) b",
     "1:22: parse error: unexpected <without> in grouping opts, expected label"},
    {"sum by (x, without) (x)",
     "1:12: parse error: unexpected <without> in grouping opts, expected label"},
    {"sum without (without) (x)",
     "1:14: parse error: unexpected <without> in grouping opts, expected label"},
    {"1e309",
     "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"1e309\": value out of "
     "range"},
    {"1.7976931348623159e308",
     "1:1: parse error: error parsing number: strconv.ParseFloat: parsing "
     "\"1.7976931348623159e308\": value out of range"},
    {"1 "
     "\"\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251"
     "\303\251\303\251\"",
     "1:3: parse error: unexpected string "
     "\"\\\"\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\303\251\"..."},
    {"1 12345678901234", "1:3: parse error: unexpected number \"1234567890\"..."},
    {"1 1y2w3d4h5m6s", "1:3: parse error: unexpected duration \"1y2w3d4h5m\"..."},
    {"1 `abcdefghijklmnopq`", "1:3: parse error: unexpected string \"`abcdefghi\"..."},
    {"1 \"a\\nbcdefghijklmnop\"", "1:3: parse error: unexpected string \"\\\"a\\\\nbcdefg\"..."},
    {"1 \"\\x41bcdefghijklmnop\"", "1:3: parse error: unexpected string \"\\\"\\\\x41bcdef\"..."},
    {"1 'abcdefghijklmnop'", "1:3: parse error: unexpected string \"'abcdefghi\"..."},
    {"foo{a=\"b\"} "
     "\"\342\202\254\342\202\254\342\202\254\342\202\254\342\202\254\342\202\254\342\202\254\342"
     "\202\254\342\202\254\342\202\254\342\202\254\342\202\254\"",
     "1:12: parse error: unexpected string "
     "\"\\\"\342\202\254\342\202\254\342\202\254\342\202\254\342\202\254\342\202\254\342\202\254"
     "\342\202\254\342\202\254\"..."},
    {"x @ 1e3000",
     "1:5: parse error: error parsing number: strconv.ParseFloat: parsing \"1e3000\": value out of "
     "range"},
    {"x @ 0x10000000000000000",
     "1:5: parse error: error parsing number: strconv.ParseFloat: parsing \"0x10000000000000000\": "
     "invalid syntax"},
    {"x{a=\"\\U00110000\"}", "1:5: parse error: escape sequence is an invalid Unicode code point"},
    {"\"\\uDFFF\"", "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {"\"\\777\"", "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {"\"\\400\"", "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {"\"\\18\"", "1:1: parse error: illegal character U+0038 '8' in escape sequence"},
    {"\"\\1\"", "1:1: parse error: illegal character U+0022 '\"' in escape sequence"},
    {"\"\\x\"", "1:1: parse error: illegal character U+0022 '\"' in escape sequence"},
    {"\"\\x4\"", "1:1: parse error: illegal character U+0022 '\"' in escape sequence"},
    {"\"\\xg0\"", "1:1: parse error: illegal character U+0067 'g' in escape sequence"},
    {"foo \303\251", "1:5: parse error: unexpected character: '\303\251'"},
    {"\"a", "1:1: parse error: unterminated quoted string"},
    {"'a", "1:1: parse error: unterminated quoted string"},
    {"`a", "1:1: parse error: unterminated raw string"},
    {"\"a\\", "1:1: parse error: escape sequence not terminated"},
    {"\\", "1:1: parse error: unexpected character: '\\\\'"},
    {"?", "1:1: parse error: unexpected character: '?'"},
    {"~", "1:1: parse error: unexpected character: '~'"},
    {"!", "1:1: parse error: unexpected character after '!': '\357\277\275'"},
    {"!!", "1:1: parse error: unexpected character after '!': '!'"},
    {"= =", "1:1: parse error: unexpected \"=\""},
    {"=~", "1:1: parse error: unexpected character after '=': '~'"},
    {"a !~ b", "1:3: parse error: unexpected character after '!': '~'"},
    {"a =! b", "1:3: parse error: unexpected \"=\""},
    {"{a!}", "1:3: parse error: unexpected character after '!' inside braces: '}'"},
    {"{a!x}", "1:3: parse error: unexpected character after '!' inside braces: 'x'"},
    {"{\"a\"=\"b\"}",
     "1:2: parse error: unexpected string \"\\\"a\\\"\" in label matching, expected identifier or "
     "\"}\""},
    {"{a=\"b\"=\"c\"}",
     "1:7: parse error: unexpected \"=\" in label matching, expected \",\" or \"}\""},
    {"1a", "1:1: parse error: bad number or duration syntax: \"1\""},
    {"0a", "1:1: parse error: bad number or duration syntax: \"0\""},
    {"1.5.5", "1:4: parse error: unexpected number \".5\""},
    {"1e5e5", "1:1: parse error: bad number or duration syntax: \"1e5\""},
    {"0x1p3", "1:1: parse error: bad number or duration syntax: \"0x1\""},
    {"0b101", "1:1: parse error: bad number or duration syntax: \"0\""},
    {"0o17", "1:1: parse error: bad number or duration syntax: \"0\""},
    {"1_000", "1:1: parse error: bad number or duration syntax: \"1\""},
};

TEST(ParserTest, ValidQueriesPrintAsPrometheus) {
  for (const Case& c : kValid) {
    SCOPED_TRACE(c.query);
    absl::StatusOr<ExprPtr> e = ParseExpr(c.query);
    ASSERT_TRUE(e.ok()) << e.status();
    EXPECT_EQ((*e)->String(), c.want);
    // The rendering parses back to itself.
    absl::StatusOr<ExprPtr> again = ParseExpr(c.want);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ((*again)->String(), c.want);
  }
}

TEST(ParserTest, InvalidQueriesFailAsPrometheus) {
  for (const Case& c : kInvalid) {
    SCOPED_TRACE(c.query);
    absl::StatusOr<ExprPtr> e = ParseExpr(c.query);
    ASSERT_FALSE(e.ok()) << (*e)->String();
    EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(e.status().message(), c.want);
  }
}

// Renders the tree with every binary and unary expression parenthesized, to show structure.
std::string Tree(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      return absl::StrCat("(", Tree(*b.lhs), " ", BinaryOpString(b.op), " ", Tree(*b.rhs), ")");
    }
    case ExprKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      return absl::StrCat("(", u.negate ? "-" : "+", Tree(*u.expr), ")");
    }
    case ExprKind::kParen:
      return absl::StrCat("[", Tree(*static_cast<const ParenExpr&>(e).expr), "]");
    default:
      return e.String();
  }
}

std::string ParseTree(absl::string_view q) {
  absl::StatusOr<ExprPtr> e = ParseExpr(q);
  if (!e.ok()) return std::string(e.status().message());
  return Tree(**e);
}

TEST(ParserTest, OperatorPrecedenceAndAssociativity) {
  EXPECT_EQ(ParseTree("a or b and c"), "(a or (b and c))");
  EXPECT_EQ(ParseTree("a and b unless c"), "((a and b) unless c)");
  EXPECT_EQ(ParseTree("a unless b or c == d"), "((a unless b) or (c == d))");
  EXPECT_EQ(ParseTree("a == b + c"), "(a == (b + c))");
  EXPECT_EQ(ParseTree("a + b * c"), "(a + (b * c))");
  EXPECT_EQ(ParseTree("a - b - c"), "((a - b) - c)");
  EXPECT_EQ(ParseTree("a / b % c atan2 d"), "(((a / b) % c) atan2 d)");
  EXPECT_EQ(ParseTree("a * b ^ c"), "(a * (b ^ c))");
  EXPECT_EQ(ParseTree("a ^ b ^ c"), "(a ^ (b ^ c))");
  EXPECT_EQ(ParseTree("a > b < c"), "((a > b) < c)");
  // Unary minus binds like `*`: tighter than + and *, looser than ^.
  EXPECT_EQ(ParseTree("-a * b"), "((-a) * b)");
  EXPECT_EQ(ParseTree("-a ^ b"), "(-(a ^ b))");
  EXPECT_EQ(ParseTree("a ^ -b ^ c"), "(a ^ (-(b ^ c)))");
  EXPECT_EQ(ParseTree("a ^ -b * c"), "((a ^ (-b)) * c)");
  EXPECT_EQ(ParseTree("-1 ^ 2"), "(-(1 ^ 2))");
  EXPECT_EQ(ParseTree("- -a"), "(-(-a))");
  EXPECT_EQ(ParseTree("+a"), "(+a)");
  // Modifiers bind to the nearest operand.
  EXPECT_EQ(ParseTree("a + b offset 5m"), "(a + b offset 5m)");
  EXPECT_EQ(ParseTree("-a offset 1m @ 5"), "(-a @ 5.000 offset 1m)");
  EXPECT_EQ(ParseTree("(a + b) * c"), "([(a + b)] * c)");
}

TEST(ParserTest, FoldsUnaryMinusIntoNumberLiterals) {
  absl::StatusOr<ExprPtr> e = ParseExpr("-1");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ((*e)->kind, ExprKind::kNumberLiteral);
  EXPECT_EQ(static_cast<NumberLiteral&>(**e).value, -1);
  EXPECT_EQ((*e)->pos.start, 0);
  e = ParseExpr("- -2");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ((*e)->kind, ExprKind::kNumberLiteral);
  EXPECT_EQ(static_cast<NumberLiteral&>(**e).value, 2);
  e = ParseExpr("-(1)");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->kind, ExprKind::kUnary);
}

double NumberValue(absl::string_view q) {
  absl::StatusOr<ExprPtr> e = ParseExpr(q);
  if (!e.ok() || (*e)->kind != ExprKind::kNumberLiteral) return -12345;
  return static_cast<NumberLiteral&>(**e).value;
}

TEST(ParserTest, NumberLiterals) {
  EXPECT_EQ(NumberValue("0x1f"), 31);
  EXPECT_EQ(NumberValue("0X1F"), 31);
  EXPECT_EQ(NumberValue("010"), 8);  // Go's ParseInt base 0: octal
  EXPECT_EQ(NumberValue("08"), 8);   // not octal: read as a float
  EXPECT_EQ(NumberValue("1e3"), 1000);
  EXPECT_EQ(NumberValue(".5"), 0.5);
  EXPECT_EQ(NumberValue("5."), 5);
  EXPECT_EQ(NumberValue("Inf"), INFINITY);
  EXPECT_EQ(NumberValue("-inf"), -INFINITY);
  EXPECT_TRUE(std::isnan(NumberValue("NaN")));
  EXPECT_EQ(NumberValue("1e-400"), 0);
}

TEST(ParserTest, SelectorFields) {
  absl::StatusOr<ExprPtr> e = ParseExpr(R"(foo{a="b", c=~"d.*"} offset -5m @ 1.5)");
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ((*e)->kind, ExprKind::kVectorSelector);
  const auto& vs = static_cast<const VectorSelector&>(**e);
  EXPECT_EQ(vs.name, "foo");
  ASSERT_EQ(vs.matchers.size(), 3u);
  EXPECT_EQ(vs.matchers[0].ToString(), R"(a="b")");
  EXPECT_EQ(vs.matchers[1].ToString(), R"(c=~"d.*")");
  EXPECT_EQ(vs.matchers[2].ToString(), R"(__name__="foo")");
  EXPECT_EQ(vs.original_offset_ms, -300000);
  EXPECT_EQ(vs.offset_ms, -300000);
  EXPECT_EQ(vs.at, AtModifier::kTimestamp);
  EXPECT_EQ(vs.timestamp_ms, 1500);
  EXPECT_EQ(vs.pos.start, 0);
}

TEST(ParserTest, AtModifierRoundsToMilliseconds) {
  for (const auto& [q, ms] : std::vector<std::pair<const char*, int64_t>>{{"foo @ 1.5", 1500},
                                                                          {"foo @ -1.0005", -1001},
                                                                          {"foo @ 0.0005", 1},
                                                                          {"foo @ 0x10", 16000}}) {
    absl::StatusOr<ExprPtr> e = ParseExpr(q);
    ASSERT_TRUE(e.ok()) << q;
    EXPECT_EQ(static_cast<VectorSelector&>(**e).timestamp_ms, ms) << q;
  }
  absl::StatusOr<ExprPtr> e = ParseExpr("foo[5m] @ end() offset 1m");
  ASSERT_TRUE(e.ok());
  const auto& ms = static_cast<const MatrixSelector&>(**e);
  EXPECT_EQ(ms.range_ms, 300000);
  const auto& vs = static_cast<const VectorSelector&>(*ms.vector_selector);
  EXPECT_EQ(vs.at, AtModifier::kEnd);
  EXPECT_FALSE(vs.timestamp_ms.has_value());
  EXPECT_EQ(vs.original_offset_ms, 60000);
}

TEST(ParserTest, SubqueryFields) {
  absl::StatusOr<ExprPtr> e = ParseExpr("rate(x[1m])[1h:5m] offset 1d @ start()");
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ((*e)->kind, ExprKind::kSubquery);
  const auto& sq = static_cast<const SubqueryExpr&>(**e);
  EXPECT_EQ(sq.range_ms, 3600000);
  EXPECT_EQ(sq.step_ms, 300000);
  EXPECT_EQ(sq.original_offset_ms, 86400000);
  EXPECT_EQ(sq.offset_ms, 86400000);
  EXPECT_EQ(sq.at, AtModifier::kStart);
  e = ParseExpr("x[1h:]");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(static_cast<const SubqueryExpr&>(**e).step_ms, 0);
}

TEST(ParserTest, BinaryMatchingFields) {
  absl::StatusOr<ExprPtr> e = ParseExpr("a > bool on(x, y) group_right(z) b");
  ASSERT_TRUE(e.ok()) << e.status();
  const auto& b = static_cast<const BinaryExpr&>(**e);
  EXPECT_EQ(b.op, BinaryOp::kGtr);
  EXPECT_TRUE(b.return_bool);
  EXPECT_TRUE(b.matching.on);
  EXPECT_EQ(b.matching.matching_labels, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(b.matching.include, (std::vector<std::string>{"z"}));
  EXPECT_EQ(b.matching.card, VectorMatching::Card::kOneToMany);
  e = ParseExpr("a and b");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(static_cast<const BinaryExpr&>(**e).matching.card, VectorMatching::Card::kManyToMany);
}

TEST(ParserTest, AggregateAndCallFields) {
  absl::StatusOr<ExprPtr> e = ParseExpr("topk(3, x) without (a, b)");
  ASSERT_TRUE(e.ok()) << e.status();
  const auto& a = static_cast<const AggregateExpr&>(**e);
  EXPECT_EQ(a.op, AggregateOp::kTopk);
  EXPECT_TRUE(a.without);
  EXPECT_EQ(a.grouping, (std::vector<std::string>{"a", "b"}));
  ASSERT_NE(a.param, nullptr);
  EXPECT_EQ(a.param->String(), "3");
  EXPECT_EQ(a.expr->String(), "x");
  e = ParseExpr("label_join(x, \"d\", \",\", \"a\", \"b\", \"c\")");
  ASSERT_TRUE(e.ok()) << e.status();
  const auto& c = static_cast<const Call&>(**e);
  ASSERT_NE(c.func, nullptr);
  EXPECT_EQ(c.func->name, "label_join");
  EXPECT_EQ(c.args.size(), 6u);
  EXPECT_EQ((*e)->Type(), ValueType::kVector);
}

TEST(ParserTest, StringLiteralsUnquoteAsGo) {
  auto value = [](absl::string_view q) -> std::string {
    absl::StatusOr<ExprPtr> e = ParseExpr(q);
    if (!e.ok()) return std::string(e.status().message());
    return static_cast<StringLiteral&>(**e).value;
  };
  EXPECT_EQ(value(R"("a\tb\n")"), "a\tb\n");
  EXPECT_EQ(value(R"("\x41\101\u00e9\U0001F600")"), "AA\u00e9\U0001F600");
  EXPECT_EQ(value(R"("\xff")"), "\xff");
  EXPECT_EQ(value(R"('it\'s')"), "it's");
  EXPECT_EQ(value(R"(`raw\n`)"), "raw\\n");
  EXPECT_EQ(value("`a\nb`"), "a\nb");
}

TEST(ParserTest, InvalidRegexIsAParseErrorNamingIt) {
  absl::StatusOr<ExprPtr> e = ParseExpr(R"(foo{a=~"("})");
  ASSERT_FALSE(e.ok());
  // Prometheus 2.42's text: Go's regexp wording on the anchored pattern.
  EXPECT_EQ(e.status().message(),
            "1:5: parse error: error parsing regexp: missing closing ): `^(?:()$`");
}

TEST(ParserTest, ErrorPositionsCountLinesAndColumns) {
  absl::StatusOr<ExprPtr> e = ParseExpr("foo +\n  bar baz");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "2:7: parse error: unexpected identifier \"baz\"");
}

TEST(ParserTest, BoundsNestingDepth) {
  const int n = 5000;
  std::string deep = std::string(n, '(') + "1" + std::string(n, ')');
  absl::StatusOr<ExprPtr> e = ParseExpr(deep);
  ASSERT_FALSE(e.ok());
  EXPECT_TRUE(absl::StrContains(e.status().message(), "parse error: expression nests deeper"))
      << e.status();
  std::string chain = "1";
  for (int i = 0; i < n; ++i) chain += " + 1";
  EXPECT_FALSE(ParseExpr(chain).ok());
  std::string unary = std::string(n, '-') + "a";
  EXPECT_FALSE(ParseExpr(unary).ok());
  std::string calls;
  for (int i = 0; i < n; ++i) calls += "abs(";
  calls += "x" + std::string(n, ')');
  EXPECT_FALSE(ParseExpr(calls).ok());
  // A moderately deep query still parses.
  std::string ok = std::string(200, '(') + "1" + std::string(200, ')');
  EXPECT_TRUE(ParseExpr(ok).ok());
}

TEST(ParseMetricSelectorTest, ReturnsMatchers) {
  absl::StatusOr<std::vector<prom::Matcher>> m = ParseMetricSelector(R"(up{job="api",a!~"x"})");
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].ToString(), R"(job="api")");
  EXPECT_EQ((*m)[1].ToString(), R"(a!~"x")");
  EXPECT_EQ((*m)[2].ToString(), R"(__name__="up")");
  m = ParseMetricSelector(R"({__name__=~"x.*"})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->size(), 1u);
  // As Prometheus: no type checks here (the API checks for empty matchers itself).
  m = ParseMetricSelector("{}");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->empty());
  EXPECT_TRUE(ParseMetricSelector(R"(foo{__name__="bar"})").ok());
  EXPECT_TRUE(ParseMetricSelector("sum").ok());
}

TEST(ParseMetricSelectorTest, RejectsOtherExpressionsAsPrometheus) {
  const Case kCases[] = {
      {"rate(x[5m])", "1:5: parse error: unexpected \"(\""},
      {"1", "1:1: parse error: unexpected number \"1\""},
      {"foo offset 5m", "1:5: parse error: unexpected <offset>"},
      {"foo[5m]", "1:4: parse error: unexpected \"[\""},
      {"sum(x)", "1:4: parse error: unexpected \"(\""},
      {"", "1:1: parse error: unexpected end of input"},
      {"foo bar", "1:5: parse error: unexpected identifier \"bar\""},
  };
  for (const Case& c : kCases) {
    absl::StatusOr<std::vector<prom::Matcher>> m = ParseMetricSelector(c.query);
    ASSERT_FALSE(m.ok()) << c.query;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(m.status().message(), c.want) << c.query;
  }
}

TEST(DurationTest, ParsesPrometheusDurations) {
  const std::pair<const char*, int64_t> kCases[] = {
      {"0", 0},
      {"0s", 0},
      {"5m", 300000},
      {"1h30m", 5400000},
      {"90s", 90000},
      {"100ms", 100},
      {"1y", 31536000000},
      {"2w", 1209600000},
      {"1d", 86400000},
      {"1y2w3d4h5m6s7ms", 31536000000 + 1209600000 + 3 * 86400000 + 4 * 3600000 + 5 * 60000 + 6007},
  };
  for (const auto& [s, ms] : kCases) {
    absl::StatusOr<int64_t> d = ParseDuration(s);
    ASSERT_TRUE(d.ok()) << s << ": " << d.status();
    EXPECT_EQ(*d, ms) << s;
  }
}

TEST(DurationTest, RejectsBadDurations) {
  for (const char* s : {"5x", "1h1h", "5m1h", "1.5h", "-5m", "h", "5", "5M", "1ms1s", " 5m"}) {
    absl::StatusOr<int64_t> d = ParseDuration(s);
    ASSERT_FALSE(d.ok()) << s;
    EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(d.status().message(), absl::StrCat("not a valid duration string: \"", s, "\""));
  }
  EXPECT_EQ(ParseDuration("").status().message(), "empty duration string");
  EXPECT_EQ(ParseDuration("293y").status().message(), "duration out of range");
  EXPECT_EQ(ParseDuration("99999999999999999999s").status().message(), "duration out of range");
  EXPECT_TRUE(ParseDuration("292y").ok());
}

TEST(DurationTest, FormatsAsPrometheus) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(300000), "5m");
  EXPECT_EQ(FormatDuration(5400000), "1h30m");
  EXPECT_EQ(FormatDuration(90000), "1m30s");
  EXPECT_EQ(FormatDuration(1001), "1s1ms");
  EXPECT_EQ(FormatDuration(31536000000), "1y");
  EXPECT_EQ(FormatDuration(604800000), "1w");
  EXPECT_EQ(FormatDuration(8 * 86400000LL), "8d");      // weeks only when exact
  EXPECT_EQ(FormatDuration(366 * 86400000LL), "366d");  // years only when exact
  EXPECT_EQ(FormatDuration(86400000LL + 1), "1d1ms");
}

TEST(FunctionTableTest, KnowsPrometheus242Functions) {
  const char* kNames[] = {"abs",
                          "absent",
                          "absent_over_time",
                          "acos",
                          "acosh",
                          "asin",
                          "asinh",
                          "atan",
                          "atanh",
                          "avg_over_time",
                          "ceil",
                          "changes",
                          "clamp",
                          "clamp_max",
                          "clamp_min",
                          "cos",
                          "cosh",
                          "count_over_time",
                          "days_in_month",
                          "day_of_month",
                          "day_of_week",
                          "day_of_year",
                          "deg",
                          "delta",
                          "deriv",
                          "exp",
                          "floor",
                          "histogram_count",
                          "histogram_sum",
                          "histogram_fraction",
                          "histogram_quantile",
                          "holt_winters",
                          "hour",
                          "idelta",
                          "increase",
                          "irate",
                          "label_replace",
                          "label_join",
                          "last_over_time",
                          "ln",
                          "log10",
                          "log2",
                          "max_over_time",
                          "min_over_time",
                          "minute",
                          "month",
                          "pi",
                          "predict_linear",
                          "present_over_time",
                          "quantile_over_time",
                          "rad",
                          "rate",
                          "resets",
                          "round",
                          "scalar",
                          "sgn",
                          "sin",
                          "sinh",
                          "sort",
                          "sort_desc",
                          "sqrt",
                          "stddev_over_time",
                          "stdvar_over_time",
                          "sum_over_time",
                          "tan",
                          "tanh",
                          "time",
                          "timestamp",
                          "vector",
                          "year"};
  for (const char* name : kNames) {
    const Function* f = LookupFunction(name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(f->name, name);
  }
  for (const char* name :
       {"mad_over_time", "sort_by_label", "histogram_stddev", "limitk", "Rate", "sum", ""}) {
    EXPECT_EQ(LookupFunction(name), nullptr) << name;
  }
  const Function* lj = LookupFunction("label_join");
  EXPECT_EQ(lj->variadic, -1);
  EXPECT_EQ(lj->arg_types.size(), 4u);
  const Function* round = LookupFunction("round");
  EXPECT_EQ(round->variadic, 1);
  EXPECT_EQ(LookupFunction("time")->return_type, ValueType::kScalar);
  EXPECT_EQ(LookupFunction("scalar")->return_type, ValueType::kScalar);
  EXPECT_EQ(LookupFunction("rate")->arg_types, std::vector<ValueType>{ValueType::kMatrix});
}

}  // namespace
}  // namespace sextant::promql
